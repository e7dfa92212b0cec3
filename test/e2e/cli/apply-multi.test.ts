/**
 * `safe-deploy apply` to several clusters (README "Many clusters"): the built CLI, the real registry,
 * the real kubectl, and three Kubernetes API test doubles at once, one per context of one kubeconfig.
 * What is asserted is what reached each double, the exit code, the --json document (against
 * src/schemas/apply.schema.json) and the audit records of each cluster.
 */
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse as parseYaml, stringify as stringifyYaml} from 'yaml'
import type {TestRegistry} from '../../support/registry.js'
import {runCli, type CliResult} from '../../support/cli.js'
import {schemaErrors} from '../../support/schemas.js'
import {deployment, startTrustSetup} from '../../support/fixtures.js'
import {requireAttestationPolicy} from '../../support/trust.js'
import {startKubeApiServer, type KubeApiServer} from '../../support/kube-apiserver.js'
import {startMetadataTrap, type MetadataTrap} from '../../support/metadata-trap.js'
import {startContainerServer, type ContainerState, type GrpcServerHandle} from '../../support/gcp/grpc-servers.js'

/** Three regional clusters of one project, named as `gcloud container clusters get-credentials` names them. */
const CONTEXTS = ['gke_test-proj_us-east1_a', 'gke_test-proj_us-central1_b', 'gke_test-proj_europe-west1_c'] as const

let reg: TestRegistry
let doubles: KubeApiServer[]
let metadata: MetadataTrap
/** The GKE API double: each cluster's enforcement is read there (every cluster enforces). */
let container: GrpcServerHandle<ContainerState>
let dir: string
let attestors: string
let atts: string
let policy: string
let denyInC: string
let kubeconfig: string
let appDigest: string

beforeAll(async () => {
  metadata = await startMetadataTrap()
  const trust = await startTrustSetup({prefix: 'sd-apply-multi-'})
  ;({reg, dir, attestors, atts, policy} = trust)
  doubles = await Promise.all(CONTEXTS.map(() => startKubeApiServer()))
  container = await startContainerServer()
  for (const c of CONTEXTS) {
    const [, project, location, name] = c.split('_')
    container.state.clusters.set(`projects/${project}/locations/${location}/clusters/${name}`, {
      binaryAuthorization: {evaluationMode: 'PROJECT_SINGLETON_POLICY_ENFORCE'},
    })
  }
  appDigest = (await reg.pushImage('team/app', '1.4')).digest
  await trust.attestOk(`${reg.host}/team/app:1.4`)
  // The attested image is allowed by the default rule everywhere, except in cluster C, whose own rule denies every image.
  denyInC = join(dir, 'policy-deny-c.yaml')
  writeFileSync(
    denyInC,
    requireAttestationPolicy(
      [trust.ci.name],
      'ENFORCED_BLOCK_AND_AUDIT_LOG',
      'clusterAdmissionRules:\n  europe-west1.c:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n',
    ),
  )
  // One kubeconfig, one context per double.
  const parts = CONTEXTS.map((context, i) =>
    parseYaml(readFileSync((doubles[i] as KubeApiServer).writeKubeconfig(join(dir, 'kube'), {context, namespace: 'prod'}), 'utf8')),
  )
  kubeconfig = join(dir, 'kube', 'kubeconfig-all.yaml')
  writeFileSync(
    kubeconfig,
    stringifyYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: parts.flatMap((p) => p.clusters),
      users: parts.flatMap((p) => p.users),
      contexts: parts.flatMap((p) => p.contexts),
      'current-context': CONTEXTS[0],
    }),
  )
}, 90_000)

afterAll(async () => {
  await reg?.stop()
  await Promise.all((doubles ?? []).map((d) => d.stop()))
  await container?.stop()
  await metadata?.stop()
})

beforeEach(() => {
  for (const d of doubles) d.clearRequests()
})

afterEach(() => {
  expect(metadata.hits).toEqual([])
})

let n = 0
async function applyAll(name: string, args: string[], o: {policy?: string; contexts?: readonly string[]} = {}): Promise<CliResult & {records: () => any[]}> {
  const file = join(dir, `${name}-${++n}.yaml`)
  writeFileSync(file, deployment(name, `${reg.host}/team/app:1.4`, {namespace: 'prod', serviceAccountName: 'deployer', container: 'app'}))
  const log = join(dir, `audit-${n}.jsonl`)
  const r = await runCli(
    [
      'apply',
      '-f',
      file,
      '--kubeconfig',
      kubeconfig,
      ...(o.contexts ?? CONTEXTS).flatMap((c) => ['--context', c]),
      '--policy',
      o.policy ?? policy,
      '--attestors',
      attestors,
      '--attestations',
      atts,
      '--insecure-registry',
      reg.host,
      '--audit-log',
      log,
      '--applier',
      'kubectl',
      '--container-endpoint',
      container.endpoint,
      '--api-insecure',
      '--require-enforcement',
      '--yes',
      ...args,
    ],
    {env: metadata.env(dir)},
  )
  return {
    ...r,
    records: () =>
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
  }
}

/** Each context's audit outcomes, in the order written. */
const outcomesByContext = (records: any[]): Record<string, string[]> =>
  Object.fromEntries(CONTEXTS.map((c) => [c, records.filter((r) => r.target.context === c).map((r) => r.outcome)]))

describe('safe-deploy apply --context A --context B --context C', () => {
  it('all allow: every cluster gets the pinned Deployment, wave by wave; an audit trail per cluster under one deploy id', async () => {
    const r = await applyAll('everywhere', [])
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    for (const [i, d] of doubles.entries()) {
      expect(d.writes().map((w) => `${w.method} ${w.path}`)).toEqual(['POST /apis/apps/v1/namespaces/prod/deployments'])
      expect((d.objects.get('deployments/prod/everywhere') as any).spec.template.spec.containers[0].image).toBe(`${reg.host}/team/app:1.4@${appDigest}`)
      expect(r.stderr).toContain(`${CONTEXTS[i]} (wave ${i + 1}): applied via kubectl`)
    }
    expect(r.stderr).toMatch(/PLAN: 3 clusters in 3 wave\(s\)/)
    expect(r.stderr).toMatch(/applied to 3 cluster\(s\)/)
    const recs = r.records()
    expect(outcomesByContext(recs)).toEqual(Object.fromEntries(CONTEXTS.map((c) => [c, ['started', 'applied']])))
    expect(new Set(recs.map((x) => x.id)).size).toBe(1)
    expect(recs.find((x) => x.target.context === CONTEXTS[2] && x.outcome === 'applied')).toMatchObject({
      verdict: 'ALLOW',
      target: expect.objectContaining({cluster: 'europe-west1.c', platform: 'gke'}),
      images: [expect.objectContaining({digest: appDigest, verdict: 'ALLOW'})],
    })
  })

  it('a cluster rule that denies only in cluster C: exit 5, not one write to any double, every cluster recorded blocked', async () => {
    const r = await applyAll('denied-in-c', ['--json'], {policy: denyInC})
    expect(r.code).toBe(5)
    for (const d of doubles) expect(d.writes()).toEqual([])
    const doc = JSON.parse(r.stdout)
    expect(schemaErrors('apply', doc)).toEqual([])
    expect(doc.outcome).toBe('blocked')
    expect(doc.clusters.map((c: any) => [c.context, c.verdict, c.status])).toEqual([
      [CONTEXTS[0], 'ALLOW', 'blocked'],
      [CONTEXTS[1], 'ALLOW', 'blocked'],
      [CONTEXTS[2], 'DENY', 'blocked'],
    ])
    expect(doc.clusters[2].preflight.images[0].rule).toMatchObject({kind: 'cluster', key: 'europe-west1.c'})
    expect(outcomesByContext(r.records())).toEqual(Object.fromEntries(CONTEXTS.map((c) => [c, ['blocked']])))
  })

  it('writes fail in wave 2: exit 8, wave 1 applied, wave 3 untouched (not one request), all three reported', async () => {
    ;(doubles[1] as KubeApiServer).failNext({
      status: 403,
      method: 'POST',
      reason: 'Forbidden',
      message: 'deployments.apps is forbidden: denied by the test',
      times: 5,
    })
    const r = await applyAll('wave-two-fails', ['--json'])
    expect(r.code).toBe(8)
    expect((doubles[0] as KubeApiServer).objects.has('deployments/prod/wave-two-fails')).toBe(true)
    expect((doubles[1] as KubeApiServer).objects.has('deployments/prod/wave-two-fails')).toBe(false)
    expect((doubles[2] as KubeApiServer).requests).toEqual([])
    const doc = JSON.parse(r.stdout)
    expect(schemaErrors('apply', doc)).toEqual([])
    expect(doc).toMatchObject({outcome: 'failed', waveSize: 1, waves: 3})
    expect(doc.clusters.map((c: any) => [c.context, c.wave, c.status])).toEqual([
      [CONTEXTS[0], 1, 'applied'],
      [CONTEXTS[1], 2, 'failed'],
      [CONTEXTS[2], 3, 'not-attempted'],
    ])
    expect(doc.clusters[1].error).toMatch(/forbidden/)
    expect(outcomesByContext(r.records())).toEqual({
      [CONTEXTS[0]]: ['started', 'applied'],
      [CONTEXTS[1]]: ['started', 'failed'],
      [CONTEXTS[2]]: ['aborted'],
    })
  })

  it("a profile's contexts: list is the clusters, in its order; the built CLI deploys to each", async () => {
    const config = join(dir, 'multi.safe-deploy.yaml')
    writeFileSync(config, `profiles:\n  all-regions:\n    contexts: [${CONTEXTS[2]}, ${CONTEXTS[0]}]\n`)
    const r = await applyAll('from-profile', ['--config', config, '--profile', 'all-regions', '--wave-size', '2', '--json'], {contexts: []})
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(schemaErrors('apply', doc)).toEqual([])
    expect(doc.clusters.map((c: any) => [c.context, c.wave, c.status])).toEqual([
      [CONTEXTS[2], 1, 'applied'],
      [CONTEXTS[0], 1, 'applied'],
    ])
    expect((doubles[0] as KubeApiServer).objects.has('deployments/prod/from-profile')).toBe(true)
    expect((doubles[1] as KubeApiServer).requests).toEqual([])
    expect((doubles[2] as KubeApiServer).objects.has('deployments/prod/from-profile')).toBe(true)
  })

  it('--cluster with several contexts, or a context named twice: usage error (exit 2), not one request', async () => {
    const withCluster = await applyAll('with-cluster', ['--cluster', 'us-east1.a'])
    expect(withCluster.code).toBe(2)
    expect(withCluster.stderr).toMatch(/--cluster us-east1\.a names one cluster, but 3 contexts are given/)
    const twice = await applyAll('twice', [], {contexts: [CONTEXTS[0], CONTEXTS[1], CONTEXTS[0]]})
    expect(twice.code).toBe(2)
    expect(twice.stderr).toMatch(/named twice/)
    for (const d of doubles) expect(d.requests).toEqual([])
  })
})
