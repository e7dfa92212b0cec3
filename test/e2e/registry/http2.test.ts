/**
 * The real registry over TLS selects HTTP/2 (docs/testing.md#registry-timing): every lookup of a run goes as a
 * stream over one TCP connection (counted by the delaying proxy, here with no delay); with http2 off, HTTP/1.1
 * keep-alive sockets, at most --concurrency of them. Token auth: one token request for the run either way.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {RegistryResolver} from '../../../src/adapters/registry/index.js'
import {startDelayProxy, type DelayProxy} from '../../support/delay-proxy.js'
import {startRegistry, type TestRegistry} from '../../support/registry.js'

describe('TLS registry: HTTP/2 when it selects h2', () => {
  let reg: TestRegistry
  let proxy: DelayProxy
  let tags: Map<string, string>
  beforeAll(async () => {
    reg = await startRegistry({tls: true, auth: 'token', anonymousPull: true})
    proxy = await startDelayProxy(reg.host, 0)
    tags = await reg.pushManyTags('demo/many', 120)
  }, 60_000)
  afterAll(async () => {
    await proxy?.stop()
    await reg?.stop()
  })

  const lookups = async (http2: boolean): Promise<{digests: string[]; connections: number; tokenRequests: number}> => {
    const connections0 = proxy.connections
    const tokens0 = reg.tokenServer?.tokenRequests ?? 0
    const resolver = new RegistryResolver({caCertFile: reg.caFile as string, dockerConfigPath: '/nonexistent/config.json', concurrency: 16, http2})
    try {
      const outcomes = await resolver.resolveAll(
        [...tags.keys()].map((t) => ({image: `${proxy.host}/demo/many:${t}`, domain: proxy.host, path: 'demo/many', reference: t})),
      )
      return {
        digests: outcomes.map((o) => (o.ok ? o.value.digest : o.error.message)),
        connections: proxy.connections - connections0,
        tokenRequests: (reg.tokenServer?.tokenRequests ?? 0) - tokens0,
      }
    } finally {
      resolver.close()
    }
  }

  it('120 lookups over one TCP connection (one HTTP/2 session), one token request', async () => {
    const r = await lookups(true)
    expect(r.digests).toEqual([...tags.values()])
    expect(r.connections).toBe(1)
    expect(r.tokenRequests).toBe(1)
  })

  it('with http2 off: HTTP/1.1 keep-alive sockets, more than one and at most --concurrency', async () => {
    const r = await lookups(false)
    expect(r.digests).toEqual([...tags.values()])
    expect(r.connections).toBeGreaterThan(1)
    expect(r.connections).toBeLessThanOrEqual(16)
    expect(r.tokenRequests).toBe(1)
  })
})
