/** The Kubernetes and Cloud Run deploy use cases with plain fakes: what is recorded, asked and sent. */
import {describe, expect, it} from '@jest/globals'
import {applyManifests, type ApplyOptions, type ApplyPorts} from '../../../src/app/deploy.js'
import {runDeploy, runReplace, type RunOptions, type RunPorts} from '../../../src/app/run.js'
import type {PreflightOptions} from '../../../src/app/preflight.js'
import type {AuditRecord} from '../../../src/core/audit.js'
import type {Confirmation} from '../../../src/core/deploy.js'
import {deploymentYaml, digest, policy, reader, registry, trust, preflightOptions} from './fakes.js'

const pre = (over: Partial<PreflightOptions> = {}): PreflightOptions =>
  preflightOptions({target: {platform: 'gke', namespace: 'default', context: 'kind-dev'}, ...over})
const files = {'a.yaml': deploymentYaml('api', 'gcr.io/p/api:1.0')}
const tags = {'gcr.io/p/api:1.0': digest(1)}

async function applyFakes(policyText: string, answer: Confirmation = {answer: 'granted'}, input: Record<string, string> = files) {
  const records: AuditRecord[] = []
  const sent: unknown[] = []
  const said: string[] = []
  const t = await trust(policyText)
  const ports: ApplyPorts = {
    preflight: {reader: reader(input), resolver: registry(tags), openTrust: async () => t},
    audit: {
      append: async (r) => {
        records.push(r)
      },
    },
    auditId: 'id-1',
    confirm: async () => answer,
    say: (l) => {
      said.push(l)
    },
    enforcement: async () => ({mode: 'PROJECT_SINGLETON_POLICY_ENFORCE', enforced: true, cluster: 'us-central1.prod'}),
    apply: async (applier, objects) => {
      sent.push(...objects)
      return {applier: applier ?? 'kubectl', objects: objects.map((o) => ({kind: o.kind, name: o.name, action: 'created'}))}
    },
  }
  return {ports, records, sent, said}
}
const applyOptions = (over: Partial<ApplyOptions> = {}): ApplyOptions => ({
  preflight: pre(),
  mode: 'none',
  requireEnforcement: false,
  extraArgs: [],
  audit: {actor: 'me@host', target: {platform: 'gke'}},
  ...over,
})

describe('apply use case', () => {
  it('ALLOW: sends the pinned objects, records started then applied under one id', async () => {
    const f = await applyFakes(policy('allow'))
    const r = await applyManifests(applyOptions(), f.ports)
    expect(r.outcome).toBe('applied')
    expect(JSON.stringify(f.sent)).toContain(`gcr.io/p/api:1.0@${digest(1)}`)
    expect(f.records.map((x) => [x.outcome, x.id])).toEqual([
      ['started', 'id-1'],
      ['applied', 'id-1'],
    ])
    expect(f.records[1]?.sent).toEqual([{object: 'Deployment/apps/api', images: [`gcr.io/p/api:1.0@${digest(1)}`]}])
  })

  it('DENY: blocked, nothing sent, nothing confirmed', async () => {
    const f = await applyFakes(policy('deny'), {answer: 'declined'})
    const r = await applyManifests(applyOptions(), f.ports)
    expect(r.outcome).toBe('blocked')
    expect(f.sent).toEqual([])
    expect(f.records.map((x) => x.outcome)).toEqual(['blocked'])
  })

  it('break-glass: sent with the annotation, justification in every record', async () => {
    const f = await applyFakes(policy('deny'))
    const r = await applyManifests(applyOptions({breakGlass: 'INC-1: restore', preflight: pre({breakGlass: true})}), f.ports)
    expect(r.verdict).toBe('ALLOW_BREAKGLASS')
    expect(JSON.stringify(f.sent)).toContain('alpha.image-policy.k8s.io/break-glass')
    expect(f.records.every((x) => x.justification === 'INC-1: restore')).toBe(true)
  })

  it('declined confirmation: aborted (exit 9), nothing sent', async () => {
    const f = await applyFakes(policy('allow'), {answer: 'declined'})
    await expect(applyManifests(applyOptions(), f.ports)).rejects.toMatchObject({code: 'ABORTED', exitCode: 9})
    expect(f.sent).toEqual([])
    expect(f.records.map((x) => x.outcome)).toEqual(['aborted'])
  })

  it.each([
    [{extraArgs: ['-f', 'evil.yaml']}, /-f after --/],
    [{applier: 'api', extraArgs: ['--timeout=1s']}, /need the kubectl applier/],
    [{breakGlass: ' x '}, /needs a justification/],
    [{applier: 'helm'}, /applier must be kubectl or api/],
  ])('refused before anything is read or recorded: %j', async (over, message) => {
    const f = await applyFakes(policy('allow'))
    await expect(applyManifests(applyOptions(over as Partial<ApplyOptions>), f.ports)).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(message) as never,
    })
    expect(f.records).toEqual([])
    expect(f.sent).toEqual([])
  })

  it('a pre-flight that could not check is recorded as blocked', async () => {
    const f = await applyFakes(policy('allow'))
    f.ports.preflight.resolver = registry({})
    await expect(applyManifests(applyOptions(), f.ports)).rejects.toMatchObject({code: 'REGISTRY_NOT_FOUND'})
    expect(f.records.map((x) => [x.outcome, x.verdict])).toEqual([['blocked', 'UNKNOWN']])
  })
})

describe('apply use case: image-like values no rule examined', () => {
  const myApp = 'apiVersion: example.com/v1\nkind: MyApp\nmetadata: {name: shop, namespace: apps}\nspec:\n  image: gcr.io/p/other:2\n'
  const mixed = {'a.yaml': deploymentYaml('api', 'gcr.io/p/api:1.0') + '---\n' + myApp}

  it('refused by default (exit 3): nothing confirmed or sent, the refusal recorded as blocked', async () => {
    const f = await applyFakes(policy('allow'), {answer: 'granted'}, mixed)
    const err = await applyManifests(applyOptions({preflight: pre({unexamined: 'refuse-deploy'})}), f.ports).catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'INVALID_INPUT', exitCode: 3})
    expect((err as Error).message).toMatch(/1 image-like value\(s\) that no image rule examined/)
    expect(f.sent).toEqual([])
    expect(f.records.map((x) => x.outcome)).toEqual(['blocked'])
    expect(f.records[0]?.detail).toMatch(/INVALID_INPUT/)
  })

  it('--allow-unexamined-images: deployed as written, said loudly, and the values are in every audit record', async () => {
    const f = await applyFakes(policy('allow'), {answer: 'granted'}, mixed)
    const r = await applyManifests(applyOptions({preflight: pre({unexamined: 'warn'})}), f.ports)
    expect(r.outcome).toBe('applied')
    expect(JSON.stringify(f.sent)).toContain('"image":"gcr.io/p/other:2"')
    expect(f.said.join('\n')).toMatch(/UNEXAMINED IMAGES: --allow-unexamined-images: deploying 1 image-like value\(s\)/)
    expect(f.said.join('\n')).toMatch(/Verdict: INCOMPLETE: 1 image-like value\(s\) not examined/)
    expect(f.records.map((x) => [x.outcome, x.unexamined])).toEqual([
      ['started', [{file: 'a.yaml', line: 17, object: 'MyApp/shop', path: 'spec.image', value: 'gcr.io/p/other:2'}]],
      ['applied', [{file: 'a.yaml', line: 17, object: 'MyApp/shop', path: 'spec.image', value: 'gcr.io/p/other:2'}]],
    ])
  })
})

describe('Cloud Run use cases', () => {
  async function runFakes(policyText: string) {
    const records: AuditRecord[] = []
    const calls: unknown[] = []
    const t = await trust(policyText)
    const ports: RunPorts = {
      preflight: {reader: reader({'svc.yaml': knative}), resolver: registry(tags), openTrust: async () => t},
      audit: {
        append: async (r) => {
          records.push(r)
        },
      },
      auditId: 'id-2',
      confirm: async () => ({answer: 'granted'}),
      say: () => {},
      deployService: async (req) => {
        calls.push(req)
        return {revision: 'svc-00001', created: true}
      },
      replaceService: async (req) => {
        calls.push(req)
        return {revision: 'svc-00002', created: false}
      },
      readManifest: () => knative,
    }
    return {ports, records, calls}
  }
  const knative =
    'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  template:\n    spec:\n      containers:\n        - image: gcr.io/p/api:1.0\n'
  const runOptions = (over: Partial<RunOptions> = {}): RunOptions => ({
    preflight: pre({
      target: {platform: 'cloudrun', namespace: 'default'},
      inputs: {files: [], recursive: false, kustomizeDirs: []},
      images: ['gcr.io/p/api:1.0'],
    }),
    project: 'p',
    region: 'europe-west2',
    validateOnly: false,
    actor: 'me',
    ...over,
  })

  it('run deploy sends the pinned digest and records the revision', async () => {
    const f = await runFakes(policy('allow'))
    const r = await runDeploy('svc', runOptions(), f.ports)
    expect(r).toMatchObject({outcome: 'deployed', revision: 'svc-00001', service: 'svc'})
    expect(f.calls).toEqual([{project: 'p', region: 'europe-west2', service: 'svc', image: `gcr.io/p/api:1.0@${digest(1)}`}])
    expect(f.records.map((x) => x.outcome)).toEqual(['started', 'applied'])
  })

  it('run deploy on DENY sends nothing', async () => {
    const f = await runFakes(policy('deny'))
    expect((await runDeploy('svc', runOptions(), f.ports)).outcome).toBe('blocked')
    expect(f.calls).toEqual([])
  })

  it('run replace translates the pinned Knative Service with Binary Authorization on', async () => {
    const f = await runFakes(policy('allow'))
    const r = await runReplace(
      'svc.yaml',
      runOptions({preflight: pre({target: {platform: 'cloudrun', namespace: 'default'}, inputs: {files: ['svc.yaml'], recursive: false, kustomizeDirs: []}})}),
      f.ports,
    )
    expect(r.outcome).toBe('deployed')
    const req = f.calls[0] as {serviceId: string; service: {binaryAuthorization?: unknown; template: {containers: Array<{image: string}>}}}
    expect(req.serviceId).toBe('svc')
    expect(req.service.binaryAuthorization).toEqual({useDefault: true})
    expect(req.service.template.containers[0]?.image).toBe(`gcr.io/p/api:1.0@${digest(1)}`)
  })
})
