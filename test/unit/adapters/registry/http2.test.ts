/**
 * The registry transport's HTTP/2 path (docs/testing.md#registry-timing): a TLS registry that selects h2
 * (ALPN) gets every lookup as a stream of one session, at most `concurrency` at once; a TLS registry that
 * does not gets HTTP/1.1 through a keep-alive agent; a stream reset or a GOAWAY in the middle of a run is
 * retried on a new session. The servers are node:http2 / node:https imitating the manifests endpoint (the
 * real registry, which selects h2 too, is in test/e2e/registry/http2.test.ts).
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {createHash} from 'node:crypto'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import http2 from 'node:http2'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {RegistryResolver} from '../../../../src/adapters/registry/index.js'
import {makeSelfSignedCert} from '../../../support/token-server.js'

const digestOf = (tag: string): string => 'sha256:' + createHash('sha256').update(tag).digest('hex')

interface Fake {
  host: string
  /** TLS connections accepted. */
  connections: number
  /** HTTP/2 sessions opened. */
  sessions: number
  /** Requests seen, by HTTP version ('2.0', '1.1'). */
  versions: Map<string, number>
  /** Most requests being answered at once. */
  maxInFlight: number
  stop(): Promise<void>
}

type Hook = (ctx: {n: number; stream: http2.ServerHttp2Stream; session: http2.Http2Session | undefined}) => 'answer' | 'handled'

let dir: string
let certFile: string
let keyFile: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sd-h2-'))
  ;({certFile, keyFile} = await makeSelfSignedCert(dir, 'tls', '/CN=127.0.0.1', 'IP:127.0.0.1,DNS:localhost'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

/**
 * A manifests endpoint answering HEAD /v2/<repo>/manifests/<tag> with Docker-Content-Digest sha256(tag),
 * after `holdMs` (so that requests overlap). `h2`: HTTP/2 offered (ALPN h2, HTTP/1.1 allowed too);
 * otherwise an HTTPS server without ALPN. `hook` sees every request first (n counts from 1).
 */
async function startFake(opts: {h2: boolean; holdMs?: number; hook?: Hook}): Promise<Fake> {
  const [key, cert] = await Promise.all([readFile(keyFile), readFile(certFile)])
  const fake: Fake = {host: '', connections: 0, sessions: 0, versions: new Map(), maxInFlight: 0, stop: async () => undefined}
  let inFlight = 0
  let n = 0
  const handler = (
    req: http2.Http2ServerRequest | import('node:http').IncomingMessage,
    res: http2.Http2ServerResponse | import('node:http').ServerResponse,
  ): void => {
    n++
    fake.versions.set(req.httpVersion, (fake.versions.get(req.httpVersion) ?? 0) + 1)
    if (opts.hook !== undefined && 'stream' in req) {
      if (opts.hook({n, stream: req.stream, session: req.stream.session}) === 'handled') return
    }
    inFlight++
    fake.maxInFlight = Math.max(fake.maxInFlight, inFlight)
    const tag = /\/manifests\/([^/]+)$/.exec(req.url ?? '')?.[1] ?? ''
    setTimeout(() => {
      inFlight--
      const headers = {'Docker-Content-Digest': digestOf(tag), 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Content-Length': '0'}
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v)
      res.statusCode = 200
      res.end()
    }, opts.holdMs ?? 0)
  }
  const server = opts.h2 ? http2.createSecureServer({key, cert, allowHTTP1: true}, handler) : https.createServer({key, cert}, handler)
  server.on('secureConnection', () => fake.connections++)
  if (opts.h2) (server as http2.Http2SecureServer).on('session', () => fake.sessions++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fake.host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  fake.stop = () =>
    new Promise<void>((resolve) => {
      if ('closeAllConnections' in server) server.closeAllConnections()
      server.close(() => resolve())
      // http2 sessions are not closed by server.close(); the client closes its side in the tests.
      setTimeout(resolve, 200)
    })
  return fake
}

const requests = (host: string, count: number) =>
  Array.from({length: count}, (_, i) => ({image: `${host}/demo/app:t${i}`, domain: host, path: 'demo/app', reference: `t${i}`}))

async function resolveMany(fake: Fake, count: number, options: {http2?: boolean; concurrency?: number; timeoutMs?: number} = {}) {
  const resolver = new RegistryResolver({caCertFile: certFile, concurrency: options.concurrency ?? 16, sleep: () => Promise.resolve(), ...options})
  try {
    return await resolver.resolveAll(requests(fake.host, count))
  } finally {
    resolver.client.close()
  }
}

function expectAllResolved(outcomes: Awaited<ReturnType<typeof resolveMany>>): void {
  const failed = outcomes.flatMap((o) => (o.ok ? [] : [o.error.message]))
  expect(failed).toEqual([])
  expect(outcomes.map((o) => (o.ok ? o.value.digest : ''))).toEqual(outcomes.map((_, i) => digestOf(`t${i}`)))
}

describe('registry transport over HTTP/2', () => {
  it('a registry that selects h2: 200 lookups are streams of one session, at most --concurrency at once', async () => {
    const fake = await startFake({h2: true, holdMs: 30})
    try {
      const outcomes = await resolveMany(fake, 200)
      expectAllResolved(outcomes)
      expect(fake.versions).toEqual(new Map([['2.0', 200]]))
      expect(fake.sessions).toBe(1)
      expect(fake.connections).toBe(1)
      // Multiplexed (more than one stream answered at once), never over the limit.
      expect(fake.maxInFlight).toBeGreaterThan(1)
      expect(fake.maxInFlight).toBeLessThanOrEqual(16)
    } finally {
      await fake.stop()
    }
  })

  it('--concurrency bounds the streams on the session', async () => {
    const fake = await startFake({h2: true, holdMs: 20})
    try {
      expectAllResolved(await resolveMany(fake, 40, {concurrency: 3}))
      expect(fake.maxInFlight).toBeLessThanOrEqual(3)
      expect(fake.sessions).toBe(1)
    } finally {
      await fake.stop()
    }
  })

  it('a TLS registry that does not select h2: HTTP/1.1 over keep-alive sockets (the ALPN probe is the one extra connection)', async () => {
    const fake = await startFake({h2: false, holdMs: 10})
    try {
      const outcomes = await resolveMany(fake, 200)
      expectAllResolved(outcomes)
      expect(fake.versions).toEqual(new Map([['1.1', 200]]))
      expect(fake.connections).toBeLessThanOrEqual(17)
    } finally {
      await fake.stop()
    }
  })

  it('http2: false speaks HTTP/1.1 even to a registry that offers h2', async () => {
    const fake = await startFake({h2: true})
    try {
      expectAllResolved(await resolveMany(fake, 20, {http2: false}))
      expect(fake.versions).toEqual(new Map([['1.1', 20]]))
    } finally {
      await fake.stop()
    }
  })

  it('streams reset by the registry (RST_STREAM) are retried', async () => {
    const reset = new Set([5, 17, 40])
    const fake = await startFake({
      h2: true,
      hook: ({n, stream}) => {
        if (!reset.has(n)) return 'answer'
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR)
        return 'handled'
      },
    })
    try {
      const outcomes = await resolveMany(fake, 100)
      expectAllResolved(outcomes)
      expect(fake.versions.get('2.0')).toBe(103)
    } finally {
      await fake.stop()
    }
  })

  it('a session that goes silent is dropped when its requests time out; the retries use a new session', async () => {
    let silent: http2.Http2Session | undefined
    const fake = await startFake({
      h2: true,
      hook: ({session}) => {
        silent ??= session
        return session === silent ? 'handled' : 'answer'
      },
    })
    try {
      const outcomes = await resolveMany(fake, 40, {timeoutMs: 400})
      expectAllResolved(outcomes)
      expect(fake.sessions).toBe(2)
    } finally {
      await fake.stop()
    }
  })

  it('a GOAWAY in the middle of a run: the unanswered streams are retried on a new session', async () => {
    let sent = false
    const fake = await startFake({
      h2: true,
      holdMs: 5,
      hook: ({n, session, stream}) => {
        if (n !== 50 || sent) return 'answer'
        sent = true
        // Tell the client that nothing after the previous stream was or will be processed, and close.
        session?.goaway(http2.constants.NGHTTP2_NO_ERROR, (stream.id ?? 3) - 2)
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM)
        return 'handled'
      },
    })
    try {
      const outcomes = await resolveMany(fake, 150)
      expectAllResolved(outcomes)
      expect(sent).toBe(true)
      expect(fake.sessions).toBeGreaterThanOrEqual(2)
    } finally {
      await fake.stop()
    }
  })
})
