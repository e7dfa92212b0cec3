/**
 * RegistryResolver: the DigestResolver port over the OCI distribution API.
 *
 * Per request: HEAD /v2/<path>/manifests/<tag> with all four manifest types in Accept, take the
 * Docker-Content-Digest; without a usable header, GET and sha256 the body (a header that disagrees
 * with the body is a REGISTRY_PROTOCOL error, never trusted). With a platform, GET the index and
 * pick the child. Auth, retries, redirects and error mapping are RegistryClient's (client.ts), shared
 * with the signature reader and writer. Requests are deduped and run at most `concurrency` at a time
 * (the client's p-limit limiter, as PrefetchingResolver in cli/pipeline.ts).
 */
import {SafeDeployError, type ErrorCode, type SafeDeployErrorOptions} from '../../core/errors.js'
import {redact} from '../../core/redact.js'
import type {DigestResolver, ResolveOutcome, ResolveRequest, ResolvedImage} from '../../core/ports.js'
import {header, RegistryClient, sha256, type RegistryClientOptions, type Target} from './client.js'
import {
  formatPlatform,
  isIndexType,
  isSha256,
  MANIFEST_ACCEPT,
  normalizePlatform,
  parsePlatform,
  platformMatches,
  readPlatform,
  type Platform,
} from './media.js'

export type {RegistryMirror} from './client.js'

export interface RegistryResolverOptions extends RegistryClientOptions {
  /** 'os/arch[/variant]': resolve to the matching child of an index. */
  platform?: string
}

interface Manifest {
  digest: string
  mediaType: string
  json: Record<string, unknown>
}

export class RegistryResolver implements DigestResolver {
  /** The shared HTTP mechanism (auth, retries, limiter, errors); the signature reader and writer can use the same one. */
  readonly client: RegistryClient
  private readonly platform: Platform | undefined

  /** `client`: share one with a RegistrySignatureSource (one token cache, one limiter); otherwise one is built from `options`. */
  constructor(options: RegistryResolverOptions = {}, client?: RegistryClient) {
    if (options.platform !== undefined) {
      const p = parsePlatform(options.platform)
      if (p === undefined) throw new SafeDeployError('USAGE', `invalid platform "${options.platform}": expected os/arch[/variant], e.g. linux/arm64`)
      this.platform = p
    }
    this.client = client ?? new RegistryClient(options)
  }

  /** The repositories these requests read, told to the client before they run (one token request for several). */
  announce(requests: readonly ResolveRequest[]): void {
    this.client.announce(requests)
  }

  /** Resolve every request; one outcome per request, same order. Never rejects for per-image failures. */
  async resolveAll(requests: readonly ResolveRequest[]): Promise<ResolveOutcome[]> {
    this.client.announce(requests)
    const unique = new Map<string, {request: ResolveRequest; outcome?: ResolveOutcome}>()
    const keyOf = (r: ResolveRequest): string => `${r.domain}\u0000${r.path}\u0000${r.reference}`
    for (const r of requests) if (!unique.has(keyOf(r))) unique.set(keyOf(r), {request: r})
    await Promise.all(
      [...unique.values()].map((job) =>
        this.client.limit(async () => {
          job.outcome = await this.settle(job.request)
        }),
      ),
    )
    return requests.map((r) => {
      const outcome = unique.get(keyOf(r))?.outcome as ResolveOutcome
      if (outcome.ok && outcome.value.image !== r.image) return {ok: true, value: {...outcome.value, image: r.image}}
      return outcome
    })
  }

  /** Resolve one request; throws SafeDeployError. */
  async resolve(request: ResolveRequest): Promise<ResolvedImage> {
    const outcome = await this.settle(request)
    if (!outcome.ok) throw outcome.error
    return outcome.value
  }

  /** Close idle keep-alive sockets (the process can exit without it; tests call it). */
  close(): void {
    this.client.close()
  }

  private async settle(request: ResolveRequest): Promise<ResolveOutcome> {
    try {
      return {ok: true, value: await this.resolveOne(request)}
    } catch (e) {
      if (e instanceof SafeDeployError) {
        if (e.location?.image !== undefined) return {ok: false, error: e}
        const opts: SafeDeployErrorOptions = {cause: e, location: {image: request.image}}
        if (e.hint !== undefined) opts.hint = e.hint
        return {ok: false, error: new SafeDeployError(e.code, `cannot resolve ${request.image}: ${e.message}`, opts)}
      }
      const message = redact(e instanceof Error ? e.message : String(e))
      return {
        ok: false,
        error: new SafeDeployError('INTERNAL', `cannot resolve ${request.image}: unexpected error: ${message}`, {location: {image: request.image}}),
      }
    }
  }

  private debug(line: string): void {
    this.client.debug(line)
  }

  private fail(code: ErrorCode, t: Target, message: string, options: {hint?: string; cause?: unknown; host?: string} = {}): SafeDeployError {
    return this.client.fail(code, t, message, options)
  }

  private target(r: ResolveRequest): Target {
    return this.client.target(r, `cannot resolve ${r.image}`)
  }

  private url(t: Target, kind: 'manifests' | 'blobs', reference: string): URL {
    return this.client.url(t, kind, reference)
  }

  private async resolveOne(r: ResolveRequest): Promise<ResolvedImage> {
    const t = this.target(r)
    const byDigest = r.reference.includes(':')
    if (byDigest) {
      if (!isSha256(r.reference)) {
        throw this.fail('INVALID_REFERENCE', t, `"${r.reference}" is not a sha256 digest (expected sha256:<64 lowercase hex>)`)
      }
      if (this.platform === undefined) return {image: r.image, digest: r.reference, mediaType: '', registry: t.host}
    }
    if (this.platform === undefined) {
      const {res, attempts} = await this.client.exchange(t, 'HEAD', this.url(t, 'manifests', r.reference), MANIFEST_ACCEPT)
      if (res.status === 200) {
        const digest = header(res, 'docker-content-digest')
        if (isSha256(digest)) return {image: r.image, digest, mediaType: header(res, 'content-type') ?? '', registry: t.host}
        this.debug(`HEAD ${t.host}/${t.path}:${r.reference} gave ${digest === undefined ? 'no' : 'an unusable'} Docker-Content-Digest; falling back to GET`)
      } else if (![400, 405, 501].includes(res.status)) {
        throw await this.client.statusFailure(res, t, attempts, r.reference)
      }
    }
    const m = await this.getManifest(t, r.reference)
    if (this.platform === undefined) return {image: r.image, digest: m.digest, mediaType: m.mediaType, registry: t.host}
    return this.selectPlatform(t, m, this.platform)
  }

  private async getManifest(t: Target, reference: string): Promise<Manifest> {
    const {res, attempts} = await this.client.exchange(t, 'GET', this.url(t, 'manifests', reference), MANIFEST_ACCEPT)
    if (res.status !== 200) throw await this.client.statusFailure(res, t, attempts, reference)
    const computed = sha256(res.body)
    const claimed = header(res, 'docker-content-digest')
    if (claimed !== undefined && claimed !== computed) {
      throw this.fail(
        'REGISTRY_PROTOCOL',
        t,
        `${t.label} sent Docker-Content-Digest ${claimed.slice(0, 80)} for ${t.path}:${reference}, but the manifest it sent hashes to ${computed}`,
        {
          hint: 'the registry or a proxy in between returned inconsistent data; retry, and report it to the registry operator if it persists',
        },
      )
    }
    if (reference.includes(':') && reference !== computed) {
      throw this.fail('REGISTRY_PROTOCOL', t, `${t.label} answered ${t.path}@${reference} with a manifest that hashes to ${computed}`)
    }
    let json: unknown
    try {
      json = JSON.parse(res.body.toString('utf8'))
    } catch {
      throw this.fail('REGISTRY_PROTOCOL', t, `${t.label} sent a manifest for ${t.path}:${reference} that is not JSON`)
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw this.fail('REGISTRY_PROTOCOL', t, `${t.label} sent a manifest for ${t.path}:${reference} that is not a JSON object`)
    }
    const obj = json as Record<string, unknown>
    const mediaType = typeof obj['mediaType'] === 'string' ? obj['mediaType'] : (header(res, 'content-type') ?? '')
    return {digest: computed, mediaType, json: obj}
  }

  private async selectPlatform(t: Target, m: Manifest, wanted: Platform): Promise<ResolvedImage> {
    const want = formatPlatform(wanted)
    const entries = m.json['manifests']
    if (isIndexType(m.mediaType) || Array.isArray(entries)) {
      const children = (Array.isArray(entries) ? entries : []).flatMap((e: unknown) => {
        if (typeof e !== 'object' || e === null) return []
        const d = e as Record<string, unknown>
        const platform = readPlatform(d['platform'])
        return platform === undefined
          ? []
          : [{digest: d['digest'], mediaType: typeof d['mediaType'] === 'string' ? d['mediaType'] : '', platform: normalizePlatform(platform)}]
      })
      const matches = children.filter((c) => platformMatches(wanted, c.platform))
      const chosen = matches.find((c) => c.platform.variant === wanted.variant) ?? matches[0]
      if (chosen === undefined) {
        const available = [...new Set(children.filter((c) => c.platform.os !== 'unknown').map((c) => formatPlatform(c.platform)))]
        throw this.fail('PLATFORM_NOT_FOUND', t, `no ${want} image in the index ${m.digest} at ${t.label}; available: ${available.join(', ') || 'none'}`, {
          hint: `pick one of the available platforms with --platform, or push a ${want} image`,
        })
      }
      if (!isSha256(chosen.digest)) {
        throw this.fail('REGISTRY_PROTOCOL', t, `the index ${m.digest} at ${t.label} lists ${formatPlatform(chosen.platform)} with an invalid digest`)
      }
      return {
        image: t.image,
        digest: chosen.digest,
        mediaType: chosen.mediaType,
        platform: formatPlatform(chosen.platform),
        indexDigest: m.digest,
        registry: t.host,
      }
    }
    // A single-platform image: check the config's platform (one small blob GET); accept when it cannot be read.
    const base: ResolvedImage = {image: t.image, digest: m.digest, mediaType: m.mediaType, registry: t.host}
    const config = m.json['config']
    const configDigest = typeof config === 'object' && config !== null ? (config as Record<string, unknown>)['digest'] : undefined
    if (!isSha256(configDigest)) {
      this.debug(`${t.image}: single-platform manifest without a config digest; accepting it for ${want} unchecked`)
      return base
    }
    let platform: Platform | undefined
    try {
      const {res} = await this.client.exchange(t, 'GET', this.url(t, 'blobs', configDigest), '*/*')
      if (res.status === 200 && sha256(res.body) === configDigest) platform = readPlatform(JSON.parse(res.body.toString('utf8')))
      else this.debug(`${t.image}: config blob ${configDigest} gave HTTP ${res.status}; accepting it for ${want} unchecked`)
    } catch (e) {
      this.debug(`${t.image}: cannot read config blob ${configDigest} (${e instanceof Error ? e.message : String(e)}); accepting it for ${want} unchecked`)
    }
    if (platform === undefined) return base
    const actual = normalizePlatform(platform)
    if (!platformMatches(wanted, actual)) {
      throw this.fail(
        'PLATFORM_NOT_FOUND',
        t,
        `${t.path}:${t.reference} at ${t.label} is a single-platform image for ${formatPlatform(actual)}, not ${want}; available: ${formatPlatform(actual)}`,
        {
          hint: `use --platform ${formatPlatform(actual)}, or push a ${want} image`,
        },
      )
    }
    return {...base, platform: formatPlatform(actual)}
  }
}
