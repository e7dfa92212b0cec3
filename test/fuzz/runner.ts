/**
 * Property runner for the fuzz suites (fast-check 4). The number of inputs per property comes
 * from FUZZ_RUNS (default 2,000: the CI size); `npm run fuzz` raises it so the total is at least
 * 1,000,000 and prints the total (test/scripts/fuzz.sh). FUZZ_SEED replays a run.
 *
 * Every property records how many inputs it ran; each suite prints its count and writes
 * tmp/reliability/fuzz-<suite>.json, which fuzz.sh sums.
 */
import fc from 'fast-check'
import {saveFigures} from '../reliability/helpers.js'

export const RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 2000) || 2000)
export const SEED = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED)

export interface Tally {
  property: string
  runs: number
  ms: number
}

export function makeTally(suite: string): {run: <T>(property: string, arb: fc.Arbitrary<T>, predicate: (v: T) => boolean | void, runs?: number) => void; report: () => void} {
  const tally: Tally[] = []
  return {
    run(property, arb, predicate, runs = RUNS) {
      const t0 = Date.now()
      const details = fc.check(fc.property(arb, predicate), {numRuns: runs, seed: SEED})
      tally.push({property, runs: details.numRuns, ms: Date.now() - t0})
      if (details.failed) throw new Error(`${property}: ${fc.defaultReportMessage(details) ?? 'failed'} (replay: FUZZ_SEED=${SEED})`)
    },
    report() {
      const total = tally.reduce((n, t) => n + t.runs, 0)
      saveFigures(`fuzz-${suite}`, {seed: SEED, runsPerProperty: RUNS, total, properties: tally})
      console.log(`fuzz ${suite}: ${total.toLocaleString('en-US')} inputs over ${tally.length} properties (FUZZ_RUNS=${RUNS}, FUZZ_SEED=${SEED})\n` +
        tally.map((t) => `  ${t.property}: ${t.runs.toLocaleString('en-US')} in ${t.ms} ms`).join('\n'))
    },
  }
}
