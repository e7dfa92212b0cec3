import {describe, expect, it} from '@jest/globals'
import {AttemptTimeoutError, MAX_RETRY_AFTER_MS, RetriesExhausted, retry, type RetryInfo, type RetryOptions} from '../../../src/adapters/retry.js'

class Transient extends Error {
  constructor(readonly retryAfterMs?: number) {
    super('transient')
  }
}
class Fatal extends Error {}

/** An operation that fails with the given errors in turn, then returns 'ok'; counts its calls. */
function script(...failures: Error[]) {
  let calls = 0
  const signals: AbortSignal[] = []
  const op = async ({number, signal}: {number: number; signal: AbortSignal}): Promise<string> => {
    calls++
    signals.push(signal)
    expect(number).toBe(calls)
    const f = failures[calls - 1]
    if (f !== undefined) throw f
    return 'ok'
  }
  return {op, calls: () => calls, signals}
}

/** Options with a recording sleep that does not wait. */
function opts(extra: Partial<RetryOptions> = {}) {
  const slept: number[] = []
  const retries: RetryInfo[] = []
  const o: RetryOptions = {
    attempts: 4,
    baseDelayMs: 100,
    isRetryable: (e) => e instanceof Transient || e instanceof AttemptTimeoutError,
    retryAfterMs: (e) => (e instanceof Transient ? e.retryAfterMs : undefined),
    sleep: async (ms) => {
      slept.push(ms)
    },
    onRetry: (i) => {
      retries.push(i)
    },
    ...extra,
  }
  return {o, slept, retries}
}

const outcome = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (v) => ({ok: v}),
    (e: unknown) => ({err: e}),
  )

describe('retry: attempts', () => {
  it('returns the first success without waiting', async () => {
    const s = script()
    const {o, slept} = opts()
    await expect(retry(s.op, o)).resolves.toBe('ok')
    expect(s.calls()).toBe(1)
    expect(slept).toEqual([])
  })

  it('retries retryable failures and returns the eventual success', async () => {
    const s = script(new Transient(), new Transient())
    const {o, slept, retries} = opts()
    await expect(retry(s.op, o)).resolves.toBe('ok')
    expect(s.calls()).toBe(3)
    expect(slept).toHaveLength(2)
    expect(retries.map((r) => [r.attempt, r.attempts, r.retryAfter])).toEqual([
      [1, 4, false],
      [2, 4, false],
    ])
  })

  it('stops after `attempts` and throws RetriesExhausted carrying the last error and the count', async () => {
    const last = new Transient()
    const s = script(new Transient(), new Transient(), new Transient(), last, new Transient())
    const {o, slept} = opts()
    const e = (await outcome(retry(s.op, o))) as {err: RetriesExhausted}
    expect(e.err).toBeInstanceOf(RetriesExhausted)
    expect(e.err.attempts).toBe(4)
    expect(e.err.last).toBe(last)
    expect(e.err.message).toBe('failed after 4 attempts')
    expect(s.calls()).toBe(4)
    expect(slept).toHaveLength(3)
  })

  it('with one attempt, the failure itself is thrown', async () => {
    const first = new Transient()
    const s = script(first)
    await expect(retry(s.op, opts({attempts: 1}).o)).rejects.toBe(first)
    expect(s.calls()).toBe(1)
  })

  it('a non-retryable failure is thrown at once, as is', async () => {
    const fatal = new Fatal('no')
    const s = script(new Transient(), fatal)
    const {o, slept} = opts()
    await expect(retry(s.op, o)).rejects.toBe(fatal)
    expect(s.calls()).toBe(2)
    expect(slept).toHaveLength(1)
  })
})

describe('retry: delays', () => {
  it('full jitter: uniform in [0, min(cap, base·2^(n-1))]', async () => {
    const high = opts({attempts: 6, baseDelayMs: 100, maxDelayMs: 300, random: () => 0.999})
    await outcome(retry(script(...Array.from({length: 6}, () => new Transient())).op, high.o))
    expect(high.slept).toEqual([99, 199, 299, 299, 299])
    const low = opts({attempts: 3, random: () => 0})
    await outcome(retry(script(new Transient(), new Transient(), new Transient()).op, low.o))
    expect(low.slept).toEqual([0, 0])
    const half = opts({attempts: 4, baseDelayMs: 250, random: () => 0.5})
    await outcome(retry(script(new Transient(), new Transient(), new Transient(), new Transient()).op, half.o))
    expect(half.slept).toEqual([125, 250, 500])
  })

  it('the default cap is 8 s', async () => {
    const {o, slept} = opts({attempts: 12, baseDelayMs: 250, random: () => 0.999})
    await outcome(retry(script(...Array.from({length: 12}, () => new Transient())).op, o))
    expect(Math.max(...slept)).toBe(7992)
  })

  it('random delays stay within their bounds', async () => {
    const {o, slept} = opts({attempts: 8, baseDelayMs: 100, maxDelayMs: 1000})
    await outcome(retry(script(...Array.from({length: 8}, () => new Transient())).op, o))
    slept.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0)
      expect(ms).toBeLessThanOrEqual(Math.min(1000, 100 * 2 ** i))
      expect(Number.isInteger(ms)).toBe(true)
    })
  })

  it('Retry-After replaces backoff when the failure carries one, and is capped at 30 s', async () => {
    const {o, slept, retries} = opts({random: () => 0.999})
    await expect(retry(script(new Transient(1000), new Transient(), new Transient(3_600_000)).op, o)).resolves.toBe('ok')
    expect(slept).toEqual([1000, 199, MAX_RETRY_AFTER_MS])
    expect(retries.map((r) => r.retryAfter)).toEqual([true, false, true])
  })
})

describe('retry: per-attempt timeout and abort', () => {
  it('an attempt past attemptTimeoutMs is abandoned (its signal aborted) and retried', async () => {
    const signals: AbortSignal[] = []
    let calls = 0
    const op = ({signal}: {signal: AbortSignal}): Promise<string> => {
      calls++
      signals.push(signal)
      // The first attempt hangs until aborted; the second answers.
      if (calls === 1) return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('socket destroyed'))))
      return Promise.resolve('late ok')
    }
    const {o} = opts({attemptTimeoutMs: 30})
    await expect(retry(op, o)).resolves.toBe('late ok')
    expect(calls).toBe(2)
    expect(signals[0]!.aborted).toBe(true)
    expect(signals[0]!.reason).toBeInstanceOf(AttemptTimeoutError)
    expect(signals[1]!.aborted).toBe(false)
  })

  it('timeouts on every attempt end in RetriesExhausted(AttemptTimeoutError)', async () => {
    const never = (): Promise<string> => new Promise(() => undefined)
    const t0 = Date.now()
    const e = (await outcome(retry(never, opts({attempts: 2, attemptTimeoutMs: 20}).o))) as {err: RetriesExhausted}
    expect(e.err).toBeInstanceOf(RetriesExhausted)
    expect(e.err.last).toBeInstanceOf(AttemptTimeoutError)
    expect((e.err.last as Error).message).toBe('no answer within 20 ms')
    expect(Date.now() - t0).toBeLessThan(2000)
  })

  it('abort while waiting between attempts: rejects with the reason, no further attempt', async () => {
    const controller = new AbortController()
    const s = script(new Transient(), new Transient())
    const reason = new Error('user pressed ^C')
    // The real sleep this time: a 4 s wait (half the 8 s cap) that the abort must cut short.
    const {o} = opts({signal: controller.signal, baseDelayMs: 60_000, random: () => 0.5})
    delete (o as {sleep?: unknown}).sleep
    const p = retry(s.op, o)
    setTimeout(() => controller.abort(reason), 10)
    const t0 = Date.now()
    await expect(p).rejects.toBe(reason)
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(s.calls()).toBe(1)
  })

  it("abort during an attempt aborts the attempt's signal and rejects with the reason", async () => {
    const controller = new AbortController()
    let seen: AbortSignal | undefined
    const op = ({signal}: {signal: AbortSignal}): Promise<string> => {
      seen = signal
      return new Promise(() => undefined)
    }
    const p = retry(op, opts({signal: controller.signal}).o)
    controller.abort(new Error('stop'))
    await expect(p).rejects.toThrow('stop')
    expect(seen?.aborted).toBe(true)
  })

  it('an already aborted signal runs no attempt', async () => {
    const s = script()
    await expect(retry(s.op, opts({signal: AbortSignal.abort(new Error('gone'))}).o)).rejects.toThrow('gone')
    expect(s.calls()).toBe(0)
  })
})
