/** Contract of the Kubernetes API test double itself (so the adapter tests rest on known behaviour). */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mergePatch, startKubeApiServer, strategicMergePatch, type KubeApiServer} from '../../support/kube-apiserver.js'

let server: KubeApiServer

async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  accept = 'application/json',
): Promise<{status: number; type: string | null; json: any}> {
  const res = await fetch(server.url + path, {
    method,
    headers: {'Content-Type': contentType, Accept: accept},
    ...(body === undefined ? {} : {body: typeof body === 'string' ? body : JSON.stringify(body)}),
  })
  return {status: res.status, type: res.headers.get('content-type'), json: await res.json()}
}

const cm = (name: string, data: Record<string, string>): unknown => ({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name}, data})

beforeAll(async () => {
  server = await startKubeApiServer()
})
afterAll(() => server.stop())

describe('Kubernetes API test double', () => {
  it('answers aggregated-discovery requests with legacy JSON (so clients fall back) and serves /version', async () => {
    const api = await call(
      'GET',
      '/api',
      undefined,
      'application/json',
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
    )
    expect(api).toMatchObject({status: 200, type: 'application/json', json: {kind: 'APIVersions', versions: ['v1']}})
    expect((await call('GET', '/apis')).json.groups.map((g: any) => g.name)).toEqual(['apps', 'batch'])
    expect((await call('GET', '/apis/batch/v1')).json.resources.map((r: any) => r.name)).toEqual(['jobs', 'cronjobs'])
    expect((await call('GET', '/version')).json.gitVersion).toBe('v1.32.4')
    expect((await call('GET', '/openapi/v2')).status).toBe(404)
    const doc = (await call('GET', '/openapi/v3/apis/apps/v1')).json
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch
    expect(patch['x-kubernetes-group-version-kind']).toEqual({group: 'apps', version: 'v1', kind: 'Deployment'})
    expect(patch.parameters.map((p: any) => p.name)).toContain('fieldValidation')
  })

  it('returns Status objects: 404 NotFound, 409 AlreadyExists, 400 bad dryRun / missing fieldManager, 415 json-patch', async () => {
    expect(await call('GET', '/api/v1/namespaces/d/configmaps/x')).toMatchObject({
      status: 404,
      json: {kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'configmaps "x" not found'},
    })
    expect((await call('GET', '/apis/apps/v1/namespaces/d/deployments/x')).json.message).toBe('deployments.apps "x" not found')
    expect((await call('POST', '/api/v1/namespaces/d/configmaps', cm('a', {k: '1'}))).status).toBe(201)
    expect((await call('POST', '/api/v1/namespaces/d/configmaps', cm('a', {k: '1'}))).json).toMatchObject({reason: 'AlreadyExists', code: 409})
    expect((await call('POST', '/api/v1/namespaces/d/configmaps?dryRun=Yes', cm('b', {}))).json).toMatchObject({reason: 'BadRequest', code: 400})
    expect((await call('PATCH', '/api/v1/namespaces/d/configmaps/a', cm('a', {}), 'application/apply-patch+yaml')).json.message).toMatch(
      /fieldManager: Required value/,
    )
    expect((await call('PATCH', '/api/v1/namespaces/d/configmaps/a', [], 'application/json-patch+json')).status).toBe(415)
    expect((await call('GET', '/apis/unknown/v1/things')).status).toBe(404)
  })

  it('dryRun=All computes without storing; resourceVersion moves only on change; writes() ignores dry runs', async () => {
    server.clearRequests()
    const dry = await call(
      'PATCH',
      '/api/v1/namespaces/d/configmaps/ssa?fieldManager=m&dryRun=All',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {k: v}\n',
      'application/apply-patch+yaml',
    )
    expect(dry.status).toBe(201)
    expect(server.objects.has('configmaps/d/ssa')).toBe(false)
    expect(server.writes()).toEqual([])
    const created = await call('PATCH', '/api/v1/namespaces/d/configmaps/ssa?fieldManager=m', cm('ssa', {k: 'v'}), 'application/apply-patch+yaml')
    const same = await call('PATCH', '/api/v1/namespaces/d/configmaps/ssa?fieldManager=m', cm('ssa', {k: 'v'}), 'application/apply-patch+yaml')
    const changed = await call('PATCH', '/api/v1/namespaces/d/configmaps/ssa', {data: {k: 'w'}}, 'application/merge-patch+json')
    expect(same.json.metadata.resourceVersion).toBe(created.json.metadata.resourceVersion)
    expect(Number(changed.json.metadata.resourceVersion)).toBeGreaterThan(Number(created.json.metadata.resourceVersion))
    expect(server.writes().map((r) => r.method)).toEqual(['PATCH', 'PATCH', 'PATCH'])
    expect((server.objects.get('configmaps/d/ssa') as any).data).toEqual({k: 'w'})
  })

  it('lists with label selectors and deletes', async () => {
    await call('POST', '/api/v1/namespaces/l/configmaps', {...(cm('x', {}) as object), metadata: {name: 'x', labels: {app: 'a', tier: 't'}}})
    await call('POST', '/api/v1/namespaces/l/configmaps', {...(cm('y', {}) as object), metadata: {name: 'y', labels: {app: 'b'}}})
    const names = async (sel: string): Promise<string[]> =>
      (await call('GET', `/api/v1/namespaces/l/configmaps?labelSelector=${encodeURIComponent(sel)}`)).json.items.map((i: any) => i.metadata.name)
    expect(await names('app=a')).toEqual(['x'])
    expect(await names('app!=a')).toEqual(['y'])
    expect(await names('tier')).toEqual(['x'])
    expect(await names('!tier')).toEqual(['y'])
    expect((await call('DELETE', '/api/v1/namespaces/l/configmaps/x?dryRun=All')).status).toBe(200)
    expect(server.objects.has('configmaps/l/x')).toBe(true)
    expect((await call('DELETE', '/api/v1/namespaces/l/configmaps/x')).status).toBe(200)
    expect(server.objects.has('configmaps/l/x')).toBe(false)
  })

  it('failNext injects errors for matching requests only, the given number of times', async () => {
    server.failNext({status: 403, method: 'GET', path: '/secrets/', times: 2})
    expect((await call('GET', '/api/v1/namespaces/d/configmaps/a')).status).toBe(200)
    expect((await call('GET', '/api/v1/namespaces/d/secrets/s')).json).toMatchObject({reason: 'Forbidden', code: 403})
    expect((await call('GET', '/api/v1/namespaces/d/secrets/s')).status).toBe(403)
    expect((await call('GET', '/api/v1/namespaces/d/secrets/s')).status).toBe(404)
  })
})

describe('patch helpers', () => {
  it('mergePatch follows RFC 7386', () => {
    expect(mergePatch({a: 1, b: {c: 2, d: 3}, l: [1, 2]}, {b: {c: null, e: 4}, l: [3]})).toEqual({a: 1, b: {d: 3, e: 4}, l: [3]})
  })

  it('strategicMergePatch merges containers by name and honours $patch / drops $ directives', () => {
    const target = {
      spec: {
        containers: [
          {name: 'a', image: 'x', ports: [{containerPort: 80}]},
          {name: 'b', image: 'y'},
        ],
      },
    }
    const patch = {
      spec: {
        '$setElementOrder/containers': [{name: 'a'}, {name: 'b'}],
        containers: [
          {name: 'a', image: 'z'},
          {name: 'b', $patch: 'delete'},
          {name: 'c', image: 'n'},
        ],
      },
    }
    expect(strategicMergePatch(target, patch)).toEqual({
      spec: {
        containers: [
          {name: 'a', image: 'z', ports: [{containerPort: 80}]},
          {name: 'c', image: 'n'},
        ],
      },
    })
  })
})
