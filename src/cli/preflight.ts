/**
 * Composition root for preflight (and the pre-flight half of apply / run deploy): build the
 * target, pin, choose the trust sources (files or Google APIs), run the pure pre-flight.
 */
import {SafeDeployError, EXIT, type ExitCode} from '../core/errors.js'
import {parseWritten} from '../core/reference/index.js'
import {redact} from '../core/redact.js'
import {runPreflight, type PlanImage, type PreflightResult, type Target} from '../core/preflight.js'
import {parseSystemPolicyText} from '../core/policy/parse.js'
import {SYSTEM_ALLOWLIST} from '../core/policy/allowlist.js'
import type {ImageSite} from '../core/manifest/types.js'
import {FilePolicySource, DirAttestorSource, DirAttestationSource} from '../adapters/fs/trust.js'
import {writeFileAtomic} from '../adapters/fs/atomic.js'
import {appendTextFile, fileExists, readTextFile} from '../adapters/fs/files.js'
import {resolveKubeContext} from '../adapters/k8s/kubeconfig.js'
import {addReviewerContext} from './reviewer-context.js'
import {renderPreflightJunit, renderPreflightMarkdown} from '../render/preflight.js'
import {PrefetchingResolver, buildResolver, loadManifests, pinLoaded, readLockFile, aggregate, type InputFlags, type RegistryFlags, type PinRun} from './pipeline.js'
import type {Profile} from './config.js'
import {resolveSettings, type Settings} from './options.js'
import type {AttestationSource, AttestorSource, PolicySource} from '../core/ports.js'
import type {CustomImageRule} from '../core/manifest/types.js'

export interface PreflightFlags extends InputFlags, RegistryFlags {
  platform?: string | undefined
  cluster?: string | undefined
  namespace?: string | undefined
  context?: string | undefined
  kubeconfig?: string | undefined
  'service-account'?: string | undefined
  'istio-identity'?: string | undefined
  policy?: string | undefined
  project?: string | undefined
  attestors?: string | undefined
  attestations?: string | undefined
  'system-policy'?: string | undefined
  'binauthz-endpoint'?: string | undefined
  'containeranalysis-endpoint'?: string | undefined
  'api-insecure'?: boolean | undefined
  'artifactregistry-endpoint'?: string | undefined
  vulnerabilities?: boolean | undefined
  image?: string[] | undefined
  'no-resolve'?: boolean | undefined
  'image-platform'?: string | undefined
  lock?: string | undefined
  'strip-tag'?: boolean | undefined
}

export function exitForVerdict(v: PreflightResult['verdict']): ExitCode {
  switch (v) {
    case 'ALLOW':
    case 'ALLOW_BREAKGLASS':
      return EXIT.OK
    case 'DENY':
      return EXIT.DENIED
    case 'DRYRUN_DENY':
      return EXIT.DRYRUN_DENIED
  }
}

/** Target from the settings (flags > profile), then the kube context. */
export function buildTarget(flags: PreflightFlags, settings: Settings, debug: (l: string) => void): Target {
  const platform = settings.platform
  let cluster = settings.cluster
  let namespace = settings.kube.namespace
  let context: string | undefined
  if (platform === 'gke') {
    const wantContext = settings.kube.context
    const kubeconfig = settings.kube.kubeconfig
    try {
      const kc = resolveKubeContext({...(kubeconfig ? {kubeconfig} : {}), ...(wantContext ? {context: wantContext} : {})})
      context = kc.context
      cluster ??= kc.gke?.clusterKey
      namespace ??= kc.namespace
    } catch (err) {
      // An explicitly named context or kubeconfig must exist; the implicit current context is optional.
      if (wantContext || kubeconfig) throw err
      debug(`no kube context: ${(err as Error).message}`)
    }
  }
  if (cluster !== undefined && !/^[^.\s]+\.[^\s]+$/.test(cluster)) {
    throw new SafeDeployError('USAGE', `--cluster expects LOCATION.NAME (e.g. us-central1.prod), got "${cluster}"`)
  }
  return {
    platform, namespace: namespace ?? 'default',
    ...(cluster ? {cluster} : {}), ...(context ? {context} : {}),
    ...(settings.project ? {project: settings.project} : {}),
    ...(flags['istio-identity'] ? {istioIdentity: flags['istio-identity']} : {}),
  }
}

export interface TrustSources {
  policy: PolicySource
  attestors: AttestorSource
  attestations: AttestationSource
  close(): Promise<void>
}

/** Files when given, else the Google APIs of --project (lazy-loaded). */
export async function buildTrustSources(flags: PreflightFlags, settings: Settings): Promise<TrustSources> {
  const policyFile = settings.trust.policy
  const attestorsDir = settings.trust.attestors
  const attestationsDir = settings.trust.attestations
  const project = settings.trust.project
  if (!policyFile && !project) {
    throw new SafeDeployError('USAGE', 'no policy: give --policy FILE or --project PROJECT', {
      hint: 'export one with `gcloud container binauthz policy export > policy.yaml`, or let safe-deploy read it with --project',
    })
  }
  const needApi = !policyFile || !attestorsDir || !attestationsDir
  let gcp: Awaited<ReturnType<typeof loadGcpTrust>> | undefined
  if (needApi) {
    if (!project) {
      throw new SafeDeployError('USAGE', `${!attestorsDir ? '--attestors DIR' : '--attestations DIR'} is required with --policy unless --project is given (to read them from the APIs)`)
    }
    gcp = await loadGcpTrust(project, flags)
  }
  const policy = policyFile ? new FilePolicySource(policyFile) : (gcp as NonNullable<typeof gcp>).policy
  const attestors = attestorsDir ? new DirAttestorSource(attestorsDir) : (gcp as NonNullable<typeof gcp>).attestors
  const attestations = attestationsDir ? new DirAttestationSource(attestationsDir) : (gcp as NonNullable<typeof gcp>).attestations
  return {policy, attestors, attestations, close: async () => { await gcp?.close() }}
}

async function loadGcpTrust(project: string, flags: PreflightFlags) {
  const {gcpTrustSources} = await import('./gcp.js')
  return gcpTrustSources(project, {
    ...(flags['binauthz-endpoint'] ? {binauthzEndpoint: flags['binauthz-endpoint']} : {}),
    ...(flags['containeranalysis-endpoint'] ? {containerAnalysisEndpoint: flags['containeranalysis-endpoint']} : {}),
    insecure: flags['api-insecure'] === true,
  })
}

export function systemAllowlist(file: string | undefined): {patterns: string[]; approximate: boolean} {
  if (!file) return {patterns: [...SYSTEM_ALLOWLIST], approximate: true}
  if (!fileExists(file)) throw new SafeDeployError('USAGE', `--system-policy file ${file} does not exist`)
  const sys = parseSystemPolicyText(readTextFile(file, 'system policy file'), file)
  return {patterns: sys.patterns, approximate: false}
}

export interface PreparedPreflight {
  result: PreflightResult
  pin?: PinRun
}

/** Namespace: the document's wins, then the flag/profile/context default. */
function planImageFromSite(site: ImageSite, image: string, digest: string | undefined, target: Target, breakGlass: boolean): PlanImage {
  return {
    original: site.image, image, ...(digest ? {digest} : {}),
    namespace: site.namespace ?? target.namespace, serviceAccount: site.serviceAccount ?? 'default',
    breakGlass, workload: `${site.kind}/${site.name}`, file: site.file, document: site.document, path: site.pathString, line: site.line,
  }
}

export async function preparePreflight(
  flags: PreflightFlags, profile: Profile | undefined, rules: CustomImageRule[], debug: (l: string) => void,
  opts: {breakGlass?: boolean} = {},
): Promise<PreparedPreflight> {
  const settings = resolveSettings(flags, profile)
  const target = buildTarget(flags, settings, debug)
  const images: PlanImage[] = []
  let pin: PinRun | undefined
  const haveManifests = (flags.filename ?? []).length > 0 || (flags.kustomize ?? []).length > 0
  if (!haveManifests && (flags.image ?? []).length === 0) {
    throw new SafeDeployError('USAGE', 'no input: give manifests with -f/-k or images with --image')
  }
  const resolver = flags['no-resolve'] || flags.lock ? undefined : new PrefetchingResolver(buildResolver(flags, flags['image-platform'], debug), flags.concurrency)
  const lock = flags.lock ? readLockFile(flags.lock) : undefined
  if (haveManifests) {
    const loaded = await loadManifests(flags, rules, resolver)
    // Break-glass: asked for on the command line, or already annotated on the pod (template).
    const bg = (site: ImageSite): boolean => opts.breakGlass === true || site.breakGlass
    if (flags['no-resolve']) {
      for (const site of loaded.sites) {
        let digest: string | undefined
        try { digest = parseWritten(site.image).digest } catch { digest = undefined }
        images.push(planImageFromSite(site, site.image, digest, target, bg(site)))
      }
    } else {
      pin = await pinLoaded(loaded, {...(resolver ? {resolver} : {}), ...(lock ? {lock} : {})}, {stripTag: flags['strip-tag'] === true})
      for (const s of pin.result.sites) {
        images.push(planImageFromSite(s.site, s.pinned, s.digest, target, bg(s.site)))
      }
    }
  }
  const bare = flags.image ?? []
  if (bare.length > 0) {
    const problems: SafeDeployError[] = []
    const written = bare.map((img) => {
      try { return parseWritten(img) } catch (err) { if (err instanceof SafeDeployError) problems.push(err); else throw err; return undefined }
    })
    if (problems.length) throw aggregate(problems, 'image')
    const toResolve = written.map((w, i) => ({w, i})).filter(({w}) => w !== undefined && w.digest === undefined && !flags['no-resolve'])
    const digests = new Map<number, string>()
    if (toResolve.length > 0) {
      if (lock) {
        const byImage = new Map(lock.images.map((e) => [e.image, e.digest]))
        for (const {i} of toResolve) {
          const d = byImage.get(bare[i] as string)
          if (!d) problems.push(new SafeDeployError('LOCK_MISSING', `image "${bare[i]}" is not in the lock file`, {location: {image: bare[i] as string}}))
          else digests.set(i, d)
        }
      } else if (resolver) {
        const outcomes = await resolver.resolveAll(toResolve.map(({w, i}) => ({image: bare[i] as string, domain: w!.domain, path: w!.path, reference: w!.tag ?? 'latest'})))
        outcomes.forEach((o, k) => {
          const i = (toResolve[k] as {i: number}).i
          if (o.ok) digests.set(i, o.value.digest)
          else problems.push(o.error)
        })
      }
      if (problems.length) throw aggregate(problems, 'image')
    }
    bare.forEach((img, i) => {
      const w = written[i]!
      const d = w.digest ?? digests.get(i)
      const evaluated = w.digest || !d ? img : `${w.name}${w.tag && flags['strip-tag'] !== true ? ':' + w.tag : ''}@${d}`
      images.push({
        original: img, image: evaluated, ...(d ? {digest: d} : {}), namespace: target.namespace,
        serviceAccount: settings.serviceAccount ?? 'default', breakGlass: opts.breakGlass === true,
      })
    })
  }
  const trust = await buildTrustSources(flags, settings)
  try {
    const policy = await trust.policy.getPolicy()
    const result = await runPreflight({
      policy, systemAllowlist: systemAllowlist(settings.trust.systemPolicy), target, images,
      attestors: trust.attestors, attestations: trust.attestations,
    })
    await addReviewerContext(result, flags)
    return {result, ...(pin ? {pin} : {})}
  } finally {
    await trust.close()
  }
}

export async function writeReports(result: PreflightResult, flags: {'report-md'?: string | undefined; 'report-junit'?: string | undefined}, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const written: string[] = []
  // Reports quote reasons and notes that can carry API error text: redacted like any other output.
  if (flags['report-md'] || env.GITHUB_STEP_SUMMARY) {
    const md = redact(renderPreflightMarkdown(result))
    if (flags['report-md']) { await writeFileAtomic(flags['report-md'], md); written.push(flags['report-md']) }
    if (env.GITHUB_STEP_SUMMARY) { appendTextFile(env.GITHUB_STEP_SUMMARY, md + '\n'); written.push(env.GITHUB_STEP_SUMMARY) }
  }
  if (flags['report-junit']) { await writeFileAtomic(flags['report-junit'], redact(renderPreflightJunit(result))); written.push(flags['report-junit']) }
  return written
}
