/**
 * ApiApplier with the real @kubernetes/client-node against the Kubernetes API test double
 * (test/support/kube-apiserver.ts — not a real apiserver).
 */
import {afterAll, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {join} from 'node:path'
import {ApiApplier, type ApiApplyOptions} from '../../../src/adapters/k8s/api.js'
import {manifestObjects} from '../../../src/core/manifest/objects.js'
import {startKubeApiServer, type KubeApiServer} from '../../support/kube-apiserver.js'
import {DIGEST_A, DIGEST_B, join3} from './helpers.js'
import {deployment, service, tempDir} from '../../support/fixtures.js'

const IMG_A = `registry.example/api@${DIGEST_A}`
const IMG_B = `registry.example/api@${DIGEST_B}`

let server: KubeApiServer
let tmp: {dir: string; cleanup: () => void}
let kubeconfig: string
const applier = new ApiApplier()

function opts(extra: Partial<ApiApplyOptions> = {}): ApiApplyOptions {
  return {kubeconfig, dryRun: 'none', ...extra}
}

const image = (key: string): unknown => (server.objects.get(key) as any)?.spec.template.spec.containers[0].image

beforeAll(async () => {
  server = await startKubeApiServer()
  tmp = tempDir('sd-k8s-')
  kubeconfig = server.writeKubeconfig(tmp.dir, {namespace: 'team'})
})

afterAll(async () => {
  await server.stop()
  tmp.cleanup()
})

beforeEach(() => server.clearRequests())

describe('ApiApplier: server-side apply through client-node', () => {
  it('creates, then reports unchanged, then configured', async () => {
    const yaml = join3(deployment('web', IMG_A), service('web'))
    const first = await applier.apply(manifestObjects(yaml), opts())
    expect(first.objects).toEqual([
      {kind: 'Deployment', name: 'web', namespace: 'team', action: 'created'},
      {kind: 'Service', name: 'web', namespace: 'team', action: 'created'},
    ])
    expect(first.stdout).toBe('Deployment/web created\nService/web created\n')
    expect(image('deployments/team/web')).toBe(IMG_A)
    // every object is verified with dryRun=All before any is written
    const patches = server.requests.filter((r) => r.method === 'PATCH')
    expect(patches.map((r) => `${r.path} ${r.query.dryRun ?? 'write'}`)).toEqual([
      '/apis/apps/v1/namespaces/team/deployments/web All',
      '/api/v1/namespaces/team/services/web All',
      '/apis/apps/v1/namespaces/team/deployments/web write',
      '/api/v1/namespaces/team/services/web write',
    ])
    for (const p of patches) {
      expect(p.contentType).toBe('application/apply-patch+yaml')
      expect(p.query.fieldManager).toBe('safe-deploy')
      expect(p.query.force).toBeUndefined()
    }
    expect(JSON.parse(patches[2]!.body)).toMatchObject({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'web', namespace: 'team'}})

    const again = await applier.apply(manifestObjects(yaml), opts())
    expect(again.objects.map((o) => o.action)).toEqual(['unchanged', 'unchanged'])

    const changed = await applier.apply(manifestObjects(join3(deployment('web', IMG_B), service('web'))), opts())
    expect(changed.objects.map((o) => `${o.kind}/${o.name} ${o.action}`)).toEqual(['Deployment/web configured', 'Service/web unchanged'])
    expect(image('deployments/team/web')).toBe(IMG_B)
  })

  it('fieldManager and force are passed as query parameters', async () => {
    await applier.apply(manifestObjects(deployment('fm', IMG_A)), opts({fieldManager: 'ci-bot', force: true, verifyFirst: false}))
    const writes = server.writes()
    expect(writes).toHaveLength(1)
    expect(writes[0]!.query).toMatchObject({fieldManager: 'ci-bot', force: 'true'})
  })

  it('namespace option overrides the context default; manifest namespaces and cluster-scoped kinds are kept as written', async () => {
    const yaml = join3('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n', deployment('cart', IMG_A, {namespace: 'shop'}), deployment('plain', IMG_A))
    const res = await applier.apply(manifestObjects(yaml), opts({namespace: 'other'}))
    expect(res.objects).toEqual([
      {kind: 'Namespace', name: 'shop', action: 'created'},
      {kind: 'Deployment', name: 'cart', namespace: 'shop', action: 'created'},
      {kind: 'Deployment', name: 'plain', namespace: 'other', action: 'created'},
    ])
    expect([...server.objects.keys()]).toEqual(expect.arrayContaining(['namespaces/shop', 'deployments/shop/cart', 'deployments/other/plain']))
  })

  it('honours the context and KUBECONFIG from the env option', async () => {
    const second = server.writeKubeconfig(join(tmp.dir, 'env'), {context: 'gke_p_us-east1_c', namespace: 'envns'})
    const res = await applier.apply(manifestObjects(deployment('via-env', IMG_A)), {dryRun: 'none', env: {KUBECONFIG: second}, context: 'gke_p_us-east1_c'})
    expect(res.objects).toEqual([{kind: 'Deployment', name: 'via-env', namespace: 'envns', action: 'created'}])
  })
})

describe('ApiApplier: dry runs', () => {
  it('server dry run sends dryRun=All and stores nothing', async () => {
    const res = await applier.apply(manifestObjects(join3(deployment('dry', IMG_A), service('dry'))), opts({dryRun: 'server'}))
    expect(res.dryRun).toBe('server')
    expect(res.objects.map((o) => o.action)).toEqual(['created', 'created'])
    expect(res.stdout).toContain('Deployment/dry created (server dry run)')
    expect(server.requests.filter((r) => r.method === 'PATCH').every((r) => r.query.dryRun === 'All')).toBe(true)
    expect(server.writes()).toEqual([])
    expect(server.objects.has('deployments/team/dry')).toBe(false)
  })

  it('server dry run of a change reports configured and leaves the stored object alone', async () => {
    await applier.apply(manifestObjects(deployment('dry2', IMG_A)), opts())
    server.clearRequests()
    const res = await applier.apply(manifestObjects(deployment('dry2', IMG_B)), opts({dryRun: 'server'}))
    expect(res.objects.map((o) => o.action)).toEqual(['configured'])
    expect(server.writes()).toEqual([])
    expect(image('deployments/team/dry2')).toBe(IMG_A)
  })

  it('client dry run only reads', async () => {
    await applier.apply(manifestObjects(deployment('cd-existing', IMG_A)), opts())
    server.clearRequests()
    const res = await applier.apply(manifestObjects(join3(deployment('cd-existing', IMG_B), deployment('cd-new', IMG_A))), opts({dryRun: 'client'}))
    expect(res.objects).toEqual([
      {kind: 'Deployment', name: 'cd-existing', namespace: 'team', action: 'configured'},
      {kind: 'Deployment', name: 'cd-new', namespace: 'team', action: 'created'},
    ])
    expect(server.requests.filter((r) => r.method !== 'GET')).toEqual([])
  })
})

describe('ApiApplier: failures', () => {
  it('a rejection during the verification pass writes nothing and names the object', async () => {
    server.failNext({status: 403, method: 'PATCH', path: '/services/deny', message: 'services "deny" is forbidden: User "ci" cannot patch resource "services"'})
    await expect(applier.apply(manifestObjects(join3(deployment('deny', IMG_A), service('deny'))), opts())).toThrowWithCode(
      'DEPLOY_FAILED',
      /verify \(server dry run\) Service\/deny in namespace team failed: HTTP 403 Forbidden: services "deny" is forbidden/,
    )
    expect(server.writes()).toEqual([])
    expect(server.objects.has('deployments/team/deny')).toBe(false)
  })

  it('a failure while writing names the object and what was applied before it', async () => {
    server.failNext({status: 500, method: 'PATCH', path: '/services/half', message: 'etcdserver: leader changed'})
    await expect(applier.apply(manifestObjects(join3(deployment('half', IMG_A), service('half'))), opts({verifyFirst: false}))).toThrowWithCode(
      'DEPLOY_FAILED',
      /apply Service\/half in namespace team failed: HTTP 500 InternalError: etcdserver: leader changed\. Applied before the failure: Deployment\/half created/,
    )
    expect(server.objects.has('deployments/team/half')).toBe(true)
  })

  it('a kind the server does not serve → DEPLOY_FAILED naming it', async () => {
    const yaml = 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n'
    await expect(applier.apply(manifestObjects(yaml), opts())).toThrowWithCode('DEPLOY_FAILED', /Widget\/w.*failed: /)
    expect(server.writes()).toEqual([])
  })

  it('a missing context → USAGE before any request', async () => {
    await expect(applier.apply(manifestObjects(deployment('x', IMG_A)), opts({context: 'nope'}))).toThrowWithCode('USAGE', /context "nope" not found/)
    expect(server.requests).toEqual([])
  })

  it('an unreachable server → DEPLOY_FAILED', async () => {
    const dead = await startKubeApiServer()
    const deadConfig = dead.writeKubeconfig(join(tmp.dir, 'dead'))
    await dead.stop()
    await expect(applier.apply(manifestObjects(deployment('x', IMG_A)), {dryRun: 'none', kubeconfig: deadConfig})).toThrowWithCode(
      'DEPLOY_FAILED',
      /Deployment\/x.*failed/,
    )
  })
})
