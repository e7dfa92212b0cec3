/** The multi-cluster apply use case with plain fakes: one pin and one gathering, the plan all or nothing, waves that stop at the first failure. */
import {describe, expect, it} from '@jest/globals'
import {applyToClusters, type ClusterTarget, type MultiApplyOptions, type MultiApplyPorts} from '../../../src/app/multi-apply.js'
import type {AuditRecord} from '../../../src/core/audit.js'
import type {Confirmation} from '../../../src/core/deploy.js'
import type {EnforcementReport} from '../../../src/app/deploy.js'
import {deploymentYaml, digest, preflightOptions, reader, registry, trust} from './fakes.js'

const files = {'a.yaml': deploymentYaml('api', 'gcr.io/p/api:1.0')}
const tags = {'gcr.io/p/api:1.0': digest(1)}

/** Allows everywhere, except the cluster rule of europe-west1.c (when `denyC`). */
const clusterPolicy = (denyC: boolean): string =>
  'globalPolicyEvaluationMode: ENABLE\n' +
  'defaultAdmissionRule: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n' +
  (denyC ? 'clusterAdmissionRules:\n  europe-west1.c: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n' : '')

const cluster = (name: string, location: string): ClusterTarget => ({
  context: `gke_p_${location}_${name}`,
  target: {platform: 'gke', namespace: 'default', context: `gke_p_${location}_${name}`, cluster: `${location}.${name}`},
})
const A = cluster('a', 'us-east1')
const B = cluster('b', 'us-central1')
const C = cluster('c', 'europe-west1')
const D = cluster('d', 'asia-east1')

interface Fakes {
  ports: MultiApplyPorts
  records: AuditRecord[]
  sent: Map<string, number>
  asked: string[]
  reads: () => number
  policyReads: () => number
  confirms: string[]
  maxConcurrentChecks: () => number
  closed: () => boolean
}

async function fakes(o: {denyC?: boolean; failOn?: string[]; answer?: Confirmation; enforcement?: Record<string, EnforcementReport>} = {}): Promise<Fakes> {
  const records: AuditRecord[] = []
  const sent = new Map<string, number>()
  const confirms: string[] = []
  const t = await trust(clusterPolicy(o.denyC === true))
  let policyReads = 0
  const getPolicy = t.policy.getPolicy
  t.policy = {getPolicy: () => (policyReads++, getPolicy())}
  const reg = registry(tags)
  const rd = reader(files)
  let running = 0
  let max = 0
  const ports: MultiApplyPorts = {
    preflight: {reader: rd, resolver: reg, openTrust: async () => t},
    audit: {append: async (r) => void records.push(r)},
    auditId: 'deploy-1',
    confirm: async (q) => (confirms.push(q), o.answer ?? {answer: 'granted'}),
    say: () => undefined,
    cluster: (context) => ({
      enforcement: async () => {
        running++
        max = Math.max(max, running)
        await new Promise((r) => setTimeout(r, 5))
        running--
        return o.enforcement?.[context]
      },
      apply: async (applier, objects) => {
        if (o.failOn?.includes(context)) throw new Error(`${context}: the server refused the write (500)`)
        sent.set(context, (sent.get(context) ?? 0) + objects.length)
        return {applier: applier ?? 'kubectl', objects: objects.map((x) => ({kind: x.kind, name: x.name, action: 'created'}))}
      },
    }),
  }
  return {
    ports,
    records,
    sent,
    asked: reg.asked,
    reads: () => rd.reads,
    policyReads: () => policyReads,
    confirms,
    maxConcurrentChecks: () => max,
    closed: () => t.closed,
  }
}

const options = (clusters: ClusterTarget[], over: Partial<MultiApplyOptions> = {}): MultiApplyOptions => ({
  preflight: preflightOptions({target: {platform: 'gke', namespace: 'default'}}),
  clusters,
  parallel: 2,
  waveSize: 1,
  mode: 'none',
  requireEnforcement: false,
  extraArgs: [],
  audit: {actor: 'me@host', target: {platform: 'gke'}},
  ...over,
})

const outcomes = (f: Fakes) =>
  Object.fromEntries(
    [...new Set(f.records.map((r) => r.target.context as string))].map((c) => [c, f.records.filter((r) => r.target.context === c).map((r) => r.outcome)]),
  )

describe('multi-cluster apply', () => {
  it('all allow: every cluster applied in order; one pin, one read of the input and of the policy; one confirmation; records per cluster under one id', async () => {
    const f = await fakes()
    const r = await applyToClusters(options([A, B, C]), f.ports)
    expect(r.outcome).toBe('applied')
    expect(r.clusters.map((c) => [c.context, c.wave, c.status, c.verdict])).toEqual([
      [A.context, 1, 'applied', 'ALLOW'],
      [B.context, 2, 'applied', 'ALLOW'],
      [C.context, 3, 'applied', 'ALLOW'],
    ])
    expect([...f.sent.keys()]).toEqual([A.context, B.context, C.context])
    expect(f.asked).toEqual(['gcr.io/p/api:1.0'])
    expect(f.reads()).toBe(1)
    expect(f.policyReads()).toBe(1)
    expect(f.confirms).toHaveLength(1)
    expect(f.confirms[0]).toMatch(/to 3 clusters .* in 3 wave\(s\) of 1\?/)
    expect(outcomes(f)).toEqual({[A.context]: ['started', 'applied'], [B.context]: ['started', 'applied'], [C.context]: ['started', 'applied']})
    expect(new Set(f.records.map((x) => x.id))).toEqual(new Set(['deploy-1']))
    expect(f.records.find((x) => x.target.context === C.context)?.target.cluster).toBe('europe-west1.c')
    expect(f.closed()).toBe(true)
  })

  it('a cluster rule that denies only in cluster C: nothing sent anywhere, not even to the clusters before it; every cluster recorded blocked', async () => {
    const f = await fakes({denyC: true})
    const r = await applyToClusters(options([A, B, C]), f.ports)
    expect(r.outcome).toBe('blocked')
    expect(r.clusters.map((c) => [c.context, c.verdict, c.status])).toEqual([
      [A.context, 'ALLOW', 'blocked'],
      [B.context, 'ALLOW', 'blocked'],
      [C.context, 'DENY', 'blocked'],
    ])
    expect(f.sent.size).toBe(0)
    expect(f.confirms).toEqual([])
    expect(outcomes(f)).toEqual({[A.context]: ['blocked'], [B.context]: ['blocked'], [C.context]: ['blocked']})
    expect(f.records.find((x) => x.target.context === A.context)?.detail).toMatch(/stopped by gke_p_europe-west1_c/)
  })

  it('a failure in wave 2: wave 1 applied, wave 2 failed, wave 3 never sent (recorded as not attempted)', async () => {
    const f = await fakes({failOn: [B.context]})
    const r = await applyToClusters(options([A, B, C]), f.ports)
    expect(r.outcome).toBe('failed')
    expect(r.clusters.map((c) => [c.context, c.status])).toEqual([
      [A.context, 'applied'],
      [B.context, 'failed'],
      [C.context, 'not-attempted'],
    ])
    expect(r.clusters[1]?.error).toMatch(/refused the write/)
    expect([...f.sent.keys()]).toEqual([A.context])
    expect(outcomes(f)).toEqual({[A.context]: ['started', 'applied'], [B.context]: ['started', 'failed'], [C.context]: ['aborted']})
  })

  it('--wave-size 2: the whole failing wave is attempted, the next one is not', async () => {
    const f = await fakes({failOn: [A.context]})
    const r = await applyToClusters(options([A, B, C, D], {waveSize: 2}), f.ports)
    expect(r.clusters.map((c) => [c.wave, c.status])).toEqual([
      [1, 'failed'],
      [1, 'applied'],
      [2, 'not-attempted'],
      [2, 'not-attempted'],
    ])
    expect([...f.sent.keys()]).toEqual([B.context])
  })

  it('required enforcement that cannot be read in one cluster: could not check (exit 4 family), nothing sent anywhere', async () => {
    const f = await fakes({enforcement: {[B.context]: {unavailable: 'GKE API unreachable'}}})
    const ok = {mode: 'PROJECT_SINGLETON_POLICY_ENFORCE', enforced: true, cluster: 'x'}
    f.ports.cluster = ((inner) => (ctx: string) => ({...inner(ctx), enforcement: async () => (ctx === B.context ? {unavailable: 'GKE API unreachable'} : ok)}))(
      f.ports.cluster,
    )
    await expect(applyToClusters(options([A, B, C], {requireEnforcement: true}), f.ports)).rejects.toMatchObject({
      code: 'API_ERROR',
      message: expect.stringMatching(/cluster gke_p_us-central1_b: .*nothing was applied to any cluster/),
    })
    expect(f.sent.size).toBe(0)
    expect(outcomes(f)).toEqual({[A.context]: ['blocked'], [B.context]: ['blocked'], [C.context]: ['blocked']})
  })

  it('a declined confirmation: asked once, nothing sent, every cluster recorded aborted (exit 9)', async () => {
    const f = await fakes({answer: {answer: 'declined'}})
    await expect(applyToClusters(options([A, B]), f.ports)).rejects.toMatchObject({code: 'ABORTED'})
    expect(f.confirms).toHaveLength(1)
    expect(f.sent.size).toBe(0)
    expect(outcomes(f)).toEqual({[A.context]: ['aborted'], [B.context]: ['aborted']})
  })

  it('--dry-run=server: no confirmation, every cluster dry-run', async () => {
    const f = await fakes()
    const r = await applyToClusters(options([A, B], {mode: 'server'}), f.ports)
    expect(r.outcome).toBe('dry-run')
    expect(f.confirms).toEqual([])
    expect(r.clusters.map((c) => c.status)).toEqual(['dry-run', 'dry-run'])
  })

  it('--parallel bounds the per-cluster pre-flights running at once', async () => {
    const f = await fakes()
    await applyToClusters(options([A, B, C, D], {parallel: 2, mode: 'server'}), f.ports)
    expect(f.maxConcurrentChecks()).toBe(2)
    const g = await fakes()
    await applyToClusters(options([A, B, C, D], {parallel: 1, mode: 'server'}), g.ports)
    expect(g.maxConcurrentChecks()).toBe(1)
  })
})
