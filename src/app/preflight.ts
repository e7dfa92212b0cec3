/**
 * `safe-deploy preflight` (and the first half of apply, run deploy, run replace): pin → plan →
 * gather the facts the plan needs through ports → evaluate (pure, synchronous) → reviewer context.
 * Anything that could not be read or checked throws: it is never treated as allowed.
 */
import {SafeDeployError, aggregateErrors} from '../core/errors.js'
import type {AttestHint} from '../core/policy/evaluate.js'
import {parseWritten, type WrittenReference} from '../core/reference/index.js'
import {attestationFactsNeeded, evaluatePreflight, type PlanImage, type PreflightPlan, type PreflightResult, type Target} from '../core/preflight.js'
import {unexaminedError} from '../core/manifest/unexamined.js'
import type {CustomImageRule, ImageSite, UnexaminedValue} from '../core/manifest/types.js'
import {inputNamespaceMismatch} from '../core/manifest/whole-input.js'
import type {AttestationSource, AttestorSource, DigestResolver, InputReader, ManifestInputs, PolicySource, Progress} from '../core/ports.js'
import {step} from './progress.js'
import {gatherAttestationFacts} from './attestation-facts.js'
import type {SignatureFactPorts} from './signature-facts.js'
import {signatureRequestsNeeded, type RepositoryOverride} from '../core/signatures/requests.js'
import {countingResolver, hasManifests, loadManifests, pinLoaded, type PinRun} from './manifests.js'
import {evaluatePlatformPolicy, platformFactsNeeded} from '../core/platform-policy/evaluate.js'
import {platformPods, withPlatformPolicy, type PlatformPods, type PlatformPolicyMode} from '../core/platform-policy/preflight.js'
import type {PlatformPolicy} from '../core/platform-policy/types.js'
import type {PlatformFactPorts} from './platform-facts.js'

export interface PreflightOptions {
  target: Target
  inputs: ManifestInputs
  /** Bare image references (--image). */
  images: string[]
  rules: readonly CustomImageRule[]
  /** False with --no-resolve: references are evaluated exactly as written. */
  resolve: boolean
  replayingLock: boolean
  stripTag: boolean
  /** Break-glass asked for on the command line (a pod's own annotation counts too). */
  breakGlass: boolean
  /** Service account of bare images (default "default"). */
  serviceAccount?: string | undefined
  systemAllowlist: {patterns: string[]; approximate: boolean}
  /**
   * Image-like values no rule examined (docs/image-rules.md#unexamined-image-like-values): `warn`
   * (default) evaluates the rest and reports them (never a plain allow); `refuse` (--strict) and
   * `refuse-deploy` (apply, run replace, unless --allow-unexamined-images) make them an input error
   * before any trust material is read.
   */
  unexamined?: 'warn' | 'refuse' | 'refuse-deploy' | undefined
  /**
   * The namespace kubectl is told (-n, or the profile's): an object in another namespace is refused
   * before anything is pinned, as kubectl refuses it. Unset for Cloud Run and without -n.
   */
  enforcedNamespace?: string | undefined
  /** Completes the `attest` next step of a denial with this invocation's trust sources. */
  attestHint?: AttestHint | undefined
  /**
   * Registry signatures required besides the policy (a --sigstore-key or identity, or the profile's
   * requireSignatures): read even with --no-resolve, which only skips tag resolution.
   */
  signatures?: {repository?: RepositoryOverride; attestationTypes: string[]} | undefined
  /**
   * A GKE platform policy is evaluated too (docs/platform-policy.md#in-the-pre-flight): enforced or only reported, and
   * the time imageFreshnessCheck is evaluated at (--at, else now).
   */
  platformPolicy?: {mode: PlatformPolicyMode; now: Date} | undefined
}

/** Trust material: opened only once the input is known to be good (input errors come first). */
export interface TrustSources {
  policy: PolicySource
  attestors: AttestorSource
  attestations: AttestationSource
  /** The signature requirement, prepared (keys and trusted root parsed), and where signatures are read; present when one is in force. */
  signatures?: SignatureFactPorts
  /** The platform policy, parsed, and where its facts are read; present with --platform-policy. */
  platformPolicy?: {policy: PlatformPolicy; facts: PlatformFactPorts; document?: Record<string, unknown>}
  close(): Promise<void>
}

export interface PreflightPorts {
  reader: InputReader
  /** Registry or replayed lock; absent with --no-resolve. */
  resolver?: DigestResolver | undefined
  openTrust(): Promise<TrustSources>
  /** Reviewer context (never changes the verdict). */
  addContext?(result: PreflightResult): Promise<void>
  /** Progress of the slow steps: resolution, the policy, attestation checks, reviewer context (the terminal's; absent elsewhere). */
  progress?: Progress | undefined
}

export interface PreparedPreflight {
  result: PreflightResult
  pin?: PinRun
}

export async function preflight(options: PreflightOptions, ports: PreflightPorts): Promise<PreparedPreflight> {
  const withManifests = hasManifests(options.inputs)
  if (!withManifests && options.images.length === 0) {
    throw new SafeDeployError('USAGE', 'no input: give manifests with -f/-k or images with --image')
  }
  const resolver = options.resolve ? ports.resolver : undefined
  const images: PlanImage[] = []
  let pin: PinRun | undefined
  let unexamined: UnexaminedValue[] = []
  if (withManifests) {
    const loaded = await loadManifests(options.inputs, options.rules, {reader: ports.reader, resolver})
    unexamined = loaded.unexamined
    const mode = options.unexamined ?? 'warn'
    if (mode !== 'warn' && unexamined.length > 0) throw unexaminedError(unexamined, {deploy: mode === 'refuse-deploy'})
    const mismatch = options.enforcedNamespace === undefined ? undefined : inputNamespaceMismatch(loaded.files, options.enforcedNamespace)
    if (mismatch) throw mismatch
    if (resolver === undefined) {
      for (const site of loaded.sites) images.push(planImage(site, site.image, writtenDigest(site.image), options))
    } else {
      pin = await pinLoaded(loaded, resolver, {stripTag: options.stripTag, checkDrift: !options.replayingLock, progress: ports.progress})
      for (const s of pin.result.sites) images.push(planImage(s.site, s.pinned, s.digest, options))
    }
  }
  images.push(...(await bareImages(options, resolver && ports.progress ? countingResolver(resolver, ports.progress) : resolver)))

  const progress = ports.progress
  const trust = await step(progress, 'opening the trust sources', () => ports.openTrust())
  try {
    let result = await evaluateWithTrust(
      {
        systemAllowlist: options.systemAllowlist,
        target: options.target,
        images,
        unexamined,
        ...(options.attestHint ? {attestHint: options.attestHint} : {}),
        ...(options.signatures ? {signatures: options.signatures} : {}),
      },
      trust,
      progress,
    )
    if (options.platformPolicy) result = await platformPolicy(result, images, options.platformPolicy, trust, progress)
    const addContext = ports.addContext
    if (addContext) await step(progress, 'reading reviewer context (Artifact Registry, vulnerabilities)', () => addContext(result))
    return {result, ...(pin ? {pin} : {})}
  } finally {
    await trust.close()
  }
}

/**
 * The evaluation half of the pre-flight over opened trust sources: the policy, the attestation facts
 * the plan needs (each once), the registry signatures when required, then the pure evaluation. `scan`
 * evaluates what runs through this same function, so the two never disagree on a digest.
 */
export async function evaluateWithTrust(plan: Omit<PreflightPlan, 'policy'>, trust: TrustSources, progress: Progress | undefined): Promise<PreflightResult> {
  const policy = await step(progress, 'reading the Binary Authorization policy', () => trust.policy.getPolicy())
  const full: PreflightPlan = {...plan, policy}
  const needed = attestationFactsNeeded(full)
  const facts = await step(
    progress,
    `checking attestations (${new Set(needed.map((n) => n.digest)).size} digest(s), ${new Set(needed.map((n) => n.attestor)).size} attestor(s))`,
    () => gatherAttestationFacts(needed, trust, progress ? {onChecked: () => progress.tick()} : {}),
    needed.length,
  )
  const signatures = plan.signatures ? await signatureFacts(full, plan.signatures, trust, progress) : undefined
  const result = evaluatePreflight(full, facts, signatures)
  // Only a signature requirement puts signature verdicts in the result (core/preflight.ts), so only then is there
  // anything to check; the Sigstore libraries load with it (docs/architecture.md#start-up).
  if (plan.signatures) (await import('./signature-facts.js')).requireSignaturesChecked(result)
  return result
}

async function signatureFacts(plan: PreflightPlan, required: NonNullable<PreflightOptions['signatures']>, trust: TrustSources, progress: Progress | undefined) {
  if (trust.signatures === undefined) throw new SafeDeployError('INTERNAL', 'pre-flight: signatures are required but no signature source was opened')
  const ports = trust.signatures
  const needed = signatureRequestsNeeded(plan.images, required.repository)
  const {gatherSignatureFacts} = await import('./signature-facts.js')
  return step(
    progress,
    `reading registry signatures (${needed.length} digest(s))`,
    () => gatherSignatureFacts(needed, ports, {attestations: required.attestationTypes.length > 0, ...(progress ? {onChecked: () => progress.tick()} : {})}),
    needed.length,
  )
}

/**
 * Pods from the plan, the facts their checks need (each digest once), then the pure evaluation, folded into the result.
 * `scan` gives its own Pods (what runs, grouped by workload); the pre-flight's come from the manifests.
 */
export async function platformPolicy(
  result: PreflightResult,
  images: readonly PlanImage[],
  o: NonNullable<PreflightOptions['platformPolicy']>,
  trust: TrustSources,
  progress: Progress | undefined,
  pods: PlatformPods = platformPods(images),
): Promise<PreflightResult> {
  const platform = trust.platformPolicy
  if (platform === undefined) throw new SafeDeployError('INTERNAL', 'pre-flight: a platform policy is asked for but none was opened')
  const needed = platformFactsNeeded(platform.policy, pods.pods)
  const {gatherPlatformFacts} = await import('./platform-facts.js')
  const facts = await step(progress, `reading the platform policy's facts (${needed.length} digest(s))`, () => gatherPlatformFacts(needed, platform.facts))
  const evaluation = evaluatePlatformPolicy(platform.policy, pods.pods, facts, {now: o.now})
  return withPlatformPolicy(result, images, pods, evaluation, {source: platform.policy.source, mode: o.mode})
}

function writtenDigest(image: string): string | undefined {
  try {
    return parseWritten(image).digest
  } catch {
    return undefined
  }
}

/** Namespace: the document's wins, then the flag/profile/context default. Break-glass: asked for, or on the pod. */
function planImage(site: ImageSite, image: string, digest: string | undefined, o: PreflightOptions): PlanImage {
  return {
    original: site.image,
    image,
    ...(digest ? {digest} : {}),
    namespace: site.namespace ?? o.target.namespace,
    serviceAccount: site.serviceAccount ?? 'default',
    breakGlass: o.breakGlass || site.breakGlass,
    workload: `${site.kind}/${site.name}`,
    ...(site.container ? {container: site.container} : {}),
    file: site.file,
    document: site.document,
    path: site.pathString,
    line: site.line,
  }
}

/** --image references: parsed (all problems at once), tags resolved through the same resolver port. */
async function bareImages(o: PreflightOptions, resolver: DigestResolver | undefined): Promise<PlanImage[]> {
  if (o.images.length === 0) return []
  const problems: SafeDeployError[] = []
  const written: Array<WrittenReference | undefined> = o.images.map((img) => {
    try {
      return parseWritten(img)
    } catch (err) {
      if (!(err instanceof SafeDeployError)) throw err
      problems.push(err)
      return undefined
    }
  })
  if (problems.length) throw aggregateErrors(problems, 'image')
  const toResolve = written.flatMap((w, i) => (w !== undefined && w.digest === undefined && resolver !== undefined ? [{w, i}] : []))
  const digests = new Map<number, string>()
  if (resolver !== undefined && toResolve.length > 0) {
    const outcomes = await resolver.resolveAll(
      toResolve.map(({w, i}) => ({image: o.images[i] as string, domain: w.domain, path: w.path, reference: w.tag ?? 'latest'})),
    )
    outcomes.forEach((out, k) => {
      const i = (toResolve[k] as {i: number}).i
      if (out.ok) digests.set(i, out.value.digest)
      else problems.push(out.error)
    })
    if (problems.length) throw aggregateErrors(problems, 'image')
  }
  return o.images.map((img, i) => {
    const w = written[i] as WrittenReference
    const d = w.digest ?? digests.get(i)
    const evaluated = w.digest || !d ? img : `${w.name}${w.tag && !o.stripTag ? ':' + w.tag : ''}@${d}`
    return {
      original: img,
      image: evaluated,
      ...(d ? {digest: d} : {}),
      namespace: o.target.namespace,
      serviceAccount: o.serviceAccount ?? 'default',
      breakGlass: o.breakGlass,
    }
  })
}
