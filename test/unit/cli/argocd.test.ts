/**
 * What `safe-deploy argocd generate` takes from Argo CD: parameters (PARAM_*) over plugin env
 * (ARGOCD_ENV_SAFE_DEPLOY_*), and the app directory's own safe-deploy files left out of the input.
 */
import {describe, expect, it} from '@jest/globals'
import {resolve} from 'node:path'
import {argocdParameters, excludingReader} from '../../../src/cli/argocd.js'

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
