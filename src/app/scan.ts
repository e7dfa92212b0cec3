/**
 * `safe-deploy scan`: list what runs (read-only) → top owners → one plan image per distinct running
 * digest and rule context → the pre-flight's own evaluation over the same trust sources
 * (`evaluateWithTrust`) → findings per workload (src/core/scan.ts). Anything that could not be read
 * throws (exit 4): a scan never claims a cluster clean that it could not list.
 */
import type {AttestHint} from '../core/policy/evaluate.js'
export type {ScanResult} from '../core/scan.js'
import type {PlanImage, PlanImageResult, Target} from '../core/preflight.js'
import type {PodLister, PodWatcher, Progress} from '../core/ports.js'
import type {RepositoryOverride} from '../core/signatures/requests.js'
import {
  evaluationKey,
  ownerKey,
  platformCouldNotCheck,
  scanFindings,
  scanPlatformPods,
  scanPlanImages,
  withTopOwners,
  type AppliedDigest,
  type ListedPod,
  type OwnerObject,
  type ScanResult,
  type Severity,
} from '../core/scan.js'
import {applyPodEvent, exitForWatch, newRows, pendingPlanImages, type NewRows} from '../core/scan-watch.js'
import {evaluateWithTrust, platformPolicy, type TrustSources} from './preflight.js'
import type {PlatformPolicyMode} from '../core/platform-policy/preflight.js'
import {step} from './progress.js'

export interface ScanOptions {
  /** One namespace (-n), or every namespace (-A: undefined). */
  namespace?: string | undefined
  selector?: string | undefined
  target: Target
  systemAllowlist: {patterns: string[]; approximate: boolean}
  attestHint?: AttestHint | undefined
  signatures?: {repository?: RepositoryOverride; attestationTypes: string[]} | undefined
  /** --platform-policy: its mode and the time its freshness check is evaluated at. */
  platformPolicy?: {mode: PlatformPolicyMode; now: Date} | undefined
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
  let evaluated
  try {
    evaluated = await evaluateImages(images, options, trust, progress)
  } finally {
    await trust.close()
  }
  const {verdicts, couldNotCheck, result} = evaluated
  const summary = scanFindings({pods, verdicts, couldNotCheck, ...(applied ? {applied} : {}), now: options.now})
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

/** The pre-flight's own evaluation of the plan images, keyed as scanFindings looks verdicts up. */
async function evaluateImages(images: PlanImage[], options: ScanOptions, trust: TrustSources, progress: Progress | undefined) {
  const result = await evaluateWithTrust(
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
  let evaluated = result
  let couldNotCheck = new Map<string, string>()
  if (options.platformPolicy) {
    const pods = scanPlatformPods(images)
    evaluated = await platformPolicy(result, images, options.platformPolicy, trust, progress, pods)
    couldNotCheck = platformCouldNotCheck(images, pods, evaluated.platformPolicy)
  }
  const verdicts = new Map<string, PlanImageResult>()
  images.forEach((image, i) => verdicts.set(evaluationKey(image), evaluated.images[i] as PlanImageResult))
  return {verdicts, couldNotCheck, result: evaluated}
}

export interface ScanWatchPorts extends ScanPorts {
  watcher: PodWatcher
  /** The time a finding is judged at (break-glass age); the watch's rows are judged when they appear. */
  clock?: (() => Date) | undefined
}

/** What a watch saw, for its exit status (the worst row it printed). */
export interface ScanWatchSummary {
  events: number
  /** Unique evaluations run (each digest in one rule context once for the whole watch). */
  evaluations: number
  findings: number
  unchecked: number
  exitCode: 0 | 4 | 5 | 6
}

/**
 * `scan --watch`: the Pod events of the PodWatcher, each one re-judged with the same evaluation as
 * `scan` (only plan images not evaluated before are sent to it), and each row not printed before
 * handed to `print` as it appears, until the signal aborts (Ctrl-C). Owners (ReplicaSets, Jobs) are
 * listed again only when a Pod names one not seen yet. A watch or list that fails throws (exit 4).
 */
export async function scanWatch(options: ScanOptions, ports: ScanWatchPorts, signal: AbortSignal, print: (rows: NewRows) => void): Promise<ScanWatchSummary> {
  const scope = {namespace: options.namespace, selector: options.selector}
  const namespaces = options.namespace === undefined ? undefined : [options.namespace]
  const applied = ports.applied ? await ports.applied() : undefined
  const clock = ports.clock ?? (() => new Date())
  const trust = await step(ports.progress, 'opening the trust sources', () => ports.openTrust())
  let pods = new Map<string, ListedPod>()
  const owners = new Map<string, OwnerObject>()
  const lookedFor = new Set<string>()
  const verdicts = new Map<string, PlanImageResult>()
  const couldNotCheck = new Map<string, string>()
  const printed = new Set<string>()
  const severities = new Set<Severity>()
  let events = 0
  let findings = 0
  let unchecked = 0
  try {
    for await (const event of ports.watcher.watchPods(scope, signal)) {
      if (signal.aborted) break
      events++
      pods = applyPodEvent(pods, event)
      // A Pod whose controller was not listed yet (a new ReplicaSet of a rollout): its kind is listed again.
      // One looked for and not found (an orphaned Pod) is not listed for again: the Pod is its own workload.
      for (const kind of ['ReplicaSet', 'Job'] as const) {
        const wanted = [...pods.values()].flatMap((p) => (p.controller?.kind === kind ? [ownerKey(kind, p.namespace, p.controller.name)] : []))
        if (!wanted.some((k) => !owners.has(k) && !lookedFor.has(k))) continue
        for (const o of await ports.pods.listOwners(kind, namespaces)) owners.set(ownerKey(o.kind, o.namespace, o.name), o)
        for (const k of wanted) lookedFor.add(k)
      }
      const running = withTopOwners([...pods.values()], [...owners.values()])
      const pending = pendingPlanImages(scanPlanImages(running), new Set(verdicts.keys()))
      if (pending.length > 0) {
        const evaluated = await evaluateImages(pending, options, trust, undefined)
        for (const [k, v] of evaluated.verdicts) verdicts.set(k, v)
        for (const [k, v] of evaluated.couldNotCheck) couldNotCheck.set(k, v)
      }
      const summary = scanFindings({pods: running, verdicts, couldNotCheck, ...(applied ? {applied} : {}), now: clock()})
      const rows = newRows(summary, printed)
      if (rows.keys.length === 0) continue
      for (const k of rows.keys) printed.add(k)
      for (const f of rows.findings) severities.add(f.severity)
      findings += rows.findings.length
      unchecked += rows.unchecked.length
      print(rows)
    }
  } finally {
    await trust.close()
  }
  return {events, evaluations: verdicts.size, findings, unchecked, exitCode: exitForWatch({severities, unchecked})}
}
