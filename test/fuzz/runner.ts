/**
 * Property runner for the fuzz suites (fast-check 4). The number of inputs per property comes
 * from FUZZ_RUNS (default 2,000: the CI size) times the property's weight (cheap properties run
 * 2-3x, the ReDoS timing one 0.1x); `npm run fuzz` raises FUZZ_RUNS so the total is at least
 * 1,000,000 and prints the total (test/scripts/fuzz.sh). FUZZ_SEED replays a run.
 *
 * Every property records how many inputs it ran; each suite prints its count and writes
 * tmp/reliability/fuzz-<suite>.json, which fuzz.sh sums.
 */
import fc from 'fast-check'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {saveFigures} from '../e2e/reliability/helpers.js'

export const RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 2000) || 2000)
/** Per-test jest timeout: generous, since `npm run fuzz` runs ~67,000 inputs per property. */
export const FUZZ_TIMEOUT_MS = 3_600_000
/** How long a failure found by a property is shrunk before it is reported. */
const SHRINK_MS = 60_000
export const SEED = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED)

/** Cheap properties run more inputs (weights sum to 30.1 over the 17 properties). */
const WEIGHTS: Record<string, number> = {
  'matchPattern total + deterministic': 2,
  '`**` superset of `*`': 3,
  'YAML-ish strings': 3,
  'parsePolicyObject(anything)': 3,
  'parsePolicyObject(mangled policy)': 2,
  'parsePolicyText(arbitrary string)': 3,
}

export interface Tally {
  property: string
  runs: number
  ms: number
}

export function makeTally(suite: string): {
  run: <T>(property: string, arb: fc.Arbitrary<T>, predicate: (v: T) => boolean | void, weight?: number) => void
  /** Count inputs that a suite checked in its own loop (the kubectl differential checks in batches). */
  add: (property: string, runs: number, ms: number) => void
  report: () => void
} {
  const tally: Tally[] = []
  return {
    add(property, runs, ms) {
      tally.push({property, runs, ms})
    },
    run(property, arb, predicate, weight) {
      const runs = Math.max(1, Math.round(RUNS * (weight ?? WEIGHTS[property] ?? 1)))
      const t0 = Date.now()
      // Without shrinking first: shrinking a failure of a large generated stream once ran for over ten minutes
      // (seed 645058353), so a failing CI run sat in this suite until its hour-long timeout instead of saying why.
      const details = fc.check(fc.property(arb, predicate), {numRuns: runs, seed: SEED, endOnFailure: true})
      tally.push({property, runs: details.numRuns, ms: Date.now() - t0})
      if (!details.failed) return
      // Then shrink that failure (replayed from its path) for at most SHRINK_MS; past it, the smallest found so far.
      const path = details.counterexamplePath
      const shrunk = fc.check(fc.property(arb, predicate), {seed: SEED, ...(path === null ? {} : {path}), interruptAfterTimeLimit: SHRINK_MS})
      const report = shrunk.failed ? shrunk : details
      const note = shrunk.interrupted ? ` (shrinking stopped after ${SHRINK_MS / 1000} s)` : ''
      throw new Error(`${property}: input ${details.numRuns} of ${runs} failed. ${fc.defaultReportMessage(report) ?? ''}${note} (replay: FUZZ_SEED=${SEED})`)
    },
    report() {
      const total = tally.reduce((n, t) => n + t.runs, 0)
      const data = {suite, seed: SEED, runsPerProperty: RUNS, total, properties: tally}
      // fuzz.sh points FUZZ_REPORT_DIR at a directory of its own (the checkout's tmp/ is shared by other runs).
      if (process.env.FUZZ_REPORT_DIR) writeFileSync(join(process.env.FUZZ_REPORT_DIR, `fuzz-${suite}.json`), JSON.stringify(data, null, 2) + '\n')
      else saveFigures(`fuzz-${suite}`, data)
      console.log(
        `fuzz ${suite}: ${total.toLocaleString('en-US')} inputs over ${tally.length} properties (FUZZ_RUNS=${RUNS}, FUZZ_SEED=${SEED})\n` +
          tally.map((t) => `  ${t.property}: ${t.runs.toLocaleString('en-US')} in ${t.ms} ms`).join('\n'),
      )
    },
  }
}
