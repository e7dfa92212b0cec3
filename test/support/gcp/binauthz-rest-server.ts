/**
 * A local Binary Authorization REST v1 server (node:http) for the paths safe-deploy calls
 * (docs/google-apis.md#binary-authorization-rest-v1): project policy, system policy, attestors and
 * validateAttestationOccurrence. In-memory state, a request log (records whether an
 * Authorization header came, never its value) and error/delay injection.
 */
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface ValidateBody {
  attestation?: {serializedPayload?: string; signatures?: Array<{publicKeyId?: string; signature?: string}>; jwts?: Array<{compactJwt?: string}>}
  occurrenceNote?: string
  occurrenceResourceUri?: string
}

export interface BinauthzRestState {
  /** Project policies by project ID (REST JSON). */
  policies: Map<string, unknown>
  /** System policies by location (e.g. global). */
  systemPolicies: Map<string, unknown>
  /** Attestors by full name projects/P/attestors/A (REST JSON). */
  attestors: Map<string, unknown>
  /** GKE platform policies by full name projects/P/platforms/gke/policies/NAME (REST JSON). */
  platformPolicies: Map<string, unknown>
  /** Answer for validateAttestationOccurrence (default: VERIFIED when the attestor exists). */
  validate: (attestor: string, body: ValidateBody) => {result: string; denialReason?: string}
  /** When set, every request must carry exactly `Authorization: Bearer <requiredToken>` (else 401). */
  requiredToken?: string | undefined
}

export interface RestRequest {
  method: string
  /** Path without the query string, e.g. /v1/projects/p/policy */
  path: string
  hasAuthorization: boolean
  /** x-goog-user-project, when sent. */
  quotaProject?: string
  body?: unknown
}

export interface BinauthzRestServer {
  port: number
  endpoint: string
  /** http://127.0.0.1:PORT/ */
  baseUrl: string
  state: BinauthzRestState
  requests: RestRequest[]
  /** Answer the next `times` (default 1) requests whose path matches with `status` (Google error JSON). */
  failNext(match: string | RegExp, status: number, opts?: {times?: number; message?: string; retryAfter?: string}): void
  /** Delay the next `times` (default 1) matching requests by `ms`. */
  delayNext(match: string | RegExp, ms: number, opts?: {times?: number}): void
  /** Drop pending failNext/delayNext injections (call it in beforeEach). */
  clearFaults(): void
  stop(): Promise<void>
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
}

function sendError(res: ServerResponse, code: number, message: string, headers: Record<string, string> = {}): void {
  send(res, code, {error: {code, message, status: STATUS_NAMES[code] ?? 'UNKNOWN'}}, headers)
}

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(code, {'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers})
  res.end(text)
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

export async function startBinauthzRestServer(): Promise<BinauthzRestServer> {
  const state: BinauthzRestState = {
    policies: new Map(),
    systemPolicies: new Map(),
    attestors: new Map(),
    platformPolicies: new Map(),
    validate: () => ({result: 'VERIFIED'}),
  }
  const requests: RestRequest[] = []
  const faults: Array<{match: string | RegExp; status: number; message: string; times: number; retryAfter?: string}> = []
  const delays: Array<{match: string | RegExp; ms: number; times: number}> = []
  const timers = new Set<NodeJS.Timeout>()
  const matches = (m: string | RegExp, path: string): boolean => (typeof m === 'string' ? path.includes(m) : m.test(path))
  const take = <T extends {match: string | RegExp; times: number}>(list: T[], path: string): T | undefined => {
    const i = list.findIndex((f) => matches(f.match, path))
    if (i < 0) return undefined
    const f = list[i]!
    if (--f.times <= 0) list.splice(i, 1)
    return f
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!)
    const raw = req.method === 'POST' ? await readBody(req) : ''
    let body: unknown
    try {
      body = raw ? JSON.parse(raw) : undefined
    } catch {
      return sendError(res, 400, 'Invalid JSON payload received.')
    }
    const auth = req.headers.authorization
    const quota = req.headers['x-goog-user-project']
    requests.push({
      method: req.method ?? 'GET',
      path,
      hasAuthorization: auth !== undefined,
      ...(typeof quota === 'string' ? {quotaProject: quota} : {}),
      ...(body === undefined ? {} : {body}),
    })
    const delay = take(delays, path)
    if (delay) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t)
          resolve()
        }, delay.ms)
        timers.add(t)
      })
      if (res.destroyed) return
    }
    const fault = take(faults, path)
    if (fault) return sendError(res, fault.status, fault.message, fault.retryAfter === undefined ? {} : {'retry-after': fault.retryAfter})
    if (state.requiredToken !== undefined && auth !== `Bearer ${state.requiredToken}`) {
      return sendError(
        res,
        401,
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      )
    }
    let m: RegExpExecArray | null
    if (req.method === 'GET' && (m = /^\/v1\/projects\/([^/]+)\/policy$/.exec(path))) {
      const p = state.policies.get(m[1]!)
      return p === undefined ? sendError(res, 404, `Policy not found for project ${m[1]}.`) : send(res, 200, p)
    }
    if (req.method === 'GET' && (m = /^\/v1\/locations\/([^/]+)\/policy$/.exec(path))) {
      const p = state.systemPolicies.get(m[1]!)
      return p === undefined ? sendError(res, 404, `System policy not found for location ${m[1]}.`) : send(res, 200, p)
    }
    if (req.method === 'GET' && (m = /^\/v1\/(projects\/[^/]+\/attestors\/[^/:]+)$/.exec(path))) {
      const a = state.attestors.get(m[1]!)
      return a === undefined ? sendError(res, 404, `Attestor "${m[1]}" not found.`) : send(res, 200, a)
    }
    if (req.method === 'GET' && (m = /^\/v1\/(projects\/[^/]+\/platforms\/gke\/policies\/[^/:]+)$/.exec(path))) {
      const p = state.platformPolicies.get(m[1]!)
      return p === undefined ? sendError(res, 404, `Platform policy "${m[1]}" not found.`) : send(res, 200, p)
    }
    if (req.method === 'POST' && (m = /^\/v1\/(projects\/[^/]+\/attestors\/[^/:]+):validateAttestationOccurrence$/.exec(path))) {
      if (!state.attestors.has(m[1]!)) return sendError(res, 404, `Attestor "${m[1]}" not found.`)
      return send(res, 200, state.validate(m[1]!, (body ?? {}) as ValidateBody))
    }
    return sendError(res, 404, `The requested URL ${path} was not found on this server.`)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, err instanceof Error ? err.message : String(err))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    endpoint: `127.0.0.1:${port}`,
    baseUrl: `http://127.0.0.1:${port}/`,
    state,
    requests,
    failNext(match, status, opts = {}) {
      faults.push({
        match,
        status,
        message: opts.message ?? `injected HTTP ${status}`,
        times: opts.times ?? 1,
        ...(opts.retryAfter === undefined ? {} : {retryAfter: opts.retryAfter}),
      })
    },
    delayNext(match, ms, opts = {}) {
      delays.push({match, ms, times: opts.times ?? 1})
    },
    clearFaults() {
      faults.length = 0
      delays.length = 0
    },
    async stop() {
      for (const t of timers) clearTimeout(t)
      timers.clear()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
