/** Attestors and attestation occurrences (docs/binauthz.md#attestors, docs/binauthz.md#notes-and-occurrences). */

export type PkixSignatureAlgorithm =
  | 'RSA_PSS_2048_SHA256'
  | 'RSA_SIGN_PSS_2048_SHA256'
  | 'RSA_PSS_3072_SHA256'
  | 'RSA_SIGN_PSS_3072_SHA256'
  | 'RSA_PSS_4096_SHA256'
  | 'RSA_SIGN_PSS_4096_SHA256'
  | 'RSA_PSS_4096_SHA512'
  | 'RSA_SIGN_PSS_4096_SHA512'
  | 'RSA_SIGN_PKCS1_2048_SHA256'
  | 'RSA_SIGN_PKCS1_3072_SHA256'
  | 'RSA_SIGN_PKCS1_4096_SHA256'
  | 'RSA_SIGN_PKCS1_4096_SHA512'
  | 'ECDSA_P256_SHA256'
  | 'EC_SIGN_P256_SHA256'
  | 'ECDSA_P384_SHA384'
  | 'EC_SIGN_P384_SHA384'
  | 'ECDSA_P521_SHA512'
  | 'EC_SIGN_P521_SHA512'

/** What a PKIX key's signatureAlgorithm may hold after parsing: a supported name, or ML_DSA_65 (kept; verification reports it as unsupported). */
export type AttestorPkixAlgorithm = PkixSignatureAlgorithm | 'ML_DSA_65'

export type AttestorPublicKey =
  | {kind: 'pkix'; id: string; comment?: string; publicKeyPem: string; signatureAlgorithm: string}
  | {kind: 'pgp'; id: string; comment?: string; asciiArmoredPgpPublicKey: string}

export interface Attestor {
  /** projects/P/attestors/A */
  name: string
  description?: string
  /** projects/P/notes/N (userOwnedGrafeasNote or v1beta1 userOwnedDrydockNote). */
  noteReference: string
  publicKeys: AttestorPublicKey[]
  /** Where it came from: a file path or the API. */
  source: string
}

export interface AttestationSignature {
  publicKeyId: string
  /** Raw signature bytes (decoded from standard or URL-safe base64). */
  signature: Uint8Array
}

/** A Grafeas ATTESTATION occurrence, normalised from REST JSON (v1 or legacy v1beta1) or gRPC. */
export interface AttestationOccurrence {
  name?: string
  resourceUri: string
  noteName: string
  /** The exact signed payload bytes (PKIX); empty for PGP-only legacy forms. */
  serializedPayload: Uint8Array
  signatures: AttestationSignature[]
  /** Legacy v1beta1 pgpSignedAttestation: ASCII-armored attached signature plus key fingerprint. */
  pgpSignedAttestation?: {signature: string; pgpKeyId: string}
  jwts: string[]
  /** Where it came from: a file path or the API. */
  source: string
  /** Position in the source (parseOccurrences), used to name it when it has no `name`. */
  index?: number
}
