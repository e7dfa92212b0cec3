/**
 * The signature requirement made ready for verification (docs/sigstore.md#what-makes-a-signature-count): keys parsed,
 * the trusted root parsed, identities checked, and the @sigstore/verify trust material and thresholds built once per
 * deploy, so that `verifySignatures` stays pure, synchronous and cheap for every image.
 *
 * Problems with what the user gave (a key that is not a key, a trusted root that is not one) are errors here, before
 * any registry is read: KEY_INVALID (exit 7) for trust material, USAGE for flag combinations. Problems with what the
 * registry holds are never errors: they are reasons in the verdict.
 */
import {createHash, createPublicKey, type KeyObject} from 'node:crypto'
import {TrustedRoot} from '@sigstore/protobuf-specs'
import {toTrustMaterial, Verifier, type TrustMaterial} from '@sigstore/verify'
import {SafeDeployError} from '../errors.js'
import type {SignatureRequirement, TrustedIdentity} from './types.js'

/** A trusted key, parsed, with the verifier that trusts it alone (so a report can say which key verified). */
export interface PreparedKey {
  /** The file as given (`--sigstore-key`). */
  name: string
  key: KeyObject
  /** Hints a bundle may carry for this key: base64 and hex of the SHA-256 of its SubjectPublicKeyInfo. */
  hints: string[]
  verifier: Verifier
}

/** A keyless identity with its regular expression compiled (anchored). */
export interface PreparedIdentity {
  issuer: string
  subject?: string
  subjectRegexp?: RegExp
  /** How it is named in reports: `subject from issuer` or `/regexp/ from issuer`. */
  label: string
}

/** How many independent proofs of time and publication a signature must carry. */
export interface Thresholds {
  tlog: number
  timestamps: number
  ctlog: number
}

export interface PreparedRequirement {
  requirement: SignatureRequirement
  keys: PreparedKey[]
  identities: PreparedIdentity[]
  attestationTypes: string[]
  /** Keyed verification: the key is the trust; Rekor entries and timestamps are not needed (offline). */
  keyedThresholds: Thresholds
  /** Keyless verification, when identities and a trusted root are given. */
  keyless?: {rootName: string; trustMaterial: TrustMaterial; verifier: Verifier; thresholds: Thresholds; why: string} | undefined
}

const KEYED_THRESHOLDS: Thresholds = {tlog: 0, timestamps: 0, ctlog: 0}

const KEY_HINT = 'give a PEM public key (SubjectPublicKeyInfo, "-----BEGIN PUBLIC KEY-----"), e.g. the cosign.pub written by `cosign generate-key-pair`'

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** The hints a bundle's `publicKey.hint` may use for a key: we write base64(SHA-256(SPKI DER)); hex is accepted too. */
export function keyHints(key: KeyObject): string[] {
  const der = key.export({type: 'spki', format: 'der'})
  const digest = createHash('sha256').update(der).digest()
  return [digest.toString('base64'), digest.toString('hex')]
}

function parseKey(name: string, pem: string): KeyObject {
  let key: KeyObject
  try {
    key = createPublicKey(pem)
  } catch (err) {
    throw new SafeDeployError('KEY_INVALID', `${name}: not a PEM public key: ${errorText(err)}`, {cause: err, hint: KEY_HINT})
  }
  // createPublicKey also accepts a private key and derives its public half: a private key given as a trust anchor
  // is a mistake worth stopping (it would otherwise be read and kept in memory for nothing).
  if (/PRIVATE KEY-----/.test(pem)) throw new SafeDeployError('KEY_INVALID', `${name}: is a private key, expected the public key`, {hint: KEY_HINT})
  const type = key.asymmetricKeyType
  if (type !== 'ec' && type !== 'rsa' && type !== 'rsa-pss' && type !== 'ed25519')
    throw new SafeDeployError('KEY_INVALID', `${name}: ${String(type)} keys are not used for cosign signatures (expected ECDSA, RSA or Ed25519)`, {
      hint: KEY_HINT,
    })
  return key
}

function prepareIdentity(identity: TrustedIdentity, index: number): PreparedIdentity {
  const where = `sigstore identity ${index + 1}`
  if (typeof identity.issuer !== 'string' || identity.issuer === '')
    throw new SafeDeployError('USAGE', `${where}: no OIDC issuer`, {
      hint: 'give --sigstore-issuer URL with each --sigstore-identity or --sigstore-identity-regexp',
    })
  const hasSubject = identity.subject !== undefined && identity.subject !== ''
  const hasRegexp = identity.subjectRegexp !== undefined && identity.subjectRegexp !== ''
  if (hasSubject === hasRegexp)
    throw new SafeDeployError('USAGE', `${where}: give exactly one of an identity and an identity regular expression, got ${hasSubject ? 'both' : 'neither'}`, {
      hint: 'use --sigstore-identity SAN or --sigstore-identity-regexp REGEXP, not both',
    })
  if (hasSubject) return {issuer: identity.issuer, subject: identity.subject as string, label: `${identity.subject as string} from ${identity.issuer}`}
  const source = identity.subjectRegexp as string
  let re: RegExp
  try {
    // Anchored: a SAN must match in full, like cosign's --certificate-identity-regexp is used in practice; an
    // unanchored `ci@example.com` would also accept `ci@example.com.attacker.net`.
    re = new RegExp(`^(?:${source})$`, 'u')
  } catch (err) {
    throw new SafeDeployError('USAGE', `${where}: invalid regular expression ${JSON.stringify(source)}: ${errorText(err)}`, {cause: err})
  }
  return {issuer: identity.issuer, subjectRegexp: re, label: `/${source}/ from ${identity.issuer}`}
}

function parseTrustedRoot(name: string, json: unknown): TrustedRoot {
  const hint =
    'give the trusted-root JSON that `cosign trusted-root create` writes or cosign --trusted-root reads (mediaType application/vnd.dev.sigstore.trustedroot+json)'
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new SafeDeployError('KEY_INVALID', `${name}: not a Sigstore trusted root: expected a JSON object`, {hint})
  const mediaType = (json as {mediaType?: unknown}).mediaType
  if (typeof mediaType !== 'string' || !mediaType.startsWith('application/vnd.dev.sigstore.trustedroot'))
    throw new SafeDeployError('KEY_INVALID', `${name}: not a Sigstore trusted root: mediaType ${JSON.stringify(mediaType)}`, {hint})
  try {
    const root = TrustedRoot.fromJSON(json)
    // Parse the keys and certificates now: a broken one should stop the deploy as bad trust material, not surface
    // later as every signature failing.
    toTrustMaterial(root)
    return root
  } catch (err) {
    throw new SafeDeployError('KEY_INVALID', `${name}: invalid Sigstore trusted root: ${errorText(err)}`, {cause: err, hint})
  }
}

/**
 * Keyless thresholds, from what the trusted root can satisfy (conservative: require every kind of proof the root
 * makes checkable). At least one timestamp is always required: @sigstore/verify checks the certificate chain only at
 * the signed times it is given, so with none the Fulcio certificate would not be checked at all.
 */
function keylessThresholds(root: TrustedRoot, name: string): {thresholds: Thresholds; why: string} {
  const tlogs = root.tlogs.length
  const ctlogs = root.ctlogs.length
  const tsas = root.timestampAuthorities.length
  if (root.certificateAuthorities.length === 0)
    throw new SafeDeployError('KEY_INVALID', `${name}: the trusted root lists no certificate authority, so no keyless signature could verify`, {
      hint: 'give a trusted root with the Fulcio CA that issued the signing certificates',
    })
  if (tlogs === 0 && tsas === 0)
    throw new SafeDeployError(
      'KEY_INVALID',
      `${name}: the trusted root lists neither a transparency log nor a timestamp authority, so a keyless signature could not be timed`,
      {
        hint: 'give a trusted root with the Rekor log (and/or TSA) the signers use',
      },
    )
  return {
    thresholds: {tlog: tlogs > 0 ? 1 : 0, timestamps: 1, ctlog: ctlogs > 0 ? 1 : 0},
    why: `keyless: the trusted root ${name} lists ${tlogs} transparency log(s), ${ctlogs} CT log(s) and ${tsas} timestamp authorit${tsas === 1 ? 'y' : 'ies'}, so a signature needs what it can check`,
  }
}

export function prepareRequirement(req: SignatureRequirement): PreparedRequirement {
  const emptyRoot = TrustedRoot.fromJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  })
  // Every key is parsed before any is used: a bad key file is a mistake to fix even when another key would verify.
  const keys: PreparedKey[] = req.keys.map(({name, pem}) => {
    const key = parseKey(name, pem)
    // One verifier per key, trusting that key whatever the bundle's hint says: hints are not authenticated, and the
    // report must name the key that verified.
    const trustMaterial = toTrustMaterial(emptyRoot, () => ({publicKey: key, validFor: () => true}))
    const verifier = new Verifier(trustMaterial, {tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0})
    return {name, key, hints: keyHints(key), verifier}
  })
  const identities = req.identities.map(prepareIdentity)
  let keyless: PreparedRequirement['keyless']
  if (req.trustedRoot !== undefined) {
    const root = parseTrustedRoot(req.trustedRoot.name, req.trustedRoot.json)
    if (identities.length > 0) {
      const {thresholds, why} = keylessThresholds(root, req.trustedRoot.name)
      const trustMaterial = toTrustMaterial(root)
      keyless = {
        rootName: req.trustedRoot.name,
        trustMaterial,
        verifier: new Verifier(trustMaterial, {tlogThreshold: thresholds.tlog, ctlogThreshold: thresholds.ctlog, timestampThreshold: thresholds.timestamps}),
        thresholds,
        why,
      }
    }
  } else if (identities.length > 0) {
    throw new SafeDeployError('USAGE', 'keyless signature identities were given without a Sigstore trusted root, so no certificate could be checked offline', {
      hint: 'give --sigstore-trusted-root FILE (e.g. from `cosign trusted-root create`, or the public-good root fetched once with TUF)',
    })
  }
  if (keys.length === 0 && identities.length === 0)
    throw new SafeDeployError('USAGE', 'a signature requirement needs a trusted key or a keyless identity', {
      hint: 'give --sigstore-key FILE, or --sigstore-identity SAN with --sigstore-issuer URL and --sigstore-trusted-root FILE',
    })
  for (const t of req.attestationTypes)
    if (typeof t !== 'string' || t === '')
      throw new SafeDeployError('USAGE', 'an empty attestation predicate type was given', {
        hint: 'give --sigstore-attestation-type URI, e.g. https://slsa.dev/provenance/v1',
      })
  return {requirement: req, keys, identities, attestationTypes: [...new Set(req.attestationTypes)], keyedThresholds: KEYED_THRESHOLDS, keyless}
}

/** The thresholds in force, for the report: one line per kind of trust. */
export function thresholdsNote(prepared: PreparedRequirement): string {
  const parts: string[] = []
  if (prepared.keys.length > 0) {
    const t = prepared.keyedThresholds
    parts.push(
      `keyed (${prepared.keys.map((k) => k.name).join(', ')}): tlog ${t.tlog}, timestamps ${t.timestamps}, ctlog ${t.ctlog} (the key is the trust, checked offline; Rekor entries and timestamps are not checked, like cosign --insecure-ignore-tlog)`,
    )
  }
  if (prepared.keyless !== undefined) {
    const t = prepared.keyless.thresholds
    parts.push(`keyless (${prepared.keyless.rootName}): tlog ${t.tlog}, timestamps ${t.timestamps}, ctlog ${t.ctlog} (${prepared.keyless.why})`)
  }
  return `signature thresholds: ${parts.join('; ')}`
}
