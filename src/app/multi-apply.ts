/**
 * `safe-deploy apply` to several clusters at once (docs/architecture.md#many-clusters): one pin and
 * one gathering of trust facts shared by every cluster, one pre-flight per cluster (rules can differ
 * per cluster, e.g. the classic policy's cluster admission rules), one confirmation of the whole
 * plan, then the clusters in waves. The plan is all or nothing before anything is sent (core
 * decidePlan); once sending starts, the first wave with a failure is the last one (core afterWave).
 * Each cluster has its own audit trail, all under the same deploy id.
 */
import {SafeDeployError} from '../core/errors.js'
import {afterWave, decidePlan, multiOutcome, splitWaves, summarizePlan, type ClusterPlanEntry, type ClusterStatus} from '../core/multi-cluster.js'
import {decideDeploy, type Confirmation, type DeployFacts} from '../core/deploy.js'
import {platformPolicyRefusal} from '../core/platform-policy/preflight.js'
import type {ManifestObject} from '../core/manifest/objects.js'
import type {PreflightResult, Target} from '../core/preflight.js'
import type {Verdict} from '../core/policy/evaluate.js'
import type {AttestationQuery, DigestResolver, InputReader, ResolveOutcome} from '../core/ports.js'
import {renderPreflightText} from '../render/preflight.js'
import {renderClusterPlan} from '../render/multi-cluster.js'
import {AuditTrail} from './audit-trail.js'
import {runDeployGate} from './deploy-gate.js'
import {
  checkApplyOptions,
  kubeDeployFacts,
  objectsToSend,
  type AppliedObjectSummary,
  type ApplyOptions,
  type ApplyPorts,
  type EnforcementReport,
  type KubeApplierKind,
} from './deploy.js'
import type {PinRun} from './manifests.js'
import {preflight, type PreflightPorts, type TrustSources} from './preflight.js'

/** One cluster of the plan: its kubeconfig context and its pre-flight target (whose cluster key picks cluster rules). */
export interface ClusterTarget {
  context: string
  target: Target
}

export interface MultiApplyOptions extends Omit<ApplyOptions, 'audit'> {
  /** In the order given: the order of the waves. */
  clusters: ClusterTarget[]
  /** How many per-cluster pre-flights run at once. */
  parallel: number
  /** How many clusters each wave sends to at once. */
  waveSize: number
  audit: {actor: string; target: Record<string, unknown>}
}

/** What differs per cluster: where its enforcement is read and where its objects go. */
export interface ClusterPorts {
  enforcement: ApplyPorts['enforcement']
  apply: ApplyPorts['apply']
}

export interface MultiApplyPorts extends Omit<ApplyPorts, 'enforcement' | 'apply'> {
  cluster(context: string): ClusterPorts
}

export interface ClusterResult {
  context: string
  cluster?: string
  /** 1-based wave the cluster belongs to. */
  wave: number
  verdict: Verdict | 'UNCHECKED'
  /** blocked: the plan stopped before anything was sent; not-attempted: an earlier wave failed. */
  status: ClusterStatus | 'blocked'
  objects: AppliedObjectSummary[]
  applier?: KubeApplierKind
  enforcement?: EnforcementReport
  /** Why it was blocked, could not be checked, or failed. */
  error?: string
  preflight?: PreflightResult
}

export interface MultiApplyResult {
  outcome: 'applied' | 'dry-run' | 'blocked' | 'failed'
  clusters: ClusterResult[]
  waveSize: number
  waves: number
  auditId: string
  warnings: string[]
}

interface Planned {
  c: ClusterTarget
  wave: number
  trail: AuditTrail
  entry: ClusterPlanEntry
  result?: PreflightResult
  pin?: PinRun
  enforcement?: EnforcementReport
  facts?: Omit<DeployFacts, 'confirmation' | 'applied'>
  warnings: string[]
  toSend: ManifestObject[]
}

export async function applyToClusters(o: MultiApplyOptions, ports: MultiApplyPorts): Promise<MultiApplyResult> {
  checkApplyOptions(o)
  if (o.clusters.length === 0) throw new SafeDeployError('INTERNAL', 'multi-cluster apply: no cluster')
  if (!Number.isInteger(o.parallel) || o.parallel < 1) throw new SafeDeployError('USAGE', `--parallel expects 1 or more, got ${o.parallel}`)
  const waves = splitWaves(o.clusters, o.waveSize)
  const breakGlass = o.breakGlass
  const shared = sharedPreflightPorts(ports.preflight)
  const planned: Planned[] = waves.flatMap((wave, w) =>
    wave.map((c) => ({
      c,
      wave: w + 1,
      trail: new AuditTrail(ports.audit, ports.auditId, {
        command: 'apply',
        actor: o.audit.actor,
        mode: o.mode,
        breakGlass: breakGlass !== undefined,
        ...(breakGlass !== undefined ? {justification: breakGlass} : {}),
        target: {...o.audit.target, context: c.context, ...(c.target.cluster ? {cluster: c.target.cluster} : {})},
      }),
      entry: {cluster: c.context, error: {code: 'INTERNAL', message: 'not pre-flighted'}},
      warnings: [],
      toSend: [],
    })),
  )

  // Pre-flights: the first alone (it pins and gathers what every cluster shares, with the progress
  // shown), then the others, `parallel` at a time, from the shared caches.
  const checkOne = async (p: Planned, first: boolean): Promise<void> => {
    const clusterPorts = ports.cluster(p.c.context)
    try {
      const {result, pin} = await preflight({...o.preflight, target: p.c.target}, {...shared.ports, progress: first ? ports.preflight.progress : undefined})
      if (!pin) throw new SafeDeployError('USAGE', 'apply needs manifests (-f/-k); use `safe-deploy run deploy` for a bare image on Cloud Run')
      p.result = result
      p.pin = pin
      p.trail.retarget({...o.audit.target, ...result.target, applier: o.applier ?? 'auto'})
      const unchecked = platformPolicyRefusal(result)
      if (unchecked) throw unchecked
      const enforcement = result.verdict === 'DENY' ? undefined : await clusterPorts.enforcement()
      if (enforcement) p.enforcement = enforcement
      const facts = kubeDeployFacts(o, result.verdict, enforcement)
      p.facts = facts
      const decision = decideDeploy(facts)
      p.warnings = decision.warnings
      const step = decision.step
      p.entry =
        step.next === 'stop'
          ? {cluster: p.c.context, verdict: result.verdict, stop: {detail: step.record.detail, ...(step.error ? {error: step.error} : {})}}
          : {cluster: p.c.context, verdict: result.verdict}
    } catch (err) {
      // A usage error is the command line's, the same for every cluster: no decision to record.
      if (!(err instanceof SafeDeployError) || err.code === 'USAGE' || err.code === 'INTERNAL') throw err
      p.entry = {cluster: p.c.context, error: {code: err.code, message: err.message, ...(err.hint === undefined ? {} : {hint: err.hint})}}
    }
  }
  try {
    await checkOne(planned[0] as Planned, true)
    await boundedEach(planned.slice(1), o.parallel, (p) => checkOne(p, false))
  } finally {
    await shared.close()
  }

  for (const p of planned) {
    if (p.result) ports.say(`── ${p.c.context}${p.c.target.cluster ? ` (cluster ${p.c.target.cluster})` : ''} ──\n${renderPreflightText(p.result, o.text)}`)
  }
  // One set of reports: the first cluster that stops the plan, else the first cluster.
  const reported = planned.find((p) => p.result && 'verdict' in p.entry && p.entry.stop) ?? planned.find((p) => p.result)
  if (reported?.result) await ports.report?.(reported.result)
  const entries = planned.map((p) => p.entry)
  ports.say(renderClusterPlan(planClusters(planned), summarizePlan(entries, o.waveSize), o.text))

  const decision = decidePlan(entries)
  const warnings = [...new Set(planned.flatMap((p) => p.warnings))]
  if (!decision.go) {
    for (const p of planned) await p.trail.record('blocked', p.result, decision.details.get(p.c.context))
    if (decision.error)
      throw new SafeDeployError(decision.error.code, decision.error.message, decision.error.hint === undefined ? {} : {hint: decision.error.hint})
    return {
      outcome: 'blocked',
      clusters: planned.map((p) => clusterResult(p, 'blocked', decision.details.get(p.c.context))),
      waveSize: o.waveSize,
      waves: waves.length,
      auditId: ports.auditId,
      warnings,
    }
  }
  const unexamined = planned[0]?.result?.unexamined?.length ?? 0
  if (unexamined > 0) {
    ports.say(`warning: UNEXAMINED IMAGES: --allow-unexamined-images: deploying ${unexamined} image-like value(s) that were neither pinned nor pre-flighted`)
  }
  for (const p of planned) for (const w of p.warnings) ports.say(`warning: ${p.c.context}: ${w}`)

  // What each cluster gets is prepared (and checked a second time) before anything is sent anywhere.
  for (const p of planned) {
    try {
      const prepared = objectsToSend(p.pin as PinRun, breakGlass)
      p.toSend = prepared.objects
      p.trail.sent = prepared.sent
    } catch (err) {
      for (const q of planned) await q.trail.record('blocked', q.result, `not deployed: ${p.c.context}: ${err instanceof Error ? err.message : String(err)}`)
      throw err
    }
  }

  // One confirmation for the whole plan (live deploys only, as for one cluster).
  let confirmation: Confirmation | undefined
  if (o.mode === 'none') {
    const files = planned[0]?.pin?.files.length ?? 0
    const images = planned[0]?.result?.images.length ?? 0
    const answer = await ports.confirm(
      `apply ${files} file(s) with ${images} image(s) to ${planned.length} clusters (${planned.map((p) => p.c.context).join(', ')}) in ${waves.length} wave(s) of ${o.waveSize}?`,
    )
    confirmation = answer
    if (answer.answer !== 'granted') {
      const steps = planned.map((p) => decideDeploy({...(p.facts as DeployFacts), confirmation: answer}).step)
      for (const [i, p] of planned.entries()) {
        const s = steps[i]
        await p.trail.record('aborted', p.result, s?.next === 'stop' ? s.record.detail : 'aborted: nothing was deployed')
      }
      const s = steps[0]
      if (s?.next === 'stop' && s.error) throw new SafeDeployError(s.error.code, s.error.message, s.error.hint === undefined ? {} : {hint: s.error.hint})
      throw new SafeDeployError('INTERNAL', 'multi-cluster apply: a declined confirmation did not stop')
    }
  }

  const status = new Map<string, {status: ClusterStatus; error?: string; applier?: KubeApplierKind; objects: AppliedObjectSummary[]}>()
  let stopped = false
  for (const w of waves.keys()) {
    const members = planned.filter((p) => p.wave === w + 1)
    if (stopped) {
      for (const p of members) {
        status.set(p.c.context, {status: 'not-attempted', objects: []})
        await p.trail.record('aborted', p.result, `not attempted: an earlier wave failed; nothing sent to ${p.c.context}`)
      }
      continue
    }
    await Promise.all(
      members.map(async (p) => {
        const send = ports.cluster(p.c.context)
        try {
          const gate = await runDeployGate(
            p.facts as DeployFacts,
            '',
            {
              record: (e) => p.trail.record(e.outcome, p.result, e.detail),
              // The plan was confirmed once, above.
              confirm: () => Promise.resolve(confirmation ?? {answer: 'granted'}),
              // The warnings were said with the plan.
              say: () => undefined,
            },
            {
              apply: async () => {
                const sent = await send.apply(o.applier as KubeApplierKind | undefined, p.toSend, {extraArgs: o.extraArgs, prune: o.prune})
                return {value: sent, detail: `${sent.objects.length} object(s) via ${sent.applier}`}
              },
            },
          )
          if (gate.outcome === 'blocked') throw new SafeDeployError('INTERNAL', `multi-cluster apply: ${p.c.context} blocked after the plan was decided`)
          status.set(p.c.context, {status: gate.outcome, applier: gate.value.applier, objects: gate.value.objects})
        } catch (err) {
          status.set(p.c.context, {status: 'failed', objects: [], error: err instanceof Error ? err.message : String(err)})
        }
      }),
    )
    const wavesStatus = members.map((p) => status.get(p.c.context)?.status ?? 'failed')
    if (afterWave(wavesStatus) === 'stop') stopped = true
  }
  const clusters = planned.map((p) => {
    const s = status.get(p.c.context) ?? {status: 'failed' as const, objects: [], error: 'no outcome'}
    return {...clusterResult(p, s.status, s.error), objects: s.objects, ...(s.applier ? {applier: s.applier} : {})}
  })
  return {
    outcome: multiOutcome(
      clusters.map((c) => c.status as ClusterStatus),
      o.mode,
    ),
    clusters,
    waveSize: o.waveSize,
    waves: waves.length,
    auditId: ports.auditId,
    warnings,
  }
}

function clusterResult(p: Planned, status: ClusterResult['status'], error: string | undefined): ClusterResult {
  return {
    context: p.c.context,
    ...(p.c.target.cluster ? {cluster: p.c.target.cluster} : {}),
    wave: p.wave,
    verdict: 'verdict' in p.entry ? p.entry.verdict : 'UNCHECKED',
    status,
    objects: [],
    ...(p.enforcement ? {enforcement: p.enforcement} : {}),
    ...(error !== undefined ? {error} : {}),
    ...(p.result ? {preflight: p.result} : {}),
  }
}

function planClusters(planned: readonly Planned[]) {
  return planned.map((p) => ({
    context: p.c.context,
    ...(p.c.target.cluster ? {cluster: p.c.target.cluster} : {}),
    wave: p.wave,
    verdict: 'verdict' in p.entry ? p.entry.verdict : ('UNCHECKED' as const),
    ...('error' in p.entry ? {reason: `${p.entry.error.code}: ${p.entry.error.message}`} : p.entry.stop ? {reason: p.entry.stop.detail} : {}),
  }))
}

/** Run `each` over the items, at most `limit` at a time; waits for every call before failing (as settleAll). */
export async function boundedEach<T>(items: readonly T[], limit: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const errors: unknown[] = []
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T
      try {
        await each(item)
      } catch (err) {
        errors.push(err)
      }
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  if (errors.length > 0) throw errors[0]
}

/**
 * The pre-flight ports shared by every cluster: each input read once, each tag resolved once (one
 * pin, the same digests everywhere), the trust sources opened once, and each policy, attestor,
 * attestation list and signature lookup asked once, whatever the number of clusters. A failed
 * lookup is shared too: every cluster that needs it could not be checked.
 */
export function sharedPreflightPorts(base: PreflightPorts): {ports: PreflightPorts; close(): Promise<void>} {
  const memo = <A extends unknown[], R>(fn: (...a: A) => Promise<R>): ((...a: A) => Promise<R>) => {
    const cache = new Map<string, Promise<R>>()
    return (...a: A) => {
      const key = JSON.stringify(a)
      let hit = cache.get(key)
      if (hit === undefined) {
        hit = fn(...a)
        cache.set(key, hit)
      }
      return hit
    }
  }
  const reader: InputReader = {read: memo((inputs) => base.reader.read(inputs))}
  const resolver = base.resolver === undefined ? undefined : sharedResolver(base.resolver)
  let raw: Promise<TrustSources> | undefined
  let opened: Promise<TrustSources> | undefined
  const openTrust = (): Promise<TrustSources> =>
    (opened ??= (raw = base.openTrust()).then((t) => {
      const signatures = t.signatures
      return {
        ...t,
        policy: {getPolicy: memo(() => t.policy.getPolicy())},
        attestors: {getAttestor: memo((name: string) => t.attestors.getAttestor(name))},
        attestations: {listAttestations: memo((q: AttestationQuery) => t.attestations.listAttestations(q))},
        ...(signatures ? {signatures: {...signatures, source: {read: memo((r, o) => signatures.source.read(r, o))}}} : {}),
        // Closed once, after the last cluster's pre-flight (close below).
        close: () => Promise.resolve(),
      }
    }))
  return {
    ports: {
      reader,
      ...(resolver ? {resolver} : {}),
      openTrust,
      ...(base.addContext ? {addContext: base.addContext} : {}),
    },
    close: async () => {
      const t = await raw?.catch(() => undefined)
      await t?.close()
    },
  }
}

/** Each request resolved once: a later cluster's pre-flight gets the same outcome (the same digest) as the first. */
function sharedResolver(base: DigestResolver): DigestResolver {
  const cache = new Map<string, Promise<ResolveOutcome>>()
  return {
    resolveAll: async (requests) => {
      const keyOf = (r: (typeof requests)[number]) => JSON.stringify(r)
      const missing = requests.filter((r) => !cache.has(keyOf(r)))
      const unique = [...new Map(missing.map((r) => [keyOf(r), r])).values()]
      if (unique.length > 0) {
        const all = base.resolveAll(unique)
        unique.forEach((r, i) =>
          cache.set(
            keyOf(r),
            all.then((out) => out[i] as ResolveOutcome),
          ),
        )
      }
      return Promise.all(requests.map((r) => cache.get(keyOf(r)) as Promise<ResolveOutcome>))
    },
    ...(base.prefetch ? {prefetch: (sites) => base.prefetch?.(sites)} : {}),
  }
}
