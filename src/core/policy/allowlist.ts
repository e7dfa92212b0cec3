/**
 * Allowlist (`admissionWhitelistPatterns[].namePattern`) validation and matching, docs/binauthz.md#allowlist-patterns,
 * and the best-effort system image list of docs/binauthz.md#system-images.
 *
 * Matching is textual, on the image string AS WRITTEN (no docker.io / library/ normalisation), case-sensitive:
 *   pattern ends with `**` → image starts with the prefix (crosses `/`)
 *   pattern ends with `*`  → image starts with the prefix and the rest has no `/`     (grafeas/kritis allowlist.go)
 *   otherwise              → exact string equality
 * plus the `name@*` assumption (tag+digest references match, bare tags are 'uncertain').
 */
import type {Policy} from './types.js'

export type MatchResult = 'match' | 'no-match' | 'uncertain'

export interface MatchExplanation {
  result: MatchResult
  /** Why the result is 'uncertain' (or a near miss worth a hint). */
  why?: string
}

/** Why a pattern is invalid, or undefined when it is valid. Phrased to follow "expected a valid allowlist pattern (…)". */
export function validatePattern(p: string): string | undefined {
  if (p.length === 0) return 'the pattern is empty'
  if (/\s/.test(p)) return 'the pattern must not contain whitespace'
  const star = p.indexOf('*')
  if (star === -1) return undefined
  const tail = p.slice(star)
  if (tail !== '*' && tail !== '**') return 'a wildcard is only allowed at the end of the pattern (e.g. gcr.io/my-project/nginx* or gcr.io/my-project/**)'
  const prefix = p.slice(0, star)
  if (!prefix.includes('/')) {
    // No "registry/" part before the wildcard: valid only for a local reference (`local-image:*`, `nginx*`),
    // not when the text is a registry host (`gcr.i*`, `gcr.io*`, `localhost*`).
    const name = prefix.split(/[:@]/)[0] ?? prefix
    if (name.length === 0) return 'the pattern must name at least a registry or an image before the wildcard'
    if (name.includes('.') || name === 'localhost' || /^\[/.test(name)) {
      return 'a wildcard is only allowed after the registry/ part (e.g. gcr.io/* rather than gcr.i*)'
    }
  }
  return undefined
}

function isDigestLike(s: string): boolean {
  return /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]+$/.test(s)
}

/** matchPattern with the reason for an 'uncertain' result. */
export function explainMatch(image: string, pattern: string): MatchExplanation {
  if (pattern.endsWith('**')) {
    return {result: image.startsWith(pattern.slice(0, -2)) ? 'match' : 'no-match'}
  }
  if (pattern.endsWith('@*') && !pattern.slice(0, -2).includes('*')) {
    const name = pattern.slice(0, -2)
    if (image.startsWith(name + '@')) return {result: image.slice(name.length + 1).includes('/') ? 'no-match' : 'match'}
    if (image.startsWith(name + ':')) {
      const rest = image.slice(name.length + 1)
      if (rest.includes('/')) return {result: 'no-match'}
      // Assumption (docs/binauthz.md#allowlist-patterns): `name@*` ("all versions and tags") covers `name:tag@digest`; a bare `name:tag` is unknown.
      if (rest.includes('@')) return {result: 'match'}
      return {
        result: 'uncertain',
        why: `"${pattern}" matches digest references of ${name}; whether it also covers the tag-only reference "${image}" is undocumented`,
      }
    }
    return {result: 'no-match'}
  }
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1)
    if (image.startsWith(prefix) && !image.slice(prefix.length).includes('/')) return {result: 'match'}
    const viaTag = tagDigestVariant(image, pattern)
    if (viaTag) return viaTag
    return {result: 'no-match'}
  }
  if (image === pattern) return {result: 'match'}
  const viaTag = tagDigestVariant(image, pattern)
  if (viaTag) return viaTag
  return {result: 'no-match'}
}

/**
 * `name:tag@digest` against a digest pattern written as `name@…`: the enforcer uses the digest, but whether the
 * allowlist ignores the tag is undocumented → 'uncertain'.
 */
function tagDigestVariant(image: string, pattern: string): MatchExplanation | undefined {
  const at = image.lastIndexOf('@')
  if (at === -1 || !pattern.includes('@')) return undefined
  const beforeDigest = image.slice(0, at)
  const colon = beforeDigest.lastIndexOf(':')
  if (colon === -1 || colon < beforeDigest.lastIndexOf('/')) return undefined
  if (!isDigestLike(image.slice(at + 1))) return undefined
  const withoutTag = beforeDigest.slice(0, colon) + image.slice(at)
  const r = explainMatch(withoutTag, pattern)
  if (r.result !== 'match') return undefined
  return {
    result: 'uncertain',
    why: `"${pattern}" matches "${withoutTag}"; whether the allowlist ignores the tag in "${image}" is undocumented`,
  }
}

/** Whether `image` (as written) matches `pattern`, per docs/binauthz.md#allowlist-patterns. */
export function matchPattern(image: string, pattern: string): MatchResult {
  return explainMatch(image, pattern).result
}

function stripDockerDefaults(s: string): string {
  return s.replace(/^(?:index\.)?docker\.io\//, '').replace(/^library\//, '')
}

/**
 * A warning when image and pattern do not match as written but would if `docker.io/`, `index.docker.io/` or
 * `library/` were added or removed (Binary Authorization matches the string as written: assumption, docs/binauthz.md#allowlist-patterns).
 */
export function normalizationHint(image: string, pattern: string): string | undefined {
  if (matchPattern(image, pattern) === 'match') return undefined
  const a = stripDockerDefaults(image)
  const b = stripDockerDefaults(pattern)
  if (a === image && b === pattern) return undefined
  if (matchPattern(a, b) !== 'match') return undefined
  return (
    `allowlist pattern "${pattern}" does not match image "${image}" as written; they differ only by docker.io/, ` +
    `index.docker.io/ or library/, which Binary Authorization does not add (assumption: matching is on the image ` +
    `string as written). Write the pattern the way the image is written, or write the image in full.`
  )
}

/** A hint when a wildcard-free pattern names the image's repository but the image carries a tag or digest. */
export function exactPatternHint(image: string, pattern: string): string | undefined {
  if (pattern.includes('*') || pattern.includes('@') || pattern === image) return undefined
  if (!image.startsWith(pattern)) return undefined
  const next = image.charAt(pattern.length)
  if (next !== ':' && next !== '@') return undefined
  const lastSlash = pattern.lastIndexOf('/')
  if (pattern.lastIndexOf(':') > lastSlash) return undefined // the pattern already has a tag
  return (
    `allowlist pattern "${pattern}" has no wildcard, so it is compared by exact string equality and does not match ` +
    `"${image}" (assumption: conservative; Google's docs call it "a specific image"). ` +
    `To cover tags and digests use "${pattern}:*" and "${pattern}@*", or "${pattern}*".`
  )
}

/** Whether the pattern pins a tag (e.g. `gcr.io/p/app:v1`, `gcr.io/p/app:v1.*`) and so never matches on Cloud Run. */
export function patternHasTag(pattern: string): boolean {
  const beforeDigest = pattern.split('@')[0] ?? pattern
  const lastSlash = beforeDigest.lastIndexOf('/')
  const colon = beforeDigest.indexOf(':', lastSlash + 1)
  return colon > -1
}

export interface SystemAllowlist {
  patterns: string[]
  /** True for the built-in list: Google's real list is not published and differs by region and GKE release. */
  approximate: boolean
  source?: string
}

/**
 * Best-effort subset of Google's system policy (docs/binauthz.md#system-images): the paths the docs say must be allowlisted when
 * `globalPolicyEvaluationMode` is disabled. APPROXIMATE: export the real list with
 * `gcloud alpha container binauthz policy export-system-policy --location=REGION` and pass it instead.
 * Where the docs disagree (gke.gcr.io/* vs /**) the narrower form is used (never a false ALLOW).
 */
export const SYSTEM_ALLOWLIST: readonly string[] = Object.freeze([
  'gcr.io/google_containers/*',
  'gcr.io/google-containers/*',
  'k8s.gcr.io/**',
  'gke.gcr.io/*',
  'gcr.io/gke-release/asm/*',
  'gcr.io/stackdriver-agents/*',
])

export const BUILTIN_SYSTEM_ALLOWLIST: SystemAllowlist = Object.freeze({
  patterns: [...SYSTEM_ALLOWLIST],
  approximate: true,
  source: 'built-in approximate system image list (docs/binauthz.md#system-images)',
})

/** A user-supplied system policy (`export-system-policy` output): its allowlist patterns are the exemptions. */
export function systemAllowlistFromPolicy(policy: Pick<Policy, 'admissionWhitelistPatterns' | 'source'>): SystemAllowlist {
  return {patterns: policy.admissionWhitelistPatterns.map((p) => p.namePattern), approximate: false, source: policy.source}
}

/** Matching patterns of a list: the first exact match, and every uncertain one with its reason. */
export function matchAny(image: string, patterns: readonly string[]): {match?: string; uncertain: Array<{pattern: string; why: string}>} {
  const uncertain: Array<{pattern: string; why: string}> = []
  for (const pattern of patterns) {
    const r = explainMatch(image, pattern)
    if (r.result === 'match') return {match: pattern, uncertain}
    if (r.result === 'uncertain') uncertain.push({pattern, why: r.why ?? 'undocumented'})
  }
  return {uncertain}
}
