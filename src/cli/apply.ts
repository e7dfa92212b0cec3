/**
 * `safe-deploy apply`: pin → pre-flight → (enforcement check) → confirm → apply → audit.
 * Nothing reaches the cluster unless every image is pinned and the verdict allows it.
 */
import {SafeDeployError} from '../core/errors.js'
import {addBreakGlass} from '../core/breakglass.js'
import type {PreflightResult} from '../core/plan.js'
import {KubectlApplier, kubectlAvailable} from '../adapters/k8s/kubectl.js'
import {resolveKubeContext} from '../adapters/k8s/kubeconfig.js'
import {preparePreflight, type PreflightFlags} from './preflight.js'
import {kubectlInput, manifestObjects, secondLook, type ManifestObject} from '../core/manifest/objects.js'
import {Auditor, actor, auditedPreflight} from './audit.js'
import {confirmOrFail} from './prompt.js'
import {renderPreflightText} from '../render/preflight.js'
import type {Profile} from './config.js'
import type {CustomImageRule} from '../core/manifest/types.js'

export interface ApplyFlags extends PreflightFlags {
  'dry-run': string
  'server-side': boolean
  'field-manager'?: string | undefined
  prune: boolean
  selector?: string | undefined
  applier?: string | undefined
  'break-glass'?: string | undefined
  yes: boolean
  'require-enforcement': boolean
  'audit-log'?: string | undefined
  'container-endpoint'?: string | undefined
}

export interface ApplyResult {
  outcome: 'applied' | 'dry-run' | 'blocked'
  verdict: PreflightResult['verdict']
  preflight: PreflightResult
  applier?: 'kubectl' | 'api'
  objects: Array<{kind: string; name: string; namespace?: string; action: string}>
  enforcement?: {mode: string; enforced: boolean; cluster: string} | {unavailable: string}
  auditId: string
  warnings: string[]
}

export interface ApplyIO {
  say(message: string): void
  debug(line: string): void
}

export async function runApply(flags: ApplyFlags, extraArgs: string[], profile: Profile | undefined, rules: CustomImageRule[], io: ApplyIO): Promise<ApplyResult> {
  const breakGlass = flags['break-glass']
  if (breakGlass !== undefined && breakGlass.trim().length < 3) {
    throw new SafeDeployError('USAGE', '--break-glass needs a justification, e.g. --break-glass "INC-1234: restore checkout"', {
      hint: 'break-glass bypasses Binary Authorization; the justification is written to the audit log',
    })
  }
  if (flags.prune && !flags.selector) throw new SafeDeployError('USAGE', '--prune needs -l/--selector (pruning without a selector can delete unrelated objects)')
  // flags > profile, in one place for this command.
  const kube = {
    kubeconfig: flags.kubeconfig ?? (profile?.kubeconfig as string | undefined),
    context: flags.context ?? (profile?.context as string | undefined),
    namespace: flags.namespace ?? (profile?.namespace as string | undefined),
    applier: flags.applier ?? (profile?.applier as string | undefined),
  }
  if (kube.applier !== undefined && kube.applier !== 'kubectl' && kube.applier !== 'api') {
    throw new SafeDeployError('USAGE', `applier must be kubectl or api, got "${kube.applier}"`)
  }
  if (kube.applier === 'api' && extraArgs.length) throw new SafeDeployError('USAGE', 'extra kubectl arguments after -- need the kubectl applier')
  const warnings: string[] = []

  // Pre-flight first. Pinning failures and "could not check" errors throw here: nothing is applied.
  const auditPath = flags['audit-log'] ?? (profile?.auditLog as string | undefined)
  const {result, pin} = await auditedPreflight(auditPath, {
    command: 'apply', actor: actor(), mode: flags['dry-run'], breakGlass: breakGlass !== undefined,
    ...(breakGlass !== undefined ? {justification: breakGlass} : {}),
    target: {platform: flags.platform ?? 'gke', ...(kube.context ? {context: kube.context} : {}), ...(flags.cluster ? {cluster: flags.cluster} : {})},
  }, () => preparePreflight(flags, profile, rules, io.debug, {breakGlass: breakGlass !== undefined}))
  if (!pin) throw new SafeDeployError('USAGE', 'apply needs manifests (-f/-k); use `safe-deploy run deploy` for a bare image on Cloud Run')

  const auditor = new Auditor(flags['audit-log'] ?? (profile?.auditLog as string | undefined), {
    command: 'apply', actor: actor(), mode: flags['dry-run'], breakGlass: breakGlass !== undefined,
    ...(breakGlass !== undefined ? {justification: breakGlass} : {}),
    target: {...result.target, applier: kube.applier ?? 'auto'},
  })
  io.say(renderPreflightText(result))

  if (result.verdict === 'DENY') {
    await auditor.record('blocked', result, 'denied by policy; nothing applied')
    return {outcome: 'blocked', verdict: result.verdict, preflight: result, objects: [], auditId: auditor.id, warnings}
  }
  if (result.verdict === 'DRYRUN_DENY') {
    warnings.push('DRY-RUN DENIAL: Binary Authorization would deny this deploy, but the rule is in dry-run mode; deploying anyway and recording it.')
  }
  if (breakGlass !== undefined) warnings.push(`BREAK-GLASS: deploying with alpha.image-policy.k8s.io/break-glass ("${breakGlass}")`)

  // Enforcement check on GKE targets (flag, or the profile's requireEnforcement).
  const requireEnforcement = flags['require-enforcement'] || profile?.requireEnforcement === true
  const enforcement = await checkEnforcement(flags, kube, io)
  if (enforcement && 'enforced' in enforcement && !enforcement.enforced) {
    const msg = `Binary Authorization enforcement is OFF on cluster ${enforcement.cluster} (evaluation mode ${enforcement.mode}): the cluster admits any image`
    if (requireEnforcement) {
      await auditor.record('blocked', result, msg)
      throw new SafeDeployError('DENIED', msg, {hint: 'enable it: gcloud container clusters update CLUSTER --binauthz-evaluation-mode=PROJECT_SINGLETON_POLICY_ENFORCE'})
    }
    warnings.push(msg)
  } else if (enforcement && 'unavailable' in enforcement) {
    if (requireEnforcement) {
      await auditor.record('blocked', result, `could not verify enforcement: ${enforcement.unavailable}`)
      throw new SafeDeployError('API_ERROR', `could not verify that Binary Authorization is enforced: ${enforcement.unavailable}`)
    }
    warnings.push(`could not verify the cluster's Binary Authorization enforcement: ${enforcement.unavailable}`)
  }
  for (const w of warnings) io.say(`warning: ${w}`)

  // What is sent: the objects of the pinned documents (+ break-glass annotations), read with the
  // same reader that located the images, serialized by us; then a second look that what would be
  // sent holds exactly the evaluated images (docs/kubectl-reading.md).
  let toSend: ManifestObject[]
  try {
    toSend = pin.outputs.flatMap((o) => {
      const text = breakGlass === undefined ? o.text : addBreakGlass(o.text, pin.sites.filter((s) => s.file === o.file))
      return manifestObjects(text, o.file)
    })
    secondLook(kubectlInput(toSend), pin.result.sites.map((s) => ({site: s.site, image: s.pinned})), rules)
  } catch (err) {
    await auditor.record('blocked', result, err instanceof Error ? err.message : String(err))
    throw err
  }
  auditor.sent = toSend.map((o) => ({
    object: `${o.kind}/${o.namespace === undefined ? '' : o.namespace + '/'}${o.name}`,
    images: pin.result.sites.filter((s) => s.site.file === o.file && s.site.document === o.document && s.site.name === o.name && s.site.kind === o.kind).map((s) => s.pinned),
  }))

  const dryRun = flags['dry-run'] as 'none' | 'client' | 'server'
  if (dryRun === 'none') {
    try {
      await confirmOrFail(`apply ${pin.files.length} file(s) with ${result.images.length} image(s) to ${result.target.context ?? 'the current context'}?`, flags.yes)
    } catch (err) {
      await auditor.record('aborted', result, err instanceof Error ? err.message : String(err))
      throw err
    }
  }
  await auditor.record('started', result, `applying (${dryRun === 'none' ? 'live' : 'dry-run ' + dryRun})`)
  let applier: 'kubectl' | 'api' = kube.applier === 'api' ? 'api' : 'kubectl'
  if (kube.applier === undefined && !(await kubectlAvailable())) applier = 'api'
  try {
    const common = {
      ...(kube.kubeconfig ? {kubeconfig: kube.kubeconfig} : {}),
      ...(kube.context ? {context: kube.context} : {}),
      ...(kube.namespace ? {namespace: kube.namespace} : {}),
      dryRun, serverSide: flags['server-side'], ...(flags['field-manager'] ? {fieldManager: flags['field-manager']} : {}),
    }
    let objects: ApplyResult['objects']
    if (applier === 'kubectl') {
      const r = await new KubectlApplier().apply(toSend, {...common, ...(flags.prune ? {prune: {selector: flags.selector as string}} : {}), extraArgs})
      objects = r.objects
    } else {
      if (extraArgs.length) throw new SafeDeployError('USAGE', 'extra kubectl arguments after -- need the kubectl applier')
      const {ApiApplier} = await import('../adapters/k8s/api.js')
      const r = await new ApiApplier().apply(toSend, common)
      objects = r.objects
    }
    const outcome = dryRun === 'none' ? 'applied' : 'dry-run'
    await auditor.record(outcome, result, `${objects.length} object(s) via ${applier}`)
    return {outcome, verdict: result.verdict, preflight: result, applier, objects, ...(enforcement ? {enforcement} : {}), auditId: auditor.id, warnings}
  } catch (err) {
    await auditor.record('failed', result, err instanceof Error ? err.message : String(err))
    throw err
  }
}


async function checkEnforcement(flags: ApplyFlags, kube: {kubeconfig?: string | undefined; context?: string | undefined}, io: ApplyIO): Promise<ApplyResult['enforcement']> {
  const contextName = kube.context
  let gke: {project: string; location: string; cluster: string; clusterKey: string} | undefined
  try {
    gke = resolveKubeContext({...(kube.kubeconfig ? {kubeconfig: kube.kubeconfig} : {}), ...(contextName ? {context: contextName} : {})}).gke
  } catch {
    gke = undefined
  }
  if (!gke) {
    io.debug('not a GKE context (gke_PROJECT_LOCATION_NAME): skipping the enforcement check')
    return undefined
  }
  try {
    const {clusterBinauthz} = await import('../adapters/gcp/gke.js')
    const r = await clusterBinauthz({project: gke.project, location: gke.location, cluster: gke.cluster}, {
      ...(flags['container-endpoint'] ? {endpoint: flags['container-endpoint']} : {}), insecure: flags['api-insecure'] === true,
    })
    const enforced = r.binauthzEvaluationMode === 'PROJECT_SINGLETON_POLICY_ENFORCE' || r.binauthzEvaluationMode === 'POLICY_BINDINGS_AND_PROJECT_SINGLETON_POLICY_ENFORCE' || (r.binauthzEvaluationMode === 'UNSPECIFIED' && r.enabledLegacy === true)
    return {mode: r.binauthzEvaluationMode, enforced, cluster: gke.clusterKey}
  } catch (err) {
    return {unavailable: err instanceof Error ? err.message : String(err)}
  }
}

