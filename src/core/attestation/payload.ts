/**
 * The Binary Authorization signing payload (SimpleSigning JSON): build it byte-exactly like
 * `gcloud container binauthz create-signature-payload`, and parse a signed payload
 * (docs/binauthz.md#attestation-payload, docs/image-references.md#gcloud-artifact-urls).
 */
import {SafeDeployError} from '../errors.js'

export const GCLOUD_PAYLOAD_TYPE = 'Google cloud binauthz container signature'
/** `type` values seen in Google and kritis material; anything else parses, with a warning. */
export const KNOWN_PAYLOAD_TYPES: readonly string[] = [GCLOUD_PAYLOAD_TYPE, 'atomic container signature', 'Google Cloud BinAuthz container signature']

/** An artifact URL split the way gcloud's vendored docker_name.Digest does. */
export interface ArtifactUrl {
  /** Registry host as written (case kept), e.g. us-docker.pkg.dev */
  registry: string
  /** Repository path, e.g. p/r/img */
  repository: string
  /** The tag gcloud drops from the payload (kept here for information). */
  tag: string | undefined
  /** sha256:<64 lowercase hex> */
  digest: string
}

const REPOSITORY_CHARS = /^[a-z0-9_\-./]*$/
const TAG_CHARS = /^[A-Za-z0-9_\-.]*$/
const DIGEST_CHARS = /^[sha:0-9a-f]*$/

function bad(input: string, why: string): SafeDeployError {
  return new SafeDeployError('INVALID_REFERENCE', `invalid image reference "${input}": ${why}`, {
    hint: 'expected REGISTRY/REPOSITORY[:TAG]@sha256:<64 lowercase hex>, e.g. us-docker.pkg.dev/my-project/repo/app@sha256:…',
    location: {image: input},
  })
}

/**
 * gcloud ReplaceImageUrlScheme: strip a URL scheme (`https://`, `docker://`, `//`). Like Python's urlparse,
 * `host:port/…` reads as scheme `host`, which has no host component and is rejected.
 */
function stripScheme(input: string): string {
  const colon = input.indexOf(':')
  if (colon > 0 && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(input.slice(0, colon))) {
    const rest = input.slice(colon + 1)
    const host = rest.startsWith('//') ? (/^\/\/([^/?#]*)/.exec(rest)?.[1] ?? '') : ''
    if (host === '') throw bad(input, `Image URL '${input}' is invalid because it does not have a host component.`)
    return rest.slice(2)
  }
  return input.startsWith('//') ? input.slice(2) : input
}

function checkRepository(repository: string): string | undefined {
  if (repository.length < 2) return `Invalid repository: ${repository}, must be at least 2 characters`
  if (repository.length > 255) return `Invalid repository: ${repository}, must be at most 255 characters`
  if (!REPOSITORY_CHARS.test(repository)) return `Invalid repository: ${repository}, acceptable characters include: abcdefghijklmnopqrstuvwxyz0123456789_-./`
  return undefined
}

/** Split `registry/repository` (strict: the registry must be explicit, i.e. contain `.` or `:`). */
function splitRepository(name: string): {registry: string; repository: string} | {error: string} {
  const slash = name.indexOf('/')
  const first = slash === -1 ? '' : name.slice(0, slash)
  if (slash === -1 || !/[.:]/.test(first)) return {error: 'A Docker registry domain must be specified.'}
  if (/[/?#\s]/.test(first)) return {error: `Invalid registry: ${first}`}
  const repository = name.slice(slash + 1)
  const err = checkRepository(repository)
  return err === undefined ? {registry: first, repository} : {error: err}
}

/**
 * Parse an artifact URL like gcloud does for `create-signature-payload` and `attestations create`:
 * scheme stripped, exactly one `@`, a sha256 digest of 64 lowercase hex, an explicit registry, tag dropped.
 * Throws SafeDeployError INVALID_REFERENCE with gcloud's wording.
 */
export function parseArtifactUrl(imageWithDigest: string): ArtifactUrl {
  if (typeof imageWithDigest !== 'string' || imageWithDigest === '') throw bad(String(imageWithDigest), 'the artifact URL is empty')
  const url = stripScheme(imageWithDigest)
  const parts = url.split('@')
  if (parts.length !== 2) {
    throw bad(imageWithDigest, `Docker image name must be fully qualified (e.g.registry/repository@digest) saw: ${url}`)
  }
  const [left, digest] = parts as [string, string]
  if (digest.length < 71) throw bad(imageWithDigest, `Invalid digest: ${digest}, must be at least 71 characters`)
  if (digest.length > 71) throw bad(imageWithDigest, `Invalid digest: ${digest}, must be at most 71 characters`)
  if (!DIGEST_CHARS.test(digest)) throw bad(imageWithDigest, `Invalid digest: ${digest}, acceptable characters include: sh:0123456789abcdef`)
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw bad(imageWithDigest, `Invalid digest: ${digest}, expected sha256:<64 lowercase hex>`)
  // docker_name.Digest: the left side is a Tag if it parses as one (the tag is dropped), else a Repository.
  const colon = left.lastIndexOf(':')
  if (colon > -1) {
    const tag = left.slice(colon + 1)
    if (tag.length >= 1 && tag.length <= 127 && TAG_CHARS.test(tag)) {
      const split = splitRepository(left.slice(0, colon))
      if (!('error' in split)) return {...split, tag, digest}
      if (split.error.startsWith('A Docker registry')) throw bad(imageWithDigest, split.error)
    }
  }
  const split = splitRepository(left)
  if ('error' in split) throw bad(imageWithDigest, split.error)
  return {...split, tag: undefined, digest}
}

/** Python json.dumps(ensure_ascii=True) escaping on top of JSON.stringify (lower-case \uXXXX, DEL escaped). */
function asciiJson(text: string): string {
  return text.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}

/**
 * The exact bytes of `gcloud container binauthz create-signature-payload --artifact-url=IMAGE`:
 * sorted keys, 2-space indent, `": "`, ASCII-only, trailing LF.
 */
export function buildSignaturePayload(imageWithDigest: string): Uint8Array {
  const a = parseArtifactUrl(imageWithDigest)
  // Keys inserted in sorted order at every level (critical; identity, image, type).
  const doc = {
    critical: {
      identity: {'docker-reference': `${a.registry}/${a.repository}`},
      image: {'docker-manifest-digest': a.digest},
      type: GCLOUD_PAYLOAD_TYPE,
    },
  }
  return new TextEncoder().encode(asciiJson(JSON.stringify(doc, null, 2)) + '\n')
}

export type ParsedPayload =
  | {ok: true; digest: string; dockerReference: string | undefined; type: string | undefined; warnings: string[]}
  | {ok: false; reason: string}

const UNEXPECTED = 'Signature verified, but unexpected message was signed'

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Parse a signed payload. Only `critical.image.docker-manifest-digest` is required (the enforcer uses only
 * the digest); an unknown `type`, `optional` and extra fields are accepted (assumptions, docs/binauthz.md#attestation-payload).
 */
export function parsePayload(bytes: Uint8Array): ParsedPayload {
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    return {ok: false, reason: `${UNEXPECTED}: the payload is not UTF-8 text`}
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    const preview = text.length > 40 ? JSON.stringify(text.slice(0, 40)) + '…' : JSON.stringify(text)
    return {ok: false, reason: `${UNEXPECTED}: the payload is not JSON (${err instanceof Error ? err.message : String(err)}; payload ${preview})`}
  }
  if (!isObject(doc)) return {ok: false, reason: `${UNEXPECTED}: the payload is JSON but not an object`}
  const critical = doc['critical']
  if (!isObject(critical)) return {ok: false, reason: `${UNEXPECTED}: the payload has no "critical" object`}
  const image = critical['image']
  const digest = isObject(image) ? image['docker-manifest-digest'] : undefined
  if (typeof digest !== 'string') {
    return {ok: false, reason: `${UNEXPECTED}: the payload has no critical.image.docker-manifest-digest string`}
  }
  const warnings: string[] = []
  const identity = critical['identity']
  const ref = isObject(identity) ? identity['docker-reference'] : undefined
  const dockerReference = typeof ref === 'string' ? ref : undefined
  if (dockerReference === undefined) warnings.push('the payload has no critical.identity.docker-reference string (not checked by Binary Authorization)')
  const t = critical['type']
  const type = typeof t === 'string' ? t : undefined
  if (type === undefined) warnings.push('the payload has no critical.type string')
  else if (!KNOWN_PAYLOAD_TYPES.includes(type)) {
    warnings.push(`payload type "${type}" is not one of the known values (${KNOWN_PAYLOAD_TYPES.map((x) => `"${x}"`).join(', ')}); accepted`)
  }
  return {ok: true, digest, dockerReference, type, warnings}
}
