/**
 * Google APIs as trust sources, end to end through the built CLI: the policy and attestor come from
 * a local Binary Authorization REST server, attestations from a local Grafeas (Container Analysis)
 * gRPC server, signatures from a local Cloud KMS gRPC server — each reached by the real client
 * library with --api-insecure and its own endpoint flag. Nothing may reach Google or the metadata
 * server, the local fake token must never be printed, and API failures are "could not check".
 */
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startRegistry, type TestRegistry} from '../../support/registry.js'
import {runCli, type CliResult} from '../../support/cli.js'
import {startBinauthzRestServer, type BinauthzRestServer} from '../../support/gcp/binauthz-rest-server.js'
import {startGrafeasServer, startKmsServer, status, type GrpcServerHandle, type GrafeasState, type KmsState} from '../../support/gcp/grpc-servers.js'
import {startMetadataTrap, type MetadataTrap} from '../../support/metadata-trap.js'

const PROJECT = 'trust-proj'
const ATTESTOR = `projects/${PROJECT}/attestors/kms-signer`
const NOTE = `projects/${PROJECT}/notes/kms-signer`
const KEY_VERSION = `projects/${PROJECT}/locations/global/keyRings/ci/cryptoKeys/attest/cryptoKeyVersions/1`
const KEY_ID = `//cloudkms.googleapis.com/v1/${KEY_VERSION}`
/** What src/adapters/gcp/clients.ts hands the clients under --api-insecure: it must never be printed. */
const LOCAL_TOKEN = 'local-test-token'

let reg: TestRegistry
let rest: BinauthzRestServer
let grafeas: GrpcServerHandle<GrafeasState>
let kms: GrpcServerHandle<KmsState>
let dir: string
let appDigest: string
let metadata: MetadataTrap
const outputs: string[] = []

beforeAll(async () => {
  metadata = await startMetadataTrap()
  reg = await startRegistry()
  rest = await startBinauthzRestServer()
  grafeas = await startGrafeasServer()
  kms = await startKmsServer()
  dir = mkdtempSync(join(tmpdir(), 'sd-gcp-'))
  appDigest = (await reg.pushImage('team/app', '1.4')).digest
  await reg.pushImage('team/other', '3.0')
  const pem = kms.state.addKey(KEY_VERSION, 'EC_SIGN_P256_SHA256')
  // What `gcloud container binauthz policy export --format=json` / `attestors describe` return (REST JSON).
  rest.state.policies.set(PROJECT, {
    name: `projects/${PROJECT}/policy`,
    globalPolicyEvaluationMode: 'ENABLE',
    admissionWhitelistPatterns: [{namePattern: 'gcr.io/google_containers/*'}],
    defaultAdmissionRule: {evaluationMode: 'REQUIRE_ATTESTATION', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG', requireAttestationsBy: [ATTESTOR]},
    updateTime: '2026-11-01T00:00:00Z',
  })
  rest.state.attestors.set(ATTESTOR, {
    name: ATTESTOR,
    updateTime: '2026-11-01T00:00:00Z',
    userOwnedGrafeasNote: {
      noteReference: NOTE,
      publicKeys: [{id: KEY_ID, pkixPublicKey: {publicKeyPem: pem, signatureAlgorithm: 'ECDSA_P256_SHA256'}}],
      delegationServiceAccountEmail: 'service-123@gcp-sa-binaryauthorization.iam.gserviceaccount.com',
    },
  })
}, 60_000)

afterAll(async () => {
  await reg?.stop()
  await rest?.stop()
  await grafeas?.stop()
  await kms?.stop()
  await metadata?.stop()
})

beforeEach(() => {
  rest.clearFaults()
  grafeas.clearFaults()
  kms.clearFaults()
  rest.requests.length = 0
  grafeas.requests.length = 0
  kms.requests.length = 0
})

afterEach(() => {
  expect(metadata.hits).toEqual([])
})

async function cli(args: string[]): Promise<CliResult> {
  const r = await runCli(args, {env: metadata.env(dir)})
  outputs.push(r.stdout, r.stderr)
  return r
}

const apis = (): string[] => ['--binauthz-endpoint', rest.endpoint, '--containeranalysis-endpoint', grafeas.endpoint, '--api-insecure']

const preflight = (image: string, extra: string[] = []): Promise<CliResult> =>
  cli(['preflight', '--image', image, '--project', PROJECT, ...apis(), '--insecure-registry', reg.host, '--json', ...extra])

const attest = (image: string, extra: string[] = []): Promise<CliResult> =>
  cli([
    'attest',
    '--image',
    image,
    '--attestor',
    ATTESTOR,
    '--kms-key',
    KEY_VERSION,
    '--kms-endpoint',
    kms.endpoint,
    ...apis(),
    '--insecure-registry',
    reg.host,
    '--json',
    ...extra,
  ])

describe('preflight and attest against the Google APIs (local servers)', () => {
  it('DENY before attesting: policy and attestor read over REST, attestations listed from Grafeas', async () => {
    const r = await preflight(`${reg.host}/team/app:1.4`)
    expect(r.code).toBe(5)
    expect(r.stderr).toBe('') // --json: nothing else on stderr (no library warnings)
    const j = JSON.parse(r.stdout)
    expect(j.verdict).toBe('DENY')
    expect(j.images[0].digest).toBe(appDigest)
    expect(rest.requests.map((x) => `${x.method} ${x.path}`)).toEqual(expect.arrayContaining([`GET /v1/projects/${PROJECT}/policy`, `GET /v1/${ATTESTOR}`]))
    expect(rest.requests.every((x) => x.hasAuthorization)).toBe(true)
    expect(grafeas.calls('ListNoteOccurrences').map((c) => c.request.name)).toEqual([NOTE])
  })

  it('attest --kms-key signs with KMS and stores the occurrence in Container Analysis; preflight then ALLOWs', async () => {
    const a = await attest(`${reg.host}/team/app:1.4`)
    expect(a.stderr).toBe('')
    expect(a.code).toBe(0)
    const out = JSON.parse(a.stdout)
    expect(out).toMatchObject({
      attestor: ATTESTOR,
      keyId: KEY_ID,
      signer: 'kms',
      created: true,
      digest: appDigest,
      stored: expect.objectContaining({kind: 'container-analysis', project: PROJECT}),
    })
    expect(kms.calls('AsymmetricSign').map((c) => c.request.name)).toEqual([KEY_VERSION])
    const creates = grafeas.calls('CreateOccurrence')
    expect(creates).toHaveLength(1)
    expect(creates[0]!.request.parent).toBe(`projects/${PROJECT}`)
    expect(creates[0]!.request.occurrence).toMatchObject({noteName: NOTE, resourceUri: `https://${reg.host}/team/app@${appDigest}`, kind: 'ATTESTATION'})
    expect(creates[0]!.request.occurrence.attestation.signatures[0].publicKeyId).toBe(KEY_ID)
    expect(grafeas.state.occurrences).toHaveLength(1)

    const ok = await preflight(`${reg.host}/team/app:1.4`)
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    const j = JSON.parse(ok.stdout)
    expect(j.verdict).toBe('ALLOW')
    expect(j.images[0].attestors).toEqual([expect.objectContaining({attestor: ATTESTOR, satisfied: true})])
  })

  it('attesting the same digest again creates no duplicate', async () => {
    const before = grafeas.state.occurrences.length
    expect(before).toBe(1)
    const a = await attest(`${reg.host}/team/app:1.4`)
    expect(a.code).toBe(0)
    expect(JSON.parse(a.stdout).created).toBe(false)
    expect(grafeas.calls('CreateOccurrence')).toHaveLength(0)
    expect(grafeas.state.occurrences).toHaveLength(before)
  })

  it('another image is still denied (the attestation is bound to the digest)', async () => {
    const r = await preflight(`${reg.host}/team/other:3.0`)
    expect(r.code).toBe(5)
  })

  it('a Grafeas UNAVAILABLE fault: exit 4 (could not check), never ALLOW', async () => {
    grafeas.failNext('ListNoteOccurrences', status.UNAVAILABLE, {times: 20, message: 'backend unavailable'})
    const r = await preflight(`${reg.host}/team/app:1.4`)
    expect(r.code).toBe(4)
    expect(r.stdout).not.toMatch(/"verdict": "ALLOW"/)
    const j = JSON.parse(r.stdout)
    expect(j.error.code).toBe('API_ERROR')
    expect(j.error.message).toMatch(/UNAVAILABLE/)
    expect(grafeas.calls('ListNoteOccurrences').length).toBeGreaterThan(1) // retried before giving up
  })

  it('a Grafeas UNAVAILABLE fault while attesting: exit 4, nothing stored', async () => {
    grafeas.failNext('ListNoteOccurrences', status.UNAVAILABLE, {times: 20})
    grafeas.failNext('CreateOccurrence', status.UNAVAILABLE, {times: 20})
    const before = grafeas.state.occurrences.length
    const r = await attest(`${reg.host}/team/other:3.0`)
    expect(r.code).toBe(4)
    expect(grafeas.state.occurrences).toHaveLength(before)
  })

  it('REST 403 on the policy: exit 4 with API_AUTH (text and --json)', async () => {
    rest.failNext('/policy', 403, {times: 2, message: `The caller does not have permission (Authorization: Bearer ${LOCAL_TOKEN})`})
    const r = await preflight(`${reg.host}/team/app:1.4`)
    expect(r.code).toBe(4)
    const j = JSON.parse(r.stdout)
    expect(j.error.code).toBe('API_AUTH')
    expect(j.verdict).toBeUndefined()
    const text = await cli(['preflight', '--image', `${reg.host}/team/app:1.4`, '--project', PROJECT, ...apis(), '--insecure-registry', reg.host, '--debug'])
    expect(text.code).toBe(4)
    expect(text.stderr).toMatch(/Error \[API_AUTH\]/)
    expect(text.stderr).toMatch(/permission/)
  })

  it('REST 403 on the attestor while attesting: exit 4 with API_AUTH, KMS never asked to sign', async () => {
    rest.failNext('/attestors/', 403, {times: 5})
    const r = await attest(`${reg.host}/team/app:1.4`)
    expect(r.code).toBe(4)
    expect(JSON.parse(r.stdout).error.code).toBe('API_AUTH')
    expect(kms.calls('AsymmetricSign')).toHaveLength(0)
  })

  it('--api-insecure refuses a non-loopback endpoint (never sends the local token elsewhere)', async () => {
    const r = await cli([
      'preflight',
      '--image',
      `${reg.host}/team/app:1.4`,
      '--project',
      PROJECT,
      '--binauthz-endpoint',
      'binaryauthorization.googleapis.com',
      '--containeranalysis-endpoint',
      grafeas.endpoint,
      '--api-insecure',
      '--insecure-registry',
      reg.host,
    ])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/loopback/)
  })

  it('the local token never appears in any output of this suite', () => {
    expect(outputs.length).toBeGreaterThan(10)
    for (const o of outputs) expect(o).not.toContain(LOCAL_TOKEN)
  })
})
