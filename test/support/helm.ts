/**
 * The real helm (3.17.3) that test/scripts/helm.sh unpacks for `npm test`: the charts of the Argo CD
 * plugin tests are rendered by it, not by anything of ours. Run outside `npm test` before the script
 * has run once, the Helm tests are skipped with a warning that says how to get it.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {ROOT} from './cli.js'
import {describeOrSkip} from './optional.js'

/** The directory holding `helm`. */
export const HELM_DIR = join(ROOT, 'node_modules/.cache/safe-deploy-test/helm-3.17.3')

/** `describe(name, fn)` when helm is there; otherwise skipped, naming the script that fetches it (optional.ts). */
export function describeWithHelm(name: string, fn: () => void): void {
  const skipped = `Helm tests skipped: ${HELM_DIR}/helm not found (bash test/scripts/helm.sh fetches it; npm test runs it)`
  describeOrSkip(existsSync(join(HELM_DIR, 'helm')), name, skipped, fn)
}
