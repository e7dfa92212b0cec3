/**
 * RegistryResolver: the DigestResolver port over the OCI distribution API.
 *
 * Per request: HEAD /v2/<path>/manifests/<tag> with all four manifest types in Accept, take the
 * Docker-Content-Digest; without a usable header, GET and sha256 the body (a header that disagrees
 * with the body is a REGISTRY_PROTOCOL error, never trusted). With a platform, GET the index and
 * pick the child. Auth: Bearer (token per realm/service/scope, cached) or Basic from the docker
 * config, credential helpers or Google ADC. Retries (adapters/retry.ts: exponential backoff with
 * full jitter) on 429 (Retry-After honoured), 5xx, resets and timeouts. Requests are deduped and
 * run at most `concurrency` at a time (p-limit, as PrefetchingResolver in cli/pipeline.ts).
 */
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import pLimit, {type LimitFunction} from 'p-limit'
import {SafeDeployError, type ErrorCode, type SafeDeployErrorOptions} from '../../core/errors.js'
import {redact, redactor} from '../../core/redact.js'
import type {DigestResolver, ResolveOutcome, ResolveRequest, ResolvedImage} from '../../core/ports.js'
import {parseRetryAfter, RetriesExhausted, retry} from '../retry.js'
import {parseChallenges, type Challenge} from './auth.js'
import {ANONYMOUS, CredentialStore, googleAdcAccessToken, type Credential} from './credentials.js'
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
import {classify, Transport, TransportError, type HttpResponse} from './transport.js'

export interface RegistryResolverOptions {
  /** Lookups in flight at once (and keep-alive sockets per host). Default 16. */
  concurrency?: number
  /** Per-request timeout (headers and body), ms. Default 15000. */
  timeoutMs?: number
  /** Retries after the first attempt for 429, 5xx, resets and timeouts. Default 4. */
  retries?: number
  /** host[:port] entries reached over plain HTTP (an entry without a port matches every port of that host). */
  insecureRegistries?: string[]
  /** PEM file of a private CA, trusted in addition to Node's default roots. Read once, in the constructor. */
  caCertFile?: string
  /** FROM domain → its mirror: FROM's references are resolved through the mirror (results keep the image as written). */
  mirrors?: ReadonlyMap<string, RegistryMirror>
  /** 'os/arch[/variant]': resolve to the matching child of an index. */
  platform?: string
  /** Default $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
  dockerConfigPath?: string
  /** Environment for DOCKER_CONFIG/HOME and credential helpers (their PATH). Default process.env. */
  env?: NodeJS.ProcessEnv
  /** Receives redacted diagnostic lines (never credentials). */
  debug?: (line: string) => void
  /** Injectable for tests. Default setTimeout. */
  sleep?: (ms: number) => Promise<void>
  /** Access token for Google registries (gcr.io, *.gcr.io, *-docker.pkg.dev, docker.pkg.dev). Default: ADC via google-auth-library, loaded lazily. */
  googleAccessToken?: () => Promise<string | undefined>
}

/** A `--registry-mirror FROM=TO` target, parsed once by the CLI (cli/pipeline.ts parseMirrors). */
export interface RegistryMirror {
  /** host[:port] contacted instead of FROM. */
  host: string
  /** Reached over plain HTTP (TO was written http://…). */
  insecure?: boolean
}

/** One request's view of where it goes. */
interface Target {
  image: string
  domain: string
  path: string
  reference: string
  /** API host contacted (after mirror mapping; docker.io → registry-1.docker.io). */
  host: string
  scheme: 'http' | 'https'
  /** The registry as named in messages: "host" or "host (mirror of docker.io)". */
  label: string
}

interface Exchange {
  res: HttpResponse
  attempts: number
}

interface CachedToken {
  promise: Promise<string>
  header?: string
  expiresAt?: number
}

interface Manifest {
  digest: string
  mediaType: string
  json: Record<string, unknown>
}

const UA = 'safe-deploy (+https://github.com/safe-deploy)'
const RETRY_STATUS = new Set([429, 500, 502, 503, 504])
/** Transport failures worth another attempt; refused connections, DNS and TLS errors are not. */
const RETRY_KINDS: ReadonlySet<string> = new Set(['timeout', 'reset', 'truncated'])
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 3
const TLS_HINT = 'if the registry uses a private CA, pass --registry-ca-cert FILE; if it serves plain HTTP, pass --insecure-registry HOST[:PORT]'
const AUTH_HINT =
  'log in with `docker login HOST` (or add a credHelpers entry to the docker config); for gcr.io / *.pkg.dev run `gcloud auth application-default login`'

const sha256 = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex')
const header = (res: HttpResponse, name: string): string | undefined => {
  const v = res.headers[name]
  return Array.isArray(v) ? v[0] : v
}

export class RegistryResolver implements DigestResolver {
  private readonly concurrency: number
  /** At most `concurrency` lookups in flight for this resolver, across resolveAll calls. */
  private readonly limit: LimitFunction
  private readonly timeoutMs: number
  private readonly attempts: number
  private readonly insecure: string[]
  private readonly mirrors: ReadonlyMap<string, RegistryMirror>
  private readonly platform: Platform | undefined
  private readonly sleep: (ms: number) => Promise<void>
  private readonly debugSink: ((line: string) => void) | undefined
  private readonly transport: Transport
  private readonly credentials: CredentialStore
  /** host → the last auth challenge seen (so later requests authenticate up front). */
  private readonly challenges = new Map<string, Challenge>()
  /** realm|service|scope → token. */
  private readonly tokens = new Map<string, CachedToken>()

  constructor(options: RegistryResolverOptions = {}) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 16))
    this.limit = pLimit(this.concurrency)
    this.timeoutMs = Math.max(1, options.timeoutMs ?? 15_000)
    this.attempts = 1 + Math.max(0, Math.floor(options.retries ?? 4))
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
    this.debugSink = options.debug
    this.mirrors = options.mirrors ?? new Map()
    this.insecure = [
      ...(options.insecureRegistries ?? []).map((h) => h.replace(/^https?:\/\//, '').replace(/\/+$/, '')),
      ...[...this.mirrors.values()].filter((m) => m.insecure === true).map((m) => m.host),
    ]
    if (options.platform !== undefined) {
      const p = parsePlatform(options.platform)
      if (p === undefined) throw new SafeDeployError('USAGE', `invalid platform "${options.platform}": expected os/arch[/variant], e.g. linux/arm64`)
      this.platform = p
    }
    let extraCa: string | undefined
    if (options.caCertFile !== undefined) {
      try {
        extraCa = readFileSync(options.caCertFile, 'utf8')
      } catch (e) {
        throw new SafeDeployError('CONFIG_INVALID', `cannot read the registry CA certificate ${options.caCertFile}: ${(e as Error).message}`, {
          hint: 'pass a readable PEM file to --registry-ca-cert',
        })
      }
      if (!extraCa.includes('-----BEGIN CERTIFICATE-----')) {
        throw new SafeDeployError('CONFIG_INVALID', `${options.caCertFile} is not a PEM certificate (no BEGIN CERTIFICATE block)`, {
          hint: 'pass the CA certificate in PEM form to --registry-ca-cert',
        })
      }
    }
    this.transport = new Transport({maxSockets: this.concurrency, timeoutMs: this.timeoutMs, ...(extraCa === undefined ? {} : {extraCa})})
    this.credentials = new CredentialStore({
      ...(options.dockerConfigPath === undefined ? {} : {dockerConfigPath: options.dockerConfigPath}),
      env: options.env ?? process.env,
      googleAccessToken: options.googleAccessToken ?? googleAdcAccessToken,
      debug: (line) => this.debug(line),
    })
  }

  /** Resolve every request; one outcome per request, same order. Never rejects for per-image failures. */
  async resolveAll(requests: readonly ResolveRequest[]): Promise<ResolveOutcome[]> {
    const unique = new Map<string, {request: ResolveRequest; outcome?: ResolveOutcome}>()
    const keyOf = (r: ResolveRequest): string => `${r.domain}\u0000${r.path}\u0000${r.reference}`
    for (const r of requests) if (!unique.has(keyOf(r))) unique.set(keyOf(r), {request: r})
    await Promise.all(
      [...unique.values()].map((job) =>
        this.limit(async () => {
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
    this.transport.close()
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
    if (this.debugSink !== undefined) this.debugSink(redact(`registry: ${line}`))
  }

  /** `host`: the failure is the host's (the one contacted), not this image's: images failing alike are reported once. */
  private fail(code: ErrorCode, t: Target, message: string, options: {hint?: string; cause?: unknown; host?: string} = {}): SafeDeployError {
    const opts: SafeDeployErrorOptions = {location: {image: t.image}}
    if (options.hint !== undefined) opts.hint = redact(options.hint)
    if (options.cause !== undefined) opts.cause = options.cause
    if (options.host !== undefined) opts.remote = {host: options.host, reason: redact(message)}
    return new SafeDeployError(code, redact(`cannot resolve ${t.image}: ${message}`), opts)
  }

  private isInsecure(host: string): boolean {
    const name = host.replace(/:\d+$/, '')
    return this.insecure.some((h) => h === host || (!/:\d+$/.test(h) && h === name))
  }

  private target(r: ResolveRequest): Target {
    const mirror = this.mirrors.get(r.domain)?.host
    const registry = mirror ?? r.domain
    const host = registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry
    return {
      image: r.image,
      domain: r.domain,
      path: r.path,
      reference: r.reference,
      host,
      scheme: this.isInsecure(host) ? 'http' : 'https',
      label: mirror === undefined ? host : `${host} (mirror of ${r.domain})`,
    }
  }

  private url(t: Target, kind: 'manifests' | 'blobs', reference: string): URL {
    return new URL(`${t.scheme}://${t.host}/v2/${t.path}/${kind}/${reference}`)
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
      const {res, attempts} = await this.exchange(t, 'HEAD', this.url(t, 'manifests', r.reference), MANIFEST_ACCEPT)
      if (res.status === 200) {
        const digest = header(res, 'docker-content-digest')
        if (isSha256(digest)) return {image: r.image, digest, mediaType: header(res, 'content-type') ?? '', registry: t.host}
        this.debug(`HEAD ${t.host}/${t.path}:${r.reference} gave ${digest === undefined ? 'no' : 'an unusable'} Docker-Content-Digest; falling back to GET`)
      } else if (![400, 405, 501].includes(res.status)) {
        throw await this.statusFailure(res, t, attempts, r.reference)
      }
    }
    const m = await this.getManifest(t, r.reference)
    if (this.platform === undefined) return {image: r.image, digest: m.digest, mediaType: m.mediaType, registry: t.host}
    return this.selectPlatform(t, m, this.platform)
  }

  private async getManifest(t: Target, reference: string): Promise<Manifest> {
    const {res, attempts} = await this.exchange(t, 'GET', this.url(t, 'manifests', reference), MANIFEST_ACCEPT)
    if (res.status !== 200) throw await this.statusFailure(res, t, attempts, reference)
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
      const {res} = await this.exchange(t, 'GET', this.url(t, 'blobs', configDigest), '*/*')
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

  // ---- HTTP: retries, auth, redirects -------------------------------------------------------

  /** One logical request with auth and retries. Returns the final response (any status) and the attempts used. */
  private async exchange(t: Target, method: 'HEAD' | 'GET', url: URL, accept: string): Promise<Exchange> {
    let authorization = await this.authorizationFor(t, url.host, undefined)
    let challenged = false
    const send = async (): Promise<HttpResponse> => {
      try {
        return await this.sendFollowingRedirects(t, url, method, {Accept: accept, 'User-Agent': UA}, authorization)
      } catch (e) {
        if (e instanceof SafeDeployError) throw e
        throw classify(e)
      }
    }
    const outcome = await this.retried(
      '',
      (res) => (res.status === 429 || res.status === 503 ? parseRetryAfter(header(res, 'retry-after')) : undefined),
      async () => {
        const res = await send()
        // The first 401 is a challenge, answered within the same attempt: authenticating is not a retry.
        if (res.status === 401 && !challenged && res.url.host === url.host) {
          challenged = true
          const challenge = pickChallenge(header(res, 'www-authenticate'))
          if (challenge !== undefined) {
            this.challenges.set(url.host, challenge)
            this.debug(`${url.host} asks for ${challenge.scheme} auth${challenge.params['realm'] === undefined ? '' : ` (realm ${challenge.params['realm']})`}`)
            const next = await this.authorizationFor(t, url.host, authorization)
            if (next !== undefined) {
              authorization = next
              return send()
            }
          }
        }
        return res
      },
    )
    if ('error' in outcome) throw this.transportFailure(outcome.error, t, url, outcome.attempts)
    return outcome
  }

  /**
   * One registry request under the shared retry policy: 429 and 5xx answers (Retry-After from
   * `retryAfter`), timeouts, resets and truncated bodies are retried, up to --retries times.
   * Returns the last response, whatever its status, or the last transport failure, with the
   * attempts used; anything else (a SafeDeployError, a credential lookup failing) is thrown as is.
   */
  private async retried(
    what: string,
    retryAfter: (res: HttpResponse) => number | undefined,
    send: () => Promise<HttpResponse>,
  ): Promise<Exchange | {error: TransportError; attempts: number}> {
    let attempts = 0
    try {
      const res = await retry(
        async ({number}) => {
          attempts = number
          const r = await send()
          if (RETRY_STATUS.has(r.status)) throw new RetryableStatus(r)
          return r
        },
        {
          attempts: this.attempts,
          baseDelayMs: 250,
          sleep: this.sleep,
          isRetryable: (e) => e instanceof RetryableStatus || (e instanceof TransportError && RETRY_KINDS.has(e.kind)),
          retryAfterMs: (e) => (e instanceof RetryableStatus ? retryAfter(e.res) : undefined),
          onRetry: ({attempt, delayMs, retryAfter: honoured, error}) => {
            const why =
              error instanceof RetryableStatus
                ? `HTTP ${error.res.status}`
                : error instanceof TransportError
                  ? what === ''
                    ? `${error.kind} (${error.message})`
                    : error.kind
                  : String(error)
            this.debug(`${what}${why}; retry ${attempt}/${this.attempts - 1} in ${delayMs} ms${honoured ? ' (Retry-After)' : ''}`)
          },
        },
      )
      return {res, attempts}
    } catch (e) {
      const last = e instanceof RetriesExhausted ? e.last : e
      if (last instanceof RetryableStatus) return {res: last.res, attempts}
      if (last instanceof TransportError) return {error: last, attempts}
      throw last
    }
  }

  /** Send, following up to 3 redirects; Authorization is dropped once the host (or scheme) changes. */
  private async sendFollowingRedirects(
    t: Target,
    url: URL,
    method: string,
    headers: Record<string, string>,
    authorization: string | undefined,
  ): Promise<HttpResponse> {
    let current = url
    let auth = authorization
    for (let hop = 0; ; hop++) {
      const h = auth === undefined ? headers : {...headers, Authorization: auth}
      const started = Date.now()
      const res = await this.transport.send(current, method, h)
      if (this.debugSink !== undefined)
        this.debug(`${method} ${current.origin}${current.pathname} -> ${res.status} (${Date.now() - started} ms${auth === undefined ? '' : ', authenticated'})`)
      const location = header(res, 'location')
      if (!REDIRECT_STATUS.has(res.status) || location === undefined) return res
      if (hop >= MAX_REDIRECTS) throw this.fail('REGISTRY_PROTOCOL', t, `${t.label} redirected more than ${MAX_REDIRECTS} times for ${t.path}:${t.reference}`)
      const next = new URL(location, current)
      if (next.protocol !== 'http:' && next.protocol !== 'https:')
        throw this.fail('REGISTRY_PROTOCOL', t, `${t.label} redirected to an unsupported URL scheme ${next.protocol}`)
      if (auth !== undefined && (next.host !== current.host || next.protocol !== current.protocol)) {
        this.debug(`redirect to another host ${next.host}: not sending credentials there`)
        auth = undefined
      }
      current = next
    }
  }

  /** The Authorization header for host given its last challenge; `rejected` is a header the registry just refused. */
  private async authorizationFor(t: Target, host: string, rejected: string | undefined): Promise<string | undefined> {
    const challenge = this.challenges.get(host)
    if (challenge === undefined) return undefined
    const cred = await this.credentials.get(host)
    if (challenge.scheme === 'basic') {
      if (cred.username === undefined || cred.password === undefined) return undefined
      const value = 'Basic ' + Buffer.from(`${cred.username}:${cred.password}`).toString('base64')
      redactor.add(value.slice(6))
      return value === rejected ? undefined : value
    }
    if (challenge.scheme === 'bearer') return this.bearer(t, challenge, cred, rejected)
    return undefined
  }

  private async bearer(t: Target, challenge: Challenge, cred: Credential, rejected: string | undefined): Promise<string | undefined> {
    const realm = challenge.params['realm']
    if (realm === undefined) throw this.fail('REGISTRY_PROTOCOL', t, `${t.label} sent a Bearer challenge without a realm`)
    const service = challenge.params['service'] ?? ''
    const scope = `repository:${t.path}:pull`
    const key = `${realm}|${service}|${scope}`
    const cached = this.tokens.get(key)
    if (cached !== undefined && (cached.expiresAt === undefined || cached.expiresAt > Date.now())) {
      try {
        const value = await cached.promise
        if (value !== rejected) return value
      } catch {
        // that fetch failed (and reported itself); fetch again below
      }
    }
    const entry: CachedToken = {promise: Promise.resolve('')}
    entry.promise = this.fetchToken(t, realm, service, scope, cred).then(({value, expiresInS}) => {
      entry.header = value
      entry.expiresAt = Date.now() + Math.max(1000, expiresInS * 1000 - Math.min(10_000, expiresInS * 500))
      return value
    })
    entry.promise.catch(() => {
      if (this.tokens.get(key) === entry) this.tokens.delete(key)
    })
    this.tokens.set(key, entry)
    return entry.promise
  }

  private async fetchToken(t: Target, realm: string, service: string, scope: string, cred: Credential): Promise<{value: string; expiresInS: number}> {
    let url: URL
    try {
      url = new URL(realm)
    } catch {
      throw this.fail('REGISTRY_PROTOCOL', t, `${t.label} sent a Bearer challenge with an invalid realm`)
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw this.fail('REGISTRY_PROTOCOL', t, `${t.label} sent a Bearer realm with scheme ${url.protocol}`)
    const headers: Record<string, string> = {'User-Agent': UA, Accept: 'application/json'}
    let method = 'GET'
    let body: string | undefined
    if (cred.identityToken !== undefined) {
      method = 'POST'
      headers['Content-Type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams({grant_type: 'refresh_token', refresh_token: cred.identityToken, service, scope, client_id: 'safe-deploy'}).toString()
    } else {
      if (service !== '') url.searchParams.set('service', service)
      url.searchParams.append('scope', scope)
      if (cred.username !== undefined && cred.password !== undefined) {
        headers['Authorization'] = 'Basic ' + Buffer.from(`${cred.username}:${cred.password}`).toString('base64')
      }
    }
    this.debug(`token request to ${url.origin}${url.pathname} for ${scope} (credentials: ${cred.source})`)
    const outcome = await this.retried(
      'token ',
      (r) => parseRetryAfter(header(r, 'retry-after')),
      () => this.transport.send(url, method, headers, body),
    )
    if ('error' in outcome) throw this.transportFailure(outcome.error, t, url, outcome.attempts)
    const res = outcome.res
    if (res.status === 401 || res.status === 403) {
      throw this.fail(
        'REGISTRY_AUTH',
        t,
        `the token service ${url.host} for ${t.label} rejected the credentials (HTTP ${res.status}; credentials tried: ${cred.source})`,
        {
          hint: AUTH_HINT.replace('HOST', t.host),
        },
      )
    }
    if (res.status !== 200) {
      const code: ErrorCode = res.status === 429 ? 'REGISTRY_RATE_LIMITED' : res.status >= 500 ? 'REGISTRY_UNAVAILABLE' : 'REGISTRY_PROTOCOL'
      throw this.fail(code, t, `the token service ${url.host} for ${t.label} answered HTTP ${res.status}`)
    }
    let parsed: Record<string, unknown>
    try {
      parsed = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>
    } catch {
      throw this.fail('REGISTRY_PROTOCOL', t, `the token service ${url.host} for ${t.label} answered with something that is not JSON`)
    }
    const token = typeof parsed['token'] === 'string' && parsed['token'] !== '' ? parsed['token'] : parsed['access_token']
    if (typeof token !== 'string' || token === '') throw this.fail('REGISTRY_PROTOCOL', t, `the token service ${url.host} for ${t.label} returned no token`)
    redactor.add(token)
    if (typeof parsed['refresh_token'] === 'string') redactor.add(parsed['refresh_token'])
    const expiresIn = typeof parsed['expires_in'] === 'number' && parsed['expires_in'] > 0 ? parsed['expires_in'] : 60
    return {value: `Bearer ${token}`, expiresInS: expiresIn}
  }

  // ---- error mapping ------------------------------------------------------------------------

  private async statusFailure(res: HttpResponse, t: Target, attempts: number, reference: string): Promise<SafeDeployError> {
    const what = reference.includes(':') ? `manifest ${reference}` : `tag "${reference}"`
    const detail = registryErrorDetail(res)
    const at = res.url.host === t.host ? t.label : `${res.url.host} (redirected from ${t.label})`
    switch (true) {
      case res.status === 401 || res.status === 403: {
        const cred = res.url.host === t.host ? await this.credentials.get(t.host).catch(() => ANONYMOUS) : ANONYMOUS
        return this.fail(
          'REGISTRY_AUTH',
          t,
          `${at} denied access to ${t.path} (HTTP ${res.status}${detail.code === undefined ? '' : ' ' + detail.code}; credentials tried: ${cred.source})`,
          {
            hint: AUTH_HINT.replace('HOST', res.url.host) + (cred === ANONYMOUS ? '; a repository that does not exist can also look like this' : ''),
          },
        )
      }
      case res.status === 404:
        if (detail.code === 'NAME_UNKNOWN') {
          return this.fail('REGISTRY_NOT_FOUND', t, `repository ${t.path} not found at ${at}`, {hint: 'check the repository name and the registry host'})
        }
        return this.fail('REGISTRY_NOT_FOUND', t, `${what} not found in ${t.path} at ${at}`, {hint: 'check the tag (and that it was pushed to this registry)'})
      case res.status === 429:
        return this.fail('REGISTRY_RATE_LIMITED', t, `${at} is rate limiting requests (HTTP 429 after ${attempts} attempts)`, {
          hint: 'wait and retry, authenticate to get a higher limit, or use --concurrency to send fewer requests at once',
          host: res.url.host,
        })
      case res.status >= 500:
        return this.fail(
          'REGISTRY_UNAVAILABLE',
          t,
          `${at} answered HTTP ${res.status} after ${attempts} attempts${detail.message === undefined ? '' : ': ' + detail.message}`,
          {
            hint: 'the registry is failing; retry later',
            host: res.url.host,
          },
        )
      default:
        return this.fail(
          'REGISTRY_PROTOCOL',
          t,
          `${at} answered HTTP ${res.status} for ${t.path}:${reference}${detail.message === undefined ? '' : ': ' + detail.message}`,
        )
    }
  }

  private transportFailure(err: TransportError, t: Target, url: URL, attempts: number): SafeDeployError {
    const host = url.host
    const tries = attempts > 1 ? ` after ${attempts} attempts` : ''
    const fail = (code: ErrorCode, message: string, options: {hint?: string} = {}): SafeDeployError =>
      this.fail(code, t, message, {...options, cause: err, host})
    switch (err.kind) {
      case 'tls':
        if (answeredPlainHttp(err)) {
          return fail('REGISTRY_TLS', `${host === t.host ? t.label : host} answered plain HTTP to a TLS request`, {
            hint: `pass --insecure-registry ${host} if it is meant to serve plain HTTP (or point to its HTTPS port)`,
          })
        }
        return fail('REGISTRY_TLS', `TLS connection to ${host} failed: ${tlsDetail(err)}`, {hint: TLS_HINT})
      case 'timeout':
        return fail('REGISTRY_TIMEOUT', `${host} did not answer within ${this.timeoutMs} ms${tries}`, {
          hint: 'check connectivity to the registry, or raise --registry-timeout',
        })
      case 'dns':
        return fail('REGISTRY_NETWORK', `cannot resolve the registry host name ${url.hostname} (${err.code ?? 'DNS error'})`, {
          hint: 'check the registry name in the image reference, and DNS / proxy settings',
        })
      case 'refused':
        return fail('REGISTRY_NETWORK', `connection to ${host} refused (ECONNREFUSED)`, {
          hint: 'is the registry running and reachable on that port?',
        })
      case 'reset':
      case 'truncated':
        return fail('REGISTRY_NETWORK', `connection to ${host} was reset${tries}: ${err.message}`, {
          hint: 'retry; a proxy or firewall may be interrupting connections',
        })
      case 'network':
        return fail('REGISTRY_NETWORK', `network error talking to ${host}${tries}: ${err.message}`)
    }
  }
}

/**
 * A TLS handshake answered in plain text: OpenSSL reads the "HTTP/1.1 400" of a plain-HTTP server as
 * a TLS record header ("wrong version number", or "packet length too long" / "http request").
 */
function answeredPlainHttp(err: TransportError): boolean {
  return /wrong version number|packet length too long|http request/i.test(err.message)
}

/** The readable part of an OpenSSL message ("wrong version number"), without its thread id and source path. */
function tlsDetail(err: TransportError): string {
  const ssl = /SSL routines:(?:[^:]*:)?([^:]+)/.exec(err.message)?.[1]
  const text = ssl ?? err.message.trim()
  return `${text}${err.code === undefined ? '' : ` (${err.code})`}`
}

/** A 429 / 5xx answer, thrown inside the retry policy so that it is retried like a failure. */
class RetryableStatus extends Error {
  constructor(readonly res: HttpResponse) {
    super(`HTTP ${res.status}`)
  }
}

function pickChallenge(value: string | undefined): Challenge | undefined {
  const all = parseChallenges(value)
  return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic')
}

/** The first `errors[]` entry of a distribution error body (GET responses; HEAD has none). */
function registryErrorDetail(res: HttpResponse): {code?: string; message?: string} {
  if (res.body.length === 0) return {}
  try {
    const parsed = JSON.parse(res.body.toString('utf8')) as {errors?: Array<{code?: unknown; message?: unknown}>}
    const first = parsed.errors?.[0]
    const out: {code?: string; message?: string} = {}
    if (typeof first?.code === 'string') out.code = first.code
    if (typeof first?.message === 'string') out.message = first.message.slice(0, 200)
    return out
  } catch {
    return {}
  }
}
