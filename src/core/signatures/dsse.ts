/**
 * DSSE and in-toto, with node:crypto only: the pre-authentication encoding (PAE), the one DSSE signature check of the
 * repository (cosign attestations in verify.ts, Cloud Build provenance in core/platform-policy/provenance.ts) and the
 * reading of an in-toto statement's subject. Kept apart from the Sigstore libraries so that a platform policy's
 * slsaCheck does not load them (docs/architecture.md#start-up). PAE is defined by the DSSE protocol:
 * https://github.com/secure-systems-lab/dsse/blob/master/protocol.md
 */
import {constants as cryptoConstants, verify as cryptoVerify, type KeyObject} from 'node:crypto'

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json'
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1'
const IN_TOTO_STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1'

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes as ASCII decimal: what a DSSE signature signs. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8')
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), Buffer.from(payload)])
}

/** Strict base64: Buffer.from(…, 'base64') skips what is not base64, which would turn garbage into a signature. */
export function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '')
  if (compact === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) return undefined
  return Buffer.from(compact, 'base64')
}

/** cosign's hash per key: SHA-256, except SHA-384/512 with P-384/P-521, and none for Ed25519. */
export function keyVerifies(key: KeyObject, data: Uint8Array, signature: Buffer): boolean {
  try {
    switch (key.asymmetricKeyType) {
      case 'ed25519':
        return cryptoVerify(null, data, key, signature)
      case 'rsa':
        return (
          cryptoVerify('sha256', data, key, signature) ||
          cryptoVerify('sha256', data, {key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_AUTO}, signature)
        )
      case 'ec': {
        const curve = key.asymmetricKeyDetails?.namedCurve
        const hash = curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256'
        return cryptoVerify(hash, data, {key, dsaEncoding: 'der'}, signature)
      }
      default:
        return cryptoVerify('sha256', data, key, signature)
    }
  } catch {
    return false
  }
}

/**
 * Whether `key` signed a DSSE envelope's pre-authentication encoding of (payloadType, payload): DSSE signs the PAE,
 * never the bare payload, so a payload cannot be replayed as another type.
 */
export function dsseSignatureVerifies(key: KeyObject, payloadType: string, payload: Uint8Array, signature: Buffer): boolean {
  return keyVerifies(key, preAuthEncoding(payloadType, payload), signature)
}

export interface Statement {
  predicateType: string
  problem?: string
}

/** An in-toto statement about this digest (subjects matched by digest only); `problem` when it is not. */
export function readStatement(payload: Uint8Array, digest: string): Statement {
  let doc: {_type?: unknown; subject?: unknown; predicateType?: unknown}
  try {
    doc = JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(payload)) as typeof doc
  } catch (err) {
    return {predicateType: '', problem: `payload is not an in-toto statement: ${errorText(err)}`}
  }
  if (doc === null || typeof doc !== 'object') return {predicateType: '', problem: 'payload is not an in-toto statement (not a JSON object)'}
  const predicateType = typeof doc.predicateType === 'string' ? doc.predicateType : ''
  if (doc._type !== IN_TOTO_STATEMENT_V1 && doc._type !== IN_TOTO_STATEMENT_V01)
    return {predicateType, problem: `payload is not an in-toto statement (_type ${JSON.stringify(doc._type)})`}
  if (predicateType === '') return {predicateType, problem: 'in-toto statement has no predicateType'}
  const hex = digest.slice('sha256:'.length)
  const subjects = Array.isArray(doc.subject) ? (doc.subject as Array<{digest?: {sha256?: unknown}} | null>) : []
  const shas = subjects.map((s) => s?.digest?.sha256).filter((d): d is string => typeof d === 'string')
  if (shas.includes(hex)) return {predicateType}
  if (shas.length === 0) return {predicateType, problem: 'in-toto statement names no subject with a sha256 digest'}
  return {predicateType, problem: `signed for another digest sha256:${shas[0] as string}${shas.length > 1 ? ` (and ${shas.length - 1} more)` : ''}`}
}
