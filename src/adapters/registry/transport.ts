/**
 * HTTP transport: node:http / node:https with keep-alive agents (measured faster than fetch on
 * these machines, docs/testing.md#registry-timing), a per-request timeout, and network errors classified into
 * a small closed set the resolver maps to error codes.
 */
import type {Agent as HttpAgent, IncomingHttpHeaders} from 'node:http'
import type {Agent as HttpsAgent} from 'node:https'

// node:http, node:https and node:tls as Node's own objects, taken when a transport is made: importing them as ES
// modules reads every export, which loads Node's fetch (undici) and the root certificates on every command, network
// or not (docs/architecture.md#start-up).
const http = () => process.getBuiltinModule('node:http')
const https = () => process.getBuiltinModule('node:https')

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
  headers: IncomingHttpHeaders
  body: Buffer
  /** The URL that produced this response. */
  url: URL
}

export interface TransportOptions {
  maxSockets: number
  timeoutMs: number
  /** Extra CA certificates (PEM), added to Node's default trust store. */
  extraCa?: string
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
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
    case 'UND_ERR_SOCKET':
      return new TransportError('reset', message, code)
    case 'ETIMEDOUT':
      return new TransportError('timeout', message, code)
    default:
      if (/socket hang up/i.test(message)) return new TransportError('reset', message, code)
      return new TransportError('network', message, code)
  }
}

export class Transport {
  private readonly httpAgent: HttpAgent
  private readonly httpsAgent: HttpsAgent
  private readonly timeoutMs: number

  constructor(options: TransportOptions) {
    this.timeoutMs = options.timeoutMs
    this.httpAgent = new (http().Agent)({keepAlive: true, maxSockets: options.maxSockets})
    this.httpsAgent = new (https().Agent)({
      keepAlive: true,
      maxSockets: options.maxSockets,
      ...(options.extraCa === undefined ? {} : {ca: [...process.getBuiltinModule('node:tls').rootCertificates, options.extraCa]}),
    })
  }

  /**
   * One HTTP exchange, no redirects followed. Rejects with TransportError only. With `maxBytes`, a body
   * declared or found to be larger is not read further: the response is destroyed and the call rejects
   * with 'too_large' (a 50 MB "signature manifest" costs at most maxBytes of memory).
   */
  send(url: URL, method: string, headers: Record<string, string>, body?: string | Buffer, options: {maxBytes?: number} = {}): Promise<HttpResponse> {
    const maxBytes = options.maxBytes
    return new Promise((resolve, reject) => {
      const isHttps = url.protocol === 'https:'
      const mod = isHttps ? https() : http()
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
      const req = mod.request(url, {method, headers: h, agent: isHttps ? this.httpsAgent : this.httpAgent}, (res) => {
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
          if (!res.complete) done(new TransportError('truncated', 'response body interrupted (connection closed early)', 'ECONNRESET'))
        })
        res.on('end', () => {
          const data = Buffer.concat(chunks)
          const declared = res.headers['content-length']
          if (method !== 'HEAD' && declared !== undefined && /^\d+$/.test(declared) && Number(declared) !== data.length) {
            done(new TransportError('truncated', `response body has ${data.length} bytes, Content-Length said ${declared}`))
            return
          }
          done(undefined, {status: res.statusCode ?? 0, headers: res.headers, body: data, url})
        })
      })
      const timer = setTimeout(() => {
        const err = new TransportError('timeout', `no complete response within ${this.timeoutMs} ms`, 'ETIMEDOUT')
        done(err)
        req.destroy(err)
      }, this.timeoutMs)
      req.on('error', (e) => done(classify(e)))
      req.end(body)
    })
  }

  /** Close idle keep-alive sockets. */
  close(): void {
    this.httpAgent.destroy()
    this.httpsAgent.destroy()
  }
}
