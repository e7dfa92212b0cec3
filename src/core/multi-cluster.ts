/**
 * One plan across many clusters (docs/architecture.md#many-clusters): the pure decisions of a
 * multi-cluster apply. The app layer (src/app/multi-apply.ts) gathers one pre-flight per cluster,
 * asks decidePlan whether anything may be sent at all, splits the clusters into waves, and asks
 * afterWave whether the next wave may start. Nothing here does I/O.
 *
 * The safety argument: the plan is all or nothing before anything is sent (a denial or a "could
 * not check" in any cluster stops every cluster), and once sending starts, the first wave with a
 * failure is the last one attempted.
 */
import type {ErrorCode} from './errors.js'
import type {Verdict} from './policy/evaluate.js'
import {SafeDeployError} from './errors.js'

/** What the pre-flight (and the deploy decision before confirmation) said for one cluster. */
export type ClusterPlanEntry =
  /** The pre-flight ran: its verdict, and whether the deploy decision stopped there (denied, enforcement required but off or unknown). */
  | {cluster: string; verdict: Verdict; stop?: {detail: string; error?: {code: ErrorCode; message: string; hint?: string}}}
  /** The pre-flight could not run to a verdict (could not check, invalid trust material, a refused input). */
  | {cluster: string; error: {code: ErrorCode; message: string; hint?: string}}

export type PlanDecision =
  | {go: true}
  | {
      go: false
      /** The clusters that stopped the plan, in the given order. */
      blockers: string[]
      /** The audit detail for each cluster (its own reason, or the cluster that stopped it). */
      details: Map<string, string>
      /** Thrown after every cluster is recorded; absent for a plain denial (the command exits by its verdict, 5). */
      error?: {code: ErrorCode; message: string; hint?: string}
    }

/**
 * Whether the plan may go on to the confirmation: only when every cluster's pre-flight reached a
 * verdict and no deploy decision stopped. A denial anywhere makes the whole plan "blocked" (exit
 * 5, as for one cluster: a denial is a definite answer that retrying does not change); otherwise
 * the first cluster that could not be checked ends it with its own error (exit 4, 7, …).
 */
export function decidePlan(entries: readonly ClusterPlanEntry[]): PlanDecision {
  const blocking = entries.filter((e) => 'error' in e || e.stop !== undefined)
  if (blocking.length === 0) return {go: true}
  const blockers = blocking.map((e) => e.cluster)
  const details = new Map<string, string>()
  for (const e of entries) {
    if ('error' in e) details.set(e.cluster, `not deployed: ${e.error.code}: ${e.error.message}`)
    else if (e.stop) details.set(e.cluster, e.stop.detail)
    else details.set(e.cluster, `not deployed: the plan is stopped by ${blockers.join(', ')}; nothing applied to any cluster`)
  }
  const denied = entries.some((e) => 'verdict' in e && e.verdict === 'DENY' && e.stop !== undefined && e.stop.error === undefined)
  if (denied) return {go: false, blockers, details}
  const first = blocking[0] as ClusterPlanEntry
  const error = 'error' in first ? first.error : (first.stop?.error ?? {code: 'INTERNAL' as const, message: 'multi-cluster plan: a stop without a reason'})
  return {
    go: false,
    blockers,
    details,
    error: {...error, message: `cluster ${first.cluster}: ${error.message}; nothing was applied to any cluster`},
  }
}

/** The clusters in the given order, `size` at a time. */
export function splitWaves<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new SafeDeployError('USAGE', `--wave-size expects a whole number of clusters, 1 or more, got ${size}`)
  const waves: T[][] = []
  for (let i = 0; i < items.length; i += size) waves.push(items.slice(i, i + size))
  return waves
}

export type ClusterStatus = 'applied' | 'dry-run' | 'failed' | 'not-attempted'

/** After a wave: the next one starts only when every cluster of this one succeeded. */
export function afterWave(statuses: readonly ClusterStatus[]): 'next' | 'stop' {
  return statuses.every((s) => s === 'applied' || s === 'dry-run') ? 'next' : 'stop'
}

/** The outcome of the whole run: failed when any cluster failed, else what every cluster did. */
export function multiOutcome(statuses: readonly ClusterStatus[], mode: 'none' | 'client' | 'server'): 'applied' | 'dry-run' | 'failed' {
  if (statuses.some((s) => s !== 'applied' && s !== 'dry-run')) return 'failed'
  return mode === 'none' ? 'applied' : 'dry-run'
}

/** The counts the confirmation and the summary line show. */
export interface PlanSummary {
  clusters: number
  waves: number
  allowed: number
  dryRunDenied: number
  denied: number
  unchecked: number
}

export function summarizePlan(entries: readonly ClusterPlanEntry[], waveSize: number): PlanSummary {
  const verdicts = entries.map((e) => ('error' in e ? 'UNCHECKED' : e.verdict))
  return {
    clusters: entries.length,
    waves: Math.ceil(entries.length / waveSize),
    allowed: verdicts.filter((v) => v === 'ALLOW' || v === 'ALLOW_BREAKGLASS').length,
    dryRunDenied: verdicts.filter((v) => v === 'DRYRUN_DENY').length,
    denied: verdicts.filter((v) => v === 'DENY').length,
    unchecked: verdicts.filter((v) => v === 'UNCHECKED').length,
  }
}

/**
 * The clusters of one apply, from the command line or the profile: every --context given (in
 * order) wins over the profile's `contexts:` list, which wins over its `context:`. A cluster named
 * twice would be deployed twice in one plan: refused.
 */
export function clusterContexts(flags: readonly string[] | undefined, profile: {context?: string; contexts?: string[]} | undefined): string[] {
  const chosen = flags !== undefined && flags.length > 0 ? [...flags] : (profile?.contexts ?? (profile?.context !== undefined ? [profile.context] : []))
  const seen = new Set<string>()
  for (const c of chosen) {
    if (c.trim() === '') throw new SafeDeployError('USAGE', '--context expects a kubeconfig context name, got an empty value')
    if (seen.has(c))
      throw new SafeDeployError('USAGE', `the context ${c} is named twice: each cluster is deployed once per plan`, {hint: 'give each --context once'})
    seen.add(c)
  }
  return chosen
}
