/**
 * Context for reviewers, which never changes the verdict: Artifact Registry repository facts and,
 * with --vulnerabilities, Container Analysis vulnerability counts per digest. A failure to fetch
 * context is a note on the image, never an error and never an ALLOW. Clients are opened only when
 * some pinned image needs them.
 */
import type {ImageContext, PreflightResult} from '../core/preflight.js'
import {parseWritten, repositoryOf} from '../core/reference/index.js'
import {redact} from '../core/redact.js'

export interface ContextOptions {
  /** The project holding Container Analysis occurrences (and the signal that context is wanted). */
  project?: string | undefined
  vulnerabilities: boolean
}

export interface RepositoryFactsPort {
  repositoryFacts(imageWithDigest: string): Promise<{repository: string; immutableTags: boolean; tags: string[]; uploadTime?: Date} | undefined>
  close(): Promise<void>
}

export interface VulnerabilityPort {
  vulnerabilitySummary(
    project: string,
    resourceUri: string,
  ): Promise<{total: number; bySeverity: Record<string, number>; fixableBySeverity: Record<string, number>}>
  close(): Promise<void>
}

export interface ContextPorts {
  isArtifactRegistry(imageWithDigest: string): boolean
  /** undefined: not available (e.g. local test mode without an endpoint). */
  openRepositoryFacts(): Promise<RepositoryFactsPort | undefined>
  openVulnerabilities(): Promise<VulnerabilityPort | undefined>
}

export async function addReviewerContext(result: PreflightResult, options: ContextOptions, ports: ContextPorts): Promise<void> {
  if (!options.project && !options.vulnerabilities) return
  const pinned = result.images.filter((img) => img.digest !== undefined)
  const withDigest = (image: string, digest: string): string => `${repositoryOf(parseWritten(image))}@${digest}`
  const isAr = (image: string, digest: string): boolean => {
    try {
      return ports.isArtifactRegistry(withDigest(image, digest))
    } catch {
      return false
    }
  }
  const wantFacts = options.project !== undefined && pinned.some((i) => isAr(i.image, i.digest as string))
  const wantVulns = options.vulnerabilities && options.project !== undefined && pinned.length > 0
  if (options.vulnerabilities && !options.project)
    result.notes.push('--vulnerabilities needs --project (the project that holds the Container Analysis occurrences)')
  if (options.vulnerabilities)
    result.notes.push('vulnerability counts are context: Binary Authorization does not scan, and an attestor that signs unscanned images lets them through')
  if (!wantFacts && !wantVulns) return
  const ar = wantFacts ? await ports.openRepositoryFacts() : undefined
  const ca = wantVulns ? await ports.openVulnerabilities() : undefined
  const fetch = async (image: string, digest: string, notes: string[]): Promise<ImageContext> => {
    const ctx: ImageContext = {}
    const ref = withDigest(image, digest)
    if (ar && isAr(image, digest)) {
      try {
        const f = await ar.repositoryFacts(ref)
        if (f) {
          ctx.artifactRegistry = {
            repository: f.repository,
            immutableTags: f.immutableTags,
            tags: f.tags,
            ...(f.uploadTime ? {uploadTime: f.uploadTime.toISOString()} : {}),
          }
          if (!f.immutableTags)
            notes.push(`context: repository ${f.repository} allows tags to be moved (immutable tags off); pin by digest, as safe-deploy does`)
        }
      } catch (err) {
        notes.push(`context: Artifact Registry facts unavailable: ${redact(err instanceof Error ? err.message : String(err))}`)
      }
    }
    if (ca && options.project) {
      try {
        const v = await ca.vulnerabilitySummary(options.project, `https://${ref}`)
        const fixable = Object.values(v.fixableBySeverity).reduce((a, b) => a + b, 0)
        ctx.vulnerabilities = {total: v.total, bySeverity: v.bySeverity, fixable}
      } catch (err) {
        notes.push(`context: vulnerability occurrences unavailable: ${redact(err instanceof Error ? err.message : String(err))}`)
      }
    }
    return ctx
  }
  const cache = new Map<string, Promise<ImageContext>>()
  try {
    for (const img of pinned) {
      const key = `${img.image}|${img.digest}`
      let p = cache.get(key)
      if (!p) {
        p = fetch(img.image, img.digest as string, img.notes)
        cache.set(key, p)
      }
      const ctx = await p
      if (ctx.artifactRegistry || ctx.vulnerabilities) img.context = ctx
    }
  } finally {
    await ar?.close()
    await ca?.close()
  }
}
