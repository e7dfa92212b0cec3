/**
 * cosign's simple-signing payload (docs/sigstore.md#payload-formats), apart from the bundle builders in build.ts:
 * the registry adapter computes it for every image it reads signatures of, and must not load @sigstore/bundle
 * for that (a plain `pin` loads the registry adapter; docs/architecture.md#start-up).
 */
import {SafeDeployError} from '../errors.js'

export const SIMPLE_SIGNING_TYPE = 'cosign container image signature'

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/

export function assertDigest(digest: string): void {
  if (!DIGEST_RE.test(digest)) throw new SafeDeployError('INTERNAL', `expected a sha256:<64 hex> digest, got ${JSON.stringify(digest)}`)
}

/**
 * cosign's simple-signing payload, byte for byte: Go marshals the struct fields in declaration order
 * (sigstore/sigstore pkg/signature/payload: critical{identity{docker-reference}, image{docker-manifest-digest}, type},
 * optional), and a nil `optional` map is `null`. `dockerReference` is the repository without tag or digest.
 */
export function simpleSigningPayload(dockerReference: string, digest: string): Uint8Array {
  assertDigest(digest)
  const payload = {
    critical: {identity: {'docker-reference': dockerReference}, image: {'docker-manifest-digest': digest}, type: SIMPLE_SIGNING_TYPE},
    optional: null,
  }
  return new TextEncoder().encode(JSON.stringify(payload))
}
