/**
 * The GKE platform policy in the pre-flight (docs/platform-policy.md#in-the-pre-flight): the plan's images grouped
 * into the Pods the policy evaluates, and the platform verdict folded into the pre-flight result. Pure: the facts are
 * gathered by src/app/platform-facts.ts through `platformFactsNeeded` before `evaluatePlatformPolicy` runs.
 *
 * An image must satisfy both policies when both are given: in `enforce` mode a NON_CONFORMANT image is denied (exit 5)
 * and an image that could not be checked (ERROR) is never allowed (exit 4). In `monitor` mode — what continuous
 * validation does today — the verdict is reported and changes nothing.
 */
import {SafeDeployError} from '../errors.js'
import {denyBesidePolicy, overallVerdict} from '../policy/evaluate.js'
import {parsePolicyObject} from '../policy/parse.js'
import type {Policy} from '../policy/types.js'
import type {PlanImage, PlanImageResult, PreflightResult} from '../preflight.js'
import type {ImageResult, PlatformEvaluation, PlatformVerdict, PodResult, PodToEvaluate} from './types.js'

export type PlatformPolicyMode = 'enforce' | 'monitor'

/** The pre-flight JSON's `platformPolicy` section (issue #14 "JSON"). */
export interface PlatformPolicyReport {
  source: string
  mode: PlatformPolicyMode
  verdict: PlatformVerdict
  pods: PodResult[]
  notes: string[]
}

/** The start of every reason the platform policy adds to an image of the pre-flight result. */
export const PLATFORM_REASON = 'platform policy'

/** How the pre-flight result names the classic policy when only --platform-policy was given. */
export const NO_CLASSIC_POLICY = '(none: --platform-policy only)'

/**
 * The classic policy in force when only a platform policy is given: it allows every image (no system-image exemption
 * either), so the platform policy alone decides, and the report says so by its source.
 */
export function noClassicPolicy(): Policy {
  return parsePolicyObject(
    {globalPolicyEvaluationMode: 'DISABLE', defaultAdmissionRule: {evaluationMode: 'ALWAYS_ALLOW', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG'}},
    NO_CLASSIC_POLICY,
  )
}

/** The Pods of a plan, and for each of their images the plan image it came from (same order). */
export interface PlatformPods {
  pods: PodToEvaluate[]
  /** planIndex[p][i]: the index in plan.images of pods[p].images[i]. */
  planIndex: number[][]
}

/** The name gcloud's `policy evaluate --image` gives the Pod it generates; safe-deploy's bare images form one such Pod. */
export const BARE_IMAGES_POD = '--image'

/**
 * One Pod per workload document (its Pod template: every container, init and ephemeral ones included), with the
 * namespace and service account it runs as. Bare `--image` references form one Pod without a namespace or service
 * account, as `gcloud … policy evaluate --image` sends: only the default check set applies to it (docs/platform-policy.md#evaluation).
 * Images are matched as written (`original`); the digest the pre-flight resolved is evaluated for digest-based checks.
 */
export function platformPods(images: readonly PlanImage[]): PlatformPods {
  const byKey = new Map<string, {pod: PodToEvaluate; idx: number[]}>()
  images.forEach((img, i) => {
    const bare = img.workload === undefined
    const key = bare ? BARE_IMAGES_POD : `${img.file ?? ''}\u0000${img.document ?? 0}\u0000${img.workload}\u0000${img.namespace}`
    let entry = byKey.get(key)
    if (entry === undefined) {
      entry = {
        pod: bare
          ? {name: BARE_IMAGES_POD, images: []}
          : {name: img.workload as string, namespace: img.namespace, serviceAccount: img.serviceAccount, images: []},
        idx: [],
      }
      byKey.set(key, entry)
    }
    const path = img.path ?? ''
    entry.pod.images.push({
      image: img.original,
      ...(img.digest !== undefined ? {digest: img.digest} : {}),
      container: img.container ?? '',
      ...(path.includes('initContainers') ? {init: true} : {}),
      ...(path.includes('ephemeralContainers') ? {ephemeral: true} : {}),
    })
    entry.idx.push(i)
  })
  const entries = [...byKey.values()]
  return {pods: entries.map((e) => e.pod), planIndex: entries.map((e) => e.idx)}
}

/** Why the platform policy did not admit an image: its failing checks' explanations, in Google's words. */
function failing(img: ImageResult, verdict: PlatformVerdict): string[] {
  return img.checks.filter((c) => c.verdict === verdict).map((c) => c.explanation)
}

/**
 * The platform verdict attached to the result, and in `enforce` mode folded into each image's verdict: a
 * NON_CONFORMANT image is denied whatever the classic policy said (break-glass admits it, saying it would be denied,
 * as for the registry signature requirement). ERROR changes no image verdict: `exitForPlatformPolicy` makes it exit 4
 * and the deploy commands refuse it (`platformPolicyUnchecked`).
 */
export function withPlatformPolicy(
  result: PreflightResult,
  plan: readonly PlanImage[],
  pods: PlatformPods,
  evaluation: PlatformEvaluation,
  o: {source: string; mode: PlatformPolicyMode},
): PreflightResult {
  const report: PlatformPolicyReport = {source: o.source, mode: o.mode, verdict: evaluation.verdict, pods: evaluation.pods, notes: evaluation.notes}
  const notes = [...result.notes]
  if (o.mode === 'monitor' && evaluation.verdict !== 'CONFORMANT') {
    notes.push(
      `platform policy ${o.source} in monitor mode (--platform-policy-mode monitor): its verdict ${evaluation.verdict} is reported and changes neither the verdict nor the exit status, as continuous validation only logs it`,
    )
  }
  if (o.mode === 'monitor') return {...result, notes, platformPolicy: report}
  const images: PlanImageResult[] = result.images.map((r) => ({...r}))
  evaluation.pods.forEach((pod, p) =>
    pod.images.forEach((img, i) => {
      const at = pods.planIndex[p]?.[i]
      const r = at === undefined ? undefined : images[at]
      if (r === undefined || img.verdict !== 'NON_CONFORMANT') return
      const breakGlass = plan[at as number]?.breakGlass === true
      // Prefixed so that renderers tell them from the classic rule's reasons (PLATFORM_REASON).
      r.reasons = [
        ...r.reasons,
        `${PLATFORM_REASON} ${o.source}: Image ${img.image} is NON_CONFORMANT (Pod ${pod.name}, check set ${pod.checkSetIndex ?? 'none'}).`,
        ...failing(img, 'NON_CONFORMANT').map((e) => `${PLATFORM_REASON}: ${e}`),
      ]
      denyBesidePolicy(r, breakGlass)
    }),
  )
  return {...result, verdict: overallVerdict(images.map((i) => i.verdict)), images, notes, platformPolicy: report}
}

/** Enforced, could not check, and nothing denies the input anyway: never allowed (exit 4). */
export function platformPolicyUnchecked(r: Pick<PreflightResult, 'verdict' | 'platformPolicy'>): boolean {
  return r.platformPolicy?.mode === 'enforce' && r.platformPolicy.verdict === 'ERROR' && r.verdict !== 'DENY'
}

/** The images the enforced platform policy could not check, with why: the message of exit 4. */
export function platformUncheckedLines(r: Pick<PreflightResult, 'platformPolicy'>): string[] {
  return (r.platformPolicy?.pods ?? []).flatMap((pod) =>
    pod.images.filter((i) => i.verdict === 'ERROR').map((i) => `${pod.name}: ${i.image}: ${failing(i, 'ERROR').join(' ')}`),
  )
}

/**
 * A deploy whose enforced platform policy could not check some image is refused as "could not check" (exit 4), after
 * its reports are written: undefined when nothing stands in the way.
 */
export function platformPolicyRefusal(r: Pick<PreflightResult, 'verdict' | 'platformPolicy'>): SafeDeployError | undefined {
  if (!platformPolicyUnchecked(r)) return undefined
  const lines = platformUncheckedLines(r)
  return new SafeDeployError(
    'API_ERROR',
    `the platform policy ${r.platformPolicy?.source ?? ''} could not check ${lines.length} image(s), so they are not deployed:\n  ${lines.join('\n  ')}`,
    {hint: 'make the facts readable (registry, Container Analysis, Artifact Registry) and run again, or use --platform-policy-mode monitor to report only'},
  )
}
