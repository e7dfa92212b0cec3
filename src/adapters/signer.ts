/** Attestation signers from what attest was given: a PEM or PGP key file, a Cloud KMS key, or a signature made elsewhere. */
import {createPrivateKey, createPublicKey, sign as cryptoSign, type KeyObject} from 'node:crypto'
import {SafeDeployError} from '../core/errors.js'
import {pemSigner, pgpSigner, kmsSigner} from '../core/attestation/sign.js'
import {defaultPkixKeyId} from '../core/attestation/keys.js'
import type {Attestor} from '../core/attestation/types.js'
import type {AttestSigner, SigstoreSigner} from '../core/ports.js'
import {readBinaryFile, readTextFile} from './fs/files.js'

export interface SignerFlags {
  privateKey?: string | undefined
  pgpKey?: string | undefined
  pgpPassphraseFile?: string | undefined
  kmsKey?: string | undefined
  kmsEndpoint?: string | undefined
  insecure: boolean
  /** Deadline of each KMS call in ms (--api-timeout). */
  timeoutMs?: number | undefined
  signatureFile?: string | undefined
  publicKeyId?: string | undefined
}

const readKeyFile = (path: string, what: string): string => readTextFile(path, what, {code: 'KEY_INVALID', reason: 'errno'})

/** The one signer flag given (oclif's exactlyOne; --signature-file dependsOn --public-key-id). */
export async function fileSigner(flags: SignerFlags, attestor: Attestor): Promise<AttestSigner> {
  if (flags.privateKey) {
    const pem = readKeyFile(flags.privateKey, 'private key')
    // The algorithm comes from the attestor key this private key belongs to (docs/binauthz.md#key-ids).
    let publicPem: string
    try {
      publicPem = createPublicKey(pem).export({type: 'spki', format: 'pem'}).toString()
    } catch (err) {
      throw new SafeDeployError('KEY_INVALID', `${flags.privateKey}: not a PEM private key: ${(err as Error).message}`)
    }
    const keyId = flags.publicKeyId ?? defaultPkixKeyId(publicPem)
    const key = attestor.publicKeys.find((k) => k.id === keyId)
    if (!key || key.kind !== 'pkix') {
      throw new SafeDeployError('KEY_INVALID', `the private key's id ${keyId} is not a PKIX key of attestor ${attestor.name}`, {
        hint: `the attestor trusts: ${attestor.publicKeys.map((k) => k.id).join(', ') || '(no keys)'}; add the public key with \`gcloud container binauthz attestors public-keys add\` or pass --public-key-id`,
      })
    }
    return {...pemSigner(pem, key.signatureAlgorithm, keyId), kind: 'pkix'}
  }
  if (flags.pgpKey) {
    const armored = readKeyFile(flags.pgpKey, 'PGP private key')
    const pass = flags.pgpPassphraseFile ? readKeyFile(flags.pgpPassphraseFile, 'passphrase file').replace(/\r?\n$/, '') : undefined
    return {...(await pgpSigner(armored, pass)), kind: 'pgp'}
  }
  if (flags.kmsKey) {
    const port = await kmsKeyPort(flags.kmsKey, flags)
    return {...(await kmsSigner(port, flags.kmsKey)), kind: 'kms'}
  }
  if (flags.signatureFile && flags.publicKeyId) {
    const sig = readBinaryFile(flags.signatureFile, 'signature file', {code: 'USAGE'})
    return {keyId: flags.publicKeyId, kind: 'signature-file', sign: async () => new Uint8Array(sig)}
  }
  throw new SafeDeployError('USAGE', 'give one of --private-key, --kms-key, --pgp-key, --signature-file (with --public-key-id)')
}

/** The Cloud KMS key version behind --kms-key (loaded only when one is given). */
async function kmsKeyPort(versionName: string, flags: Pick<SignerFlags, 'kmsEndpoint' | 'insecure' | 'timeoutMs'>) {
  const {kmsPort} = await import('../adapters/gcp/kms.js')
  return kmsPort(versionName, {
    ...(flags.kmsEndpoint ? {endpoint: flags.kmsEndpoint} : {}),
    insecure: flags.insecure,
    ...(flags.timeoutMs === undefined ? {} : {timeoutMs: flags.timeoutMs}),
  })
}

/**
 * attest --sigstore: a PEM private key (its public half derived) or a Cloud KMS key version (its
 * public key read from KMS), signing as cosign does: SHA-256 for ECDSA and RSA, pure Ed25519.
 */
export async function sigstoreSigner(flags: Pick<SignerFlags, 'privateKey' | 'kmsKey' | 'kmsEndpoint' | 'insecure' | 'timeoutMs'>): Promise<SigstoreSigner> {
  if (flags.privateKey) {
    const pem = readKeyFile(flags.privateKey, 'private key')
    let key: KeyObject
    try {
      key = createPrivateKey(pem)
    } catch (err) {
      throw new SafeDeployError('KEY_INVALID', `${flags.privateKey}: not a PEM private key: ${(err as Error).message}`, {
        hint: 'give an unencrypted PKCS#8 or SEC1 PEM key (cosign keys are encrypted: export one with `cosign import-key-pair` inverse, or use --kms-key)',
      })
    }
    const type = key.asymmetricKeyType
    if (type !== 'ec' && type !== 'rsa' && type !== 'ed25519')
      throw new SafeDeployError('KEY_INVALID', `${flags.privateKey}: a ${type ?? 'secret'} key cannot sign Sigstore signatures (ECDSA, RSA or Ed25519)`)
    const hash = type === 'ed25519' ? null : 'sha256'
    return {
      name: flags.privateKey,
      publicKeyPem: createPublicKey(key).export({type: 'spki', format: 'pem'}).toString(),
      sign: async (data) => new Uint8Array(cryptoSign(hash, data, key)),
    }
  }
  if (flags.kmsKey) {
    const port = await kmsKeyPort(flags.kmsKey, flags)
    const signer = await kmsSigner(port, flags.kmsKey)
    const {pem} = await port.getPublicKey()
    return {name: flags.kmsKey, publicKeyPem: pem, sign: (data) => signer.sign(data)}
  }
  throw new SafeDeployError('USAGE', 'attest --sigstore signs with --private-key FILE or --kms-key projects/…/cryptoKeyVersions/N')
}
