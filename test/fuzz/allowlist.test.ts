/**
 * Fuzz the allowlist matcher (src/core/policy/allowlist.ts): matchPattern is total (never throws,
 * always one of match / no-match / uncertain) and deterministic; a `P**` pattern matches
 * everything `P*` matches.
 */
import {afterAll, describe, expect, it} from '@jest/globals'
import fc from 'fast-check'
import {explainMatch, matchPattern, validatePattern} from '../../src/core/policy/allowlist.js'
import {FUZZ_TIMEOUT_MS, makeTally} from './runner.js'
import {referenceish, validReference} from './arbitraries.js'

const tally = makeTally('allowlist')
afterAll(() => tally.report())

const RESULTS = new Set(['match', 'no-match', 'uncertain'])
const image = fc.oneof(validReference, referenceish, fc.string({unit: 'binary', maxLength: 200}))
const pattern = fc.oneof(
  referenceish,
  fc.tuple(validReference, fc.constantFrom('', '*', '**', '@*', ':*')).map(([r, s]) => r + s),
  fc.string({unit: 'binary', maxLength: 100}),
)

describe('allowlist matcher', () => {
  it(
    'matchPattern is total and deterministic on arbitrary image/pattern strings',
    () => {
      tally.run('matchPattern total + deterministic', fc.tuple(image, pattern), ([img, pat]) => {
        const a = matchPattern(img, pat)
        expect(RESULTS.has(a)).toBe(true)
        expect(matchPattern(img, pat)).toBe(a)
        const e = explainMatch(img, pat)
        expect(e.result).toBe(a)
        if (a === 'uncertain') expect(typeof e.why).toBe('string')
        const v = validatePattern(pat)
        expect(v === undefined || typeof v === 'string').toBe(true)
      })
    },
    FUZZ_TIMEOUT_MS,
  )

  it(
    '`P**` matches every image `P*` matches (P a prefix of the image, not ending in "@")',
    () => {
      // `name@*` is the one documented special case ("all versions and tags": it also matches
      // name:tag@digest, docs/binauthz.md#allowlist-patterns), which a textual `name@**` prefix does not: excluded here.
      const prefixed = fc
        .tuple(fc.oneof(validReference, referenceish), fc.nat())
        .map(([img, n]) => ({img, p: img.slice(0, n % (img.length + 1)).replace(/\*/g, '')}))
      tally.run('`**` superset of `*`', prefixed, ({img, p}) => {
        if (p.endsWith('@')) return
        if (matchPattern(img, p + '*') === 'match') expect(matchPattern(img, p + '**')).toBe('match')
        // and `**` is exactly a textual prefix match
        expect(matchPattern(img, p + '**')).toBe(img.startsWith(p) ? 'match' : 'no-match')
      })
    },
    FUZZ_TIMEOUT_MS,
  )
})
