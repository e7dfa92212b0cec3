/**
 * `safe-deploy scan` (pure, synchronous): what runs now, as the kubelet resolved it, against what the
 * pre-flight would say today. Input is data (Pods with their top owner, one pre-flight verdict per
 * unique evaluation, the last applied digests); output is findings grouped by workload, worst first.
 *
 * The running digest is read from `status.*ContainerStatuses[].imageID` (what the node pulled), never
 * from the spec's tag: a tag can have moved since the Pod started, the digest cannot. Verdicts come
 * from the same evaluation as the pre-flight (src/core/preflight.ts), run by src/app/scan.ts over the
 * plan images `scanPlanImages` lists: every Pod of a workload that runs one digest under one rule context
 * is one plan image, so a digest run by 500 Pods is evaluated once.
 */
import {SafeDeployError} from './errors.js'
import {BREAK_GLASS_ANNOTATION} from './manifest/breakglass.js'
import {isSha256Digest, parseWritten} from './reference/index.js'
import {SIGNATURE_REASON, type PlanImage, type PlanImageResult, type Target, type Verdict} from './preflight.js'
import {platformPods, PLATFORM_REASON, type PlatformPods, type PlatformPolicyReport} from './platform-policy/preflight.js'

export type ContainerKind = 'container' | 'initContainer' | 'ephemeralContainer'

export interface RunningContainer {
  name: string
  kind: ContainerKind
  /** The spec's image, as written. */
  image: string
  /** The status' imageID (e.g. `docker-pullable://REPO@sha256:…`); absent until the kubelet pulled it. */
  imageID?: string
}

export interface WorkloadRef {
  kind: string
  name: string
}

export interface RunningPod {
  namespace: string
  name: string
  annotations: Readonly<Record<string, string>>
  serviceAccount: string
  /** The top owner (ReplicaSet → Deployment, Job → CronJob), or the Pod itself when it has none. */
  workload: WorkloadRef
  /** metadata.creationTimestamp (RFC 3339): the age of a break-glass Pod. */
  createdAt?: string
  containers: RunningContainer[]
}

/** A digest last applied (a lock file from `pin --lock-output`, or `applied` records of the audit log). */
export interface AppliedDigest {
  /** Where it was read (the file), for the message. */
  source: string
  /** The reference as written when it was pinned (lock: the key); audit: the image applied. */
  image: string
  /** REGISTRY/REPOSITORY, as parseWritten names it. */
  repository: string
  digest: string
  /** Audit records name the workload (Kind/name); lock files do not. */
  workload?: WorkloadRef
  namespace?: string
}

export type FindingKind = 'tag' | 'verdict' | 'unsigned' | 'break-glass' | 'drift' | 'skew'

/**
 * deny: what GKE or the signature requirement would refuse (exit 5); unchecked: could not be checked (exit 4);
 * dry-run: what a dry-run rule would deny (exit 6); warning: reported, not a denial (exit 0).
 */
export type Severity = 'deny' | 'unchecked' | 'dry-run' | 'warning'

export interface Finding {
  kind: FindingKind
  severity: Severity
  namespace: string
  workload: WorkloadRef
  container: string
  /** The spec's image, as written. */
  image: string
  /** The running digest (the first one, for skew: `digests` lists them all). */
  digest?: string
  /** The Binary Authorization verdict of the running digest (with the signature requirement, when one is in force). */
  verdict?: Verdict
  message: string
  fix: string
  /** The Pods the row stands for (-o wide). */
  pods: string[]
  /** skew: every digest the workload's container runs. */
  digests?: string[]
}

/** A container whose running digest is unknown (not pulled yet, or an imageID without a repository digest). */
export interface Unchecked {
  namespace: string
  workload: WorkloadRef
  container: string
  image: string
  reason: string
  pods: string[]
}

/** The scan's result (`--json`: kind ScanResult, src/schemas/scan.schema.json). */
export interface ScanResult extends ScanSummary {
  target: Target
  scope: {namespace?: string; allNamespaces: boolean; selector?: string}
  policy: {source: string}
  notes: string[]
}

export type ScanVerdict = Verdict | 'UNCHECKED'

export interface ScanSummary {
  verdict: ScanVerdict
  pods: number
  workloads: number
  /** Unique running digests evaluated. */
  digests: number
  findings: Finding[]
  unchecked: Unchecked[]
}

/**
 * The manifest digest in a container status' imageID: `docker-pullable://REPO@sha256:…`,
 * `docker://sha256:…` (an image ID, not a manifest digest: unusable), `REPO@sha256:…` (containerd).
 * Only a repository digest (after `@`) identifies what the registry serves and attestations name.
 */
export function runningDigest(imageID: string | undefined): string | undefined {
  if (imageID === undefined) return undefined
  const bare = imageID.replace(/^[a-z-]+:\/\//, '')
  const at = bare.lastIndexOf('@')
  if (at < 0) return undefined
  const digest = bare.slice(at + 1)
  return isSha256Digest(digest) ? digest : undefined
}

/** The repository the spec names (parseWritten's name), or undefined when the spec image does not parse. */
function specName(image: string): {name: string; digest?: string; tag?: string} | undefined {
  try {
    const w = parseWritten(image)
    return {name: w.name, ...(w.digest ? {digest: w.digest} : {}), ...(w.tag ? {tag: w.tag} : {})}
  } catch {
    return undefined
  }
}

export function isBreakGlass(pod: Pick<RunningPod, 'annotations'>): boolean {
  return pod.annotations[BREAK_GLASS_ANNOTATION] === 'true'
}

/** The rule context a verdict depends on besides the image: one evaluation per distinct key. */
export function evaluationKey(i: Pick<PlanImage, 'image' | 'namespace' | 'serviceAccount' | 'breakGlass'>): string {
  return [i.image, i.namespace, i.serviceAccount, i.breakGlass ? 'break-glass' : ''].join('\u0000')
}

/** The reason of a container the kubelet has not pulled yet (a watch waits for its next event instead of reporting it). */
export const NOT_PULLED = 'no running digest yet (the kubelet has not reported an imageID)'

interface Use {
  pod: RunningPod
  container: RunningContainer
  name: string
  digest: string
}

function uses(pods: readonly RunningPod[]): {running: Use[]; unknown: Array<{pod: RunningPod; container: RunningContainer; reason: string}>} {
  const running: Use[] = []
  const unknown: Array<{pod: RunningPod; container: RunningContainer; reason: string}> = []
  for (const pod of pods)
    for (const c of pod.containers) {
      const digest = runningDigest(c.imageID)
      const spec = specName(c.image)
      if (spec === undefined) unknown.push({pod, container: c, reason: `the spec image ${JSON.stringify(c.image)} is not a valid reference`})
      else if (digest === undefined)
        unknown.push({
          pod,
          container: c,
          reason: c.imageID === undefined || c.imageID === '' ? NOT_PULLED : `the imageID ${c.imageID} names no repository digest`,
        })
      else running.push({pod, container: c, name: spec.name, digest})
    }
  return {running, unknown}
}

/** The running image as evaluated: the spec's repository at the running digest, in the Pod's rule context. */
function runningPlanImage(u: Use): PlanImage {
  return {
    original: u.container.image,
    image: `${u.name}@${u.digest}`,
    digest: u.digest,
    namespace: u.pod.namespace,
    serviceAccount: u.pod.serviceAccount,
    breakGlass: isBreakGlass(u.pod),
    workload: `${u.pod.workload.kind}/${u.pod.workload.name}`,
    container: u.container.name,
  }
}

/**
 * The spec's tag as written, evaluated as GKE would on the next admission (a Pod re-created from this
 * spec): under REQUIRE_ATTESTATION a tag is denied whatever the digest; no attestation fact is needed.
 */
function writtenPlanImage(u: Use): PlanImage {
  return {...runningPlanImage(u), image: u.container.image, breakGlass: false}
}

function isTag(image: string): boolean {
  return specName(image)?.digest === undefined
}

/** Every distinct evaluation the scan needs (running digests, and tags as written), each once. */
export function scanPlanImages(pods: readonly RunningPod[]): PlanImage[] {
  const out = new Map<string, PlanImage>()
  for (const u of uses(pods).running) {
    const r = runningPlanImage(u)
    if (!out.has(evaluationKey(r))) out.set(evaluationKey(r), r)
    if (isTag(u.container.image)) {
      const w = writtenPlanImage(u)
      const {digest: _d, ...written} = w
      if (!out.has(evaluationKey(written))) out.set(evaluationKey(written), written)
    }
  }
  return [...out.values()]
}

const SEVERITY_RANK: Record<Severity, number> = {deny: 0, unchecked: 1, 'dry-run': 2, warning: 3}
const KIND_RANK: Record<FindingKind, number> = {verdict: 0, unsigned: 1, tag: 2, 'break-glass': 3, drift: 4, skew: 5}

function severityOf(v: Verdict | undefined): Severity {
  return v === 'DENY' ? 'deny' : v === 'DRYRUN_DENY' ? 'dry-run' : 'warning'
}

/**
 * The policy's own denial, apart from the signature requirement (which the result's verdict folds in):
 * the rule chosen denies every image, or an attestor it requires is not satisfied; an exemption
 * (allowlist, system image) allows. The rule's enforcement mode says whether it is only a dry run.
 */
function policyDenial(r: PlanImageResult): 'DENY' | 'DRYRUN_DENY' | undefined {
  if (r.exemption !== undefined) return undefined
  const denied = r.rule.evaluationMode === 'ALWAYS_DENY' || (r.rule.evaluationMode === 'REQUIRE_ATTESTATION' && r.attestors.some((a) => !a.satisfied))
  if (!denied) return undefined
  return r.rule.enforcementMode === 'DRYRUN_AUDIT_LOG_ONLY' ? 'DRYRUN_DENY' : 'DENY'
}

export interface ScanInput {
  pods: readonly RunningPod[]
  /** The pre-flight result of every plan image `scanPlanImages` listed, keyed by `evaluationKey`. */
  verdicts: ReadonlyMap<string, PlanImageResult>
  applied?: readonly AppliedDigest[]
  /** Evaluations that could not be completed (an enforced platform policy's ERROR), keyed by `evaluationKey`, with why. */
  couldNotCheck?: ReadonlyMap<string, string>
  now: Date
}

/** The last applied digests of a container: the audit log's for its workload, else the lock's for its spec image or repository. */
function appliedFor(u: Use, applied: readonly AppliedDigest[]): {digests: string[]; source: string} | undefined {
  const w = u.pod.workload
  const byWorkload = applied.filter(
    (a) =>
      a.workload !== undefined &&
      a.workload.kind === w.kind &&
      a.workload.name === w.name &&
      (a.namespace === undefined || a.namespace === u.pod.namespace) &&
      a.repository === u.name,
  )
  // The audit log is in time order: the last record applied for the workload is what should run.
  const last = byWorkload.at(-1)
  if (last) return {digests: [last.digest], source: last.source}
  const unbound = applied.filter((a) => a.workload === undefined)
  const exact = unbound.filter((a) => a.image === u.container.image)
  const pick = exact.length > 0 ? exact : unbound.filter((a) => a.repository === u.name)
  const first = pick[0]
  return first ? {digests: [...new Set(pick.map((a) => a.digest))], source: first.source} : undefined
}

function age(createdAt: string | undefined, now: Date): string {
  const t = createdAt === undefined ? NaN : Date.parse(createdAt)
  if (Number.isNaN(t)) return 'age unknown'
  const s = Math.max(0, Math.floor((now.getTime() - t) / 1000))
  if (s < 3600) return `${Math.floor(s / 60)}m old`
  if (s < 86400 * 2) return `${Math.floor(s / 3600)}h old`
  return `${Math.floor(s / 86400)}d old`
}

function shortRef(name: string, digest: string): string {
  return `${name}@${digest.slice(0, 19)}…`
}

/** The findings of one scan, one row per (kind, workload, container, digest), worst first. */
export function scanFindings(input: ScanInput): ScanSummary {
  const {running, unknown} = uses(input.pods)
  const applied = input.applied ?? []
  const rows = new Map<string, Finding>()
  const add = (f: Omit<Finding, 'pods'>, pod: string): void => {
    const key = [f.kind, f.namespace, f.workload.kind, f.workload.name, f.container, f.digest ?? '', f.message].join('\u0000')
    const row = rows.get(key)
    if (row) {
      if (!row.pods.includes(pod)) row.pods.push(pod)
    } else rows.set(key, {...f, pods: [pod]})
  }
  const verdictOf = (p: PlanImage): PlanImageResult => {
    const v = input.verdicts.get(evaluationKey(p))
    // Every plan image was evaluated by the caller; a missing one is a bug, never a clean row.
    if (v === undefined) throw new SafeDeployError('INTERNAL', `scan: no verdict was computed for ${p.image} in ${p.namespace}`)
    return v
  }
  const unchecked = new Map<string, Unchecked>()
  const addUnchecked = (pod: RunningPod, c: RunningContainer, reason: string): void => {
    const key = [pod.namespace, pod.workload.kind, pod.workload.name, c.name, reason].join('\u0000')
    const u = unchecked.get(key)
    if (u) u.pods.push(pod.name)
    else unchecked.set(key, {namespace: pod.namespace, workload: pod.workload, container: c.name, image: c.image, reason, pods: [pod.name]})
  }
  for (const x of unknown) addUnchecked(x.pod, x.container, x.reason)

  const digestsPerContainer = new Map<string, {u: Use; digests: Set<string>; pods: string[]}>()
  for (const u of running) {
    const plan = runningPlanImage(u)
    const r = verdictOf(plan)
    const base = {
      namespace: u.pod.namespace,
      workload: u.pod.workload,
      container: u.container.name,
      image: u.container.image,
      digest: u.digest,
      verdict: r.verdict,
    }
    const ref = shortRef(u.name, u.digest)
    const fix = r.nextSteps[0] ?? 'see the reasons above'
    if (r.signatures?.couldNotCheck) addUnchecked(u.pod, u.container, `registry signatures of ${ref} could not be read: ${r.signatures.reason}`)

    const couldNotCheck = input.couldNotCheck?.get(evaluationKey(plan))
    if (couldNotCheck !== undefined) addUnchecked(u.pod, u.container, couldNotCheck)

    const policyReasons = r.reasons.filter((x) => !x.includes(SIGNATURE_REASON))
    // An enforced platform policy that finds the digest NON_CONFORMANT denies it as the classic policy would (its reasons say which).
    const platformDenied = r.verdict === 'DENY' && r.reasons.some((x) => x.startsWith(PLATFORM_REASON))
    const denial = policyDenial(r) ?? (platformDenied ? 'DENY' : undefined)
    if (denial !== undefined && !plan.breakGlass)
      add({...base, kind: 'verdict', severity: denial === 'DENY' ? 'deny' : 'dry-run', message: policyReasons.join(' '), fix}, u.pod.name)
    if (r.signatures && !r.signatures.satisfied && !r.signatures.couldNotCheck && !plan.breakGlass)
      add(
        {
          ...base,
          kind: 'unsigned',
          severity: 'deny',
          message: `${ref} is missing registry signatures: ${r.signatures.reason}`,
          fix: r.nextSteps.find((s) => s.includes('--sigstore')) ?? fix,
        },
        u.pod.name,
      )
    if (plan.breakGlass)
      add(
        {
          ...base,
          kind: 'break-glass',
          // Admitted by break-glass, but what runs would be denied without it: as serious as a denial.
          severity: r.wouldBe === 'DENY' ? 'deny' : r.wouldBe === 'DRYRUN_DENY' ? 'dry-run' : 'warning',
          message: `Pod ${u.pod.name} carries ${BREAK_GLASS_ANNOTATION} (${age(u.pod.createdAt, input.now)})${r.wouldBe ? `; without it ${ref} would be ${r.wouldBe}: ${policyReasons.concat(r.reasons.filter((x) => x.includes(SIGNATURE_REASON))).join(' ')}` : ''}`,
          fix: r.wouldBe ? `${fix}; then roll the workload out without the break-glass annotation` : 'roll the workload out without the break-glass annotation',
        },
        u.pod.name,
      )
    if (isTag(u.container.image)) {
      const {digest: _d, ...written} = writtenPlanImage(u)
      const w = verdictOf(written)
      add(
        {
          ...base,
          kind: 'tag',
          severity: severityOf(w.verdict),
          message: `the spec names the tag ${u.container.image} (running ${ref})${w.verdict === 'ALLOW' ? '' : `: a Pod re-created from it would be ${w.verdict}`}`,
          fix: `safe-deploy pin -f MANIFEST   # write ${u.name}@${u.digest} into the spec, then apply it`,
        },
        u.pod.name,
      )
    }
    const last = appliedFor(u, applied)
    if (last && !last.digests.includes(u.digest))
      add(
        {
          ...base,
          kind: 'drift',
          severity: 'warning',
          message: `running ${ref}, last applied ${last.digests.map((d) => d.slice(0, 19) + '…').join(', ')} (${last.source})`,
          fix: 'find who changed it (kubectl rollout history), then apply the reviewed manifest with safe-deploy apply',
        },
        u.pod.name,
      )
    const ck = [u.pod.namespace, u.pod.workload.kind, u.pod.workload.name, u.container.kind, u.container.name].join('\u0000')
    const entry = digestsPerContainer.get(ck) ?? {u, digests: new Set<string>(), pods: []}
    entry.digests.add(u.digest)
    if (!entry.pods.includes(u.pod.name)) entry.pods.push(u.pod.name)
    digestsPerContainer.set(ck, entry)
  }
  const skews: Finding[] = []
  for (const {u, digests, pods} of digestsPerContainer.values()) {
    if (digests.size < 2) continue
    const list = [...digests].sort()
    skews.push({
      kind: 'skew',
      severity: 'warning',
      namespace: u.pod.namespace,
      workload: u.pod.workload,
      container: u.container.name,
      image: u.container.image,
      digest: list[0] as string,
      digests: list,
      message: `${u.pod.workload.kind}/${u.pod.workload.name} runs ${list.length} digests for container ${u.container.name}: ${list.map((d) => d.slice(0, 19) + '…').join(', ')} (rollout in progress or stuck)`,
      fix: `kubectl rollout status ${u.pod.workload.kind.toLowerCase()}/${u.pod.workload.name} -n ${u.pod.namespace}`,
      pods: pods.sort(),
    })
  }
  const findings = [...rows.values(), ...skews].map((f) => ({...f, pods: [...f.pods].sort()}))
  findings.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      a.namespace.localeCompare(b.namespace) ||
      a.workload.kind.localeCompare(b.workload.kind) ||
      a.workload.name.localeCompare(b.workload.name) ||
      a.container.localeCompare(b.container) ||
      KIND_RANK[a.kind] - KIND_RANK[b.kind] ||
      (a.digest ?? '').localeCompare(b.digest ?? ''),
  )
  const uncheckedList = [...unchecked.values()].map((u) => ({...u, pods: [...u.pods].sort()}))
  const severities = new Set(findings.map((f) => f.severity))
  const verdict: ScanVerdict = severities.has('deny')
    ? 'DENY'
    : uncheckedList.length > 0
      ? 'UNCHECKED'
      : severities.has('dry-run')
        ? 'DRYRUN_DENY'
        : findings.some((f) => f.kind === 'break-glass')
          ? 'ALLOW_BREAKGLASS'
          : 'ALLOW'
  return {
    verdict,
    pods: input.pods.length,
    workloads: new Set(input.pods.map((p) => `${p.namespace}/${p.workload.kind}/${p.workload.name}`)).size,
    digests: new Set(running.map((u) => u.digest)).size,
    findings,
    unchecked: uncheckedList,
  }
}

/** Exit status: a denial stands; then "could not check" (never read as clean); then dry-run denials. */
export function exitForScan(s: Pick<ScanSummary, 'verdict'>): 0 | 4 | 5 | 6 {
  return s.verdict === 'DENY' ? 5 : s.verdict === 'UNCHECKED' ? 4 : s.verdict === 'DRYRUN_DENY' ? 6 : 0
}

export interface OwnerObject {
  kind: string
  namespace: string
  name: string
  owner?: WorkloadRef
}

/**
 * The top owner of a Pod: its controller, followed up one level for ReplicaSets (→ Deployment) and
 * Jobs (→ CronJob) through the listed owner objects. A ReplicaSet no longer listed stays the owner.
 */
export function topOwner(namespace: string, owner: WorkloadRef | undefined, podName: string, owners: ReadonlyMap<string, OwnerObject>): WorkloadRef {
  if (owner === undefined) return {kind: 'Pod', name: podName}
  if (owner.kind === 'ReplicaSet' || owner.kind === 'Job') {
    const parent = owners.get(ownerKey(owner.kind, namespace, owner.name))?.owner
    if (parent) return parent
  }
  return owner
}

export function ownerKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`
}

/** The ClusterRole `scan` needs: read-only (get, list; watch on Pods for --watch) on Pods and the controllers that own them. */
export function scanClusterRole(name = 'safe-deploy-scan'): string {
  return [
    '# safe-deploy scan is read-only: it only gets and lists these resources (and watches Pods with --watch).',
    'apiVersion: rbac.authorization.k8s.io/v1',
    'kind: ClusterRole',
    'metadata:',
    `  name: ${name}`,
    'rules:',
    '  - apiGroups: [""]',
    '    resources: [pods]',
    '    verbs: [get, list, watch]',
    '  - apiGroups: [apps]',
    '    resources: [replicasets, deployments, statefulsets, daemonsets]',
    '    verbs: [get, list]',
    '  - apiGroups: [batch]',
    '    resources: [jobs, cronjobs]',
    '    verbs: [get, list]',
    '',
  ].join('\n')
}

/** A Pod as listed, before its top owner is known: its controller (ownerReferences[controller]) only. */
export interface ListedPod extends Omit<RunningPod, 'workload'> {
  controller?: WorkloadRef
}

/** The Pods as the scan sees them: each with its top owner, through the listed ReplicaSets and Jobs. */
export function withTopOwners(pods: readonly ListedPod[], owners: readonly OwnerObject[]): RunningPod[] {
  const index = new Map(owners.map((o) => [ownerKey(o.kind, o.namespace, o.name), o]))
  return pods.map(({controller, ...p}) => ({...p, workload: topOwner(p.namespace, controller, p.name, index)}))
}

function repositoryOf(image: string): string | undefined {
  return specName(image)?.name
}

/** A lock file's entries (`pin --lock-output`): the digest each reference as written was pinned to. */
export function appliedFromLock(lock: {images: ReadonlyArray<{image: string; digest: string}>}, source: string): AppliedDigest[] {
  return lock.images.flatMap((e) => {
    const repository = repositoryOf(e.image)
    return repository === undefined ? [] : [{source, image: e.image, repository, digest: e.digest}]
  })
}

/** The images of `applied` audit records, oldest first, each bound to the workload it was applied with. */
export function appliedFromAudit(
  records: ReadonlyArray<{outcome?: unknown; time?: unknown; images?: ReadonlyArray<{image: string; digest?: string; workload?: string}>}>,
  source: string,
): AppliedDigest[] {
  const applied = records.filter((r) => r.outcome === 'applied')
  return applied.flatMap((r) =>
    (r.images ?? []).flatMap((i) => {
      const repository = repositoryOf(i.image)
      const slash = i.workload?.indexOf('/') ?? -1
      if (repository === undefined || i.digest === undefined || i.workload === undefined || slash < 0) return []
      const workload = {kind: i.workload.slice(0, slash), name: i.workload.slice(slash + 1)}
      return [{source: `${source}, ${typeof r.time === 'string' ? r.time : 'applied'}`, image: i.image, repository, digest: i.digest, workload}]
    }),
  )
}

/**
 * The Pods a platform policy evaluates in a scan: one per workload (its namespace, service account and running
 * containers), each running digest once; the spec's tag as written is the classic policy's concern (the `tag` row).
 * planIndex points into `images`, as withPlatformPolicy expects.
 */
export function scanPlatformPods(images: readonly PlanImage[]): PlatformPods {
  const running = images.flatMap((img, i) => (img.digest === undefined ? [] : [i]))
  const pods = platformPods(running.map((i) => images[i] as PlanImage))
  return {pods: pods.pods, planIndex: pods.planIndex.map((idx) => idx.map((k) => running[k] as number))}
}

/** An enforced platform policy's ERROR images as "could not check" rows, keyed by the plan image's `evaluationKey`. */
export function platformCouldNotCheck(images: readonly PlanImage[], pods: PlatformPods, report: PlatformPolicyReport | undefined): Map<string, string> {
  const out = new Map<string, string>()
  if (report === undefined || report.mode !== 'enforce') return out
  report.pods.forEach((pod, p) =>
    pod.images.forEach((img, i) => {
      const plan = images[pods.planIndex[p]?.[i] ?? -1]
      if (plan === undefined || img.verdict !== 'ERROR') return
      const why = img.checks.filter((c) => c.verdict === 'ERROR').map((c) => c.explanation)
      out.set(evaluationKey(plan), `the platform policy ${report.source} could not check ${img.image}: ${why.join(' ') || 'ERROR'}`)
    }),
  )
  return out
}
