/**
 * `evidence collect` over plain fakes (src/app/evidence.ts): the pre-flight's own ports, recorded — every fact the policy
 * asked for and nothing else — and the file replayed through the evidence's implementations of the same ports gives the
 * online verdict. A classic source that cannot be read stops the collection (no file), as it stops the pre-flight.
 */
import {describe, expect, it} from '@jest/globals'
import {collectEvidence} from '../../../src/app/evidence.js'
import {preflight, type TrustSources} from '../../../src/app/preflight.js'
import {evidenceAttestations, evidenceAttestors, evidenceResolver, evidenceText, parseEvidenceText} from '../../../src/core/evidence.js'
import {parsePolicyObject} from '../../../src/core/policy/parse.js'
import {SafeDeployError} from '../../../src/core/errors.js'
import {ATTESTOR, deploymentYaml, digest, policy, preflightOptions, reader, registry, trust} from './fakes.js'

const A = 'gcr.io/p/attested:1'
const B = 'gcr.io/p/plain:1'
const tags = {[A]: digest(1), [B]: digest(2)}
const files = {'a.yaml': deploymentYaml('a', A) + '---\n' + deploymentYaml('b', B)}
const clock = {now: () => new Date('2026-11-27T12:00:00Z')}

describe('collectEvidence', () => {
  it('records the digests, the policy, the attestor and each digest’s attestations (and no other kind of fact); the replay gives the same verdicts', async () => {
    const t = await trust(policy('attest'), [`gcr.io/p/attested@${digest(1)}`])
    const online = await preflight(preflightOptions(), {reader: reader(files), resolver: registry(tags), openTrust: async () => t})
    expect(online.result.images.map((i) => i.verdict)).toEqual(['ALLOW', 'DENY'])

    const t2 = await trust(policy('attest'), [`gcr.io/p/attested@${digest(1)}`])
    const {document, missing} = await collectEvidence(
      {preflight: preflightOptions()},
      {reader: reader(files), resolver: registry(tags), openTrust: async () => t2, clock},
    )
    expect(missing).toEqual([])
    expect(document.collectedAt).toBe('2026-11-27T12:00:00.000Z')
    expect(Object.keys(document.images)).toEqual([A, B])
    expect(document.images[A]).toEqual({
      digest: digest(1),
      occurrences: [expect.objectContaining({kind: 'ATTESTATION', noteName: 'projects/p/notes/built-by-ci'})],
    })
    // Listed and none found: present and empty (a complete set), so the replay denies rather than guessing.
    expect(document.images[B]).toEqual({digest: digest(2), occurrences: []})
    expect(document.attestors?.map((a) => a['name'])).toEqual([ATTESTOR])
    expect(document.policies?.platform).toBeUndefined()
    expect(document.builderKeys).toBeUndefined()

    const e = parseEvidenceText(evidenceText(document), 'ev.json')
    const classic = e.policies.classic
    const replayTrust: TrustSources = {
      policy: {getPolicy: async () => parsePolicyObject(classic, 'ev.json#policies.classic')},
      attestors: evidenceAttestors(e),
      attestations: evidenceAttestations(e),
      close: async () => {},
    }
    const replay = await preflight(preflightOptions({replayingLock: true}), {
      reader: reader(files),
      resolver: evidenceResolver(e),
      openTrust: async () => replayTrust,
    })
    expect(replay.result.images.map((i) => [i.original, i.digest, i.verdict])).toEqual(online.result.images.map((i) => [i.original, i.digest, i.verdict]))
  })

  it('an ALWAYS_ALLOW policy asks for no attestation: none is recorded (nothing else)', async () => {
    const t = await trust(policy('allow'), [`gcr.io/p/attested@${digest(1)}`])
    const {document} = await collectEvidence(
      {preflight: preflightOptions()},
      {reader: reader(files), resolver: registry(tags), openTrust: async () => t, clock},
    )
    expect(document.images).toEqual({[A]: {digest: digest(1)}, [B]: {digest: digest(2)}})
    expect(document.attestors).toBeUndefined()
    expect(t.listed).toEqual([])
  })

  it('an attestation listing that fails stops the collection with the pre-flight’s "could not check"', async () => {
    const t = await trust(policy('attest'))
    t.attestations = {listAttestations: () => Promise.reject(new SafeDeployError('API_ERROR', 'Container Analysis unavailable'))}
    await expect(
      collectEvidence({preflight: preflightOptions()}, {reader: reader(files), resolver: registry(tags), openTrust: async () => t, clock}),
    ).rejects.toMatchObject({
      code: 'API_ERROR',
    })
  })
})
