/** Shell completion's candidates (src/cli/complete.ts): kube contexts from the kubeconfig, profiles from .safe-deploy.yaml. */
import {describe, expect, it} from '@jest/globals'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {completionCandidates} from '../../../src/cli/complete.js'

const dir = mkdtempSync(join(tmpdir(), 'sd-complete-'))
const kubeconfig = join(dir, 'kubeconfig')
writeFileSync(
  kubeconfig,
  [
    'apiVersion: v1',
    'kind: Config',
    'current-context: gke_acme-prod_us-east1_prod',
    'clusters: [{name: c1, cluster: {server: "https://127.0.0.1:1"}}, {name: c2, cluster: {server: "https://127.0.0.1:2"}}]',
    'users: [{name: u, user: {token: t}}]',
    'contexts:',
    '  - {name: gke_acme-prod_us-east1_prod, context: {cluster: c1, user: u}}',
    '  - {name: kind-dev, context: {cluster: c2, user: u}}',
    '',
  ].join('\n'),
)
writeFileSync(
  join(dir, '.safe-deploy.yaml'),
  [
    'apiVersion: safe-deploy.dev/v1',
    'kind: Config',
    'profiles:',
    '  staging: {target: gke, context: kind-dev}',
    '  prod: {target: gke, context: gke_acme-prod_us-east1_prod}',
    '',
  ].join('\n'),
)

describe('completionCandidates', () => {
  it('contexts: the two contexts of the kubeconfig, from KUBECONFIG or --kubeconfig', () => {
    expect(completionCandidates('contexts', {env: {KUBECONFIG: kubeconfig}})).toEqual(['gke_acme-prod_us-east1_prod', 'kind-dev'])
    expect(completionCandidates('contexts', {kubeconfig, env: {HOME: dir}})).toEqual(['gke_acme-prod_us-east1_prod', 'kind-dev'])
  })
  it('profiles: the two profiles of ./.safe-deploy.yaml, as written, or of --config', () => {
    expect(completionCandidates('profiles', {cwd: dir})).toEqual(['staging', 'prod'])
    expect(completionCandidates('profiles', {config: join(dir, '.safe-deploy.yaml'), cwd: tmpdir()})).toEqual(['staging', 'prod'])
  })
  it('none: no config file gives no profiles; a missing kubeconfig is the usual USAGE error', () => {
    expect(completionCandidates('profiles', {cwd: mkdtempSync(join(tmpdir(), 'sd-complete-empty-'))})).toEqual([])
    expect(() => completionCandidates('contexts', {env: {HOME: join(dir, 'nowhere')}})).toThrow(/no kubeconfig/)
  })
})
