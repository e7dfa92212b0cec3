import {afterAll, afterEach, beforeAll, describe, expect, it} from '@jest/globals'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {RegistryClient, RegistrySignatureSource, RegistrySignatureWriter, type RegistryClientOptions} from '../../../src/adapters/registry/index.js'
import type {SignatureRequest} from '../../../src/core/ports.js'
import type {Lookup} from '../../../src/core/signatures/types.js'
import {simpleSigningPayload} from '../../../src/core/signatures/build.js'
import {startFaultProxy, type FaultProxy} from '../../support/fault-proxy.js'
import {basicAuthEntry, MEDIA, sha256, startRegistry, writeDockerConfig, type TestRegistry} from '../../support/registry.js'

const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json'
const DSSE = 'application/vnd.dsse.envelope.v1+json'
const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json'
const fast = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1))

/** Layers need not hold valid signatures: the reader only fetches and checks digests. */
const payload = (n: number, digest: string): Buffer =>
  Buffer.from(
    JSON.stringify({
      critical: {identity: {'docker-reference': 'x'}, image: {'docker-manifest-digest': digest}, type: 'cosign container image signature'},
      optional: {n},
    }),
  )
const fakeBundle = (n: number): Buffer =>
  Buffer.from(
    JSON.stringify({
      mediaType: BUNDLE,
      verificationMaterial: {publicKey: {hint: `k${n}`}},
      dsseEnvelope: {payload: Buffer.from(`p${n}`).toString('base64'), payloadType: 'application/vnd.in-toto+json', signatures: []},
    }),
  )

/** Push a legacy cosign manifest (`sha256-<hex>.sig` / `.att`) with the given layers, as cosign lays it out. */
async function pushLegacy(
  reg: TestRegistry,
  repo: string,
  digest: string,
  suffix: '.sig' | '.att',
  layers: Array<{mediaType: string; blob: Buffer; annotations: Record<string, string>}>,
): Promise<void> {
  const config = Buffer.from('{}')
  const configDigest = await reg.putBlob(repo, config)
  const descs = []
  for (const l of layers) descs.push({mediaType: l.mediaType, digest: await reg.putBlob(repo, l.blob), size: l.blob.length, annotations: l.annotations})
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: {mediaType: MEDIA.ociConfig, digest: configDigest, size: config.length},
    layers: descs,
  }
  await reg.putManifest(repo, digest.replace(':', '-') + suffix, JSON.stringify(manifest), MEDIA.ociManifest)
}

function found<T>(l: Lookup<T> | undefined): T[] {
  if (l?.status !== 'found') throw new Error(`expected found, got ${JSON.stringify(l)}`)
  return l.items
}
function failed<T>(l: Lookup<T> | undefined): {code: string; message: string; location: string} {
  if (l?.status !== 'error') throw new Error(`expected error, got ${JSON.stringify(l)}`)
  return l
}

const clients: RegistryClient[] = []
function client(o: RegistryClientOptions): RegistryClient {
  const c = new RegistryClient({dockerConfigPath: '/nonexistent/config.json', retries: 1, timeoutMs: 2000, sleep: fast, ...o})
  clients.push(c)
  return c
}
afterAll(() => {
  for (const c of clients) c.close()
})

describe('RegistrySignatureSource against a real registry (no auth)', () => {
  let reg: TestRegistry
  let proxy: FaultProxy
  let digest: string
  let unsigned: string
  const req = (host: string, d: string, attestations = false): SignatureRequest => ({
    image: `${host}/demo/app@${d}`,
    domain: host,
    path: 'demo/app',
    digest: d,
    attestations,
  })
  const source = (o: RegistryClientOptions = {}): RegistrySignatureSource =>
    new RegistrySignatureSource(client({insecureRegistries: [reg.host, proxy.host], ...o}))

  beforeAll(async () => {
    reg = await startRegistry()
    proxy = await startFaultProxy(reg.url)
    digest = (await reg.pushImage('demo/app', 'v1')).digest
    unsigned = (await reg.pushImage('demo/app', 'v2')).digest
    await pushLegacy(reg, 'demo/app', digest, '.sig', [
      {mediaType: SIMPLE_SIGNING, blob: payload(1, digest), annotations: {'dev.cosignproject.cosign/signature': 'c2lnMQ=='}},
      {
        mediaType: SIMPLE_SIGNING,
        blob: payload(2, digest),
        annotations: {
          'dev.cosignproject.cosign/signature': 'c2lnMg==',
          'dev.sigstore.cosign/certificate': '-----BEGIN CERTIFICATE-----\nx\n',
          'dev.sigstore.cosign/bundle': '{"SignedEntryTimestamp":"x"}',
        },
      },
    ])
    await pushLegacy(reg, 'demo/app', digest, '.att', [
      {mediaType: DSSE, blob: Buffer.from('{"payloadType":"application/vnd.in-toto+json"}'), annotations: {predicateType: 'https://slsa.dev/provenance/v1'}},
    ])
  })
  afterEach(() => {
    proxy.script(undefined)
    proxy.requests.length = 0
  })
  afterAll(async () => {
    await proxy?.stop()
    await reg?.stop()
  })

  it('legacy .sig with two layers: payload bytes and annotations intact; .att layers when asked', async () => {
    const [a] = await source().read([req(reg.host, digest, true)])
    const hex = digest.slice(7)
    expect(a?.repository).toBe(`${reg.host}/demo/app`)
    expect(a?.legacySignatures.location).toBe(`${reg.host}/demo/app:sha256-${hex}.sig`)
    const sigs = found(a?.legacySignatures)
    expect(sigs).toHaveLength(2)
    expect(Buffer.from(sigs[0]?.payload ?? []).equals(payload(1, digest))).toBe(true)
    expect(sigs[0]).toMatchObject({signature: 'c2lnMQ=='})
    expect(sigs[1]).toMatchObject({signature: 'c2lnMg==', certificate: '-----BEGIN CERTIFICATE-----\nx\n', rekorBundle: '{"SignedEntryTimestamp":"x"}'})
    const atts = found(a?.legacyAttestations)
    expect(atts).toHaveLength(1)
    expect(atts[0]?.predicateType).toBe('https://slsa.dev/provenance/v1')
    expect(Buffer.from(atts[0]?.envelope ?? []).toString()).toBe('{"payloadType":"application/vnd.in-toto+json"}')
    expect(a?.bundles).toEqual({location: `${reg.host}/demo/app@${digest} (fallback tag sha256-${hex})`, status: 'absent'})
  })

  it('nothing stored: absent for every format (and no .att lookup unless asked)', async () => {
    const [a] = await source().read([req(reg.host, unsigned)])
    expect(a?.legacySignatures.status).toBe('absent')
    expect(a?.bundles.status).toBe('absent')
    expect(a?.legacyAttestations).toBeUndefined()
    const [b] = await source().read([{...req(reg.host, unsigned), path: 'no/such-repo'}])
    expect(b?.legacySignatures.status).toBe('absent')
    expect(b?.bundles.status).toBe('absent')
  })

  it('a registry without the referrers API is asked once: later digests go straight to the fallback tag', async () => {
    const src = source()
    await src.read([req(proxy.host, unsigned)])
    await src.read([req(proxy.host, digest)])
    const referrers = proxy.requests.filter((r) => r.url.includes('/referrers/'))
    expect(referrers.map((r) => r.url)).toEqual([`/v2/demo/app/referrers/${unsigned}`])
    expect(proxy.requests.some((r) => r.url.endsWith(`/manifests/${digest.replace(':', '-')}`))).toBe(true) // the fallback tag of the second
  })

  it('our writer: legacy signature pushed once, read back; a second identical push changes nothing', async () => {
    const d = (await reg.pushImage('demo/app', 'w1')).digest
    const writer = new RegistrySignatureWriter(client({insecureRegistries: [reg.host]}))
    const layer = {payload: payload(7, d), annotations: {'dev.cosignproject.cosign/signature': 'c2lnNw=='}}
    expect((await writer.pushLegacySignature({domain: reg.host, path: 'demo/app', digest: d, layer})).created).toBe(true)
    expect((await writer.pushLegacySignature({domain: reg.host, path: 'demo/app', digest: d, layer})).created).toBe(false)
    const other = {payload: payload(8, d), annotations: {'dev.cosignproject.cosign/signature': 'c2lnOA=='}}
    expect((await writer.pushLegacySignature({domain: reg.host, path: 'demo/app', digest: d, layer: other})).created).toBe(true)
    const [a] = await source().read([req(reg.host, d)])
    expect(found(a?.legacySignatures).map((l) => l.signature)).toEqual(['c2lnNw==', 'c2lnOA=='])
    expect(Buffer.from(found(a?.legacySignatures)[0]?.payload ?? []).equals(payload(7, d))).toBe(true)
  })

  it("cosign's default payload is known from the layer's digest: no blob GET for it; any other payload is fetched", async () => {
    const d = (await reg.pushImage('demo/app', 'k1')).digest
    const writer = new RegistrySignatureWriter(client({insecureRegistries: [reg.host]}))
    // As `cosign sign` writes it for the image as read (the repository through the proxy), and one with `-a` annotations.
    const plain = Buffer.from(simpleSigningPayload(`${proxy.host}/demo/app`, d))
    const annotated = Buffer.from(JSON.stringify({...JSON.parse(plain.toString()), optional: {commit: 'abc'}}))
    for (const [p, sig] of [
      [plain, 'c2lnUA=='],
      [annotated, 'c2lnQQ=='],
    ] as const) {
      await writer.pushLegacySignature({
        domain: reg.host,
        path: 'demo/app',
        digest: d,
        layer: {payload: p, annotations: {'dev.cosignproject.cosign/signature': sig}},
      })
    }
    proxy.requests.length = 0
    const [a] = await source().read([req(proxy.host, d)])
    const sigs = found(a?.legacySignatures)
    expect(sigs.map((l) => l.signature)).toEqual(['c2lnUA==', 'c2lnQQ=='])
    expect(Buffer.from(sigs[0]?.payload ?? []).equals(plain)).toBe(true)
    expect(Buffer.from(sigs[1]?.payload ?? []).equals(annotated)).toBe(true)
    const blobGets = proxy.requests.filter((r) => r.method === 'GET' && r.url.includes('/blobs/')).map((r) => r.url)
    expect(blobGets).toEqual([`/v2/demo/app/blobs/${sha256(annotated)}`])
  })

  it('our writer: bundle referrer through the fallback tag, read back; pushing it again creates nothing', async () => {
    const d = (await reg.pushImage('demo/app', 'w2')).digest
    const writer = new RegistrySignatureWriter(client({insecureRegistries: [reg.host]}))
    const push = {domain: reg.host, path: 'demo/app', digest: d, bundle: fakeBundle(1), predicateType: 'https://sigstore.dev/cosign/sign/v1'}
    const first = await writer.pushBundleReferrer(push)
    expect(first.created).toBe(true)
    expect((await writer.pushBundleReferrer(push)).created).toBe(false)
    expect((await writer.pushBundleReferrer({...push, bundle: fakeBundle(2)})).created).toBe(true)
    const [a] = await source().read([req(reg.host, d)])
    const bundles = found(a?.bundles)
    expect(a?.bundles.location).toBe(`${reg.host}/demo/app@${d} (fallback tag ${d.replace(':', '-')})`)
    expect(bundles).toHaveLength(2)
    expect(Buffer.from(bundles[0]?.bundle ?? []).equals(fakeBundle(1))).toBe(true)
    expect(bundles[0]).toMatchObject({artifactType: BUNDLE, predicateType: 'https://sigstore.dev/cosign/sign/v1'})
    expect(first.location).toContain(bundles[0]?.manifestDigest)
    // The referrer's subject is the image descriptor, as registries with the API index it.
    const index = JSON.parse(await get(`${reg.url}/v2/demo/app/manifests/${d.replace(':', '-')}`, MEDIA.ociIndex)) as {
      manifests: Array<{digest: string; artifactType: string}>
    }
    expect(index.manifests.map((m) => m.artifactType)).toEqual([BUNDLE, BUNDLE])
    const manifest = JSON.parse(await get(`${reg.url}/v2/demo/app/manifests/${bundles[0]?.manifestDigest}`, MEDIA.ociManifest)) as Record<string, unknown>
    expect(manifest['subject']).toEqual({mediaType: MEDIA.ociManifest, digest: d, size: expect.any(Number)})
    expect(manifest['annotations']).toMatchObject({
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1',
    })
  })

  it('the writer pushes to the origin, not to its --registry-mirror (reads go through the mirror)', async () => {
    const d = (await reg.pushImage('demo/app', 'mirrored')).digest
    const mirrors = new Map([[reg.host, {host: proxy.host, insecure: true}]])
    const writer = new RegistrySignatureWriter(client({insecureRegistries: [reg.host], mirrors}))
    const layer = {payload: payload(5, d), annotations: {'dev.cosignproject.cosign/signature': 'c2lnNQ=='}}
    expect((await writer.pushLegacySignature({domain: reg.host, path: 'demo/app', digest: d, layer})).created).toBe(true)
    expect(proxy.requests).toEqual([])
    const [a] = await source({mirrors}).read([req(reg.host, d)])
    expect(found(a?.legacySignatures).map((l) => l.signature)).toEqual(['c2lnNQ=='])
    expect(proxy.requests.length).toBeGreaterThan(0)
  })

  it('a registry with the referrers API: the index it answers is used, not the fallback tag', async () => {
    const d = (await reg.pushImage('demo/app', 'api')).digest
    const writer = new RegistrySignatureWriter(client({insecureRegistries: [reg.host]}))
    const pushed = await writer.pushBundleReferrer({
      domain: reg.host,
      path: 'demo/app',
      digest: d,
      bundle: fakeBundle(3),
      predicateType: 'https://slsa.dev/provenance/v1',
    })
    const referrer = /referrer (sha256:[0-9a-f]{64})/.exec(pushed.location)?.[1] as string
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: [
        {mediaType: MEDIA.ociManifest, digest: referrer, size: 1, artifactType: BUNDLE},
        {mediaType: MEDIA.ociManifest, digest: sha256('x'), size: 1, artifactType: 'application/spdx+json'},
      ],
    }
    proxy.script((r) => (r.url.includes('/referrers/') ? {status: 200, body: JSON.stringify(index), headers: {'Content-Type': MEDIA.ociIndex}} : undefined))
    const [a] = await source().read([req(proxy.host, d)])
    expect(a?.bundles.location).toBe(`${proxy.host}/demo/app@${d} (referrers)`)
    expect(found(a?.bundles).map((b) => b.predicateType)).toEqual(['https://slsa.dev/provenance/v1'])
    expect(proxy.requests.some((r) => r.url.includes(d.replace(':', '-')))).toBe(true) // the .sig tag
    expect(proxy.requests.some((r) => r.url.endsWith(`/manifests/${d.replace(':', '-')}`))).toBe(false) // no fallback tag
  })

  it('a paged referrers answer (Link rel="next"): every page is read', async () => {
    const d = (await reg.pushImage('demo/app', 'paged')).digest
    const writer = new RegistrySignatureWriter(client({insecureRegistries: [reg.host]}))
    const digests: string[] = []
    for (const n of [10, 11]) {
      const pushed = await writer.pushBundleReferrer({
        domain: reg.host,
        path: 'demo/app',
        digest: d,
        bundle: fakeBundle(n),
        predicateType: `https://example.com/p${n}`,
      })
      digests.push(/referrer (sha256:[0-9a-f]{64})/.exec(pushed.location)?.[1] as string)
    }
    const page = (digest: string): string =>
      JSON.stringify({schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [{mediaType: MEDIA.ociManifest, digest, size: 1, artifactType: BUNDLE}]})
    proxy.script((r) => {
      if (!r.url.includes('/referrers/')) return undefined
      if (r.url.includes('page=2')) return {status: 200, body: page(digests[1] as string), headers: {'Content-Type': MEDIA.ociIndex}}
      return {status: 200, body: page(digests[0] as string), headers: {'Content-Type': MEDIA.ociIndex, Link: `<${r.url}?page=2>; rel="next"`}}
    })
    const [a] = await source().read([req(proxy.host, d)])
    expect(found(a?.bundles).map((b) => b.predicateType)).toEqual(['https://example.com/p10', 'https://example.com/p11'])
  })

  it('a blob whose content is not its digest: error, not the bytes', async () => {
    proxy.script((r) =>
      r.method === 'GET' && r.url.includes('/blobs/') ? {status: 200, body: 'other bytes', headers: {'Content-Type': 'application/octet-stream'}} : undefined,
    )
    const [a] = await source().read([req(proxy.host, digest)])
    const e = failed(a?.legacySignatures)
    expect(e.code).toBe('REGISTRY_PROTOCOL')
    expect(e.message).toMatch(/with content that hashes to sha256:/)
  })

  it.each([
    ['500', {status: 500}, 'REGISTRY_UNAVAILABLE', /answered HTTP 500 after 2 attempts/],
    ['a timeout', {delayMs: 1500}, 'REGISTRY_TIMEOUT', /did not answer within 300 ms/],
    ['a reset', {reset: true}, 'REGISTRY_NETWORK', /was reset/],
  ])('%s: every lookup is an error, never absent', async (_, fault, code, message) => {
    proxy.script(() => fault)
    const [a] = await source({timeoutMs: 300}).read([req(proxy.host, digest, true)])
    for (const l of [a?.legacySignatures, a?.legacyAttestations, a?.bundles] as Array<Lookup<unknown> | undefined>) {
      expect(failed(l).code).toBe(code)
      expect(failed(l).message).toMatch(message)
    }
  })

  it('JSON that is not a manifest: error', async () => {
    proxy.script((r) => (r.url.endsWith('.sig') ? {status: 200, body: '{"hello":"world"}', headers: {'Content-Type': MEDIA.ociManifest}} : undefined))
    const [a] = await source().read([req(proxy.host, digest)])
    expect(failed(a?.legacySignatures)).toMatchObject({
      code: 'REGISTRY_PROTOCOL',
      message: expect.stringMatching(/is not an image manifest \(no layers list\)/),
    })
  })

  it('more than 100 layers: error', async () => {
    const layers = Array.from({length: 101}, () => ({mediaType: SIMPLE_SIGNING, digest: sha256('x'), size: 1}))
    proxy.script((r) =>
      r.url.endsWith('.sig') ? {status: 200, body: JSON.stringify({schemaVersion: 2, layers}), headers: {'Content-Type': MEDIA.ociManifest}} : undefined,
    )
    const [a] = await source().read([req(proxy.host, digest)])
    expect(failed(a?.legacySignatures).message).toMatch(/lists 101 layers: refused, over 100/)
  })
})

describe('size limits (a local HTTP server: the real registry refuses big manifests)', () => {
  let server: http.Server
  let host: string
  let sent = 0
  let blobRequests = 0
  /** Once set, the small .sig manifest served instead of the 50 MB stream. */
  let big: string | undefined
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url?.includes('/blobs/') === true) blobRequests++
      if (big !== undefined && req.url?.endsWith('.sig') === true) {
        res.writeHead(200, {'Content-Type': MEDIA.ociManifest}).end(big)
        return
      }
      if (req.url?.endsWith('.att') === true) {
        // Declared up front: refused on the header, before any of the body is waited for.
        res.writeHead(200, {'Content-Type': MEDIA.ociManifest, 'Content-Length': String(50 * 1024 * 1024)})
        res.on('error', () => undefined)
        res.write(Buffer.alloc(1024, 0x20))
        return
      }
      if (req.url?.endsWith('.sig') === true) {
        // Chunked, no Content-Length: the limit must hold while streaming, not only on the header.
        res.writeHead(200, {'Content-Type': MEDIA.ociManifest})
        const chunk = Buffer.alloc(1024 * 1024, 0x20)
        const pump = (): void => {
          while (sent < 50 * 1024 * 1024 && !res.destroyed) {
            sent += chunk.length
            if (!res.write(chunk)) {
              res.once('drain', pump)
              return
            }
          }
          if (!res.destroyed) res.end()
        }
        res.on('error', () => undefined)
        pump()
        return
      }
      res.writeHead(404, {'Content-Type': 'application/json'}).end(JSON.stringify({errors: [{code: 'MANIFEST_UNKNOWN', message: 'manifest unknown'}]}))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('is refused once over 4 MiB, without reading it all', async () => {
    const d = sha256('image')
    const [a] = await new RegistrySignatureSource(client({insecureRegistries: [host]})).read([
      {image: `${host}/big@${d}`, domain: host, path: 'big', digest: d, attestations: true},
    ])
    const e = failed(a?.legacySignatures)
    expect(e.code).toBe('REGISTRY_PROTOCOL')
    expect(e.message).toMatch(/refused: over 4 MiB/)
    expect(sent).toBeLessThan(30 * 1024 * 1024)
    expect(a?.bundles.status).toBe('absent')
    expect(failed(a?.legacyAttestations).message).toMatch(/refused: over 4 MiB/)
  })

  it('a layer whose descriptor says 17 MiB is refused without fetching it', async () => {
    const d = sha256('image2')
    const layer = {mediaType: SIMPLE_SIGNING, digest: sha256('x'), size: 17 * 1024 * 1024}
    big = JSON.stringify({schemaVersion: 2, mediaType: MEDIA.ociManifest, layers: [layer]})
    const [a] = await new RegistrySignatureSource(client({insecureRegistries: [host]})).read([
      {image: `${host}/big@${d}`, domain: host, path: 'big', digest: d, attestations: false},
    ])
    expect(failed(a?.legacySignatures).message).toMatch(/\(17825792 bytes, as its descriptor says\) was refused: over 16 MiB/)
    expect(blobRequests).toBe(0)
  })
})

describe('with authentication', () => {
  let basic: TestRegistry
  let token: TestRegistry
  let dir: string
  let config: string
  beforeAll(async () => {
    ;[basic, token] = await Promise.all([startRegistry({auth: 'htpasswd'}), startRegistry({auth: 'token'})])
    dir = await mkdtemp(join(tmpdir(), 'sd-sig-'))
    config = await writeDockerConfig(dir, {
      auths: {[basic.host]: basicAuthEntry(basic.user, basic.password), [token.host]: basicAuthEntry(token.user, token.password)},
    })
  })
  afterAll(async () => {
    await basic?.stop()
    await token?.stop()
    await rm(dir, {recursive: true, force: true})
  })

  it('401 without credentials: every lookup is a REGISTRY_AUTH error, never absent', async () => {
    const d = (await basic.pushImage('demo/app', 'v1')).digest
    const [a] = await new RegistrySignatureSource(client({insecureRegistries: [basic.host]})).read([
      {image: `${basic.host}/demo/app@${d}`, domain: basic.host, path: 'demo/app', digest: d, attestations: true},
    ])
    for (const l of [a?.legacySignatures, a?.legacyAttestations, a?.bundles] as Array<Lookup<unknown> | undefined>) {
      expect(failed(l).code).toBe('REGISTRY_AUTH')
      expect(failed(l).message).toMatch(/denied access to demo\/app \(HTTP 401/)
    }
  })

  it('a bundle attached by @sigstore/oci (an independent writer) is read through the fallback tag', async () => {
    const d = (await basic.pushImage('demo/oci', 'v1')).digest
    await attachWithSigstoreOci({
      imageName: `${basic.host}/demo/oci`,
      imageDigest: d,
      artifact: fakeBundle(9).toString('base64'),
      mediaType: BUNDLE,
      annotations: {'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1'},
      credentials: {username: basic.user, password: basic.password},
    })
    const [a] = await new RegistrySignatureSource(client({insecureRegistries: [basic.host], dockerConfigPath: config})).read([
      {image: `${basic.host}/demo/oci@${d}`, domain: basic.host, path: 'demo/oci', digest: d, attestations: false},
    ])
    const items = found(a?.bundles)
    expect(items).toHaveLength(1)
    expect(Buffer.from(items[0]?.bundle ?? []).equals(fakeBundle(9))).toBe(true)
    expect(items[0]).toMatchObject({artifactType: BUNDLE, predicateType: 'https://slsa.dev/provenance/v1'})
    expect(a?.legacySignatures.status).toBe('absent')
  })

  it('token auth: the writer asks for pull,push; both formats read back with a pull token', async () => {
    const d = (await token.pushImage('demo/app', 'v1')).digest
    const writer = new RegistrySignatureWriter(client({insecureRegistries: [token.host], dockerConfigPath: config}))
    const layer = {payload: payload(1, d), annotations: {'dev.cosignproject.cosign/signature': 'c2ln'}}
    expect((await writer.pushLegacySignature({domain: token.host, path: 'demo/app', digest: d, layer})).created).toBe(true)
    expect(
      (
        await writer.pushBundleReferrer({
          domain: token.host,
          path: 'demo/app',
          digest: d,
          bundle: fakeBundle(4),
          predicateType: 'https://slsa.dev/provenance/v1',
        })
      ).created,
    ).toBe(true)
    expect(token.tokenServer?.log.map((l) => l.scopes).flat()).toContain('repository:demo/app:pull,push')
    const [a] = await new RegistrySignatureSource(client({insecureRegistries: [token.host], dockerConfigPath: config})).read([
      {image: `${token.host}/demo/app@${d}`, domain: token.host, path: 'demo/app', digest: d, attestations: false},
    ])
    expect(found(a?.legacySignatures).map((l) => l.signature)).toEqual(['c2ln'])
    expect(found(a?.bundles)).toHaveLength(1)
  })
})

/**
 * @sigstore/oci's attachArtifactToImage, in a child Node: it is CommonJS requiring ESM-only packages,
 * which Jest's module loader cannot do on Node 22 (plain Node can).
 */
async function attachWithSigstoreOci(opts: Record<string, unknown>): Promise<void> {
  const script = [
    "import {attachArtifactToImage} from '@sigstore/oci'",
    'const o = JSON.parse(process.argv[1])',
    "await attachArtifactToImage({...o, artifact: Buffer.from(o.artifact, 'base64')})",
  ].join('\n')
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(opts)], {timeout: 20_000})
}

function get(url: string, accept: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, {headers: {Accept: accept}}, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
      })
      .on('error', reject)
  })
}
