/**
 * Which registry signature lookups a pre-flight needs, and how their verdict joins the Binary
 * Authorization verdict of an image (docs/sigstore.md#in-the-pre-flight). Pure: the lookups are made
 * by the application layer through the SignatureSource port, verified with verifySignatures, and
 * handed back here as data.
 */
import {SafeDeployError} from '../errors.js'
import {parseWritten} from '../reference/index.js'
import type {SignatureVerdict} from './types.js'

/** One (repository, digest) whose signatures are read: each once, however many images use it. */
export interface SignatureLookup {
  /** The image as written, for messages. */
  image: string
  domain: string
  path: string
  digest: string
}

/** Where signatures are read instead of the image's repository (`--sigstore-repository`, COSIGN_REPOSITORY). */
export interface RepositoryOverride {
  domain: string
  path: string
}

/** Verified signature outcomes keyed by signatureKey(domain, path, digest). */
export type SignatureFacts = ReadonlyMap<string, SignatureVerdict>

export function signatureKey(r: {domain: string; path: string; digest: string}): string {
  return `${r.domain}/${r.path}@${r.digest}`
}

/**
 * The lookup for one evaluated image, or undefined when it names no digest: a signature is verified
 * against the exact digest deployed, so an unpinned image cannot satisfy the requirement.
 */
export function signatureRequest(image: {image: string; digest?: string | undefined}, override?: RepositoryOverride): SignatureLookup | undefined {
  if (image.digest === undefined || !image.digest.startsWith('sha256:')) return undefined
  let domain: string
  let path: string
  try {
    ;({domain, path} = parseWritten(image.image))
  } catch {
    return undefined
  }
  return {image: image.image, ...(override ?? {domain, path}), digest: image.digest}
}

/** Every lookup the images need, each once. */
export function signatureRequestsNeeded(images: ReadonlyArray<{image: string; digest?: string | undefined}>, override?: RepositoryOverride): SignatureLookup[] {
  const out = new Map<string, SignatureLookup>()
  for (const i of images) {
    const r = signatureRequest(i, override)
    if (r !== undefined && !out.has(signatureKey(r))) out.set(signatureKey(r), r)
  }
  return [...out.values()]
}

/** An image that names no digest under a signature requirement: it is denied, and told to pin. */
export function unpinnedVerdict(image: string): SignatureVerdict {
  return {
    satisfied: false,
    couldNotCheck: false,
    signatures: [],
    attestations: [],
    reason: `${image} names no digest: a registry signature is verified against the exact digest deployed (pin it: safe-deploy pin)`,
    notes: [],
    failedLookups: [],
  }
}

/** `--sigstore-repository HOST/PATH` (cosign's COSIGN_REPOSITORY): a repository, no tag or digest. */
export function parseRepositoryOverride(text: string): RepositoryOverride {
  let ref
  try {
    ref = parseWritten(text)
  } catch (err) {
    throw new SafeDeployError('USAGE', `--sigstore-repository ${text}: ${(err as Error).message}`, {
      hint: 'give a repository, e.g. us-docker.pkg.dev/my-project/signatures/app',
    })
  }
  if (ref.tag !== undefined || ref.digest !== undefined)
    throw new SafeDeployError('USAGE', `--sigstore-repository ${text}: a repository has no tag or digest`, {
      hint: 'give a repository, e.g. us-docker.pkg.dev/my-project/signatures/app',
    })
  return {domain: ref.domain, path: ref.path}
}
