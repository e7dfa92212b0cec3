import {afterAll, afterEach, beforeAll, describe, expect, it} from '@jest/globals'
import {RegistryResolver, type RegistryResolverOptions} from '../../../src/adapters/registry/index.js'
import {startRegistry, type TestRegistry} from '../../support/registry.js'
import {startFaultProxy, type Fault, type FaultProxy} from '../../support/fault-proxy.js'
import {err, ok, recordingSleep, request} from './helpers.js'

describe('faults on the wire (fault proxy in front of a real registry)', () => {
  let reg: TestRegistry
  let proxy: FaultProxy
  let digest: string
  let image: string
  const resolvers: RegistryResolver[] = []
  const make = (o: RegistryResolverOptions = {}): RegistryResolver => {
    const r = new RegistryResolver({insecureRegistries: [proxy.host], dockerConfigPath: '/nonexistent/config.json', ...o})
    resolvers.push(r)
    return r
  }
  const manifestRequests = (): string[] => proxy.requests.filter((r) => r.url.includes('/manifests/')).map((r) => r.method)

  beforeAll(async () => {
    reg = await startRegistry()
    proxy = await startFaultProxy(reg.url)
    digest = (await reg.pushImage('demo/app', 'v1')).digest
    image = `${proxy.host}/demo/app:v1`
  })
  afterEach(() => {
    proxy.script(undefined)
    proxy.requests.length = 0
  })
  afterAll(async () => {
    for (const r of resolvers) r.close()
    await proxy?.stop()
    await reg?.stop()
  })

  it('429 with Retry-After, then success: retried after the Retry-After delay', async () => {
    const fault: Fault = {status: 429, headers: {'Retry-After': '1'}, times: 2}
    proxy.script(() => fault)
    const {sleep, calls} = recordingSleep()
    expect(ok((await make({sleep}).resolveAll([request(image)]))[0]).digest).toBe(digest)
    expect(calls).toEqual([1000, 1000])
    expect(manifestRequests()).toEqual(['HEAD', 'HEAD', 'HEAD'])
  })

  it('Retry-After as an HTTP-date is honoured (and capped)', async () => {
    const fault: Fault = {status: 429, headers: {'Retry-After': new Date(Date.now() + 3600_000).toUTCString()}, times: 1}
    proxy.script(() => fault)
    const {sleep, calls} = recordingSleep()
    expect(ok((await make({sleep}).resolveAll([request(image)]))[0]).digest).toBe(digest)
    expect(calls).toEqual([30_000])
  })

  it.each([500, 502, 503, 504])('%i then success: retried with jittered exponential backoff', async (status) => {
    const fault: Fault = {status, times: 3}
    proxy.script(() => fault)
    const {sleep, calls} = recordingSleep()
    expect(ok((await make({sleep}).resolveAll([request(image)]))[0]).digest).toBe(digest)
    expect(calls.length).toBe(3)
    calls.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0)
      expect(ms).toBeLessThanOrEqual(250 * 2 ** i)
    })
  })

  it('429 forever → REGISTRY_RATE_LIMITED after N attempts', async () => {
    proxy.script(() => ({status: 429}))
    const {sleep} = recordingSleep()
    const e = err((await make({sleep, retries: 3}).resolveAll([request(image)]))[0])
    expect(e.code).toBe('REGISTRY_RATE_LIMITED')
    expect(e.message).toMatch(new RegExp(`${image}.*${proxy.host}.*after 4 attempts`))
    expect(manifestRequests().length).toBe(4)
  })

  it('503 forever → REGISTRY_UNAVAILABLE', async () => {
    proxy.script(() => ({status: 503}))
    const {sleep} = recordingSleep()
    const e = err((await make({sleep, retries: 2}).resolveAll([request(image)]))[0])
    expect(e.code).toBe('REGISTRY_UNAVAILABLE')
    expect(e.message).toMatch(/HTTP 503 after 3 attempts/)
  })

  it('slow headers past the timeout → REGISTRY_TIMEOUT after the retries; a slow first answer is retried', async () => {
    proxy.script(() => ({delayMs: 2000}))
    const {sleep} = recordingSleep()
    const t0 = Date.now()
    const e = err((await make({sleep, timeoutMs: 150, retries: 2}).resolveAll([request(image)]))[0])
    expect(e.code).toBe('REGISTRY_TIMEOUT')
    expect(e.message).toMatch(new RegExp(`${image}: ${proxy.host} did not answer within 150 ms after 3 attempts`))
    expect(Date.now() - t0).toBeLessThan(1500)
    expect(manifestRequests().length).toBe(3)

    const once: Fault = {delayMs: 1000, times: 1}
    proxy.script(() => once)
    expect(ok((await make({sleep, timeoutMs: 300}).resolveAll([request(image)]))[0]).digest).toBe(digest)
  })

  it('connection reset → retried; reset forever → REGISTRY_NETWORK', async () => {
    const fault: Fault = {reset: true, times: 2}
    proxy.script(() => fault)
    const {sleep, calls} = recordingSleep()
    expect(ok((await make({sleep}).resolveAll([request(image)]))[0]).digest).toBe(digest)
    expect(calls.length).toBe(2)
    proxy.script(() => ({reset: true}))
    const e = err((await make({sleep, retries: 1}).resolveAll([request(image)]))[0])
    expect(e.code).toBe('REGISTRY_NETWORK')
    expect(e.message).toMatch(/reset after 2 attempts/)
  })

  it('truncated body on GET → retried', async () => {
    // HEAD without a digest header forces a GET; the first GET is cut short.
    const noDigest: Fault = {overrideHeaders: {'Docker-Content-Digest': null}}
    const truncate: Fault = {truncateBody: true, times: 1}
    proxy.script((req) => (req.method === 'HEAD' ? noDigest : truncate))
    const {sleep, calls} = recordingSleep()
    expect(ok((await make({sleep}).resolveAll([request(image)]))[0]).digest).toBe(digest)
    expect(calls.length).toBe(1)
    expect(manifestRequests()).toEqual(['HEAD', 'GET', 'GET'])
  })

  it('no usable Docker-Content-Digest on HEAD → GET and sha256 of the body', async () => {
    proxy.script((req) =>
      req.method === 'HEAD' ? {overrideHeaders: {'Docker-Content-Digest': 'sha256:NOT-HEX'}} : {overrideHeaders: {'Docker-Content-Digest': null}},
    )
    expect(ok((await make().resolveAll([request(image)]))[0]).digest).toBe(digest)
    expect(manifestRequests()).toEqual(['HEAD', 'GET'])
  })

  it('Docker-Content-Digest that disagrees with the GET body → REGISTRY_PROTOCOL (never trusted)', async () => {
    const wrong = 'sha256:' + '0'.repeat(64)
    proxy.script((req) => ({overrideHeaders: {'Docker-Content-Digest': req.method === 'HEAD' ? 'garbage' : wrong}}))
    const e = err((await make().resolveAll([request(image)]))[0])
    expect(e.code).toBe('REGISTRY_PROTOCOL')
    expect(e.message).toContain(wrong)
    expect(e.message).toContain(digest)
    expect(e.message).toContain(image)
  })

  it('more than 3 redirects → REGISTRY_PROTOCOL', async () => {
    proxy.script(() => ({redirectTo: proxy.url}))
    const e = err((await make().resolveAll([request(image)]))[0])
    expect(e.code).toBe('REGISTRY_PROTOCOL')
    expect(e.message).toMatch(/redirected more than 3 times/)
    expect(manifestRequests().length).toBe(4)
  })

  it('at most `concurrency` lookups in flight, across concurrent resolveAll calls', async () => {
    const tags = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']
    for (const tag of tags) await reg.pushImage('demo/conc', tag)
    const slow: Fault = {delayMs: 100}
    proxy.script((req) => (req.url.includes('/manifests/') ? slow : undefined))
    const r = make({concurrency: 2})
    // Count lookups in flight (the sockets are bounded too, by the agent: this checks the limiter itself).
    const inner = r as unknown as {resolveOne: (req: unknown) => Promise<unknown>}
    const resolveOne = inner.resolveOne.bind(r)
    let running = 0
    let most = 0
    inner.resolveOne = async (req) => {
      most = Math.max(most, ++running)
      try {
        return await resolveOne(req)
      } finally {
        running--
      }
    }
    const reqs = tags.map((tag) => request(`${proxy.host}/demo/conc:${tag}`))
    const outs = await Promise.all([r.resolveAll(reqs.slice(0, 3)), r.resolveAll(reqs.slice(3))])
    expect(outs.flat().every((o) => o.ok)).toBe(true)
    expect(most).toBe(2)
  })

  it('resolveAll lists every failure and still resolves the rest', async () => {
    const other = await reg.pushImage('demo/ok', 'v1')
    proxy.script((req) => (req.url.includes('/demo/app/') ? {status: 429} : undefined))
    const {sleep} = recordingSleep()
    const out = await make({sleep, retries: 1}).resolveAll([request(image), request(`${proxy.host}/demo/ok:v1`), request(`${proxy.host}/demo/ok:nope`)])
    expect(err(out[0]).code).toBe('REGISTRY_RATE_LIMITED')
    expect(ok(out[1]).digest).toBe(other.digest)
    expect(err(out[2]).code).toBe('REGISTRY_NOT_FOUND')
  })
})
