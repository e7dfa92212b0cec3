/**
 * Fuzz the image reference parser (src/core/reference): no exception other than SafeDeployError
 * INVALID_REFERENCE, no hang, parse → formatReference → parse is the identity, and every
 * reference built from the grammar parses. Input count: FUZZ_RUNS per property (runner.ts).
 */
import {afterAll, describe, expect, it} from '@jest/globals'
import fc from 'fast-check'
import {SafeDeployError} from '../../src/core/errors.js'
import {formatReference, parseReference, parseWritten} from '../../src/core/reference/index.js'
import {FUZZ_TIMEOUT_MS, makeTally} from './runner.js'
import {referenceish, repetitive, validReference} from './arbitraries.js'

const tally = makeTally('reference')
afterAll(() => tally.report())

/** Parse; any throw other than INVALID_REFERENCE fails the property. */
function tryParse(input: string): ReturnType<typeof parseWritten> | undefined {
  try {
    return parseWritten(input)
  } catch (e) {
    if (e instanceof SafeDeployError && e.code === 'INVALID_REFERENCE') return undefined
    throw e
  }
}

function roundTrips(input: string): void {
  const w = tryParse(input)
  if (!w) return
  const r = parseReference(input)
  // The written parts reassemble the input exactly.
  expect(w.name + (w.tag === undefined ? '' : ':' + w.tag) + (w.digest === undefined ? '' : '@' + w.digest)).toBe(input)
  // Normalized form is a fixed point.
  const formatted = formatReference(r)
  expect(parseReference(formatted)).toEqual(r)
  expect(formatReference(parseReference(formatted))).toBe(formatted)
}

describe('reference parser', () => {
  it(
    'arbitrary Unicode strings: only INVALID_REFERENCE, and every accepted input round-trips',
    () => {
      tally.run(
        'arbitrary unicode strings',
        fc.string({unit: 'binary', maxLength: 300}),
        (s) => {
          roundTrips(s)
        },
        3,
      )
    },
    FUZZ_TIMEOUT_MS,
  )

  it(
    'strings over the reference alphabet: only INVALID_REFERENCE, round trip when accepted',
    () => {
      tally.run(
        'reference-alphabet strings',
        referenceish,
        (s) => {
          roundTrips(s)
        },
        3,
      )
    },
    FUZZ_TIMEOUT_MS,
  )

  it(
    'references built from the grammar all parse, and round-trip',
    () => {
      tally.run('valid references from the grammar', validReference, (s) => {
        const w = parseWritten(s)
        expect(w.path.length).toBeGreaterThan(0)
        roundTrips(s)
      })
    },
    FUZZ_TIMEOUT_MS,
  )

  it(
    'no hang: adversarial repetitions up to 20,000 units parse or fail in < 250 ms',
    () => {
      let worst = 0
      tally.run(
        'adversarial repetitions (time-bounded)',
        repetitive,
        (s) => {
          const t0 = performance.now()
          tryParse(s)
          const ms = performance.now() - t0
          worst = Math.max(worst, ms)
          expect(ms).toBeLessThan(250)
        },
        0.1,
      )
      console.log(`reference parser: worst adversarial input took ${worst.toFixed(2)} ms`)
    },
    FUZZ_TIMEOUT_MS,
  )
})
