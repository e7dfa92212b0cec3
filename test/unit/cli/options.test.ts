/** The one options step: flags > profile > defaults, into typed settings (src/cli/options.ts). */
import {booleanAssignments, closest} from '../../../src/cli/suggest.js'
import {describe, expect, it} from '@jest/globals'
import {apiTimeoutMs, resolveFlagSpellings, resolveSettings} from '../../../src/cli/options.js'
import type {Profile} from '../../../src/core/config.js'

const profile: Profile = {
  name: 'prod',
  target: 'cloudrun',
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
    expect(resolveSettings({}, undefined)).toEqual({target: 'gke', kube: {}, trust: {}, requireEnforcement: false})
  })
  it('the profile fills every setting', () => {
    expect(resolveSettings({}, profile)).toEqual({
      target: 'cloudrun',
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
      {target: 'gke', context: 'ctx-f', namespace: 'ns-f', 'audit-log': '/f/a', 'service-account': 'sa-f', applier: 'kubectl', attestors: '/f/att'},
      profile,
    )
    expect(s).toMatchObject({
      target: 'gke',
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

describe('resolveFlagSpellings: --target is where it deploys, --platform the image platform (old spellings for one release)', () => {
  const preflight = {targets: ['gke', 'cloudrun'], imagePlatform: true}
  const init = {targets: ['gke', 'cloudrun', 'both'], imagePlatform: false}
  const pin = {targets: [], imagePlatform: true}
  it('the new spellings pass through without a warning', () => {
    expect(resolveFlagSpellings({target: 'cloudrun', platform: 'linux/arm64'}, preflight)).toEqual({
      flags: {target: 'cloudrun', platform: 'linux/arm64'},
      warnings: [],
    })
    expect(resolveFlagSpellings({platform: 'linux/arm/v7'}, pin)).toEqual({flags: {platform: 'linux/arm/v7'}, warnings: []})
    expect(resolveFlagSpellings({target: 'both'}, init)).toEqual({flags: {target: 'both'}, warnings: []})
  })
  it('--platform gke|cloudrun on a command with --target means the target, with a warning', () => {
    expect(resolveFlagSpellings({platform: 'cloudrun'}, preflight)).toEqual({
      flags: {target: 'cloudrun', platform: undefined},
      warnings: ['--platform cloudrun is deprecated: use --target cloudrun'],
    })
    expect(resolveFlagSpellings({platform: 'both'}, init).flags).toMatchObject({target: 'both'})
    // oclif filled in the default of --target: the old spelling still decides.
    expect(resolveFlagSpellings({platform: 'cloudrun', target: 'gke'}, {...preflight, targetFromDefault: true}).flags).toMatchObject({
      target: 'cloudrun',
    })
    // the same value twice is only a warning
    expect(resolveFlagSpellings({platform: 'gke', target: 'gke'}, preflight).warnings).toHaveLength(1)
  })
  it('--image-platform X means --platform X, with a warning', () => {
    expect(resolveFlagSpellings({'image-platform': 'linux/arm64'}, preflight)).toEqual({
      flags: {platform: 'linux/arm64', 'image-platform': undefined},
      warnings: ['--image-platform linux/arm64 is deprecated: use --platform linux/arm64'],
    })
    // both old spellings at once: --platform gke is the target, --image-platform the image platform
    expect(resolveFlagSpellings({platform: 'gke', 'image-platform': 'linux/amd64'}, preflight)).toMatchObject({
      flags: {target: 'gke', platform: 'linux/amd64'},
      warnings: ['--platform gke is deprecated: use --target gke', '--image-platform linux/amd64 is deprecated: use --platform linux/amd64'],
    })
  })
  it('refuses contradictions and values that are neither', () => {
    expect(() => resolveFlagSpellings({platform: 'gke', target: 'cloudrun'}, preflight)).toThrow(
      /--platform gke \(deprecated: the target\) contradicts --target cloudrun/,
    )
    expect(() => resolveFlagSpellings({platform: 'linux/arm64', 'image-platform': 'linux/amd64'}, preflight)).toThrow(/contradicts --platform linux\/arm64/)
    expect(() => resolveFlagSpellings({platform: 'both'}, preflight)).toThrow(/--platform both is not a target here: use --target gke\|cloudrun/)
    expect(() => resolveFlagSpellings({platform: 'mars'}, preflight)).toThrow(/expects an image platform os\/arch\[\/variant\].*got "mars"/)
    // pin has no target: gke is not an image platform
    expect(() => resolveFlagSpellings({platform: 'gke'}, pin)).toThrow(/expects an image platform os\/arch/)
    // policy explain/lint and init have no image platform
    expect(() => resolveFlagSpellings({platform: 'linux/arm64'}, init)).toThrow(/this command has no image platform/)
  })
})
