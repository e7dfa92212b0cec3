/** Progress steps for the use cases: a step ends even when it fails (the terminal must not be left drawing). */
import type {Progress} from '../core/ports.js'

/** Run `fn` as one progress step (`total` items when counted). */
export async function step<T>(progress: Progress | undefined, label: string, fn: () => Promise<T>, total?: number): Promise<T> {
  if (progress === undefined) return fn()
  progress.start(label, total)
  try {
    return await fn()
  } finally {
    progress.done()
  }
}
