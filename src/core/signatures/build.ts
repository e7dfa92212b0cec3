/**
 * What cosign signs, built by safe-deploy (docs/sigstore.md#payload-formats): the legacy simple-signing payload, the
 * in-toto Statement v1, and Sigstore bundles (v0.3) made with a key, offline (no Fulcio, no Rekor, no TSA).
 * `attest --sigstore` calls these; the tests build their fixtures with them too, so what we write and what we verify
 * cannot drift apart.
 *
 * The bundles are packaged with @sigstore/bundle's `toDSSEBundle` / `toMessageSignatureBundle`, the functions
 * @sigstore/sign's DSSEBundleBuilder and MessageSignatureBundleBuilder call with `witnesses: []`. Importing
 * @sigstore/sign itself would pull its Fulcio/Rekor HTTP stack (make-fetch-happen) into the pure core, and that
 * stack cannot be loaded by Jest's module loader; the signing steps it would add are the two lines below (PAE, then
 * sign), so nothing is lost.
 */
import {createHash, createPublicKey} from 'node:crypto'
import {bundleToJSON, toDSSEBundle, toMessageSignatureBundle, type SerializedBundle} from '@sigstore/bundle'
import {IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, preAuthEncoding} from './dsse.js'
import {SafeDeployError} from '../errors.js'
import type {Signer} from '../attestation/sign.js'
import {keyHints} from './requirement.js'
import {assertDigest} from './simple-signing.js'

export {SIMPLE_SIGNING_TYPE, simpleSigningPayload} from './simple-signing.js'
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1'
export {IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1}

/** A Signer whose public key is known: a bundle carries the key's hint, and the verifier needs the key. */
export type KeyedSigner = Signer & {publicKeyPem: string}

export interface InTotoStatement {
  _type: string
  subject: Array<{name: string; digest: Record<string, string>}>
  predicateType: string
  predicate: unknown
}

/** An in-toto Statement v1 about one image: subject matched by digest; the name is the repository (informational). */
export function inTotoStatement(args: {repository: string; digest: string; predicateType: string; predicate?: unknown}): InTotoStatement {
  assertDigest(args.digest)
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{name: args.repository, digest: {sha256: args.digest.slice('sha256:'.length)}}],
    predicateType: args.predicateType,
    predicate: args.predicate ?? {},
  }
}

/** The bundle key hint of the signer's public key (our keyHints: base64 of the SHA-256 of its SubjectPublicKeyInfo). */
function signerHint(signer: KeyedSigner): string {
  try {
    return keyHints(createPublicKey(signer.publicKeyPem))[0] as string
  } catch (err) {
    throw new SafeDeployError('KEY_INVALID', `the signer's public key is not a PEM public key: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    })
  }
}

/** A v0.3 bundle holding a DSSE envelope over the statement (what cosign v3 `sign` and `attest` push as referrers). */
export async function buildDsseBundle(signer: KeyedSigner, statement: InTotoStatement): Promise<SerializedBundle> {
  const keyHint = signerHint(signer)
  const artifact = Buffer.from(JSON.stringify(statement))
  // DSSE signs the pre-authentication encoding, never the bare payload (so a payload cannot be replayed as another type).
  const signature = Buffer.from(await signer.sign(new Uint8Array(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, artifact))))
  return bundleToJSON(toDSSEBundle({artifact, artifactType: IN_TOTO_PAYLOAD_TYPE, signature, keyHint}))
}

/**
 * A v0.3 bundle holding a message signature over `payload` (e.g. a simple-signing payload). The payload itself is not
 * in the bundle: a verifier must rebuild or find it, which is why DSSE bundles are preferred.
 */
export async function buildMessageBundle(signer: KeyedSigner, payload: Uint8Array): Promise<SerializedBundle> {
  const keyHint = signerHint(signer)
  const signature = Buffer.from(await signer.sign(payload))
  const digest = createHash('sha256').update(payload).digest()
  return bundleToJSON(toMessageSignatureBundle({digest, signature, keyHint}))
}
