import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {RegistryResolver, type RegistryResolverOptions} from '../../../src/adapters/registry/index.js'
import {startRegistry, type TestRegistry} from '../../support/registry.js'
import {err, ok, request} from './helpers.js'

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'

describe('RegistryResolver against a real docker-registry (plain HTTP)', () => {
  let reg: TestRegistry
  const resolvers: RegistryResolver[] = []
  const make = (o: RegistryResolverOptions = {}): RegistryResolver => {
    const r = new RegistryResolver({insecureRegistries: [reg.host], dockerConfigPath: '/nonexistent/config.json', ...o})
    resolvers.push(r)
    return r
  }
  beforeAll(async () => {
    reg = await startRegistry()
  })
  afterAll(async () => {
    for (const r of resolvers) r.close()
    await reg?.stop()
  })

  it('resolves a single-platform OCI manifest (HEAD) to its digest', async () => {
    const {digest} = await reg.pushImage('demo/app', 'v1')
    const [out] = await make().resolveAll([request(`${reg.host}/demo/app:v1`)])
    expect(ok(out)).toEqual({image: `${reg.host}/demo/app:v1`, digest, mediaType: OCI_MANIFEST, registry: reg.host})
  })

  it('resolves Docker v2 media types: a manifest and a manifest list (the list digest, not the amd64 child)', async () => {
    const single = await reg.pushImage('demo/docker', 'v2', {mediaTypes: 'docker'})
    const list = await reg.pushImage('demo/docker', 'list', {mediaTypes: 'docker', platforms: ['linux/amd64', 'linux/arm64']})
    const out = await make().resolveAll([request(`${reg.host}/demo/docker:v2`), request(`${reg.host}/demo/docker:list`)])
    expect(ok(out[0])).toMatchObject({digest: single.digest, mediaType: 'application/vnd.docker.distribution.manifest.v2+json'})
    expect(ok(out[1])).toMatchObject({digest: list.digest, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json'})
    expect(list.digest).not.toBe(list.children?.['linux/amd64'])
  })

  it('multi-arch index: the index digest by default; --platform picks the child', async () => {
    const multi = await reg.pushImage('demo/multi', 'v1', {platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7']})
    const image = `${reg.host}/demo/multi:v1`
    expect(ok((await make().resolveAll([request(image)]))[0])).toMatchObject({digest: multi.digest, mediaType: 'application/vnd.oci.image.index.v1+json'})
    const arm = ok((await make({platform: 'linux/arm64'}).resolveAll([request(image)]))[0])
    expect(arm).toEqual({
      image,
      digest: multi.children?.['linux/arm64'],
      mediaType: OCI_MANIFEST,
      platform: 'linux/arm64',
      indexDigest: multi.digest,
      registry: reg.host,
    })
    expect(ok((await make({platform: 'linux/arm/v7'}).resolveAll([request(image)]))[0]).digest).toBe(multi.children?.['linux/arm/v7'])
    expect(ok((await make({platform: 'linux/aarch64'}).resolveAll([request(image)]))[0]).digest).toBe(multi.children?.['linux/arm64'])
  })

  it('--platform with no matching child → PLATFORM_NOT_FOUND listing the available platforms', async () => {
    await reg.pushImage('demo/multi2', 'v1', {platforms: ['linux/amd64', 'linux/arm64']})
    const e = err((await make({platform: 'linux/s390x'}).resolveAll([request(`${reg.host}/demo/multi2:v1`)]))[0])
    expect(e.code).toBe('PLATFORM_NOT_FOUND')
    expect(e.message).toMatch(/linux\/s390x.*available: linux\/amd64, linux\/arm64/)
    expect(e.location?.image).toBe(`${reg.host}/demo/multi2:v1`)
  })

  it('--platform on a single-platform image checks the config platform', async () => {
    const {digest} = await reg.pushImage('demo/arm-only', 'v1', {platforms: ['linux/arm64']})
    const image = `${reg.host}/demo/arm-only:v1`
    expect(ok((await make({platform: 'linux/arm64'}).resolveAll([request(image)]))[0])).toEqual({
      image,
      digest,
      mediaType: OCI_MANIFEST,
      platform: 'linux/arm64',
      registry: reg.host,
    })
    const e = err((await make({platform: 'linux/amd64'}).resolveAll([request(image)]))[0])
    expect(e.code).toBe('PLATFORM_NOT_FOUND')
    expect(e.message).toMatch(/single-platform image for linux\/arm64, not linux\/amd64/)
  })

  it('digest references pass through without a network call, unless --platform needs the child', async () => {
    const fake = 'sha256:' + 'ab'.repeat(32)
    const lines: string[] = []
    const out = await make({debug: (l) => lines.push(l)}).resolveAll([request(`${reg.host}/demo/none@${fake}`)])
    expect(ok(out[0])).toEqual({image: `${reg.host}/demo/none@${fake}`, digest: fake, mediaType: '', registry: reg.host})
    expect(lines.filter((l) => /HEAD|GET/.test(l))).toEqual([])
    const multi = await reg.pushImage('demo/bydigest', 'v1', {platforms: ['linux/amd64', 'linux/arm64']})
    const child = ok((await make({platform: 'linux/arm64'}).resolveAll([request(`${reg.host}/demo/bydigest@${multi.digest}`)]))[0])
    expect(child).toMatchObject({digest: multi.children?.['linux/arm64'], indexDigest: multi.digest, platform: 'linux/arm64'})
  })

  it('sees a tag re-pointed between two resolves', async () => {
    const first = await reg.pushImage('demo/moving', 'latest', {seed: 'one'})
    const resolver = make()
    expect(ok((await resolver.resolveAll([request(`${reg.host}/demo/moving`)]))[0]).digest).toBe(first.digest)
    const second = await reg.pushImage('demo/moving', 'latest', {seed: 'two'})
    expect(second.digest).not.toBe(first.digest)
    expect(ok((await resolver.resolveAll([request(`${reg.host}/demo/moving`)]))[0]).digest).toBe(second.digest)
  })

  it('missing tag and missing repository → REGISTRY_NOT_FOUND naming image, tag, repo and registry; never rejects', async () => {
    await reg.pushImage('demo/present', 'v1')
    const out = await make().resolveAll([
      request(`${reg.host}/demo/present:nope`),
      request(`${reg.host}/demo/absent:v1`),
      request(`${reg.host}/demo/present:v1`),
    ])
    expect(err(out[0]).code).toBe('REGISTRY_NOT_FOUND')
    expect(err(out[0]).message).toBe(`cannot resolve ${reg.host}/demo/present:nope: tag "nope" not found in demo/present at ${reg.host}`)
    expect(err(out[0]).location).toEqual({image: `${reg.host}/demo/present:nope`})
    expect(err(out[1]).code).toBe('REGISTRY_NOT_FOUND')
    expect(ok(out[2]).digest).toMatch(/^sha256:/)
  })

  it('dedupes identical requests, keeps order and each image as written', async () => {
    const {digest} = await reg.pushImage('demo/dedupe', 'v1')
    const lines: string[] = []
    const a = request(`${reg.host}/demo/dedupe:v1`)
    const b = {...a, image: `${reg.host}/demo/dedupe:v1 (second site)`}
    const out = await make({debug: (l) => lines.push(l)}).resolveAll([a, b, a])
    expect(out.map((o) => ok(o).digest)).toEqual([digest, digest, digest])
    expect(ok(out[1]).image).toBe(b.image)
    expect(lines.filter((l) => l.includes('HEAD ')).length).toBe(1)
  })

  it('insecure (plain HTTP) only for the named hosts: otherwise HTTPS is tried and fails with REGISTRY_TLS', async () => {
    await reg.pushImage('demo/insecure', 'v1')
    const out = await make({insecureRegistries: ['other.example:5000']}).resolveAll([request(`${reg.host}/demo/insecure:v1`)])
    const e = err(out[0])
    expect(e.code).toBe('REGISTRY_TLS')
    expect(e.hint).toMatch(/--insecure-registry/)
    const port = reg.host.split(':')[1]
    expect(ok((await make({insecureRegistries: ['127.0.0.1']}).resolveAll([request(`127.0.0.1:${port}/demo/insecure:v1`)]))[0]).digest).toMatch(/^sha256:/)
  })

  it('mirrors: FROM references resolve through TO; the result keeps the image as written', async () => {
    const {digest} = await reg.pushImage('library/nginx', '1.25')
    const lines: string[] = []
    const out = await make({mirrors: new Map([['docker.io', {host: reg.host}]]), debug: (l) => lines.push(l)}).resolveAll([
      request('nginx:1.25'),
      request('docker.io/library/nginx:nope'),
    ])
    expect(ok(out[0])).toEqual({image: 'nginx:1.25', digest, mediaType: OCI_MANIFEST, registry: reg.host})
    expect(err(out[1]).message).toMatch(new RegExp(`${reg.host} \\(mirror of docker.io\\)`))
    expect(lines.some((l) => l.includes('registry-1.docker.io'))).toBe(false)
  })

  it('mirrors: an insecure mirror (http://… on the command line) is reached over plain HTTP without --insecure-registry', async () => {
    const {digest} = await reg.pushImage('library/busybox', '1.36')
    const out = await make({insecureRegistries: [], mirrors: new Map([['docker.io', {host: reg.host, insecure: true}]])}).resolveAll([request('busybox:1.36')])
    expect(ok(out[0])).toMatchObject({image: 'busybox:1.36', digest, registry: reg.host})
  })

  it('unreachable registry → REGISTRY_NETWORK; unknown host → REGISTRY_NETWORK (DNS)', async () => {
    const out = await make({insecureRegistries: ['127.0.0.1:1'], retries: 0}).resolveAll([
      request('127.0.0.1:1/demo/x:v1'),
      request('no-such-host.invalid/demo/x:v1'),
    ])
    expect(err(out[0]).code).toBe('REGISTRY_NETWORK')
    expect(err(out[0]).message).toMatch(/127\.0\.0\.1:1\/demo\/x:v1.*refused/)
    expect(err(out[1]).code).toBe('REGISTRY_NETWORK')
    expect(err(out[1]).message).toMatch(/no-such-host\.invalid/)
  })

  it('1000 unique tags resolve correctly', async () => {
    const t0 = Date.now()
    const tags = await reg.pushManyTags('demo/bench', 1000, 't')
    const pushMs = Date.now() - t0
    const resolver = make()
    const requests = [...tags.keys()].map((tag) => request(`${reg.host}/demo/bench:${tag}`))
    const t1 = Date.now()
    const out = await resolver.resolveAll(requests)
    const resolveMs = Date.now() - t1
    expect(out.map((o) => ok(o).digest)).toEqual([...tags.values()])
    process.stderr.write(`[registry timing] push 1000 tags: ${pushMs} ms; resolve 1000 tags: ${resolveMs} ms\n`)
  })
})
