/**
 * oclif finds its plugins by matching every dependency name against every entry of package.json `oclif.plugins`
 * with minimatch; the bundle compares an entry that is a plain npm package name as it is (the `oclif-patches`
 * plugin of esbuild.config.mjs: minimatch compiled a pattern for each pair, about 4 ms of every start). That finds
 * the same plugins only if minimatch, given such an entry, matches that very name and nothing else: checked here for
 * every entry against every dependency of package.json.
 */
import {describe, expect, it} from '@jest/globals'
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {ROOT} from '../../support/cli.js'

// The minimatch that @oclif/core itself requires (a dependency of oclif, not of safe-deploy).
const {minimatch} = createRequire(join(ROOT, 'node_modules/@oclif/core/lib/config/plugin-loader.js'))('minimatch') as {
  minimatch: (name: string, pattern: string) => boolean
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
  oclif: {plugins: string[]}
}

describe('oclif.plugins entries match by name exactly as minimatch matches them', () => {
  const names = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]

  it.each(pkg.oclif.plugins)('%s', (entry) => {
    expect(names.filter((n) => minimatch(n, entry))).toEqual(names.filter((n) => n === entry))
    expect(names).toContain(entry)
  })

  it('a pattern entry would not (the comparison can fail)', () => {
    expect(names.filter((n) => minimatch(n, '@oclif/plugin-*'))).not.toEqual(names.filter((n) => n === '@oclif/plugin-*'))
  })
})
