/**
 * `safe-deploy scan` end to end: the built CLI as a child process, the real @kubernetes/client-node
 * against the Kubernetes API test double (Pods with ownerReferences and status imageIDs, ReplicaSets,
 * Jobs), the real registry and attestations signed by `safe-deploy attest`, local policy files.
 * What is asserted is the --json document (checked against src/schemas/scan.schema.json), the exit
 * status, and what reached the double: list calls only, paginated, and never anything but GET.
 */
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {BIN, isolatedEnv, runCli, type CliResult} from '../../support/cli.js'
import {schemaErrors} from '../../support/schemas.js'
import {deployment, startTrustSetup, type TrustSetup} from '../../support/fixtures.js'
import {testKey} from '../../support/sigstore.js'
import {objectKey, startKubeApiServer, type KubeApiServer, type KubeObject} from '../../support/kube-apiserver.js'

let trust: TrustSetup
let kube: KubeApiServer
let kubeconfig: string
let appDigest: string
let app15Digest: string
let badDigest: string
let host: string

const BREAK_GLASS = 'alpha.image-policy.k8s.io/break-glass'

interface PodSpec {
  namespace: string
  name: string
  image: string
  /** The digest the kubelet pulled (status imageID); undefined: not pulled yet. */
  running: string | undefined
  owner?: {kind: string; name: string}
  annotations?: Record<string, string>
  serviceAccount?: string
  labels?: Record<string, string>
}

function putPod(p: PodSpec): void {
  kube.objects.set(objectKey('pods', p.namespace, p.name), podObject(p))
}

function podObject(p: PodSpec): KubeObject {
  const repo = p.image.replace(/[:@].*$/, '').replace(/:[^/]*$/, '')
  const obj: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: p.namespace,
      uid: `uid-${p.namespace}-${p.name}`,
      resourceVersion: '1',
      creationTimestamp: '2026-11-27T00:00:00Z',
      ...(p.labels ? {labels: p.labels} : {}),
      ...(p.annotations ? {annotations: p.annotations} : {}),
      ...(p.owner ? {ownerReferences: [{apiVersion: 'apps/v1', kind: p.owner.kind, name: p.owner.name, uid: `uid-${p.owner.name}`, controller: true}]} : {}),
    },
    spec: {serviceAccountName: p.serviceAccount ?? 'default', containers: [{name: 'app', image: p.image}]},
    status: {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'app',
          image: p.image,
          imageID: p.running === undefined ? '' : `docker-pullable://${repo}@${p.running}`,
          ready: true,
          restartCount: 0,
        },
      ],
    },
  }
  return obj
}

function putOwner(resource: 'replicasets' | 'jobs', namespace: string, name: string, owner: {kind: string; name: string}): void {
  kube.objects.set(objectKey(resource, namespace, name), {
    apiVersion: resource === 'jobs' ? 'batch/v1' : 'apps/v1',
    kind: resource === 'jobs' ? 'Job' : 'ReplicaSet',
    metadata: {
      name,
      namespace,
      uid: `uid-${name}`,
      resourceVersion: '1',
      ownerReferences: [{apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: `uid-${owner.name}`, controller: true}],
    },
  })
}

beforeAll(async () => {
  trust = await startTrustSetup({prefix: 'sd-scan-'})
  host = trust.reg.host
  kube = await startKubeApiServer()
  appDigest = (await trust.reg.pushImage('team/app', '1.4')).digest
  app15Digest = (await trust.reg.pushImage('team/app', '1.5')).digest
  badDigest = (await trust.reg.pushImage('team/bad', '2.0')).digest
  await trust.attestOk(`${host}/team/app:1.4`)
  await trust.attestOk(`${host}/team/app:1.5`)
  kubeconfig = kube.writeKubeconfig(join(trust.dir, 'kube'), {context: 'test', namespace: 'clean'})

  // clean: a Deployment pinned by digest, attested.
  putOwner('replicasets', 'clean', 'web-5d8f', {kind: 'Deployment', name: 'web'})
  for (const i of [1, 2])
    putPod({
      namespace: 'clean',
      name: `web-5d8f-${i}`,
      image: `${host}/team/app@${appDigest}`,
      running: appDigest,
      owner: {kind: 'ReplicaSet', name: 'web-5d8f'},
    })
  // tags: a Deployment whose spec names a tag; the tag has moved since (drift against the lock pin wrote).
  putOwner('replicasets', 'tags', 'web-77c4', {kind: 'Deployment', name: 'web'})
  for (const i of [1, 2, 3])
    putPod({namespace: 'tags', name: `web-77c4-${i}`, image: `${host}/team/app:1.4`, running: app15Digest, owner: {kind: 'ReplicaSet', name: 'web-77c4'}})
  // denied: a digest nobody attested, run by a CronJob's Job.
  putOwner('jobs', 'denied', 'nightly-2911', {kind: 'CronJob', name: 'nightly'})
  putPod({namespace: 'denied', name: 'nightly-2911-x', image: `${host}/team/bad@${badDigest}`, running: badDigest, owner: {kind: 'Job', name: 'nightly-2911'}})
  // glass: the same digest admitted by break-glass.
  putPod({namespace: 'glass', name: 'hotfix', image: `${host}/team/bad@${badDigest}`, running: badDigest, annotations: {[BREAK_GLASS]: 'true'}})
  // skew: a rollout stuck halfway, two ReplicaSets of one Deployment on two digests.
  putOwner('replicasets', 'skew', 'api-old', {kind: 'Deployment', name: 'api'})
  putOwner('replicasets', 'skew', 'api-new', {kind: 'Deployment', name: 'api'})
  putPod({namespace: 'skew', name: 'api-old-1', image: `${host}/team/app@${appDigest}`, running: appDigest, owner: {kind: 'ReplicaSet', name: 'api-old'}})
  putPod({namespace: 'skew', name: 'api-new-1', image: `${host}/team/app@${app15Digest}`, running: app15Digest, owner: {kind: 'ReplicaSet', name: 'api-new'}})
  // many: more Pods than one list page.
  putOwner('replicasets', 'many', 'batch-1', {kind: 'Deployment', name: 'batch'})
  for (let i = 0; i < 7; i++)
    putPod({namespace: 'many', name: `batch-1-${i}`, image: `${host}/team/app@${appDigest}`, running: appDigest, owner: {kind: 'ReplicaSet', name: 'batch-1'}})
}, 120_000)

afterAll(async () => {
  await trust?.stop()
  await kube?.stop()
})

beforeEach(() => kube.clearRequests())

afterEach(() => {
  // Read-only: nothing but GET ever reached the API, and no Pod was read one by one.
  expect(kube.requests.filter((r) => r.method !== 'GET')).toEqual([])
  expect(kube.requests.filter((r) => /\/pods\/[^/]+$/.test(r.path))).toEqual([])
})

async function scan(args: string[], opts: {policy?: string} = {}): Promise<CliResult & {doc: any}> {
  const r = await runCli([
    'scan',
    '--kubeconfig',
    kubeconfig,
    '--policy',
    opts.policy ?? trust.policy,
    '--attestors',
    trust.attestors,
    '--attestations',
    trust.atts,
    '--insecure-registry',
    host,
    ...args,
  ])
  let doc: any
  if (args.includes('--json') && r.stdout.trim() !== '') {
    doc = JSON.parse(r.stdout)
    if (doc.kind === 'ScanResult') expect(schemaErrors('scan', doc)).toEqual([])
  }
  return {...r, doc}
}

describe('scan', () => {
  it('a clean namespace: exit 0, no findings, the Deployment (not the ReplicaSet) named as the workload', async () => {
    const r = await scan(['-n', 'clean', '--json'])
    expect(r.code).toBe(0)
    expect(r.doc).toMatchObject({apiVersion: 'safe-deploy.dev/v1', kind: 'ScanResult', verdict: 'ALLOW', pods: 2, workloads: 1, digests: 1, findings: []})
    // The ReplicaSets were listed once, not read per Pod.
    expect(kube.requests.filter((r) => r.path.endsWith('/replicasets')).length).toBe(1)
  })

  it('the namespace defaults to the context’s', async () => {
    const r = await scan(['--json'])
    expect(r.doc.scope).toEqual({namespace: 'clean', allNamespaces: false})
  })

  it('tag: the spec names a tag (GKE would deny it), one row for three Pods, with the running digest; exit 5', async () => {
    const r = await scan(['-n', 'tags', '--json'])
    expect(r.code).toBe(5)
    const tags = r.doc.findings.filter((f: any) => f.kind === 'tag')
    expect(tags).toEqual([
      expect.objectContaining({
        severity: 'deny',
        namespace: 'tags',
        workload: {kind: 'Deployment', name: 'web'},
        container: 'app',
        image: `${host}/team/app:1.4`,
        digest: app15Digest,
        verdict: 'ALLOW',
        pods: ['web-77c4-1', 'web-77c4-2', 'web-77c4-3'],
      }),
    ])
    expect(tags[0].fix).toContain(`${host}/team/app@${app15Digest}`)
  })

  it('verdict: a running digest no attestor signed is denied, with the attest fix; the CronJob is the workload; exit 5', async () => {
    const r = await scan(['-n', 'denied', '--json'])
    expect(r.code).toBe(5)
    expect(r.doc.findings).toEqual([
      expect.objectContaining({kind: 'verdict', severity: 'deny', verdict: 'DENY', workload: {kind: 'CronJob', name: 'nightly'}, digest: badDigest}),
    ])
    expect(r.doc.findings[0].fix).toMatch(/^safe-deploy attest /)
    // The text report says the fix per row.
    const text = await scan(['-n', 'denied'])
    expect(text.stderr).toContain('denied/CronJob/nightly container app: verdict')
    expect(text.stderr).toContain('fix: safe-deploy attest')
  })

  it('a dry-run rule: the same denial is exit 6', async () => {
    const r = await scan(['-n', 'denied', '--json'], {policy: trust.dryrunPolicy})
    expect(r.code).toBe(6)
    expect(r.doc.findings).toEqual([expect.objectContaining({kind: 'verdict', severity: 'dry-run', verdict: 'DRYRUN_DENY'})])
  })

  it('break-glass: the Pod carrying the annotation, with its age and what it would be without it', async () => {
    const r = await scan(['-n', 'glass', '--json'])
    expect(r.code).toBe(5)
    expect(r.doc.findings).toEqual([
      expect.objectContaining({
        kind: 'break-glass',
        workload: {kind: 'Pod', name: 'hotfix'},
        verdict: 'ALLOW_BREAKGLASS',
        message: expect.stringMatching(/\(\d+[mhd] old\).*would be DENY/),
      }),
    ])
  })

  it('drift: the tag has moved since `pin --lock-output` pinned it', async () => {
    const manifest = join(trust.dir, 'web.yaml')
    writeFileSync(manifest, deployment('web', `${host}/team/app:1.4`, {namespace: 'tags', container: 'app'}))
    const lock = join(trust.dir, 'images.lock.yaml')
    const pinned = await runCli(['pin', '-f', manifest, '--lock-output', lock, '--insecure-registry', host])
    expect(pinned.code).toBe(0)
    expect((parseYaml(readFileSync(lock, 'utf8')) as any).images[0].digest).toBe(appDigest)
    const r = await scan(['-n', 'tags', '--lock', lock, '--json'])
    expect(r.doc.findings.filter((f: any) => f.kind === 'drift')).toEqual([
      expect.objectContaining({severity: 'warning', workload: {kind: 'Deployment', name: 'web'}, digest: app15Digest, message: expect.stringContaining(lock)}),
    ])
  })

  it('skew: one Deployment running two digests (a rollout stuck halfway), one row; warnings only, exit 0', async () => {
    const r = await scan(['-n', 'skew', '--json'])
    expect(r.code).toBe(0)
    expect(r.doc.findings).toEqual([
      expect.objectContaining({
        kind: 'skew',
        severity: 'warning',
        workload: {kind: 'Deployment', name: 'api'},
        digests: [appDigest, app15Digest].sort(),
        pods: ['api-new-1', 'api-old-1'],
      }),
    ])
  })

  it('unsigned: --sigstore-key and no registry signature on the running digest (exit 5); signed with attest --sigstore, clean', async () => {
    const key = testKey('scan-ci.pub')
    const pub = join(trust.dir, 'scan-ci.pub')
    const priv = join(trust.dir, 'scan-ci.key')
    writeFileSync(pub, key.publicKeyPem)
    writeFileSync(priv, key.privateKeyPem)
    const before = await scan(['-n', 'clean', '--sigstore-key', pub, '--json'])
    expect(before.code).toBe(5)
    expect(before.doc.findings).toEqual([
      expect.objectContaining({kind: 'unsigned', severity: 'deny', verdict: 'DENY', workload: {kind: 'Deployment', name: 'web'}, digest: appDigest}),
    ])
    expect(before.doc.findings[0].fix).toContain('--sigstore')
    const signed = await runCli(['attest', '--sigstore', '--image', `${host}/team/app@${appDigest}`, '--private-key', priv, '--insecure-registry', host])
    expect(signed.code).toBe(0)
    kube.clearRequests()
    const after = await scan(['-n', 'clean', '--sigstore-key', pub, '--json'])
    expect(after.code).toBe(0)
    expect(after.doc.findings).toEqual([])
  })

  it('pagination: more Pods than one page, read with limit/continue across 3 pages', async () => {
    const r = await scan(['-n', 'many', '--page-size', '3', '--json'])
    expect(r.code).toBe(0)
    expect(r.doc).toMatchObject({pods: 7, digests: 1, findings: []})
    const lists = kube.requests.filter((q) => q.path === '/api/v1/namespaces/many/pods')
    expect(lists.map((q) => [q.query.limit, q.query.continue !== undefined])).toEqual([
      ['3', false],
      ['3', true],
      ['3', true],
    ])
  })

  it('-A: every namespace in one list, every finding kind, worst first; -o wide names the Pods', async () => {
    const r = await scan(['-A', '--json'])
    expect(r.code).toBe(5)
    expect(r.doc.scope).toEqual({allNamespaces: true})
    expect(new Set(r.doc.findings.map((f: any) => f.kind))).toEqual(new Set(['tag', 'verdict', 'break-glass', 'skew']))
    const ranks = r.doc.findings.map((f: any) => ['deny', 'unchecked', 'dry-run', 'warning'].indexOf(f.severity))
    expect(ranks).toEqual([...ranks].sort((a: number, b: number) => a - b))
    expect(kube.requests.filter((q) => q.path === '/api/v1/pods')).toHaveLength(1)
    const wide = await scan(['-A', '-o', 'wide'])
    expect(wide.stderr).toContain('pods: web-77c4-1, web-77c4-2, web-77c4-3')
  })

  it('reports: Markdown and JUnit with one row per finding', async () => {
    const md = join(trust.dir, 'scan.md')
    const junit = join(trust.dir, 'scan.xml')
    const r = await scan(['-n', 'denied', '--report-md', md, '--report-junit', junit])
    expect(r.code).toBe(5)
    expect(readFileSync(md, 'utf8')).toContain('| DENY | denied/CronJob/nightly | app | verdict |')
    expect(readFileSync(junit, 'utf8')).toContain('failures="1"')
  })

  it('an API that dies mid-list: exit 4, nothing claimed clean', async () => {
    kube.failNext({status: 500, path: '/namespaces/many/pods', withQuery: 'continue'})
    const r = await scan(['-n', 'many', '--page-size', '3', '--json'])
    expect(r.code).toBe(4)
    expect(r.doc).toMatchObject({kind: 'Error', error: {message: expect.stringContaining('after 1 page(s)')}})
  })

  it('a namespace RBAC denies: exit 4 with the role to grant, not skipped', async () => {
    kube.failNext({status: 403, path: '/namespaces/secret/pods', reason: 'Forbidden', message: 'pods is forbidden: User "ci" cannot list resource "pods"'})
    const r = await scan(['-n', 'secret'])
    expect(r.code).toBe(4)
    expect(r.stderr).toContain('Forbidden')
    expect(r.stderr).toContain('--print-rbac')
  })

  it('--print-rbac: the read-only ClusterRole, no request sent', async () => {
    const r = await runCli(['scan', '--print-rbac'])
    expect(r.code).toBe(0)
    const role = parseYaml(r.stdout) as any
    expect(role.kind).toBe('ClusterRole')
    expect(new Set(role.rules.flatMap((x: any) => x.verbs))).toEqual(new Set(['get', 'list', 'watch']))
    expect(role.rules.flatMap((x: any) => x.resources).sort()).toEqual(
      ['cronjobs', 'daemonsets', 'deployments', 'jobs', 'pods', 'replicasets', 'statefulsets'].sort(),
    )
    expect(kube.requests).toEqual([])
  })
})

describe('scan --platform-policy', () => {
  it('alwaysDeny: each running digest NON_CONFORMANT is a verdict row (exit 5); monitor mode reports it in a note only (exit 0)', async () => {
    const file = join(trust.dir, 'platform-always-deny.yaml')
    writeFileSync(file, 'gkePolicy:\n  checkSets:\n  - displayName: Deny all\n    checks:\n    - alwaysDeny: true\n')
    const r = await scan(['-n', 'clean', '--platform-policy', file, '--json'])
    expect(r.code).toBe(5)
    expect(r.doc.verdict).toBe('DENY')
    expect(r.doc.findings).toEqual([
      expect.objectContaining({
        kind: 'verdict',
        severity: 'deny',
        verdict: 'DENY',
        workload: {kind: 'Deployment', name: 'web'},
        digest: appDigest,
        pods: ['web-5d8f-1', 'web-5d8f-2'],
      }),
    ])
    expect(r.doc.findings[0].message).toContain(`platform policy ${file}: Image ${host}/team/app@${appDigest} is NON_CONFORMANT`)

    const monitor = await scan(['-n', 'clean', '--platform-policy', file, '--platform-policy-mode', 'monitor', '--json'])
    expect(monitor.code).toBe(0)
    expect(monitor.doc.findings).toEqual([])
    expect(monitor.doc.notes.join('\n')).toContain('monitor mode')
  })
})

/** Polls until `ok` holds (a watch is open, a line was printed); fails with `what` after 30 s. */
async function until(what: string, ok: () => boolean): Promise<void> {
  const end = Date.now() + 30_000
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('scan --watch', () => {
  it('a new Pod on an unattested digest appears as one row; a dropped watch resumes, an expired one lists again; Ctrl-C: exit 5, GET only', async () => {
    putOwner('replicasets', 'live', 'web-1', {kind: 'Deployment', name: 'web'})
    putPod({namespace: 'live', name: 'web-1-a', image: `${host}/team/app@${appDigest}`, running: appDigest, owner: {kind: 'ReplicaSet', name: 'web-1'}})
    const child = spawn(
      process.execPath,
      [BIN, 'scan', '--kubeconfig', kubeconfig, '--policy', trust.policy, '--attestors', trust.attestors, '--attestations', trust.atts].concat([
        '--insecure-registry',
        host,
        '-n',
        'live',
        '--watch',
      ]),
      {env: isolatedEnv(), stdio: ['ignore', 'pipe', 'pipe']},
    )
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    const watches = () => kube.requests.filter((r) => r.path === '/api/v1/namespaces/live/pods' && r.query.watch !== undefined)
    const lists = () => kube.requests.filter((r) => r.path === '/api/v1/namespaces/live/pods' && r.query.watch === undefined)
    const row = `DENY live/Deployment/web container app: verdict`
    try {
      await until('the watch', () => kube.openWatches() === 1)
      expect(stderr).not.toContain('DENY')

      // A rollout: the new ReplicaSet's Pod runs a digest nobody attested.
      putOwner('replicasets', 'live', 'web-2', {kind: 'Deployment', name: 'web'})
      const bad = podObject({
        namespace: 'live',
        name: 'web-2-a',
        image: `${host}/team/bad@${badDigest}`,
        running: badDigest,
        owner: {kind: 'ReplicaSet', name: 'web-2'},
      })
      kube.watchEvent('ADDED', 'pods', bad)
      await until('the finding', () => stderr.includes(row))
      expect(stderr).toContain(`skew`)
      const rv = (kube.objects.get(objectKey('pods', 'live', 'web-2-a'))?.metadata?.resourceVersion ?? '') as string

      // The server closes the watch: resumed from the last resourceVersion seen, no new list.
      const listsBefore = lists().length
      kube.dropWatches()
      await until('the resumed watch', () => watches().length === 2 && kube.openWatches() === 1)
      expect(watches()[1]?.query.resourceVersion).toBe(rv)
      expect(lists().length).toBe(listsBefore)

      // The history is gone (410 Gone): listed again, then watched; what was printed is not printed again.
      kube.dropWatches({expire: true})
      await until('the list after 410 Gone', () => lists().length === listsBefore + 1 && kube.openWatches() === 1)
      kube.watchEvent('MODIFIED', 'pods', {...bad, metadata: {...bad.metadata, labels: {restarted: 'yes'}}})
      // Events are judged in order: once the break-glass Pod's row is out, the MODIFIED event was judged too.
      kube.watchEvent(
        'ADDED',
        'pods',
        podObject({namespace: 'live', name: 'hotfix', image: `${host}/team/bad@${badDigest}`, running: badDigest, annotations: {[BREAK_GLASS]: 'true'}}),
      )
      await until('the break-glass row', () => stderr.includes('live/Pod/hotfix container app: break-glass'))

      child.kill('SIGINT')
      expect(await exited).toBe(5)
    } finally {
      child.kill('SIGKILL')
    }
    expect(stderr.split(row).length - 1).toBe(1)
    expect(stderr).toContain('Watch ended')
    // One line per row: the report's first line, without its message and fix.
    expect(stderr).not.toContain('fix:')
    expect(stderr).toMatch(/^WARN live\/Deployment\/web container app: skew sha256:/m)
    expect(watches().every((r) => r.query.watch === 'true' && r.query.resourceVersion !== undefined)).toBe(true)
  }, 60_000)

  it('a watch that cannot connect is retried, apart, then sees what happens; a quiet watch stays up', async () => {
    kube.failNext({status: 500, path: '/namespaces/retry/pods', withQuery: 'watch', times: 2})
    const child = spawn(
      process.execPath,
      [BIN, 'scan', '--kubeconfig', kubeconfig, '--policy', trust.policy, '--attestors', trust.attestors, '--attestations', trust.atts].concat([
        '--insecure-registry',
        host,
        '-n',
        'retry',
        '--watch',
      ]),
      {env: isolatedEnv(), stdio: ['ignore', 'pipe', 'pipe']},
    )
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    try {
      await until('the third attempt', () => kube.openWatches() === 1)
      expect(kube.requests.filter((r) => r.query.watch !== undefined).map((r) => r.status)).toEqual([500, 500, 200])
      // A quiet watch keeps the process alive (nothing but the open watch holds it).
      await new Promise((r) => setTimeout(r, 2000))
      expect(child.exitCode).toBeNull()
      kube.watchEvent('ADDED', 'pods', podObject({namespace: 'retry', name: 'bad', image: `${host}/team/bad@${badDigest}`, running: badDigest}))
      await until('the row', () => stderr.includes('DENY retry/Pod/bad container app: verdict'))
      child.kill('SIGINT')
      expect(await exited).toBe(5)
    } finally {
      child.kill('SIGKILL')
    }
    expect(stderr).toContain('Watch ended: 2 Pod event(s), 1 evaluation(s), 1 finding(s) printed')
  }, 60_000)

  it('a role without watch on Pods: exit 4 at once with the role to grant', async () => {
    kube.failNext({status: 403, path: '/namespaces/live/pods', withQuery: 'watch', reason: 'Forbidden', message: 'pods is forbidden: cannot watch'})
    const r = await scan(['-n', 'live', '--watch'])
    expect(r.code).toBe(4)
    expect(r.stderr).toContain('could not watch Pods in namespace live: HTTP 403')
    expect(r.stderr).toContain('--print-rbac')
    expect(kube.requests.filter((x) => x.query.watch !== undefined)).toHaveLength(1)
  })

  it('--watch with --json is refused (exit 2): a watch prints rows, not one document', async () => {
    const r = await scan(['-n', 'live', '--watch', '--json'])
    expect(r.code).toBe(2)
    expect(kube.requests).toEqual([])
  })
})
