/**
 * Gather the registry signature facts a pre-flight needs (docs/sigstore.md#in-the-pre-flight): each
 * (repository, digest) read once through the SignatureSource port, in both formats, then verified
 * with the pure verifier against the prepared requirement. A lookup that failed is data (a
 * `Lookup` with status `error`); whether that makes the image "could not check" is the verifier's
 * call, and `requireSignaturesChecked` turns it into exit 4 before anything is deployed.
 */
import {ERROR_CODES, EXIT, SafeDeployError, type ErrorCode} from '../core/errors.js'
import {signatureKey, type SignatureFacts, type SignatureLookup} from '../core/signatures/requests.js'
import {verifySignatures} from '../core/signatures/verify.js'
import type {PreparedRequirement} from '../core/signatures/requirement.js'
import type {PreflightResult} from '../core/preflight.js'
import type {SignatureSource} from '../core/ports.js'

export interface SignatureFactPorts {
  source: SignatureSource
  requirement: PreparedRequirement
}

export async function gatherSignatureFacts(
  needed: readonly SignatureLookup[],
  ports: SignatureFactPorts,
  opts: {attestations: boolean; onChecked?: () => void},
): Promise<SignatureFacts> {
  const facts = new Map<string, ReturnType<typeof verifySignatures>>()
  if (needed.length === 0) return facts
  const artifacts = await ports.source.read(
    needed.map((n) => ({image: n.image, domain: n.domain, path: n.path, digest: n.digest, attestations: opts.attestations})),
  )
  artifacts.forEach((a, i) => {
    facts.set(signatureKey(needed[i] as SignatureLookup), verifySignatures(ports.requirement, a))
    opts.onChecked?.()
  })
  return facts
}

/**
 * Fail closed: an image whose signatures could not be read (and that nothing else already denies)
 * stops the pre-flight with exit 4, naming each image and the lookup that failed.
 */
export function requireSignaturesChecked(result: PreflightResult): void {
  const unchecked = result.images.filter((i) => i.signatures?.couldNotCheck === true && i.verdict !== 'DENY')
  if (unchecked.length === 0) return
  const lines = unchecked.flatMap((i) => (i.signatures?.failedLookups ?? []).map((f) => `${i.original}: ${f.location}: ${f.message}`))
  const first = unchecked[0]?.signatures?.failedLookups[0]?.code
  // The lookup's own code when it is a "could not check" one (auth, timeout…), so the exit status is 4 either way.
  const code: ErrorCode =
    first !== undefined && first in ERROR_CODES && ERROR_CODES[first as ErrorCode] === EXIT.UNCHECKED ? (first as ErrorCode) : 'REGISTRY_UNAVAILABLE'
  throw new SafeDeployError(
    code,
    `could not check the registry signatures of ${unchecked.length} image(s), so they are not allowed:\n  ${[...new Set(lines)].join('\n  ')}`,
    {hint: 'make the registry readable (credentials: docker login; --registry-mirror, --insecure-registry, --registry-ca-cert) and run again'},
  )
}
