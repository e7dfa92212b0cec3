/**
 * The image reference grammar of github.com/distribution/reference (v0.6) with Docker
 * normalization (ParseNormalizedNamed). See docs/image-references.md#grammar.
 */
import {SafeDeployError} from '../errors.js'

const alnum = '[a-z0-9]+'
const separator = '(?:[._]|__|[-]+)'
const pathComponent = `${alnum}(?:${separator}${alnum})*`
const remoteName = `${pathComponent}(?:/${pathComponent})*`
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const domainName = `${domainComponent}(?:\\.${domainComponent})*`
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]'
const domainAndPort = `(?:${domainName}|${ipv6})(?::[0-9]+)?`
const tagPattern = '[\\w][\\w.-]{0,127}'
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}'

/** Anchored: (domain/)?(path)(:tag)?(@digest)? — groups: 1 domain, 2 path, 3 tag, 4 digest. */
const REFERENCE_RE = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`)
const ANCHORED_DIGEST_RE = new RegExp(`^${digestPattern}$`)
const TAG_RE = new RegExp(`^${tagPattern}$`)
const IDENTIFIER_RE = /^[a-f0-9]{64}$/
const SHA256_DIGEST_RE = /^sha256:[a-f0-9]{64}$/

export const DEFAULT_DOMAIN = 'docker.io'
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io'
const OFFICIAL_REPO_PREFIX = 'library/'
const NAME_TOTAL_LENGTH_MAX = 255

const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = {sha256: 64, sha384: 96, sha512: 128}

/** A parsed, Docker-normalized reference. tag/digest are undefined when absent. */
export interface ImageReference {
  domain: string
  path: string
  tag: string | undefined
  digest: string | undefined
}

/** The reference as the user wrote it, split into its parts (for minimal rewrites). */
export interface WrittenReference extends ImageReference {
  /** The input string. */
  original: string
  /** The name exactly as written (no tag, no digest), e.g. `nginx` or `gcr.io/p/app`. */
  name: string
}

function invalid(input: string, why: string, hint?: string): SafeDeployError {
  return new SafeDeployError('INVALID_REFERENCE', `invalid image reference "${input}": ${why}`, {
    hint: hint ?? 'expected [registry[:port]/]path[:tag][@sha256:<64 lowercase hex>], e.g. gcr.io/my-project/app:1.2',
    location: {image: input},
  })
}

/** go-digest Parse: known algorithm, exact length, lowercase hex. */
export function validateDigest(digest: string, input = digest): void {
  if (!ANCHORED_DIGEST_RE.test(digest)) throw invalid(input, `malformed digest "${digest}"`)
  const i = digest.indexOf(':')
  const algorithm = digest.slice(0, i)
  const hex = digest.slice(i + 1)
  const want = DIGEST_HEX_LENGTH[algorithm]
  if (want === undefined) throw invalid(input, `unsupported digest algorithm "${algorithm}" (expected sha256, sha384 or sha512)`)
  if (hex.length !== want) throw invalid(input, `invalid checksum digest length: expected ${want} hex characters for ${algorithm}, got ${hex.length}`)
  if (!/^[a-f0-9]+$/.test(hex)) throw invalid(input, 'invalid checksum digest format: the hex must be lowercase')
}

export function isSha256Digest(digest: string | undefined): digest is string {
  return digest !== undefined && SHA256_DIGEST_RE.test(digest)
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag)
}

/** splitDockerDomain from distribution/reference normalize.go. */
function splitDockerDomain(name: string): {domain: string; remainder: string} {
  const i = name.indexOf('/')
  let domain: string
  let remainder: string
  const first = i === -1 ? '' : name.slice(0, i)
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN
    remainder = name
  } else {
    domain = first
    remainder = name.slice(i + 1)
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder
  return {domain, remainder}
}

/**
 * Parse and Docker-normalize an image reference (`nginx` → docker.io + library/nginx).
 * Throws SafeDeployError INVALID_REFERENCE with the reason on any input the grammar rejects.
 */
export function parseReference(input: string): ImageReference {
  const w = parseWritten(input)
  return {domain: w.domain, path: w.path, tag: w.tag, digest: w.digest}
}

/** Like parseReference, and also keeps the name as written. */
export function parseWritten(input: string): WrittenReference {
  if (typeof input !== 'string') throw invalid(String(input), 'expected a string')
  if (input.length === 0) throw invalid(input, 'repository name must have at least one component (the reference is empty)')
  if (IDENTIFIER_RE.test(input)) throw invalid(input, 'cannot specify 64-byte hexadecimal strings (that is an image ID, not a name)')
  if (/\s/.test(input)) throw invalid(input, 'contains whitespace')
  const bad = /[^a-zA-Z0-9._\-/:@[\]+]/.exec(input)
  if (bad) throw invalid(input, `character "${bad[0]}" is not allowed in an image reference (is it a template placeholder?)`)
  const {domain, remainder} = splitDockerDomain(input)
  const tagSep = remainder.indexOf(':')
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder
  const remoteName = remote.split('@')[0] ?? remote
  if (remoteName.toLowerCase() !== remoteName) throw invalid(input, `repository name "${remoteName}" must be lowercase`)
  const m = REFERENCE_RE.exec(`${domain}/${remainder}`)
  if (!m) {
    if (REFERENCE_RE.test(`${domain}/${remainder}`.toLowerCase())) throw invalid(input, 'repository name must be lowercase')
    throw invalid(input, describeFormatProblem(input))
  }
  const path = m[2] as string
  const tag = m[3]
  const digest = m[4]
  if (path.length > NAME_TOTAL_LENGTH_MAX)
    throw invalid(input, `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters (got ${path.length})`)
  if (digest !== undefined) validateDigest(digest, input)
  const suffix = (tag === undefined ? 0 : tag.length + 1) + (digest === undefined ? 0 : digest.length + 1)
  return {original: input, name: input.slice(0, input.length - suffix), domain, path, tag, digest}
}

/** A best-effort reason for a grammar failure (the grammar itself only says "invalid reference format"). */
function describeFormatProblem(input: string): string {
  const at = input.indexOf('@')
  if (at > -1) {
    const digest = input.slice(at + 1)
    if (!ANCHORED_DIGEST_RE.test(digest)) return `invalid reference format: malformed digest "${digest}" (expected sha256:<64 lowercase hex>)`
  }
  const beforeDigest = at > -1 ? input.slice(0, at) : input
  const lastSlash = beforeDigest.lastIndexOf('/')
  const colon = beforeDigest.indexOf(':', lastSlash + 1)
  if (colon > -1) {
    const tag = beforeDigest.slice(colon + 1)
    if (tag.length > 128) return `invalid reference format: tag is ${tag.length} characters (at most 128)`
    if (!TAG_RE.test(tag)) return `invalid reference format: invalid tag "${tag}" (letters, digits, _ . -; must not start with . or -)`
  }
  if (/\/\//.test(input) || input.endsWith('/')) return 'invalid reference format: empty path component'
  if (/[^a-zA-Z0-9._\-/:@[\]]/.test(input)) return 'invalid reference format: contains characters not allowed in an image reference'
  return 'invalid reference format'
}

/** Format a normalized reference: domain/path[:tag][@digest]. */
export function formatReference(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}${ref.tag === undefined ? '' : ':' + ref.tag}${ref.digest === undefined ? '' : '@' + ref.digest}`
}

/** The repository (domain/path), used for registry calls and attestation payloads. */
export function repositoryOf(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`
}

/** Familiar form: strip docker.io/ and library/ (docker.io/library/nginx:1 → nginx:1). */
export function familiarName(ref: ImageReference): string {
  let name = `${ref.domain}/${ref.path}`
  if (ref.domain === DEFAULT_DOMAIN) {
    name = ref.path
    if (name.startsWith(OFFICIAL_REPO_PREFIX) && !name.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
      name = name.slice(OFFICIAL_REPO_PREFIX.length)
    }
  }
  return name
}

/**
 * The pinned form of a written reference: `name:tag@digest` (default) or `name@digest` (stripTag).
 * The name stays as the user wrote it so diffs are minimal. A reference without a tag becomes name@digest.
 */
export function pinnedReference(written: WrittenReference, digest: string, options: {stripTag?: boolean} = {}): string {
  const keepTag = written.tag !== undefined && options.stripTag !== true
  return `${written.name}${keepTag ? ':' + written.tag : ''}@${digest}`
}

/** The reference to resolve through a registry: normalized, tag defaulting to latest. */
export function resolvableReference(ref: ImageReference): {repository: string; domain: string; path: string; tag: string} {
  return {repository: repositoryOf(ref), domain: ref.domain, path: ref.path, tag: ref.tag ?? 'latest'}
}
