/**
 * Strict parsing of attestors (`gcloud container binauthz attestors describe --format=json`, REST v1 or
 * v1beta1) and attestation occurrences (`gcloud container binauthz attestations list --format=json`,
 * REST v1, legacy v1beta1, gRPC objects). docs/binauthz.md#attestors, docs/binauthz.md#notes-and-occurrences.
 */
import {SafeDeployError} from '../errors.js'
import {checkPkixKey, defaultPkixKeyId, errorText, normalizeAlgorithmName, pgpFingerprintSync} from './keys.js'
import type {AttestationOccurrence, AttestationSignature, Attestor, AttestorPublicKey} from './types.js'
import {parseAttestorName, parseLegacyNoteName, parseNoteName} from '../resource-names.js'

type Obj = Record<string, unknown>

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

function attestorError(source: string, path: string, what: string, hint?: string): SafeDeployError {
  return new SafeDeployError('ATTESTOR_INVALID', `${source}: ${path === '' ? '' : path + ': '}${what}`, {
    hint: hint ?? 'expected the output of `gcloud container binauthz attestors describe ATTESTOR --format=json`',
    location: {file: source, ...(path === '' ? {} : {path})},
  })
}

function optString(o: Obj, key: string, source: string, path: string): string | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw attestorError(source, path === '' ? key : `${path}.${key}`, `expected a string, got ${typeName(v)}`)
  return v
}

function typeName(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (v instanceof Uint8Array) return 'bytes'
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`
}

/**
 * An attestor from its REST JSON (v1 `userOwnedGrafeasNote` or v1beta1 `userOwnedDrydockNote`).
 * Throws ATTESTOR_INVALID naming the source and the JSON path of the first problem.
 * PKIX keys must parse and match their signatureAlgorithm (ML_DSA_65 is kept; verification reports it
 * as unsupported); a blank PKIX id gets the server default (`ni:///sha-256;…`), a blank PGP id the V4
 * fingerprint, and a PGP id that is not the fingerprint is rejected (the API always overwrites it).
 */
export function parseAttestor(json: unknown, source: string): Attestor {
  if (!isObject(json)) throw attestorError(source, '', `expected an attestor JSON object, got ${typeName(json)}`)
  const name = optString(json, 'name', source, '')
  if (name === undefined) throw attestorError(source, 'name', 'missing attestor name')
  if (!parseAttestorName(name, {noSpace: true})) throw attestorError(source, 'name', `expected projects/PROJECT/attestors/ATTESTOR, got "${name}"`)
  const description = optString(json, 'description', source, '')
  const hasV1 = json['userOwnedGrafeasNote'] !== undefined
  const hasBeta = json['userOwnedDrydockNote'] !== undefined
  if (hasV1 && hasBeta) throw attestorError(source, '', 'both userOwnedGrafeasNote and userOwnedDrydockNote are set (expected one)')
  if (!hasV1 && !hasBeta) throw attestorError(source, 'userOwnedGrafeasNote', 'missing (the attestor has no note)')
  const noteKey = hasV1 ? 'userOwnedGrafeasNote' : 'userOwnedDrydockNote'
  const note = json[noteKey]
  if (!isObject(note)) throw attestorError(source, noteKey, `expected an object, got ${typeName(note)}`)
  const noteReference = optString(note, 'noteReference', source, noteKey)
  if (noteReference === undefined) throw attestorError(source, `${noteKey}.noteReference`, 'missing')
  if (!parseNoteName(noteReference, {noSpace: true}) && !(hasBeta && parseLegacyNoteName(noteReference, {noSpace: true}))) {
    throw attestorError(source, `${noteKey}.noteReference`, `expected projects/PROJECT/notes/NOTE, got "${noteReference}"`)
  }
  const rawKeys = note['publicKeys']
  if (rawKeys !== undefined && rawKeys !== null && !Array.isArray(rawKeys)) {
    throw attestorError(source, `${noteKey}.publicKeys`, `expected an array, got ${typeName(rawKeys)}`)
  }
  const publicKeys = (Array.isArray(rawKeys) ? rawKeys : []).map((k, i) => parseKey(k, source, `${noteKey}.publicKeys[${i}]`))
  return {name, ...(description === undefined ? {} : {description}), noteReference, publicKeys, source}
}

function parseKey(k: unknown, source: string, path: string): AttestorPublicKey {
  if (!isObject(k)) throw attestorError(source, path, `expected a public key object, got ${typeName(k)}`)
  const id = optString(k, 'id', source, path) ?? ''
  const comment = optString(k, 'comment', source, path)
  const pgp = optString(k, 'asciiArmoredPgpPublicKey', source, path)
  const pkix = k['pkixPublicKey']
  if (pgp !== undefined && pkix !== undefined) throw attestorError(source, path, 'both asciiArmoredPgpPublicKey and pkixPublicKey are set (expected one)')
  const extra = comment === undefined ? {} : {comment}
  if (pgp !== undefined) {
    if (!pgp.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) {
      throw attestorError(source, `${path}.asciiArmoredPgpPublicKey`, 'expected an ASCII-armored OpenPGP public key (gpg --export --armor)')
    }
    const fpr = pgpFingerprintSync(pgp)
    if (fpr === undefined) throw attestorError(source, `${path}.asciiArmoredPgpPublicKey`, 'cannot read an OpenPGP V4 public key packet from the armored block')
    if (id !== '' && id !== fpr) {
      throw attestorError(
        source,
        `${path}.id`,
        `"${id}" is not the key's OpenPGP V4 fingerprint ${fpr} (the API always sets the id to the fingerprint)`,
        'leave the id blank or set it to the upper-case V4 fingerprint',
      )
    }
    return {kind: 'pgp', id: fpr, ...extra, asciiArmoredPgpPublicKey: pgp}
  }
  if (pkix === undefined) throw attestorError(source, path, 'expected pkixPublicKey or asciiArmoredPgpPublicKey')
  if (!isObject(pkix)) throw attestorError(source, `${path}.pkixPublicKey`, `expected an object, got ${typeName(pkix)}`)
  const ppath = `${path}.pkixPublicKey`
  const pem = optString(pkix, 'publicKeyPem', source, ppath)
  if (pem === undefined || pem.trim() === '') throw attestorError(source, `${ppath}.publicKeyPem`, 'missing')
  const rawAlg = optString(pkix, 'signatureAlgorithm', source, ppath)
  if (rawAlg === undefined) throw attestorError(source, `${ppath}.signatureAlgorithm`, 'missing')
  const algorithm = normalizeAlgorithmName(rawAlg)
  const check = checkPkixKey(pem, algorithm)
  if (!check.ok && !check.unsupported) throw attestorError(source, ppath, check.reason, 'fix publicKeyPem or signatureAlgorithm so that they match')
  const keyId = optString(pkix, 'keyId', source, ppath)
  let effectiveId = id
  if (effectiveId === '') {
    try {
      effectiveId = defaultPkixKeyId(pem)
    } catch (err) {
      throw attestorError(source, `${ppath}.publicKeyPem`, errorText(err))
    }
  }
  if (keyId !== undefined && keyId !== '' && keyId !== effectiveId) {
    throw attestorError(source, `${ppath}.keyId`, `"${keyId}" differs from the key's id "${effectiveId}" (it must be equal or blank)`)
  }
  return {kind: 'pkix', id: effectiveId, ...extra, publicKeyPem: pem, signatureAlgorithm: algorithm}
}

// ---------------------------------------------------------------------------------------------
// Occurrences

function occurrenceError(source: string, index: number, path: string, what: string): SafeDeployError {
  const where = `[${index}]${path === '' ? '' : '.' + path}`
  return new SafeDeployError('ATTESTATION_INVALID', `${source}: occurrence ${where}: ${what}`, {
    hint: 'expected the output of `gcloud container binauthz attestations list --format=json` (Grafeas ATTESTATION occurrences)',
    location: {file: source, path: where},
  })
}

/**
 * Decode a proto `bytes` field: standard or URL-safe base64, with or without padding (gcloud writes
 * URL-safe with padding, the REST API standard). gRPC objects already carry bytes.
 * Returns undefined when the text is not base64.
 */
export function decodeBase64Bytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value
  if (typeof value !== 'string') return undefined
  const s = value.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) return undefined
  const unpadded = s.replace(/=+$/, '')
  if (unpadded.length % 4 === 1) return undefined
  if (s.length !== unpadded.length && s.length % 4 !== 0) return undefined
  return new Uint8Array(Buffer.from(unpadded.replace(/-/g, '+').replace(/_/g, '/'), 'base64'))
}

/** The `sha256:…` digest at the end of a resourceUri (scheme and any `:tag` ignored), or undefined. */
export function digestOfResourceUri(uri: string): string | undefined {
  const stripped = uri.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '')
  const at = stripped.lastIndexOf('@')
  if (at === -1) return undefined
  const digest = stripped.slice(at + 1)
  return /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined
}

/**
 * One occurrence, an array of them, or a list response (`{occurrences: [...]}`). Occurrences whose
 * `kind` is set and is not ATTESTATION are skipped (like `gcloud … attestations list`). Malformed
 * attestations throw ATTESTATION_INVALID naming the source and the index.
 */
export function parseOccurrences(json: unknown, source: string): AttestationOccurrence[] {
  let items: unknown[]
  if (Array.isArray(json)) items = json
  else if (isObject(json) && Array.isArray(json['occurrences']) && json['resourceUri'] === undefined) items = json['occurrences'] as unknown[]
  else if (isObject(json) && Object.keys(json).length === 0) items = []
  else items = [json]
  const out: AttestationOccurrence[] = []
  items.forEach((item, i) => {
    const occ = parseOccurrence(item, source, i)
    if (occ) out.push(occ)
  })
  return out
}

function parseOccurrence(item: unknown, source: string, i: number): AttestationOccurrence | undefined {
  if (!isObject(item)) throw occurrenceError(source, i, '', `expected an occurrence object, got ${typeName(item)}`)
  const kind = item['kind']
  if (kind !== undefined && kind !== null && kind !== 'ATTESTATION') {
    if (typeof kind !== 'string') throw occurrenceError(source, i, 'kind', `expected a string, got ${typeName(kind)}`)
    return undefined
  }
  const str = (v: unknown, path: string): string | undefined => {
    if (v === undefined || v === null || v === '') return undefined
    if (typeof v !== 'string') throw occurrenceError(source, i, path, `expected a string, got ${typeName(v)}`)
    return v
  }
  const legacyResource = item['resource']
  const resourceUri = str(item['resourceUri'], 'resourceUri') ?? (isObject(legacyResource) ? str(legacyResource['uri'], 'resource.uri') : undefined)
  if (resourceUri === undefined) throw occurrenceError(source, i, 'resourceUri', 'missing')
  const noteName = str(item['noteName'], 'noteName')
  if (noteName === undefined) throw occurrenceError(source, i, 'noteName', 'missing')
  const name = str(item['name'], 'name')
  const att = item['attestation']
  if (!isObject(att)) {
    if (kind === undefined) throw occurrenceError(source, i, 'attestation', 'missing (not an ATTESTATION occurrence?)')
    throw occurrenceError(source, i, 'attestation', att === undefined ? 'missing' : `expected an object, got ${typeName(att)}`)
  }
  const base = {...(name === undefined ? {} : {name}), resourceUri, noteName, source, index: i}

  // Legacy v1beta1: attestation.attestation.{pgpSignedAttestation | genericSignedAttestation}
  const inner = att['attestation']
  if (isObject(inner)) {
    const pgp = inner['pgpSignedAttestation']
    const generic = inner['genericSignedAttestation']
    if (isObject(pgp)) {
      const signature = str(pgp['signature'], 'attestation.attestation.pgpSignedAttestation.signature')
      if (signature === undefined) throw occurrenceError(source, i, 'attestation.attestation.pgpSignedAttestation.signature', 'missing')
      const pgpKeyId = str(pgp['pgpKeyId'], 'attestation.attestation.pgpSignedAttestation.pgpKeyId')
      if (pgpKeyId === undefined) throw occurrenceError(source, i, 'attestation.attestation.pgpSignedAttestation.pgpKeyId', 'missing')
      return {...base, serializedPayload: new Uint8Array(0), signatures: [], pgpSignedAttestation: {signature, pgpKeyId}, jwts: []}
    }
    if (isObject(generic)) return {...base, ...parseSignedBody(generic, 'attestation.attestation.genericSignedAttestation', source, i), jwts: []}
    throw occurrenceError(source, i, 'attestation.attestation', 'expected pgpSignedAttestation or genericSignedAttestation')
  }

  // v1: attestation.{serializedPayload, signatures[], jwts[]}
  const body = parseSignedBody(att, 'attestation', source, i)
  const rawJwts = att['jwts']
  if (rawJwts !== undefined && rawJwts !== null && !Array.isArray(rawJwts))
    throw occurrenceError(source, i, 'attestation.jwts', `expected an array, got ${typeName(rawJwts)}`)
  const jwts = (Array.isArray(rawJwts) ? rawJwts : []).map((j, k) => {
    const path = `attestation.jwts[${k}]`
    if (!isObject(j)) throw occurrenceError(source, i, path, `expected {compactJwt}, got ${typeName(j)}`)
    const compact = str(j['compactJwt'], `${path}.compactJwt`)
    if (compact === undefined) throw occurrenceError(source, i, `${path}.compactJwt`, 'missing')
    return compact
  })
  if (body.signatures.length === 0 && jwts.length === 0) throw occurrenceError(source, i, 'attestation.signatures', 'missing (no signatures and no JWTs)')
  return {...base, ...body, jwts}
}

function parseSignedBody(o: Obj, path: string, source: string, i: number): {serializedPayload: Uint8Array; signatures: AttestationSignature[]} {
  const rawPayload = o['serializedPayload']
  let serializedPayload: Uint8Array = new Uint8Array(0)
  if (rawPayload !== undefined && rawPayload !== null) {
    const decoded = decodeBase64Bytes(rawPayload)
    if (decoded === undefined) throw occurrenceError(source, i, `${path}.serializedPayload`, 'expected base64 (standard or URL-safe)')
    serializedPayload = decoded
  }
  const rawSigs = o['signatures']
  if (rawSigs !== undefined && rawSigs !== null && !Array.isArray(rawSigs))
    throw occurrenceError(source, i, `${path}.signatures`, `expected an array, got ${typeName(rawSigs)}`)
  const signatures = (Array.isArray(rawSigs) ? rawSigs : []).map((s, k): AttestationSignature => {
    const p = `${path}.signatures[${k}]`
    if (!isObject(s)) throw occurrenceError(source, i, p, `expected {publicKeyId, signature}, got ${typeName(s)}`)
    const publicKeyId = s['publicKeyId']
    if (typeof publicKeyId !== 'string' || publicKeyId === '') throw occurrenceError(source, i, `${p}.publicKeyId`, 'missing')
    const signature = decodeBase64Bytes(s['signature'])
    if (signature === undefined || signature.length === 0) throw occurrenceError(source, i, `${p}.signature`, 'missing or not base64 (standard or URL-safe)')
    return {publicKeyId, signature}
  })
  return {serializedPayload, signatures}
}
