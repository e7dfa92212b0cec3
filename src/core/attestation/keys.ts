/**
 * Attestor public keys: signature algorithms, key ids and key/algorithm consistency
 * (docs/binauthz.md#pkix-signature-algorithms, docs/binauthz.md#key-ids).
 */
import {createHash, createPublicKey, type KeyObject} from 'node:crypto'
import type * as openpgp from 'openpgp'
import {loadOpenpgp} from './openpgp.js'
import {SafeDeployError} from '../errors.js'
import {parseKmsKeyVersionName} from '../resource-names.js'

export type HashName = 'sha256' | 'sha384' | 'sha512'
export type CurveName = 'P-256' | 'P-384' | 'P-521'

export type AlgorithmSpec = {family: 'rsa-pss' | 'rsa-pkcs1'; hash: HashName; bits: 2048 | 3072 | 4096} | {family: 'ecdsa'; hash: HashName; curve: CurveName}

const pss = (bits: 2048 | 3072 | 4096, hash: HashName): AlgorithmSpec => ({family: 'rsa-pss', hash, bits})
const pkcs1 = (bits: 2048 | 3072 | 4096, hash: HashName): AlgorithmSpec => ({family: 'rsa-pkcs1', hash, bits})
const ec = (curve: CurveName, hash: HashName): AlgorithmSpec => ({family: 'ecdsa', hash, curve})

/**
 * Every `PkixPublicKey.SignatureAlgorithm` name (v1, v1beta1, v1alpha2), aliases included. The Cloud KMS
 * names (`EC_SIGN_*`, `RSA_SIGN_PSS_*`, `RSA_SIGN_PKCS1_*`) are the aliases, so a KMS key's algorithm
 * can be looked up here verbatim.
 */
export const ALGORITHMS: Readonly<Record<string, AlgorithmSpec>> = Object.freeze({
  RSA_PSS_2048_SHA256: pss(2048, 'sha256'),
  RSA_SIGN_PSS_2048_SHA256: pss(2048, 'sha256'),
  RSA_PSS_3072_SHA256: pss(3072, 'sha256'),
  RSA_SIGN_PSS_3072_SHA256: pss(3072, 'sha256'),
  RSA_PSS_4096_SHA256: pss(4096, 'sha256'),
  RSA_SIGN_PSS_4096_SHA256: pss(4096, 'sha256'),
  RSA_PSS_4096_SHA512: pss(4096, 'sha512'),
  RSA_SIGN_PSS_4096_SHA512: pss(4096, 'sha512'),
  RSA_SIGN_PKCS1_2048_SHA256: pkcs1(2048, 'sha256'),
  RSA_SIGN_PKCS1_3072_SHA256: pkcs1(3072, 'sha256'),
  RSA_SIGN_PKCS1_4096_SHA256: pkcs1(4096, 'sha256'),
  RSA_SIGN_PKCS1_4096_SHA512: pkcs1(4096, 'sha512'),
  ECDSA_P256_SHA256: ec('P-256', 'sha256'),
  EC_SIGN_P256_SHA256: ec('P-256', 'sha256'),
  ECDSA_P384_SHA384: ec('P-384', 'sha384'),
  EC_SIGN_P384_SHA384: ec('P-384', 'sha384'),
  ECDSA_P521_SHA512: ec('P-521', 'sha512'),
  EC_SIGN_P521_SHA512: ec('P-521', 'sha512'),
})

/** Enum values that exist in the API but cannot be verified locally. */
export const UNSUPPORTED_ALGORITHMS: ReadonlySet<string> = new Set(['ML_DSA_65'])

const NODE_CURVE: Readonly<Record<CurveName, string>> = {'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1'}

/**
 * The enum name for an algorithm as written: the API form (`ECDSA_P256_SHA256`) or gcloud's
 * `--pkix-public-key-algorithm` spelling (`ecdsa-p256-sha256`). Unknown names are returned unchanged.
 */
export function normalizeAlgorithmName(name: string): string {
  return /^[a-z0-9-]+$/.test(name) ? name.toUpperCase().replace(/-/g, '_') : name
}

export function algorithmSpec(name: string): AlgorithmSpec | undefined {
  return Object.prototype.hasOwnProperty.call(ALGORITHMS, name) ? ALGORITHMS[name] : undefined
}

/** RFC 6920 default id of a PKIX key: `ni:///sha-256;` + base64url-nopad(sha256(DER SubjectPublicKeyInfo)). */
export function defaultPkixKeyId(publicKeyPem: string | KeyObject): string {
  const key = typeof publicKeyPem === 'string' ? parsePublicKey(publicKeyPem) : publicKeyPem
  const der = key.export({type: 'spki', format: 'der'})
  return 'ni:///sha-256;' + createHash('sha256').update(der).digest('base64url')
}

/** The id binauthz gives a Cloud KMS key version: `//cloudkms.googleapis.com/v1/` + the version name. */
export function kmsKeyId(versionName: string): string {
  const name = versionName.replace(/^(?:https:)?\/\/cloudkms\.googleapis\.com\/v1\//, '')
  if (!parseKmsKeyVersionName(name)) {
    throw new SafeDeployError(
      'KEY_INVALID',
      `invalid Cloud KMS key version "${versionName}": expected projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V`,
      {
        hint: 'pass the full key version name, e.g. projects/my-proj/locations/global/keyRings/binauthz/cryptoKeys/attestor/cryptoKeyVersions/1',
      },
    )
  }
  return '//cloudkms.googleapis.com/v1/' + name
}

/** OpenPGP V4 fingerprint (upper-case hex) of an ASCII-armored public key, as the API computes the key id. */
export async function pgpFingerprint(armored: string): Promise<string> {
  let key: openpgp.Key
  try {
    key = await (await loadOpenpgp()).readKey({armoredKey: armored})
  } catch (err) {
    throw new SafeDeployError('KEY_INVALID', `not an ASCII-armored OpenPGP public key: ${errorText(err)}`, {cause: err})
  }
  if (key.keyPacket.version !== 4) {
    throw new SafeDeployError('KEY_INVALID', `OpenPGP key version ${key.keyPacket.version} is not supported (Binary Authorization uses V4 fingerprints)`)
  }
  return key.getFingerprint().toUpperCase()
}

/**
 * Synchronous V4 fingerprint from the first public-key packet of an armored key (SHA-1 over
 * 0x99 ‖ len16 ‖ body, RFC 4880 §12.2). Used where the async openpgp parser cannot be (parseAttestor).
 * Returns undefined when the block cannot be read or the key is not V4.
 */
export function pgpFingerprintSync(armored: string): string | undefined {
  const m = /-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/.exec(armored)
  if (!m) return undefined
  const lines = (m[1] ?? '').split(/\r?\n/)
  // Armor headers end at the first empty line (if any header lines are present).
  const blank = lines.findIndex((l) => l.trim() === '')
  const headerish = blank > 0 && lines.slice(0, blank).every((l) => /^[A-Za-z-]+: /.test(l))
  const body = (headerish ? lines.slice(blank + 1) : lines).filter((l) => l.trim() !== '' && !l.startsWith('='))
  const bytes = Buffer.from(body.join(''), 'base64')
  if (bytes.length < 2) return undefined
  const first = bytes[0] as number
  if ((first & 0x80) === 0) return undefined
  let tag: number
  let offset: number
  let length: number
  if ((first & 0x40) !== 0) {
    tag = first & 0x3f
    const l0 = bytes[1] as number
    if (l0 < 192) {
      length = l0
      offset = 2
    } else if (l0 < 224) {
      length = ((l0 - 192) << 8) + (bytes[2] as number) + 192
      offset = 3
    } else if (l0 === 255) {
      length = bytes.readUInt32BE(2)
      offset = 6
    } else {
      return undefined
    }
  } else {
    tag = (first >> 2) & 0x0f
    const lt = first & 0x03
    if (lt === 0) {
      length = bytes[1] as number
      offset = 2
    } else if (lt === 1) {
      length = bytes.readUInt16BE(1)
      offset = 3
    } else if (lt === 2) {
      length = bytes.readUInt32BE(1)
      offset = 5
    } else {
      return undefined
    }
  }
  if (tag !== 6 || offset + length > bytes.length || length > 0xffff) return undefined
  const packet = bytes.subarray(offset, offset + length)
  if (packet[0] !== 4) return undefined
  const head = Buffer.from([0x99, (length >> 8) & 0xff, length & 0xff])
  return createHash('sha1').update(head).update(packet).digest('hex').toUpperCase()
}

/**
 * The KeyObject of a PEM public key, parsed once per distinct PEM (KeyObjects are immutable): a policy's few keys
 * verify thousands of signatures, and parsing the PEM each time was a fifth of a 1,000-image platform evaluation.
 */
const parsedKeys = new Map<string, KeyObject>()
const MAX_PARSED_KEYS = 1024

function publicKeyFromPem(pem: string): KeyObject {
  let key = parsedKeys.get(pem)
  if (key === undefined) {
    key = createPublicKey(pem)
    if (parsedKeys.size >= MAX_PARSED_KEYS) parsedKeys.clear()
    parsedKeys.set(pem, key)
  }
  return key
}

export function parsePublicKey(pem: string): KeyObject {
  try {
    return publicKeyFromPem(pem)
  } catch (err) {
    throw new SafeDeployError('KEY_INVALID', `not a PEM public key: ${errorText(err)}`, {cause: err})
  }
}

export type PkixKeyCheck = {ok: true; key: KeyObject; spec: AlgorithmSpec; algorithm: string} | {ok: false; unsupported: boolean; reason: string}

/**
 * Check a PEM public key against its declared signature algorithm: key type, curve, modulus size
 * (the API says the algorithm "must match the structure … encoded in publicKeyPem"; the size check is
 * an assumption, docs/binauthz.md#pkix-signature-algorithms). Never throws; see assertPkixKey for the throwing form.
 */
export function checkPkixKey(publicKeyPem: string | KeyObject, algorithm: string): PkixKeyCheck {
  const name = normalizeAlgorithmName(algorithm)
  if (UNSUPPORTED_ALGORITHMS.has(name)) {
    return {ok: false, unsupported: true, reason: `signature algorithm ${name} is unsupported by safe-deploy (cannot verify it locally)`}
  }
  const spec = algorithmSpec(name)
  if (spec === undefined) {
    const why = name === '' || name === 'SIGNATURE_ALGORITHM_UNSPECIFIED' ? 'is unspecified' : `"${algorithm}" is unknown`
    return {ok: false, unsupported: false, reason: `signature algorithm ${why} (expected one of ${Object.keys(ALGORITHMS).join(', ')})`}
  }
  let key: KeyObject
  if (typeof publicKeyPem === 'string') {
    try {
      key = publicKeyFromPem(publicKeyPem)
    } catch (err) {
      return {ok: false, unsupported: false, reason: `publicKeyPem is not a PEM public key (${errorText(err)})`}
    }
  } else {
    key = publicKeyPem
  }
  if (key.type !== 'public') return {ok: false, unsupported: false, reason: 'expected a public key, got a private key'}
  const type = key.asymmetricKeyType
  const details = key.asymmetricKeyDetails ?? {}
  if (spec.family === 'ecdsa') {
    if (type !== 'ec') return {ok: false, unsupported: false, reason: `${name} needs an EC ${spec.curve} key, got ${describeKey(key)}`}
    if (details.namedCurve !== NODE_CURVE[spec.curve]) {
      return {ok: false, unsupported: false, reason: `${name} needs an EC ${spec.curve} key, got ${describeKey(key)}`}
    }
  } else {
    const okType = type === 'rsa' || (spec.family === 'rsa-pss' && type === 'rsa-pss')
    if (!okType) return {ok: false, unsupported: false, reason: `${name} needs an RSA ${spec.bits}-bit key, got ${describeKey(key)}`}
    if (details.modulusLength !== spec.bits) {
      return {ok: false, unsupported: false, reason: `${name} needs an RSA ${spec.bits}-bit key, got an RSA ${details.modulusLength ?? '?'}-bit key`}
    }
  }
  return {ok: true, key, spec, algorithm: name}
}

/** checkPkixKey, throwing SafeDeployError KEY_INVALID (unknown, unspecified, unsupported or mismatched). */
export function assertPkixKey(publicKeyPem: string | KeyObject, algorithm: string): {key: KeyObject; spec: AlgorithmSpec; algorithm: string} {
  const r = checkPkixKey(publicKeyPem, algorithm)
  if (!r.ok) throw new SafeDeployError('KEY_INVALID', r.reason, {hint: 'fix the key or its signatureAlgorithm so that they match'})
  return {key: r.key, spec: r.spec, algorithm: r.algorithm}
}

function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {}
  if (key.asymmetricKeyType === 'ec') {
    const curve = Object.entries(NODE_CURVE).find(([, n]) => n === d.namedCurve)?.[0] ?? d.namedCurve ?? 'unknown curve'
    return `an EC ${curve} key`
  }
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return `an RSA ${d.modulusLength ?? '?'}-bit key`
  return `a ${key.asymmetricKeyType ?? 'unknown'} key`
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
