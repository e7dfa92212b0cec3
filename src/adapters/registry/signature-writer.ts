/**
 * RegistrySignatureWriter: pushes cosign-format signatures beside an image, in the two layouts
 * RegistrySignatureSource reads (sigstore/cosign `pkg/oci/remote/write.go`, @sigstore/oci `image.ts`):
 *  - a legacy signature: one more simple-signing layer in the manifest tagged `sha256-<hex>.sig`;
 *  - a Sigstore bundle as an OCI 1.1 referrer of the image (artifactType bundle v0.3, subject = the
 *    image), plus the "referrers tag schema" index tagged `sha256-<hex>` when the registry has no
 *    referrers API, as cosign v3 and @sigstore/oci maintain it.
 * Both are idempotent: what is already there is not pushed again ({created: false}). Both are
 * read-modify-write of a tag, like cosign's: two writers racing on one digest can lose a layer or an
 * index entry (the registry has no compare-and-swap on tags).
 */
import {SafeDeployError} from '../../core/errors.js'
import type {SignaturePublisher} from '../../core/ports.js'
import {header, RegistryClient, registryErrorDetail, sha256, type Exchange, type RegistryClientOptions, type Target} from './client.js'
import {isSha256, MANIFEST_ACCEPT, MEDIA_TYPES} from './media.js'
import {
  ANNOTATIONS,
  descriptors,
  digestTag,
  fetchManifest,
  isBundleArtifactType,
  listReferrers,
  MAX_BLOB_BYTES,
  SIGSTORE_MEDIA,
  type FetchedManifest,
} from './signatures.js'

export interface LegacySignaturePush {
  /** The image as written, for messages; default `domain/path@digest`. */
  image?: string
  domain: string
  path: string
  /** sha256:… of the signed image. */
  digest: string
  layer: {
    /** The simple-signing payload (the layer blob); for an attestation, the DSSE envelope. */
    payload: Uint8Array
    /** `dev.cosignproject.cosign/signature` and, for keyless signatures, certificate, chain, bundle; `predicateType` for an attestation. */
    annotations: Record<string, string>
  }
  /** `.sig` (a signature, default) or `.att` (an attestation: the layer is a DSSE envelope). */
  kind?: 'signature' | 'attestation'
}

export interface BundleReferrerPush {
  image?: string
  domain: string
  path: string
  /** sha256:… of the image the bundle is about (the referrer's subject). */
  digest: string
  /** The image manifest's mediaType and size for the subject descriptor; read from the registry when not given. */
  imageMediaType?: string
  imageSize?: number
  /** Where the image itself is, when the bundle goes to another repository (--sigstore-repository): its descriptor is read there. */
  imageRepository?: {domain: string; path: string}
  /** The Sigstore bundle JSON bytes. */
  bundle: Uint8Array
  /** The signed statement's predicate type (`dev.sigstore.bundle.predicateType`). */
  predicateType: string
  /** `org.opencontainers.image.created`; default now. */
  created?: Date
}

export interface PushResult {
  /** False when an identical signature was already there (nothing was written). */
  created: boolean
  /** Where it is: `host/path:sha256-….sig` or `host/path@sha256:… (referrer sha256:…)`. */
  location: string
}

const EMPTY_JSON = Buffer.from('{}')
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'

export class RegistrySignatureWriter implements SignaturePublisher {
  static fromOptions(options: RegistryClientOptions = {}): RegistrySignatureWriter {
    return new RegistrySignatureWriter(new RegistryClient(options))
  }

  constructor(readonly client: RegistryClient) {}

  close(): void {
    this.client.close()
  }

  // The SignaturePublisher port (attest --sigstore), in the layouts below.
  publishLegacySignature(req: {domain: string; path: string; digest: string; payload: Uint8Array; signature: string}): Promise<PushResult> {
    return this.pushLegacySignature({...req, layer: {payload: req.payload, annotations: {[ANNOTATIONS.signature]: req.signature}}})
  }

  publishLegacyAttestation(req: {domain: string; path: string; digest: string; envelope: Uint8Array; predicateType: string}): Promise<PushResult> {
    return this.pushLegacySignature({...req, kind: 'attestation', layer: {payload: req.envelope, annotations: {predicateType: req.predicateType}}})
  }

  publishBundle(req: {
    domain: string
    path: string
    digest: string
    bundle: Uint8Array
    predicateType: string
    imageRepository?: {domain: string; path: string}
  }): Promise<PushResult> {
    return this.pushBundleReferrer(req)
  }

  /** One more layer in the `sha256-<hex>.sig` manifest (`.att` for an attestation), unless the same one is there. */
  async pushLegacySignature(req: LegacySignaturePush): Promise<PushResult> {
    const attestation = req.kind === 'attestation'
    const tag = digestTag(checkDigest(req.digest), attestation ? '.att' : '.sig')
    const location = `${req.domain}/${req.path}:${tag}`
    const t = this.target(req, tag, `cannot push a signature to ${location}`)
    return this.client.limit(async () => {
      const existing = await fetchManifest(this.client, t, tag, [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(', '), 'pull,push')
      const payload = Buffer.from(req.layer.payload)
      const payloadDigest = sha256(payload)
      // A signature layer is the same when its signature is; an attestation (its signature inside the envelope) when its bytes are.
      const signature = attestation ? undefined : req.layer.annotations[ANNOTATIONS.signature]
      const previous = existing === undefined ? [] : descriptors(this.client, t, existing, 'layers', `${t.path}:${tag}`)
      const same = previous.some((l) =>
        signature !== undefined
          ? l.annotations[ANNOTATIONS.signature] === signature
          : l.digest === payloadDigest && sameAnnotations(l.annotations, req.layer.annotations),
      )
      if (same) return {created: false, location}
      await this.uploadBlob(t, payload)
      // An existing manifest keeps its config (and mediaType: older cosign wrote Docker v2 manifests);
      // a new one gets the OCI config type with `{}` (signatures are read from the layers and their annotations).
      let config: unknown = existing?.json['config']
      if (existing === undefined) config = {mediaType: OCI_CONFIG, digest: await this.uploadBlob(t, EMPTY_JSON), size: EMPTY_JSON.length}
      const mediaType = existing?.mediaType === MEDIA_TYPES.dockerManifest ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.ociManifest
      const layer = {
        mediaType: attestation ? SIGSTORE_MEDIA.dsse : SIGSTORE_MEDIA.simpleSigning,
        digest: payloadDigest,
        size: payload.length,
        annotations: req.layer.annotations,
      }
      const previousRaw = existing === undefined ? [] : (existing.json['layers'] as unknown[])
      const manifest = {...(existing?.json ?? {}), schemaVersion: 2, mediaType, config, layers: [...previousRaw, layer]}
      await this.putManifest(t, tag, Buffer.from(JSON.stringify(manifest)), mediaType)
      return {created: true, location}
    })
  }

  async pushBundleReferrer(req: BundleReferrerPush): Promise<PushResult> {
    const digest = checkDigest(req.digest)
    const repository = `${req.domain}/${req.path}`
    const fallbackTag = digestTag(digest, '')
    const context = `cannot push a bundle referrer of ${repository}@${digest}`
    const t = this.target(req, digest, context)
    return this.client.limit(async () => {
      const bundle = Buffer.from(req.bundle)
      if (bundle.length > MAX_BLOB_BYTES) throw this.client.fail('USAGE', t, `the bundle has ${bundle.length} bytes: over the 16 MiB readers accept`)
      const bundleDigest = sha256(bundle)
      const listed = await listReferrers(this.client, t, digest, 'pull,push', () => this.target(req, fallbackTag, context))
      const entries = listed === 'absent' ? [] : listed.entries
      for (const d of entries) {
        if (d.artifactType === undefined || !isBundleArtifactType(d.artifactType)) continue
        const m = await fetchManifest(this.client, t, d.digest, [MEDIA_TYPES.ociManifest, SIGSTORE_MEDIA.ociArtifactManifest].join(', '), 'pull,push')
        if (m === undefined) continue
        const layers = Array.isArray(m.json['layers']) ? descriptors(this.client, t, m, 'layers', `the referrer ${t.path}@${d.digest}`) : []
        if (layers.some((l) => l.digest === bundleDigest)) return {created: false, location: `${repository}@${digest} (referrer ${d.digest})`}
      }
      const subject = await this.subject(t, req)
      await this.uploadBlob(t, bundle)
      const emptyDigest = await this.uploadBlob(t, EMPTY_JSON)
      const annotations = {
        [ANNOTATIONS.bundleContent]: bundleContent(bundle),
        [ANNOTATIONS.bundlePredicateType]: req.predicateType,
        [ANNOTATIONS.created]: (req.created ?? new Date()).toISOString(),
      }
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.ociManifest,
          artifactType: SIGSTORE_MEDIA.bundleV03,
          config: {mediaType: SIGSTORE_MEDIA.ociEmpty, digest: emptyDigest, size: EMPTY_JSON.length},
          layers: [{mediaType: SIGSTORE_MEDIA.bundleV03, digest: bundleDigest, size: bundle.length}],
          subject,
          annotations,
        }),
      )
      const manifestDigest = sha256(manifest)
      const put = await this.putManifest(t, manifestDigest, manifest, MEDIA_TYPES.ociManifest)
      // The OCI-Subject header says the registry indexed the subject itself; without it (or without
      // the API) the client keeps the fallback index, as the distribution spec asks of clients.
      const indexed = listed !== 'absent' && listed.api && header(put.res, 'oci-subject') === digest
      if (!indexed) {
        const ft = this.target(req, fallbackTag, context)
        const current = await fetchManifest(this.client, ft, fallbackTag, MEDIA_TYPES.ociIndex, 'pull,push')
        await this.addToFallbackIndex(ft, fallbackTag, current, {
          mediaType: MEDIA_TYPES.ociManifest,
          digest: manifestDigest,
          size: manifest.length,
          artifactType: SIGSTORE_MEDIA.bundleV03,
          annotations,
        })
      }
      return {created: true, location: `${repository}@${digest} (referrer ${manifestDigest})`}
    })
  }

  private target(req: {image?: string; domain: string; path: string; digest: string}, reference: string, context: string): Target {
    const image = req.image ?? `${req.domain}/${req.path}@${req.digest}`
    return this.client.target({image, domain: req.domain, path: req.path, reference}, context, {mirrors: false})
  }

  /** The image's descriptor for `subject`: as given, else from a HEAD (a GET when HEAD gives no usable headers). */
  private async subject(t: Target, req: BundleReferrerPush): Promise<{mediaType: string; digest: string; size: number}> {
    if (req.imageMediaType !== undefined && req.imageSize !== undefined) return {mediaType: req.imageMediaType, digest: req.digest, size: req.imageSize}
    const at = req.imageRepository
    const elsewhere = at !== undefined && (at.domain !== req.domain || at.path !== req.path)
    const scope = elsewhere ? 'pull' : 'pull,push'
    if (at !== undefined && elsewhere) {
      // The image is elsewhere: its repository is only read (the subject descriptor), never written.
      t = this.client.target(
        {image: `${at.domain}/${at.path}@${req.digest}`, domain: at.domain, path: at.path, reference: req.digest},
        `cannot read the image ${at.domain}/${at.path}@${req.digest}`,
      )
    }
    const {res, attempts} = await this.client.exchange(t, 'HEAD', this.client.url(t, 'manifests', req.digest), MANIFEST_ACCEPT, {scope})
    if (res.status !== 200) throw await this.client.statusFailure(res, t, attempts, req.digest)
    const mediaType = header(res, 'content-type')
    const size = header(res, 'content-length')
    if (mediaType !== undefined && size !== undefined && /^\d+$/.test(size))
      return {mediaType: mediaType.split(';')[0]?.trim() ?? mediaType, digest: req.digest, size: Number(size)}
    const m = await fetchManifest(this.client, t, req.digest, MANIFEST_ACCEPT, scope)
    if (m === undefined) throw this.client.fail('REGISTRY_NOT_FOUND', t, `manifest ${req.digest} not found in ${t.path} at ${t.label}`)
    return {mediaType: m.mediaType, digest: req.digest, size: m.size}
  }

  private async addToFallbackIndex(
    t: Target,
    tag: string,
    current: FetchedManifest | undefined,
    entry: Record<string, unknown> & {digest: string},
  ): Promise<void> {
    const existing = current === undefined ? [] : descriptors(this.client, t, current, 'manifests', `${t.path}:${tag}`)
    if (existing.some((d) => d.digest === entry.digest)) return
    const raw = current === undefined ? [] : (current.json['manifests'] as unknown[])
    const index = {...(current?.json ?? {}), schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [...raw, entry]}
    await this.putManifest(t, tag, Buffer.from(JSON.stringify(index)), MEDIA_TYPES.ociIndex)
  }

  /** Monolithic upload (POST, then PUT ?digest= with the bytes); skipped when the blob is already there. */
  private async uploadBlob(t: Target, body: Buffer): Promise<string> {
    const digest = sha256(body)
    const head = await this.client.exchange(t, 'HEAD', this.client.url(t, 'blobs', digest), '*/*', {scope: 'pull,push'})
    if (head.res.status === 200) return digest
    const start = await this.client.exchange(t, 'POST', this.client.url(t, 'blobs/uploads', ''), '*/*', {scope: 'pull,push', body: Buffer.alloc(0)})
    const location = header(start.res, 'location')
    if (start.res.status !== 202 || location === undefined) throw await this.writeFailure(start, t, `the blob upload to ${t.path}`)
    const url = new URL(location, start.res.url)
    url.searchParams.set('digest', digest)
    const put = await this.client.exchange(t, 'PUT', url, '*/*', {scope: 'pull,push', body, contentType: 'application/octet-stream'})
    if (put.res.status !== 201) throw await this.writeFailure(put, t, `the blob ${digest} for ${t.path}`)
    return digest
  }

  private async putManifest(t: Target, reference: string, body: Buffer, mediaType: string): Promise<Exchange> {
    const put = await this.client.exchange(t, 'PUT', this.client.url(t, 'manifests', reference), '*/*', {scope: 'pull,push', body, contentType: mediaType})
    if (put.res.status !== 201) throw await this.writeFailure(put, t, `the manifest ${t.path}${reference.includes(':') ? '@' : ':'}${reference}`)
    const claimed = header(put.res, 'docker-content-digest')
    if (claimed !== undefined && claimed !== sha256(body)) {
      throw this.client.fail('REGISTRY_PROTOCOL', t, `${t.label} stored ${t.path}:${reference} as ${claimed}, but the manifest sent hashes to ${sha256(body)}`)
    }
    return put
  }

  /** Auth, rate limits and 5xx as for reads; any other refusal names what was refused and why. */
  private async writeFailure(x: Exchange, t: Target, what: string): Promise<SafeDeployError> {
    const {res, attempts} = x
    if (res.status === 401 || res.status === 403 || res.status === 429 || res.status >= 500) return this.client.statusFailure(res, t, attempts, t.reference)
    const detail = registryErrorDetail(res)
    return this.client.fail(
      'REGISTRY_PROTOCOL',
      t,
      `${t.label} refused ${what} (HTTP ${res.status}${detail.code === undefined ? '' : ' ' + detail.code}${detail.message === undefined ? '' : ': ' + detail.message})`,
    )
  }
}

function checkDigest(digest: string): string {
  if (!isSha256(digest)) throw new SafeDeployError('INVALID_REFERENCE', `"${digest}" is not a sha256 digest (expected sha256:<64 lowercase hex>)`)
  return digest
}

function sameAnnotations(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k])
}

/** `dev.sigstore.bundle.content`: what the bundle signs, as cosign names it. */
function bundleContent(bundle: Buffer): string {
  try {
    const json = JSON.parse(bundle.toString('utf8')) as Record<string, unknown>
    if (json['messageSignature'] !== undefined) return 'message-signature'
  } catch {
    // not JSON: the reader's verifier will say so; the annotation is informational
  }
  return 'dsse-envelope'
}
