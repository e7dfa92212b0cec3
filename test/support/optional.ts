/**
 * Tests that need something from outside the repository (the shared corpora, the real helm) run when
 * it is there; otherwise their group is skipped with one test named by `skipped` and the same line as
 * a console warning, so the skip shows in the run's output instead of passing silently.
 */
import {describe, it} from '@jest/globals'

export function describeOrSkip(present: boolean, name: string, skipped: string, fn: () => void): void {
  if (present) {
    describe(name, fn)
    return
  }
  console.warn(skipped)
  describe.skip(name, () => {
    it(skipped, () => undefined)
  })
}
