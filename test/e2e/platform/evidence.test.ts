/**
 * Evidence files end to end through the built CLI (docs/evidence.md): `evidence collect` against the real local
 * registry (tags resolved, cosign signatures), a local Binary Authorization REST server (classic policy, attestor) and a
 * local Grafeas gRPC server (attestation, discovery and vulnerability occurrences); then every server is stopped and
 * `preflight --evidence` must give the same verdicts as the online pre-flight, for ALLOW and DENY, with nothing
 * reaching the network (the servers are gone, and the metadata trap sees no request). A trimmed file is exit 4.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCli, type CliResult} from '../../support/cli.js'
import {startRegistry, type TestRegistry} from '../../support/registry.js'
import {startBinauthzRestServer, type BinauthzRestServer} from '../../support/gcp/binauthz-rest-server.js'
import {startGcpServer, startGrafeasServer, status, type GcpState, type GrafeasState, type GrpcServerHandle} from '../../support/gcp/grpc-servers.js'
import {startMetadataTrap, type MetadataTrap} from '../../support/metadata-trap.js'
import {testKey} from '../../support/sigstore.js'
import {schemaErrors} from '../../support/schemas.js'
import {KEY_A, attestation, pemBlock} from '../../unit/core/platform-policy/fixtures.js'

const PROJECT = 'att-proj'
const ATTESTOR = `projects/${PROJECT}/attestors/qa`
const NOTE = `projects/${PROJECT}/notes/qa`

let reg: TestRegistry
let rest: BinauthzRestServer
let grafeas: GrpcServerHandle<GrafeasState>
let metadata: MetadataTrap
let dir: string
let host: string
const signer = testKey('evidence-ci')
const stopped = {done: false}

const indent = (text: string, n: number) =>
  text
    .trim()
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n')

function deployment(name: string, image: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: shop}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      serviceAccountName: web
      containers:
      - name: app
        image: ${image}
`
}

const files = {platform: '', good: '', bad: '', key: ''}

beforeAll(async () => {
  metadata = await startMetadataTrap()
  reg = await startRegistry()
  rest = await startBinauthzRestServer()
  grafeas = await startGrafeasServer()
  host = reg.host
  dir = mkdtempSync(join(tmpdir(), 'sd-evidence-'))
  const good = (await reg.pushImage('shop/good', '1.0')).digest
  const bad = (await reg.pushImage('shop/bad', '1.0')).digest
  rest.state.policies.set(PROJECT, {
    name: `projects/${PROJECT}/policy`,
    globalPolicyEvaluationMode: 'ENABLE',
    defaultAdmissionRule: {evaluationMode: 'REQUIRE_ATTESTATION', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG', requireAttestationsBy: [ATTESTOR]},
  })
  rest.state.attestors.set(ATTESTOR, {
    name: ATTESTOR,
    userOwnedGrafeasNote: {
      noteReference: NOTE,
      publicKeys: [{id: KEY_A.keyId, pkixPublicKey: {publicKeyPem: KEY_A.pem, signatureAlgorithm: 'ECDSA_P256_SHA256'}}],
    },
  })
  // The good image: attested by the QA key (one occurrence serves the classic note and the platform project), scanned, one LOW.
  const occ = attestation(`${host}/shop/good`, good, KEY_A)
  grafeas.state.addOccurrence(
    {
      resourceUri: occ.resourceUri,
      noteName: NOTE,
      kind: 'ATTESTATION',
      attestation: {
        serializedPayload: Buffer.from(occ.serializedPayload),
        signatures: occ.signatures.map((s) => ({publicKeyId: s.publicKeyId, signature: Buffer.from(s.signature)})),
      },
    },
    PROJECT,
  )
  for (const [digest, repo, severity] of [
    [good, 'good', 'LOW'],
    [bad, 'bad', 'CRITICAL'],
  ] as const) {
    const uri = `https://${host}/shop/${repo}@${digest}`
    grafeas.state.addOccurrence(
      {resourceUri: uri, noteName: 'projects/goog-analysis/notes/PACKAGE_VULNERABILITY', kind: 'DISCOVERY', discovery: {analysisStatus: 'FINISHED_SUCCESS'}},
      'vuln-proj',
    )
    grafeas.state.addOccurrence(
      {
        resourceUri: uri,
        noteName: `projects/goog-vulnz/notes/CVE-2026-${repo === 'good' ? '0001' : '0002'}`,
        kind: 'VULNERABILITY',
        vulnerability: {effectiveSeverity: severity, fixAvailable: true},
      },
      'vuln-proj',
    )
  }
  files.key = join(dir, 'ci.key')
  writeFileSync(files.key, signer.privateKeyPem)
  const signed = await runCli(['attest', '--sigstore', '--image', `${host}/shop/good:1.0`, '--private-key', files.key, '--insecure-registry', host])
  if (signed.code !== 0) throw new Error(`attest --sigstore: ${signed.stderr}`)
  files.platform = join(dir, 'platform.yaml')
  writeFileSync(
    files.platform,
    `gkePolicy:
  checkSets:
  - displayName: Shop
    scope: {kubernetesNamespace: shop}
    checks:
    - displayName: QA attested
      simpleSigningAttestationCheck:
        containerAnalysisAttestationProjects: [projects/${PROJECT}]
        attestationAuthenticators:
        - pkixPublicKeySet:
            pkixPublicKeys:
            - signatureAlgorithm: ECDSA_P256_SHA256
              publicKeyPem: |
${pemBlock(KEY_A.pem, 16)}
    - displayName: Signed by CI
      sigstoreSignatureCheck:
        sigstoreAuthorities:
        - publicKeySet:
            publicKeys:
            - publicKeyPem: |
${indent(signer.publicKeyPem, 16)}
    - displayName: No high vulnerabilities
      vulnerabilityCheck:
        maximumFixableSeverity: MEDIUM
        maximumUnfixableSeverity: MEDIUM
        containerAnalysisVulnerabilityProjects: [projects/vuln-proj]
  - checks:
    - alwaysDeny: true
`,
  )
  files.good = join(dir, 'good.yaml')
  writeFileSync(files.good, deployment('good', `${host}/shop/good:1.0`))
  files.bad = join(dir, 'bad.yaml')
  writeFileSync(files.bad, deployment('bad', `${host}/shop/bad:1.0`))
}, 120_000)

afterAll(async () => {
  if (!stopped.done) await Promise.all([reg?.stop(), rest?.stop(), grafeas?.stop()])
  await metadata?.stop()
})

const cli = (args: string[]): Promise<CliResult> => runCli(args, {env: metadata.env(dir)})
const online = () => [
  '--project',
  PROJECT,
  '--platform-policy',
  files.platform,
  '--binauthz-endpoint',
  rest.endpoint,
  '--containeranalysis-endpoint',
  grafeas.endpoint,
  '--api-insecure',
  '--insecure-registry',
  host,
]

interface Doc {
  verdict: string
  images: Array<{original: string; digest?: string; verdict: string; attestors: Array<{satisfied: boolean}>}>
  platformPolicy: {verdict: string; pods: Array<{checkSetIndex: number; images: Array<{verdict: string; checks: Array<{kind: string; verdict: string}>}>}>}
}

function parse(r: CliResult): Doc {
  expect(r.stderr).not.toMatch(/Error \[(INTERNAL|USAGE)\]/)
  const doc = JSON.parse(r.stdout) as Doc
  expect(schemaErrors('preflight', doc)).toEqual([])
  return doc
}

/** What must be the same online and replayed: every verdict, per image and per check (messages name their source). */
const verdicts = (d: Doc) => ({
  verdict: d.verdict,
  images: d.images.map((i) => [i.original, i.digest, i.verdict, i.attestors.map((a) => a.satisfied)]),
  platform: d.platformPolicy.verdict,
  pods: d.platformPolicy.pods.map((p) => [p.checkSetIndex, p.images.map((i) => [i.verdict, i.checks.map((c) => [c.kind, c.verdict])])]),
})

describe('evidence collect, then preflight --evidence with every server stopped', () => {
  const seen: Record<'good' | 'bad', {code: number; doc: Doc; evidence: string}> = {} as never

  it('collects the ALLOW and DENY cases online (the file validates against the published schema)', async () => {
    for (const which of ['good', 'bad'] as const) {
      const r = await cli(['preflight', '-f', files[which], ...online(), '--json'])
      const evidence = join(dir, `${which}.evidence.json`)
      const c = await cli(['evidence', 'collect', '-f', files[which], ...online(), '-o', evidence])
      expect(c.stderr).toMatch(/evidence written to .*: 1 image\(s\)/)
      expect(c.code).toBe(0)
      const doc = JSON.parse(readFileSync(evidence, 'utf8')) as {images: Record<string, {digest: string; occurrences?: unknown[]; sigstore?: unknown[]}>}
      expect(schemaErrors('evidence', doc)).toEqual([])
      const entry = doc.images[`${host}/shop/${which}:1.0`]
      expect(entry?.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
      // Classic attestation + discovery + vulnerability occurrences for good; discovery + vulnerability for bad.
      expect(entry?.occurrences?.length).toBe(which === 'good' ? 3 : 2)
      expect(entry?.sigstore?.length).toBe(which === 'good' ? 1 : 0)
      seen[which] = {code: r.code, doc: parse(r), evidence}
    }
    expect(seen.good.code).toBe(0)
    expect(seen.good.doc).toMatchObject({verdict: 'ALLOW', platformPolicy: {verdict: 'CONFORMANT'}})
    expect(seen.bad.code).toBe(5)
    expect(seen.bad.doc).toMatchObject({verdict: 'DENY', platformPolicy: {verdict: 'NON_CONFORMANT'}})
  }, 120_000)

  it('replayed with the registry, Binary Authorization and Container Analysis stopped: the same verdicts and exit codes', async () => {
    await Promise.all([reg.stop(), rest.stop(), grafeas.stop()])
    stopped.done = true
    for (const which of ['good', 'bad'] as const) {
      const r = await cli(['preflight', '-f', files[which], '--evidence', seen[which].evidence, '--json'])
      expect(r.code).toBe(seen[which].code)
      const doc = parse(r)
      expect(verdicts(doc)).toEqual(verdicts(seen[which].doc))
      expect((doc as unknown as {policy: {source: string}}).policy.source).toBe(`${seen[which].evidence}#policies.classic`)
    }
    expect(metadata.hits).toEqual([])
  }, 60_000)

  it('the policies as files instead of the stored ones: the same verdict', async () => {
    const r = await cli(['preflight', '-f', files.bad, '--evidence', seen.bad.evidence, '--platform-policy', files.platform, '--json'])
    expect(r.code).toBe(5)
    expect(verdicts(parse(r))).toEqual(verdicts(seen.bad.doc))
  })

  it('a trimmed file: the attestations removed is exit 4 (could not check), the signatures removed is ERROR (exit 4), never an allow', async () => {
    const full = JSON.parse(readFileSync(seen.good.evidence, 'utf8')) as {images: Record<string, Record<string, unknown>>}
    const key = `${host}/shop/good:1.0`
    const noOcc = structuredClone(full)
    delete noOcc.images[key]?.['occurrences']
    const f1 = join(dir, 'trimmed-occurrences.json')
    writeFileSync(f1, JSON.stringify(noOcc))
    const r1 = await cli(['preflight', '-f', files.good, '--evidence', f1, '--json'])
    expect(r1.code).toBe(4)
    expect(r1.stdout).toMatch(/EVIDENCE_MISSING/)
    expect(r1.stdout).toMatch(/not in the evidence file/)

    const noSig = structuredClone(full)
    delete noSig.images[key]?.['sigstore']
    const f2 = join(dir, 'trimmed-sigstore.json')
    writeFileSync(f2, JSON.stringify(noSig))
    const r2 = await cli(['preflight', '-f', files.good, '--evidence', f2, '--json'])
    expect(r2.code).toBe(4)
    const doc = parse(r2)
    expect(doc.platformPolicy.verdict).toBe('ERROR')
    expect(doc.platformPolicy.pods[0]?.images[0]?.checks.map((c) => c.verdict)).toEqual(['CONFORMANT', 'ERROR', 'CONFORMANT'])
  })

  it('a malformed file: exit 3 naming the field', async () => {
    const full = JSON.parse(readFileSync(seen.good.evidence, 'utf8')) as {images: Record<string, Record<string, unknown>>}
    ;(full.images[`${host}/shop/good:1.0`] as Record<string, unknown>)['digest'] = 'sha256:nothex'
    const f = join(dir, 'bad-digest.json')
    writeFileSync(f, JSON.stringify(full))
    const r = await cli(['preflight', '-f', files.good, '--evidence', f])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain(`images["${host}/shop/good:1.0"].digest: expected sha256:<64 hex> or null`)
  })

  it('flags that would read facts elsewhere, or --at with no platform policy anywhere, are usage errors (exit 2)', async () => {
    const lock = await cli(['preflight', '-f', files.good, '--evidence', seen.good.evidence, '--attestations', dir])
    expect(lock.code).toBe(2)
    expect(lock.stderr).toContain('--attestations cannot be combined with it')
    const full = JSON.parse(readFileSync(seen.good.evidence, 'utf8')) as {policies: Record<string, unknown>}
    delete full.policies['platform']
    const f = join(dir, 'classic-only.json')
    writeFileSync(f, JSON.stringify(full))
    const at = await cli(['preflight', '-f', files.good, '--evidence', f, '--at', '2026-01-01T00:00:00Z'])
    expect(at.code).toBe(2)
    expect(at.stderr).toContain('--at without a platform policy')
    // Classic only, replayed: the attested image is still allowed.
    expect((await cli(['preflight', '-f', files.good, '--evidence', f])).code).toBe(0)
  })
})

describe('Artifact Registry upload times, and a lookup that failed during collection', () => {
  const D = 'sha256:' + '7'.repeat(64)
  const REPO = 'projects/acme/locations/us/repositories/shop'
  const IMAGE = `us-docker.pkg.dev/acme/shop/app@${D}`
  const DAY = 24 * 60 * 60 * 1000
  let gcp: GrpcServerHandle<GcpState>
  let policyFile: string
  let evidence: string
  let onlineDoc: Doc
  let uploaded: number

  beforeAll(async () => {
    gcp = await startGcpServer()
    // Uploaded 20 days ago: fresh now (limit 30 days), stale 20 days from now.
    const seconds = Math.floor((Date.now() - 20 * DAY) / 1000)
    uploaded = seconds * 1000
    gcp.state.artifactRegistry.repositories.set(REPO, {dockerConfig: {immutableTags: true}})
    gcp.state.artifactRegistry.dockerImages.set(`${REPO}/dockerImages/app@${D}`, {uploadTime: {seconds, nanos: 0}, tags: ['1.0']})
    policyFile = join(dir, 'fresh-and-scanned.yaml')
    writeFileSync(
      policyFile,
      'gkePolicy:\n  checkSets:\n  - checks:\n    - imageFreshnessCheck: {maxUploadAgeDays: 30}\n' +
        '    - vulnerabilityCheck: {maximumFixableSeverity: HIGH, maximumUnfixableSeverity: HIGH, containerAnalysisVulnerabilityProjects: [projects/scan-proj]}\n',
    )
  }, 60_000)

  afterAll(async () => {
    await gcp?.stop()
  })

  const args = () => [
    '--image',
    IMAGE,
    '--no-resolve',
    '--platform-policy',
    policyFile,
    '--artifactregistry-endpoint',
    gcp.endpoint,
    '--containeranalysis-endpoint',
    gcp.endpoint,
    '--api-insecure',
  ]

  it('collect: the upload time is recorded; the vulnerability listing that failed is named and left out', async () => {
    gcp.failNext('ListOccurrences', status.PERMISSION_DENIED, {times: 40, message: 'caller lacks containeranalysis.occurrences.list'})
    const online = await cli(['preflight', ...args(), '--json'])
    expect(online.code).toBe(4)
    onlineDoc = parse(online)
    gcp.failNext('ListOccurrences', status.PERMISSION_DENIED, {times: 40, message: 'caller lacks containeranalysis.occurrences.list'})
    evidence = join(dir, 'fresh.evidence.json')
    const c = await cli(['evidence', 'collect', ...args(), '-o', evidence])
    expect(c.code).toBe(0)
    expect(c.stderr).toMatch(
      /1 fact\(s\) could not be read and are left out[^]*vulnerability occurrences of https:\/\/us-docker\.pkg\.dev\/acme\/shop\/app@sha256:7+ in projects\/scan-proj/,
    )
    const doc = JSON.parse(readFileSync(evidence, 'utf8')) as {collectedAt: string; images: Record<string, {uploadTime?: string; occurrences?: unknown[]}>}
    expect(schemaErrors('evidence', doc)).toEqual([])
    expect(Date.parse(doc.images[IMAGE]?.uploadTime ?? '')).toBe(uploaded)
    expect(doc.images[IMAGE]?.occurrences).toBeUndefined()
  })

  it('replay: the same ERROR as online; freshness at collectedAt, or at --at', async () => {
    await gcp.stop()
    const r = await cli(['preflight', '--image', IMAGE, '--no-resolve', '--evidence', evidence, '--json'])
    expect(r.code).toBe(4)
    const doc = parse(r)
    expect(verdicts(doc)).toEqual(verdicts(onlineDoc))
    expect(doc.platformPolicy.pods[0]?.images[0]?.checks.map((c) => c.verdict)).toEqual(['CONFORMANT', 'ERROR'])
    const later = await cli([
      'preflight',
      '--image',
      IMAGE,
      '--no-resolve',
      '--evidence',
      evidence,
      '--at',
      new Date(Date.now() + 20 * DAY).toISOString(),
      '--json',
    ])
    expect(parse(later).platformPolicy.pods[0]?.images[0]?.checks.map((c) => c.verdict)).toEqual(['NON_CONFORMANT', 'ERROR'])
    expect(later.code).toBe(5)
  })
})
