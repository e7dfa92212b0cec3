/**
 * Signers for `safe-deploy attest`, and the REST occurrence they produce (docs/binauthz.md#notes-and-occurrences,
 * docs/binauthz.md#signature-verification, docs/google-apis.md#cloud-kms-signing).
 */
import {createHash, createPrivateKey, createPublicKey, sign as cryptoSign, constants as cryptoConstants, type KeyObject} from 'node:crypto'
import type * as openpgp from 'openpgp'
import {loadOpenpgp} from './openpgp.js'
import {SafeDeployError} from '../errors.js'
import {assertPkixKey, defaultPkixKeyId, errorText, kmsKeyId, type AlgorithmSpec, type HashName} from './keys.js'
import {parseArtifactUrl} from './payload.js'
import {verifyPkixSignature} from './verify.js'
import {parseNoteName} from '../resource-names.js'

export interface Signer {
  keyId: string
  sign(payload: Uint8Array): Promise<Uint8Array>
  /** The PKIX signature algorithm (enum name), when the signer is PKIX or KMS. */
  algorithm?: string
  /** True for OpenPGP signers (the signature is an attached, ASCII-armored message). */
  pgp?: boolean
}

function pkixSign(key: KeyObject, spec: AlgorithmSpec, payload: Uint8Array): Uint8Array {
  switch (spec.family) {
    case 'rsa-pkcs1':
      return cryptoSign(spec.hash, payload, {key, padding: cryptoConstants.RSA_PKCS1_PADDING})
    case 'rsa-pss':
      // Salt = digest length, like Cloud KMS (verifiers accept any salt length).
      return cryptoSign(spec.hash, payload, {key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_DIGEST})
    case 'ecdsa':
      return cryptoSign(spec.hash, payload, {key, dsaEncoding: 'der'})
  }
}

/**
 * A signer from a PEM private key (PKCS#8, SEC1 or PKCS#1). The key must match the algorithm
 * (KEY_INVALID otherwise). The default key id is the API's default PKIX id of the public half.
 */
export function pemSigner(privateKeyPem: string, algorithm: string, keyId?: string): Signer {
  let priv: KeyObject
  try {
    priv = createPrivateKey(privateKeyPem)
  } catch (err) {
    throw new SafeDeployError('KEY_INVALID', `not a PEM private key: ${errorText(err)}`, {
      cause: err,
      hint: 'expected an unencrypted PEM private key (PKCS#8, SEC1 or PKCS#1)',
    })
  }
  const pub = createPublicKey(priv)
  const {spec, algorithm: name} = assertPkixKey(pub, algorithm)
  return {
    keyId: keyId ?? defaultPkixKeyId(pub),
    algorithm: name,
    sign: async (payload) => new Uint8Array(pkixSign(priv, spec, payload)),
  }
}

/**
 * A signer from an ASCII-armored OpenPGP private key: an attached, ASCII-armored signature
 * (`gpg --sign --armor` style, what gcloud `attestations create --pgp-key-fingerprint` stores).
 * keyId = the primary key's V4 fingerprint (what the API sets as the attestor key id).
 */
export async function pgpSigner(armoredPrivateKey: string, passphrase?: string): Promise<Signer> {
  const pgp = await loadOpenpgp()
  let key: openpgp.PrivateKey
  try {
    key = await pgp.readPrivateKey({armoredKey: armoredPrivateKey})
  } catch (err) {
    throw new SafeDeployError('KEY_INVALID', `not an ASCII-armored OpenPGP private key: ${errorText(err)}`, {cause: err})
  }
  if (key.keyPacket.version !== 4)
    throw new SafeDeployError('KEY_INVALID', `OpenPGP key version ${key.keyPacket.version} is not supported (Binary Authorization uses V4 fingerprints)`)
  if (!key.isDecrypted()) {
    if (passphrase === undefined) throw new SafeDeployError('KEY_INVALID', 'the OpenPGP private key is encrypted and no passphrase was given')
    try {
      key = await pgp.decryptKey({privateKey: key, passphrase})
    } catch (err) {
      throw new SafeDeployError('KEY_INVALID', `cannot decrypt the OpenPGP private key: ${errorText(err)}`, {cause: err})
    }
  }
  const signingKey = key
  return {
    keyId: key.getFingerprint().toUpperCase(),
    pgp: true,
    sign: async (payload) => {
      const message = await pgp.createMessage({binary: payload})
      try {
        const armored = await pgp.sign({message, signingKeys: signingKey, format: 'armored'})
        return new TextEncoder().encode(armored)
      } catch (err) {
        throw new SafeDeployError('KEY_INVALID', `OpenPGP signing failed: ${errorText(err)}`, {cause: err})
      }
    },
  }
}

export interface KmsPort {
  getPublicKey(): Promise<{pem: string; algorithm: string}>
  asymmetricSign(digest: Partial<Record<HashName, Uint8Array>>): Promise<Uint8Array>
}

/**
 * A Cloud KMS signer: the payload is hashed locally per the key's algorithm and the digest is sent
 * (like gcloud `sign-and-create`); the returned signature is checked against the public key before use.
 * keyId = `//cloudkms.googleapis.com/v1/<versionName>`.
 */
export async function kmsSigner(port: KmsPort, versionName: string): Promise<Signer> {
  const keyId = kmsKeyId(versionName)
  const {pem, algorithm} = await port.getPublicKey()
  const {key, spec, algorithm: name} = assertPkixKey(pem, algorithm)
  return {
    keyId,
    algorithm: name,
    sign: async (payload) => {
      const digest = new Uint8Array(createHash(spec.hash).update(payload).digest())
      const signature = await port.asymmetricSign({[spec.hash]: digest})
      if (!verifyPkixSignature(key, spec, payload, signature)) {
        throw new SafeDeployError('SIGNATURE_INVALID', `the signature returned by Cloud KMS for ${versionName} does not verify with its public key (${name})`, {
          hint: 'check that the key version is enabled and is the one the attestor trusts',
        })
      }
      return signature
    },
  }
}

/** A Grafeas v1 ATTESTATION occurrence in REST JSON form (what `POST projects/P/occurrences` takes). */
export interface RestAttestationOccurrence {
  kind: 'ATTESTATION'
  resourceUri: string
  noteName: string
  attestation: {
    serializedPayload: string
    signatures: Array<{publicKeyId: string; signature: string}>
  }
}

/**
 * The REST occurrence for a signed payload: resourceUri `https://registry/repo@sha256:…` (tag dropped),
 * standard base64 bytes. PGP: the attached signature message goes in signatures[].signature with
 * publicKeyId = fingerprint, and serializedPayload = the payload (what gcloud does for PGP keys).
 */
export function buildOccurrence(opts: {
  imageWithDigest: string
  noteName: string
  payload: Uint8Array
  signature: Uint8Array
  keyId: string
  pgp?: boolean
}): RestAttestationOccurrence {
  const a = parseArtifactUrl(opts.imageWithDigest)
  if (!parseNoteName(opts.noteName, {noSpace: true})) {
    throw new SafeDeployError('ATTESTOR_INVALID', `invalid note name "${opts.noteName}"`, {hint: 'expected projects/PROJECT/notes/NOTE'})
  }
  if (opts.keyId === '') throw new SafeDeployError('KEY_INVALID', 'the signature needs a public key id')
  if (opts.pgp === true && !/^[0-9A-F]{40}$/.test(opts.keyId)) {
    throw new SafeDeployError('KEY_INVALID', `a PGP signature's key id must be the 40-hex upper-case V4 fingerprint, got "${opts.keyId}"`)
  }
  const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')
  return {
    kind: 'ATTESTATION',
    resourceUri: `https://${a.registry}/${a.repository}@${a.digest}`,
    noteName: opts.noteName,
    attestation: {
      serializedPayload: b64(opts.payload),
      signatures: [{publicKeyId: opts.keyId, signature: b64(opts.signature)}],
    },
  }
}
