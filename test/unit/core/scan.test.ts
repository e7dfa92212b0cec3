/**
 * The scan's pure core (src/core/scan.ts) over plain data: the running digest read from imageID,
 * each finding kind, one evaluation per distinct digest and rule context, one row per workload,
 * worst first, the top owner, and the exit status.
 */
import {describe, expect, it} from '@jest/globals'
import {
  appliedFromAudit,
  appliedFromLock,
  evaluationKey,
  exitForScan,
  platformCouldNotCheck,
  scanPlatformPods,
  runningDigest,
  scanFindings,
  scanPlanImages,
  withTopOwners,
  type RunningPod,
  type ScanInput,
} from '../../../src/core/scan.js'
import type {PlanImage, PlanImageResult, Verdict} from '../../../src/core/preflight.js'

const D1 = 'sha256:' + '1'.repeat(64)
const D2 = 'sha256:' + '2'.repeat(64)
const D3 = 'sha256:' + '3'.repeat(64)
const REPO = 'us-docker.pkg.dev/p/r/app'
const BREAK_GLASS = 'alpha.image-policy.k8s.io/break-glass'
const NOW = new Date('2026-11-28T12:00:00Z')

function pod(name: string, o: Partial<RunningPod> & {image?: string; imageID?: string} = {}): RunningPod {
  return {
    namespace: o.namespace ?? 'prod',
    name,
    annotations: o.annotations ?? {},
    serviceAccount: o.serviceAccount ?? 'default',
    workload: o.workload ?? {kind: 'Deployment', name: 'web'},
    ...(o.createdAt ? {createdAt: o.createdAt} : {}),
    containers: o.containers ?? [
      {name: 'app', kind: 'container', image: o.image ?? `${REPO}:1.4`, ...(o.imageID === '' ? {} : {imageID: o.imageID ?? `docker-pullable://${REPO}@${D1}`})},
    ],
  }
}

/** A pre-flight result as the evaluation returns it; `deny` names the digests the policy denies. */
function result(p: PlanImage, verdict: Verdict, extra: Partial<PlanImageResult> = {}): PlanImageResult {
  return {
    image: p.image,
    ...(p.digest ? {digest: p.digest} : {}),
    evaluatedImage: p.image,
    verdict,
    rule: {
      kind: 'default',
      evaluationMode: 'REQUIRE_ATTESTATION',
      enforcementMode: verdict === 'DRYRUN_DENY' ? 'DRYRUN_AUDIT_LOG_ONLY' : 'ENFORCED_BLOCK_AND_AUDIT_LOG',
    },
    // The policy's own outcome is the attestor's: only ALLOW satisfies it.
    attestors: [{attestor: 'projects/p/attestors/ci', satisfied: verdict === 'ALLOW', reason: verdict === 'ALLOW' ? 'verified' : 'no attestation'}],
    reasons: verdict === 'ALLOW' ? [] : [`Image ${p.image} denied by Binary Authorization default admission rule.`],
    notes: [],
    nextSteps: verdict === 'ALLOW' ? [] : [`safe-deploy attest --image ${p.image} --attestor projects/p/attestors/ci`],
    original: p.original,
    namespace: p.namespace,
    serviceAccount: p.serviceAccount,
    ...extra,
  }
}

/** Decide every plan image the core asks for (counting them): tags denied, digests in `denied` denied, the rest allowed. */
function evaluate(pods: RunningPod[], decide: (p: PlanImage) => PlanImageResult = defaultDecide()): {verdicts: ScanInput['verdicts']; plan: PlanImage[]} {
  const plan = scanPlanImages(pods)
  return {verdicts: new Map(plan.map((p) => [evaluationKey(p), decide(p)])), plan}
}

function defaultDecide(denied: string[] = []) {
  return (p: PlanImage): PlanImageResult => {
    const deny = p.digest === undefined || denied.includes(p.digest)
    if (deny && p.breakGlass) return result(p, 'ALLOW_BREAKGLASS', {wouldBe: 'DENY'})
    return result(p, deny ? 'DENY' : 'ALLOW')
  }
}

function scanOf(pods: RunningPod[], decide?: (p: PlanImage) => PlanImageResult, applied: ScanInput['applied'] = []) {
  return scanFindings({pods, verdicts: evaluate(pods, decide).verdicts, applied, now: NOW})
}

describe('runningDigest: the digest the kubelet resolved, never the tag', () => {
  it.each([
    [`docker-pullable://${REPO}@${D1}`, D1],
    [`${REPO}@${D1}`, D1],
    [`docker://${REPO}@${D2}`, D2],
    [`containerd://docker.io/library/nginx@${D3}`, D3],
  ])('%s → the repository digest', (id, digest) => expect(runningDigest(id)).toBe(digest))
  it.each([[undefined], [''], [`docker://${D1}`], [D1], [`${REPO}@sha256:short`]])('%s → none (an image ID or nothing is not a manifest digest)', (id) =>
    expect(runningDigest(id)).toBeUndefined(),
  )
})

describe('scanPlanImages: each distinct evaluation once', () => {
  it('evaluates a digest run by many Pods of one rule context once, the tag as written once', () => {
    const pods = Array.from({length: 50}, (_, i) => pod(`web-${i}`))
    const plan = scanPlanImages(pods)
    expect(plan.map((p) => p.image).sort()).toEqual([`${REPO}:1.4`, `${REPO}@${D1}`])
    expect(plan.find((p) => p.digest)).toMatchObject({namespace: 'prod', serviceAccount: 'default', breakGlass: false, container: 'app'})
  })
  it('evaluates again only where the rule context differs (namespace, service account, break-glass)', () => {
    const digest = `${REPO}@${D1}`
    const pods = [
      pod('a', {image: digest}),
      pod('b', {image: digest, namespace: 'dev'}),
      pod('c', {image: digest, serviceAccount: 'deployer'}),
      pod('d', {image: digest, annotations: {[BREAK_GLASS]: 'true'}}),
      pod('e', {image: digest}),
    ]
    expect(scanPlanImages(pods)).toHaveLength(4)
  })
  it('evaluates the spec repository at the running digest, not the spec tag', () => {
    const plan = scanPlanImages([pod('a', {image: `${REPO}:latest`, imageID: `docker-pullable://${REPO}@${D2}`})])
    expect(plan.find((p) => p.digest)?.image).toBe(`${REPO}@${D2}`)
  })
})

describe('scanFindings', () => {
  it('a clean workload pinned by digest and allowed: no findings, ALLOW, exit 0', () => {
    const s = scanOf([pod('web-1', {image: `${REPO}@${D1}`}), pod('web-2', {image: `${REPO}@${D1}`})])
    expect(s).toMatchObject({verdict: 'ALLOW', pods: 2, workloads: 1, digests: 1, findings: [], unchecked: []})
    expect(exitForScan(s)).toBe(0)
  })

  it('tag: the spec names a tag, with the running digest; one row for every Pod of the Deployment', () => {
    const s = scanOf([pod('web-1'), pod('web-2'), pod('web-3')])
    expect(s.findings).toHaveLength(1)
    expect(s.findings[0]).toMatchObject({
      kind: 'tag',
      severity: 'deny',
      namespace: 'prod',
      workload: {kind: 'Deployment', name: 'web'},
      container: 'app',
      image: `${REPO}:1.4`,
      digest: D1,
      verdict: 'ALLOW',
      pods: ['web-1', 'web-2', 'web-3'],
    })
    expect(s.findings[0]?.fix).toContain(`${REPO}@${D1}`)
    expect(exitForScan(s)).toBe(5)
  })

  it('tag allowed as written (an ALWAYS_ALLOW rule) is a warning: exit 0', () => {
    const s = scanOf([pod('web-1')], (p) => result(p, 'ALLOW'))
    expect(s.findings.map((f) => [f.kind, f.severity])).toEqual([['tag', 'warning']])
    expect(exitForScan(s)).toBe(0)
  })

  it('verdict: the running digest is denied, with the reasons and the attest fix', () => {
    const s = scanOf([pod('web-1', {image: `${REPO}@${D2}`, imageID: `${REPO}@${D2}`})], defaultDecide([D2]))
    expect(s.findings).toEqual([
      expect.objectContaining({
        kind: 'verdict',
        severity: 'deny',
        verdict: 'DENY',
        digest: D2,
        message: expect.stringContaining('denied by Binary Authorization'),
      }),
    ])
    expect(s.findings[0]?.fix).toMatch(/^safe-deploy attest /)
    expect(s.verdict).toBe('DENY')
  })

  it('verdict under a dry-run rule: dry-run severity, exit 6', () => {
    const s = scanOf([pod('web-1', {image: `${REPO}@${D1}`})], (p) => result(p, 'DRYRUN_DENY', {wouldBe: 'DENY'}))
    expect(s.findings.map((f) => [f.kind, f.severity])).toEqual([['verdict', 'dry-run']])
    expect(exitForScan(s)).toBe(6)
  })

  it('unsigned: the signature requirement is unmet, with the signing fix', () => {
    const s = scanOf([pod('web-1', {image: `${REPO}@${D1}`})], (p) =>
      result(p, 'DENY', {
        reasons: [`Image ${p.image} denied by the registry signature requirement: no signature verified`],
        nextSteps: [`safe-deploy attest --sigstore --image ${p.image} --private-key KEY.pem`],
        // The policy allowed it (its attestor is satisfied); only the signature requirement denies.
        attestors: [{attestor: 'projects/p/attestors/ci', satisfied: true, reason: 'verified'}],
        signatures: {
          satisfied: false,
          couldNotCheck: false,
          reason: 'no signature verified',
          signatures: [],
          attestations: [],
          notes: [],
          failedLookups: [],
        } as never,
      }),
    )
    // The policy allowed the digest: no verdict row, only the unmet signature requirement.
    expect(s.findings.map((f) => f.kind)).toEqual(['unsigned'])
    expect(s.findings[0]).toMatchObject({severity: 'deny', fix: expect.stringContaining('--sigstore')})
  })

  it('break-glass: Pods carrying the annotation, with age and what they would be without it', () => {
    const s = scanOf([pod('web-1', {image: `${REPO}@${D1}`, annotations: {[BREAK_GLASS]: 'true'}, createdAt: '2026-11-25T12:00:00Z'})], defaultDecide([D1]))
    expect(s.findings.map((f) => f.kind)).toEqual(['break-glass'])
    expect(s.findings[0]).toMatchObject({severity: 'deny', verdict: 'ALLOW_BREAKGLASS'})
    expect(s.findings[0]?.message).toContain('3d old')
    expect(s.findings[0]?.message).toContain('would be DENY')
  })

  it('break-glass on an allowed digest is a warning, and the overall verdict says break-glass', () => {
    const s = scanOf([pod('web-1', {image: `${REPO}@${D1}`, annotations: {[BREAK_GLASS]: 'true'}, createdAt: '2026-11-28T11:30:00Z'})])
    expect(s.findings).toEqual([expect.objectContaining({kind: 'break-glass', severity: 'warning', message: expect.stringContaining('30m old')})])
    expect(s.verdict).toBe('ALLOW_BREAKGLASS')
    expect(exitForScan(s)).toBe(0)
  })

  it('drift against a lock file: by the reference as written, else by repository', () => {
    const lock = appliedFromLock({images: [{image: `${REPO}:1.4`, digest: D2}]}, 'images.lock.yaml')
    const s = scanOf([pod('web-1')], (p) => result(p, 'ALLOW'), lock)
    const drift = s.findings.find((f) => f.kind === 'drift')
    expect(drift).toMatchObject({severity: 'warning', digest: D1})
    expect(drift?.message).toContain('images.lock.yaml')
    const byRepo = scanOf([pod('web-1', {image: `${REPO}:1.5`})], (p) => result(p, 'ALLOW'), lock)
    expect(byRepo.findings.some((f) => f.kind === 'drift')).toBe(true)
    const same = scanOf([pod('web-1')], (p) => result(p, 'ALLOW'), appliedFromLock({images: [{image: `${REPO}:1.4`, digest: D1}]}, 'l'))
    expect(same.findings.some((f) => f.kind === 'drift')).toBe(false)
  })

  it('drift against the audit log: the last applied record of the workload wins', () => {
    const records = [
      {outcome: 'applied', time: '2026-11-01T00:00:00Z', images: [{image: `${REPO}:1.4@${D2}`, digest: D2, workload: 'Deployment/web'}]},
      {outcome: 'blocked', time: '2026-11-02T00:00:00Z', images: [{image: `${REPO}:1.4@${D3}`, digest: D3, workload: 'Deployment/web'}]},
      {outcome: 'applied', time: '2026-11-03T00:00:00Z', images: [{image: `${REPO}:1.4@${D1}`, digest: D1, workload: 'Deployment/web'}]},
    ]
    const applied = appliedFromAudit(records, 'audit.jsonl')
    expect(applied).toHaveLength(2)
    const clean = scanOf([pod('web-1', {image: `${REPO}@${D1}`})], (p) => result(p, 'ALLOW'), applied)
    expect(clean.findings).toEqual([])
    const drifted = scanOf([pod('web-1', {image: `${REPO}@${D3}`, imageID: `${REPO}@${D3}`})], (p) => result(p, 'ALLOW'), applied)
    expect(drifted.findings).toEqual([expect.objectContaining({kind: 'drift', message: expect.stringContaining('2026-11-03')})])
  })

  it('skew: one workload running two digests for one container, one row listing both', () => {
    const s = scanOf(
      [pod('web-1', {image: `${REPO}@${D1}`}), pod('web-2', {image: `${REPO}@${D1}`}), pod('web-3', {image: `${REPO}@${D2}`, imageID: `${REPO}@${D2}`})],
      (p) => result(p, 'ALLOW'),
    )
    expect(s.findings).toEqual([expect.objectContaining({kind: 'skew', severity: 'warning', digests: [D1, D2], pods: ['web-1', 'web-2', 'web-3']})])
  })

  it('a Pod whose spec tag and running digest disagree with another: judged by the running digest', () => {
    const s = scanOf([pod('web-1', {imageID: `${REPO}@${D2}`})], defaultDecide([D2]))
    const v = s.findings.find((f) => f.kind === 'verdict')
    expect(v).toMatchObject({digest: D2, image: `${REPO}:1.4`})
  })

  it('init and ephemeral containers are scanned too', () => {
    const p = pod('web-1', {
      containers: [
        {name: 'init', kind: 'initContainer', image: `${REPO}@${D2}`, imageID: `${REPO}@${D2}`},
        {name: 'app', kind: 'container', image: `${REPO}@${D1}`, imageID: `${REPO}@${D1}`},
        {name: 'debug', kind: 'ephemeralContainer', image: `${REPO}@${D3}`, imageID: `${REPO}@${D3}`},
      ],
    })
    const s = scanOf([p], defaultDecide([D2, D3]))
    expect(s.findings.map((f) => f.container).sort()).toEqual(['debug', 'init'])
  })

  it('a container without a running digest is unchecked (exit 4), never clean', () => {
    const s = scanOf([pod('web-1', {imageID: ''}), pod('web-2', {imageID: `docker://${D1}`})], (p) => result(p, 'ALLOW'))
    expect(s.unchecked.map((u) => u.reason)).toEqual([expect.stringContaining('no running digest'), expect.stringContaining('names no repository digest')])
    expect(s.verdict).toBe('UNCHECKED')
    expect(exitForScan(s)).toBe(4)
  })

  it('a denial outranks "could not check" in the exit status', () => {
    const s = scanOf([pod('web-1', {imageID: ''}), pod('api-1', {workload: {kind: 'Deployment', name: 'api'}})])
    expect(exitForScan(s)).toBe(5)
  })

  it('sorted worst first, then by namespace and workload', () => {
    const s = scanOf(
      [
        pod('a-1', {workload: {kind: 'Deployment', name: 'a'}, image: `${REPO}@${D1}`, annotations: {[BREAK_GLASS]: 'true'}}),
        pod('z-1', {workload: {kind: 'Deployment', name: 'z'}, image: `${REPO}@${D2}`, imageID: `${REPO}@${D2}`}),
        pod('m-1', {workload: {kind: 'Deployment', name: 'm'}, image: `${REPO}@${D3}`, imageID: `${REPO}@${D3}`, namespace: 'dev'}),
      ],
      defaultDecide([D2, D3]),
    )
    expect(s.findings.map((f) => [f.severity, f.namespace, f.workload.name, f.kind])).toEqual([
      ['deny', 'dev', 'm', 'verdict'],
      ['deny', 'prod', 'z', 'verdict'],
      ['warning', 'prod', 'a', 'break-glass'],
    ])
  })

  it('a verdict the caller did not compute is an internal error, never a clean row', () => {
    expect(() => scanFindings({pods: [pod('web-1')], verdicts: new Map(), now: NOW})).toThrow(/no verdict was computed/)
  })
})

describe('withTopOwners', () => {
  it('ReplicaSet → Deployment, Job → CronJob, a bare Pod is its own workload, an unlisted ReplicaSet stays', () => {
    const base = {annotations: {}, serviceAccount: 'default', containers: []}
    const pods = withTopOwners(
      [
        {...base, namespace: 'prod', name: 'web-abc-1', controller: {kind: 'ReplicaSet', name: 'web-abc'}},
        {...base, namespace: 'prod', name: 'nightly-1-x', controller: {kind: 'Job', name: 'nightly-1'}},
        {...base, namespace: 'prod', name: 'db-0', controller: {kind: 'StatefulSet', name: 'db'}},
        {...base, namespace: 'prod', name: 'lonely'},
        {...base, namespace: 'prod', name: 'orphan-1', controller: {kind: 'ReplicaSet', name: 'gone'}},
      ],
      [
        {kind: 'ReplicaSet', namespace: 'prod', name: 'web-abc', owner: {kind: 'Deployment', name: 'web'}},
        {kind: 'Job', namespace: 'prod', name: 'nightly-1', owner: {kind: 'CronJob', name: 'nightly'}},
      ],
    )
    expect(pods.map((p) => `${p.workload.kind}/${p.workload.name}`)).toEqual([
      'Deployment/web',
      'CronJob/nightly',
      'StatefulSet/db',
      'Pod/lonely',
      'ReplicaSet/gone',
    ])
  })
})

describe('the platform policy in a scan', () => {
  it('one Pod per workload with its running digests; the tag as written is left to the classic policy', () => {
    const pods = [
      pod('web-1'),
      pod('web-2'),
      pod('api-1', {workload: {kind: 'Deployment', name: 'api'}, image: `${REPO}@${D2}`, imageID: `docker-pullable://${REPO}@${D2}`}),
    ]
    const plan = scanPlanImages(pods)
    const platform = scanPlatformPods(plan)
    expect(platform.pods.map((p) => [p.name, p.namespace, p.serviceAccount, p.images.map((i) => i.digest)])).toEqual([
      ['Deployment/web', 'prod', 'default', [D1]],
      ['Deployment/api', 'prod', 'default', [D2]],
    ])
    // Indexes into the whole plan (the written tag is in it, not in any Pod).
    expect(platform.planIndex.flat().map((i) => plan[i]?.digest)).toEqual([D1, D2])
  })

  it('NON_CONFORMANT folded into the verdict is a verdict row; ERROR (enforced) is "could not check", exit 4', () => {
    const pods = [
      pod('web-1', {image: `${REPO}@${D1}`}),
      pod('api-1', {workload: {kind: 'Deployment', name: 'api'}, image: `${REPO}@${D2}`, imageID: `docker-pullable://${REPO}@${D2}`}),
    ]
    const {verdicts, plan} = evaluate(pods, (p) =>
      p.digest === D1
        ? {...result(p, 'DENY'), attestors: [], reasons: [`platform policy pp.yaml: Image ${p.image} is NON_CONFORMANT (Pod Deployment/web, check set 0).`]}
        : {...result(p, 'ALLOW'), attestors: []},
    )
    const allow = {kind: 'default' as const, evaluationMode: 'ALWAYS_ALLOW' as const, enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG' as const}
    for (const v of verdicts.values()) Object.assign(v, {rule: allow})
    const platform = scanPlatformPods(plan)
    const image = (digest: string, verdict: 'NON_CONFORMANT' | 'ERROR') => ({
      image: `${REPO}@${digest}`,
      digest,
      container: 'app',
      init: false,
      verdict,
      exemption: null,
      checks: [{index: 0, displayName: 'fresh', kind: 'imageFreshnessCheck', verdict, explanation: verdict === 'ERROR' ? 'upload time unreadable' : 'too old'}],
      notes: [],
    })
    const report = {
      source: 'pp.yaml',
      mode: 'enforce' as const,
      verdict: 'ERROR' as const,
      notes: [],
      pods: [
        {
          name: 'Deployment/web',
          namespace: 'prod',
          serviceAccount: 'default',
          verdict: 'NON_CONFORMANT' as const,
          checkSetIndex: 0,
          checkSetDisplayName: null,
          images: [image(D1, 'NON_CONFORMANT')],
        },
        {
          name: 'Deployment/api',
          namespace: 'prod',
          serviceAccount: 'default',
          verdict: 'ERROR' as const,
          checkSetIndex: 0,
          checkSetDisplayName: null,
          images: [image(D2, 'ERROR')],
        },
      ],
    }
    const couldNotCheck = platformCouldNotCheck(plan, platform, report)
    expect([...couldNotCheck.values()]).toEqual([`the platform policy pp.yaml could not check ${REPO}@${D2}: upload time unreadable`])
    const s = scanFindings({pods, verdicts, couldNotCheck, now: NOW})
    expect(s.findings).toEqual([expect.objectContaining({kind: 'verdict', severity: 'deny', workload: {kind: 'Deployment', name: 'web'}, digest: D1})])
    expect(s.unchecked).toEqual([expect.objectContaining({workload: {kind: 'Deployment', name: 'api'}, reason: expect.stringContaining('could not check')})])
    expect(exitForScan(s)).toBe(5)
    expect(exitForScan(scanFindings({pods: [pods[1] as RunningPod], verdicts, couldNotCheck, now: NOW}))).toBe(4)
    // Monitor mode: reported in the notes only, nothing is "could not check".
    expect(platformCouldNotCheck(plan, platform, {...report, mode: 'monitor'}).size).toBe(0)
  })
})
