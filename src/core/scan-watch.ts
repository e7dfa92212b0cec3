/**
 * `safe-deploy scan --watch` (pure): the Pods as the watch has seen them so far, which plan images
 * still need an evaluation (each evaluation key once for the whole watch), and which findings have not
 * been printed yet. The evaluation itself and the findings are the one-shot scan's (src/core/scan.ts);
 * this only decides what is new.
 */
import {evaluationKey, NOT_PULLED, type Finding, type ListedPod, type ScanSummary, type Severity, type Unchecked} from './scan.js'
import type {PlanImage} from './preflight.js'

/**
 * One Pod event as data (the PodWatcher port's events). `listed`: a full list, the state to start
 * from (the first one, and again after the watch's resourceVersion expired: 410 Gone).
 */
export type PodEvent = {type: 'listed'; pods: ListedPod[]} | {type: 'added' | 'modified' | 'deleted'; pod: ListedPod}

function podKey(p: Pick<ListedPod, 'namespace' | 'name'>): string {
  return `${p.namespace}/${p.name}`
}

/** The Pods after one event: a list replaces them, an event adds, replaces or removes one Pod. */
export function applyPodEvent(pods: ReadonlyMap<string, ListedPod>, event: PodEvent): Map<string, ListedPod> {
  if (event.type === 'listed') return new Map(event.pods.map((p) => [podKey(p), p]))
  const next = new Map(pods)
  if (event.type === 'deleted') next.delete(podKey(event.pod))
  else next.set(podKey(event.pod), event.pod)
  return next
}

/** The plan images not evaluated yet: a digest already judged in the same rule context is never evaluated again. */
export function pendingPlanImages(images: readonly PlanImage[], evaluated: ReadonlySet<string>): PlanImage[] {
  const seen = new Set<string>()
  return images.filter((i) => {
    const key = evaluationKey(i)
    if (evaluated.has(key) || seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/**
 * What identifies a printed row across events: not its Pods (a new Pod of a reported workload is not
 * news) and not a break-glass row's message (its age grows while the Pod runs).
 */
export function findingKey(f: Finding): string {
  const message = f.kind === 'break-glass' ? '' : f.message
  return ['finding', f.kind, f.severity, f.namespace, f.workload.kind, f.workload.name, f.container, f.digest ?? '', (f.digests ?? []).join(','), message].join(
    '\u0000',
  )
}

export function uncheckedKey(u: Unchecked): string {
  return ['unchecked', u.namespace, u.workload.kind, u.workload.name, u.container, u.image, u.reason].join('\u0000')
}

export interface NewRows {
  findings: Finding[]
  /** Could not be checked; a container not pulled yet is not among them (its next event brings the digest). */
  unchecked: Unchecked[]
  /** The keys of the rows returned, to add to the printed set. */
  keys: string[]
}

/** The rows of a summary not printed before, in the summary's order (worst first). */
export function newRows(summary: Pick<ScanSummary, 'findings' | 'unchecked'>, printed: ReadonlySet<string>): NewRows {
  const keys: string[] = []
  const fresh = <T>(items: readonly T[], key: (x: T) => string): T[] =>
    items.filter((x) => {
      const k = key(x)
      if (printed.has(k) || keys.includes(k)) return false
      keys.push(k)
      return true
    })
  const findings = fresh(summary.findings, findingKey)
  const unchecked = fresh(
    summary.unchecked.filter((u) => u.reason !== NOT_PULLED),
    uncheckedKey,
  )
  return {findings, unchecked, keys}
}

/** The exit status of a watch: the worst row it printed, ranked as the one-shot scan ranks them (deny, could not check, dry-run). */
export function exitForWatch(seen: {severities: ReadonlySet<Severity>; unchecked: number}): 0 | 4 | 5 | 6 {
  return seen.severities.has('deny') ? 5 : seen.unchecked > 0 ? 4 : seen.severities.has('dry-run') ? 6 : 0
}
