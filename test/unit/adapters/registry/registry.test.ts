import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseChallenges} from '../../../../src/adapters/registry/auth.js'
import {backoffMs, parseRetryAfter} from '../../../../src/adapters/retry.js'
import {CredentialStore, isGoogleHost} from '../../../../src/adapters/registry/credentials.js'
import {formatPlatform, parsePlatform, platformMatches} from '../../../../src/adapters/registry/media.js'
import {RegistryResolver} from '../../../../src/adapters/registry/index.js'
import {Redactor, redact} from '../../../../src/core/redact.js'
import {basicAuthEntry, writeDockerConfig} from '../../../support/registry.js'

describe('parseChallenges', () => {
  it.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      [{scheme: 'bearer', params: {realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull'}}],
    ],
    ['Basic realm="test-realm"', [{scheme: 'basic', params: {realm: 'test-realm'}}]],
    ['bearer realm=http://x/token, service=svc', [{scheme: 'bearer', params: {realm: 'http://x/token', service: 'svc'}}]],
    [
      'Bearer realm="r",error="insufficient_scope",scope="repository:a/b:pull repository:c:pull"',
      [{scheme: 'bearer', params: {realm: 'r', error: 'insufficient_scope', scope: 'repository:a/b:pull repository:c:pull'}}],
    ],
    [
      'Basic realm="a", Bearer realm="b",service="s"',
      [
        {scheme: 'basic', params: {realm: 'a'}},
        {scheme: 'bearer', params: {realm: 'b', service: 's'}},
      ],
    ],
    ['Bearer realm="with \\"quote\\""', [{scheme: 'bearer', params: {realm: 'with "quote"'}}]],
    ['', []],
  ])('%s', (header, want) => {
    expect(parseChallenges(header)).toEqual(want)
  })
})

describe('Retry-After and backoff', () => {
  const now = Date.parse('2026-11-01T00:00:00Z')
  it.each([
    ['1', 1000],
    ['0', 0],
    ['120', 30_000],
    ['Sun, 01 Nov 2026 00:00:05 GMT', 5000],
    ['Sat, 31 Oct 2026 00:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('%s → %s ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms)
  })
  it('full jitter within [0, min(8 s, 250·2^(n-1))]', () => {
    expect(backoffMs(1, () => 0.999)).toBe(249)
    expect(backoffMs(3, () => 0.5)).toBe(500)
    expect(backoffMs(10, () => 0.999)).toBe(7992)
    expect(backoffMs(2, () => 0)).toBe(0)
  })
})

describe('platforms', () => {
  it.each([
    ['linux/amd64', 'linux/amd64'],
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/aarch64', 'linux/arm64'],
    ['Linux/X86_64', 'linux/amd64'],
    ['linux/arm/v7', 'linux/arm/v7'],
  ])('%s → %s', (input, want) => {
    const p = parsePlatform(input)
    expect(p && formatPlatform(p)).toBe(want)
  })
  it.each(['linux', 'linux/', 'a/b/c/d', 'linux/amd 64'])('rejects %s', (input) => {
    expect(parsePlatform(input)).toBeUndefined()
    expect(() => new RegistryResolver({platform: input})).toThrowWithCode('USAGE', /os\/arch/)
  })
  it('a platform without a variant accepts any variant; with one, only that one', () => {
    expect(platformMatches({os: 'linux', architecture: 'arm'}, {os: 'linux', architecture: 'arm', variant: 'v6'})).toBe(true)
    expect(platformMatches({os: 'linux', architecture: 'arm', variant: 'v7'}, {os: 'linux', architecture: 'arm', variant: 'v6'})).toBe(false)
    expect(platformMatches({os: 'linux', architecture: 'arm64'}, {os: 'linux', architecture: 'arm64', variant: 'v8'})).toBe(true)
    expect(platformMatches({os: 'linux', architecture: 'amd64'}, {os: 'windows', architecture: 'amd64'})).toBe(false)
  })
})

describe('the shared redactor, as the registry client uses it', () => {
  it('removes registered secrets and anything that looks like an Authorization value or JWT', () => {
    const s = new Redactor()
    s.add('hunter22')
    expect(s.redact('password hunter22 here')).toBe('password [REDACTED] here')
    expect(s.redact('Authorization: Bearer abc.def.ghi')).not.toContain('abc.def')
    expect(s.redact('token eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl end')).toBe('token [REDACTED] end')
    expect(s.redact('https://x/token?access_token=abcd1234&x=1')).toBe('https://x/token?access_token=[REDACTED]&x=1')
  })
})

describe('CredentialStore', () => {
  let tmp: string
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'sd-creds-'))
  })
  afterAll(async () => {
    await rm(tmp, {recursive: true, force: true})
  })
  const store = (o: {dockerConfigPath?: string; env?: NodeJS.ProcessEnv; google?: () => Promise<string | undefined>}): CredentialStore =>
    new CredentialStore({
      ...(o.dockerConfigPath === undefined ? {} : {dockerConfigPath: o.dockerConfigPath}),
      env: o.env ?? {HOME: tmp},
      googleAccessToken: o.google ?? (async () => undefined),
      debug: () => undefined,
    })

  it.each([
    ['gcr.io', true],
    ['eu.gcr.io', true],
    ['us-docker.pkg.dev', true],
    ['europe-west1-docker.pkg.dev', true],
    ['docker.pkg.dev', true],
    ['pkg.dev', false],
    ['evilgcr.io', false],
    ['docker.io', false],
    ['127.0.0.1:5000', false],
  ])('isGoogleHost(%s) = %s', (host, want) => {
    expect(isGoogleHost(host)).toBe(want)
  })

  it('Google ADC only for Google hosts, as oauth2accesstoken; config credentials win', async () => {
    let calls = 0
    const google = async (): Promise<string> => {
      calls++
      return 'ya29.token'
    }
    const cfg = await writeDockerConfig(join(tmp, 'g'), {auths: {'eu.gcr.io': basicAuthEntry('_json_key', '{"k":1}')}})
    const s = store({dockerConfigPath: cfg, google})
    expect(await s.get('us-docker.pkg.dev')).toEqual({source: 'Google ADC', username: 'oauth2accesstoken', password: 'ya29.token'})
    expect(await s.get('eu.gcr.io')).toEqual({source: 'docker config auths', username: '_json_key', password: '{"k":1}'})
    expect(await s.get('quay.io')).toEqual({source: 'anonymous'})
    expect(calls).toBe(1)
    const failing = store({
      dockerConfigPath: cfg,
      google: async () => {
        throw new Error('Could not load the default credentials')
      },
    })
    expect(await failing.get('gcr.io')).toEqual({source: 'anonymous'})
  })

  it('Docker Hub: the https://index.docker.io/v1/ key serves registry-1.docker.io; identitytoken is kept as a refresh token', async () => {
    const cfg = await writeDockerConfig(join(tmp, 'hub'), {
      auths: {'https://index.docker.io/v1/': basicAuthEntry('me', 'pw'), 'id.example': {identitytoken: 'refresh-xyz'}},
    })
    const s = store({dockerConfigPath: cfg})
    expect(await s.get('registry-1.docker.io')).toMatchObject({source: 'docker config auths', username: 'me', password: 'pw'})
    expect(await s.get('id.example')).toEqual({source: 'docker config auths', identityToken: 'refresh-xyz'})
  })

  it('registers every credential it reads with the shared redactor (password, base64 user:password, identity token)', async () => {
    const entry = basicAuthEntry('ci', 'learned-PASSWORD-1')
    const cfg = await writeDockerConfig(join(tmp, 'learned'), {auths: {'a.example': entry, 'b.example': {identitytoken: 'learned-REFRESH-2'}}})
    const s = store({dockerConfigPath: cfg})
    const text = `learned-PASSWORD-1 ${entry.auth} learned-REFRESH-2`
    expect(redact(text)).toBe(text)
    await s.get('a.example')
    await s.get('b.example')
    expect(redact(text)).toBe('[REDACTED] [REDACTED] [REDACTED]')
  })

  it('reads $DOCKER_CONFIG/config.json by default; malformed JSON → CONFIG_INVALID', async () => {
    await writeDockerConfig(join(tmp, 'env'), {auths: {'r.example': basicAuthEntry('u', 'p')}})
    expect(store({env: {DOCKER_CONFIG: join(tmp, 'env')}}).configPath).toBe(join(tmp, 'env', 'config.json'))
    expect(await store({env: {DOCKER_CONFIG: join(tmp, 'env')}}).get('r.example')).toMatchObject({username: 'u'})
    expect(store({env: {HOME: '/home/x'}}).configPath).toBe('/home/x/.docker/config.json')
    await writeFile(join(tmp, 'bad.json'), '{not json')
    await expect(store({dockerConfigPath: join(tmp, 'bad.json')}).get('r.example')).toThrowWithCode('CONFIG_INVALID', /not valid JSON/)
  })
})
