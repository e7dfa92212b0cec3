/**
 * Evidence files (docs/evidence.md): the parser and the published schema agree on good and bad files, a bad file is an
 * input error (exit 3) naming the field, base64 is read in both alphabets, and over the ports the evidence implements
 * the real evaluation says "could not check" for a fact the file lacks (ERROR / exit 4), NON_CONFORMANT for a tag that
 * was not resolved, and freshness is evaluated at collectedAt unless told otherwise.
 */
import {describe, expect, it} from '@jest/globals'
import {
  attestationOccurrenceJson,
  evidenceAttestations,
  evidencePlatformFactPorts,
  evidenceResolver,
  evidenceSignatureSource,
  parseEvidenceObject,
  parseEvidenceText,
  type EvidenceDocument,
} from '../../../src/core/evidence.js'
import {EXIT, SafeDeployError} from '../../../src/core/errors.js'
import {evaluatePlatformPolicy, platformFactsNeeded} from '../../../src/core/platform-policy/evaluate.js'
import {gatherPlatformFacts, type PlatformFactPorts} from '../../../src/app/platform-facts.js'
import type {PodToEvaluate} from '../../../src/core/platform-policy/types.js'
import {schemaErrors} from '../../support/schemas.js'
import {DIGEST, DIGEST2, KEY_A, attestation, pemBlock, policy} from './platform-policy/fixtures.js'

const NAME = 'us-docker.pkg.dev/acme/shop/app'
const occ = attestation(NAME, DIGEST, KEY_A, {id: 'a1'})

function doc(over: Partial<EvidenceDocument> = {}): EvidenceDocument {
  return {
    apiVersion: 'safe-deploy.dev/v1',
    kind: 'Evidence',
    collectedAt: '2026-11-27T12:00:00Z',
    images: {
      [`${NAME}:1.0`]: {
        digest: DIGEST,
        uploadTime: '2026-11-20T12:00:00Z',
        occurrences: [{...attestationOccurrenceJson(occ), name: 'projects/att-proj/occurrences/a1'}],
        sigstore: [],
      },
      [`${NAME}:untagged-never-resolved`]: {digest: null},
    },
    ...over,
  }
}

function errorOf(f: () => unknown): SafeDeployError {
  try {
    f()
  } catch (err) {
    if (err instanceof SafeDeployError) return err
    throw err
  }
  throw new Error('expected a SafeDeployError')
}

const bad: Array<[string, (d: Record<string, unknown>) => void, string]> = [
  ['apiVersion', (d) => (d['apiVersion'] = 'v2'), 'apiVersion: expected "safe-deploy.dev/v1"'],
  ['kind', (d) => (d['kind'] = 'ImageLock'), 'kind: expected "Evidence"'],
  ['a time without offset', (d) => (d['collectedAt'] = '2026-11-27T12:00:00'), 'collectedAt: expected an RFC 3339 time'],
  ['an unknown field', (d) => (d['extra'] = 1), 'extra: unknown field'],
  ['a bad digest', (d) => (image(d)['digest'] = 'sha256:abc'), `images["${NAME}:1.0"].digest: expected sha256:<64 hex> or null`],
  ['no digest', (d) => delete image(d)['digest'], `images["${NAME}:1.0"].digest: missing`],
  ['upload time not RFC 3339', (d) => (image(d)['uploadTime'] = 'yesterday'), `images["${NAME}:1.0"].uploadTime: expected an RFC 3339 time`],
  [
    'an occurrence name outside a project',
    (d) => (occurrences(d)[0]!['name'] = 'occurrences/x'),
    `images["${NAME}:1.0"].occurrences[0].name: expected projects/PROJECT/occurrences/ID`,
  ],
  [
    'a vulnerability occurrence without a name',
    (d) => occurrences(d).push({kind: 'VULNERABILITY', resourceUri: 'https://x@' + DIGEST, noteName: 'projects/goog-vulnz/notes/CVE-1', vulnerability: {}}),
    `images["${NAME}:1.0"].occurrences[1].name: missing`,
  ],
  [
    'an attestation that is not base64',
    (d) => ((occurrences(d)[0]!['attestation'] as Record<string, unknown>)['serializedPayload'] = '!!!'),
    `images["${NAME}:1.0"].occurrences[0]: `,
  ],
  ['a signature format', (d) => (image(d)['sigstore'] = [{format: 'pgp'}]), `images["${NAME}:1.0"].sigstore[0].format: expected "simplesigning" or "bundle"`],
  [
    'a payload that is not base64',
    (d) => (image(d)['sigstore'] = [{format: 'simplesigning', payload: 'a b c %', signature: 'AAAA'}]),
    `images["${NAME}:1.0"].sigstore[0].payload: expected base64`,
  ],
  ['builder keys without a key', (d) => (d['builderKeys'] = [{keyId: 'k'}]), 'builderKeys[0].publicKeyPem: expected a non-empty string'],
]

function image(d: Record<string, unknown>): Record<string, unknown> {
  return (d['images'] as Record<string, Record<string, unknown>>)[`${NAME}:1.0`] as Record<string, unknown>
}
function occurrences(d: Record<string, unknown>): Array<Record<string, unknown>> {
  return image(d)['occurrences'] as Array<Record<string, unknown>>
}

describe('parsing and the schema', () => {
  it('a good file parses, and validates against src/schemas/evidence.schema.json', () => {
    const d = doc({builderKeys: [{keyId: 'k1', publicKeyPem: KEY_A.pem}], policies: {platform: {gkePolicy: {}}}})
    expect(schemaErrors('evidence', d)).toEqual([])
    const e = parseEvidenceText(JSON.stringify(d), 'ev.json')
    expect(e.collectedAt.toISOString()).toBe('2026-11-27T12:00:00.000Z')
    expect(e.images.get(`${NAME}:1.0`)?.occurrences?.[0]).toMatchObject({project: 'projects/att-proj', kind: 'ATTESTATION'})
    // Carried unchanged for the builder-key verification.
    expect(e.builderKeys).toEqual([{keyId: 'k1', publicKeyPem: KEY_A.pem}])
  })

  it.each(bad)('%s: exit 3 naming the field, and the schema rejects it too', (_what, edit, message) => {
    const d = structuredClone(doc()) as unknown as Record<string, unknown>
    edit(d)
    const err = errorOf(() => parseEvidenceObject(d, 'ev.json'))
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.exitCode).toBe(EXIT.INPUT)
    expect(err.message).toContain(`ev.json: ${message}`)
    expect(schemaErrors('evidence', d)).not.toEqual([])
  })

  it('not JSON: exit 3', () => {
    expect(errorOf(() => parseEvidenceText('{', 'ev.json')).exitCode).toBe(EXIT.INPUT)
  })

  it('base64 in the standard and the URL-safe alphabets reads the same bytes', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x3e, 0x3f, 0x00])
    const std = bytes.toString('base64')
    const url = bytes.toString('base64url')
    expect(std).not.toBe(url)
    const read = (s: string) => {
      const d = doc()
      ;(d.images[`${NAME}:1.0`] as {sigstore: unknown[]}).sigstore = [{format: 'simplesigning', payload: s, signature: s}]
      const occurrence = d.images[`${NAME}:1.0`]?.occurrences?.[0] as {attestation: {serializedPayload: string}}
      occurrence.attestation.serializedPayload = Buffer.from(occ.serializedPayload).toString(s === url ? 'base64url' : 'base64')
      expect(schemaErrors('evidence', d)).toEqual([])
      const img = parseEvidenceObject(d, 'ev.json').images.get(`${NAME}:1.0`)
      const sig = img?.sigstore?.[0]
      if (sig?.format !== 'simplesigning') throw new Error('expected a simplesigning entry')
      return {
        payload: Buffer.from(sig.layer.payload),
        signature: sig.layer.signature,
        att: Buffer.from(img?.occurrences?.[0]?.attestation?.serializedPayload ?? []),
      }
    }
    const a = read(std)
    const b = read(url)
    expect(a.payload.equals(bytes)).toBe(true)
    expect(b.payload.equals(bytes)).toBe(true)
    // The signature is handed to the verifier in the standard alphabet whatever the file used.
    expect(a.signature).toBe(std)
    expect(b.signature).toBe(std)
    expect(b.att.equals(Buffer.from(occ.serializedPayload))).toBe(true)
  })
})

const POLICY = policy(`gkePolicy:
  checkSets:
  - checks:
    - displayName: fresh
      imageFreshnessCheck: {maxUploadAgeDays: 30}
    - displayName: attested
      simpleSigningAttestationCheck:
        containerAnalysisAttestationProjects: [projects/att-proj]
        attestationAuthenticators:
        - pkixPublicKeySet:
            pkixPublicKeys:
            - signatureAlgorithm: ECDSA_P256_SHA256
              publicKeyPem: |
${pemBlock(KEY_A.pem, 16)}
`)

/** The platform evaluation of one image over the evidence's ports: what `preflight --evidence` runs. */
async function evaluate(d: EvidenceDocument, image: string, digest: string | undefined, now: Date = new Date(d.collectedAt)) {
  const e = parseEvidenceObject(structuredClone(d), 'ev.json')
  const ports: PlatformFactPorts = evidencePlatformFactPorts(e)
  const pods: PodToEvaluate[] = [{name: 'p', namespace: 'shop', serviceAccount: 'default', images: [{image, ...(digest ? {digest} : {}), container: 'c'}]}]
  const facts = await gatherPlatformFacts(platformFactsNeeded(POLICY, pods), ports)
  const r = evaluatePlatformPolicy(POLICY, pods, facts, {now})
  return r.pods[0]?.images[0]?.checks.map((c) => c.verdict)
}

describe('a fact the evidence lacks is could-not-check, never an allow', () => {
  it('everything recorded: CONFORMANT, freshness at collectedAt', async () => {
    expect(await evaluate(doc(), `${NAME}:1.0`, DIGEST)).toEqual(['CONFORMANT', 'CONFORMANT'])
  })

  it('freshness at --at instead: a year later the same evidence is NON_CONFORMANT', async () => {
    expect(await evaluate(doc(), `${NAME}:1.0`, DIGEST, new Date('2027-11-27T12:00:00Z'))).toEqual(['NON_CONFORMANT', 'CONFORMANT'])
  })

  it('no upload time, no occurrences: ERROR for each check (not collected)', async () => {
    const d = doc()
    delete d.images[`${NAME}:1.0`]?.uploadTime
    delete d.images[`${NAME}:1.0`]?.occurrences
    expect(await evaluate(d, `${NAME}:1.0`, DIGEST)).toEqual(['ERROR', 'ERROR'])
  })

  it('uploadTime null (not in Artifact Registry): ERROR; occurrences present but none in the project: NON_CONFORMANT', async () => {
    const d = doc()
    const img = d.images[`${NAME}:1.0`] as {uploadTime: string | null; occurrences: Array<Record<string, unknown>>}
    img.uploadTime = null
    img.occurrences[0]!['name'] = 'projects/other-proj/occurrences/a1'
    expect(await evaluate(d, `${NAME}:1.0`, DIGEST)).toEqual(['ERROR', 'NON_CONFORMANT'])
  })

  it('an image the evidence does not hold at all (another digest): ERROR', async () => {
    expect(await evaluate(doc(), `${NAME}@${DIGEST2}`, undefined)).toEqual(['ERROR', 'ERROR'])
  })

  it('a tag that was not resolved (digest null): NON_CONFORMANT for the digest-based checks', async () => {
    expect(await evaluate(doc(), `${NAME}:untagged-never-resolved`, undefined)).toEqual(['NON_CONFORMANT', 'NON_CONFORMANT'])
  })

  it('classic: attestations of a digest with no occurrences recorded, and a digest not recorded, are EVIDENCE_MISSING (exit 4)', async () => {
    const d = doc()
    const e = parseEvidenceObject(d, 'ev.json')
    await expect(evidenceAttestations(e).listAttestations({noteName: 'projects/attestations/notes/qa', digest: DIGEST})).resolves.toHaveLength(1)
    await expect(evidenceAttestations(e).listAttestations({noteName: 'projects/other/notes/qa', digest: DIGEST})).resolves.toEqual([])
    const err = await evidenceAttestations(e)
      .listAttestations({noteName: 'projects/attestations/notes/qa', digest: DIGEST2})
      .catch((x: unknown) => x)
    expect(err).toBeInstanceOf(SafeDeployError)
    expect((err as SafeDeployError).code).toBe('EVIDENCE_MISSING')
    expect((err as SafeDeployError).exitCode).toBe(EXIT.UNCHECKED)
    const [missing] = await evidenceResolver(e).resolveAll([{image: 'other:1', domain: 'docker.io', path: 'library/other', reference: '1'}])
    expect(missing?.ok === false && missing.error.exitCode).toBe(EXIT.UNCHECKED)
  })

  it('registry signatures not recorded: a failed lookup (could not check), recorded but empty: absent (unsigned)', async () => {
    const d = doc()
    const e = parseEvidenceObject(d, 'ev.json')
    const req = {image: `${NAME}:1.0`, domain: 'us-docker.pkg.dev', path: 'acme/shop/app', digest: DIGEST, attestations: false}
    const [found] = await evidenceSignatureSource(e).read([req])
    expect(found?.legacySignatures.status).toBe('absent')
    const [missing] = await evidenceSignatureSource(e).read([{...req, digest: DIGEST2}])
    expect(missing?.legacySignatures).toMatchObject({status: 'error', code: 'EVIDENCE_MISSING'})
  })
})
