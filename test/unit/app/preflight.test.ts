/** The pre-flight use case with plain fakes: facts gathered once, evaluated, and failures never allowed. */
import {describe, expect, it} from '@jest/globals'
import {preflight, type PreflightOptions, type PreflightPorts} from '../../../src/app/preflight.js'
import {SafeDeployError} from '../../../src/core/errors.js'
import {attestationFactsNeeded, evaluatePreflight, exitForPreflight} from '../../../src/core/preflight.js'
import {parsePolicyText} from '../../../src/core/policy/parse.js'
import {ATTESTOR, deploymentYaml, digest, policy, reader, registry, trust, preflightOptions} from './fakes.js'

const options = (over: Partial<PreflightOptions> = {}): PreflightOptions => preflightOptions(over)

const files = {'a.yaml': deploymentYaml('api', 'gcr.io/p/api:1.0') + '---\n' + deploymentYaml('web', 'gcr.io/p/api:1.0')}
const tags = {'gcr.io/p/api:1.0': digest(1)}

describe('pre-flight use case', () => {
  it('ALLOW when the pinned digest is attested; each (attestor, digest) fact gathered once; trust closed', async () => {
    const t = await trust(policy('attest'), [`gcr.io/p/api@${digest(1)}`])
    const ports: PreflightPorts = {reader: reader(files), resolver: registry(tags), openTrust: async () => t}
    const {result, pin} = await preflight(options(), ports)
    expect(result.verdict).toBe('ALLOW')
    expect(result.images.map((i) => [i.workload, i.image, i.namespace])).toEqual([
      ['Deployment/api', `gcr.io/p/api:1.0@${digest(1)}`, 'apps'],
      ['Deployment/web', `gcr.io/p/api:1.0@${digest(1)}`, 'apps'],
    ])
    expect(t.listed).toEqual([digest(1)])
    expect(t.closed).toBe(true)
    expect(pin?.outputs[0]?.changed).toBe(true)
  })

  it('DENY with the attest command as the next step when no attestation exists', async () => {
    const t = await trust(policy('attest'))
    const {result} = await preflight(options({attestHint: {project: 'p'}}), {reader: reader(files), resolver: registry(tags), openTrust: async () => t})
    expect(result.verdict).toBe('DENY')
    expect(result.images[0]?.nextSteps).toContain(`safe-deploy attest --image gcr.io/p/api@${digest(1)} --attestor ${ATTESTOR} --project p --kms-key KEY`)
  })

  it('--no-resolve: the tag is evaluated as written (denied per attestor, no lookup)', async () => {
    const t = await trust(policy('attest'))
    const resolver = registry(tags)
    const {result, pin} = await preflight(options({resolve: false}), {reader: reader(files), resolver, openTrust: async () => t})
    expect(result.verdict).toBe('DENY')
    expect(resolver.asked).toEqual([])
    expect(pin).toBeUndefined()
    expect(t.listed).toEqual([])
  })

  it('-n NAMESPACE against documents in another namespace: refused (kubectl words) before any lookup or trust; the same namespace goes through', async () => {
    let opened = false
    const resolver = registry(tags)
    const ports: PreflightPorts = {
      reader: reader(files),
      resolver,
      openTrust: async () => {
        opened = true
        return trust(policy('allow'))
      },
    }
    await expect(preflight(options({enforcedNamespace: 'payments'}), ports)).toThrowWithCode(
      'INVALID_INPUT',
      /^the namespace from the provided objects "apps" does not match the namespace "payments": a\.yaml: document 1: Deployment\/api \(namespace apps\); a\.yaml: document 2: Deployment\/web/,
    )
    expect(opened).toBe(false)
    expect((await preflight(options({enforcedNamespace: 'apps'}), ports)).result.verdict).toBe('ALLOW')
  })

  it('an input without any object (empty stdin) is refused before any lookup or trust', async () => {
    let opened = false
    const openTrust = async (): Promise<Awaited<ReturnType<PreflightPorts['openTrust']>>> => {
      opened = true
      return trust(policy('allow'))
    }
    const stdin = options({inputs: {files: ['-'], recursive: false, kustomizeDirs: []}})
    await expect(preflight(stdin, {reader: reader({'-': ''}), openTrust})).toThrowWithCode('INVALID_INPUT', /^no objects passed: <stdin> is empty$/)
    await expect(preflight(stdin, {reader: reader({'-': '# nothing\n---\n'}), openTrust})).toThrowWithCode(
      'INVALID_INPUT',
      /^no objects passed: <stdin> holds only comments or empty documents$/,
    )
    expect(opened).toBe(false)
  })

  it('input problems come before trust material is opened', async () => {
    let opened = false
    await expect(
      preflight(options({inputs: {files: [], recursive: false, kustomizeDirs: []}}), {
        reader: reader({}),
        openTrust: async () => {
          opened = true
          return trust(policy('allow'))
        },
      }),
    ).rejects.toMatchObject({code: 'USAGE'})
    await expect(
      preflight(options(), {
        reader: reader({'a.yaml': 'kind: [\n'}),
        openTrust: async () => {
          opened = true
          return trust(policy('allow'))
        },
      }),
    ).rejects.toBeInstanceOf(SafeDeployError)
    expect(opened).toBe(false)
  })

  it('an attestation source that fails is "could not check" (thrown), never allowed; trust still closed', async () => {
    const t = await trust(policy('attest'))
    t.attestations.listAttestations = async () => {
      throw new SafeDeployError('API_ERROR', 'Container Analysis: UNAVAILABLE')
    }
    await expect(preflight(options(), {reader: reader(files), resolver: registry(tags), openTrust: async () => t})).rejects.toMatchObject({code: 'API_ERROR'})
    expect(t.closed).toBe(true)
  })

  it('bare --image references resolve through the same port; a pod break-glass annotation counts per image', async () => {
    const t = await trust(policy('deny'))
    const {result} = await preflight(options({inputs: {files: [], recursive: false, kustomizeDirs: []}, images: ['gcr.io/p/api:1.0'], breakGlass: true}), {
      reader: reader({}),
      resolver: registry(tags),
      openTrust: async () => t,
    })
    expect(result.images[0]?.image).toBe(`gcr.io/p/api:1.0@${digest(1)}`)
    expect(result.verdict).toBe('ALLOW_BREAKGLASS')
  })
})

describe('pre-flight use case: image-like values no rule examined', () => {
  const myApp = 'apiVersion: example.com/v1\nkind: MyApp\nmetadata: {name: shop}\nspec:\n  image: gcr.io/p/other:2\n'
  const mixed = {'a.yaml': deploymentYaml('api', 'gcr.io/p/api:1.0') + '---\n' + myApp}

  it('the rest is evaluated, the values are in the result with a note, and the pre-flight is never a plain allow (exit 3)', async () => {
    const t = await trust(policy('allow'))
    const {result} = await preflight(options(), {reader: reader(mixed), resolver: registry(tags), openTrust: async () => t})
    expect(result.verdict).toBe('ALLOW')
    expect(result.images.map((i) => i.workload)).toEqual(['Deployment/api'])
    expect(result.unexamined).toEqual([expect.objectContaining({kind: 'MyApp', name: 'shop', path: 'spec.image', value: 'gcr.io/p/other:2', line: 17})])
    expect(result.notes).toContain(
      '1 image-like value(s) of the input were not examined (no image rule covers them): the verdict ALLOW covers only the examined images, so this pre-flight does not allow the input (exit 3)',
    )
    expect(exitForPreflight(result)).toBe(3)
  })

  it('a DENY stands (exit 5): the values not examined cannot make it better', async () => {
    const t = await trust(policy('deny'))
    const {result} = await preflight(options(), {reader: reader(mixed), resolver: registry(tags), openTrust: async () => t})
    expect(result.verdict).toBe('DENY')
    expect(result.unexamined).toHaveLength(1)
    expect(exitForPreflight(result)).toBe(5)
  })

  it.each(['DRYRUN_DENY', 'ALLOW_BREAKGLASS', 'ALLOW'] as const)('%s with unexamined values exits 3; without, by its verdict', (verdict) => {
    const u = {file: 'a.yaml', document: 0, line: 1, apiVersion: 'x/v1', kind: 'X', name: 'x', path: 'spec.image', value: 'a:1', reason: 'no-rule' as const}
    expect(exitForPreflight({verdict, unexamined: [u]})).toBe(3)
    expect(exitForPreflight({verdict, unexamined: []})).toBe(verdict === 'DRYRUN_DENY' ? 6 : 0)
  })

  it.each(['refuse', 'refuse-deploy'] as const)('%s: an input error listing every value, before trust material is opened', async (mode) => {
    let opened = false
    const err = await preflight(options({unexamined: mode}), {
      reader: reader(mixed),
      resolver: registry(tags),
      openTrust: async () => {
        opened = true
        return trust(policy('allow'))
      },
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'INVALID_INPUT', exitCode: 3})
    expect((err as SafeDeployError).errors).toHaveLength(1)
    expect((err as SafeDeployError).hint).toContain('{apiVersion: example.com/v1, kind: MyApp, path: spec.image}')
    expect((err as SafeDeployError).hint?.includes('--allow-unexamined-images')).toBe(mode === 'refuse-deploy')
    expect(opened).toBe(false)
  })

  it('no unexamined values: the field is there and empty', async () => {
    const {result} = await preflight(options(), {reader: reader(files), resolver: registry(tags), openTrust: async () => trust(policy('allow'))})
    expect(result.unexamined).toEqual([])
    expect(exitForPreflight(result)).toBe(0)
  })
})

describe('facts, then evaluation (core/preflight)', () => {
  const plan = {
    policy: parsePolicyText(policy('attest'), 'policy.yaml'),
    target: {platform: 'gke' as const, namespace: 'default'},
    images: [
      {original: 'a', image: `gcr.io/p/a@${digest(1)}`, digest: digest(1), namespace: 'default', serviceAccount: 'default', breakGlass: false},
      {original: 'b', image: `gcr.io/p/b@${digest(1)}`, digest: digest(1), namespace: 'default', serviceAccount: 'default', breakGlass: false},
      {original: 'c', image: 'gcr.io/p/c:tag', namespace: 'default', serviceAccount: 'default', breakGlass: false},
    ],
  }
  it('the facts needed: each (attestor, digest) once; a tag needs none', () => {
    expect(attestationFactsNeeded(plan)).toEqual([{attestor: ATTESTOR, digest: digest(1)}])
  })
  it('a fact the evaluation needs but was not gathered fails closed (INTERNAL), never allowed', () => {
    expect(() => evaluatePreflight(plan, new Map())).toThrow(expect.objectContaining({code: 'INTERNAL'}) as never)
  })
  it('evaluation is synchronous over the facts', () => {
    const r = evaluatePreflight(plan, new Map([[`${ATTESTOR}\u0000${digest(1)}`, {satisfied: true, reason: 'verified'}]]))
    expect(r.images.map((i) => i.verdict)).toEqual(['ALLOW', 'ALLOW', 'DENY'])
  })
})

/** A Progress port that records what it was told. */
function recorder() {
  const events: string[] = []
  return {
    events,
    progress: {
      start: (label: string, total?: number) => events.push(`start ${label}${total === undefined ? '' : ` /${total}`}`),
      tick: () => events.push('tick'),
      done: () => events.push('done'),
    },
  }
}

describe('pre-flight progress (issue #12 item 12)', () => {
  it('reports resolution (one tick per lookup), the policy read and each attestation check, each step ended', async () => {
    const two = {'a.yaml': deploymentYaml('api', 'gcr.io/p/api:1.0') + '---\n' + deploymentYaml('web', 'gcr.io/p/web:2.0')}
    const t = await trust(policy('attest'))
    const {events, progress} = recorder()
    await preflight(options(), {reader: reader(two), resolver: registry({...tags, 'gcr.io/p/web:2.0': digest(2)}), openTrust: async () => t, progress})
    expect(events).toEqual([
      'start resolving image digests /2',
      'tick',
      'tick',
      'done',
      'start opening the trust sources',
      'done',
      'start reading the Binary Authorization policy',
      'done',
      'start checking attestations (2 digest(s), 1 attestor(s)) /2',
      'tick',
      'tick',
      'done',
    ])
  })

  it('a step that fails is still ended (the terminal is never left drawing)', async () => {
    const {events, progress} = recorder()
    const failing = {resolveAll: async () => Promise.reject(new SafeDeployError('REGISTRY_UNAVAILABLE', 'down'))}
    await expect(
      preflight(options(), {reader: reader(files), resolver: failing, openTrust: async () => trust(policy('attest')), progress}),
    ).rejects.toMatchObject({code: 'REGISTRY_UNAVAILABLE'})
    expect(events).toEqual(['start resolving image digests /1', 'done'])
  })
})
