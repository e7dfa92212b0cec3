import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {RegistryResolver, type RegistryResolverOptions} from '../../../src/adapters/registry/index.js'
import {basicAuthEntry, startRegistry, writeDockerConfig, type TestRegistry} from '../../support/registry.js'
import {err, ok, request} from './helpers.js'

describe('TLS registry with a self-signed certificate', () => {
  let reg: TestRegistry
  let tmp: string
  const resolvers: RegistryResolver[] = []
  const make = (o: RegistryResolverOptions): RegistryResolver => {
    const r = new RegistryResolver({dockerConfigPath: '/nonexistent/config.json', ...o})
    resolvers.push(r)
    return r
  }
  beforeAll(async () => {
    reg = await startRegistry({tls: true, auth: 'token'})
    tmp = await mkdtemp(join(tmpdir(), 'sd-tls-test-'))
  })
  afterAll(async () => {
    for (const r of resolvers) r.close()
    await reg?.stop()
    await rm(tmp, {recursive: true, force: true})
  })

  it('resolves with caCertFile (TLS + token auth); fails with REGISTRY_TLS and a hint without it', async () => {
    const {digest} = await reg.pushImage('demo/app', 'v1')
    const image = `${reg.host}/demo/app:v1`
    const cfg = await writeDockerConfig(tmp, {auths: {[reg.host]: basicAuthEntry(reg.user, reg.password)}})
    expect(ok((await make({caCertFile: reg.caFile as string, dockerConfigPath: cfg}).resolveAll([request(image)]))[0]).digest).toBe(digest)

    const e = err((await make({}).resolveAll([request(image)]))[0])
    expect(e.code).toBe('REGISTRY_TLS')
    expect(e.message).toMatch(new RegExp(`${reg.host}.*self-signed|DEPTH_ZERO_SELF_SIGNED_CERT`))
    expect(e.message).toContain(image)
    expect(e.hint).toMatch(/--registry-ca-cert/)
  })

  it('hostname mismatch (certificate for another name, CA trusted) → REGISTRY_TLS', async () => {
    const other = await startRegistry({tls: true, tlsSubjectAltName: 'DNS:registry.test'})
    try {
      await other.pushImage('demo/app', 'v1')
      const e = err((await make({caCertFile: other.caFile as string}).resolveAll([request(`${other.host}/demo/app:v1`)]))[0])
      expect(e.code).toBe('REGISTRY_TLS')
      expect(e.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/)
    } finally {
      await other.stop()
    }
  })

  it('an unreadable or non-PEM caCertFile is a CONFIG_INVALID error at construction', () => {
    expect(() => new RegistryResolver({caCertFile: join(tmp, 'nope.pem')})).toThrowWithCode('CONFIG_INVALID', /cannot read the registry CA certificate/)
    expect(() => new RegistryResolver({caCertFile: join(tmp, 'config.json')})).toThrowWithCode('CONFIG_INVALID', /not a PEM certificate/)
  })
})
