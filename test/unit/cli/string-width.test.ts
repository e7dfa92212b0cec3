/**
 * oclif's help measures every line and word with string-width (4.x), which strips ANSI codes and runs a regular
 * expression of every emoji over the string. The bundle answers a string of printable ASCII alone (space to ~) with its
 * length instead (the `oclif-patches` plugin of esbuild.config.mjs: about 4 ms of `pin --help`). That is the same
 * width only if string-width gives every such string its length: checked here on every printable ASCII character,
 * on every help string of the manifests (whole, by line and by word), and on generated strings; and the strings the
 * shortcut leaves to string-width (escape codes, tabs, wide and combining characters) are shown to differ.
 */
import {describe, expect, it} from '@jest/globals'
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import fc from 'fast-check'
import {OCLIF_MANIFESTS, ROOT, stringsIn} from '../../support/cli.js'

// The string-width that the bundle holds: the one @oclif/core requires.
const stringWidth = createRequire(join(ROOT, 'node_modules/@oclif/core/lib/help/index.js'))('string-width') as (s: string) => number
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

/** Every string of a manifest, whole, by line and by word. */
function manifestStrings(file: string): string[] {
  return stringsIn(JSON.parse(readFileSync(join(ROOT, file), 'utf8'))).flatMap((s) => [s, ...s.split('\n'), ...s.split(/\s+/)])
}

describe('string-width gives a string of printable ASCII its length', () => {
  it('every printable ASCII character is one column', () => {
    for (let c = 0x20; c <= 0x7e; c++) expect(stringWidth(String.fromCharCode(c))).toBe(1)
  })

  it.each(OCLIF_MANIFESTS)('every help string of %s, whole, by line and by word', (_name, file) => {
    const ascii = manifestStrings(file).filter((s) => PRINTABLE_ASCII.test(s))
    expect(ascii.length).toBeGreaterThan(10)
    for (const s of ascii) expect(stringWidth(s)).toBe(s.length)
  })

  it('generated strings of printable ASCII', () => {
    fc.assert(
      fc.property(fc.string({unit: fc.integer({min: 0x20, max: 0x7e}).map((c) => String.fromCharCode(c)), maxLength: 200}), (s) => stringWidth(s) === s.length),
      {numRuns: 2000},
    )
  })

  it('what the shortcut leaves to string-width does not measure as its length (the test tells the two apart)', () => {
    for (const s of ['\u001b[1mbold\u001b[22m', 'tab\there', '漢字', 'e\u0301']) {
      expect(PRINTABLE_ASCII.test(s)).toBe(false)
      expect(stringWidth(s)).not.toBe(s.length)
    }
  })
})
