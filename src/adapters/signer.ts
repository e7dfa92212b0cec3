/** Attestation signers from what attest was given: a PEM or PGP key file, a Cloud KMS key, or a signature made elsewhere. */
import {createPublicKey} from 'node:crypto'
import {SafeDeployError} from '../core/errors.js'
import {pemSigner, pgpSigner, kmsSigner} from '../core/attestation/sign.js'
import {defaultPkixKeyId} from '../core/attestation/keys.js'
import type {Attestor} from '../core/attestation/types.js'
import type {AttestSigner} from '../core/ports.js'
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
    const {kmsPort} = await import('../adapters/gcp/kms.js')
    const port = kmsPort(flags.kmsKey, {
      ...(flags.kmsEndpoint ? {endpoint: flags.kmsEndpoint} : {}),
      insecure: flags.insecure,
      ...(flags.timeoutMs === undefined ? {} : {timeoutMs: flags.timeoutMs}),
    })
    return {...(await kmsSigner(port, flags.kmsKey)), kind: 'kms'}
  }
  if (flags.signatureFile && flags.publicKeyId) {
    const sig = readBinaryFile(flags.signatureFile, 'signature file', {code: 'USAGE'})
    return {keyId: flags.publicKeyId, kind: 'signature-file', sign: async () => new Uint8Array(sig)}
  }
  throw new SafeDeployError('USAGE', 'give one of --private-key, --kms-key, --pgp-key, --signature-file (with --public-key-id)')
}
