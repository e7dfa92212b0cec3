/**
 * `safe-deploy attest --sigstore`: pin the image, sign its digest the way cosign does, verify the
 * result with the pre-flight's own verifier, then push it to the registry (docs/sigstore.md#signing).
 * Default: a Sigstore bundle v0.3 (DSSE over an in-toto statement) as an OCI 1.1 referrer, with the
 * fallback tag index where the registry has no referrers API; `legacy`: a layer of the
 * `sha256-<hex>.sig` (or `.att`) manifest. Pushing is idempotent: the same signature is not added twice.
 */
import {SafeDeployError} from '../core/errors.js'
import {inTotoStatement, simpleSigningPayload, buildDsseBundle, COSIGN_SIGN_PREDICATE} from '../core/signatures/build.js'
import {prepareRequirement} from '../core/signatures/requirement.js'
import {verifySignatures} from '../core/signatures/verify.js'
import type {RepositoryOverride} from '../core/signatures/requests.js'
import type {SignatureArtifacts, SignatureCheck} from '../core/signatures/types.js'
import type {DigestResolver, SignaturePublisher, SignatureSource, SigstoreSigner} from '../core/ports.js'

export type {Published, SignaturePublisher, SigstoreSigner} from '../core/ports.js'
import {pinForAttest} from './attest.js'

export interface SigstoreAttestOptions {
  image?: string | undefined
  imageDigest?: string | undefined
  /** `bundle` (cosign v3's default) or `legacy` (the `.sig` / `.att` tag scheme). */
  format: 'bundle' | 'legacy'
  /** An in-toto attestation of this predicate type instead of a signature (with `predicate`). */
  attestation?: {type: string; predicate: unknown} | undefined
  repository?: RepositoryOverride | undefined
}

export interface SigstoreAttestPorts {
  resolver: DigestResolver
  /** What the registry already holds, so the same key does not sign the same digest twice. */
  source: SignatureSource
  signer(): Promise<SigstoreSigner>
  publisher: SignaturePublisher
}

export interface SigstoreAttestResult {
  image: string
  digest: string
  format: 'simplesigning' | 'bundle'
  signatureKind: 'signature' | 'attestation'
  predicateType?: string
  key: string
  location: string
  created: boolean
}

export async function attestSigstore(options: SigstoreAttestOptions, ports: SigstoreAttestPorts): Promise<SigstoreAttestResult> {
  const {image, digest, domain, path} = await pinForAttest(options, ports.resolver)
  const where = options.repository ?? {domain, path}
  const signer = await ports.signer()
  const type = options.attestation?.type
  const requirement = prepareRequirement({keys: [{name: signer.name, pem: signer.publicKeyPem}], identities: [], attestationTypes: type ? [type] : []})
  const repository = `${where.domain}/${where.path}`
  const base = {image, digest, key: signer.name, ...(type ? {predicateType: type} : {})}

  // A signature is idempotent by key: ECDSA signatures differ each time, so "the same" means one
  // this key already made for this digest, in this format (cosign would add another).
  if (type === undefined) {
    const [existing] = await ports.source.read([{image, ...where, digest, attestations: false}])
    const format = options.format === 'legacy' ? 'simplesigning' : 'bundle'
    const already = existing && verifySignatures(requirement, existing).signatures.find((c) => c.verified && c.format === format)
    if (already) return {...base, format, signatureKind: 'signature', location: already.location, created: false}
  }

  if (options.format === 'legacy' && options.attestation === undefined) {
    const payload = simpleSigningPayload(`${domain}/${path}`, digest)
    const signature = Buffer.from(await signer.sign(payload)).toString('base64')
    const artifacts = emptyArtifacts(repository, digest)
    artifacts.legacySignatures = {location: `${repository}:${tagOf(digest)}.sig`, status: 'found', items: [{payload, signature}]}
    mustVerify(verifySignatures(requirement, artifacts).signatures, image)
    const published = await ports.publisher.publishLegacySignature({...where, digest, payload, signature})
    return {...base, format: 'simplesigning', signatureKind: 'signature', ...published}
  }

  const statement = inTotoStatement({
    repository: `${domain}/${path}`,
    digest,
    predicateType: type ?? COSIGN_SIGN_PREDICATE,
    predicate: options.attestation?.predicate ?? {},
  })
  const bundleJson = await buildDsseBundle({...signer, keyId: signer.name}, statement)
  const bundle = new TextEncoder().encode(JSON.stringify(bundleJson))
  const artifacts = emptyArtifacts(repository, digest)
  if (options.format === 'legacy') {
    // cosign's `.att` layer is the DSSE envelope alone.
    const envelope = new TextEncoder().encode(JSON.stringify((bundleJson as {dsseEnvelope: unknown}).dsseEnvelope))
    artifacts.legacyAttestations = {location: `${repository}:${tagOf(digest)}.att`, status: 'found', items: [{envelope, predicateType: type as string}]}
    mustVerify(verifySignatures(requirement, artifacts).attestations, image)
    const published = await ports.publisher.publishLegacyAttestation({...where, digest, envelope, predicateType: type as string})
    return {...base, format: 'simplesigning', signatureKind: 'attestation', ...published}
  }
  artifacts.bundles = {
    location: `${repository}@${digest} (new)`,
    status: 'found',
    items: [
      {bundle, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', manifestDigest: '(not pushed yet)', ...(type ? {predicateType: type} : {})},
    ],
  }
  const verdict = verifySignatures(requirement, artifacts)
  mustVerify(type ? verdict.attestations : verdict.signatures, image)
  const published = await ports.publisher.publishBundle({
    ...where,
    digest,
    bundle,
    predicateType: type ?? COSIGN_SIGN_PREDICATE,
    ...(options.repository ? {imageRepository: {domain, path}} : {}),
  })
  return {...base, format: 'bundle', signatureKind: type ? 'attestation' : 'signature', ...published}
}

const tagOf = (digest: string): string => digest.replace(':', '-')

function emptyArtifacts(repository: string, digest: string): SignatureArtifacts {
  return {repository, digest, legacySignatures: {location: '', status: 'absent'}, bundles: {location: '', status: 'absent'}}
}

/** What is pushed must be what a pre-flight accepts: verified with the same code, or nothing is pushed. */
function mustVerify(checks: SignatureCheck[], image: string): void {
  if (checks.some((c) => c.verified)) return
  const why =
    checks
      .map((c) => c.reason)
      .filter(Boolean)
      .join('; ') || 'nothing to verify'
  throw new SafeDeployError('SIGNATURE_INVALID', `the new signature for ${image} does not verify with its own public key: ${why}; nothing was pushed`, {
    hint: 'check that the private key (or KMS key version) is an ECDSA, RSA or Ed25519 signing key',
  })
}
