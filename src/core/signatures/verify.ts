/**
 * Registry signatures in, verdict out (docs/sigstore.md#what-makes-a-signature-count). Pure and synchronous over the
 * `SignatureArtifacts` the registry adapter gathered and the `PreparedRequirement` built once per deploy.
 *
 * Everything found in the registry is data: a malformed layer, a bundle that does not parse, a signature for another
 * image are each a `SignatureCheck` with a reason, never an exception. Only a bug throws (INTERNAL).
 */
import {createHash} from 'node:crypto'
import {bundleFromJSON, type Bundle} from '@sigstore/bundle'
import {X509Certificate} from '@sigstore/core'
import {toSignedEntity, VerificationError, type SignedEntity} from '@sigstore/verify'
import {SafeDeployError} from '../errors.js'
import {COSIGN_SIGN_PREDICATE, SIMPLE_SIGNING_TYPE, simpleSigningPayload} from './build.js'
import {IN_TOTO_PAYLOAD_TYPE, decodeBase64, dsseSignatureVerifies, keyVerifies, readStatement} from './dsse.js'
import {thresholdsNote, type PreparedIdentity, type PreparedKey, type PreparedRequirement} from './requirement.js'
import type {BundleArtifact, DsseLayer, Lookup, SignatureArtifacts, SignatureCheck, SignatureVerdict, SimpleSigningLayer} from './types.js'

const OID_FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1'
const OID_FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8'

const LEGACY_KEYLESS_REASON =
  'keyless signature in the legacy tag format: verifying it offline needs its Rekor SET checked against the trusted root, which safe-deploy does not do; sign with the bundle format (cosign v3, or --new-bundle-format)'

/** A check with the lookup it came from (for the one-line reason) and what a verified statement said. */
interface Found {
  check: SignatureCheck
  lookupLocation: string
}

/** What a signed payload turned out to be, once the signature verified (or not). */
type Verification = {ok: true; by: string} | {ok: false; reason: string}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function shortDigest(digest: string): string {
  return digest.length > 19 ? `${digest.slice(0, 19)}…` : digest
}

function triedKeys(req: PreparedRequirement): string {
  return req.keys.map((k) => k.name).join(', ')
}

/** Why none of the trusted keys verified raw bytes (no hint to say which key was meant). */
function keysFailedReason(req: PreparedRequirement): string {
  if (req.keys.length === 1) return `signature does not verify over the payload with ${triedKeys(req)}`
  return `signature does not verify over the payload with any trusted key (tried: ${triedKeys(req)})`
}

/** The simple-signing claims that make a signature about this image; undefined when they hold. */
function simpleSigningProblem(payload: Uint8Array, digest: string): string | undefined {
  let doc: unknown
  try {
    doc = JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(payload))
  } catch (err) {
    return `payload is not simple-signing JSON: ${errorText(err)}`
  }
  const critical = (doc as {critical?: {type?: unknown; image?: {'docker-manifest-digest'?: unknown}}} | null)?.critical
  if (critical === undefined || critical === null || typeof critical !== 'object') return 'payload has no "critical" section (not a simple-signing payload)'
  if (critical.type !== SIMPLE_SIGNING_TYPE) return `payload type ${JSON.stringify(critical.type)}, not ${JSON.stringify(SIMPLE_SIGNING_TYPE)}`
  const signed = critical.image?.['docker-manifest-digest']
  if (typeof signed !== 'string') return 'payload names no docker-manifest-digest'
  // Exact comparison: the digest is the identity of what is deployed; no case folding, no prefix matching.
  if (signed !== digest) return `signed for another digest ${signed}`
  return undefined
}

/** Predicate-type classification (docs/sigstore.md): cosign's own predicate is a signature, anything else an attestation. */
function kindOf(predicateType: string | undefined): 'signature' | 'attestation' {
  return predicateType === COSIGN_SIGN_PREDICATE ? 'signature' : 'attestation'
}

/** A verified attestation counts only when its type is required (or nothing is required of attestations). */
function attestationTypeProblem(req: PreparedRequirement, predicateType: string): string | undefined {
  if (req.attestationTypes.length === 0 || req.attestationTypes.includes(predicateType)) return undefined
  return `attestation of predicate type ${predicateType}, not the required ${req.attestationTypes.join(' or ')}`
}

// ---------------------------------------------------------------------------------------------------------------
// Legacy tag format

function checkSimpleSigning(req: PreparedRequirement, digest: string, layer: SimpleSigningLayer, location: string): SignatureCheck {
  const base = {format: 'simplesigning', kind: 'signature', location} as const
  const fail = (reason: string): SignatureCheck => ({...base, verified: false, reason})
  const signature = typeof layer.signature === 'string' ? decodeBase64(layer.signature) : undefined
  if (signature === undefined) return fail('the dev.cosignproject.cosign/signature annotation is missing or not base64')
  const by = req.keys.find((k) => keyVerifies(k.key, layer.payload, signature))
  if (by === undefined) {
    if (layer.certificate !== undefined && layer.certificate !== '') return fail(LEGACY_KEYLESS_REASON)
    if (req.keys.length === 0) return fail('signed with a key, but no --sigstore-key was given')
    return fail(keysFailedReason(req))
  }
  // Only once the bytes are authentic do their claims mean anything.
  const problem = simpleSigningProblem(layer.payload, digest)
  if (problem !== undefined) return fail(problem)
  return {...base, verified: true, verifiedBy: by.name}
}

interface Envelope {
  payloadType: string
  payload: Buffer
  signatures: Buffer[]
}

function parseEnvelope(bytes: Uint8Array): Envelope | string {
  let doc: {payloadType?: unknown; payload?: unknown; signatures?: unknown}
  try {
    doc = JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(bytes)) as typeof doc
  } catch (err) {
    return `invalid DSSE envelope: ${errorText(err)}`
  }
  if (doc === null || typeof doc !== 'object') return 'invalid DSSE envelope: not a JSON object'
  if (typeof doc.payloadType !== 'string') return 'invalid DSSE envelope: no payloadType'
  const payload = typeof doc.payload === 'string' ? decodeBase64(doc.payload) : undefined
  if (payload === undefined) return 'invalid DSSE envelope: payload missing or not base64'
  const sigs = Array.isArray(doc.signatures) ? (doc.signatures as Array<{sig?: unknown} | null>) : []
  const signatures = sigs.map((s) => (typeof s?.sig === 'string' ? decodeBase64(s.sig) : undefined)).filter((s): s is Buffer => s !== undefined)
  if (signatures.length === 0) return 'invalid DSSE envelope: no base64 signature'
  return {payloadType: doc.payloadType, payload, signatures}
}

function checkDsseLayer(req: PreparedRequirement, digest: string, layer: DsseLayer, location: string): SignatureCheck {
  // Legacy `.att` layers are attestations whatever their predicate (cosign attest wrote them).
  const base = {
    format: 'simplesigning',
    kind: 'attestation',
    location,
    ...(layer.predicateType === undefined ? {} : {predicateType: layer.predicateType}),
  } as const
  const fail = (reason: string, predicateType?: string): SignatureCheck => ({...base, ...(predicateType ? {predicateType} : {}), verified: false, reason})
  const envelope = parseEnvelope(layer.envelope)
  if (typeof envelope === 'string') return fail(envelope)
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return fail(`DSSE payload type ${JSON.stringify(envelope.payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`)
  const by = req.keys.find((k) => envelope.signatures.some((sig) => dsseSignatureVerifies(k.key, envelope.payloadType, envelope.payload, sig)))
  if (by === undefined) {
    if (layer.certificate !== undefined && layer.certificate !== '') return fail(LEGACY_KEYLESS_REASON)
    if (req.keys.length === 0) return fail('signed with a key, but no --sigstore-key was given')
    return fail(keysFailedReason(req))
  }
  const statement = readStatement(envelope.payload, digest)
  if (statement.problem !== undefined) return fail(statement.problem, statement.predicateType)
  const typeProblem = attestationTypeProblem(req, statement.predicateType)
  if (typeProblem !== undefined) return fail(typeProblem, statement.predicateType)
  return {...base, predicateType: statement.predicateType, verified: true, verifiedBy: by.name}
}

// ---------------------------------------------------------------------------------------------------------------
// Sigstore bundles

/** A VerificationError as a reason in our words; the one users meet most gets the plain sentence. */
function verificationReason(err: unknown, keyName?: string): string {
  if (err instanceof VerificationError) {
    if (err.code === 'SIGNATURE_ERROR') return `signature does not verify over the payload${keyName === undefined ? '' : ` with ${keyName}`}`
    return `${err.code}: ${err.message}`
  }
  // Anything else is a library tripping over malformed material (e.g. a timestamp that is not RFC 3161).
  return `malformed verification material: ${errorText(err)}`
}

function hintMatches(key: PreparedKey, hint: string): boolean {
  return hint !== '' && (key.hints.includes(hint) || key.name === hint)
}

function verifyKeyed(req: PreparedRequirement, entity: SignedEntity, hint: string): Verification {
  if (req.keys.length === 0) return {ok: false, reason: 'signed with a key, but no --sigstore-key was given'}
  // Keyed trust is the key alone (thresholds 0): Rekor entries and timestamps the bundle may carry are set aside
  // rather than checked against logs we were not given (cosign --insecure-ignore-tlog does the same).
  const keyedEntity: SignedEntity = {...entity, tlogEntries: [], timestamps: []}
  const hinted = req.keys.filter((k) => hintMatches(k, hint))
  const ordered = [...hinted, ...req.keys.filter((k) => !hinted.includes(k))]
  let hintedReason: string | undefined
  for (const k of ordered) {
    try {
      k.verifier.verify(keyedEntity)
      return {ok: true, by: k.name}
    } catch (err) {
      if (hinted.includes(k) && hintedReason === undefined) hintedReason = verificationReason(err, k.name)
    }
  }
  // The hint is not authenticated, but when it names one of our keys, the failure is about that key's signature.
  if (hintedReason !== undefined) return {ok: false, reason: hintedReason}
  return {ok: false, reason: `not signed by a trusted key (tried: ${triedKeys(req)})`}
}

/** The signer identity of a Fulcio certificate: SAN and OIDC issuer (v2 extension, else v1). */
export function certificateIdentity(cert: X509Certificate): {san: string | undefined; issuer: string | undefined} {
  let issuer: string | undefined
  const v2 = cert.extension(OID_FULCIO_ISSUER_V2)
  if (v2) issuer = v2.valueObj.subs[0]?.value.toString('ascii')
  else issuer = cert.extension(OID_FULCIO_ISSUER_V1)?.value.toString('ascii')
  return {san: cert.subjectAltName, issuer}
}

function identityMatches(identity: PreparedIdentity, san: string, issuer: string): boolean {
  if (identity.issuer !== issuer) return false
  if (identity.subject !== undefined) return identity.subject === san
  return identity.subjectRegexp !== undefined && identity.subjectRegexp.test(san)
}

function verifyKeyless(req: PreparedRequirement, entity: SignedEntity, cert: X509Certificate): Verification {
  if (req.keyless === undefined)
    return {ok: false, reason: 'keyless (certificate) signature, but no --sigstore-identity with --sigstore-trusted-root was given'}
  const {san, issuer} = certificateIdentity(cert)
  // Identity first: a certificate for someone else fails the same whatever its chain, and the message is clearer.
  const matched = san !== undefined && issuer !== undefined ? req.identities.find((i) => identityMatches(i, san, issuer)) : undefined
  if (matched === undefined)
    return {
      ok: false,
      reason: `certificate identity ${san ?? '(no SAN)'} from ${issuer ?? '(no issuer)'} does not match ${req.identities.map((i) => i.label).join(' or ')}`,
    }
  try {
    req.keyless.verifier.verify(entity)
  } catch (err) {
    return {ok: false, reason: verificationReason(err)}
  }
  return {ok: true, by: `${san as string} from ${issuer as string}`}
}

function leafCertificate(bundle: Bundle): X509Certificate | undefined {
  const content = bundle.verificationMaterial.content
  if (content.$case === 'certificate') return X509Certificate.parse(Buffer.from(content.certificate.rawBytes))
  if (content.$case === 'x509CertificateChain') {
    const first = content.x509CertificateChain.certificates[0]
    return first === undefined ? undefined : X509Certificate.parse(Buffer.from(first.rawBytes))
  }
  return undefined
}

function verifyBundleEntity(req: PreparedRequirement, bundle: Bundle, entity: SignedEntity): Verification {
  const content = bundle.verificationMaterial.content
  if (content.$case === 'publicKey') return verifyKeyed(req, entity, content.publicKey.hint)
  const cert = leafCertificate(bundle)
  if (cert === undefined) return {ok: false, reason: 'invalid bundle: empty certificate chain'}
  return verifyKeyless(req, entity, cert)
}

function checkBundle(req: PreparedRequirement, artifacts: SignatureArtifacts, item: BundleArtifact, location: string, payloads: Uint8Array[]): SignatureCheck {
  const digest = artifacts.digest
  const annotated = item.predicateType
  const base = {format: 'bundle', location} as const
  const fail = (kind: 'signature' | 'attestation', reason: string, predicateType?: string): SignatureCheck => ({
    ...base,
    kind,
    ...(predicateType ? {predicateType} : {}),
    verified: false,
    reason,
  })
  // Until the statement is read, the annotation is the best guess of what this is (it is not signed).
  const guess = annotated === undefined ? 'signature' : kindOf(annotated)
  let bundle: Bundle
  try {
    bundle = bundleFromJSON(JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(item.bundle)))
  } catch (err) {
    return fail(guess, `invalid bundle: ${errorText(err)}`, annotated)
  }

  if (bundle.content.$case === 'dsseEnvelope') {
    const envelope = bundle.content.dsseEnvelope
    if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE)
      return fail(guess, `DSSE payload type ${JSON.stringify(envelope.payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`, annotated)
    // Read (unverified) to classify what failed; trusted only after verification below.
    const statement = readStatement(envelope.payload, digest)
    const kind = statement.predicateType === '' ? guess : kindOf(statement.predicateType)
    const predicateType = statement.predicateType === '' ? annotated : statement.predicateType
    const result = verifyBundleEntity(req, bundle, toSignedEntity(bundle))
    if (!result.ok) return fail(kind, result.reason, kind === 'attestation' ? predicateType : undefined)
    if (statement.problem !== undefined) return fail(kind, statement.problem, kind === 'attestation' ? predicateType : undefined)
    if (kind === 'attestation') {
      const typeProblem = attestationTypeProblem(req, statement.predicateType)
      if (typeProblem !== undefined) return fail(kind, typeProblem, statement.predicateType)
      return {...base, kind, predicateType: statement.predicateType, verified: true, verifiedBy: result.by}
    }
    return {...base, kind, verified: true, verifiedBy: result.by}
  }

  // A message signature: the signed bytes are not in the bundle. Only a simple-signing payload for this digest that
  // we can rebuild or that the legacy tag holds can be matched to its message digest.
  const message = bundle.content.messageSignature
  const signedDigest = message.messageDigest?.digest
  const artifact =
    signedDigest === undefined ? undefined : payloads.find((p) => Buffer.from(createHash('sha256').update(p).digest()).equals(Buffer.from(signedDigest)))
  if (artifact === undefined) {
    const hex = signedDigest === undefined ? '(none)' : `sha256:${Buffer.from(signedDigest).toString('hex')}`
    return fail(
      'signature',
      `message signature over bytes that are not here (message digest ${shortDigest(hex)} matches no simple-signing payload for ${shortDigest(digest)}); only DSSE bundles carry what they sign`,
    )
  }
  const result = verifyBundleEntity(req, bundle, toSignedEntity(bundle, Buffer.from(artifact)))
  if (!result.ok) return fail('signature', result.reason)
  const problem = simpleSigningProblem(artifact, digest)
  if (problem !== undefined) return fail('signature', problem)
  return {...base, kind: 'signature', verified: true, verifiedBy: result.by}
}

// ---------------------------------------------------------------------------------------------------------------
// The verdict

/** Each item of a lookup checked, a layer number added when one lookup holds several. */
function checkLookup<T>(
  lookup: Lookup<T> | undefined,
  where: (item: T, location: string) => string,
  check: (item: T, location: string) => SignatureCheck,
  fallback: Pick<SignatureCheck, 'format' | 'kind'> & {reason: string},
): Found[] {
  if (lookup === undefined || lookup.status !== 'found') return []
  return lookup.items.map((item, i) => {
    const location = where(item, lookup.items.length > 1 ? `${lookup.location} (${i + 1} of ${lookup.items.length})` : lookup.location)
    let result: SignatureCheck
    try {
      result = check(item, location)
    } catch (err) {
      // Registry bytes that trip a parser deep inside a library are still data: they do not count.
      if (err instanceof SafeDeployError) throw err
      result = {format: fallback.format, kind: fallback.kind, location, verified: false, reason: `${fallback.reason}: ${errorText(err)}`}
    }
    return {check: result, lookupLocation: lookup.location}
  })
}

function describe(check: SignatureCheck): string {
  return `${check.verifiedBy as string} (${check.format})`
}

export function verifySignatures(req: PreparedRequirement, artifacts: SignatureArtifacts): SignatureVerdict {
  const digest = artifacts.digest
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new SafeDeployError('INTERNAL', `verifySignatures: expected a sha256 digest, got ${JSON.stringify(digest)}`)
  const legacy = artifacts.legacySignatures
  // Candidates for the bytes a message-signature bundle signed: the legacy payloads found, and the payload cosign
  // would write for this repository and digest.
  const payloads = [...(legacy.status === 'found' ? legacy.items.map((l) => l.payload) : []), simpleSigningPayload(artifacts.repository, digest)]

  const found: Found[] = [
    ...checkLookup(
      legacy,
      (_l, loc) => loc,
      (l: SimpleSigningLayer, loc) => checkSimpleSigning(req, digest, l, loc),
      {format: 'simplesigning', kind: 'signature', reason: 'invalid signature layer'},
    ),
    ...checkLookup(
      artifacts.legacyAttestations,
      (_l, loc) => loc,
      (l: DsseLayer, loc) => checkDsseLayer(req, digest, l, loc),
      {format: 'simplesigning', kind: 'attestation', reason: 'invalid attestation layer'},
    ),
    ...checkLookup(
      artifacts.bundles,
      (b: BundleArtifact) => `${artifacts.repository}@${b.manifestDigest} (referrer)`,
      (b: BundleArtifact, loc) => checkBundle(req, artifacts, b, loc, payloads),
      {format: 'bundle', kind: 'signature', reason: 'invalid bundle'},
    ),
  ]
  const sigs = found.filter((f) => f.check.kind === 'signature')
  const atts = found.filter((f) => f.check.kind === 'attestation')
  const signatures = sigs.map((f) => f.check)
  const attestations = atts.map((f) => f.check)

  const lookups: Array<Lookup<unknown>> = [legacy, ...(artifacts.legacyAttestations ? [artifacts.legacyAttestations] : []), artifacts.bundles]
  const failedLookups = lookups.flatMap((l) => (l.status === 'error' ? [{location: l.location, code: l.code, message: l.message}] : []))

  const verifiedSig = signatures.find((s) => s.verified)
  const missingTypes = req.attestationTypes.filter((t) => !attestations.some((a) => a.verified && a.predicateType === t))
  const satisfied = verifiedSig !== undefined && missingTypes.length === 0
  const couldNotCheck = !satisfied && failedLookups.length > 0

  const notes: string[] = [thresholdsNote(req)]
  if (satisfied) for (const f of failedLookups) notes.push(`${f.location} could not be read (${f.code}: ${f.message}); the requirement was met without it`)

  const trusted = [...req.keys.map((k) => k.name), ...req.identities.map((i) => i.label)].join(', ')
  let reason: string
  if (satisfied) {
    reason = `verified by ${describe(verifiedSig)}`
    const verifiedAtts = req.attestationTypes.map((t) => attestations.find((a) => a.verified && a.predicateType === t) as SignatureCheck)
    if (verifiedAtts.length > 0) reason += `; ${verifiedAtts.map((a) => `attestation ${a.predicateType as string} verified by ${describe(a)}`).join('; ')}`
  } else if (couldNotCheck) {
    reason = `could not check signatures: ${failedLookups.map((f) => `${f.location}: ${f.code}: ${f.message}`).join('; ')}`
    if (verifiedSig === undefined && sigs.length > 0) reason += `; ${sigs.length} found elsewhere, none verified: ${sigs[0]?.check.reason ?? ''}`
  } else if (verifiedSig === undefined) {
    if (sigs.length === 0) {
      const where = [legacy.location, artifacts.bundles.location].join(' and referrers of ')
      reason = `no signature found (looked in ${where})`
      if (atts.length > 0) reason += `; ${atts.length} attestation${atts.length === 1 ? '' : 's'} found, which do not count as signatures`
    } else {
      const where = [...new Set(sigs.map((f) => f.lookupLocation))].join(' and ')
      reason = `${sigs.length} signature${sigs.length === 1 ? '' : 's'} in ${where}, none verified by ${trusted}: ${sigs[0]?.check.reason ?? ''}`
    }
  } else {
    const type = missingTypes[0] as string
    const related = attestations.find((a) => a.predicateType === type) ?? attestations[0]
    reason = `verified by ${describe(verifiedSig)}, but no verified attestation of type ${type}`
    if (missingTypes.length > 1) reason += ` (nor ${missingTypes.slice(1).join(', ')})`
    reason += related?.reason === undefined ? ' (none found)' : `: ${related.reason}`
  }
  return {satisfied, couldNotCheck, signatures, attestations, reason, notes, failedLookups}
}
