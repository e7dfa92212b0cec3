/**
 * The pin stage: image sites → resolve requests → pinned values (tag → tag@digest), with drift
 * detection for references that already carry tag@digest. Pure: the registry (or a replayed lock
 * file, core/lock.ts) is a port.
 */
import {SafeDeployError} from './errors.js'
import {parseWritten, pinnedReference, type WrittenReference} from './reference/index.js'
import type {LockEntry} from './lock.js'
import {classifyImageValue, unpinnableError} from './manifest/locate.js'
import type {ImageSite} from './manifest/types.js'
import type {Clock, DigestResolver, ResolveRequest, ResolvedImage} from './ports.js'

export type PinStatus = 'pinned' | 'already-pinned' | 'drift'

export interface PinnedSite {
  site: ImageSite
  /** As written. */
  original: string
  /** The value written back (equal to original when already pinned). */
  pinned: string
  /** The digest the pinned value carries. */
  digest: string
  status: PinStatus
  /** For drift: where the tag points now. */
  currentDigest?: string
  registry: string
  platform?: string
}

export interface PinResult {
  sites: PinnedSite[]
  errors: SafeDeployError[]
  warnings: string[]
  lock: LockEntry[]
}

export interface PinOptions {
  stripTag?: boolean
  /** Resolve the tag of tag@digest references and report drift (default true; off when replaying a lock). */
  checkDrift?: boolean
}

export interface PinDeps {
  /** The registry, or a lock file replayed through the same port (LockResolver): nothing here branches on which. */
  resolver: DigestResolver
  clock: Clock
}

interface Pending {
  site: ImageSite
  written: WrittenReference
}

function siteLocation(site: ImageSite) {
  return {file: site.file, document: site.document, path: site.pathString, line: site.line, image: site.image}
}

/** Pin every site. Never throws for per-image problems: they are collected in `errors` (all at once). */
export async function pinSites(sites: readonly ImageSite[], deps: PinDeps, options: PinOptions = {}): Promise<PinResult> {
  const errors: SafeDeployError[] = []
  const warnings: string[] = []
  const pending: Pending[] = []
  for (const site of sites) {
    const cls = classifyImageValue(site.image)
    if (cls.kind !== 'reference') {
      errors.push(unpinnableError(site, cls.why))
      continue
    }
    try {
      pending.push({site, written: parseWritten(site.image)})
    } catch (err) {
      if (err instanceof SafeDeployError) {
        errors.push(err.at(siteLocation(site)))
      } else throw err
    }
  }

  const checkDrift = options.checkDrift ?? true
  // What needs a registry (or lock) lookup: tags without digest, and tag@digest for drift.
  const lookups = new Map<string, ResolveRequest>()
  for (const p of pending) {
    const req = lookupFor(p.site.image, p.written, checkDrift)
    if (req && !lookups.has(req.image)) lookups.set(req.image, req)
  }

  const resolved = new Map<string, ResolvedImage>()
  const failed = new Map<string, SafeDeployError>()
  if (lookups.size > 0) {
    const reqs = [...lookups.values()]
    const outcomes = await deps.resolver.resolveAll(reqs)
    outcomes.forEach((o, i) => {
      const req = reqs[i] as ResolveRequest
      if (o.ok) resolved.set(req.image, o.value)
      else failed.set(req.image, o.error)
    })
  }

  const out: PinnedSite[] = []
  const lock = new Map<string, LockEntry>()
  const now = deps.clock.now().toISOString()
  for (const {site, written} of pending) {
    const r = resolved.get(site.image)
    const registry = r?.registry ?? written.domain
    if (written.digest !== undefined) {
      const base: PinnedSite = {site, original: site.image, pinned: site.image, digest: written.digest, status: 'already-pinned', registry}
      const f = failed.get(site.image)
      if (r && r.digest !== written.digest && written.tag !== undefined) {
        base.status = 'drift'
        base.currentDigest = r.digest
        warnings.push(
          `${loc(site)}: drift: ${written.name}:${written.tag} now points to ${r.digest}, but the manifest pins ${written.digest} (left as written)`,
        )
      } else if (f && written.tag !== undefined) {
        warnings.push(`${loc(site)}: could not check ${site.image} for drift: ${f.message}`)
      }
      out.push(base)
      continue
    }
    if (!r) {
      const f = failed.get(site.image)
      if (f) errors.push(f.at(siteLocation(site)))
      continue
    }
    const pinned = pinnedReference(written, r.digest, {stripTag: options.stripTag === true})
    out.push({site, original: site.image, pinned, digest: r.digest, status: 'pinned', registry, ...(r.platform ? {platform: r.platform} : {})})
    if (!lock.has(site.image)) {
      lock.set(site.image, {
        image: site.image,
        registry: written.domain,
        repository: `${written.domain}/${written.path}`,
        ...(written.tag === undefined ? {} : {tag: written.tag}),
        digest: r.digest,
        ...(r.mediaType ? {mediaType: r.mediaType} : {}),
        ...(r.platform ? {platform: r.platform} : {}),
        resolvedAt: now,
      })
    }
  }
  return {sites: out, errors, warnings, lock: [...lock.values()]}
}

/**
 * The registry lookup a written reference needs, keyed by the reference as written: the tag of a
 * reference without digest (default latest), and, for drift, the tag of a tag@digest reference.
 */
export function lookupFor(image: string, written: WrittenReference, checkDrift: boolean): ResolveRequest | undefined {
  if (written.digest !== undefined && (written.tag === undefined || !checkDrift)) return undefined
  return {image, domain: written.domain, path: written.path, reference: written.tag ?? 'latest'}
}

/** lookupFor, from an image value as found in a manifest (undefined when it is not a pinnable reference). */
export function lookupForValue(image: string, checkDrift: boolean): ResolveRequest | undefined {
  if (classifyImageValue(image).kind !== 'reference') return undefined
  try {
    return lookupFor(image, parseWritten(image), checkDrift)
  } catch {
    return undefined
  }
}

function loc(site: ImageSite): string {
  return `${site.file === '-' ? '<stdin>' : site.file}: document ${site.document + 1}: ${site.pathString} (line ${site.line})`
}
