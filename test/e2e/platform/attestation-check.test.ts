/**
 * simpleSigningAttestationCheck end to end: `preflight --platform-policy` lists the ATTESTATION occurrences of the
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
