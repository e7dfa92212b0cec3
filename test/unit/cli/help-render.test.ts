/**
 * oclif's help renders each string as an EJS template; the bundle skips EJS for a string with no EJS delimiter
 * (the `oclif-patches` plugin of esbuild.config.mjs: one compiled function per flag description was about 8 ms of
 * `pin --help`). That is the same output only if EJS gives such a string back unchanged: checked here for every
 * string help reads from the manifests (ours and the two registered oclif plugins), and for text shapes EJS could
 * treat specially (percent signs, angle brackets, CRLF, trailing whitespace).
 */
import {describe, expect, it} from '@jest/globals'
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {OCLIF_MANIFESTS, ROOT, stringsIn} from '../../support/cli.js'

// The EJS that @oclif/core itself requires (a dependency of oclif, not of safe-deploy).
const ejs = createRequire(join(ROOT, 'node_modules/@oclif/core/lib/help/util.js'))('ejs') as {
  render: (template: string, data: object) => string
}
const context = {config: {bin: 'safe-deploy', dirname: 'safe-deploy'}}
const hasDelimiter = (s: string): boolean => s.includes('<%') || s.includes('%>')

interface Manifest {
  commands: Record<string, Record<string, unknown> & {flags?: Record<string, Record<string, unknown>>; args?: Record<string, Record<string, unknown>>}>
}

/** Every string of a command help could render: summary, description, examples, and each flag's and arg's texts. */
function helpStrings(file: string): string[] {
  const m = JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as Manifest
  return Object.values(m.commands).flatMap((c) =>
    stringsIn([
      c['summary'],
      c['description'],
      c['examples'],
      ...Object.values(c.flags ?? {}).map((f) => [f['summary'], f['description'], f['helpValue'], f['options']]),
      ...Object.values(c.args ?? {}).map((a) => [a['description'], a['options']]),
    ]),
  )
}

describe('EJS gives back a help string with no delimiter unchanged', () => {
  it.each(OCLIF_MANIFESTS)('every string of %s', (_name, file) => {
    const plain = helpStrings(file).filter((s) => !hasDelimiter(s))
    expect(plain.length).toBeGreaterThan(0)
    for (const s of plain) expect(ejs.render(s, context)).toBe(s)
  })

  it('text shapes EJS might treat specially', () => {
    for (const s of ['100% of images', 'a < b > c', '<% not closed', 'line\r\nnext', 'trailing  \n', '%', '-%', '<%%', '\\n literal', '`x`'])
      if (!hasDelimiter(s)) expect(ejs.render(s, context)).toBe(s)
  })

  it("safe-deploy's own help strings hold no template: examples name the CLI `safe-deploy` (package.json oclif.bin), since EJS compiles a function for each template it renders", () => {
    const ours = OCLIF_MANIFESTS.find(([name]) => name === 'safe-deploy')
    expect(ours).toBeDefined()
    expect(helpStrings((ours as [string, string])[1]).filter(hasDelimiter)).toEqual([])
  })

  it('a string with a delimiter still goes through EJS (the test tells the two paths apart)', () => {
    expect(ejs.render('<%= config.bin %> pin', context)).toBe('safe-deploy pin')
  })
})
