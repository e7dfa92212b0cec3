/**
 * Human text of a multi-cluster apply (docs/architecture.md#many-clusters): the plan before the
 * confirmation (every cluster, its wave and verdict) and the result after the waves (what was
 * applied, what failed, what was not attempted). Pure: data in, string out.
 */
import picocolors from 'picocolors'
import type {PlanSummary} from '../core/multi-cluster.js'
import {table} from './output.js'

const {createColors} = picocolors

export interface PlanClusterLine {
  context: string
  cluster?: string
  wave: number
  verdict: string
  reason?: string
}

export interface ClusterResultLine {
  context: string
  cluster?: string
  wave: number
  verdict: string
  status: string
  objects: ReadonlyArray<{kind: string; name: string; namespace?: string; action: string}>
  applier?: string
  error?: string
}

/** The plan: one row per cluster, then the counts. */
export function renderClusterPlan(clusters: readonly PlanClusterLine[], s: PlanSummary, opts: {color?: boolean} = {}): string {
  const c = createColors(opts.color === true)
  const rows = clusters.map((l) => [String(l.wave), l.context, l.cluster ?? '-', l.verdict, l.reason ?? ''])
  const counts = [
    `${s.allowed} allowed`,
    ...(s.dryRunDenied ? [`${s.dryRunDenied} dry-run denied`] : []),
    ...(s.denied ? [c.red(`${s.denied} denied`)] : []),
    ...(s.unchecked ? [c.red(`${s.unchecked} could not be checked`)] : []),
  ]
  return (
    `${c.bold('PLAN')}: ${s.clusters} clusters in ${s.waves} wave(s)\n` +
    table(['WAVE', 'CONTEXT', 'CLUSTER', 'VERDICT', 'REASON'], rows) +
    `${counts.join(', ')}${s.denied || s.unchecked ? ': nothing will be applied to any cluster' : ''}`
  )
}

/** After the waves: every cluster's status and objects, then one line saying what happened. */
export function renderMultiApplyResult(
  r: {outcome: string; auditId: string; clusters: readonly ClusterResultLine[]},
  opts: {color?: boolean; wide?: boolean} = {},
): string {
  const c = createColors(opts.color === true)
  if (r.outcome === 'blocked') return `${c.bold(c.red('BLOCKED'))}: nothing was applied to any cluster (see the plan above).`
  const lines: string[] = []
  for (const cl of r.clusters) {
    const status = cl.status === 'failed' ? c.red('FAILED') : cl.status === 'not-attempted' ? c.yellow('not attempted') : c.green(cl.status)
    lines.push(`${cl.context} (wave ${cl.wave}): ${status}${cl.applier ? ` via ${cl.applier}` : ''}${cl.error ? `: ${cl.error}` : ''}`)
    for (const o of cl.objects) lines.push(`  ${o.kind.toLowerCase()}/${o.name} ${o.action}${opts.wide ? `  (ns ${o.namespace ?? '-'})` : ''}`)
  }
  const count = (s: string) => r.clusters.filter((cl) => cl.status === s).length
  const done = count('applied') + count('dry-run')
  const summary =
    r.outcome === 'failed'
      ? `${c.bold(c.red('FAILED'))}: ${done} cluster(s) ${count('dry-run') ? 'dry-run' : 'applied'}, ${count('failed')} failed, ${count('not-attempted')} not attempted`
      : `${r.outcome === 'applied' ? c.green('applied') : c.yellow('dry run done')} to ${done} cluster(s)`
  return `${lines.join('\n')}\n${summary}; audit id ${r.auditId}`
}
