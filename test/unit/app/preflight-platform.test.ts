/**
 * The pre-flight use case with a platform policy, over plain fakes: Pods from the manifests and from --image, the
 * platform verdict folded into the classic one in enforce mode (break-glass admits, saying it would be denied),
 * reported only in monitor mode, ERROR as exit 4 and a refused deploy; and the settings that turn it on.
 */
import {describe, expect, it} from '@jest/globals'
import {preflight, type PreflightOptions, type TrustSources} from '../../../src/app/preflight.js'
import {SYSTEM_ALLOWLIST} from '../../../src/core/policy/allowlist.js'
import {exitForPreflight} from '../../../src/core/preflight.js'
import {parsePlatformPolicyText} from '../../../src/core/platform-policy/parse.js'
import {noClassicPolicy, platformPods, platformPolicyRefusal} from '../../../src/core/platform-policy/preflight.js'
import {resolveSettings} from '../../../src/cli/options.js'
import {parseConfigText} from '../../../src/core/config.js'
import type {PlatformFactPorts} from '../../../src/app/platform-facts.js'
import {digest, policy, reader, registry, trust} from './fakes.js'
import {applyManifests, type ApplyPorts} from '../../../src/app/deploy.js'
import type {AuditRecord} from '../../../src/core/audit.js'
import type {PreflightResult} from '../../../src/core/preflight.js'

const PLATFORM = parsePlatformPolicyText(
  `gkePolicy:
  checkSets:
  - scope: {kubernetesNamespace: apps}
    checks:
    - trustedDirectoryCheck: {trustedDirPatterns: [gcr.io/p/trusted]}
  - checks:
    - alwaysDeny: true
`,
  'platform.yaml',
)

const FRESHNESS = parsePlatformPolicyText('gkePolicy:\n  checkSets:\n  - checks:\n    - imageFreshnessCheck: {maxUploadAgeDays: 1}\n', 'fresh.yaml')

const noFacts: PlatformFactPorts = {
  signatures: () => {
    throw new Error('no signatures expected')
  },
  attestations: async () => {
    throw new Error('no attestations expected')
  },
  uploadTimes: async () => ({uploadTime: async () => ({status: 'error', message: 'Artifact Registry unavailable'})}),
  vulnerabilities: async () => {
    throw new Error('no vulnerabilities expected')
  },
  provenance: async () => {
    throw new Error('no provenance expected')
  },
}

function options(over: Partial<PreflightOptions> = {}): PreflightOptions {
  return {
    target: {platform: 'gke', namespace: 'default'},
    inputs: {files: ['a.yaml'], recursive: false, kustomizeDirs: []},
    images: [],
    rules: [],
    resolve: true,
    replayingLock: false,
    stripTag: false,
    breakGlass: false,
    systemAllowlist: {patterns: [...SYSTEM_ALLOWLIST], approximate: true},
    platformPolicy: {mode: 'enforce', now: new Date('2026-11-27T12:00:00Z')},
    ...over,
  }
}

const manifest = (name: string, image: string, ns = 'apps') =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  template:\n    spec:\n      serviceAccountName: api\n      initContainers:\n        - name: init\n          image: gcr.io/p/trusted/init:1\n      containers:\n        - name: app\n          image: ${image}\n`

const tags = {'gcr.io/p/trusted/init:1': digest(1), 'gcr.io/p/trusted/app:1': digest(2), 'gcr.io/p/other/app:1': digest(3)}

async function withPlatform(classic: TrustSources, platform = PLATFORM, facts = noFacts): Promise<TrustSources> {
  return {...classic, platformPolicy: {policy: platform, facts}}
}

describe('pre-flight with a platform policy', () => {
  it('Pods from the manifests (namespace, service account, init containers), matched as written: CONFORMANT, ALLOW', async () => {
    const t = await withPlatform(await trust(policy('allow')))
    const {result} = await preflight(options(), {
      reader: reader({'a.yaml': manifest('api', 'gcr.io/p/trusted/app:1')}),
      resolver: registry(tags),
      openTrust: async () => t,
    })
    expect(result.verdict).toBe('ALLOW')
    expect(result.platformPolicy?.pods).toEqual([
      expect.objectContaining({
        name: 'Deployment/api',
        namespace: 'apps',
        serviceAccount: 'api',
        checkSetIndex: 0,
        verdict: 'CONFORMANT',
        images: [
          expect.objectContaining({image: 'gcr.io/p/trusted/init:1', digest: digest(1), init: true, container: 'init'}),
          expect.objectContaining({image: 'gcr.io/p/trusted/app:1', digest: digest(2), init: false, container: 'app'}),
        ],
      }),
    ])
    expect(exitForPreflight(result)).toBe(0)
  })

  it('NON_CONFORMANT denies an image the classic policy allowed (exit 5); break-glass admits it, saying it would be denied', async () => {
    const files = {'a.yaml': manifest('api', 'gcr.io/p/other/app:1')}
    const denied = (
      await preflight(options(), {reader: reader(files), resolver: registry(tags), openTrust: async () => withPlatform(await trust(policy('allow')))})
    ).result
    expect(denied.verdict).toBe('DENY')
    expect(denied.images.map((i) => i.verdict)).toEqual(['ALLOW', 'DENY'])
    expect(denied.images[1]?.reasons.join('\n')).toMatch(/^platform policy: TrustedDirectoryCheck at index 0 .* NOT_CONFORMANT/m)
    expect(exitForPreflight(denied)).toBe(5)

    const glass = (
      await preflight(options({breakGlass: true}), {
        reader: reader(files),
        resolver: registry(tags),
        openTrust: async () => withPlatform(await trust(policy('allow'))),
      })
    ).result
    expect(glass.images[1]).toMatchObject({verdict: 'ALLOW_BREAKGLASS', wouldBe: 'DENY'})
  })

  it('--image alone: one Pod without namespace or service account, only the default set (alwaysDeny)', async () => {
    const t = await withPlatform(await trust(policy('allow')))
    const {result} = await preflight(options({inputs: {files: [], recursive: false, kustomizeDirs: []}, images: ['gcr.io/p/trusted/app:1']}), {
      reader: reader({}),
      resolver: registry(tags),
      openTrust: async () => t,
    })
    expect(result.platformPolicy?.pods).toEqual([expect.objectContaining({name: '--image', namespace: null, serviceAccount: null, checkSetIndex: 1})])
    expect(result.verdict).toBe('DENY')
  })

  it('monitor: the verdict and exit status are the classic ones; the platform verdict is reported with a note', async () => {
    const t = await withPlatform(await trust(policy('allow')))
    const {result} = await preflight(options({platformPolicy: {mode: 'monitor', now: new Date()}}), {
      reader: reader({'a.yaml': manifest('api', 'gcr.io/p/other/app:1')}),
      resolver: registry(tags),
      openTrust: async () => t,
    })
    expect(result.verdict).toBe('ALLOW')
    expect(result.platformPolicy).toMatchObject({mode: 'monitor', verdict: 'NON_CONFORMANT'})
    expect(result.notes.some((n) => n.includes('monitor mode'))).toBe(true)
    expect(exitForPreflight(result)).toBe(0)
  })

  it('ERROR (a fact that could not be read) is exit 4, and a deploy is refused; a classic DENY still wins (5)', async () => {
    const files = {'a.yaml': manifest('api', 'gcr.io/p/trusted/app:1')}
    const err = (
      await preflight(options(), {
        reader: reader(files),
        resolver: registry(tags),
        openTrust: async () => withPlatform(await trust(policy('allow')), FRESHNESS),
      })
    ).result
    expect(err.platformPolicy?.verdict).toBe('ERROR')
    expect(err.verdict).toBe('ALLOW')
    expect(exitForPreflight(err)).toBe(4)
    expect(platformPolicyRefusal(err)).toMatchObject({code: 'API_ERROR', exitCode: 4, message: expect.stringContaining('Artifact Registry unavailable')})

    const deny = (
      await preflight(options(), {reader: reader(files), resolver: registry(tags), openTrust: async () => withPlatform(await trust(policy('deny')), FRESHNESS)})
    ).result
    expect(exitForPreflight(deny)).toBe(5)
    expect(platformPolicyRefusal(deny)).toBeUndefined()
  })

  it('without a classic policy, the stand-in allows every image (no system exemption) and names itself', () => {
    const p = noClassicPolicy()
    expect(p.source).toBe('(none: --platform-policy only)')
    expect(p.defaultAdmissionRule.evaluationMode).toBe('ALWAYS_ALLOW')
    expect(p.globalPolicyEvaluationMode).toBe('DISABLE')
  })

  it('platformPods: one Pod per workload document, bare images together; the plan index maps back', () => {
    const base = {breakGlass: false, serviceAccount: 'default'}
    const r = platformPods([
      {...base, original: 'a', image: 'a', namespace: 'x', workload: 'Deployment/a', file: 'f', document: 1},
      {...base, original: 'b', image: 'b', namespace: 'default'},
      {
        ...base,
        original: 'c',
        image: 'c',
        namespace: 'x',
        workload: 'Deployment/a',
        file: 'f',
        document: 1,
        path: 'spec.template.spec.initContainers[0].image',
      },
      {...base, original: 'd', image: 'd', namespace: 'x', workload: 'Deployment/a', file: 'f', document: 2},
    ])
    expect(r.pods.map((p) => [p.name, p.namespace, p.images.map((i) => `${i.image}${i.init ? ' (init)' : ''}`)])).toEqual([
      ['Deployment/a', 'x', ['a', 'c (init)']],
      ['--image', undefined, ['b']],
      ['Deployment/a', 'x', ['d']],
    ])
    expect(r.planIndex).toEqual([[0, 2], [1], [3]])
  })
})

describe('settings: --platform-policy, --platform-policy-mode, --at, the profile keys', () => {
  it('flag over profile; enforce by default; the profile can set monitor', () => {
    expect(resolveSettings({'platform-policy': 'p.yaml'}, undefined).platformPolicy).toEqual({file: 'p.yaml', mode: 'enforce'})
    expect(resolveSettings({}, {name: 'prod', platformPolicy: '/cfg/p.yaml', platformPolicyMode: 'monitor'}).platformPolicy).toEqual({
      file: '/cfg/p.yaml',
      mode: 'monitor',
    })
    expect(resolveSettings({'platform-policy-mode': 'enforce'}, {name: 'prod', platformPolicy: 'x', platformPolicyMode: 'monitor'}).platformPolicy?.mode).toBe(
      'enforce',
    )
  })

  it('--at is RFC 3339 with an offset; a mode or --at without a platform policy is refused', () => {
    expect(resolveSettings({'platform-policy': 'p.yaml', at: '2026-11-27T12:00:00Z'}, undefined).platformPolicy?.at?.toISOString()).toBe(
      '2026-11-27T12:00:00.000Z',
    )
    expect(() => resolveSettings({'platform-policy': 'p.yaml', at: '2026-11-27 12:00'}, undefined)).toThrow(/RFC 3339/)
    expect(() => resolveSettings({'platform-policy-mode': 'monitor'}, undefined)).toThrow(/--platform-policy-mode without a platform policy/)
    expect(() => resolveSettings({at: '2026-11-27T12:00:00Z'}, undefined)).toThrow(/--at without a platform policy/)
  })

  it('the config file: platformPolicy and platformPolicyMode per profile, a wrong mode named with its line', () => {
    const cfg = parseConfigText('profiles:\n  prod:\n    platformPolicy: platform.yaml\n    platformPolicyMode: monitor\n', '.safe-deploy.yaml')
    expect(cfg.profiles.prod).toMatchObject({platformPolicy: 'platform.yaml', platformPolicyMode: 'monitor'})
    expect(() => parseConfigText('profiles:\n  prod:\n    platformPolicyMode: audit\n', '.safe-deploy.yaml')).toThrow(
      expect.objectContaining({errors: [expect.objectContaining({message: expect.stringMatching(/:3: .*platformPolicyMode: expected enforce or monitor/)})]}),
    )
  })
})

describe('apply with a platform policy', () => {
  async function apply(platform = PLATFORM, image = 'gcr.io/p/trusted/app:1') {
    const records: AuditRecord[] = []
    const sent: unknown[] = []
    const reported: PreflightResult[] = []
    const t = await withPlatform(await trust(policy('allow')), platform)
    const ports: ApplyPorts = {
      preflight: {reader: reader({'a.yaml': manifest('api', image)}), resolver: registry(tags), openTrust: async () => t},
      audit: {append: async (r) => void records.push(r)},
      auditId: 'id-1',
      confirm: async () => ({answer: 'granted'}),
      say: () => {},
      report: async (r) => void reported.push(r),
      enforcement: async () => ({mode: 'PROJECT_SINGLETON_POLICY_ENFORCE', enforced: true, cluster: 'us-central1.prod'}),
      apply: async (applier, objects) => {
        sent.push(...objects)
        return {applier: applier ?? 'kubectl', objects: objects.map((o) => ({kind: o.kind, name: o.name, action: 'created'}))}
      },
    }
    const run = applyManifests(
      {
        preflight: options({target: {platform: 'gke', namespace: 'default', context: 'kind-dev'}}),
        mode: 'none',
        requireEnforcement: false,
        extraArgs: [],
        audit: {actor: 'me', target: {platform: 'gke'}},
      },
      ports,
    )
    return {run, records, sent, reported}
  }

  it('CONFORMANT: applied', async () => {
    const a = await apply()
    expect((await a.run).outcome).toBe('applied')
    expect(a.sent).not.toEqual([])
  })

  it('NON_CONFORMANT: blocked, nothing sent', async () => {
    const a = await apply(PLATFORM, 'gcr.io/p/other/app:1')
    expect((await a.run).outcome).toBe('blocked')
    expect(a.sent).toEqual([])
  })

  it('ERROR: refused as could-not-check (exit 4) after the reports, recorded as blocked, nothing sent', async () => {
    const a = await apply(FRESHNESS)
    await expect(a.run).rejects.toMatchObject({code: 'API_ERROR', exitCode: 4})
    expect(a.reported).toHaveLength(1)
    expect(a.records.map((r) => r.outcome)).toEqual(['blocked'])
    expect(a.sent).toEqual([])
  })
})
