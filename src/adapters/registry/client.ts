/**
 * RegistryClient: the one HTTP mechanism of the registry adapter, shared by RegistryResolver (pinning),
 * RegistrySignatureSource (reading cosign signatures) and RegistrySignatureWriter (pushing them), so that
 * all three authenticate, retry, bound concurrency and report failures the same way.
 *
 * Auth: Bearer (token per realm/service/scope, cached; `pull` or `pull,push`) or Basic from the docker
 * config, credential helpers or Google ADC. Retries (adapters/retry.ts: exponential backoff with full
 * jitter) on 429 (Retry-After honoured), 5xx, resets and timeouts. Redirects followed (credentials
 * dropped on another host). Failures become SafeDeployError REGISTRY_* with redacted messages.
 * `limit` is the p-limit limiter every top-level lookup of every user of this client runs under.
 */
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import pLimit, {type LimitFunction} from 'p-limit'
import {SafeDeployError, type ErrorCode, type SafeDeployErrorOptions} from '../../core/errors.js'
import {redact, redactor} from '../../core/redact.js'
import {parseRetryAfter, RetriesExhausted, retry} from '../retry.js'
import {parseChallenges, type Challenge} from './auth.js'
import {ANONYMOUS, CredentialStore, googleAdcAccessToken, type Credential} from './credentials.js'
import {classify, Transport, TransportError, type HttpResponse} from './transport.js'

export interface RegistryClientOptions {
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
  /**
   * Offer HTTP/2 to TLS registries (ALPN h2): `concurrency` streams on one connection per host instead of
   * `concurrency` connections; HTTP/1.1 where the registry does not select h2. Default true.
   */
  http2?: boolean
  /** FROM domain → its mirror: FROM's references are resolved through the mirror (results keep the image as written). */
  mirrors?: ReadonlyMap<string, RegistryMirror>
  /** Default $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
  dockerConfigPath?: string
  /** Environment for DOCKER_CONFIG/HOME and credential helpers (their PATH). Default process.env. */
  env?: NodeJS.ProcessEnv
  /**
   * Receives diagnostic lines, one per request among others. They may name what the redactor hides, so the sink
   * redacts at output, as the CLI's does (BaseCommand.debugLog: one redactor for every output, and no work at all
   * without --debug).
   */
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
export interface Target {
  image: string
  domain: string
  path: string
  reference: string
  /** API host contacted (after mirror mapping; docker.io → registry-1.docker.io). */
  host: string
  scheme: 'http' | 'https'
  /** The registry as named in messages: "host" or "host (mirror of docker.io)". */
  label: string
  /** What failed, the start of every message: "cannot resolve IMAGE", "cannot read REPO:sha256-….sig". */
  context: string
}

/** Token scope: lookups need `pull`; the signature writer needs `pull,push` (`repository:<path>:pull,push`). */
export type Scope = 'pull' | 'pull,push'

export interface ExchangeOptions {
  /** Request body (blob uploads, manifest PUTs), re-sent as is on a retry. */
  body?: Buffer
  contentType?: string
  /** Default 'pull'. */
  scope?: Scope
  /** Abort the response body once it is over this many bytes (TransportError 'too_large'). */
  maxBytes?: number
}

export interface Exchange {
  res: HttpResponse
  attempts: number
}

interface CachedToken {
  promise: Promise<string>
  header?: string
  expiresAt?: number
  /** Fetched for several repository scopes at once (announce). */
  shared?: boolean
}

/** Repository scopes asked for in one token request at most (a URL of a few KiB; registries cap scopes per token too). */
export const MAX_SCOPES_PER_TOKEN = 20

/** Docker Hub's names as a reference's domain: its API host is registry-1.docker.io, go-containerregistry names it index.docker.io. */
export const isDockerHubDomain = (domain: string): boolean => domain === 'docker.io' || domain === 'index.docker.io'

const UA = 'safe-deploy (+https://github.com/safe-deploy)'
const RETRY_STATUS = new Set([429, 500, 502, 503, 504])
/** Transport failures worth another attempt; refused connections, DNS, TLS errors and size limits are not. */
const RETRY_KINDS: ReadonlySet<string> = new Set(['timeout', 'reset', 'truncated'])
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 3
const TLS_HINT = 'if the registry uses a private CA, pass --registry-ca-cert FILE; if it serves plain HTTP, pass --insecure-registry HOST[:PORT]'
const AUTH_HINT =
  'log in with `docker login HOST` (or add a credHelpers entry to the docker config); for gcr.io / *.pkg.dev run `gcloud auth application-default login`'

export const sha256 = (b: Buffer | Uint8Array): string => 'sha256:' + createHash('sha256').update(b).digest('hex')
export const header = (res: HttpResponse, name: string): string | undefined => {
  const v = res.headers[name]
  return Array.isArray(v) ? v[0] : v
}
/** "4 MiB", "512 KiB", "100 bytes": size limits as messages state them. */
export const formatBytes = (n: number): string =>
  n >= 1024 * 1024 && n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`

export class RegistryClient {
  readonly concurrency: number
  /** At most `concurrency` lookups in flight for everything built on this client. */
  readonly limit: LimitFunction
  readonly timeoutMs: number
  private readonly attempts: number
  private readonly insecure: string[]
  private readonly mirrors: ReadonlyMap<string, RegistryMirror>
  private readonly sleep: (ms: number) => Promise<void>
  private readonly debugSink: ((line: string) => void) | undefined
  private readonly transport: Transport
  private readonly credentials: CredentialStore
  /** host → the last auth challenge seen (so later requests authenticate up front). */
  private readonly challenges = new Map<string, Challenge>()
  /**
   * Hosts that answered a referrers request as a registry without the API (distribution 2.8 and the like):
   * later lookups go straight to the fallback tag, one request per image fewer.
   */
  readonly withoutReferrersApi = new Set<string>()
  /** realm|service|scope → token. */
  private readonly tokens = new Map<string, CachedToken>()
  /** host → repository paths that lookups will pull from (announce): one token request can cover several of them. */
  private readonly announced = new Map<string, Set<string>>()
  /** Hosts whose token service failed a request for several scopes, or whose shared token the registry refused: one scope per request there. */
  private readonly oneScopePerToken = new Set<string>()
  /** Authorization headers of shared tokens, to tell a refusal of one apart from any other 401. */
  private readonly sharedTokens = new Set<string>()

  constructor(options: RegistryClientOptions = {}) {
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
    this.transport = new Transport({
      maxSockets: this.concurrency,
      timeoutMs: this.timeoutMs,
      ...(extraCa === undefined ? {} : {extraCa}),
      ...(options.http2 === undefined ? {} : {http2: options.http2}),
    })
    this.credentials = new CredentialStore({
      ...(options.dockerConfigPath === undefined ? {} : {dockerConfigPath: options.dockerConfigPath}),
      env: options.env ?? process.env,
      googleAccessToken: options.googleAccessToken ?? googleAdcAccessToken,
      debug: (line) => this.debug(line),
    })
  }

  /** Close idle keep-alive sockets (the process can exit without it; tests call it). */
  close(): void {
    this.transport.close()
  }

  debug(line: string): void {
    if (this.debugSink !== undefined) this.debugSink(`registry: ${line}`)
  }

  /** `host`: the failure is the host's (the one contacted), not this image's: images failing alike are reported once. */
  fail(code: ErrorCode, t: Target, message: string, options: {hint?: string; cause?: unknown; host?: string} = {}): SafeDeployError {
    const opts: SafeDeployErrorOptions = {location: {image: t.image}}
    if (options.hint !== undefined) opts.hint = redact(options.hint)
    if (options.cause !== undefined) opts.cause = options.cause
    if (options.host !== undefined) opts.remote = {host: options.host, reason: redact(message)}
    return new SafeDeployError(code, redact(`${t.context}: ${message}`), opts)
  }

  private isInsecure(host: string): boolean {
    const name = host.replace(/:\d+$/, '')
    return this.insecure.some((h) => h === host || (!/:\d+$/.test(h) && h === name))
  }

  /**
   * Where a request for `domain/path` goes: mirror mapping, docker.io's API host, http for insecure
   * registries. `mirrors: false` for writes: a mirror serves reads, signatures are pushed to the origin.
   */
  target(r: {image: string; domain: string; path: string; reference: string}, context: string, options: {mirrors?: boolean} = {}): Target {
    const mirror = options.mirrors === false ? undefined : this.mirrors.get(r.domain)?.host
    const registry = mirror ?? r.domain
    const host = isDockerHubDomain(registry) ? 'registry-1.docker.io' : registry
    return {
      image: r.image,
      domain: r.domain,
      path: r.path,
      reference: r.reference,
      host,
      scheme: this.isInsecure(host) ? 'http' : 'https',
      label: mirror === undefined ? host : `${host} (mirror of ${r.domain})`,
      context,
    }
  }

  /**
   * Say which repositories lookups will pull from before they run. When a registry then asks for a
   * Bearer token, one token request names the scopes of every announced repository of that host not yet
   * covered (at most MAX_SCOPES_PER_TOKEN), as the distribution token protocol allows (several `scope`
   * parameters): pinning 30 repositories of one registry asks for 2 tokens, not 30. A token service that
   * refuses such a request, or a shared token the registry refuses for one repository, turns it off for
   * that host; requests then ask for one scope each, as before.
   */
  announce(refs: Iterable<{image: string; domain: string; path: string}>): void {
    for (const r of refs) {
      const {host} = this.target({...r, reference: ''}, '')
      let paths = this.announced.get(host)
      if (paths === undefined) this.announced.set(host, (paths = new Set()))
      paths.add(r.path)
    }
  }

  url(t: Target, kind: 'manifests' | 'blobs' | 'referrers' | 'blobs/uploads', reference: string): URL {
    return new URL(`${t.scheme}://${t.host}/v2/${t.path}/${kind}/${reference}`)
  }

  /**
   * GET a blob, reading at most `maxBytes` and checking its sha256 against `digest` (a registry or a
   * proxy serving other bytes than the descriptor names is a REGISTRY_PROTOCOL error, never data).
   */
  async getBlob(t: Target, digest: string, maxBytes: number, scope: Scope = 'pull'): Promise<Buffer> {
    const {res, attempts} = await this.exchange(t, 'GET', this.url(t, 'blobs', digest), '*/*', {maxBytes, scope})
    if (res.status !== 200) throw await this.statusFailure(res, t, attempts, digest)
    const computed = sha256(res.body)
    if (computed !== digest) {
      throw this.fail('REGISTRY_PROTOCOL', t, `${t.label} answered the blob ${t.path}@${digest} with content that hashes to ${computed}`, {
        hint: 'the registry or a proxy in between returned other content than the manifest names; report it to the registry operator',
      })
    }
    return res.body
  }

  // ---- HTTP: retries, auth, redirects -------------------------------------------------------

  /** One logical request with auth and retries. Returns the final response (any status) and the attempts used. */
  async exchange(t: Target, method: 'HEAD' | 'GET' | 'POST' | 'PUT' | 'PATCH', url: URL, accept: string, options: ExchangeOptions = {}): Promise<Exchange> {
    const scope = options.scope ?? 'pull'
    let authorization = await this.authorizationFor(t, url.host, undefined, scope)
    let challenged = false
    let alone = false
    const headers: Record<string, string> = {Accept: accept, 'User-Agent': UA}
    if (options.contentType !== undefined) headers['Content-Type'] = options.contentType
    const send = async (): Promise<HttpResponse> => {
      try {
        return await this.sendFollowingRedirects(t, url, method, headers, authorization, options)
      } catch (e) {
        if (e instanceof SafeDeployError) throw e
        throw classify(e)
      }
    }
    const outcome = await this.retried(
      '',
      (res) => (res.status === 429 || res.status === 503 ? parseRetryAfter(header(res, 'retry-after')) : undefined),
      async () => {
        let res = await send()
        // The first 401 is a challenge, answered within the same attempt: authenticating is not a retry.
        if (res.status === 401 && !challenged && res.url.host === url.host) {
          challenged = true
          const challenge = pickChallenge(header(res, 'www-authenticate'))
          if (challenge !== undefined) {
            this.challenges.set(url.host, challenge)
            this.debug(`${url.host} asks for ${challenge.scheme} auth${challenge.params['realm'] === undefined ? '' : ` (realm ${challenge.params['realm']})`}`)
            const next = await this.authorizationFor(t, url.host, authorization, scope)
            if (next !== undefined) {
              authorization = next
              res = await send()
            }
          }
        }
        // A token shared by several repositories (announce) that the registry refused for this one: ask for it alone, once.
        if (res.status === 401 && !alone && authorization !== undefined && this.sharedTokens.has(authorization)) {
          alone = true
          const next = await this.authorizationFor(t, url.host, authorization, scope)
          if (next !== undefined) {
            authorization = next
            res = await send()
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

  /**
   * Send, following up to 3 redirects; Authorization is dropped once the host (or scheme) changes.
   * A 303 turns the request into a body-less GET (RFC 9110); 307/308 repeat it with its body.
   */
  private async sendFollowingRedirects(
    t: Target,
    url: URL,
    method: string,
    headers: Record<string, string>,
    authorization: string | undefined,
    options: ExchangeOptions,
  ): Promise<HttpResponse> {
    let current = url
    let auth = authorization
    let verb = method
    let body = options.body
    let h0 = headers
    for (let hop = 0; ; hop++) {
      const h = auth === undefined ? h0 : {...h0, Authorization: auth}
      const started = Date.now()
      const res = await this.transport.send(current, verb, h, body, options.maxBytes === undefined ? {} : {maxBytes: options.maxBytes})
      if (this.debugSink !== undefined)
        this.debug(`${verb} ${current.origin}${current.pathname} -> ${res.status} (${Date.now() - started} ms${auth === undefined ? '' : ', authenticated'})`)
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
      if (res.status === 303 && verb !== 'GET' && verb !== 'HEAD') {
        verb = 'GET'
        body = undefined
        h0 = Object.fromEntries(Object.entries(h0).filter(([k]) => k !== 'Content-Type'))
      }
      current = next
    }
  }

  /** The Authorization header for host given its last challenge; `rejected` is a header the registry just refused. */
  private async authorizationFor(t: Target, host: string, rejected: string | undefined, scope: Scope): Promise<string | undefined> {
    const challenge = this.challenges.get(host)
    if (challenge === undefined) return undefined
    const cred = await this.credentials.get(host)
    if (challenge.scheme === 'basic') {
      if (cred.username === undefined || cred.password === undefined) return undefined
      const value = 'Basic ' + Buffer.from(`${cred.username}:${cred.password}`).toString('base64')
      redactor.add(value.slice(6))
      return value === rejected ? undefined : value
    }
    if (challenge.scheme === 'bearer') return this.bearer(t, challenge, cred, rejected, scope)
    return undefined
  }

  private async bearer(t: Target, challenge: Challenge, cred: Credential, rejected: string | undefined, actions: Scope): Promise<string | undefined> {
    const realm = challenge.params['realm']
    if (realm === undefined) throw this.fail('REGISTRY_PROTOCOL', t, `${t.label} sent a Bearer challenge without a realm`)
    const service = challenge.params['service'] ?? ''
    const scope = `repository:${t.path}:${actions}`
    const keyOf = (s: string): string => `${realm}|${service}|${s}`
    const cached = this.tokens.get(keyOf(scope))
    if (cached !== undefined && (cached.expiresAt === undefined || cached.expiresAt > Date.now())) {
      try {
        const value = await cached.promise
        if (value !== rejected) return value
      } catch {
        // that fetch failed (and reported itself); fetch again below
      }
      // A shared token that failed or was refused here: this host gets one scope per token request from now on.
      if (cached.shared === true) this.oneScopePerToken.add(t.host)
    }
    const scopes = [scope, ...this.sharedScopes(t, cred, actions, (s) => this.tokens.has(keyOf(s)))]
    const entry: CachedToken = {promise: Promise.resolve(''), shared: scopes.length > 1}
    entry.promise = this.fetchToken(t, realm, service, scopes, cred).then(({value, expiresInS}) => {
      entry.header = value
      if (entry.shared === true) this.sharedTokens.add(value)
      entry.expiresAt = Date.now() + Math.max(1000, expiresInS * 1000 - Math.min(10_000, expiresInS * 500))
      return value
    })
    entry.promise.catch(() => {
      for (const s of scopes) if (this.tokens.get(keyOf(s)) === entry) this.tokens.delete(keyOf(s))
    })
    for (const s of scopes) this.tokens.set(keyOf(s), entry)
    if (entry.shared !== true) return entry.promise
    try {
      return await entry.promise
    } catch {
      this.oneScopePerToken.add(t.host)
      return this.bearer(t, challenge, cred, rejected, actions)
    }
  }

  /** The other announced repositories of t's host whose pull scope has no token yet, for one shared token request. */
  private sharedScopes(t: Target, cred: Credential, actions: Scope, requested: (scope: string) => boolean): string[] {
    // Pull only (pushes name one repository); a refresh-token grant is one form post with one scope.
    if (actions !== 'pull' || cred.identityToken !== undefined || this.oneScopePerToken.has(t.host)) return []
    const out: string[] = []
    for (const path of this.announced.get(t.host) ?? []) {
      if (out.length >= MAX_SCOPES_PER_TOKEN - 1) break
      const s = `repository:${path}:pull`
      if (path !== t.path && !requested(s)) out.push(s)
    }
    return out
  }

  private async fetchToken(
    t: Target,
    realm: string,
    service: string,
    scopes: readonly string[],
    cred: Credential,
  ): Promise<{value: string; expiresInS: number}> {
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
      body = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: cred.identityToken,
        service,
        scope: scopes.join(' '),
        client_id: 'safe-deploy',
      }).toString()
    } else {
      if (service !== '') url.searchParams.set('service', service)
      for (const scope of scopes) url.searchParams.append('scope', scope)
      if (cred.username !== undefined && cred.password !== undefined) {
        headers['Authorization'] = 'Basic ' + Buffer.from(`${cred.username}:${cred.password}`).toString('base64')
      }
    }
    this.debug(`token request to ${url.origin}${url.pathname} for ${scopes.join(' ')} (credentials: ${cred.source})`)
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

  /** `reference`: a tag, or a digest (manifest or blob), as the message names it. */
  async statusFailure(res: HttpResponse, t: Target, attempts: number, reference: string): Promise<SafeDeployError> {
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

  transportFailure(err: TransportError, t: Target, url: URL, attempts: number): SafeDeployError {
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
      case 'too_large':
        // Not a network fault: a registry (or something pretending to be one) sending more than any
        // signature manifest or bundle needs. Read no further, and do not retry.
        return this.fail(
          'REGISTRY_PROTOCOL',
          t,
          `the ${/\/blobs\//.test(url.pathname) ? 'blob' : 'manifest'} at ${host}${url.pathname} was refused: over ${formatBytes(err.limit ?? 0)}`,
          {cause: err},
        )
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
export function registryErrorDetail(res: HttpResponse): {code?: string; message?: string} {
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
