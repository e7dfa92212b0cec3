/**
 * Promise.all that waits for every call to finish before it fails.
 *
 * Promise.all rejects at the first failure while the other calls still run. The caller then closes
 * the clients those calls use (the pre-flight closes its ports as soon as gathering fails), and a
 * Google client called after close() rejects inside google-gax where nobody listens: the process
 * dies on an unhandled rejection (exit 1, "The client has already been closed.") instead of
 * reporting the first failure (exit 4). Waiting for the rest costs nothing when all succeed, and
 * on failure at most one more retry round of calls that are already under way.
 */
export function settleAll<T extends readonly unknown[]>(promises: readonly [...{[K in keyof T]: Promise<T[K]>}]): Promise<T>
export function settleAll<T>(promises: Iterable<Promise<T>>): Promise<T[]>
export async function settleAll(promises: Iterable<Promise<unknown>>): Promise<unknown[]> {
  const results = await Promise.allSettled(promises)
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value)
}
