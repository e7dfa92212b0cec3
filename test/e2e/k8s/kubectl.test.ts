/**
 * KubectlApplier with the real kubectl binary against the Kubernetes API test double
 * (test/support/kube-apiserver.ts — not a real apiserver: these tests show what kubectl sends
 * and how we report it, not real merge/ownership semantics).
 */
import {afterAll, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {KubectlApplier, kubectlApplyArgs, kubectlAvailable, parseApplyOutput, type KubectlApplyOptions} from '../../../src/adapters/k8s/kubectl.js'
import {manifestObjects} from '../../../src/core/manifest/objects.js'
import {startKubeApiServer, type KubeApiServer} from '../../support/kube-apiserver.js'
import {DIGEST_A, DIGEST_B, join3} from './helpers.js'
import {deployment, service, tempDir} from '../../support/fixtures.js'

const IMG_A = `registry.example/app@${DIGEST_A}`
const IMG_B = `registry.example/app@${DIGEST_B}`

let server: KubeApiServer
let tmp: {dir: string; cleanup: () => void}
let kubeconfig: string
let cacheDir: string
const applier = new KubectlApplier()

function opts(extra: Partial<KubectlApplyOptions> = {}): KubectlApplyOptions {
  return {kubeconfig, dryRun: 'none', serverSide: false, extraArgs: ['--cache-dir', cacheDir], ...extra}
}

beforeAll(async () => {
  server = await startKubeApiServer()
  tmp = tempDir('sd-k8s-')
  kubeconfig = server.writeKubeconfig(tmp.dir, {namespace: 'team', token: 'secret-token-123'})
  cacheDir = join(tmp.dir, 'kubectl-cache')
})

afterAll(async () => {
  await server.stop()
  tmp.cleanup()
})

beforeEach(() => server.clearRequests())

describe('KubectlApplier: client-side apply', () => {
  it('creates, then reports unchanged, then configured; kubectl GETs then POSTs or PATCHes', async () => {
    const yaml = join3(deployment('web', IMG_A, {ports: [8080]}), service('web'))
    const first = await applier.apply(manifestObjects(yaml), opts())
    expect(first.objects).toEqual([
      {kind: 'Deployment', name: 'web', namespace: 'team', action: 'created'},
      {kind: 'Service', name: 'web', namespace: 'team', action: 'created'},
    ])
    expect(first.dryRun).toBe('none')
    expect(first.stdout).toContain('deployment.apps/web created')
    const posts = server.writes()
    expect(posts.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /apis/apps/v1/namespaces/team/deployments', 'POST /api/v1/namespaces/team/services'])
    expect(posts[0]!.query).toMatchObject({fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict'})
    const stored = server.objects.get('deployments/team/web') as any
    expect(stored.spec.template.spec.containers[0].image).toBe(IMG_A)
    expect(stored.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain(IMG_A)

    server.clearRequests()
    const second = await applier.apply(manifestObjects(yaml), opts())
    expect(second.objects.map((o) => o.action)).toEqual(['unchanged', 'unchanged'])
    expect(server.writes()).toEqual([]) // an empty three-way patch is not sent at all

    server.clearRequests()
    const third = await applier.apply(manifestObjects(join3(deployment('web', IMG_B, {ports: [8080]}), service('web'))), opts())
    expect(third.objects.map((o) => `${o.kind}/${o.name} ${o.action}`)).toEqual(['Deployment/web configured', 'Service/web unchanged'])
    const patches = server.writes()
    expect(patches).toHaveLength(1)
    expect(patches[0]).toMatchObject({
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/team/deployments/web',
      contentType: 'application/strategic-merge-patch+json',
    })
    expect(patches[0]!.body).toContain(IMG_B)
    expect((server.objects.get('deployments/team/web') as any).spec.template.spec.containers[0]).toMatchObject({image: IMG_B, ports: [{containerPort: 8080}]})
  })

  it('honours the namespace flag', async () => {
    const res = await applier.apply(manifestObjects(deployment('ns-web', IMG_A)), opts({namespace: 'other'}))
    expect(res.objects).toEqual([{kind: 'Deployment', name: 'ns-web', namespace: 'other', action: 'created'}])
    expect(server.writes().map((r) => r.path)).toEqual(['/apis/apps/v1/namespaces/other/deployments'])
    expect(server.objects.has('deployments/other/ns-web')).toBe(true)
    expect(server.objects.has('deployments/team/ns-web')).toBe(false)
  })

  it('keeps a namespace written in the manifest and leaves it off cluster-scoped objects', async () => {
    const yaml = join3('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n', deployment('in-apps', IMG_A, {namespace: 'apps'}))
    const res = await applier.apply(manifestObjects(yaml), opts())
    expect(res.objects).toEqual([
      {kind: 'Namespace', name: 'apps', action: 'created'},
      {kind: 'Deployment', name: 'in-apps', namespace: 'apps', action: 'created'},
    ])
    expect(server.objects.has('namespaces/apps')).toBe(true)
  })
})

describe('KubectlApplier: server-side apply', () => {
  it('--server-side --field-manager X sends PATCH application/apply-patch+yaml with fieldManager=X', async () => {
    const res = await applier.apply(manifestObjects(deployment('ssa', IMG_A)), opts({serverSide: true, fieldManager: 'X'}))
    expect(res.objects).toEqual([{kind: 'Deployment', name: 'ssa', namespace: 'team', action: 'serverside-applied'}])
    const writes = server.writes()
    expect(writes).toHaveLength(1)
    expect(writes[0]).toMatchObject({
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/team/deployments/ssa',
      contentType: 'application/apply-patch+yaml',
      query: {fieldManager: 'X', force: 'false', fieldValidation: 'Strict'},
    })
    expect(JSON.parse(writes[0]!.body)).toMatchObject({kind: 'Deployment', metadata: {name: 'ssa'}})
    expect(server.objects.has('deployments/team/ssa')).toBe(true)
  })

  it('forceConflicts adds --force-conflicts (force=true)', async () => {
    await applier.apply(manifestObjects(deployment('ssa-force', IMG_A)), opts({serverSide: true, forceConflicts: true}))
    expect(server.writes()[0]!.query).toMatchObject({fieldManager: 'kubectl', force: 'true'})
  })
})

describe('KubectlApplier: dry runs', () => {
  it('--dry-run=server sends dryRun=All and stores nothing', async () => {
    const res = await applier.apply(manifestObjects(join3(deployment('dry', IMG_A), service('dry'))), opts({dryRun: 'server'}))
    expect(res.dryRun).toBe('server')
    expect(res.objects.map((o) => o.action)).toEqual(['created', 'created'])
    expect(res.stdout).toContain('deployment.apps/dry created (server dry run)')
    const posts = server.requests.filter((r) => r.method === 'POST')
    expect(posts).toHaveLength(2)
    for (const p of posts) expect(p.query.dryRun).toBe('All')
    expect(server.writes()).toEqual([])
    expect(server.objects.has('deployments/team/dry')).toBe(false)
    expect(server.objects.has('services/team/dry')).toBe(false)
  })

  it('--dry-run=client makes no request that writes (only reads)', async () => {
    await applier.apply(manifestObjects(deployment('existing', IMG_A)), opts())
    server.clearRequests()
    const res = await applier.apply(manifestObjects(join3(deployment('existing', IMG_B), deployment('fresh', IMG_A))), opts({dryRun: 'client'}))
    // kubectl reports every existing object as configured in a client dry run (it computes no patch).
    expect(res.objects.map((o) => `${o.name} ${o.action}`)).toEqual(['existing configured', 'fresh created'])
    expect(server.requests.filter((r) => r.method !== 'GET')).toEqual([])
    expect(server.writes()).toEqual([])
    expect((server.objects.get('deployments/team/existing') as any).spec.template.spec.containers[0].image).toBe(IMG_A)
    expect(server.objects.has('deployments/team/fresh')).toBe(false)
  })
})

describe('KubectlApplier: arguments', () => {
  it('builds the argv without a shell, extra args last', () => {
    expect(
      kubectlApplyArgs({
        kubeconfig: '/k',
        context: 'c',
        namespace: 'n',
        dryRun: 'server',
        serverSide: true,
        fieldManager: 'fm',
        prune: {selector: 'app=web'},
        extraArgs: ['--prune-allowlist=core/v1/Service', '--request-timeout=5s'],
      }),
    ).toEqual([
      'apply',
      '-f',
      '-',
      '--kubeconfig',
      '/k',
      '--context',
      'c',
      '--namespace',
      'n',
      '--dry-run=server',
      '--server-side',
      '--field-manager=fm',
      '--prune',
      '-l',
      'app=web',
      '--prune-allowlist=core/v1/Service',
      '--request-timeout=5s',
    ])
    expect(kubectlApplyArgs({dryRun: 'none', serverSide: false, extraArgs: []})).toEqual(['apply', '-f', '-'])
    expect(() => kubectlApplyArgs({dryRun: 'none', serverSide: false, forceConflicts: true, extraArgs: []})).toThrowWithCode('USAGE', /server-side/)
  })

  it('passes extra args through to kubectl (--cache-dir is used)', async () => {
    const own = join(tmp.dir, 'extra-cache')
    await applier.apply(manifestObjects(deployment('extra', IMG_A)), {...opts(), extraArgs: ['--cache-dir', own]})
    expect(existsSync(join(own, 'discovery', `127.0.0.1_${server.port}`))).toBe(true)
  })

  it('prunes labelled objects missing from the input (--prune -l)', async () => {
    await applier.apply(manifestObjects(join3(deployment('keep', IMG_A, {labels: {tier: 'p'}}), deployment('gone', IMG_A, {labels: {tier: 'p'}}))), opts())
    server.clearRequests()
    const res = await applier.apply(
      manifestObjects(deployment('keep', IMG_A, {labels: {tier: 'p'}})),
      opts({
        prune: {selector: 'tier=p'},
        extraArgs: ['--cache-dir', cacheDir, '--prune-allowlist=apps/v1/Deployment'],
      }),
    )
    expect(res.objects).toEqual([
      {kind: 'Deployment', name: 'keep', namespace: 'team', action: 'unchanged'},
      {kind: 'deployment.apps', name: 'gone', action: 'pruned'},
    ])
    expect(server.writes().map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /apis/apps/v1/namespaces/team/deployments/gone'])
    expect(server.objects.has('deployments/team/gone')).toBe(false)
  })
})

describe('KubectlApplier: failures', () => {
  it("a 403 from the server → DEPLOY_FAILED with kubectl's message; objects applied before are named", async () => {
    server.failNext({status: 403, method: 'POST', path: '/services', message: 'services is forbidden: User "ci" cannot create resource "services"'})
    const p = applier.apply(manifestObjects(join3(deployment('f1', IMG_A), service('f1'))), opts())
    await expect(p).toThrowWithCode('DEPLOY_FAILED', /Forbidden.*services is forbidden: User "ci" cannot create resource "services"/s)
    await expect(p).toThrowWithCode('DEPLOY_FAILED', /exited with status 1.*Applied before the failure: Deployment\/f1 created/s)
  })

  it('a 500 on server-side apply → DEPLOY_FAILED', async () => {
    server.failNext({status: 500, method: 'PATCH', message: 'etcdserver: request timed out'})
    await expect(applier.apply(manifestObjects(deployment('f2', IMG_A)), opts({serverSide: true}))).toThrowWithCode(
      'DEPLOY_FAILED',
      /InternalError.*etcdserver: request timed out/s,
    )
  })

  it("redacts bearer tokens from kubectl's error output", async () => {
    server.failNext({status: 401, method: 'GET', path: '/deployments/f3', message: 'invalid bearer token: Bearer secret-token-123'})
    const err = await applier.apply(manifestObjects(deployment('f3', IMG_A)), opts()).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    )
    expect(err).toHaveProperty('code', 'DEPLOY_FAILED')
    expect(err.message).not.toContain('secret-token-123')
    expect(err.message).toContain('Bearer [REDACTED]')
  })

  it('an unreachable server → DEPLOY_FAILED', async () => {
    const dead = await startKubeApiServer()
    const deadConfig = dead.writeKubeconfig(join(tmp.dir, 'dead'))
    await dead.stop()
    await expect(
      applier.apply(manifestObjects(deployment('x', IMG_A)), {...opts(), kubeconfig: deadConfig, extraArgs: ['--cache-dir', cacheDir, '--request-timeout=5s']}),
    ).toThrowWithCode('DEPLOY_FAILED', /connection refused|Unable to connect/)
  })

  it('a missing kubectl → DEPLOY_FAILED; kubectlAvailable tells', async () => {
    await expect(applier.apply(manifestObjects(deployment('x', IMG_A)), opts({kubectlPath: join(tmp.dir, 'no-kubectl')}))).toThrowWithCode(
      'DEPLOY_FAILED',
      /kubectl not found/,
    )
    expect(await kubectlAvailable()).toBe(true)
    expect(await kubectlAvailable(join(tmp.dir, 'no-kubectl'))).toBe(false)
  })

  it('invalid YAML never reaches kubectl', async () => {
    await expect((async () => applier.apply(manifestObjects('kind: ['), opts()))()).toThrowWithCode('INVALID_INPUT', /invalid YAML/)
    expect(server.requests).toEqual([])
  })
})

describe('parseApplyOutput', () => {
  it('matches lines to inputs by kind, group and name; tolerates warnings and dry-run suffixes', () => {
    const inputs = manifestObjects(join3(deployment('a', IMG_A), service('a'), 'apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: jobs}\n'))
    const out =
      'deployment.apps/a configured (server dry run)\nWarning: something\nservice/a unchanged (dry run)\ncronjob.batch/c created\nconfigmap/z pruned\n'
    expect(parseApplyOutput(out, inputs, 'ns')).toEqual([
      {kind: 'Deployment', name: 'a', namespace: 'ns', action: 'configured'},
      {kind: 'Service', name: 'a', namespace: 'ns', action: 'unchanged'},
      {kind: 'CronJob', name: 'c', namespace: 'jobs', action: 'created'},
      {kind: 'configmap', name: 'z', action: 'pruned'},
    ])
  })
})
