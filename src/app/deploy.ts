/**
 * `safe-deploy apply`: pre-flight → (enforcement check) → deploy gate (confirm, record) → send →
 * record. Nothing reaches the cluster unless every image is pinned and the verdict allows it; what
 * is sent is read with the same reader that located the images and checked a second time
 * (docs/kubectl-reading.md#the-second-look).
 */
import {platformPolicyRefusal} from '../core/platform-policy/preflight.js'
import {SafeDeployError} from '../core/errors.js'
import {addBreakGlass} from '../core/manifest/breakglass.js'
import {kubectlInput, manifestObjects, secondLook, type ManifestObject} from '../core/manifest/objects.js'
import {refusedKubectlArg, type Confirmation, type DeployFacts, type Enforcement} from '../core/deploy.js'
import type {PreflightResult} from '../core/preflight.js'
import type {AuditSink, Progress} from '../core/ports.js'
import {renderPreflightText, type TextOptions} from '../render/preflight.js'
import {step} from './progress.js'
import {AuditTrail} from './audit-trail.js'
import {runDeployGate} from './deploy-gate.js'
import {preflight, type PreflightOptions, type PreflightPorts} from './preflight.js'
import type {PinRun} from './manifests.js'
import type {AuditRecord} from '../core/audit.js'

export type KubeApplierKind = 'kubectl' | 'api'

export interface AppliedObjectSummary {
  kind: string
  name: string
  namespace?: string
  action: string
}

export interface ApplyOptions {
  preflight: PreflightOptions
  mode: 'none' | 'client' | 'server'
  /** The break-glass justification, when given. */
  breakGlass?: string | undefined
  requireEnforcement: boolean
  /** kubectl, api, or undefined: kubectl when on PATH, else the API. */
  applier?: string | undefined
  /** kubectl arguments after `--`. */
  extraArgs: string[]
  prune?: {selector: string} | undefined
  /** For the audit records: who, and what the command line named as target. */
  audit: {actor: string; target: Record<string, unknown>}
  /** How the pre-flight text is styled (colour on a terminal, -o wide). */
  text?: TextOptions
}

/**
 * The cluster's enforcement as the GKE API reports it; `unavailable` when the API could not be read;
 * `unidentified` when neither a gke_PROJECT_LOCATION_NAME context nor --cluster with --project
 * names the cluster (src/core/deploy.ts enforcementTarget).
 */
export type EnforcementReport = {mode: string; enforced: boolean; cluster: string} | {unavailable: string} | {unidentified: string}

export interface ApplyPorts {
  preflight: PreflightPorts
  audit: AuditSink
  auditId: string
  confirm(question: string): Promise<Confirmation>
  say(line: string): void
  /** Progress of sending the objects (the terminal's; absent elsewhere). Pre-flight progress is preflight.progress. */
  progress?: Progress | undefined
  /** Write the pre-flight reports asked for (--report-md, --report-junit, $GITHUB_STEP_SUMMARY), whatever the verdict. */
  report?(result: PreflightResult): Promise<void>
  /** Read the target cluster's Binary Authorization enforcement (undefined: not checked). */
  enforcement(): Promise<EnforcementReport | undefined>
  /** Send the objects with the chosen applier. */
  apply(
    applier: KubeApplierKind | undefined,
    objects: ManifestObject[],
    o: {extraArgs: string[]; prune?: {selector: string} | undefined},
  ): Promise<{applier: KubeApplierKind; objects: AppliedObjectSummary[]}>
}

export interface ApplyResult {
  outcome: 'applied' | 'dry-run' | 'blocked'
  verdict: PreflightResult['verdict']
  preflight: PreflightResult
  applier?: KubeApplierKind
  objects: AppliedObjectSummary[]
  enforcement?: EnforcementReport
  auditId: string
  warnings: string[]
}

export function checkJustification(breakGlass: string | undefined): void {
  if (breakGlass !== undefined && breakGlass.trim().length < 3) {
    throw new SafeDeployError('USAGE', '--break-glass needs a justification, e.g. --break-glass "INC-1234: restore checkout"', {
      hint: 'break-glass bypasses Binary Authorization; the justification is written to the audit log',
    })
  }
}

export function checkApplyOptions(o: Pick<ApplyOptions, 'breakGlass' | 'applier' | 'extraArgs'>): void {
  checkJustification(o.breakGlass)
  if (o.applier !== undefined && o.applier !== 'kubectl' && o.applier !== 'api') {
    throw new SafeDeployError('USAGE', `applier must be kubectl or api, got "${o.applier}"`)
  }
  if (o.applier === 'api' && o.extraArgs.length) throw new SafeDeployError('USAGE', 'extra kubectl arguments after -- need the kubectl applier')
  const refused = refusedKubectlArg(o.extraArgs)
  if (refused) {
    throw new SafeDeployError(
      'USAGE',
      `the kubectl argument ${refused.arg} after -- is not allowed: kubectl would apply or target something safe-deploy did not check`,
      {
        hint: `use safe-deploy's own ${refused.instead} (before --), so that what is checked is what is deployed`,
      },
    )
  }
}

export function enforcementFact(e: EnforcementReport | undefined): Enforcement {
  if (e === undefined) return {state: 'not-checked'}
  if ('unavailable' in e) return {state: 'unknown', detail: e.unavailable}
  if ('unidentified' in e) return {state: 'unidentified', reason: e.unidentified}
  return {state: e.enforced ? 'enforced' : 'off', cluster: e.cluster, mode: e.mode}
}

/** What the deploy gate decides a Kubernetes deploy on (core/deploy.ts decideDeploy): one cluster's verdict and enforcement. */
export function kubeDeployFacts(
  o: Pick<ApplyOptions, 'mode' | 'breakGlass' | 'requireEnforcement'>,
  verdict: PreflightResult['verdict'],
  enforcement: EnforcementReport | undefined,
): Omit<DeployFacts, 'confirmation' | 'applied'> {
  return {
    platform: 'gke',
    verdict,
    mode: o.mode,
    ...(o.breakGlass === undefined ? {} : {breakGlass: o.breakGlass}),
    requireEnforcement: o.requireEnforcement,
    enforcement: enforcementFact(enforcement),
  }
}

export async function applyManifests(o: ApplyOptions, ports: ApplyPorts): Promise<ApplyResult> {
  checkApplyOptions(o)
  const breakGlass = o.breakGlass
  const trail = new AuditTrail(ports.audit, ports.auditId, {
    command: 'apply',
    actor: o.audit.actor,
    mode: o.mode,
    breakGlass: breakGlass !== undefined,
    ...(breakGlass !== undefined ? {justification: breakGlass} : {}),
    target: o.audit.target,
  })
  // Pre-flight first. Pinning failures and "could not check" errors throw here: nothing is applied.
  const {result, pin} = await trail.preflight(() => preflight(o.preflight, ports.preflight))
  if (!pin) throw new SafeDeployError('USAGE', 'apply needs manifests (-f/-k); use `safe-deploy run deploy` for a bare image on Cloud Run')
  trail.retarget({...result.target, applier: o.applier ?? 'auto'})
  ports.say(renderPreflightText(result, o.text))
  // The reports come before any decision, so a blocked deploy is reported too.
  await ports.report?.(result)
  const unchecked = platformPolicyRefusal(result)
  if (unchecked) {
    await trail.record('blocked', result, `not deployed: ${unchecked.code}: ${unchecked.message}`)
    throw unchecked
  }
  const unexamined = result.unexamined?.length ?? 0
  if (unexamined > 0) {
    ports.say(`warning: UNEXAMINED IMAGES: --allow-unexamined-images: deploying ${unexamined} image-like value(s) that were neither pinned nor pre-flighted`)
  }

  // Enforcement is checked only for a deploy that is not denied (a denial blocks first).
  const enforcement = result.verdict === 'DENY' ? undefined : await ports.enforcement()
  let toSend: ManifestObject[] = []
  const gate = await runDeployGate(
    kubeDeployFacts(o, result.verdict, enforcement),
    `apply ${pin.files.length} file(s) with ${result.images.length} image(s) to ${result.target.context ?? 'the current context'}?`,
    {
      record: (e) => trail.record(e.outcome, result, e.detail),
      confirm: ports.confirm,
      say: ports.say,
    },
    {
      // The objects to send, checked a second time (objectsToSend).
      prepare: () => {
        const prepared = objectsToSend(pin, breakGlass)
        toSend = prepared.objects
        trail.sent = prepared.sent
      },
      apply: async () => {
        // kubectl apply waits for the API server on every object: seconds on a real cluster.
        const sent = await step(ports.progress, `applying ${toSend.length} object(s) to ${result.target.context ?? 'the current context'}`, () =>
          ports.apply(o.applier as KubeApplierKind | undefined, toSend, {extraArgs: o.extraArgs, prune: o.prune}),
        )
        return {value: sent, detail: `${sent.objects.length} object(s) via ${sent.applier}`}
      },
    },
  )
  const reported = {verdict: result.verdict, preflight: result, ...(enforcement ? {enforcement} : {}), auditId: trail.id, warnings: gate.warnings}
  if (gate.outcome === 'blocked') return {outcome: 'blocked', objects: [], ...reported}
  return {outcome: gate.outcome, applier: gate.value.applier, objects: gate.value.objects, ...reported}
}

/**
 * The objects to send: the pinned text (plus break-glass annotations), read with the same reader
 * that located the images, serialized by us; then a second look that what would be sent holds
 * exactly the evaluated images. `sent` is what the audit records say was handed over.
 */
export function objectsToSend(pin: PinRun, breakGlass: string | undefined): {objects: ManifestObject[]; sent: NonNullable<AuditRecord['sent']>} {
  const objects = pin.outputs.flatMap((out) => {
    const text =
      breakGlass === undefined
        ? out.text
        : addBreakGlass(
            out.text,
            pin.sites.filter((s) => s.file === out.file),
          )
    return manifestObjects(text, out.file)
  })
  secondLook(
    kubectlInput(objects),
    pin.result.sites.map((s) => ({site: s.site, image: s.pinned})),
    pin.rules,
  )
  const sent = objects.map((obj) => ({
    object: `${obj.kind}/${obj.namespace === undefined ? '' : obj.namespace + '/'}${obj.name}`,
    images: pin.result.sites
      .filter((s) => s.site.file === obj.file && s.site.document === obj.document && s.site.name === obj.name && s.site.kind === obj.kind)
      .map((s) => s.pinned),
  }))
  return {objects, sent}
}
