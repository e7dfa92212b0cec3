/**
 * gatherPlatformFacts with plain fakes: each fact asked for once per digest (and project), nothing gathered for what
 * platformFactsNeeded did not ask, a failed lookup carried as data (→ ERROR in the evaluation, never CONFORMANT), and
 * what each fact makes of the check through the real evaluator.
 */
import {describe, expect, it} from '@jest/globals'
import {SafeDeployError} from '../../../src/core/errors.js'
import {gatherPlatformFacts, type PlatformFactPorts} from '../../../src/app/platform-facts.js'
import {evaluatePlatformPolicy, platformFactsNeeded} from '../../../src/core/platform-policy/evaluate.js'
import type {BuilderKeySpec, BuildOccurrenceFact, PodToEvaluate, UploadTimeFact, VulnerabilityScanFact} from '../../../src/core/platform-policy/types.js'
import type {SignatureRequest} from '../../../src/core/ports.js'
import type {AttestationOccurrence} from '../../../src/core/attestation/types.js'
import {DIGEST, GCB_KEY_ID, KEY_A, KEY_B, attestation, buildOccurrence, pemBlock, policy, slsaV1} from '../core/platform-policy/fixtures.js'

const AR = 'us-docker.pkg.dev/my-project/prod/app'
const NOW = new Date('2026-11-27T12:00:00Z')

const POLICY = policy(`gkePolicy:
  checkSets:
  - checks:
    - trustedDirectoryCheck: {trustedDirPatterns: [us-docker.pkg.dev/my-project/prod]}
    - imageFreshnessCheck: {maxUploadAgeDays: 30}
    - simpleSigningAttestationCheck:
        containerAnalysisAttestationProjects: [projects/attestations, projects/other]
        attestationAuthenticators:
        - pkixPublicKeySet:
            pkixPublicKeys:
            - signatureAlgorithm: ECDSA_P256_SHA256
              publicKeyPem: |
${pemBlock(KEY_A.pem, 16)}
    - sigstoreSignatureCheck:
        sigstoreAuthorities:
        - publicKeySet:
            publicKeys:
            - publicKeyPem: |
${pemBlock(KEY_B.pem, 16)}
    - vulnerabilityCheck: {maximumFixableSeverity: MEDIUM, maximumUnfixableSeverity: HIGH, containerAnalysisVulnerabilityProjects: [projects/scans]}
`)

const pods: PodToEvaluate[] = [
  {name: 'Deployment/a', namespace: 'prod', serviceAccount: 'default', images: [{image: `${AR}@${DIGEST}`, container: 'a'}]},
  // The same digest in another Pod: gathered once.
  {name: 'Deployment/b', namespace: 'prod', serviceAccount: 'default', images: [{image: `${AR}:1.0`, digest: DIGEST, container: 'b'}]},
]

interface Calls {
  signatures: SignatureRequest[][]
  attestations: string[]
  uploadTimes: string[]
  vulnerabilities: string[]
  provenance: string[]
}

function fakes(
  o: {
    occurrences?: AttestationOccurrence[]
    failProject?: string
    upload?: UploadTimeFact | Error
    signatureError?: boolean
    scan?: VulnerabilityScanFact
    builds?: BuildOccurrenceFact[]
    builderKeys?: BuilderKeySpec[]
  } = {},
) {
  const calls: Calls = {signatures: [], attestations: [], uploadTimes: [], vulnerabilities: [], provenance: []}
  const ports: PlatformFactPorts = {
    signatures: () => ({
      read: async (reqs) => {
        calls.signatures.push([...reqs])
        return reqs.map((r) => ({
          repository: `${r.domain}/${r.path}`,
          digest: r.digest,
          legacySignatures: o.signatureError
            ? {location: `${r.domain}/${r.path}:sig`, status: 'error' as const, code: 'REGISTRY_UNAVAILABLE', message: '503 Service Unavailable'}
            : {location: `${r.domain}/${r.path}:sig`, status: 'absent' as const},
          bundles: {location: `${r.domain}/${r.path} (referrers)`, status: 'absent' as const},
        }))
      },
    }),
    attestations: async () => ({
      listResourceAttestations: async (project, uri) => {
        calls.attestations.push(`${project} ${uri}`)
        if (project === o.failProject) throw new Error('PERMISSION_DENIED: token=ya29.secret')
        return project === 'attestations' ? (o.occurrences ?? []) : []
      },
    }),
    uploadTimes: async () => ({
      uploadTime: async (ref) => {
        calls.uploadTimes.push(ref)
        if (o.upload instanceof Error) throw o.upload
        return o.upload ?? {status: 'found', uploadTime: '2026-11-20T00:00:00Z'}
      },
    }),
    vulnerabilities: async () => ({
      vulnerabilityScan: async (project, uri) => {
        calls.vulnerabilities.push(`${project} ${uri}`)
        if (project === o.failProject) throw new Error('UNAVAILABLE')
        return (
          o.scan ?? {
            discoveryStatuses: ['FINISHED_SUCCESS'],
            vulnerabilities: [{noteName: 'projects/goog-vulnz/notes/CVE-2026-1', effectiveSeverity: 'LOW', fixAvailable: true}],
          }
        )
      },
    }),
    provenance: async () => ({
      listBuildOccurrences: async (project, uri) => {
        calls.provenance.push(`${project} ${uri}`)
        if (project === o.failProject) throw new Error('PERMISSION_DENIED: token=ya29.secret')
        return o.builds ?? []
      },
    }),
    ...(o.builderKeys === undefined ? {} : {builderKeys: o.builderKeys}),
  }
  return {ports, calls}
}

const checksOf = (facts: Awaited<ReturnType<typeof gatherPlatformFacts>>) =>
  evaluatePlatformPolicy(POLICY, pods, facts, {now: NOW}).pods[0]?.images[0]?.checks.map((c) => [c.kind, c.verdict])

describe('gatherPlatformFacts', () => {
  it('asks each source once per digest (and per project), with the resource URI of the digest', async () => {
    const {ports, calls} = fakes({occurrences: [attestation(AR, DIGEST, KEY_A)]})
    const needed = platformFactsNeeded(POLICY, pods)
    expect(needed).toHaveLength(1)
    const facts = await gatherPlatformFacts(needed, ports)
    expect(calls.signatures).toEqual([
      [expect.objectContaining({domain: 'us-docker.pkg.dev', path: 'my-project/prod/app', digest: DIGEST, attestations: false})],
    ])
    expect(calls.attestations.sort()).toEqual([`attestations https://${AR}@${DIGEST}`, `other https://${AR}@${DIGEST}`])
    expect(calls.uploadTimes).toEqual([`${AR}@${DIGEST}`])
    expect(calls.vulnerabilities).toEqual([`scans https://${AR}@${DIGEST}`])
    expect(checksOf(facts)).toEqual([
      ['TrustedDirectoryCheck', 'CONFORMANT'],
      ['ImageFreshnessCheck', 'CONFORMANT'],
      ['SimpleSigningAttestationCheck', 'CONFORMANT'],
      // No signature in the registry for the check's key.
      ['SigstoreSignatureCheck', 'NON_CONFORMANT'],
      ['VulnerabilityCheck', 'CONFORMANT'],
    ])
  })

  it('failed lookups are data: a registry error, an unreadable project and an upload time that cannot be read are ERROR, redacted', async () => {
    const {ports} = fakes({signatureError: true, failProject: 'attestations', upload: new Error('deadline exceeded')})
    ports.vulnerabilities = async () => ({
      vulnerabilityScan: async () => {
        throw new Error('UNAVAILABLE')
      },
    })
    const facts = await gatherPlatformFacts(platformFactsNeeded(POLICY, pods), ports)
    const art = Object.values(facts.artifacts)[0]
    expect(art?.attestations?.['projects/attestations']).toEqual({status: 'error', message: expect.not.stringContaining('ya29.secret')})
    expect(art?.uploadTime).toEqual({status: 'error', message: 'deadline exceeded'})
    expect(Object.values(art?.sigstore ?? {})[0]).toMatchObject({satisfied: false, couldNotCheck: true, reason: expect.stringContaining('503')})
    expect(checksOf(facts)).toEqual([
      ['TrustedDirectoryCheck', 'CONFORMANT'],
      ['ImageFreshnessCheck', 'ERROR'],
      ['SimpleSigningAttestationCheck', 'ERROR'],
      ['SigstoreSignatureCheck', 'ERROR'],
      ['VulnerabilityCheck', 'ERROR'],
    ])
  })

  it('an image outside Artifact Registry (not-found) and a stale upload: ERROR and NON_CONFORMANT', async () => {
    const notAr = await gatherPlatformFacts(
      platformFactsNeeded(POLICY, pods),
      fakes({upload: {status: 'not-found', message: 'not in Artifact Registry'}}).ports,
    )
    expect(checksOf(notAr)?.[1]).toEqual(['ImageFreshnessCheck', 'ERROR'])
    const stale = await gatherPlatformFacts(platformFactsNeeded(POLICY, pods), fakes({upload: {status: 'found', uploadTime: '2026-01-01T00:00:00Z'}}).ports)
    expect(checksOf(stale)?.[1]).toEqual(['ImageFreshnessCheck', 'NON_CONFORMANT'])
  })

  it('vulnerabilities: a fixable HIGH over the MEDIUM limit is NON_CONFORMANT; no finished scan is ERROR', async () => {
    const high = await gatherPlatformFacts(
      platformFactsNeeded(POLICY, pods),
      fakes({
        scan: {
          discoveryStatuses: ['FINISHED_SUCCESS'],
          vulnerabilities: [{noteName: 'projects/goog-vulnz/notes/CVE-2026-2', effectiveSeverity: 'HIGH', fixAvailable: true}],
        },
      }).ports,
    )
    expect(checksOf(high)?.[4]).toEqual(['VulnerabilityCheck', 'NON_CONFORMANT'])
    const pending = await gatherPlatformFacts(platformFactsNeeded(POLICY, pods), fakes({scan: {discoveryStatuses: ['PENDING'], vulnerabilities: []}}).ports)
    expect(checksOf(pending)?.[4]).toEqual(['VulnerabilityCheck', 'ERROR'])
  })

  it('slsaCheck: BUILD occurrences once per digest and project, the builder keys carried with them; an unreadable project is ERROR, redacted', async () => {
    const p = policy(
      'gkePolicy:\n  checkSets:\n  - checks:\n    - slsaCheck: {rules: [{trustedBuilder: GOOGLE_CLOUD_BUILD, attestationSource: {containerAnalysisAttestationProjects: [projects/builds, projects/other]}}]}\n',
    )
    const keys = [{keyId: GCB_KEY_ID, publicKeyPem: KEY_A.pem}]
    const builds = [buildOccurrence(AR, DIGEST, slsaV1({name: AR, digest: DIGEST}), KEY_A)]
    const ok = fakes({builds, builderKeys: keys})
    const facts = await gatherPlatformFacts(platformFactsNeeded(p, pods), ok.ports)
    expect(ok.calls.provenance.sort()).toEqual([`builds https://${AR}@${DIGEST}`, `other https://${AR}@${DIGEST}`])
    expect(facts.builderKeys).toEqual(keys)
    const verdict = (f: typeof facts) => evaluatePlatformPolicy(p, pods, f, {now: NOW}).pods[0]?.images[0]?.checks[0]
    expect(verdict(facts)?.verdict).toBe('CONFORMANT')
    const failing = await gatherPlatformFacts(platformFactsNeeded(p, pods), fakes({failProject: 'other', builderKeys: keys}).ports)
    expect(failing.artifacts[`${AR}@${DIGEST}`]?.provenance?.['projects/other']).toEqual({status: 'error', message: expect.not.stringContaining('ya29.secret')})
    expect(verdict(failing)?.verdict).toBe('ERROR')
    // Without --builder-keys the facts carry none, and the provenance found is ERROR asking for them.
    const noKeys = await gatherPlatformFacts(platformFactsNeeded(p, pods), fakes({builds}).ports)
    expect(noKeys.builderKeys).toBeUndefined()
    expect(verdict(noKeys)).toMatchObject({verdict: 'ERROR', explanation: expect.stringContaining('pass --builder-keys')})
  })

  it('a builder key given by KMS key version is read with getPublicKey (only that one); a KMS failure stops the gathering (exit 4)', async () => {
    const p = policy(
      'gkePolicy:\n  checkSets:\n  - checks:\n    - slsaCheck: {rules: [{trustedBuilder: GOOGLE_CLOUD_BUILD, attestationSource: {containerAnalysisAttestationProjects: [projects/builds]}}]}\n',
    )
    const builds = [buildOccurrence(AR, DIGEST, slsaV1({name: AR, digest: DIGEST}), KEY_A)]
    const asked: string[] = []
    const kms = (fail: boolean): Pick<PlatformFactPorts, 'kmsPublicKeys'> => ({
      kmsPublicKeys: async () => ({
        publicKeyPem: async (name) => {
          asked.push(name)
          if (fail) throw new SafeDeployError('API_AUTH', `PERMISSION_DENIED reading the public key of ${name}`)
          return KEY_A.pem
        },
      }),
    })
    const specs = [{keyId: GCB_KEY_ID}, {keyId: 'other', publicKeyPem: KEY_B.pem}]
    const facts = await gatherPlatformFacts(platformFactsNeeded(p, pods), {...fakes({builds, builderKeys: specs}).ports, ...kms(false)})
    expect(asked).toEqual([GCB_KEY_ID])
    expect(facts.builderKeys).toEqual([
      {keyId: GCB_KEY_ID, publicKeyPem: KEY_A.pem},
      {keyId: 'other', publicKeyPem: KEY_B.pem},
    ])
    expect(evaluatePlatformPolicy(p, pods, facts, {now: NOW}).verdict).toBe('CONFORMANT')
    await expect(gatherPlatformFacts(platformFactsNeeded(p, pods), {...fakes({builds, builderKeys: specs}).ports, ...kms(true)})).rejects.toMatchObject({
      code: 'API_AUTH',
    })
  })

  it('nothing needed, nothing opened: trusted directories and allowlists need no facts', async () => {
    const p = policy('gkePolicy:\n  checkSets:\n  - checks:\n    - trustedDirectoryCheck: {trustedDirPatterns: [gcr.io/p/d]}\n')
    const opened: string[] = []
    const facts = await gatherPlatformFacts(platformFactsNeeded(p, pods), {
      signatures: () => {
        opened.push('signatures')
        throw new Error('not expected')
      },
      attestations: async () => {
        opened.push('attestations')
        throw new Error('not expected')
      },
      uploadTimes: async () => {
        opened.push('uploadTimes')
        throw new Error('not expected')
      },
      vulnerabilities: async () => {
        opened.push('vulnerabilities')
        throw new Error('not expected')
      },
      provenance: async () => {
        opened.push('provenance')
        throw new Error('not expected')
      },
      builderKeys: [{keyId: 'k', publicKeyPem: KEY_A.pem}],
    })
    expect(opened).toEqual([])
    expect(facts).toEqual({artifacts: {}})
  })
})
