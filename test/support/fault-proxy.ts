/**
 * A scriptable HTTP proxy in front of a (plain HTTP) registry, to inject faults on the wire.
 *
 *   const proxy = await startFaultProxy(reg.url)          // or '127.0.0.1:PORT'
 *   proxy.script((req) => req.method === 'HEAD' ? {status: 429, headers: {'Retry-After': '1'}, times: 1} : undefined)
 *   // resolve `${proxy.host}/demo/app:v1` … then inspect proxy.requests
 *   proxy.script(undefined)                               // back to plain forwarding
 *   await proxy.stop()
 *
 * The script runs for every request; returning undefined forwards it unchanged. A Fault applies at
 * most `times` times (counted per Fault object, so return the same object to get "twice then OK";
 * omit `times` for "forever"). Fields combine, in this order:
 *   delayMs          wait this long before doing anything (slow headers)
 *   reset            destroy the client socket (connection reset), nothing else
 *   status           answer with this status (plus headers/body) instead of forwarding
 *   redirectTo       answer `redirectStatus` (default 307) with Location = redirectTo; when redirectTo is
 *                    an origin only (no path), the original path and query are appended
 *   overrideHeaders  forward, then replace these response headers (null removes one)
 *   truncateBody     forward, then send the upstream Content-Length but only half the body, and reset
 * Every request (faulted or not) is appended to `requests` before the script runs.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'

export interface Fault {
  /** Apply at most this many times (per Fault object). Default: always. */
  times?: number
  delayMs?: number
  reset?: boolean
  status?: number
  headers?: Record<string, string>
  body?: string
  redirectTo?: string
  redirectStatus?: 301 | 302 | 303 | 307 | 308
  overrideHeaders?: Record<string, string | null>
  truncateBody?: boolean
}

export interface ProxiedRequest {
  method: string
  /** Path and query, e.g. /v2/demo/app/manifests/v1 */
  url: string
  /** Lowercase header names. */
  headers: http.IncomingHttpHeaders
}

export interface FaultProxy {
  /** '127.0.0.1:PORT' */
  host: string
  /** 'http://127.0.0.1:PORT' */
  url: string
  /** Install (or, with undefined, remove) the fault script. */
  script(fn: ((req: ProxiedRequest) => Fault | undefined) | undefined): void
  /** Every request received, in order. Clear with `requests.length = 0`. */
  requests: ProxiedRequest[]
  stop(): Promise<void>
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(/^https?:\/\//.test(target) ? target : `http://${target}`)
  if (upstream.protocol !== 'http:') throw new Error('startFaultProxy: the target must be a plain HTTP registry')
  const agent = new http.Agent({keepAlive: true, maxSockets: 64})
  const requests: ProxiedRequest[] = []
  const applied = new WeakMap<Fault, number>()
  const timers = new Set<NodeJS.Timeout>()
  let scriptFn: ((req: ProxiedRequest) => Fault | undefined) | undefined

  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t)
        resolve()
      }, ms)
      timers.add(t)
    })

  const pickFault = (req: ProxiedRequest): Fault | undefined => {
    const f = scriptFn?.(req)
    if (f === undefined) return undefined
    const n = applied.get(f) ?? 0
    if (f.times !== undefined && n >= f.times) return undefined
    applied.set(f, n + 1)
    return f
  }

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, fault: Fault | undefined): void => {
    const headers = {...req.headers, host: upstream.host}
    const up = http.request({host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, agent}, (ur) => {
      const chunks: Buffer[] = []
      ur.on('data', (c: Buffer) => chunks.push(c))
      ur.on('error', () => res.destroy())
      ur.on('end', () => {
        if (res.destroyed) return
        const out: Record<string, string | string[]> = {}
        for (const [k, v] of Object.entries(ur.headers)) if (v !== undefined) out[k] = v
        for (const [k, v] of Object.entries(fault?.overrideHeaders ?? {})) {
          for (const existing of Object.keys(out)) if (existing.toLowerCase() === k.toLowerCase()) delete out[existing]
          if (v !== null) out[k] = v
        }
        const data = Buffer.concat(chunks)
        res.writeHead(ur.statusCode ?? 502, out)
        if (fault?.truncateBody === true && req.method !== 'HEAD') {
          res.write(data.subarray(0, Math.floor(data.length / 2)), () => res.destroy())
          return
        }
        res.end(req.method === 'HEAD' ? undefined : data)
      })
    })
    up.on('error', (e) => {
      if (res.destroyed) return
      res.writeHead(502, {'Content-Type': 'text/plain'}).end(`fault-proxy upstream error: ${e.message}`)
    })
    up.end(body)
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        const record: ProxiedRequest = {method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers}
        requests.push(record)
        const fault = pickFault(record)
        if (fault?.delayMs !== undefined) await delay(fault.delayMs)
        if (res.destroyed || req.socket.destroyed) return
        if (fault?.reset === true) {
          req.socket.destroy()
          return
        }
        if (fault?.status !== undefined) {
          const body = fault.body ?? JSON.stringify({errors: [{code: 'FAULT', message: `injected ${fault.status}`}]})
          res.writeHead(fault.status, {'Content-Type': 'application/json', ...fault.headers})
          res.end(req.method === 'HEAD' ? undefined : body)
          return
        }
        if (fault?.redirectTo !== undefined) {
          const to = new URL(fault.redirectTo)
          const location = to.pathname === '/' && fault.redirectTo.replace(/\/$/, '') === to.origin ? `${to.origin}${req.url ?? '/'}` : fault.redirectTo
          res.writeHead(fault.redirectStatus ?? 307, {Location: location, 'Content-Length': 0}).end()
          return
        }
        forward(req, res, Buffer.concat(chunks), fault)
      })()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    script(fn) {
      scriptFn = fn
    },
    async stop() {
      for (const t of timers) clearTimeout(t)
      timers.clear()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      agent.destroy()
    },
  }
}
