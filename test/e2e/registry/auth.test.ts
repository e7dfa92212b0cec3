import {afterAll, afterEach, beforeAll, describe, expect, it} from '@jest/globals'
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {RegistryResolver, type RegistryResolverOptions} from '../../../src/adapters/registry/index.js'
import {MAX_SCOPES_PER_TOKEN} from '../../../src/adapters/registry/client.js'
import {basicAuthEntry, startRegistry, writeDockerConfig, type TestRegistry} from '../../support/registry.js'
import {startFaultProxy} from '../../support/fault-proxy.js'
import {err, ok, request} from './helpers.js'

let tmp: string
const resolvers: RegistryResolver[] = []
function make(o: RegistryResolverOptions): RegistryResolver {
  const r = new RegistryResolver(o)
  resolvers.push(r)
  return r
}
/** Everything a resolver ever said: debug lines plus every error's message, hint and cause chain. */
function transcript(lines: string[], outcomes: Awaited<ReturnType<RegistryResolver['resolveAll']>>): string {
  const parts = [...lines]
  for (const o of outcomes) {
    if (o.ok) continue
    let e: unknown = o.error
    while (e instanceof Error) {
      parts.push(e.message, String((e as {hint?: string}).hint), e.stack ?? '', JSON.stringify(e))
      e = e.cause
    }
  }
  return parts.join('\n')
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'sd-auth-test-'))
})
afterAll(async () => {
  for (const r of resolvers) r.close()
  await rm(tmp, {recursive: true, force: true})
})

describe('htpasswd (Basic) auth', () => {
  let reg: TestRegistry
  beforeAll(async () => {
    reg = await startRegistry({auth: 'htpasswd', password: 's3cret-Basic-pw'})
  })
  afterAll(async () => {
    await reg?.stop()
  })

  it('good credentials from docker config auths resolve; bad and missing ones → REGISTRY_AUTH naming the source', async () => {
    const {digest} = await reg.pushImage('demo/app', 'v1')
    const image = `${reg.host}/demo/app:v1`
    const good = await writeDockerConfig(join(tmp, 'basic-good'), {auths: {[reg.host]: basicAuthEntry(reg.user, reg.password)}})
    expect(ok((await make({insecureRegistries: [reg.host], dockerConfigPath: good}).resolveAll([request(image)]))[0]).digest).toBe(digest)

    const split = await writeDockerConfig(join(tmp, 'basic-split'), {auths: {[`http://${reg.host}/v2/`]: {username: reg.user, password: reg.password}}})
    expect(ok((await make({insecureRegistries: [reg.host], dockerConfigPath: split}).resolveAll([request(image)]))[0]).digest).toBe(digest)

    const bad = await writeDockerConfig(join(tmp, 'basic-bad'), {auths: {[reg.host]: basicAuthEntry(reg.user, 'wrong-password-xyz')}})
    const lines: string[] = []
    const out = await make({insecureRegistries: [reg.host], dockerConfigPath: bad, debug: (l) => lines.push(l)}).resolveAll([request(image)])
    expect(err(out[0]).code).toBe('REGISTRY_AUTH')
    expect(err(out[0]).message).toMatch(new RegExp(`${reg.host}.*credentials tried: docker config auths`))
    expect(transcript(lines, out)).not.toContain('wrong-password-xyz')
    expect(transcript(lines, out)).not.toContain(Buffer.from(`${reg.user}:wrong-password-xyz`).toString('base64'))

    const none = await make({insecureRegistries: [reg.host], dockerConfigPath: join(tmp, 'missing.json')}).resolveAll([request(image)])
    expect(err(none[0]).code).toBe('REGISTRY_AUTH')
    expect(err(none[0]).message).toMatch(/credentials tried: anonymous/)
  })

  it('credential helper from credHelpers (docker-credential-test on PATH via env)', async () => {
    const {digest} = await reg.pushImage('demo/helper', 'v1')
    const bin = join(tmp, 'bin')
    const script = join(bin, 'docker-credential-test')
    await writeDockerConfig(bin, {})
    await writeFile(
      script,
      `#!/bin/sh
read server
if [ "$1" = get ] && [ "$server" = "${reg.host}" ]; then
  printf '{"ServerURL":"%s","Username":"${reg.user}","Secret":"${reg.password}"}' "$server"
else
  echo "credentials not found in native keychain"; exit 1
fi
`,
    )
    await chmod(script, 0o755)
    const cfg = await writeDockerConfig(join(tmp, 'helper'), {credHelpers: {[reg.host]: 'test'}})
    const env = {...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`}
    const lines: string[] = []
    const out = await make({insecureRegistries: [reg.host], dockerConfigPath: cfg, env, debug: (l) => lines.push(l)}).resolveAll([
      request(`${reg.host}/demo/helper:v1`),
    ])
    expect(ok(out[0]).digest).toBe(digest)

    // credsStore falls back the same way; a helper that has nothing → anonymous → REGISTRY_AUTH naming what was tried
    const store = await writeDockerConfig(join(tmp, 'store'), {credsStore: 'test'})
    expect(ok((await make({insecureRegistries: [reg.host], dockerConfigPath: store, env}).resolveAll([request(`${reg.host}/demo/helper:v1`)]))[0]).digest).toBe(
      digest,
    )
    const wrong = await writeDockerConfig(join(tmp, 'helper-missing'), {credHelpers: {[reg.host]: 'absent'}})
    const e = err((await make({insecureRegistries: [reg.host], dockerConfigPath: wrong, env}).resolveAll([request(`${reg.host}/demo/helper:v1`)]))[0])
    expect(e.code).toBe('REGISTRY_AUTH')
    expect(transcript(lines, out)).not.toContain(reg.password)
  })

  it('a redirect to another host carries no Authorization', async () => {
    const open = await startRegistry()
    const target = await startFaultProxy(open.url)
    const front = await startFaultProxy(reg.url)
    try {
      const {digest} = await reg.pushImage('demo/redirect', 'v1', {seed: 'same'})
      expect((await open.pushImage('demo/redirect', 'v1', {seed: 'same'})).digest).toBe(digest)
      // Once the client authenticates to the front host, the front redirects it to another host.
      front.script((req) => (req.headers.authorization !== undefined ? {redirectTo: target.url} : undefined))
      const cfg = await writeDockerConfig(join(tmp, 'redirect'), {auths: {[front.host]: basicAuthEntry(reg.user, reg.password)}})
      const out = await make({insecureRegistries: [front.host, target.host], dockerConfigPath: cfg}).resolveAll([request(`${front.host}/demo/redirect:v1`)])
      expect(ok(out[0]).digest).toBe(digest)
      expect(front.requests.some((r) => r.headers.authorization !== undefined)).toBe(true)
      expect(target.requests.length).toBeGreaterThan(0)
      expect(target.requests.every((r) => r.headers.authorization === undefined)).toBe(true)
    } finally {
      await front.stop()
      await target.stop()
      await open.stop()
    }
  })
})

describe('token (Bearer) auth', () => {
  let reg: TestRegistry
  beforeAll(async () => {
    reg = await startRegistry({auth: 'token', password: 'tok3n-user-pw'})
  })
  afterAll(async () => {
    await reg?.stop()
  })

  it('anonymous is denied (REGISTRY_AUTH, "anonymous"); with credentials it resolves', async () => {
    const {digest} = await reg.pushImage('demo/app', 'v1')
    const image = `${reg.host}/demo/app:v1`
    const anon = await make({insecureRegistries: [reg.host], dockerConfigPath: join(tmp, 'none.json')}).resolveAll([request(image)])
    expect(err(anon[0]).code).toBe('REGISTRY_AUTH')
    expect(err(anon[0]).message).toMatch(new RegExp(`${reg.host}.*credentials tried: anonymous`))
    const cfg = await writeDockerConfig(join(tmp, 'token'), {auths: {[reg.host]: basicAuthEntry(reg.user, reg.password)}})
    expect(ok((await make({insecureRegistries: [reg.host], dockerConfigPath: cfg}).resolveAll([request(image)]))[0]).digest).toBe(digest)

    const bad = await writeDockerConfig(join(tmp, 'token-bad'), {auths: {[reg.host]: basicAuthEntry(reg.user, 'nope-nope')}})
    const e = err((await make({insecureRegistries: [reg.host], dockerConfigPath: bad}).resolveAll([request(image)]))[0])
    expect(e.code).toBe('REGISTRY_AUTH')
    expect(e.message).toMatch(/token service.*credentials tried: docker config auths/)
  })

  it('caches the token per (realm, service, scope): 200 tags of one repo cost one /token request', async () => {
    const tags = await reg.pushManyTags('demo/many', 200, 'x')
    await reg.pushImage('demo/other', 'v1')
    const cfg = await writeDockerConfig(join(tmp, 'token-cache'), {auths: {[reg.host]: basicAuthEntry(reg.user, reg.password)}})
    reg.tokenServer?.resetCounters()
    const resolver = make({insecureRegistries: [reg.host], dockerConfigPath: cfg})
    const out = await resolver.resolveAll([...tags.keys()].map((t) => request(`${reg.host}/demo/many:${t}`)))
    expect(out.map((o) => ok(o).digest)).toEqual([...tags.values()])
    expect(reg.tokenServer?.tokenRequests).toBe(1)
    await resolver.resolveAll([request(`${reg.host}/demo/many:x1`), request(`${reg.host}/demo/other:v1`)])
    expect(reg.tokenServer?.tokenRequests).toBe(2)
    expect(reg.tokenServer?.log.map((l) => l.scopes)).toEqual([['repository:demo/many:pull'], ['repository:demo/other:pull']])
  })

  describe('one token request for several repositories (announced before the lookups run)', () => {
    let cfg: string
    const images = (prefix: string, n: number): string[] => Array.from({length: n}, (_, i) => `${reg.host}/${prefix}${i}:v1`)
    beforeAll(async () => {
      for (let i = 0; i < 25; i++) await reg.pushImage(`multi/r${i}`, 'v1')
      cfg = await writeDockerConfig(join(tmp, 'token-multi'), {auths: {[reg.host]: basicAuthEntry(reg.user, reg.password)}})
    })
    afterEach(() => reg.tokenServer?.configure({}))

    it(`25 repositories: ${MAX_SCOPES_PER_TOKEN} scopes in the first token request, the other 5 in a second; every image resolves`, async () => {
      reg.tokenServer?.resetCounters()
      const out = await make({insecureRegistries: [reg.host], dockerConfigPath: cfg}).resolveAll(images('multi/r', 25).map((i) => request(i)))
      expect(out.filter((o) => !o.ok)).toEqual([])
      const sizes = (reg.tokenServer?.log ?? []).map((l) => l.scopes.length)
      expect(sizes).toEqual([MAX_SCOPES_PER_TOKEN, 25 - MAX_SCOPES_PER_TOKEN])
      const asked = (reg.tokenServer?.log ?? []).flatMap((l) => l.scopes).sort()
      expect(asked).toEqual(Array.from({length: 25}, (_, i) => `repository:multi/r${i}:pull`).sort())
    })

    it('a token service that refuses several scopes: one scope per request from then on, every image resolves', async () => {
      reg.tokenServer?.configure({maxScopes: 1})
      reg.tokenServer?.resetCounters()
      const out = await make({insecureRegistries: [reg.host], dockerConfigPath: cfg}).resolveAll(images('multi/r', 6).map((i) => request(i)))
      expect(out.filter((o) => !o.ok)).toEqual([])
      const log = reg.tokenServer?.log ?? []
      expect(log.filter((l) => l.status === 400).length).toBeGreaterThanOrEqual(1)
      expect(log.filter((l) => l.status === 200).map((l) => l.scopes.length)).toEqual([1, 1, 1, 1, 1, 1])
    })

    it('a shared token without one repository: that one asks alone and gets the same answer as before (denied); the others resolve', async () => {
      reg.tokenServer?.configure({withhold: ['multi/r2']})
      reg.tokenServer?.resetCounters()
      const out = await make({insecureRegistries: [reg.host], dockerConfigPath: cfg}).resolveAll(images('multi/r', 4).map((i) => request(i)))
      expect(out.map((o) => o.ok)).toEqual([true, true, false, true])
      expect(err(out[2]).code).toBe('REGISTRY_AUTH')
      const log = reg.tokenServer?.log ?? []
      expect(log[0]?.scopes.length).toBe(4)
      expect(log.slice(1).map((l) => l.scopes)).toContainEqual(['repository:multi/r2:pull'])
    })
  })

  it('secrets: the password and the issued tokens never appear in debug lines, messages or causes', async () => {
    await reg.pushImage('demo/secret', 'v1')
    const cfg = await writeDockerConfig(join(tmp, 'token-secret'), {auths: {[reg.host]: basicAuthEntry(reg.user, reg.password)}})
    reg.tokenServer?.resetCounters()
    const lines: string[] = []
    const out = await make({insecureRegistries: [reg.host], dockerConfigPath: cfg, debug: (l) => lines.push(l)}).resolveAll([
      request(`${reg.host}/demo/secret:v1`),
      request(`${reg.host}/demo/secret:missing`),
      request(`${reg.host}/demo/nothere:v1`),
    ])
    expect(ok(out[0]).digest).toMatch(/^sha256:/)
    expect(err(out[1]).code).toBe('REGISTRY_NOT_FOUND')
    const text = transcript(lines, out)
    expect(lines.length).toBeGreaterThan(3)
    expect(reg.tokenServer?.issued.length).toBeGreaterThan(0)
    for (const secret of [reg.password, Buffer.from(`${reg.user}:${reg.password}`).toString('base64'), ...(reg.tokenServer?.issued ?? [])]) {
      expect(text).not.toContain(secret)
    }
    expect(text).not.toMatch(/authorization:/i)
  })
})

describe('Google hosts', () => {
  it('uses the injected Google access token only for Google hosts (user oauth2accesstoken)', async () => {
    const reg = await startRegistry({auth: 'htpasswd', user: 'oauth2accesstoken', password: 'ya29.fake-google-token'})
    const proxy = await startFaultProxy(reg.url)
    try {
      await reg.pushImage('p/app', 'v1')
      let calls = 0
      const googleAccessToken = async (): Promise<string> => {
        calls++
        return reg.password
      }
      // A non-Google host never asks for the Google token.
      const e = err(
        (
          await make({insecureRegistries: [proxy.host], dockerConfigPath: join(tmp, 'none.json'), googleAccessToken}).resolveAll([
            request(`${proxy.host}/p/app:v1`),
          ])
        )[0],
      )
      expect(e.code).toBe('REGISTRY_AUTH')
      expect(calls).toBe(0)
      // gcr.io mirrored to the local registry: the mirror host is not Google, so still no token
      const lines: string[] = []
      const viaMirror = await make({
        mirrors: new Map([['gcr.io', {host: proxy.host}]]),
        insecureRegistries: [proxy.host],
        dockerConfigPath: join(tmp, 'none.json'),
        googleAccessToken,
        debug: (l) => lines.push(l),
      }).resolveAll([request('gcr.io/p/app:v1')])
      expect(err(viaMirror[0]).code).toBe('REGISTRY_AUTH')
      expect(calls).toBe(0)
    } finally {
      await proxy.stop()
      await reg.stop()
    }
  })
})
