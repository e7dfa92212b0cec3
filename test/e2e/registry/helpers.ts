import {parseReference} from '../../../src/core/reference/index.js'
import type {ResolveOutcome, ResolveRequest, ResolvedImage} from '../../../src/core/ports.js'
import type {SafeDeployError} from '../../../src/core/errors.js'

/** A ResolveRequest for an image as written (tag defaults to latest; a digest wins over a tag). */
export function request(image: string): ResolveRequest {
  const r = parseReference(image)
  return {image, domain: r.domain, path: r.path, reference: r.digest ?? r.tag ?? 'latest'}
}

export function ok(outcome: ResolveOutcome | undefined): ResolvedImage {
  if (outcome === undefined) throw new Error('no outcome')
  if (!outcome.ok) throw outcome.error
  return outcome.value
}

export function err(outcome: ResolveOutcome | undefined): SafeDeployError {
  if (outcome === undefined) throw new Error('no outcome')
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`)
  return outcome.error
}

/** A sleep that records the requested delays and waits at most `maxMs` for real. */
export function recordingSleep(maxMs = 5): {sleep: (ms: number) => Promise<void>; calls: number[]} {
  const calls: number[] = []
  return {
    calls,
    sleep: (ms) => {
      calls.push(ms)
      return new Promise((resolve) => setTimeout(resolve, Math.min(ms, maxMs)))
    },
  }
}
