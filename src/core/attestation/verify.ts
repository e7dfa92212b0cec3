/**
 * Does an attestor accept an image digest, given its attestation occurrences? Used by the pre-flight
 * and by `attest` (before storing). docs/binauthz.md#signature-verification.
 */
import {constants as cryptoConstants, verify as cryptoVerify, type KeyObject} from 'node:crypto'
import type * as openpgp from 'openpgp'
import {loadOpenpgp} from './openpgp.js'
import {checkPkixKey, errorText, type AlgorithmSpec} from './keys.js'
import {parsePayload} from './payload.js'
import {digestOfResourceUri} from './parse.js'
import type {AttestationOccurrence, Attestor, AttestorPublicKey} from './types.js'

export interface OccurrenceCheck {
  /** The occurrence name, or `source#index`. */
  occurrence: string
  valid: boolean
  reason: string
  keyId?: string
}

export interface AttestorCheck {
  attestor: string
  satisfied: boolean
  /** On denial: the GKE wording, followed by the most useful specific cause in parentheses. */
  reason: string
  /** On denial: the most useful specific cause (also in `reason`), when there is one. */
  cause?: string
  checks: OccurrenceCheck[]
  warnings: string[]
}

/** GKE's attestor denial text (docs/binauthz.md#denial-messages). */
export const NO_VALID_ATTESTATIONS = 'No attestations found that were valid and signed by a key trusted by the attestor'
export const NO_PUBLIC_KEYS = 'attestor has no public keys: it never accepts an attestation'
export const JWT_UNSUPPORTED = 'JWT attestations are not supported (treated as unverified)'
export const TAG_OR_MALFORMED_DIGEST = 'Expected digest with sha256 scheme, but got tag or malformed digest'

/** How useful a failure is to the user; the highest one becomes the denial's cause. */
const RANK = {otherNote: 10, otherDigest: 20, noSignatures: 30, unknownKey: 40, jwt: 50, malformed: 60, badKey: 70, badSignature: 80, badPayload: 90} as const

interface Outcome {
  valid: boolean
  reason: string
  rank: number
  warnings: string[]
}

// ---------------------------------------------------------------------------------------------
// Key preparation (cached: a pre-flight checks thousands of images against the same few keys)

type PreparedPkix = {ok: true; key: KeyObject; spec: AlgorithmSpec; algorithm: string} | {ok: false; reason: string}

const pkixByObject = new WeakMap<AttestorPublicKey, PreparedPkix>()
const pkixByText = new Map<string, PreparedPkix>()
const PKIX_TEXT_CACHE_MAX = 512

function preparePkix(k: Extract<AttestorPublicKey, {kind: 'pkix'}>): PreparedPkix {
  const hit = pkixByObject.get(k)
  if (hit) return hit
  const text = `${k.signatureAlgorithm}\n${k.publicKeyPem}`
  let prepared = pkixByText.get(text)
  if (!prepared) {
    const r = checkPkixKey(k.publicKeyPem, k.signatureAlgorithm)
    prepared = r.ok ? {ok: true, key: r.key, spec: r.spec, algorithm: r.algorithm} : {ok: false, reason: r.reason}
    if (pkixByText.size >= PKIX_TEXT_CACHE_MAX) pkixByText.clear()
    pkixByText.set(text, prepared)
  }
  pkixByObject.set(k, prepared)
  return prepared
}

/** Verify a detached PKIX signature over the exact payload bytes (RSA PKCS#1 v1.5, RSA-PSS with any salt length, ECDSA DER only). */
export function verifyPkixSignature(key: KeyObject, spec: AlgorithmSpec, payload: Uint8Array, signature: Uint8Array): boolean {
  try {
    switch (spec.family) {
      case 'rsa-pkcs1':
        return cryptoVerify(spec.hash, payload, {key, padding: cryptoConstants.RSA_PKCS1_PADDING}, signature)
      case 'rsa-pss':
        return cryptoVerify(
          spec.hash,
          payload,
          {key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_AUTO},
          signature,
        )
      case 'ecdsa':
        return cryptoVerify(spec.hash, payload, {key, dsaEncoding: 'der'}, signature)
    }
  } catch {
    return false
  }
}

const pgpKeys = new Map<string, Promise<openpgp.Key | Error>>()
const PGP_CACHE_MAX = 128

function readPgpKey(armored: string): Promise<openpgp.Key | Error> {
  let p = pgpKeys.get(armored)
  if (!p) {
    p = loadOpenpgp()
      .then((pgp) => pgp.readKey({armoredKey: armored}))
      .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))))
    if (pgpKeys.size >= PGP_CACHE_MAX) pgpKeys.clear()
    pgpKeys.set(armored, p)
  }
  return p
}

// ---------------------------------------------------------------------------------------------

function payloadOutcome(payload: Uint8Array, digest: string, keyId: string, extraWarnings: string[]): Outcome {
  const p = parsePayload(payload)
  if (!p.ok) return {valid: false, reason: `signature by key ${keyId} verifies, but: ${p.reason}`, rank: RANK.badPayload, warnings: extraWarnings}
  if (p.digest !== digest) {
    return {
      valid: false,
      reason: `signature by key ${keyId} verifies, but the payload is for another digest: it names ${p.digest}, the image is ${digest}`,
      rank: RANK.badPayload,
      warnings: extraWarnings,
    }
  }
  return {valid: true, reason: `signed by key ${keyId}; payload names ${digest}`, rank: 100, warnings: [...extraWarnings, ...p.warnings]}
}

function verifyWithPkixKey(k: Extract<AttestorPublicKey, {kind: 'pkix'}>, occ: AttestationOccurrence, signature: Uint8Array, digest: string): Outcome {
  const prepared = preparePkix(k)
  if (!prepared.ok) return {valid: false, reason: `key ${k.id} cannot be used: ${prepared.reason}`, rank: RANK.badKey, warnings: []}
  if (occ.serializedPayload.length === 0) return {valid: false, reason: 'the occurrence has no serializedPayload to verify', rank: RANK.malformed, warnings: []}
  if (!verifyPkixSignature(prepared.key, prepared.spec, occ.serializedPayload, signature)) {
    const der = prepared.spec.family === 'ecdsa' ? ' (ECDSA signatures must be ASN.1 DER, not IEEE P1363 r||s)' : ''
    return {valid: false, reason: `signature does not verify with key ${k.id} (${prepared.algorithm})${der}`, rank: RANK.badSignature, warnings: []}
  }
  return payloadOutcome(occ.serializedPayload, digest, k.id, [])
}

type PgpInput = {armored: string} | {binary: Uint8Array}

function pgpInput(bytes: Uint8Array): PgpInput | {error: string} {
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart()
  if (head.startsWith('-----BEGIN PGP SIGNED MESSAGE-----'))
    return {error: 'clear-signed PGP messages are not supported (use an attached signature: gpg --sign --armor)'}
  if (head.startsWith('-----BEGIN PGP SIGNATURE-----'))
    return {error: 'detached PGP signatures are not supported (use an attached signature: gpg --sign --armor)'}
  if (head.startsWith('-----BEGIN PGP MESSAGE-----')) return {armored: new TextDecoder().decode(bytes)}
  return {binary: bytes}
}

async function verifyWithPgpKey(
  k: Extract<AttestorPublicKey, {kind: 'pgp'}>,
  message: Uint8Array,
  serializedPayload: Uint8Array,
  digest: string,
  now: Date,
): Promise<Outcome> {
  const key = await readPgpKey(k.asciiArmoredPgpPublicKey)
  if (key instanceof Error)
    return {valid: false, reason: `key ${k.id} cannot be used: not an OpenPGP public key (${key.message})`, rank: RANK.badKey, warnings: []}
  const fpr = key.getFingerprint().toUpperCase()
  if (fpr !== k.id.toUpperCase()) {
    return {valid: false, reason: `key ${k.id} cannot be used: its OpenPGP fingerprint is ${fpr}`, rank: RANK.badKey, warnings: []}
  }
  const input = pgpInput(message)
  if ('error' in input) return {valid: false, reason: input.error, rank: RANK.malformed, warnings: []}
  let data: Uint8Array
  let created: Date | null | undefined
  const pgp = await loadOpenpgp()
  try {
    const msg = 'armored' in input ? await pgp.readMessage({armoredMessage: input.armored}) : await pgp.readMessage({binaryMessage: input.binary})
    // openpgp checks the key's validity at the signature's creation time (docs/binauthz.md#signature-verification).
    const result = await pgp.verify({message: msg, verificationKeys: key, format: 'binary', date: now})
    data = result.data
    if (result.signatures.length === 0) return {valid: false, reason: 'the PGP message is not signed', rank: RANK.malformed, warnings: []}
    let lastError = ''
    let ok = false
    for (const s of result.signatures) {
      try {
        await s.verified
        ok = true
        created = (await s.signature).packets[0]?.created
        break
      } catch (err) {
        lastError = errorText(err)
      }
    }
    if (!ok) return {valid: false, reason: `PGP signature does not verify with key ${k.id}: ${lastError}`, rank: RANK.badSignature, warnings: []}
  } catch (err) {
    return {valid: false, reason: `cannot read the PGP message: ${errorText(err)}`, rank: RANK.malformed, warnings: []}
  }
  const warnings: string[] = []
  const expires = await key.getExpirationTime().catch(() => null)
  if (expires instanceof Date && expires.getTime() <= now.getTime()) {
    warnings.push(
      `PGP key ${k.id} expired on ${expires.toISOString()}; its signature${created ? ` made on ${created.toISOString()}` : ''} predates the expiry and is accepted (Google's handling of expired keys is not documented)`,
    )
  }
  if (serializedPayload.length > 0 && !Buffer.from(serializedPayload).equals(Buffer.from(data))) {
    warnings.push(`serializedPayload differs from the payload inside the PGP signature by ${k.id}; the signed payload was checked`)
  }
  return payloadOutcome(data, digest, k.id, warnings)
}

async function verifySignature(
  keys: readonly AttestorPublicKey[],
  keyId: string,
  occ: AttestationOccurrence,
  signature: Uint8Array,
  digest: string,
  now: Date,
): Promise<Outcome> {
  const matching = keys.filter((k) => k.id === keyId)
  if (matching.length === 0) return {valid: false, reason: `no key with id ${keyId} on the attestor (signature skipped)`, rank: RANK.unknownKey, warnings: []}
  const outcomes: Outcome[] = []
  for (const k of matching) {
    const o = k.kind === 'pkix' ? verifyWithPkixKey(k, occ, signature, digest) : await verifyWithPgpKey(k, signature, occ.serializedPayload, digest, now)
    if (o.valid) return o
    outcomes.push(o)
  }
  if (outcomes.length === 1) return outcomes[0] as Outcome
  const best = Math.max(...outcomes.map((o) => o.rank))
  return {
    valid: false,
    reason: outcomes.map((o, i) => `key #${i + 1} with id ${keyId}: ${o.reason}`).join('; '),
    rank: best,
    warnings: outcomes.flatMap((o) => o.warnings),
  }
}

function labelOf(occ: AttestationOccurrence): string {
  if (occ.name !== undefined && occ.name !== '') return occ.name
  return occ.index === undefined ? occ.source : `${occ.source}#${occ.index}`
}

/**
 * The attestor is satisfied when at least one occurrence on its note, for this digest, carries a
 * signature that verifies with a key whose id equals the signature's publicKeyId and whose signed
 * payload names the digest (docs/binauthz.md#signature-verification). Never throws for bad attestations: they are reported in `checks`.
 */
export async function checkAttestor(
  attestor: Attestor,
  occurrences: readonly AttestationOccurrence[],
  digest: string,
  opts: {now?: Date} = {},
): Promise<AttestorCheck> {
  const now = opts.now ?? new Date()
  const warnings: string[] = []
  const checks: OccurrenceCheck[] = []
  const deny = (cause: string | undefined): AttestorCheck => ({
    attestor: attestor.name,
    satisfied: false,
    reason: cause === undefined ? NO_VALID_ATTESTATIONS : `${NO_VALID_ATTESTATIONS} (${cause})`,
    ...(cause === undefined ? {} : {cause}),
    checks,
    warnings,
  })
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) {
    return {attestor: attestor.name, satisfied: false, reason: TAG_OR_MALFORMED_DIGEST, cause: TAG_OR_MALFORMED_DIGEST, checks, warnings}
  }
  if (attestor.publicKeys.length === 0) {
    return {attestor: attestor.name, satisfied: false, reason: NO_PUBLIC_KEYS, cause: NO_PUBLIC_KEYS, checks, warnings}
  }
  const seen = new Set<string>()
  for (const k of attestor.publicKeys) {
    if (seen.has(k.id)) warnings.push(`attestor ${attestor.name} has several keys with id ${k.id}; each is tried`)
    seen.add(k.id)
  }

  let best: {rank: number; reason: string} | undefined
  const record = (occurrence: string, o: Outcome, keyId?: string): void => {
    checks.push({occurrence, valid: o.valid, reason: o.reason, ...(keyId === undefined ? {} : {keyId})})
    warnings.push(...o.warnings)
    if (!o.valid && (best === undefined || o.rank > best.rank)) best = {rank: o.rank, reason: `${occurrence}: ${o.reason}`}
  }
  const satisfied = (): AttestorCheck => {
    const ok = checks.find((c) => c.valid) as OccurrenceCheck
    return {attestor: attestor.name, satisfied: true, reason: `verified: ${ok.occurrence} ${ok.reason}`, checks, warnings: [...new Set(warnings)]}
  }

  for (const occ of occurrences) {
    const label = labelOf(occ)
    if (occ.noteName !== attestor.noteReference) {
      record(label, {
        valid: false,
        reason: `skipped: on note ${occ.noteName}, not the attestor's note ${attestor.noteReference}`,
        rank: RANK.otherNote,
        warnings: [],
      })
      continue
    }
    const occDigest = digestOfResourceUri(occ.resourceUri)
    if (occDigest !== digest) {
      const what = occDigest === undefined ? `resourceUri ${occ.resourceUri} has no sha256 digest` : `for another digest (${occDigest})`
      record(label, {valid: false, reason: `skipped: ${what}`, rank: RANK.otherDigest, warnings: []})
      continue
    }
    for (const sig of occ.signatures) {
      const o = await verifySignature(attestor.publicKeys, sig.publicKeyId, occ, sig.signature, digest, now)
      record(label, o, sig.publicKeyId)
      if (o.valid) return satisfied()
    }
    if (occ.pgpSignedAttestation) {
      const {signature, pgpKeyId} = occ.pgpSignedAttestation
      const o = await verifySignature(attestor.publicKeys, pgpKeyId, occ, new TextEncoder().encode(signature), digest, now)
      record(label, o, pgpKeyId)
      if (o.valid) return satisfied()
    }
    if (occ.signatures.length === 0 && !occ.pgpSignedAttestation) {
      record(
        label,
        occ.jwts.length > 0
          ? {valid: false, reason: JWT_UNSUPPORTED, rank: RANK.jwt, warnings: []}
          : {valid: false, reason: 'the occurrence has no signatures', rank: RANK.noSignatures, warnings: []},
      )
    }
  }
  const result = deny(best?.reason)
  result.warnings = [...new Set(warnings)]
  return result
}
