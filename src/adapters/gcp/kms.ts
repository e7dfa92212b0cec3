/**
 * Cloud KMS asymmetric signing for `attest` (docs/google-apis.md#cloud-kms-signing): gcloud hashes the payload
 * locally and sends the digest; the response signature is stored as-is (DER for ECDSA, raw for
 * RSA). Request and response integrity is checked with CRC32C as the KMS docs recommend.
 */
import {SafeDeployError} from '../../core/errors.js'
import {callOptions, closeGaxClient, grpcError, obj, openGaxClient, str, toBytes, withRetries, type GaxClient, type GcpOptions} from './common.js'
import {crc32c} from './crc32c.js'
import {parseKmsKeyVersionName, projectOf} from '../../core/resource-names.js'

/** Exactly one of sha256, sha384, sha512 (checked at run time; typed loosely to match core's KmsPort). */
export type KmsDigest = Partial<Record<'sha256' | 'sha384' | 'sha512', Uint8Array>>

export interface KmsPublicKey {
  pem: string
  /** KMS CryptoKeyVersionAlgorithm, e.g. EC_SIGN_P256_SHA256 */
  algorithm: string
}

export interface KmsPort {
  /** The crypto key version resource name. */
  readonly versionName: string
  /** The attestation publicKeyId gcloud uses for this key: //cloudkms.googleapis.com/v1/<versionName> */
  readonly keyUri: string
  getPublicKey(): Promise<KmsPublicKey>
  asymmetricSign(digest: KmsDigest): Promise<Uint8Array>
  close(): Promise<void>
}

interface KmsClientLike extends GaxClient {
  getPublicKey(req: {name: string}, opts: ReturnType<typeof callOptions>): Promise<[unknown, ...unknown[]]>
  asymmetricSign(
    req: {name: string; digest: Record<string, Buffer>; digestCrc32c: {value: string}},
    opts: ReturnType<typeof callOptions>,
  ): Promise<[unknown, ...unknown[]]>
}

const KEY_URI_PREFIX = '//cloudkms.googleapis.com/v1/'
const DIGEST_LENGTHS = {sha256: 32, sha384: 48, sha512: 64} as const

/** Accepts a bare version name, the gcloud key URI (//cloudkms.googleapis.com/v1/…) or gcpkms://… */
export function kmsVersionName(input: string): string {
  const name = input.startsWith(KEY_URI_PREFIX) ? input.slice(KEY_URI_PREFIX.length) : input.startsWith('gcpkms://') ? input.slice('gcpkms://'.length) : input
  if (!parseKmsKeyVersionName(name)) {
    throw new SafeDeployError('USAGE', `invalid KMS key version "${input}": expected projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N`)
  }
  return name
}

/** The digest algorithm a KMS algorithm signs with (gcloud GetAlgorithmDigestType), or undefined. */
export function kmsDigestAlgorithm(algorithm: string): keyof typeof DIGEST_LENGTHS | undefined {
  const a = algorithm.toLowerCase()
  return a.includes('sha256') ? 'sha256' : a.includes('sha384') ? 'sha384' : a.includes('sha512') ? 'sha512' : undefined
}

function int64(v: unknown): string | undefined {
  const o = obj(v)
  const value = o?.['value']
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined
}

function corrupted(what: string): SafeDeployError {
  return new SafeDeployError('API_ERROR', `Cloud KMS ${what} failed its CRC32C integrity check (corrupted in transit)`, {hint: 'retry the command'})
}

export function kmsPort(versionName: string, opts: GcpOptions = {}): KmsPort {
  const name = kmsVersionName(versionName)
  const project = projectOf(name)
  let client: Promise<KmsClientLike> | undefined
  const getClient = (): Promise<KmsClientLike> => {
    client ??= (async () => {
      const {KeyManagementServiceClient} = await import('@google-cloud/kms')
      return openGaxClient(
        (options) => new KeyManagementServiceClient(options as ConstructorParameters<typeof KeyManagementServiceClient>[0]) as unknown as KmsClientLike,
        opts,
        {action: 'connecting to Cloud KMS', permission: 'cloudkms.cryptoKeyVersions.viewPublicKey (roles/cloudkms.publicKeyViewer)', project},
      )
    })()
    return client
  }
  return {
    versionName: name,
    keyUri: KEY_URI_PREFIX + name,
    async getPublicKey() {
      const c = await getClient()
      let res: unknown
      try {
        ;[res] = await withRetries(opts, () => c.getPublicKey({name}, callOptions(opts)))
      } catch (err) {
        throw grpcError(err, {
          action: `reading the public key of ${name}`,
          permission: 'cloudkms.cryptoKeyVersions.viewPublicKey (roles/cloudkms.publicKeyViewer)',
          project,
          notFound: 'KEY_INVALID',
          notFoundHint: 'check the key version name (gcloud kms keys versions list)',
        })
      }
      const r = obj(res) ?? {}
      const pem = str(r['pem'])
      const algorithm = str(r['algorithm'])
      if (pem === undefined || algorithm === undefined) throw new SafeDeployError('API_ERROR', `Cloud KMS returned no public key for ${name}`)
      const crc = int64(r['pemCrc32c'])
      if (crc !== undefined && crc !== String(crc32c(pem))) throw corrupted('public key')
      return {pem, algorithm}
    },
    async asymmetricSign(digest) {
      const entries = Object.entries(digest).filter(([, v]) => v !== undefined) as [keyof typeof DIGEST_LENGTHS, Uint8Array][]
      const [entry] = entries
      if (entries.length !== 1 || !entry || !(entry[0] in DIGEST_LENGTHS) || !(entry[1] instanceof Uint8Array)) {
        throw new SafeDeployError('USAGE', 'asymmetricSign needs exactly one of sha256, sha384, sha512')
      }
      const [alg, bytes] = entry
      if (bytes.length !== DIGEST_LENGTHS[alg]) {
        throw new SafeDeployError('USAGE', `a ${alg} digest is ${DIGEST_LENGTHS[alg]} bytes, got ${bytes.length}`)
      }
      const c = await getClient()
      const digestCrc = String(crc32c(bytes))
      let res: unknown
      try {
        ;[res] = await withRetries(opts, () =>
          c.asymmetricSign({name, digest: {[alg]: Buffer.from(bytes)}, digestCrc32c: {value: digestCrc}}, callOptions(opts)),
        )
      } catch (err) {
        throw grpcError(err, {
          action: `signing with ${name}`,
          permission: 'cloudkms.cryptoKeyVersions.useToSign (roles/cloudkms.signer)',
          project,
          notFound: 'KEY_INVALID',
          notFoundHint: 'check the key version name (gcloud kms keys versions list)',
        })
      }
      const r = obj(res) ?? {}
      if (r['verifiedDigestCrc32c'] === false) throw corrupted('sign request')
      const responseName = str(r['name'])
      if (responseName !== undefined && responseName !== name) {
        throw new SafeDeployError('API_ERROR', `Cloud KMS signed with ${responseName}, expected ${name}`)
      }
      const signature = toBytes(r['signature'])
      if (signature.length === 0) throw new SafeDeployError('API_ERROR', `Cloud KMS returned an empty signature for ${name}`)
      const crc = int64(r['signatureCrc32c'])
      if (crc !== undefined && crc !== String(crc32c(signature))) throw corrupted('signature')
      return signature
    },
    async close() {
      const opened = client
      client = undefined
      await closeGaxClient(opened)
    },
  }
}
