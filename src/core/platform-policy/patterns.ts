/**
 * The three pattern languages of platform policies (docs/platform-policy.md#patterns), docs/platform-policy.md#patterns. They differ from
 * the classic `admissionWhitelistPatterns` (src/core/policy/allowlist.ts): a bare name matches any tag or digest,
 * and tag prefixes exist. All matching is on the reference as written, case-sensitive, without Docker Hub
 * normalisation: where Google's docs are silent this is the reading that exempts or trusts fewer images.
 */

export interface SplitReference {
  name: string
  tag: string | null
  digest: string | null
}

/** name / tag / digest of an image or a pattern; the tag is only looked for in the last path component (host:port safe). */
export function splitReference(ref: string): SplitReference {
  const at = ref.indexOf('@')
  const digest = at >= 0 ? ref.slice(at + 1) : null
  const rest = at >= 0 ? ref.slice(0, at) : ref
  const slash = rest.lastIndexOf('/')
  const colon = rest.indexOf(':', slash + 1)
  return colon >= 0 ? {name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest} : {name: rest, tag: null, digest}
}

const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/

// ---------------------------------------------------------------------------------------------------------------
// allowPattern (docs/platform-policy.md#patterns)

/** Why an allow pattern is invalid (phrased to follow "expected a valid allow pattern (…)"), or undefined. */
export function validateAllowPattern(p: string): string | undefined {
  if (p.length === 0) return 'the pattern is empty'
  if (/\s/.test(p)) return 'the pattern must not contain whitespace'
  if (p === '*' || p === '**') return '`*` or `**` alone is not a valid pattern: name prefixes must not be empty'
  const {name, tag, digest} = splitReference(p)
  if (digest !== null) {
    if (p.includes('*')) return '`*` and `**` cannot be used with digests'
    if (!DIGEST_RE.test(digest)) return `malformed digest "${digest}" (expected sha256:<hex>)`
  }
  if (tag !== null) {
    if (name.includes('*')) return 'a wildcard in the name cannot be combined with a tag'
    if (tag === '' || tag === '*') return 'tag prefixes must not be empty (e.g. my-image:* is invalid; write my-image to match any tag)'
    const star = tag.indexOf('*')
    if (star >= 0 && (star !== tag.length - 1 || digest !== null)) return 'only a trailing `*` is allowed in a tag prefix, and not with a digest'
  }
  const star = name.indexOf('*')
  if (star >= 0) {
    const wild = name.slice(star)
    if (wild !== '*' && wild !== '**') return 'a wildcard is only allowed at the end of the name (`*` or `**`)'
    const prefix = name.slice(0, star)
    if (prefix.length === 0) return 'name prefixes must not be empty'
    if (wild === '**' && !prefix.endsWith('/')) return '`**` can only be used after a `/`'
    // [INFERRED] (docs/platform-policy.md#patterns): as for trusted directories, a wildcard inside the registry is not accepted.
    if (!prefix.includes('/')) return 'a wildcard is only allowed after the registry/ part (e.g. gcr.io/my-project/* rather than gcr.i*)'
  }
  if (name.length === 0) return 'the image name is empty'
  return undefined
}

/** Whether `image` (as written) matches an allow pattern (docs/platform-policy.md#patterns, the five documented forms). */
export function allowPatternMatches(pattern: string, image: string): boolean {
  const P = splitReference(pattern)
  const I = splitReference(image)
  if (P.digest !== null) return I.name === P.name && I.digest === P.digest && (P.tag === null || I.tag === P.tag)
  if (P.tag !== null) {
    // "matches the name and tag, with any digest (or no digest)"; a digest-only reference has no tag ([INFERRED] no match).
    if (I.tag === null || I.name !== P.name) return false
    return P.tag.endsWith('*') ? I.tag.startsWith(P.tag.slice(0, -1)) : I.tag === P.tag
  }
  if (P.name.endsWith('**')) return I.name.startsWith(P.name.slice(0, -2))
  if (P.name.endsWith('*')) {
    const pre = P.name.slice(0, -1)
    return I.name.startsWith(pre) && !I.name.slice(pre.length).includes('/')
  }
  return I.name === P.name
}

/** The first pattern of a list that matches, or undefined. */
export function firstAllowMatch(patterns: ReadonlyArray<{pattern: string}>, image: string): string | undefined {
  return patterns.find((p) => allowPatternMatches(p.pattern, image))?.pattern
}

// ---------------------------------------------------------------------------------------------------------------
// trustedDirPatterns

const REGISTRY_WORDS_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+(?::[0-9]+)?$/

/** Why a trusted directory pattern is invalid, or undefined (docs/platform-policy.md#patterns: the field doc's valid and invalid examples). */
export function validateTrustedDirPattern(p: string): string | undefined {
  if (p.length === 0) return 'the pattern is empty'
  if (/\s/.test(p)) return 'the pattern must not contain whitespace'
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(p)) return 'the pattern must not include a scheme'
  if (p.includes('@')) return 'a directory pattern names a directory, not an image digest'
  const slash = p.indexOf('/')
  const reg = slash >= 0 ? p.slice(0, slash) : p
  const path = slash >= 0 ? p.slice(slash + 1) : ''
  let words = reg
  if (reg.startsWith('*')) {
    const rest = reg.slice(1)
    if (rest.startsWith('*')) return 'only one leading `*` is allowed in the registry, and it cannot match `/`'
    if (!rest.startsWith('-') && !rest.startsWith('.')) return 'a leading `*` can only match a subdomain prefix (e.g. *-docker.pkg.dev or *.gcr.io)'
    words = rest.slice(1)
  }
  if (words.endsWith('*')) return 'the registry must be completely specified (a trailing `*` is only allowed after registry/)'
  if (words.includes('*')) return 'in the registry only one leading `*` is allowed (e.g. *-docker.pkg.dev)'
  if (!REGISTRY_WORDS_RE.test(words)) return 'the registry must be completely specified as two or more dot-separated words (e.g. gcr.io, us.pkg.dev)'
  if (slash >= 0) {
    if (path.length === 0) return 'the path after registry/ is empty'
    const star = path.indexOf('*')
    if (star >= 0) {
      const wild = path.slice(star)
      if (wild !== '*' && wild !== '**') return 'only a trailing `*` or `**` is allowed after registry/'
    }
    if (path.split('/').includes('')) return 'the path has an empty component'
    if (path.includes(':')) return 'a directory pattern names a directory, not a tag'
  }
  return undefined
}

/** The directory an image lives in: its name without the last component (docs/platform-policy.md#patterns, INFERRED). '' when the name has no '/'. */
export function directoryOf(image: string): string {
  const {name} = splitReference(image)
  const slash = name.lastIndexOf('/')
  return slash < 0 ? '' : name.slice(0, slash)
}

function pathMatches(pattern: string, value: string): boolean {
  if (pattern.endsWith('**')) return value.startsWith(pattern.slice(0, -2))
  if (pattern.endsWith('*')) {
    const pre = pattern.slice(0, -1)
    return value.startsWith(pre) && !value.slice(pre.length).includes('/')
  }
  return value === pattern
}

/**
 * Whether a directory matches a trusted directory pattern (docs/platform-policy.md#patterns). Conservative on the [OPEN] points: a plain
 * pattern does not cover subdirectories; `dir/*` and `dir/**` do not cover `dir` itself; the leading `*` of a registry
 * matches one DNS label (no `.`); comparison is case-sensitive.
 */
export function trustedDirMatches(pattern: string, dir: string): boolean {
  const ps = pattern.indexOf('/')
  const ds = dir.indexOf('/')
  const pReg = ps >= 0 ? pattern.slice(0, ps) : pattern
  const pPath = ps >= 0 ? pattern.slice(ps + 1) : ''
  const dReg = ds >= 0 ? dir.slice(0, ds) : dir
  const dPath = ds >= 0 ? dir.slice(ds + 1) : ''
  if (dReg === '') return false
  if (pReg.startsWith('*')) {
    const sfx = pReg.slice(1)
    if (!dReg.endsWith(sfx) || dReg.length <= sfx.length) return false
    const head = dReg.slice(0, dReg.length - sfx.length)
    if (head.includes('/') || head.includes('.')) return false
  } else if (dReg !== pReg) return false
  if (ps < 0) return ds < 0
  if (ds < 0) return false
  return pathMatches(pPath, dPath)
}

// ---------------------------------------------------------------------------------------------------------------
// trustedSourceRepoPatterns

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//

export function validateSourceRepoPattern(p: string): string | undefined {
  if (p.length === 0) return 'the pattern is empty'
  if (/\s/.test(p)) return 'the pattern must not contain whitespace'
  if (SCHEME_RE.test(p)) return 'the patterns must not include schemes (write github.com/org/repo, not https://github.com/org/repo)'
  const slash = p.indexOf('/')
  if (slash <= 0) return 'expected hosturi/path (e.g. github.com/my-org/my-repo)'
  const star = p.indexOf('*')
  if (star >= 0) {
    const wild = p.slice(star)
    if ((wild !== '*' && wild !== '**') || p[star - 1] !== '/') return '`*` and `**` can only occur at the end of the pattern after a `/`'
  }
  return undefined
}

/** Whether a source repository URL matches (docs/platform-policy.md#patterns): the scheme is stripped; no `.git` or `/` stripping ([OPEN], exact). */
export function sourceRepoMatches(pattern: string, url: string): boolean {
  return pathMatches(pattern, url.replace(SCHEME_RE, ''))
}
