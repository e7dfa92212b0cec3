/**
 * The pre-flight with a registry signature requirement, over plain fakes: the policy and the
 * signatures must both allow; each (repository, digest) is read once; a failed lookup with nothing
 * verified is "could not check" (exit 4), never an allow or a denial.
 */
import {describe, expect, it} from '@jest/globals'
import {preflight, type PreflightOptions, type PreflightPorts} from '../../../src/app/preflight.js'
import {exitForPreflight} from '../../../src/core/preflight.js'
import {prepareRequirement} from '../../../src/core/signatures/requirement.js'
import type {SignatureRequest, SignatureSource} from '../../../src/core/ports.js'
import type {SignatureArtifacts} from '../../../src/core/signatures/types.js'
import {bundleArtifact, bundleFor, emptyArtifacts, legacySignatureLayer, testKey, type TestKey} from '../../support/sigstore.js'
import {deploymentYaml, digest, policy, reader, registry, trust, preflightOptions} from './fakes.js'

const REPO = 'gcr.io/p/api'
const files = {'a.yaml': deploymentYaml('api', `${REPO}:1.0`) + '---\n' + deploymentYaml('web', `${REPO}:1.0`)}
const tags = {[`${REPO}:1.0`]: digest(1)}

const options = (over: Partial<PreflightOptions> = {}): PreflightOptions => preflightOptions({signatures: {attestationTypes: []}, ...over})

/** A registry of signatures: repository@digest → what is there; records every read. */
function signatureSource(byKey: Record<string, (r: SignatureRequest) => SignatureArtifacts>): SignatureSource & {reads: string[]} {
  const reads: string[] = []
  return {
    reads,
    read: async (requests) =>
      requests.map((r) => {
        const key = `${r.domain}/${r.path}@${r.digest}`
        reads.push(key)
        return byKey[key]?.(r) ?? emptyArtifacts(`${r.domain}/${r.path}`, r.digest)
      }),
  }
}

async function run(_key: TestKey, trusted: TestKey[], source: SignatureSource, policyRule: 'allow' | 'attest' = 'allow', over: Partial<PreflightOptions> = {}) {
  const t = await trust(policy(policyRule))
  const requirement = prepareRequirement({keys: trusted.map((k) => ({name: k.name, pem: k.publicKeyPem})), identities: [], attestationTypes: []})
  const ports: PreflightPorts = {reader: reader(files), resolver: registry(tags), openTrust: async () => ({...t, signatures: {requirement, source}})}
  return preflight(options(over), ports)
}

describe('pre-flight with registry signatures required', () => {
  it('ALLOW when the policy allows and a legacy signature verifies; the digest is read once for two workloads', async () => {
    const key = testKey('ci.pub')
    const layer = legacySignatureLayer({key, repository: REPO, digest: digest(1)}).layer
    const source = signatureSource({
      [`${REPO}@${digest(1)}`]: (r) =>
        emptyArtifacts(`${r.domain}/${r.path}`, r.digest, {legacySignatures: {location: `${REPO}:sha256-….sig`, status: 'found', items: [layer]}}),
    })
    const {result} = await run(key, [key], source)
    expect(result.verdict).toBe('ALLOW')
    expect(source.reads).toEqual([`${REPO}@${digest(1)}`])
    expect(result.images[0]?.signatures).toMatchObject({satisfied: true, signatures: [{format: 'simplesigning', verified: true, verifiedBy: 'ci.pub'}]})
  })

  it('DENY (exit 5) when the policy allows but nothing verifies: the reason names the requirement and the next step signs', async () => {
    const key = testKey('ci.pub')
    const other = testKey('other.pub')
    const bundle = await bundleFor({key: other, digest: digest(1), repository: REPO})
    const source = signatureSource({
      [`${REPO}@${digest(1)}`]: (r) =>
        emptyArtifacts(`${r.domain}/${r.path}`, r.digest, {
          bundles: {location: `${REPO}@${digest(1)} (referrers)`, status: 'found', items: [bundleArtifact(bundle)]},
        }),
    })
    const {result} = await run(key, [key], source)
    expect(result.verdict).toBe('DENY')
    expect(exitForPreflight(result)).toBe(5)
    const image = result.images[0]
    expect(image?.reasons.at(-1)).toMatch(/denied by the registry signature requirement: .*ci\.pub/)
    expect(image?.nextSteps.join('\n')).toContain(`safe-deploy attest --sigstore --image ${REPO}@${digest(1)} --private-key KEY.pem`)
  })

  it('break-glass still admits an unsigned image, saying it would be denied', async () => {
    const key = testKey('ci.pub')
    const {result} = await run(key, [key], signatureSource({}), 'allow', {breakGlass: true})
    expect(result.images[0]).toMatchObject({verdict: 'ALLOW_BREAKGLASS', wouldBe: 'DENY'})
  })

  it('a failed lookup with nothing verified stops the pre-flight with exit 4, naming the image and the lookup', async () => {
    const key = testKey('ci.pub')
    const source = signatureSource({
      [`${REPO}@${digest(1)}`]: (r) =>
        emptyArtifacts(`${r.domain}/${r.path}`, r.digest, {
          legacySignatures: {location: `${REPO}:sha256-x.sig`, status: 'error', code: 'REGISTRY_UNAVAILABLE', message: 'HTTP 500 after 2 attempts'},
        }),
    })
    await expect(run(key, [key], source)).toThrowWithCode(
      'REGISTRY_UNAVAILABLE',
      /could not check the registry signatures of 2 image\(s\)[\s\S]*sha256-x\.sig: HTTP 500/,
    )
  })

  it('--no-resolve: a tag cannot satisfy the requirement (denied, told to pin), and nothing is read for it', async () => {
    const key = testKey('ci.pub')
    const source = signatureSource({})
    const {result} = await run(key, [key], source, 'allow', {resolve: false})
    expect(result.verdict).toBe('DENY')
    expect(result.images[0]?.signatures?.reason).toMatch(/names no digest/)
    expect(source.reads).toEqual([])
  })

  it('--sigstore-repository: signatures are read from the override, not the image repository', async () => {
    const key = testKey('ci.pub')
    const layer = legacySignatureLayer({key, repository: REPO, digest: digest(1)}).layer
    const source = signatureSource({
      [`gcr.io/p/signatures@${digest(1)}`]: (r) =>
        emptyArtifacts(`${r.domain}/${r.path}`, r.digest, {legacySignatures: {location: 'gcr.io/p/signatures:sha256-….sig', status: 'found', items: [layer]}}),
    })
    const {result} = await run(key, [key], source, 'allow', {signatures: {attestationTypes: [], repository: {domain: 'gcr.io', path: 'p/signatures'}}})
    expect(result.verdict).toBe('ALLOW')
    expect(source.reads).toEqual([`gcr.io/p/signatures@${digest(1)}`])
  })

  it('the policy still decides: a signed image the policy denies stays DENY', async () => {
    const key = testKey('ci.pub')
    const layer = legacySignatureLayer({key, repository: REPO, digest: digest(1)}).layer
    const source = signatureSource({
      [`${REPO}@${digest(1)}`]: (r) => emptyArtifacts(`${r.domain}/${r.path}`, r.digest, {legacySignatures: {location: 'x', status: 'found', items: [layer]}}),
    })
    const {result} = await run(key, [key], source, 'attest')
    expect(result.verdict).toBe('DENY')
    expect(result.images[0]?.signatures?.satisfied).toBe(true)
  })
})
