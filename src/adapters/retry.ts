/**
 * The one retry policy for remote calls (registry requests and token fetches, Google gRPC and
 * REST calls): a fixed number of attempts, exponential backoff with full jitter under a cap, the
 * server's Retry-After when it gives one, an optional per-attempt timeout, and abort through an
 * AbortSignal. What is worth retrying is the caller's call (`isRetryable`): a 503 from a
 * registry and UNAVAILABLE from a gRPC API are the same policy, not the same predicate.
 *
 * Hand-written rather than p-retry: p-retry computes each delay from the attempt number alone
 * (min·factor^n, randomised ×[1, 2)), so it has neither full jitter nor a per-failure delay for
 * Retry-After, and takes no injected sleep; bending it to that would leave it counting attempts
 * around a loop we write anyway.
 */

/** No Retry-After is waited for longer than this (a server asking for an hour gets 30 s). */
export const MAX_RETRY_AFTER_MS = 30_000
/** Default cap of one backoff delay. */
export const DEFAULT_MAX_DELAY_MS = 8000

export interface RetryInfo {
  /** The attempt that just failed (1-based). */
  attempt: number
  /** Attempts in all. */
  attempts: number
  /** The wait before the next attempt. */
  delayMs: number
  /** True when the wait is the server's Retry-After rather than backoff. */
  retryAfter: boolean
  error: unknown
}

export interface RetryOptions {
  /** Attempts in all, the first included (at least 1). */
  attempts: number
  /** Backoff of the first retry is uniform in [0, baseDelayMs]; the bound doubles per retry. */
  baseDelayMs: number
  /** Upper bound of one backoff delay. Default 8 s. */
  maxDelayMs?: number
  /** Abandon an attempt after this long: its signal is aborted and it fails with AttemptTimeoutError. */
  attemptTimeoutMs?: number
  /** Whether a failure is worth another attempt (AttemptTimeoutError included, when a timeout is set). */
  isRetryable: (err: unknown) => boolean
  /** The server's Retry-After for a failure, in ms, if it sent one; capped at 30 s. */
  retryAfterMs?: (err: unknown) => number | undefined
  /** Told before each wait (debug lines). */
  onRetry?: (info: RetryInfo) => void
  /** Stops the waits and the attempts; the call rejects with the signal's reason. */
  signal?: AbortSignal
  /** Injectable for tests. Default setTimeout. */
  sleep?: (ms: number) => Promise<void>
  /** Injectable for tests. Default Math.random. */
  random?: () => number
}

export interface Attempt {
  /** 1-based. */
  number: number
  /** Aborted when the attempt times out or the caller aborts: pass it to the I/O. */
  signal: AbortSignal
}

/** A retryable failure that persisted through every attempt; `last` is the final attempt's error. */
export class RetriesExhausted extends Error {
  override readonly name = 'RetriesExhausted'
  readonly last: unknown
  readonly attempts: number
  constructor(last: unknown, attempts: number) {
    super(`failed after ${attempts} attempts`)
    this.last = last
    this.attempts = attempts
  }
}

/** An attempt that did not finish within `attemptTimeoutMs`. Named like the DOM's timeout error. */
export class AttemptTimeoutError extends Error {
  override readonly name = 'TimeoutError'
  readonly timeoutMs: number
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`)
    this.timeoutMs = timeoutMs
  }
}

/** Full jitter: uniform in [0, min(cap, base·2^(attempt-1))], whole milliseconds. */
export function backoffMs(attempt: number, random: () => number = Math.random, baseMs = 250, capMs = DEFAULT_MAX_DELAY_MS): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1)))
}

/** Retry-After: delta-seconds or an HTTP-date; capped at 30 s; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const v = value.trim()
  let ms: number
  if (/^\d+$/.test(v)) ms = Number(v) * 1000
  else {
    const t = Date.parse(v)
    if (Number.isNaN(t)) return undefined
    ms = Math.max(0, t - now)
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS)
}

/** setTimeout that an abort cuts short (the timer is cleared, so nothing keeps the process alive). */
function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return new Promise((resolve) => setTimeout(resolve, ms))
  if (signal.aborted) return Promise.reject(aborted(signal))
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(aborted(signal))
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, {once: true})
  })
}

function aborted(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted')
}

/** `p`, or the signal's reason as soon as it aborts. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p
  if (signal.aborted) return Promise.reject(aborted(signal))
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(aborted(signal))
    signal.addEventListener('abort', onAbort, {once: true})
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** One attempt with its own signal, bounded by the per-attempt timeout when there is one. */
async function runAttempt<T>(op: (a: Attempt) => Promise<T>, number: number, o: RetryOptions): Promise<T> {
  const controller = new AbortController()
  const onAbort = (): void => controller.abort(aborted(o.signal as AbortSignal))
  o.signal?.addEventListener('abort', onAbort, {once: true})
  let timer: NodeJS.Timeout | undefined
  try {
    const work = op({number, signal: controller.signal})
    if (o.attemptTimeoutMs === undefined) return await raceAbort(work, o.signal)
    const timeoutMs = o.attemptTimeoutMs
    // The attempt's own rejection after the abort below is expected and not interesting.
    work.catch(() => undefined)
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new AttemptTimeoutError(timeoutMs)
        // Rejected before the abort, so the race reports the timeout rather than whatever the
        // aborted I/O fails with.
        reject(err)
        controller.abort(err)
      }, timeoutMs)
    })
    return await raceAbort(Promise.race([work, timedOut]), o.signal)
  } finally {
    clearTimeout(timer)
    o.signal?.removeEventListener('abort', onAbort)
  }
}

/**
 * Run `op` until it succeeds, fails with something `isRetryable` rejects, or runs out of attempts.
 * A non-retryable failure, and any failure when only one attempt is allowed, is thrown as is; a
 * retryable one that lasts through every attempt is thrown as RetriesExhausted (its `last` is
 * the final error), so callers can say "after N attempts".
 */
export async function retry<T>(op: (a: Attempt) => Promise<T>, o: RetryOptions): Promise<T> {
  const attempts = Math.max(1, Math.floor(o.attempts))
  const injected = o.sleep
  const wait = injected === undefined ? (ms: number) => abortableSleep(ms, o.signal) : (ms: number) => raceAbort(injected(ms), o.signal)
  const random = o.random ?? Math.random
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw aborted(o.signal)
    try {
      return await runAttempt(op, attempt, o)
    } catch (err) {
      if (o.signal?.aborted) throw aborted(o.signal)
      if (!o.isRetryable(err)) throw err
      if (attempt >= attempts) throw attempts === 1 ? err : new RetriesExhausted(err, attempts)
      const retryAfter = o.retryAfterMs?.(err)
      const delayMs =
        retryAfter === undefined
          ? backoffMs(attempt, random, o.baseDelayMs, o.maxDelayMs ?? DEFAULT_MAX_DELAY_MS)
          : Math.min(Math.max(0, retryAfter), MAX_RETRY_AFTER_MS)
      o.onRetry?.({attempt, attempts, delayMs, retryAfter: retryAfter !== undefined, error: err})
      await wait(delayMs)
    }
  }
}
