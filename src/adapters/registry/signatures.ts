/**
 * RegistrySignatureSource: the SignatureSource port over the OCI distribution API. It gathers what
 * cosign stored beside an image digest (the layouts of sigstore/cosign `pkg/oci/remote`), exactly as found, and checks
 * only that every blob is the one its descriptor names; verifying signatures is core/signatures'.
 *
 * Per digest, three lookups in parallel under the client's limiter:
 *  - legacy signatures: the manifest tagged `sha256-<hex>.sig`, one simple-signing layer per signature;
 *  - legacy attestations (when asked): `sha256-<hex>.att`, one DSSE layer per attestation;
 *  - bundles: OCI 1.1 referrers of the digest (`GET /v2/<path>/referrers/<digest>`), or, on registries
 *    without that API (distribution 2.8 answers 404 text), the "referrers tag schema" index tagged
 *    `sha256-<hex>`; each referrer whose artifactType is a Sigstore bundle (or cosign's experimental
 *    signature artifact) is read with its bundle layer.
 *
 * A tag that does not exist (404 MANIFEST_UNKNOWN / NAME_UNKNOWN) is 'absent'. Anything else that
 * stops a lookup (auth, 5xx after retries, timeouts, size limits, a blob whose sha256 is not its
 * digest, JSON that is not a manifest) is 'error': "could not check", never "unsigned".
 */
import {SafeDeployError} from '../../core/errors.js'
import type {SignatureRequest, SignatureSource} from '../../core/ports.js'
import {redact} from '../../core/redact.js'
import {simpleSigningPayload} from '../../core/signatures/simple-signing.js'
import type {BundleArtifact, DsseLayer, Lookup, SignatureArtifacts, SimpleSigningLayer} from '../../core/signatures/types.js'
import {
  formatBytes,
  header,
  isDockerHubDomain,
  RegistryClient,
  registryErrorDetail,
  sha256,
  type RegistryClientOptions,
  type Scope,
  type Target,
} from './client.js'
import {isSha256, MEDIA_TYPES} from './media.js'
import type {HttpResponse} from './transport.js'

/** Manifests and indexes are small; a bigger one is refused without being read to its end. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024
/** A simple-signing payload, DSSE envelope or bundle with a certificate chain is a few KiB. */
export const MAX_BLOB_BYTES = 16 * 1024 * 1024
/** Layers of one signature manifest, and bundle referrers of one digest. */
export const MAX_ENTRIES = 100

export const SIGSTORE_MEDIA = {
  simpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  dsse: 'application/vnd.dsse.envelope.v1+json',
  bundleV03: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  /** cosign's experimental signatures-as-referrers (v2); read when found. */
  cosignArtifactSig: 'application/vnd.dev.cosign.artifact.sig.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  ociArtifactManifest: 'application/vnd.oci.artifact.manifest.v1+json',
} as const

export const ANNOTATIONS = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  rekorBundle: 'dev.sigstore.cosign/bundle',
  predicateType: 'predicateType',
  bundleContent: 'dev.sigstore.bundle.content',
  bundlePredicateType: 'dev.sigstore.bundle.predicateType',
  created: 'org.opencontainers.image.created',
} as const

/** Bundle v0.3 as cosign v3 writes it, the older `application/vnd.dev.sigstore.bundle+json;version=0.x` spellings, and cosign's experimental type. */
export function isBundleArtifactType(t: string): boolean {
  return (
    t === SIGSTORE_MEDIA.bundleV03 ||
    /^application\/vnd\.dev\.sigstore\.bundle\.v0\.\d+\+json$/.test(t) ||
    /^application\/vnd\.dev\.sigstore\.bundle\+json;\s*version=0\.\d+$/.test(t) ||
    t === SIGSTORE_MEDIA.cosignArtifactSig
  )
}

const IMAGE_MANIFEST_ACCEPT = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(', ')
const REFERRER_MANIFEST_ACCEPT = [MEDIA_TYPES.ociManifest, SIGSTORE_MEDIA.ociArtifactManifest].join(', ')
const INDEX_ACCEPT = MEDIA_TYPES.ociIndex

/** The legacy tag of a digest: `sha256-<hex>` plus `.sig` / `.att`, or nothing for the referrers fallback index. */
export const digestTag = (digest: string, suffix: '' | '.sig' | '.att'): string => digest.replace(':', '-') + suffix

export interface FetchedManifest {
  digest: string
  size: number
  /** The manifest's mediaType, else the Content-Type. */
  mediaType: string
  json: Record<string, unknown>
}

/**
 * GET a manifest or index (at most 4 MiB read); undefined when the tag or repository does not exist
 * (404 MANIFEST_UNKNOWN / NAME_UNKNOWN). A digest reference must hash to itself; a tag's
 * Docker-Content-Digest must agree with the bytes.
 */
export async function fetchManifest(
  client: RegistryClient,
  t: Target,
  reference: string,
  accept: string,
  scope: Scope = 'pull',
): Promise<FetchedManifest | undefined> {
  const {res, attempts} = await client.exchange(t, 'GET', client.url(t, 'manifests', reference), accept, {maxBytes: MAX_MANIFEST_BYTES, scope})
  if (res.status === 404) {
    const code = registryErrorDetail(res).code
    if (code === 'MANIFEST_UNKNOWN' || code === 'NAME_UNKNOWN') return undefined
  }
  if (res.status !== 200) throw await client.statusFailure(res, t, attempts, reference)
  const computed = sha256(res.body)
  const claimed = header(res, 'docker-content-digest')
  if ((claimed !== undefined && claimed !== computed) || (reference.includes(':') && reference !== computed)) {
    throw client.fail(
      'REGISTRY_PROTOCOL',
      t,
      `${t.label} answered ${t.path}${reference.includes(':') ? '@' : ':'}${reference} with a manifest that hashes to ${computed}`,
      {
        hint: 'the registry or a proxy in between returned inconsistent data; retry, and report it to the registry operator if it persists',
      },
    )
  }
  let json: unknown
  try {
    json = JSON.parse(res.body.toString('utf8'))
  } catch {
    throw client.fail('REGISTRY_PROTOCOL', t, `${t.label} sent a manifest for ${t.path}:${reference} that is not JSON`)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw client.fail('REGISTRY_PROTOCOL', t, `${t.label} sent a manifest for ${t.path}:${reference} that is not a JSON object`)
  }
  const obj = json as Record<string, unknown>
  const mediaType = typeof obj['mediaType'] === 'string' ? obj['mediaType'] : (header(res, 'content-type') ?? '')
  return {digest: computed, size: res.body.length, mediaType, json: obj}
}

/** A descriptor from untrusted JSON. */
export interface Desc {
  mediaType: string
  digest: string
  size: number
  artifactType?: string
  annotations: Record<string, string>
}

/** The string-valued entries of an annotations object from untrusted JSON. */
export function readAnnotations(value: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, a] of Object.entries(value as Record<string, unknown>)) if (typeof a === 'string') out[k] = a
  }
  return out
}

export function readDescriptor(value: unknown): Desc | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const v = value as Record<string, unknown>
  if (!isSha256(v['digest']) || typeof v['size'] !== 'number' || !Number.isSafeInteger(v['size']) || v['size'] < 0) return undefined
  const d: Desc = {
    mediaType: typeof v['mediaType'] === 'string' ? v['mediaType'] : '',
    digest: v['digest'],
    size: v['size'],
    annotations: readAnnotations(v['annotations']),
  }
  if (typeof v['artifactType'] === 'string') d.artifactType = v['artifactType']
  return d
}

/** The descriptors of `field` (layers, manifests, blobs), each checked; a malformed one is a protocol error. */
export function descriptors(client: RegistryClient, t: Target, m: FetchedManifest, field: 'layers' | 'manifests' | 'blobs', what: string): Desc[] {
  const list = m.json[field]
  if (!Array.isArray(list))
    throw client.fail(
      'REGISTRY_PROTOCOL',
      t,
      `${what} at ${t.label} is not ${field === 'manifests' ? 'an image index' : 'an image manifest'} (no ${field} list)`,
    )
  if (list.length > MAX_ENTRIES) throw client.fail('REGISTRY_PROTOCOL', t, `${what} at ${t.label} lists ${list.length} ${field}: refused, over ${MAX_ENTRIES}`)
  return list.map((entry, i) => {
    const d = readDescriptor(entry)
    if (d === undefined) throw client.fail('REGISTRY_PROTOCOL', t, `${what} at ${t.label} has an invalid descriptor in ${field}[${i}]`)
    return d
  })
}

export class RegistrySignatureSource implements SignatureSource {
  /** A source with its own client, configured like pinning (mirrors, insecure registries, CA, credentials). */
  static fromOptions(options: RegistryClientOptions = {}): RegistrySignatureSource {
    return new RegistrySignatureSource(new RegistryClient(options))
  }

  /** `client`: share the resolver's (`resolver.client`) for one token cache and one limiter. */
  constructor(readonly client: RegistryClient) {}

  close(): void {
    this.client.close()
  }

  async read(requests: readonly SignatureRequest[], repositoryOverride?: {domain: string; path: string}): Promise<SignatureArtifacts[]> {
    const jobs = new Map<string, Promise<SignatureArtifacts>>()
    this.client.announce(requests.map((r) => ({image: r.image, ...(repositoryOverride ?? {domain: r.domain, path: r.path})})))
    return Promise.all(
      requests.map((r) => {
        const repo = repositoryOverride ?? {domain: r.domain, path: r.path}
        const key = `${repo.domain}\u0000${repo.path}\u0000${r.digest}\u0000${r.attestations}`
        let job = jobs.get(key)
        if (job === undefined) {
          job = this.readOne(r, repo)
          jobs.set(key, job)
        }
        return job
      }),
    )
  }

  private async readOne(r: SignatureRequest, repo: {domain: string; path: string}): Promise<SignatureArtifacts> {
    const repository = `${repo.domain}/${repo.path}`
    const at = {image: r.image, domain: repo.domain, path: repo.path}
    if (!isSha256(r.digest)) {
      const message = `cannot read the signatures of ${r.image}: "${r.digest}" is not a sha256 digest`
      const error = {location: `${repository}@${r.digest}`, status: 'error' as const, code: 'INVALID_REFERENCE', message: redact(message)}
      return {repository, digest: r.digest, legacySignatures: error, ...(r.attestations ? {legacyAttestations: error} : {}), bundles: error}
    }
    const sigTag = digestTag(r.digest, '.sig')
    const attTag = digestTag(r.digest, '.att')
    const known = knownPayloads(r)
    const [legacySignatures, legacyAttestations, bundles] = await Promise.all([
      this.lookup(`${repository}:${sigTag}`, ({location}) => this.legacy(at, sigTag, location, simpleSigningLayer, known)),
      r.attestations ? this.lookup(`${repository}:${attTag}`, ({location}) => this.legacy(at, attTag, location, dsseLayer)) : undefined,
      this.bundles(at, repository, r.digest),
    ])
    const out: SignatureArtifacts = {repository, digest: r.digest, legacySignatures, bundles}
    if (legacyAttestations !== undefined) out.legacyAttestations = legacyAttestations
    return out
  }

  /**
   * Run one lookup under the limiter; failures become an 'error' Lookup with the SafeDeployError's
   * code. `where.location` may be changed by `run` (referrers API → fallback tag) and names the result.
   */
  private async lookup<T>(location: string, run: (where: {location: string}) => Promise<T[] | 'absent'>): Promise<Lookup<T>> {
    const where = {location}
    try {
      const items = await this.client.limit(() => run(where))
      return items === 'absent' ? {location: where.location, status: 'absent'} : {location: where.location, status: 'found', items}
    } catch (e) {
      if (e instanceof SafeDeployError) return {location: where.location, status: 'error', code: e.code, message: e.message}
      const message = redact(`cannot read ${where.location}: unexpected error: ${e instanceof Error ? e.message : String(e)}`)
      return {location: where.location, status: 'error', code: 'INTERNAL', message}
    }
  }

  private target(at: {image: string; domain: string; path: string}, reference: string, location: string): Target {
    return this.client.target({...at, reference}, `cannot read ${location}`)
  }

  /**
   * A legacy `.sig` / `.att` manifest: every layer's blob, with the layer's annotations. A layer whose
   * digest is that of one of the `known` byte strings is those bytes, without a GET: the digest in the
   * manifest pins the bytes exactly as a fetched blob's digest check would.
   */
  private async legacy<T>(
    at: {image: string; domain: string; path: string},
    tag: string,
    location: string,
    toItem: (blob: Buffer, d: Desc) => T,
    known: ReadonlyMap<string, Buffer> = new Map(),
  ): Promise<T[] | 'absent'> {
    const t = this.target(at, tag, location)
    const m = await fetchManifest(this.client, t, tag, IMAGE_MANIFEST_ACCEPT)
    if (m === undefined) return 'absent'
    const items: T[] = []
    for (const layer of descriptors(this.client, t, m, 'layers', `${t.path}:${tag}`)) {
      const same = known.get(layer.digest)
      items.push(toItem(same !== undefined && same.length === layer.size ? same : await this.blob(t, layer), layer))
    }
    return items
  }

  private async blob(t: Target, d: Desc): Promise<Buffer> {
    if (d.size > MAX_BLOB_BYTES) {
      throw this.client.fail(
        'REGISTRY_PROTOCOL',
        t,
        `the blob ${d.digest} (${d.size} bytes, as its descriptor says) was refused: over ${formatBytes(MAX_BLOB_BYTES)}`,
      )
    }
    const body = await this.client.getBlob(t, d.digest, MAX_BLOB_BYTES)
    if (body.length !== d.size) {
      throw this.client.fail('REGISTRY_PROTOCOL', t, `the blob ${d.digest} at ${t.label} has ${body.length} bytes, its descriptor says ${d.size}`)
    }
    return body
  }

  /** Referrers API, else the fallback index; then each bundle referrer's manifest and bundle layer. */
  private async bundles(at: {image: string; domain: string; path: string}, repository: string, digest: string): Promise<Lookup<BundleArtifact>> {
    const fallbackTag = digestTag(digest, '')
    return this.lookup<BundleArtifact>(`${repository}@${digest} (referrers)`, async (where) => {
      const fallbackLocation = `${repository}@${digest} (fallback tag ${fallbackTag})`
      const listed = await listReferrers(this.client, this.target(at, digest, where.location), digest, 'pull', () => {
        where.location = fallbackLocation
        return this.target(at, fallbackTag, fallbackLocation)
      })
      if (listed === 'absent') return 'absent'
      const t = this.target(at, listed.api ? digest : fallbackTag, where.location)
      const wanted = listed.entries.filter((d) => d.artifactType !== undefined && isBundleArtifactType(d.artifactType))
      const items: BundleArtifact[] = []
      for (const d of wanted) {
        const item = await this.bundle(t, d, digest)
        if (item !== undefined) items.push(item)
      }
      return items.length === 0 ? 'absent' : items
    })
  }

  private async bundle(t: Target, d: Desc, subject: string): Promise<BundleArtifact | undefined> {
    const m = await fetchManifest(this.client, t, d.digest, REFERRER_MANIFEST_ACCEPT)
    if (m === undefined) {
      // Listed but gone (deleted after the index was written): nothing to read, not a failure.
      this.client.debug(`${t.path}@${d.digest}: referrer listed but not found; skipped`)
      return undefined
    }
    const subjectDigest = readDescriptor(m.json['subject'])?.digest
    if (subjectDigest !== undefined && subjectDigest !== subject) {
      this.client.debug(`${t.path}@${d.digest}: referrer of ${subjectDigest}, not of ${subject}; skipped`)
      return undefined
    }
    const artifactType = d.artifactType as string
    // OCI 1.1 image manifests hold the bundle in layers; the withdrawn OCI artifact manifest in blobs.
    const field = Array.isArray(m.json['blobs']) && !Array.isArray(m.json['layers']) ? 'blobs' : 'layers'
    const layers = descriptors(this.client, t, m, field, `the referrer ${t.path}@${d.digest}`)
    const layer = layers.find((l) => l.mediaType === artifactType) ?? layers.find((l) => isBundleArtifactType(l.mediaType)) ?? layers[0]
    if (layer === undefined) throw this.client.fail('REGISTRY_PROTOCOL', t, `the referrer ${t.path}@${d.digest} at ${t.label} has no layer`)
    const annotations = readAnnotations(m.json['annotations'])
    const item: BundleArtifact = {bundle: await this.blob(t, layer), artifactType, manifestDigest: m.digest}
    const predicateType = annotations[ANNOTATIONS.bundlePredicateType] ?? d.annotations[ANNOTATIONS.bundlePredicateType]
    if (predicateType !== undefined) item.predicateType = predicateType
    return item
  }
}

/**
 * The referrers of `digest`: from the API when the registry has one, else from the fallback index
 * tagged `sha256-<hex>` (no entries when that tag does not exist). 'absent' when the repository does not exist.
 */
export async function listReferrers(
  client: RegistryClient,
  t: Target,
  digest: string,
  scope: Scope,
  /** The target of the fallback tag, asked for once the registry turns out to have no referrers API. */
  fallbackTarget: () => Target,
): Promise<{api: boolean; entries: Desc[]} | 'absent'> {
  if (client.withoutReferrersApi.has(t.host)) return fallbackReferrers(client, digest, scope, fallbackTarget)
  const {res, attempts} = await client.exchange(t, 'GET', client.url(t, 'referrers', digest), INDEX_ACCEPT, {maxBytes: MAX_MANIFEST_BYTES, scope})
  const index = res.status === 200 || res.status === 404 ? parseIndex(res.body) : undefined
  if (res.status === 200 && index !== undefined) {
    const what = `the referrers of ${t.path}@${digest}`
    const entries = descriptors(client, t, asManifest(res.body, index), 'manifests', what)
    // The API may page its answer (Link: <…>; rel="next"); every page counts towards the 100 entries.
    let next = nextPage(res)
    // Empty pages pointing onwards would otherwise loop forever.
    for (let pages = 1; next !== undefined; pages++) {
      if (pages > MAX_ENTRIES) throw client.fail('REGISTRY_PROTOCOL', t, `${what} at ${t.label} span over ${MAX_ENTRIES} pages: refused`)
      const page = await client.exchange(t, 'GET', next, INDEX_ACCEPT, {maxBytes: MAX_MANIFEST_BYTES, scope})
      const pageIndex = page.res.status === 200 ? parseIndex(page.res.body) : undefined
      if (page.res.status !== 200) throw await client.statusFailure(page.res, t, page.attempts, digest)
      if (pageIndex === undefined) throw client.fail('REGISTRY_PROTOCOL', t, `${t.label} answered a page of ${what} with something that is not an image index`)
      entries.push(...descriptors(client, t, asManifest(page.res.body, pageIndex), 'manifests', what))
      if (entries.length > MAX_ENTRIES) throw client.fail('REGISTRY_PROTOCOL', t, `${what} at ${t.label} list over ${MAX_ENTRIES} manifests: refused`)
      next = nextPage(page.res)
    }
    return {api: true, entries}
  }
  if (res.status === 404 && registryErrorDetail(res).code === 'NAME_UNKNOWN') return 'absent'
  // No referrers API: distribution 2.8 answers 404 with a text body, others 405 / 400 / 501.
  const noApi = (res.status === 404 && index === undefined) || res.status === 405 || res.status === 400 || res.status === 501
  if (!noApi) {
    if (res.status === 200)
      throw client.fail('REGISTRY_PROTOCOL', t, `${t.label} answered the referrers of ${t.path}@${digest} with something that is not an image index`)
    throw await client.statusFailure(res, t, attempts, digest)
  }
  client.withoutReferrersApi.add(t.host)
  return fallbackReferrers(client, digest, scope, fallbackTarget)
}

/** The referrers tag schema: the index tagged `sha256-<hex>` that clients keep where the registry has no API. */
async function fallbackReferrers(client: RegistryClient, digest: string, scope: Scope, fallbackTarget: () => Target): Promise<{api: boolean; entries: Desc[]}> {
  const tag = digestTag(digest, '')
  const tagTarget = fallbackTarget()
  const fallback = await fetchManifest(client, tagTarget, tag, INDEX_ACCEPT, scope)
  if (fallback === undefined) return {api: false, entries: []}
  return {api: false, entries: descriptors(client, tagTarget, fallback, 'manifests', `${tagTarget.path}:${tag}`)}
}

const asManifest = (body: Buffer, json: Record<string, unknown>): FetchedManifest => ({digest: sha256(body), size: body.length, mediaType: INDEX_ACCEPT, json})

/** The `rel="next"` target of a Link header, resolved against the request URL (same scheme, any host). */
function nextPage(res: HttpResponse): URL | undefined {
  const link = header(res, 'link')
  const target = link === undefined ? undefined : /<([^>]+)>\s*;\s*rel="?next"?/i.exec(link)?.[1]
  if (target === undefined) return undefined
  try {
    const url = new URL(target, res.url)
    return url.protocol === res.url.protocol ? url : undefined
  } catch {
    return undefined
  }
}

function parseIndex(body: Buffer): Record<string, unknown> | undefined {
  try {
    const json = JSON.parse(body.toString('utf8')) as unknown
    if (typeof json === 'object' && json !== null && Array.isArray((json as Record<string, unknown>)['manifests'])) return json as Record<string, unknown>
  } catch {
    // not JSON: no referrers API here
  }
  return undefined
}

/**
 * The simple-signing payloads `cosign sign` writes by default for this digest (no `-a` annotations), by
 * digest: `{"critical":{"identity":{"docker-reference":REPO},"image":{"docker-manifest-digest":DIGEST},"type":…},"optional":null}`
 * with REPO as go-containerregistry names the image's repository (Docker Hub as `index.docker.io/…`).
 * A `.sig` layer with one of these digests needs no blob GET: one request fewer per signed image.
 * Any other payload (annotations, another reference) is fetched as before.
 */
function knownPayloads(r: SignatureRequest): Map<string, Buffer> {
  const references = isDockerHubDomain(r.domain) ? [`index.docker.io/${r.path}`, `docker.io/${r.path}`] : [`${r.domain}/${r.path}`]
  const out = new Map<string, Buffer>()
  for (const reference of references) {
    const bytes = Buffer.from(simpleSigningPayload(reference, r.digest))
    out.set(sha256(bytes), bytes)
  }
  return out
}

function simpleSigningLayer(blob: Buffer, d: Desc): SimpleSigningLayer {
  const a = d.annotations
  const certificate = a[ANNOTATIONS.certificate]
  const chain = a[ANNOTATIONS.chain]
  const rekorBundle = a[ANNOTATIONS.rekorBundle]
  return {
    payload: new Uint8Array(blob),
    signature: a[ANNOTATIONS.signature] ?? '',
    ...(certificate === undefined ? {} : {certificate}),
    ...(chain === undefined ? {} : {chain}),
    ...(rekorBundle === undefined ? {} : {rekorBundle}),
  }
}

function dsseLayer(blob: Buffer, d: Desc): DsseLayer {
  const a = d.annotations
  const predicateType = a[ANNOTATIONS.predicateType]
  const certificate = a[ANNOTATIONS.certificate]
  const chain = a[ANNOTATIONS.chain]
  return {
    envelope: new Uint8Array(blob),
    ...(predicateType === undefined ? {} : {predicateType}),
    ...(certificate === undefined ? {} : {certificate}),
    ...(chain === undefined ? {} : {chain}),
  }
}
