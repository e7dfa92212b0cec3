/**
 * The real helm (3.17.3) that test/scripts/helm.sh unpacks for `npm test`: the charts of the Argo CD
 * plugin tests are rendered by it, not by anything of ours. Run outside `npm test` before the script
 * has run once, the Helm tests are skipped with a warning that says how to get it.
 */
import {describe, it} from '@jest/globals'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {ROOT} from './cli.js'

/** The directory holding `helm`. */
export const HELM_DIR = join(ROOT, 'node_modules/.cache/safe-deploy-test/helm-3.17.3')

/** `describe(name, fn)` when helm is there; otherwise a skipped group naming the script, and a warning. */
export function describeWithHelm(name: string, fn: () => void): void {
  if (existsSync(join(HELM_DIR, 'helm'))) {
    describe(name, fn)
    return
  }
  const message = `Helm tests skipped: ${HELM_DIR}/helm not found (bash test/scripts/helm.sh fetches it; npm test runs it)`
  console.warn(message)
  describe.skip(name, () => {
    it(message, () => undefined)
  })
}
