/**
 * What `safe-deploy argocd generate` takes from Argo CD: parameters (PARAM_*) over plugin env
 * (ARGOCD_ENV_SAFE_DEPLOY_*), and the app directory's own safe-deploy files left out of the input.
 */
import {afterAll, describe, expect, it} from '@jest/globals'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {argocdInputs, argocdParameters, excludingReader} from '../../../src/cli/argocd.js'
import {helmTemplateArgs} from '../../../src/adapters/fs/inputs.js'

describe('argocd parameters', () => {
  it('a parameter set in the Application wins over its env entry; empty values are unset', () => {
    expect(
      argocdParameters({
        PARAM_POLICY: 'prod-policy.yaml',
        ARGOCD_ENV_SAFE_DEPLOY_POLICY: 'other.yaml',
        ARGOCD_ENV_SAFE_DEPLOY_PROFILE: 'prod',
        PARAM_CLUSTER: '',
        ARGOCD_ENV_SAFE_DEPLOY_CLUSTER: 'us-central1.prod',
        PARAM_UNKNOWN: 'x',
      }),
    ).toEqual({policy: 'prod-policy.yaml', profile: 'prod', cluster: 'us-central1.prod'})
  })

  it('an array parameter (PARAM_<NAME>_<i>) is read in order and wins over the env list', () => {
    expect(argocdParameters({PARAM_VALUES_0: 'values.yaml', PARAM_VALUES_1: 'values-prod.yaml', ARGOCD_ENV_SAFE_DEPLOY_VALUES: 'x.yaml'})).toEqual({
      values: 'values.yaml,values-prod.yaml',
    })
    expect(argocdParameters({ARGOCD_ENV_SAFE_DEPLOY_VALUES: 'a.yaml,b.yaml'})).toEqual({values: 'a.yaml,b.yaml'})
  })

  it('the config, the policy and the trust directories are not read as manifests', async () => {
    const files = ['k8s/a.yaml', '.safe-deploy.yaml', 'policy.yaml', 'attestors/ci.json', 'attestations/x.json', 'attestors-old/keep.yaml', 'kustomize:.']
    const reader = excludingReader({read: () => Promise.resolve(files.map((file) => ({file, text: ''})))}, [
      '.safe-deploy.yaml',
      resolve('policy.yaml'),
      'attestors',
      'attestations',
      undefined,
    ])
    const read = await reader.read({files: ['.'], recursive: true, kustomizeDirs: []})
    expect(read.map((f) => f.file)).toEqual(['k8s/a.yaml', 'attestors-old/keep.yaml', 'kustomize:.'])
  })
})

describe('argocd inputs: the source type Argo CD would pick', () => {
  const app = mkdtempSync(join(tmpdir(), 'sd-argocd-unit-'))
  for (const [dir, files] of [
    ['plain', ['app.yaml']],
    ['kust', ['kustomization.yaml', 'Chart.yaml']],
    ['chart', ['Chart.yaml']],
  ] as const) {
    mkdirSync(join(app, dir))
    for (const f of files) writeFileSync(join(app, dir, f), '')
  }
  afterAll(() => rmSync(app, {recursive: true, force: true}))
  const env = {ARGOCD_APP_NAME: 'shop-prod', ARGOCD_APP_NAMESPACE: 'shop', KUBE_VERSION: '1.33.0', KUBE_API_VERSIONS: 'v1, apps/v1,'}

  it('plain manifests: the directory, recursively', () => {
    expect(argocdInputs({manifests: 'plain'}, env, app)).toEqual({files: ['plain'], recursive: true, kustomizeDirs: []})
  })

  it('a kustomization wins over a Chart.yaml beside it, as in Argo CD', () => {
    expect(argocdInputs({manifests: 'kust'}, env, app)).toEqual({files: [], recursive: false, kustomizeDirs: ['kust']})
  })

  it("a chart: helm template with the Application's name, namespace, cluster version and API versions, values beside the chart", () => {
    const inputs = argocdInputs({manifests: 'chart', values: 'values.yaml, values-prod.yaml'}, env, app)
    expect(inputs).toEqual({
      files: [],
      recursive: false,
      kustomizeDirs: [],
      helmCharts: [
        {
          dir: 'chart',
          release: 'shop-prod',
          namespace: 'shop',
          valuesFiles: ['chart/values.yaml', 'chart/values-prod.yaml'],
          kubeVersion: '1.33.0',
          apiVersions: ['v1', 'apps/v1'],
        },
      ],
    })
    expect(helmTemplateArgs(inputs.helmCharts![0]!)).toEqual([
      'template',
      'shop-prod',
      'chart',
      '--include-crds',
      '--namespace',
      'shop',
      '--kube-version',
      '1.33.0',
      '--api-versions',
      'v1',
      '--api-versions',
      'apps/v1',
      '--values',
      'chart/values.yaml',
      '--values',
      'chart/values-prod.yaml',
    ])
  })

  it('run by hand (no Argo CD environment): the release is the directory name, helm keeps its own defaults', () => {
    const [chart] = argocdInputs({manifests: 'chart'}, {}, app).helmCharts ?? []
    expect(chart).toEqual({dir: 'chart', release: 'chart', namespace: undefined, valuesFiles: [], kubeVersion: undefined, apiVersions: []})
    expect(helmTemplateArgs(chart!)).toEqual(['template', 'chart', 'chart', '--include-crds'])
  })

  it('a values URL is an input error (helm would fetch it)', () => {
    expect(() => argocdInputs({manifests: 'chart', values: 'oci://example.com/v.yaml'}, env, app)).toThrowWithCode(
      'INVALID_INPUT',
      /a URL, not a file of the app/,
    )
  })
})
