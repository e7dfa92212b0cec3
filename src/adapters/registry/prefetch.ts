/** The registry's prefetching front (pin, preflight, apply): lookups start while the input is still being parsed. */
import pLimit, {type LimitFunction} from 'p-limit'
import {lookupForValue} from '../../core/pin.js'
import type {ImageSite} from '../../core/manifest/types.js'
import type {DigestResolver, ResolveOutcome, ResolveRequest} from '../../core/ports.js'

/**
 * A resolver that starts lookups as soon as image sites are found (while the rest of the input is
 * still being parsed) and answers pinSites from those in-flight results. Only exact image sites are
 * looked up — the same requests pinSites would make — so nothing extra reaches a registry.
 */
export class PrefetchingResolver implements DigestResolver {
  private readonly inFlight = new Map<string, Promise<ResolveOutcome>>()
  /**
   * `limit` lookups in flight at most (the registry concurrency), started in the order asked for;
   * a queued lookup starts only when one finishes, so its per-request timeout never runs while it waits.
   */
  private readonly limit: LimitFunction
  constructor(
    private readonly inner: DigestResolver,
    limit = 16,
  ) {
    this.limit = pLimit(Math.max(1, Math.floor(limit)))
  }

  /** Start the lookups these sites need (each reference once). */
  prefetch(sites: readonly ImageSite[]): void {
    const requests = sites.map((site) => lookupForValue(site.image, true)).filter((r) => r !== undefined)
    // Announced before any starts: the lookups queued behind the limiter share the first ones' token request.
    this.inner.announce?.(requests)
    // Started, not awaited: pinSites asks for the same promise later (lookup() handles a rejection nobody asks for).
    for (const req of requests) void this.lookup(req)
  }

  async resolveAll(requests: readonly ResolveRequest[]): Promise<ResolveOutcome[]> {
    this.inner.announce?.(requests)
    return Promise.all(requests.map((r) => this.lookup(r)))
  }

  private lookup(req: ResolveRequest): Promise<ResolveOutcome> {
    let p = this.inFlight.get(req.image)
    if (p === undefined) {
      p = this.limit(async () => (await this.inner.resolveAll([req]))[0] as ResolveOutcome)
      // A prefetch nobody asks for again (the input failed to parse) must not be an unhandled rejection.
      p.catch(() => undefined)
      this.inFlight.set(req.image, p)
    }
    return p
  }
}
