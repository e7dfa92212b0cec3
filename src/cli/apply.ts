/**
 * `safe-deploy apply`: pin → pre-flight → (enforcement check) → confirm → apply → audit.
 * Nothing reaches the cluster unless every image is pinned and the verdict allows it.
 */
import {SafeDeployError} from '../core/errors.js'
import {addBreakGlass} from '../core/manifest/breakglass.js'
import type {PreflightResult} from '../core/preflight.js'
import {KubectlApplier, kubectlAvailable} from '../adapters/k8s/kubectl.js'
import {resolveKubeContext} from '../adapters/k8s/kubeconfig.js'
import {preparePreflight, type PreflightFlags} from './preflight.js'
import {kubectlInput, manifestObjects, secondLook, type ManifestObject} from '../core/manifest/objects.js'
import {Auditor, actor, auditedPreflight} from './audit.js'
import {askConfirmation} from './prompt.js'
import {runDeployGate} from '../app/deploy-gate.js'
import {refusedKubectlArg} from '../core/deploy.js'
import {renderPreflightText} from '../render/preflight.js'
import type {Profile} from './config.js'
import {resolveSettings} from './options.js'
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
  const settings = resolveSettings(flags, profile)
  const kube = settings.kube
  if (kube.applier !== undefined && kube.applier !== 'kubectl' && kube.applier !== 'api') {
    throw new SafeDeployError('USAGE', `applier must be kubectl or api, got "${kube.applier}"`)
  }
  if (kube.applier === 'api' && extraArgs.length) throw new SafeDeployError('USAGE', 'extra kubectl arguments after -- need the kubectl applier')
  const refused = refusedKubectlArg(extraArgs)
  if (refused) {
    throw new SafeDeployError('USAGE', `the kubectl argument ${refused.arg} after -- is not allowed: kubectl would apply or target something safe-deploy did not check`, {
      hint: `use safe-deploy's own ${refused.instead} (before --), so that what is checked is what is deployed`,
    })
  }
  // Pre-flight first. Pinning failures and "could not check" errors throw here: nothing is applied.
  const auditPath = settings.auditLog
  const {result, pin} = await auditedPreflight(auditPath, {
    command: 'apply', actor: actor(), mode: flags['dry-run'], breakGlass: breakGlass !== undefined,
    ...(breakGlass !== undefined ? {justification: breakGlass} : {}),
    target: {platform: flags.platform ?? 'gke', ...(kube.context ? {context: kube.context} : {}), ...(flags.cluster ? {cluster: flags.cluster} : {})},
  }, () => preparePreflight(flags, profile, rules, io.debug, {breakGlass: breakGlass !== undefined}))
  if (!pin) throw new SafeDeployError('USAGE', 'apply needs manifests (-f/-k); use `safe-deploy run deploy` for a bare image on Cloud Run')

  const auditor = new Auditor(settings.auditLog, {
    command: 'apply', actor: actor(), mode: flags['dry-run'], breakGlass: breakGlass !== undefined,
    ...(breakGlass !== undefined ? {justification: breakGlass} : {}),
    target: {...result.target, applier: kube.applier ?? 'auto'},
  })
  io.say(renderPreflightText(result))

  // Enforcement is checked only for a deploy that is not denied (a denial blocks first).
  const enforcement = result.verdict === 'DENY' ? undefined : await checkEnforcement(flags, kube, io)
  const dryRun = flags['dry-run'] as 'none' | 'client' | 'server'
  let toSend: ManifestObject[] = []
  const gate = await runDeployGate({
    platform: 'gke', verdict: result.verdict, mode: dryRun, ...(breakGlass === undefined ? {} : {breakGlass}),
    requireEnforcement: settings.requireEnforcement,
    enforcement: enforcement === undefined ? {state: 'not-checked'}
      : 'unavailable' in enforcement ? {state: 'unknown', detail: enforcement.unavailable}
        : {state: enforcement.enforced ? 'enforced' : 'off', cluster: enforcement.cluster, mode: enforcement.mode},
  }, `apply ${pin.files.length} file(s) with ${result.images.length} image(s) to ${result.target.context ?? 'the current context'}?`, {
    record: (e) => auditor.record(e.outcome, result, e.detail),
    confirm: (question) => askConfirmation(question, flags.yes),
    say: io.say,
  }, {
    // What is sent: the objects of the pinned documents (+ break-glass annotations), read with the
    // same reader that located the images, serialized by us; then a second look that what would be
    // sent holds exactly the evaluated images (docs/kubectl-reading.md).
    prepare: () => {
      toSend = pin.outputs.flatMap((o) => {
        const text = breakGlass === undefined ? o.text : addBreakGlass(o.text, pin.sites.filter((s) => s.file === o.file))
        return manifestObjects(text, o.file)
      })
      secondLook(kubectlInput(toSend), pin.result.sites.map((s) => ({site: s.site, image: s.pinned})), rules)
      auditor.sent = toSend.map((o) => ({
        object: `${o.kind}/${o.namespace === undefined ? '' : o.namespace + '/'}${o.name}`,
        images: pin.result.sites.filter((s) => s.site.file === o.file && s.site.document === o.document && s.site.name === o.name && s.site.kind === o.kind).map((s) => s.pinned),
      }))
    },
    apply: async () => {
      const applier: 'kubectl' | 'api' = kube.applier === 'api' || (kube.applier === undefined && !(await kubectlAvailable())) ? 'api' : 'kubectl'
      const common = {
        ...(kube.kubeconfig ? {kubeconfig: kube.kubeconfig} : {}),
        ...(kube.context ? {context: kube.context} : {}),
        ...(kube.namespace ? {namespace: kube.namespace} : {}),
        dryRun, serverSide: flags['server-side'], ...(flags['field-manager'] ? {fieldManager: flags['field-manager']} : {}),
      }
      let objects: ApplyResult['objects']
      if (applier === 'kubectl') {
        objects = (await new KubectlApplier().apply(toSend, {...common, ...(flags.prune ? {prune: {selector: flags.selector as string}} : {}), extraArgs})).objects
      } else {
        const {ApiApplier} = await import('../adapters/k8s/api.js')
        objects = (await new ApiApplier().apply(toSend, common)).objects
      }
      return {value: {applier, objects}, detail: `${objects.length} object(s) via ${applier}`}
    },
  })
  const reported = {verdict: result.verdict, preflight: result, ...(enforcement ? {enforcement} : {}), auditId: auditor.id, warnings: gate.warnings}
  if (gate.outcome === 'blocked') return {outcome: 'blocked', objects: [], ...reported}
  return {outcome: gate.outcome, applier: gate.value.applier, objects: gate.value.objects, ...reported}
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

