/**
 * The bundle sorts each oclif plugin's command ids by code unit instead of String#localeCompare (the
 * `oclif-patches` plugin of esbuild.config.mjs: the first localeCompare of a run builds ICU's collator, about
 * 12 ms of every start). That changes nothing only while both orders agree for every id the CLI ships: ours and
 * those of the two oclif plugins it registers. An id that sorts differently (say `run_x` beside `run-x`) fails here.
 */
import {describe, expect, it} from '@jest/globals'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {OCLIF_MANIFESTS, ROOT} from '../../support/cli.js'

const manifestIds = (file: string): string[] =>
  Object.keys((JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as {commands: Record<string, unknown>}).commands)

describe('command ids sort the same by code unit and by localeCompare', () => {
  it.each(OCLIF_MANIFESTS)('%s', (_name, file) => {
    const ids = manifestIds(file)
    expect(ids.length).toBeGreaterThan(0)
    const ordinal = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    const locale = [...ids].sort((a, b) => a.localeCompare(b))
    expect(ordinal).toEqual(locale)
  })

  it('the comparison tells the two apart where they differ (the test can fail)', () => {
    const ids = ['run-x', 'run_x', 'Run']
    expect([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).not.toEqual([...ids].sort((a, b) => a.localeCompare(b)))
  })
})
