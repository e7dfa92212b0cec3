/**
 * `safe-deploy attest`: pin the image, read the attestor, sign the gcloud payload, verify the new
 * signature with the pre-flight's own verifier, then store it. A signature the attestor would not
 * accept is never stored (docs/binauthz.md#signature-verification); storing is idempotent
 * (docs/binauthz.md#notes-and-occurrences). Ports are plain objects, so the whole use case runs
 * in-process with fakes (test/unit/app/attest.test.ts).
 */
import {SafeDeployError} from '../core/errors.js'
import {parseWritten} from '../core/reference/index.js'
import {buildSignaturePayload} from '../core/attestation/payload.js'
import {buildOccurrence} from '../core/attestation/sign.js'
import {checkAttestor} from '../core/attestation/verify.js'
import {parseOccurrences} from '../core/attestation/parse.js'
import type {Attestor} from '../core/attestation/types.js'
import type {AttestationStore, AttestorSource, AttestSigner, DigestResolver, SignerKind, StoredAt} from '../core/ports.js'
import {parseAttestorName} from '../core/resource-names.js'

export interface AttestOptions {
  /** A reference to attest; a tag is resolved to its digest first (the digest is what gets signed). */
  image?: string | undefined
  /** A reference already pinned (REF@sha256:…); never resolved. */
  imageDigest?: string | undefined
  /** projects/PROJECT/attestors/NAME */
  attestor: string
}

export type {AttestationStore, AttestSigner, NewAttestation, SignerKind, StoredAt} from '../core/ports.js'

export interface AttestPorts {
  /** Asked only when the image is a tag. */
  resolver: DigestResolver
  attestors: AttestorSource
  /** The signer, once the attestor is known (a PEM key takes its algorithm from the attestor key it belongs to). */
  signer(attestor: Attestor): Promise<AttestSigner>
  store: AttestationStore
}

export interface AttestResult {
  image: string
  digest: string
  attestor: string
  noteName: string
  keyId: string
  signer: SignerKind
  stored: StoredAt
  created: boolean
  occurrence: object
}

export async function attest(options: AttestOptions, ports: AttestPorts): Promise<AttestResult> {
  if (parseAttestorName(options.attestor) === undefined) {
    throw new SafeDeployError('USAGE', `--attestor expects projects/PROJECT/attestors/NAME, got "${options.attestor}"`)
  }
  const {image, digest} = await pinForAttest(options, ports.resolver)
  const attestor = await ports.attestors.getAttestor(options.attestor)
  const signer = await ports.signer(attestor)
  const trusted = `the attestor trusts: ${attestor.publicKeys.map((k) => k.id).join(', ') || '(no keys)'}`
  if (!attestor.publicKeys.some((k) => k.id === signer.keyId)) {
    throw new SafeDeployError(
      'KEY_INVALID',
      `key id ${signer.keyId} is not configured on attestor ${attestor.name}; Binary Authorization would ignore this signature`,
      {hint: trusted},
    )
  }
  const payload = buildSignaturePayload(image)
  const signature = await signer.sign(payload)
  const occurrence = buildOccurrence({
    imageWithDigest: image,
    noteName: attestor.noteReference,
    payload,
    signature,
    keyId: signer.keyId,
    pgp: signer.kind === 'pgp',
  })
  // Verified with the pre-flight's own code path before anything is stored.
  const check = await checkAttestor(attestor, parseOccurrences(occurrence, 'new attestation'), digest)
  if (!check.satisfied) {
    const why = check.checks.map((c) => c.reason).join('; ') || check.reason
    throw new SafeDeployError('SIGNATURE_INVALID', `the new signature would not be accepted by ${attestor.name}: ${why}; nothing was stored`, {
      hint: "check that the key matches the attestor's public key and algorithm",
    })
  }
  const {stored, created} = await ports.store.store({
    occurrence,
    attestor: attestor.name,
    noteName: attestor.noteReference,
    digest,
    keyId: signer.keyId,
    isExistingValid: async (existing) => (await checkAttestor(attestor, [existing], digest)).satisfied,
  })
  return {image, digest, attestor: attestor.name, noteName: attestor.noteReference, keyId: signer.keyId, signer: signer.kind, stored, created, occurrence}
}

/** image → image@digest (a tag resolved through the registry); --image-digest must already carry the digest. Shared by attest --sigstore. */
export async function pinForAttest(
  options: Pick<AttestOptions, 'image' | 'imageDigest'>,
  resolver: DigestResolver,
): Promise<{image: string; digest: string; domain: string; path: string}> {
  const given = options.imageDigest ?? options.image
  if (!given) throw new SafeDeployError('USAGE', 'give --image REF (resolved to its digest) or --image-digest REF@sha256:…')
  const w = parseWritten(given)
  if (w.digest !== undefined) {
    if (!w.digest.startsWith('sha256:')) throw new SafeDeployError('INVALID_REFERENCE', `Binary Authorization only accepts sha256 digests, got ${w.digest}`)
    return {image: `${w.domain}/${w.path}@${w.digest}`, digest: w.digest, domain: w.domain, path: w.path}
  }
  if (options.imageDigest) {
    throw new SafeDeployError('USAGE', `--image-digest needs REF@sha256:…, got "${given}"`, {hint: 'use --image to resolve a tag first'})
  }
  const [outcome] = await resolver.resolveAll([{image: given, domain: w.domain, path: w.path, reference: w.tag ?? 'latest'}])
  if (!outcome) throw new SafeDeployError('INTERNAL', 'resolver returned no outcome')
  if (!outcome.ok) {
    throw new SafeDeployError(outcome.error.code, `cannot pin ${given}, so nothing was signed: ${outcome.error.message}`, {
      hint: outcome.error.hint,
      cause: outcome.error.cause,
    })
  }
  return {image: `${w.domain}/${w.path}@${outcome.value.digest}`, digest: outcome.value.digest, domain: w.domain, path: w.path}
}
