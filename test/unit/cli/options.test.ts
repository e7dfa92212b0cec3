/** The one options step: flags > profile > defaults, into typed settings (src/cli/options.ts). */
import {booleanAssignments, closest} from '../../../src/cli/suggest.js'
import {describe, expect, it} from '@jest/globals'
import {apiTimeoutMs, resolveSettings} from '../../../src/cli/options.js'
import type {Profile} from '../../../src/core/config.js'

const profile: Profile = {
  name: 'prod',
  platform: 'cloudrun',
  context: 'ctx-p',
  kubeconfig: '/p/kubeconfig',
  namespace: 'ns-p',
  cluster: 'us.p',
  project: 'proj-p',
  region: 'europe-west1',
  policy: '/p/policy.yaml',
  systemPolicy: '/p/system.yaml',
  attestors: '/p/attestors',
  attestations: '/p/atts',
  auditLog: '/p/audit.jsonl',
  reportMd: '/p/r.md',
  reportJunit: '/p/r.xml',
  requireEnforcement: true,
  serviceAccount: 'sa-p',
  applier: 'api',
}

describe('resolveSettings', () => {
  it('defaults without flags or profile', () => {
    expect(resolveSettings({}, undefined)).toEqual({platform: 'gke', kube: {}, trust: {}, requireEnforcement: false})
  })
  it('the profile fills every setting', () => {
    expect(resolveSettings({}, profile)).toEqual({
      platform: 'cloudrun',
      kube: {kubeconfig: '/p/kubeconfig', context: 'ctx-p', namespace: 'ns-p', applier: 'api'},
      cluster: 'us.p',
      project: 'proj-p',
      region: 'europe-west1',
      trust: {policy: '/p/policy.yaml', systemPolicy: '/p/system.yaml', attestors: '/p/attestors', attestations: '/p/atts'},
      auditLog: '/p/audit.jsonl',
      reportMd: '/p/r.md',
      reportJunit: '/p/r.xml',
      serviceAccount: 'sa-p',
      requireEnforcement: true,
    })
  })
  it('flags win over the profile, one by one', () => {
    const s = resolveSettings(
      {platform: 'gke', context: 'ctx-f', namespace: 'ns-f', 'audit-log': '/f/a', 'service-account': 'sa-f', applier: 'kubectl', attestors: '/f/att'},
      profile,
    )
    expect(s).toMatchObject({
      platform: 'gke',
      kube: {context: 'ctx-f', namespace: 'ns-f', kubeconfig: '/p/kubeconfig', applier: 'kubectl'},
      auditLog: '/f/a',
      serviceAccount: 'sa-f',
      trust: {attestors: '/f/att'},
    })
  })
  it("--project on the command line asks for the API policy: the profile's policy file is not used", () => {
    expect(resolveSettings({project: 'proj-f'}, profile).trust).toMatchObject({project: 'proj-f'})
    expect(resolveSettings({project: 'proj-f'}, profile).trust.policy).toBeUndefined()
  })
  it("a policy file in force: the profile's project does not become the policy source", () => {
    const s = resolveSettings({}, profile)
    expect(s.trust.policy).toBe('/p/policy.yaml')
    expect(s.trust.project).toBeUndefined()
    expect(s.project).toBe('proj-p') // still the target project
  })
  it('--require-enforcement or the profile turns the requirement on', () => {
    expect(resolveSettings({'require-enforcement': true}, undefined).requireEnforcement).toBe(true)
    expect(resolveSettings({'require-enforcement': false}, {name: 'x'}).requireEnforcement).toBe(false)
  })
})

describe('kubectl habits: --flag=true|false and did-you-mean', () => {
  const booleans = new Map([
    ['write', {allowNo: false}],
    ['color', {allowNo: true}],
  ])
  it('rewrites boolean assignments, leaves other flags and everything after -- alone', () => {
    expect(booleanAssignments(['--write=true', '--color=false', '--write=false', '--name=true', '--', '--write=true'], booleans)).toEqual([
      '--write',
      '--no-color',
      '--name=true',
      '--',
      '--write=true',
    ])
  })
  it('refuses any other value for a boolean', () => {
    expect(() => booleanAssignments(['--write=yes'], booleans)).toThrow(/--write is a boolean flag/)
  })
  it('suggests the closest name, only when close', () => {
    expect(closest('preflght', ['pin', 'preflight', 'apply'])).toBe('preflight')
    expect(closest('writ', ['write', 'platform'])).toBe('write')
    expect(closest('xyzzy', ['pin', 'preflight', 'apply'])).toBeUndefined()
  })
})

describe('apiTimeoutMs: --api-timeout SECONDS as the per-call deadline of the Google adapters', () => {
  it('30 s by default, else the flag, in milliseconds', () => {
    expect(apiTimeoutMs({})).toBe(30_000)
    expect(apiTimeoutMs({'api-timeout': 2})).toBe(2_000)
  })
})
