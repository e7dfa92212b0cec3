/** The fuzz runner itself: a failure is reported with its input number and a shrunk counterexample. */
import {expect, it} from '@jest/globals'
import fc from 'fast-check'
import {makeTally} from './runner.js'

it('a failing property is found without shrinking, then shrunk from where it failed', () => {
  const tally = makeTally('runner-self-test')
  let message = ''
  try {
    tally.run('numbers below 500', fc.integer({min: 0, max: 1_000_000}), (n) => n < 500, 0.01)
  } catch (e) {
    message = (e as Error).message
  }
  expect(message).toMatch(/^numbers below 500: input \d+ of \d+ failed\. /)
  // Shrinking ran from the failing input down to the smallest failing value.
  expect(message).toContain('Counterexample: [500]')
  expect(message).toMatch(/\(replay: FUZZ_SEED=\d+\)$/)
})
