/**
 * slsaCheck end to end: the built CLI lists the BUILD occurrences of the digest in the project the rule names, from a
 * local Grafeas (Container Analysis) gRPC server reached by the real client library (--api-insecure), and verifies
 * each provenance's DSSE envelope with the keys of --builder-keys. CONFORMANT only with the right key; without a key
 * or with a wrong one ERROR (exit 4); a verified provenance from another builder NON_CONFORMANT (exit 5). A bad keys
 * file stops before any API call (exit 7 with the file and the entry; exit 3 when missing). Nothing reaches Google.
 */
import {afterAll, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCli} from '../../support/cli.js'
import {startGrafeasServer, startKmsServer, status, type GrafeasState, type GrpcServerHandle, type KmsState} from '../../support/gcp/grpc-servers.js'
import {startMetadataTrap, type MetadataTrap} from '../../support/metadata-trap.js'
import {schemaErrors} from '../../support/schemas.js'
import {DIGEST, DIGEST2, GCB_KEY_ID, KEY_A, KEY_B, buildOccurrence, slsaV1} from '../../unit/core/platform-policy/fixtures.js'

const IMAGE = 'us-docker.pkg.dev/my-project/prod/app'

let grafeas: GrpcServerHandle<GrafeasState>
let metadata: MetadataTrap
let dir: string
let policyFile: string
let rightKeys: string
let wrongKeys: string

beforeAll(async () => {
  metadata = await startMetadataTrap()
  grafeas = await startGrafeasServer()
  dir = mkdtempSync(join(tmpdir(), 'sd-platform-slsa-'))
  policyFile = join(dir, 'platform.yaml')
  writeFileSync(
    policyFile,
    `gkePolicy:
  checkSets:
  - checks:
    - displayName: Built by Cloud Build from my-org
      slsaCheck:
        rules:
        - trustedBuilder: GOOGLE_CLOUD_BUILD
          attestationSource:
            containerAnalysisAttestationProjects: [projects/build-attestations]
          configBasedBuildRequired: true
          trustedSourceRepoPatterns: [github.com/my-org/*]
`,
  )
  rightKeys = join(dir, 'builder-keys.json')
  writeFileSync(rightKeys, JSON.stringify([{keyId: GCB_KEY_ID, publicKeyPem: KEY_A.pem}]))
  wrongKeys = join(dir, 'wrong-keys.json')
  writeFileSync(wrongKeys, JSON.stringify([{keyId: GCB_KEY_ID, publicKeyPem: KEY_B.pem}]))
  // DIGEST: built by Cloud Build from a trusted repository; DIGEST2: a verified provenance from another builder.
  for (const [digest, builderId] of [
    [DIGEST, undefined],
    [DIGEST2, 'https://github.com/actions/runner'],
  ] as const) {
    const occ = buildOccurrence(IMAGE, digest, slsaV1({name: IMAGE, digest, ...(builderId ? {builderId} : {})}), KEY_A)
    const env = occ.envelope as NonNullable<typeof occ.envelope>
    grafeas.state.addOccurrence(
      {
        resourceUri: occ.resourceUri,
        noteName: occ.noteName,
        kind: 'BUILD',
        // Proto object form, as the real server sends it: bytes are bytes.
        envelope: {
          payloadType: env.payloadType,
          payload: Buffer.from(env.payload, 'base64'),
          signatures: env.signatures.map((s) => ({keyid: s.keyid, sig: Buffer.from(s.sig, 'base64')})),
        },
      },
      'build-attestations',
    )
  }
  // An ATTESTATION occurrence of the same resource: not a provenance, never read as one.
  grafeas.state.addOccurrence(
    {resourceUri: `https://${IMAGE}@${DIGEST2}`, noteName: 'projects/build-attestations/notes/qa', kind: 'ATTESTATION', attestation: {}},
    'build-attestations',
  )
}, 60_000)

afterAll(async () => {
  await grafeas?.stop()
  await metadata?.stop()
})

beforeEach(() => {
  grafeas.clearFaults()
  grafeas.requests.length = 0
})

const preflight = (digest: string, extra: string[]) =>
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
      ...extra,
    ],
    {env: metadata.env(dir)},
  )

type Doc = {
  platformPolicy: {verdict: string; pods: Array<{images: Array<{notes: string[]; checks: Array<{kind: string; verdict: string; explanation: string}>}>}>}
}
const imageOf = (d: Doc) => d.platformPolicy.pods[0]?.images[0]
const checkOf = (d: Doc) => imageOf(d)?.checks[0]

describe('slsaCheck through Container Analysis BUILD occurrences and --builder-keys', () => {
  it('the right builder key: CONFORMANT (exit 0), one ListOccurrences of kind BUILD for the resource in the named project', async () => {
    const r = await preflight(DIGEST, ['--builder-keys', rightKeys])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as Doc
    expect(schemaErrors('preflight', doc)).toEqual([])
    expect(checkOf(doc)).toMatchObject({
      kind: 'SlsaCheck',
      verdict: 'CONFORMANT',
      explanation: expect.stringContaining(`signed with builder key ${GCB_KEY_ID}`),
    })
    expect(imageOf(doc)?.notes.join('\n')).toMatch(/--builder-keys/)
    const calls = grafeas.requests.filter((q) => q.method.endsWith('ListOccurrences'))
    expect(calls.map((c) => (c.request as {parent: string}).parent)).toEqual(['projects/build-attestations'])
    expect((calls[0]?.request as {filter: string}).filter).toBe(`kind="BUILD" AND resourceUrl="https://${IMAGE}@${DIGEST}"`)
  })

  it('without --builder-keys: ERROR (exit 4) saying to pass them, never CONFORMANT', async () => {
    const r = await preflight(DIGEST, [])
    expect(r.code).toBe(4)
    const doc = JSON.parse(r.stdout) as Doc
    expect(doc.platformPolicy.verdict).toBe('ERROR')
    expect(checkOf(doc)).toMatchObject({verdict: 'ERROR', explanation: expect.stringContaining(`pass --builder-keys FILE with an entry for ${GCB_KEY_ID}`)})
    // The text report's next step names the flag and the keyid to add.
    const text = await runCli(
      [
        'preflight',
        '--image',
        `${IMAGE}@${DIGEST}`,
        '--no-resolve',
        '--platform-policy',
        policyFile,
        '--containeranalysis-endpoint',
        grafeas.endpoint,
        '--api-insecure',
      ],
      {
        env: metadata.env(dir),
      },
    )
    expect(text.code).toBe(4)
    expect(text.stdout + text.stderr).toContain(`next: add --builder-keys FILE holding [{"keyId": "${GCB_KEY_ID}", "publicKeyPem": "…"}]`)
  })

  it('another public key under the keyid (a wrong key): ERROR (exit 4)', async () => {
    const r = await preflight(DIGEST, ['--builder-keys', wrongKeys])
    expect(r.code).toBe(4)
    expect(checkOf(JSON.parse(r.stdout) as Doc)).toMatchObject({verdict: 'ERROR', explanation: expect.stringContaining('does not verify with builder key')})
  })

  it('a verified provenance from another builder: NON_CONFORMANT (exit 5)', async () => {
    const r = await preflight(DIGEST2, ['--builder-keys', rightKeys])
    expect(r.code).toBe(5)
    expect(checkOf(JSON.parse(r.stdout) as Doc)).toMatchObject({
      verdict: 'NON_CONFORMANT',
      explanation: expect.stringContaining('built by https://github.com/actions/runner, not Google Cloud Build'),
    })
  })

  it('a bad entry in the keys file: exit 7 naming the file and the entry, before any API call', async () => {
    const bad = join(dir, 'bad-keys.json')
    writeFileSync(
      bad,
      JSON.stringify([
        {keyId: GCB_KEY_ID, publicKeyPem: KEY_A.pem},
        {keyId: 'k2', publicKeyPem: 'not a key'},
      ]),
    )
    const r = await preflight(DIGEST, ['--builder-keys', bad])
    expect(r.code).toBe(7)
    // --json: the error is the JSON error document on stdout.
    expect(r.stdout).toContain(`--builder-keys ${bad}: entry 2 (keyId \\"k2\\"): publicKeyPem is not a PEM public key`)
    expect(grafeas.requests).toEqual([])
  })

  it('a keys file that does not exist: exit 3 naming the flag; --builder-keys without a platform policy: exit 2', async () => {
    const missing = await preflight(DIGEST, ['--builder-keys', join(dir, 'nope.json')])
    expect(missing.code).toBe(3)
    expect(missing.stdout).toContain(`--builder-keys ${join(dir, 'nope.json')}: no such file`)
    expect(grafeas.requests).toEqual([])
    const stray = await runCli(['preflight', '--image', `${IMAGE}@${DIGEST}`, '--no-resolve', '--builder-keys', rightKeys], {env: metadata.env(dir)})
    expect(stray.code).toBe(2)
    expect(stray.stderr).toContain('--builder-keys without a platform policy')
  })
})

describe('a builder key given by Cloud KMS key version: its public key read with getPublicKey', () => {
  const VERSION = 'projects/verified-builder/locations/global/keyRings/attestor/cryptoKeys/provenanceSigner/cryptoKeyVersions/2'
  const DIGEST3 = 'sha256:' + '3'.repeat(64)
  let kms: GrpcServerHandle<KmsState>
  let kmsKeys: string

  beforeAll(async () => {
    kms = await startKmsServer()
    const publicKeyPem = kms.state.addKey(VERSION, 'EC_SIGN_P256_SHA256')
    const signer = {pem: publicKeyPem, keyId: VERSION, privateKey: (kms.state.keys.get(VERSION) as {privateKey: typeof KEY_A.privateKey}).privateKey}
    const occ = buildOccurrence(IMAGE, DIGEST3, slsaV1({name: IMAGE, digest: DIGEST3}), signer, {keyId: VERSION})
    const env = occ.envelope as NonNullable<typeof occ.envelope>
    grafeas.state.addOccurrence(
      {
        resourceUri: occ.resourceUri,
        noteName: occ.noteName,
        kind: 'BUILD',
        envelope: {
          payloadType: env.payloadType,
          payload: Buffer.from(env.payload, 'base64'),
          signatures: env.signatures.map((s) => ({keyid: s.keyid, sig: Buffer.from(s.sig, 'base64')})),
        },
      },
      'build-attestations',
    )
    kmsKeys = join(dir, 'kms-keys.json')
    writeFileSync(kmsKeys, JSON.stringify([{keyId: VERSION}]))
  }, 60_000)

  afterAll(async () => {
    await kms?.stop()
  })

  beforeEach(() => {
    kms.clearFaults()
    kms.requests.length = 0
  })

  it('CONFORMANT (exit 0) with the key read from KMS, one GetPublicKey for the listed version', async () => {
    const r = await preflight(DIGEST3, ['--builder-keys', kmsKeys, '--kms-endpoint', kms.endpoint])
    expect(r.code).toBe(0)
    expect(checkOf(JSON.parse(r.stdout) as Doc)).toMatchObject({
      verdict: 'CONFORMANT',
      explanation: expect.stringContaining(`signed with builder key ${VERSION}`),
    })
    expect(kms.requests.map((q) => [q.method.replace(/.*\//, ''), (q.request as {name: string}).name])).toEqual([['GetPublicKey', VERSION]])
  })

  it('KMS refuses the public key: could not check (exit 4), never CONFORMANT', async () => {
    kms.failNext('GetPublicKey', status.PERMISSION_DENIED, {times: 20, message: 'caller lacks cloudkms.cryptoKeyVersions.viewPublicKey'})
    const r = await preflight(DIGEST3, ['--builder-keys', kmsKeys, '--kms-endpoint', kms.endpoint])
    expect(r.code).toBe(4)
    expect(r.stdout).toContain('cloudkms.cryptoKeyVersions.viewPublicKey')
  })
})

describe('slsaCheck from an evidence file (evidence collect, then preflight --evidence)', () => {
  it('collect records the BUILD occurrences and the builder keys; the replay asks no server and gives the online verdicts', async () => {
    const evidence = join(dir, 'slsa-evidence.json')
    const c = await runCli(
      [
        'evidence',
        'collect',
        '--image',
        `${IMAGE}@${DIGEST}`,
        '--no-resolve',
        '--platform-policy',
        policyFile,
        '--builder-keys',
        rightKeys,
        '--containeranalysis-endpoint',
        grafeas.endpoint,
        '--api-insecure',
        '-o',
        evidence,
      ],
      {env: metadata.env(dir)},
    )
    expect({code: c.code, err: c.stderr}).toEqual({code: 0, err: expect.any(String)})
    const doc = JSON.parse(readFileSync(evidence, 'utf8')) as {builderKeys: unknown; images: Record<string, {occurrences: Array<{kind: string}>}>}
    expect(schemaErrors('evidence', doc)).toEqual([])
    expect(doc.builderKeys).toEqual([{keyId: GCB_KEY_ID, publicKeyPem: KEY_A.pem}])
    expect(doc.images[`${IMAGE}@${DIGEST}`]?.occurrences.map((o) => o.kind)).toEqual(['BUILD'])

    grafeas.requests.length = 0
    const replay = await runCli(['preflight', '--image', `${IMAGE}@${DIGEST}`, '--no-resolve', '--evidence', evidence, '--json'], {env: metadata.env(dir)})
    expect(replay.code).toBe(0)
    expect(checkOf(JSON.parse(replay.stdout) as Doc)).toMatchObject({kind: 'SlsaCheck', verdict: 'CONFORMANT'})
    expect(grafeas.requests).toEqual([])

    // The same file with the keys removed: ERROR (exit 4), never CONFORMANT; --builder-keys is refused beside --evidence.
    const {builderKeys: _k, ...keyless} = doc
    const trimmed = join(dir, 'slsa-evidence-keyless.json')
    writeFileSync(trimmed, JSON.stringify(keyless))
    const noKeys = await runCli(['preflight', '--image', `${IMAGE}@${DIGEST}`, '--no-resolve', '--evidence', trimmed, '--json'], {env: metadata.env(dir)})
    expect(noKeys.code).toBe(4)
    expect(checkOf(JSON.parse(noKeys.stdout) as Doc)).toMatchObject({verdict: 'ERROR'})
    const both = await runCli(['preflight', '--image', `${IMAGE}@${DIGEST}`, '--evidence', evidence, '--builder-keys', rightKeys], {env: metadata.env(dir)})
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('--builder-keys')
  })
})
