/**
 * HTTP transport: HTTP/2 where a TLS registry selects it (ALPN), otherwise node:http / node:https with
 * one keep-alive agent per registry host (measured faster than fetch on these machines); a per-request
 * timeout; network errors classified into a small closed set the resolver maps to error codes.
 * Why each choice, with the figures: docs/testing.md#registry-timing.
 */
import type http from 'node:http'
import type http2 from 'node:http2'
import type tls from 'node:tls'

// node:http, node:https, node:http2 and node:tls as Node's own objects, taken when they are used: importing them as
// ES modules reads every export, which loads Node's fetch (undici) and the root certificates on every command,
// network or not (docs/architecture.md#start-up).
const builtin = {
  http: () => process.getBuiltinModule('node:http'),
  https: () => process.getBuiltinModule('node:https'),
  http2: () => process.getBuiltinModule('node:http2'),
  tls: () => process.getBuiltinModule('node:tls'),
  net: () => process.getBuiltinModule('node:net'),
}

/** `too_large`: the body went over the caller's maxBytes (the response was destroyed, not read to its end). */
export type TransportErrorKind = 'timeout' | 'reset' | 'tls' | 'dns' | 'refused' | 'truncated' | 'too_large' | 'network'

export class TransportError extends Error {
  override readonly name = 'TransportError'
  readonly kind: TransportErrorKind
  /** The Node error code (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT, …), when there is one. */
  readonly code: string | undefined
  /** `too_large`: the byte limit that was exceeded. */
  readonly limit: number | undefined

  constructor(kind: TransportErrorKind, message: string, code?: string, limit?: number) {
    super(message)
    this.kind = kind
    this.code = code
    this.limit = limit
  }
}

export interface HttpResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  /** The URL that produced this response. */
  url: URL
}

export interface TransportOptions {
  /** Requests in flight per registry host: keep-alive sockets over HTTP/1.1, streams on the one HTTP/2 session. */
  maxSockets: number
  timeoutMs: number
  /** Extra CA certificates (PEM), added to Node's default trust store. */
  extraCa?: string
  /** Offer HTTP/2 to TLS registries (ALPN h2, falling back to HTTP/1.1 when the registry does not select it). Default true. */
  http2?: boolean
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
  'HOSTNAME_MISMATCH',
])

/** Map a Node socket/TLS error to a TransportError. */
export function classify(err: unknown): TransportError {
  if (err instanceof TransportError) return err
  const e = err as NodeJS.ErrnoException
  const code = typeof e?.code === 'string' ? e.code : undefined
  const message = e instanceof Error ? e.message : String(err)
  if (code !== undefined && (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('CERT_'))) {
    return new TransportError('tls', message, code)
  }
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new TransportError('dns', message, code)
    case 'ECONNREFUSED':
      return new TransportError('refused', message, code)
    // The ERR_HTTP2_ codes: a stream reset by the registry (RST_STREAM), a session it closed (GOAWAY) or
    // that failed; the request was not answered, and another attempt (on a new session) may well be.
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
    case 'UND_ERR_SOCKET':
    case 'ERR_HTTP2_STREAM_ERROR':
    case 'ERR_HTTP2_STREAM_CANCEL':
    case 'ERR_HTTP2_GOAWAY_SESSION':
    case 'ERR_HTTP2_SESSION_ERROR':
    case 'ERR_HTTP2_INVALID_SESSION':
    case 'ERR_HTTP2_ERROR':
      return new TransportError('reset', message, code)
    case 'ETIMEDOUT':
      return new TransportError('timeout', message, code)
    default:
      if (/socket hang up/i.test(message)) return new TransportError('reset', message, code)
      return new TransportError('network', message, code)
  }
}

/** Headers HTTP/2 forbids on a request (RFC 9113, section 8.2.2); never put on a stream. */
const H2_FORBIDDEN: ReadonlySet<string> = new Set(['connection', 'host', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'])

/** The one HTTP/2 session to a registry host, and the requests waiting for a stream on it. */
interface H2Session {
  session: http2.ClientHttp2Session
  /** Streams open (or handed to a waiter) now. */
  active: number
  waiters: Array<() => void>
  /** Closed, failed or told to go away (GOAWAY): new requests negotiate a new session. */
  dead: boolean
  /** performance.now() of the last frame answered on it (a session silent through a whole timeout is dropped). */
  lastHeard: number
}

export class Transport {
  private readonly timeoutMs: number
  private readonly maxPerHost: number
  private readonly offerHttp2: boolean
  /**
   * Built once from the roots plus the private CA. Handing agents a `ca` list instead made Node join every
   * root certificate into the pool key of each request (about 200 KB of string per request, most of the
   * client's CPU: docs/testing.md#registry-timing) and build a new context for each socket.
   */
  private readonly secureContext: tls.SecureContext | undefined
  /** origin → its keep-alive agent (HTTP/1.1 over TLS, and plain HTTP). */
  private readonly agents = new Map<string, http.Agent>()
  /** https origin → its HTTP/2 session, undefined when it did not select h2 (HTTP/1.1 then), or the negotiation under way. */
  private readonly sessions = new Map<string, Promise<H2Session | undefined>>()
  /** https origin → the last TLS session ticket, so a new HTTP/2 connection (after a GOAWAY) resumes instead of a full handshake. */
  private readonly tlsSessions = new Map<string, Buffer>()

  constructor(options: TransportOptions) {
    this.timeoutMs = options.timeoutMs
    this.maxPerHost = Math.max(1, options.maxSockets)
    this.offerHttp2 = options.http2 ?? true
    this.secureContext =
      options.extraCa === undefined ? undefined : builtin.tls().createSecureContext({ca: [...builtin.tls().rootCertificates, options.extraCa]})
  }

  /**
   * One HTTP exchange, no redirects followed. Rejects with TransportError only. With `maxBytes`, a body
   * declared or found to be larger is not read further: the response is destroyed and the call rejects
   * with 'too_large' (a 50 MB "signature manifest" costs at most maxBytes of memory). The timeout covers
   * everything: connecting, negotiating, waiting for a stream, headers and body.
   */
  async send(url: URL, method: string, headers: Record<string, string>, body?: string | Buffer, options: {maxBytes?: number} = {}): Promise<HttpResponse> {
    const deadline = performance.now() + this.timeoutMs
    if (url.protocol !== 'https:' || !this.offerHttp2) return this.send1(url, method, headers, body, options.maxBytes, deadline)
    const session = await this.sessionFor(url, deadline)
    if (session === undefined) return this.send1(url, method, headers, body, options.maxBytes, deadline)
    return this.send2(session, url, method, headers, body, options.maxBytes, deadline)
  }

  private timeoutError(): TransportError {
    return new TransportError('timeout', `no complete response within ${this.timeoutMs} ms`, 'ETIMEDOUT')
  }

  /** HTTP/1.1 (or plain HTTP) through the host's keep-alive agent. */
  private send1(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | Buffer | undefined,
    maxBytes: number | undefined,
    deadline: number,
  ): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const isHttps = url.protocol === 'https:'
      const mod = isHttps ? builtin.https() : builtin.http()
      let settled = false
      const done = (err: TransportError | undefined, res?: HttpResponse): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (err !== undefined) reject(err)
        else if (res !== undefined) resolve(res)
      }
      const h: Record<string, string | number> = {...headers}
      if (body !== undefined) h['Content-Length'] = Buffer.byteLength(body)
      const tooLarge = (): void => {
        done(new TransportError('too_large', `response body over ${maxBytes} bytes`, undefined, maxBytes))
        req.destroy()
      }
      const req = mod.request(url, {method, headers: h, agent: this.agentFor(url)}, (res) => {
        const chunks: Buffer[] = []
        let received = 0
        const declaredLength = res.headers['content-length']
        if (maxBytes !== undefined && method !== 'HEAD' && declaredLength !== undefined && /^\d+$/.test(declaredLength) && Number(declaredLength) > maxBytes) {
          tooLarge()
          return
        }
        res.on('data', (c: Buffer) => {
          received += c.length
          if (maxBytes !== undefined && received > maxBytes) {
            tooLarge()
            return
          }
          chunks.push(c)
        })
        res.on('error', (e) => done(new TransportError('truncated', `response body interrupted: ${e.message}`, 'ECONNRESET')))
        res.on('close', () => {
          if (!res.complete && !settled) done(new TransportError('truncated', 'response body interrupted (connection closed early)', 'ECONNRESET'))
        })
        res.on('end', () => {
          const out = finish(url, method, res.statusCode ?? 0, res.headers, chunks)
          if (out instanceof TransportError) done(out)
          else done(undefined, out)
        })
      })
      const timer = setTimeout(
        () => {
          const err = this.timeoutError()
          done(err)
          req.destroy(err)
        },
        Math.max(0, deadline - performance.now()),
      )
      req.on('error', (e) => done(classify(e)))
      req.end(body)
    })
  }

  /** One keep-alive agent per registry host, at most maxSockets sockets to it. */
  private agentFor(url: URL): http.Agent {
    let agent = this.agents.get(url.origin)
    if (agent === undefined) {
      agent =
        url.protocol === 'https:'
          ? new (builtin.https().Agent)({
              keepAlive: true,
              maxSockets: this.maxPerHost,
              ...(this.secureContext === undefined ? {} : {secureContext: this.secureContext}),
            })
          : new (builtin.http().Agent)({keepAlive: true, maxSockets: this.maxPerHost})
      this.agents.set(url.origin, agent)
    }
    return agent
  }

  /** The host's live HTTP/2 session, undefined for HTTP/1.1; negotiates (once for all waiting requests) when there is none. */
  private async sessionFor(url: URL, deadline: number): Promise<H2Session | undefined> {
    for (let tries = 0; ; tries++) {
      const pending = this.sessions.get(url.origin) ?? this.negotiate(url)
      const session = await beforeDeadline(pending, deadline, () => this.timeoutError())
      if (session === undefined || !session.dead || tries > 0) return session
      if (this.sessions.get(url.origin) === pending) this.sessions.delete(url.origin)
    }
  }

  /**
   * Connect with TLS offering h2 and http/1.1 (ALPN). h2 selected: that connection becomes the host's one
   * HTTP/2 session. Anything else: remembered, the connection is closed and the host is spoken to over
   * HTTP/1.1 from then on (one extra handshake per host and run).
   */
  private negotiate(url: URL): Promise<H2Session | undefined> {
    const origin = url.origin
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    const pending = new Promise<H2Session | undefined>((resolve, reject) => {
      const resumable = this.tlsSessions.get(origin)
      const socket = builtin.tls().connect({
        host,
        port: url.port === '' ? 443 : Number(url.port),
        ...(builtin.net().isIP(host) === 0 ? {servername: host} : {}),
        ALPNProtocols: ['h2', 'http/1.1'],
        ...(this.secureContext === undefined ? {} : {secureContext: this.secureContext}),
        ...(resumable === undefined ? {} : {session: resumable}),
      })
      socket.setNoDelay(true)
      socket.on('session', (ticket: Buffer) => this.tlsSessions.set(origin, ticket))
      const fail = (e: unknown): void => {
        socket.destroy()
        reject(classify(e))
      }
      socket.once('error', fail)
      // Ends a negotiation nobody hears back from (the callers' own deadlines have passed by then).
      socket.setTimeout(this.timeoutMs, () => fail(this.timeoutError()))
      socket.once('secureConnect', () => {
        socket.setTimeout(0)
        socket.removeListener('error', fail)
        if (socket.alpnProtocol !== 'h2') {
          socket.destroy()
          resolve(undefined)
          return
        }
        resolve(this.openSession(origin, socket))
      })
    })
    this.sessions.set(origin, pending)
    pending.catch(() => {
      if (this.sessions.get(origin) === pending) this.sessions.delete(origin)
    })
    return pending
  }

  private openSession(origin: string, socket: tls.TLSSocket): H2Session {
    const session = builtin.http2().connect(origin, {createConnection: () => socket})
    const s: H2Session = {session, active: 0, waiters: [], dead: false, lastHeard: performance.now()}
    const end = (): void => {
      s.dead = true
      // Waiters go ahead and fail on the closed session (a reset, retried on a new one).
      for (const wake of s.waiters.splice(0)) {
        s.active++
        wake()
      }
    }
    // Each stream reports its own failure; the session's only marks it unusable for new requests.
    session.on('error', end)
    session.on('goaway', () => {
      s.dead = true
    })
    session.on('close', end)
    // Like a free keep-alive socket: an idle session does not keep the process alive (a request's timer does).
    session.unref()
    return s
  }

  /** A stream slot: at most maxPerHost (and the registry's SETTINGS_MAX_CONCURRENT_STREAMS) open at once. */
  private slot(s: H2Session): Promise<void> {
    const limit = Math.min(this.maxPerHost, s.session.remoteSettings?.maxConcurrentStreams ?? Infinity)
    if (s.active < limit) {
      s.active++
      return Promise.resolve()
    }
    return new Promise((resolve) => s.waiters.push(resolve))
  }

  private release(s: H2Session): void {
    const next = s.waiters.shift()
    if (next !== undefined) next()
    else s.active--
  }

  /** One request as a stream of the host's HTTP/2 session; the same checks and failures as over HTTP/1.1. */
  private send2(
    s: H2Session,
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | Buffer | undefined,
    maxBytes: number | undefined,
    deadline: number,
  ): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      let settled = false
      let stream: http2.ClientHttp2Stream | undefined
      let sentAt = Infinity
      const done = (err: TransportError | undefined, res?: HttpResponse): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (err !== undefined) {
          if (stream !== undefined && !stream.closed) stream.close(builtin.http2().constants.NGHTTP2_CANCEL)
          reject(err)
        } else if (res !== undefined) resolve(res)
      }
      const timer = setTimeout(
        () => {
          // Nothing heard on the session since this request went out: the connection is dead (a silent
          // peer), not just this request slow. Drop it, so that the retry negotiates a new one.
          if (s.lastHeard < sentAt && !s.dead) {
            s.dead = true
            s.session.destroy()
          }
          done(this.timeoutError())
        },
        Math.max(0, deadline - performance.now()),
      )
      void this.slot(s).then(() => {
        if (settled) {
          this.release(s)
          return
        }
        const h: http2.OutgoingHttpHeaders = {':method': method, ':path': url.pathname + url.search}
        for (const [k, v] of Object.entries(headers)) {
          const name = k.toLowerCase()
          if (!H2_FORBIDDEN.has(name)) h[name] = v
        }
        if (body !== undefined) h['content-length'] = Buffer.byteLength(body)
        let st: http2.ClientHttp2Stream
        try {
          st = s.session.request(h, {endStream: body === undefined})
        } catch (e) {
          // The session closed (or went away) between negotiation and this request.
          s.dead = true
          this.release(s)
          done(classify(e))
          return
        }
        stream = st
        sentAt = performance.now()
        let status = 0
        let resHeaders: http.IncomingHttpHeaders | undefined
        const chunks: Buffer[] = []
        let received = 0
        const tooLarge = (): void => done(new TransportError('too_large', `response body over ${maxBytes} bytes`, undefined, maxBytes))
        st.on('response', (hs) => {
          s.lastHeard = performance.now()
          status = Number(hs[':status'] ?? 0)
          const out: http.IncomingHttpHeaders = {}
          for (const [k, v] of Object.entries(hs)) if (!k.startsWith(':')) out[k] = v as string | string[]
          resHeaders = out
          const declared = out['content-length']
          if (maxBytes !== undefined && method !== 'HEAD' && declared !== undefined && /^\d+$/.test(declared) && Number(declared) > maxBytes) tooLarge()
        })
        st.on('data', (c: Buffer) => {
          s.lastHeard = performance.now()
          received += c.length
          if (maxBytes !== undefined && received > maxBytes) {
            tooLarge()
            return
          }
          chunks.push(c)
        })
        st.on('end', () => {
          if (resHeaders === undefined) done(new TransportError('reset', `${url.host} ended the HTTP/2 stream without a response`, 'ERR_HTTP2_STREAM_ERROR'))
          else {
            const out = finish(url, method, status, resHeaders, chunks)
            if (out instanceof TransportError) done(out)
            else done(undefined, out)
          }
        })
        st.on('error', (e) => {
          if (resHeaders === undefined) done(classify(e))
          else done(new TransportError('truncated', `response body interrupted: ${e.message}`, 'ECONNRESET'))
        })
        st.on('close', () => {
          this.release(s)
          // Every stream closes, most after their answer: build no error (and its stack) for those.
          if (settled) return
          if (resHeaders === undefined)
            done(
              new TransportError(
                'reset',
                `${url.host} closed the HTTP/2 stream before a response (error code ${st.rstCode ?? 'none'})`,
                'ERR_HTTP2_STREAM_ERROR',
              ),
            )
          else done(new TransportError('truncated', 'response body interrupted (HTTP/2 stream closed early)', 'ECONNRESET'))
        })
        if (body !== undefined) st.end(body)
      })
    })
  }

  /** Close idle keep-alive sockets and HTTP/2 sessions. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy()
    this.agents.clear()
    for (const pending of this.sessions.values()) {
      pending.then(
        (s) => s?.session.destroy(),
        () => undefined,
      )
    }
    this.sessions.clear()
  }
}

/** The response as the client takes it, or a 'truncated' failure when the body is not the length the headers declared. */
function finish(url: URL, method: string, status: number, headers: http.IncomingHttpHeaders, chunks: Buffer[]): HttpResponse | TransportError {
  const data = Buffer.concat(chunks)
  const declared = headers['content-length']
  if (method !== 'HEAD' && declared !== undefined && /^\d+$/.test(declared) && Number(declared) !== data.length) {
    return new TransportError('truncated', `response body has ${data.length} bytes, Content-Length said ${declared}`)
  }
  return {status, headers, body: data, url}
}

/** `pending`, or the timeout error once the deadline has passed (the pending work goes on for others). */
function beforeDeadline<T>(pending: Promise<T>, deadline: number, timeout: () => TransportError): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(timeout()), Math.max(0, deadline - performance.now()))
    pending.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (e: unknown) => {
        clearTimeout(timer)
        reject(e instanceof TransportError ? e : classify(e))
      },
    )
  })
}
