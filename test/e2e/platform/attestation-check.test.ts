/**
 * simpleSigningAttestationCheck and vulnerabilityCheck end to end: `preflight --platform-policy` lists the ATTESTATION occurrences of the
 * digest in the project the check names, from a local Grafeas (Container Analysis) gRPC server reached by the real
 * client library (--api-insecure), verifies them with the policy's key, and fails closed when the project cannot be
 * read (ERROR, exit 4). Nothing may reach Google or the metadata server.
 */
import {afterAll, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCli} from '../../support/cli.js'
import {startGrafeasServer, status, type GrafeasState, type GrpcServerHandle} from '../../support/gcp/grpc-servers.js'
import {startMetadataTrap, type MetadataTrap} from '../../support/metadata-trap.js'
import {schemaErrors} from '../../support/schemas.js'
import {DIGEST, DIGEST2, KEY_A, KEY_B, attestation, pemBlock} from '../../unit/core/platform-policy/fixtures.js'

const IMAGE = 'gcr.io/my-project/app'

let grafeas: GrpcServerHandle<GrafeasState>
let metadata: MetadataTrap
let dir: string
let policyFile: string

beforeAll(async () => {
  metadata = await startMetadataTrap()
  grafeas = await startGrafeasServer()
  dir = mkdtempSync(join(tmpdir(), 'sd-platform-ca-'))
  policyFile = join(dir, 'platform.yaml')
  writeFileSync(
    policyFile,
    `gkePolicy:
  checkSets:
  - checks:
    - displayName: Signed by QA
      simpleSigningAttestationCheck:
        containerAnalysisAttestationProjects: [projects/att-proj]
        attestationAuthenticators:
        - pkixPublicKeySet:
            pkixPublicKeys:
            - signatureAlgorithm: ECDSA_P256_SHA256
              publicKeyPem: |
${pemBlock(KEY_A.pem, 16)}
`,
  )
  // One attestation by the policy's key over DIGEST, one by another key over DIGEST2 (REST-like proto object form).
  for (const [digest, key] of [
    [DIGEST, KEY_A],
    [DIGEST2, KEY_B],
  ] as const) {
    const occ = attestation(IMAGE, digest, key)
    grafeas.state.addOccurrence(
      {
        resourceUri: occ.resourceUri,
        noteName: 'projects/att-proj/notes/qa',
        kind: 'ATTESTATION',
        attestation: {
          serializedPayload: Buffer.from(occ.serializedPayload),
          signatures: occ.signatures.map((s) => ({publicKeyId: s.publicKeyId, signature: Buffer.from(s.signature)})),
        },
      },
      'att-proj',
    )
  }
}, 60_000)

afterAll(async () => {
  await grafeas?.stop()
  await metadata?.stop()
})

beforeEach(() => {
  grafeas.clearFaults()
  grafeas.requests.length = 0
})

const preflight = (digest: string) =>
  runCli(
    [
      'preflight',
      '--image',
      `${IMAGE}@${digest}`,
      '--no-resolve',
      '--platform-policy',
      policyFile,
      '--containeranalysis-endpoint',
      grafeas.endpoint,
      '--api-insecure',
      '--json',
    ],
    {env: metadata.env(dir)},
  )

type Doc = {platformPolicy: {verdict: string; pods: Array<{images: Array<{checks: Array<{verdict: string; explanation: string}>}>}>}}
const checkOf = (d: Doc) => d.platformPolicy.pods[0]?.images[0]?.checks[0]

describe('simpleSigningAttestationCheck through Container Analysis', () => {
  it('an attestation signed by the policy key in the named project: CONFORMANT (exit 0), one ListOccurrences for the resource', async () => {
    const r = await preflight(DIGEST)
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as Doc
    expect(schemaErrors('preflight', doc)).toEqual([])
    expect(checkOf(doc)?.verdict).toBe('CONFORMANT')
    const calls = grafeas.requests.filter((q) => q.method.endsWith('ListOccurrences'))
    expect(calls.map((c) => (c.request as {parent: string; filter: string}).parent)).toEqual(['projects/att-proj'])
    expect((calls[0]?.request as {filter: string}).filter).toBe(`kind="ATTESTATION" AND resourceUrl="https://${IMAGE}@${DIGEST}"`)
  })

  it('signed by another key only: NON_CONFORMANT (exit 5)', async () => {
    const r = await preflight(DIGEST2)
    expect(r.code).toBe(5)
    expect(checkOf(JSON.parse(r.stdout) as Doc)?.verdict).toBe('NON_CONFORMANT')
  })

  it('the project cannot be read: ERROR, exit 4, never CONFORMANT; the local token is never printed', async () => {
    grafeas.failNext('ListOccurrences', status.PERMISSION_DENIED, {times: 20, message: 'caller lacks containeranalysis.occurrences.list'})
    const r = await preflight(DIGEST)
    expect(r.code).toBe(4)
    const doc = JSON.parse(r.stdout) as Doc
    expect(doc.platformPolicy.verdict).toBe('ERROR')
    expect(checkOf(doc)?.explanation).toMatch(/could not be read from projects\/att-proj/)
    expect(r.stdout + r.stderr).not.toContain('local-test-token')
  })
})

describe('vulnerabilityCheck through Container Analysis (DISCOVERY and VULNERABILITY occurrences)', () => {
  const VULN = 'gcr.io/scan-proj/app'
  let vulnPolicy: string

  beforeAll(() => {
    vulnPolicy = join(dir, 'vuln.yaml')
    writeFileSync(
      vulnPolicy,
      'gkePolicy:\n  checkSets:\n  - checks:\n    - vulnerabilityCheck: {maximumFixableSeverity: MEDIUM, maximumUnfixableSeverity: HIGH, containerAnalysisVulnerabilityProjects: [projects/scan-proj]}\n',
    )
    for (const [digest, severity] of [
      [DIGEST, 'LOW'],
      [DIGEST2, 'CRITICAL'],
    ] as const) {
      const resourceUri = `https://${VULN}@${digest}`
      grafeas.state.addOccurrence(
        {resourceUri, noteName: 'projects/goog-analysis/notes/PACKAGE_VULNERABILITY', kind: 'DISCOVERY', discovery: {analysisStatus: 'FINISHED_SUCCESS'}},
        'scan-proj',
      )
      grafeas.state.addOccurrence(
        {
          resourceUri,
          noteName: 'projects/goog-vulnz/notes/CVE-2026-1234',
          kind: 'VULNERABILITY',
          vulnerability: {effectiveSeverity: severity, fixAvailable: true},
        },
        'scan-proj',
      )
    }
  })

  const scan = (digest: string) =>
    runCli(
      [
        'preflight',
        '--image',
        `${VULN}@${digest}`,
        '--no-resolve',
        '--platform-policy',
        vulnPolicy,
        '--containeranalysis-endpoint',
        grafeas.endpoint,
        '--api-insecure',
        '--json',
      ],
      {env: metadata.env(dir)},
    )

  it('a finished scan with a LOW fixable vulnerability: CONFORMANT (exit 0); a CRITICAL one: NON_CONFORMANT (exit 5) naming the CVE', async () => {
    const ok = await scan(DIGEST)
    expect(ok.code).toBe(0)
    expect(checkOf(JSON.parse(ok.stdout) as Doc)?.verdict).toBe('CONFORMANT')
    const bad = await scan(DIGEST2)
    expect(bad.code).toBe(5)
    const check = checkOf(JSON.parse(bad.stdout) as Doc)
    expect(check).toMatchObject({verdict: 'NON_CONFORMANT', explanation: expect.stringContaining('CVE-2026-1234 (CRITICAL, fix available; limit MEDIUM)')})
  })

  it('no scan of the digest: ERROR (exit 4), never CONFORMANT', async () => {
    const r = await scan('sha256:' + '9'.repeat(64))
    expect(r.code).toBe(4)
    expect(checkOf(JSON.parse(r.stdout) as Doc)).toMatchObject({verdict: 'ERROR', explanation: expect.stringContaining('No valid vulnerability scan')})
  })
})
