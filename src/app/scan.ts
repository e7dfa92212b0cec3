/**
 * `safe-deploy scan`: list what runs (read-only) → top owners → one plan image per distinct running
 * digest and rule context → the pre-flight's own evaluation over the same trust sources
 * (`evaluateWithTrust`) → findings per workload (src/core/scan.ts). Anything that could not be read
 * throws (exit 4): a scan never claims a cluster clean that it could not list.
 */
import type {AttestHint} from '../core/policy/evaluate.js'
export type {ScanResult} from '../core/scan.js'
import type {PlanImageResult, Target} from '../core/preflight.js'
import type {PodLister, Progress} from '../core/ports.js'
import type {RepositoryOverride} from '../core/signatures/requests.js'
import {evaluationKey, scanFindings, scanPlanImages, withTopOwners, type AppliedDigest, type ScanResult} from '../core/scan.js'
import {evaluateWithTrust, type TrustSources} from './preflight.js'
import {step} from './progress.js'

export interface ScanOptions {
  /** One namespace (-n), or every namespace (-A: undefined). */
  namespace?: string | undefined
  selector?: string | undefined
  target: Target
  systemAllowlist: {patterns: string[]; approximate: boolean}
  attestHint?: AttestHint | undefined
  signatures?: {repository?: RepositoryOverride; attestationTypes: string[]} | undefined
  now: Date
}

export interface ScanPorts {
  pods: PodLister
  openTrust(): Promise<TrustSources>
  /** The last applied digests (--lock, --audit-log); absent: no drift check. */
  applied?: (() => Promise<AppliedDigest[]>) | undefined
  progress?: Progress | undefined
}

export async function scan(options: ScanOptions, ports: ScanPorts): Promise<ScanResult> {
  const progress = ports.progress
  const scope = {namespace: options.namespace, selector: options.selector}
  const listed = await step(progress, `listing Pods ${options.namespace ? `in namespace ${options.namespace}` : 'in every namespace'}`, () =>
    ports.pods.listPods(scope),
  )
  // Owners are listed (not read one by one) and only for the kinds that have a parent worth naming.
  const namespaces = options.namespace === undefined ? undefined : [options.namespace]
  const owners = []
  for (const kind of ['ReplicaSet', 'Job'] as const)
    if (listed.some((p) => p.controller?.kind === kind))
      owners.push(...(await step(progress, `listing ${kind}s`, () => ports.pods.listOwners(kind, namespaces))))
  const pods = withTopOwners(listed, owners)
  const applied = ports.applied ? await ports.applied() : undefined
  const images = scanPlanImages(pods)

  const trust = await step(progress, 'opening the trust sources', () => ports.openTrust())
  let result
  try {
    result = await evaluateWithTrust(
      {
        systemAllowlist: options.systemAllowlist,
        target: options.target,
        images,
        ...(options.attestHint ? {attestHint: options.attestHint} : {}),
        ...(options.signatures ? {signatures: options.signatures} : {}),
      },
      trust,
      progress,
    )
  } finally {
    await trust.close()
  }
  const verdicts = new Map<string, PlanImageResult>()
  images.forEach((image, i) => verdicts.set(evaluationKey(image), result.images[i] as PlanImageResult))
  const summary = scanFindings({pods, verdicts, ...(applied ? {applied} : {}), now: options.now})
  return {
    ...summary,
    target: options.target,
    scope: {
      ...(options.namespace ? {namespace: options.namespace} : {}),
      allNamespaces: options.namespace === undefined,
      ...(options.selector ? {selector: options.selector} : {}),
    },
    policy: result.policy,
    notes: result.notes,
  }
}
