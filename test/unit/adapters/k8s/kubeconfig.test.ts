import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdirSync, writeFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {stringify} from 'yaml'
import {loadKubeconfig, parseGkeName, resolveKubeContext} from '../../../../src/adapters/k8s/kubeconfig.js'
import {MAX_NESTING} from '../../../../src/core/yaml-read.js'
import {tempDir} from '../../../support/fixtures.js'

let tmp: {dir: string; cleanup: () => void}

interface Ctx {
  name: string
  cluster?: string
  namespace?: string
}

function writeConfig(file: string, contexts: Ctx[], current?: string, clusters: Array<Record<string, unknown>> = []): string {
  const path = join(tmp.dir, file)
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: clusters.length > 0 ? clusters : contexts.map((c) => ({name: c.cluster ?? c.name, cluster: {server: `https://${c.name}.example:443`}})),
      users: [{name: 'u', user: {token: 't'}}],
      contexts: contexts.map((c) => ({name: c.name, context: {cluster: c.cluster ?? c.name, user: 'u', ...(c.namespace ? {namespace: c.namespace} : {})}})),
      ...(current ? {'current-context': current} : {}),
    }),
  )
  return path
}

beforeAll(() => {
  tmp = tempDir('sd-kubeconfig-')
})
afterAll(() => tmp.cleanup())

describe('parseGkeName', () => {
  it.each([
    ['gke_my-prod_us-central1_prod', {project: 'my-prod', location: 'us-central1', cluster: 'prod', clusterKey: 'us-central1.prod'}],
    [
      'gke_p-1_europe-west4-a_web-cluster-2',
      {project: 'p-1', location: 'europe-west4-a', cluster: 'web-cluster-2', clusterKey: 'europe-west4-a.web-cluster-2'},
    ],
    ['gke_example.com:proj_us-east1_c', {project: 'example.com:proj', location: 'us-east1', cluster: 'c', clusterKey: 'us-east1.c'}],
    ['gke_p_loc_name_with_underscores', {project: 'p', location: 'loc', cluster: 'name_with_underscores', clusterKey: 'loc.name_with_underscores'}],
  ])('%s', (name, want) => {
    expect(parseGkeName(name)).toEqual(want)
  })

  it.each(['minikube', 'gke_p_loc', 'gke__loc_c', 'gke_p__c', 'gke_p_loc_', 'arn:aws:eks:us-east-1:1:cluster/x', 'GKE_p_l_c'])(
    '%s is not a GKE name',
    (name) => {
      expect(parseGkeName(name)).toBeUndefined()
    },
  )
})

describe('resolveKubeContext', () => {
  it('reads the current context of an explicit file: GKE key, namespace from the context', () => {
    const file = writeConfig('gke.yaml', [{name: 'gke_my-prod_us-central1_prod', namespace: 'payments'}, {name: 'other'}], 'gke_my-prod_us-central1_prod')
    expect(resolveKubeContext({kubeconfig: file, env: {}})).toEqual({
      context: 'gke_my-prod_us-central1_prod',
      cluster: 'gke_my-prod_us-central1_prod',
      server: 'https://gke_my-prod_us-central1_prod.example:443',
      namespace: 'payments',
      gke: {project: 'my-prod', location: 'us-central1', cluster: 'prod', clusterKey: 'us-central1.prod'},
      files: [file],
    })
  })

  it('defaults the namespace to "default"; no gke part for other clusters; --context picks another context', () => {
    const file = writeConfig('two.yaml', [{name: 'gke_a_us-east1_x'}, {name: 'kind-dev'}], 'gke_a_us-east1_x')
    const ctx = resolveKubeContext({kubeconfig: file, context: 'kind-dev', env: {}})
    expect(ctx.context).toBe('kind-dev')
    expect(ctx.namespace).toBe('default')
    expect(ctx.gke).toBeUndefined()
  })

  it('takes the GKE key from the cluster name when the context was renamed', () => {
    const file = writeConfig('renamed.yaml', [{name: 'prod', cluster: 'gke_my-prod_europe-west1_main'}], 'prod')
    expect(resolveKubeContext({kubeconfig: file, env: {}}).gke).toEqual({
      project: 'my-prod',
      location: 'europe-west1',
      cluster: 'main',
      clusterKey: 'europe-west1.main',
    })
  })

  it('merges KUBECONFIG with two files: first file wins per name and for current-context', () => {
    const a = writeConfig('a.yaml', [{name: 'shared', namespace: 'from-a'}, {name: 'only-a'}], 'only-a')
    const b = writeConfig(
      'b.yaml',
      [
        {name: 'shared', namespace: 'from-b'},
        {name: 'gke_p_us-west1_b', namespace: 'nb'},
      ],
      'gke_p_us-west1_b',
    )
    const env = {KUBECONFIG: [a, join(tmp.dir, 'missing.yaml'), b].join(delimiter)}
    expect(resolveKubeContext({env}).context).toBe('only-a')
    expect(resolveKubeContext({env, context: 'shared'}).namespace).toBe('from-a')
    const fromB = resolveKubeContext({env, context: 'gke_p_us-west1_b'})
    expect(fromB).toMatchObject({namespace: 'nb', gke: {clusterKey: 'us-west1.b'}, files: [a, b]})
    // an explicit --kubeconfig wins over KUBECONFIG
    expect(resolveKubeContext({env, kubeconfig: b}).context).toBe('gke_p_us-west1_b')
  })

  it('falls back to $HOME/.kube/config', () => {
    const home = join(tmp.dir, 'home')
    mkdirSync(join(home, '.kube'), {recursive: true})
    writeFileSync(join(home, '.kube', 'config'), stringify({contexts: [{name: 'h', context: {cluster: 'c', namespace: 'hn'}}], 'current-context': 'h'}))
    expect(resolveKubeContext({env: {HOME: home}})).toMatchObject({context: 'h', namespace: 'hn', files: [join(home, '.kube', 'config')]})
  })

  it('makes relative certificate paths absolute to their file', () => {
    const file = writeConfig('certs.yaml', [{name: 'c'}], 'c', [{name: 'c', cluster: {server: 'https://x', 'certificate-authority': 'ca.pem'}}])
    expect(loadKubeconfig({kubeconfig: file, env: {}}).clusters[0]).toEqual({
      name: 'c',
      cluster: {server: 'https://x', 'certificate-authority': join(tmp.dir, 'ca.pem')},
    })
  })

  it('a missing context → USAGE naming the context, the file and the choices', () => {
    const file = writeConfig('ctx.yaml', [{name: 'one'}, {name: 'two'}], 'one')
    expect(() => resolveKubeContext({kubeconfig: file, context: 'three', env: {}})).toThrowWithCode(
      'USAGE',
      new RegExp(`context "three" not found in kubeconfig ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    )
    try {
      resolveKubeContext({kubeconfig: file, context: 'three', env: {}})
    } catch (e) {
      expect((e as {hint?: string}).hint).toBe('use one of: one, two')
    }
  })

  it('no current-context and no --context → USAGE', () => {
    const file = writeConfig('nocurrent.yaml', [{name: 'one'}])
    expect(() => resolveKubeContext({kubeconfig: file, env: {}})).toThrowWithCode('USAGE', /sets no current-context/)
  })

  it('missing files → USAGE naming them', () => {
    const missing = join(tmp.dir, 'nope.yaml')
    expect(() => resolveKubeContext({kubeconfig: missing, env: {}})).toThrowWithCode(
      'USAGE',
      new RegExp(`kubeconfig ${missing.replace(/\./g, '\\.')} does not exist`),
    )
    expect(() => resolveKubeContext({env: {KUBECONFIG: missing}})).toThrowWithCode('USAGE', /none of the KUBECONFIG files exist: .*nope\.yaml/)
    expect(() => resolveKubeContext({env: {HOME: join(tmp.dir, 'empty-home')}})).toThrowWithCode('USAGE', /empty-home\/\.kube\/config does not exist/)
  })

  it('invalid YAML → USAGE naming the file', () => {
    const file = join(tmp.dir, 'bad.yaml')
    writeFileSync(file, 'contexts: [\n')
    expect(() => resolveKubeContext({kubeconfig: file, env: {}})).toThrowWithCode('USAGE', /bad\.yaml is not valid YAML/)
  })

  it('a kubeconfig nested too deeply to parse safely → USAGE naming the file and line, not a crash', () => {
    const file = join(tmp.dir, 'deep.yaml')
    writeFileSync(file, 'apiVersion: v1\ncontexts: ' + '['.repeat(MAX_NESTING) + ']'.repeat(MAX_NESTING) + '\n')
    expect(() => resolveKubeContext({kubeconfig: file, env: {}})).toThrowWithCode(
      'USAGE',
      /deep\.yaml is not valid YAML: the document is nested too deeply .* at line 2/,
    )
  })
})
