/**
 * Context for reviewers, which never changes the verdict (issue: Artifact Registry repository facts
 * and, with --vulnerabilities, Container Analysis vulnerability counts per digest). A failure to
 * fetch context is a note on the image, never an error and never an ALLOW.
 */
import type {ImageContext, PreflightResult} from '../core/preflight.js'
import {parseWritten, repositoryOf} from '../core/reference/index.js'
import {redact} from '../core/redact.js'

export interface ContextFlags {
  project?: string | undefined
  vulnerabilities?: boolean | undefined
  'artifactregistry-endpoint'?: string | undefined
  'containeranalysis-endpoint'?: string | undefined
  'api-insecure'?: boolean | undefined
}


export async function addReviewerContext(result: PreflightResult, flags: ContextFlags): Promise<void> {
  if (!flags.project && !flags.vulnerabilities) return
  const {artifactRegistryLocation, ArtifactRegistryApi} = await import('../adapters/gcp/artifactregistry.js')
  // Which images are pinned (and, for facts, hosted in Artifact Registry)? Nothing to ask: no client at all.
  const pinned = result.images.filter((img) => img.digest !== undefined)
  const isAr = (image: string, digest: string): boolean => {
    try { return artifactRegistryLocation(`${repositoryOf(parseWritten(image))}@${digest}`) !== undefined } catch { return false }
  }
  const wantFacts = flags.project !== undefined && pinned.some((i) => isAr(i.image, i.digest as string))
  const wantVulns = flags.vulnerabilities === true && flags.project !== undefined && pinned.length > 0
  if (flags.vulnerabilities && !flags.project) result.notes.push('--vulnerabilities needs --project (the project that holds the Container Analysis occurrences)')
  if (flags.vulnerabilities) result.notes.push('vulnerability counts are context: Binary Authorization does not scan, and an attestor that signs unscanned images lets them through')
  if (!wantFacts && !wantVulns) return
  const {ContainerAnalysisAttestations} = await import('../adapters/gcp/containeranalysis.js')
  const {gcpOptions} = await import('./gcp.js')
  // Local test mode (--api-insecure) never falls back to Google's real endpoints.
  const usable = (endpoint: string | undefined): boolean => !flags['api-insecure'] || endpoint !== undefined
  const ar = wantFacts && usable(flags['artifactregistry-endpoint'])
    ? new ArtifactRegistryApi(await gcpOptions(flags['artifactregistry-endpoint'], flags['api-insecure'])) : undefined
  const ca = wantVulns && usable(flags['containeranalysis-endpoint'])
    ? new ContainerAnalysisAttestations(await gcpOptions(flags['containeranalysis-endpoint'], flags['api-insecure'])) : undefined
  const cache = new Map<string, Promise<ImageContext>>()
  const fetch = async (image: string, digest: string, notes: string[]): Promise<ImageContext> => {
    const ctx: ImageContext = {}
    const withDigest = `${repositoryOf(parseWritten(image))}@${digest}`
    if (ar && isAr(image, digest)) {
      try {
        const f = await ar.repositoryFacts(withDigest)
        if (f) {
          ctx.artifactRegistry = {repository: f.repository, immutableTags: f.immutableTags, tags: f.tags, ...(f.uploadTime ? {uploadTime: f.uploadTime.toISOString()} : {})}
          if (!f.immutableTags) notes.push(`context: repository ${f.repository} allows tags to be moved (immutable tags off); pin by digest, as safe-deploy does`)
        }
      } catch (err) {
        notes.push(`context: Artifact Registry facts unavailable: ${redact(err instanceof Error ? err.message : String(err))}`)
      }
    }
    if (ca && flags.project) {
      try {
        const v = await ca.vulnerabilitySummary(flags.project, `https://${withDigest}`)
        const fixable = Object.values(v.fixableBySeverity).reduce((a, b) => a + b, 0)
        ctx.vulnerabilities = {total: v.total, bySeverity: v.bySeverity, fixable}
      } catch (err) {
        notes.push(`context: vulnerability occurrences unavailable: ${redact(err instanceof Error ? err.message : String(err))}`)
      }
    }
    return ctx
  }
  try {
    for (const img of pinned) {
      const key = `${img.image}|${img.digest}`
      let p = cache.get(key)
      if (!p) { p = fetch(img.image, img.digest as string, img.notes); cache.set(key, p) }
      const ctx = await p
      if (ctx.artifactRegistry || ctx.vulnerabilities) img.context = ctx
    }
  } finally {
    await ar?.close()
    await ca?.close()
  }
}
