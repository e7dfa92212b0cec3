/**
 * `preflight --platform-policy` end to end through the built CLI: Pods from manifests (namespace, service account,
 * init containers) and from --image alone, the platform verdict folded into the exit status (NON_CONFORMANT 5,
 * ERROR 4, monitor 0), sigstoreSignatureCheck against signatures `attest --sigstore` pushed to the real registry,
 * classic and platform policies together, and the JSON section checked against the published schema.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCli, type CliResult} from '../../support/cli.js'
import {startTrustSetup, type TrustSetup} from '../../support/fixtures.js'
import {testKey} from '../../support/sigstore.js'
import {schemaErrors} from '../../support/schemas.js'

const D1 = 'sha256:' + '1'.repeat(64)
const D2 = 'sha256:' + '2'.repeat(64)
const PROD_DIR = 'gcr.io/my-project/prod-images'

const indent = (text: string, n: number) =>
  text
    .trim()
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n')

/** Namespace prod: trusted directory; everything else: alwaysDeny; the tools directory exempt everywhere. */
const DIRECTORY_POLICY = `gkePolicy:
  imageAllowlist:
    allowPattern:
    - gcr.io/my-project/tools/**
  checkSets:
  - displayName: Prod check set
    scope:
      kubernetesNamespace: prod
    checks:
    - displayName: Trusted directory check
      trustedDirectoryCheck:
        trustedDirPatterns:
        - ${PROD_DIR}
  - displayName: Default check set
    checks:
    - alwaysDeny: true
`

/** A Pod template in namespace prod with an init container and a container. */
function podManifest(name: string, init: string, main: string, ns = 'prod'): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      serviceAccountName: api
      initContainers:
      - name: migrate
        image: ${init}
      containers:
      - name: app
        image: ${main}
`
}

let t: TrustSetup
const ci = testKey('platform-ci')
const other = testKey('platform-other')
let files: Record<'directory' | 'sigstore' | 'freshness' | 'ciPriv', string>

beforeAll(async () => {
  t = await startTrustSetup({prefix: 'sd-platform-'})
  files = {
    directory: join(t.dir, 'platform-directory.yaml'),
    sigstore: join(t.dir, 'platform-sigstore.yaml'),
    freshness: join(t.dir, 'platform-freshness.yaml'),
    ciPriv: join(t.dir, 'ci.key'),
  }
  writeFileSync(files.directory, DIRECTORY_POLICY)
  writeFileSync(
    files.sigstore,
    `gkePolicy:
  checkSets:
  - displayName: Signed by CI
    checks:
    - displayName: cosign
      sigstoreSignatureCheck:
        sigstoreAuthorities:
        - displayName: other
          publicKeySet:
            publicKeys:
            - publicKeyPem: |
${indent(other.publicKeyPem, 16)}
        - displayName: ci
          publicKeySet:
            publicKeys:
            - publicKeyPem: |
${indent(ci.publicKeyPem, 16)}
`,
  )
  writeFileSync(
    files.freshness,
    'gkePolicy:\n  checkSets:\n  - checks:\n    - imageFreshnessCheck: {maxUploadAgeDays: 30}\n    - trustedDirectoryCheck: {trustedDirPatterns: [gcr.io/elsewhere]}\n',
  )
  writeFileSync(files.ciPriv, ci.privateKeyPem)
}, 60_000)

afterAll(async () => {
  await t?.stop()
})

interface PlatformJson {
  verdict: string
  policy: {source: string}
  notes: string[]
  images: Array<{original: string; verdict: string; reasons: string[]}>
  platformPolicy: {
    mode: string
    verdict: string
    pods: Array<{
      name: string
      namespace: string | null
      serviceAccount: string | null
      checkSetIndex: number | null
      images: Array<{image: string; verdict: string; init: boolean; exemption: unknown; checks: Array<{kind: string; verdict: string; explanation: string}>}>
    }>
  }
}

function parse(r: CliResult): PlatformJson {
  const doc = JSON.parse(r.stdout) as PlatformJson
  expect(schemaErrors('preflight', doc)).toEqual([])
  return doc
}

const run = (args: string[]) => runCli(['preflight', ...args])

describe('preflight --platform-policy, without --policy (references as written)', () => {
  it('--image alone: only the default set applies (alwaysDeny): NON_CONFORMANT, exit 5, no classic policy read', async () => {
    const r = await run(['--image', `${PROD_DIR}/app@${D1}`, '--platform-policy', files.directory, '--no-resolve', '--json'])
    expect(r.code).toBe(5)
    const doc = parse(r)
    expect(doc.policy.source).toBe('(none: --platform-policy only)')
    expect(doc.verdict).toBe('DENY')
    expect(doc.platformPolicy).toMatchObject({mode: 'enforce', verdict: 'NON_CONFORMANT'})
    expect(doc.platformPolicy.pods).toEqual([
      expect.objectContaining({
        name: '--image',
        namespace: null,
        serviceAccount: null,
        checkSetIndex: 1,
        images: [expect.objectContaining({verdict: 'NON_CONFORMANT'})],
      }),
    ])
    expect(doc.platformPolicy.pods[0]?.images[0]?.checks[0]).toMatchObject({kind: 'AlwaysDenyCheck', verdict: 'NON_CONFORMANT'})
  })

  it('the policy allowlist exempts an image: CONFORMANT, exit 0, the exemption named; the selected set is still reported', async () => {
    const r = await run(['--image', `gcr.io/my-project/tools/kubectl@${D1}`, '--platform-policy', files.directory, '--no-resolve', '--json'])
    expect(r.code).toBe(0)
    const doc = parse(r)
    expect(doc.platformPolicy.verdict).toBe('CONFORMANT')
    expect(doc.platformPolicy.pods[0]).toMatchObject({checkSetIndex: 1})
    expect(doc.platformPolicy.pods[0]?.images[0]).toMatchObject({exemption: {level: 'policy', pattern: 'gcr.io/my-project/tools/**'}, checks: []})
  })

  it('manifests in namespace prod: trusted directory conforming for both containers (init included): exit 0', async () => {
    const f = join(t.dir, 'prod-ok.yaml')
    writeFileSync(f, podManifest('api', `${PROD_DIR}/migrate@${D1}`, `${PROD_DIR}/api@${D2}`))
    const r = await run(['-f', f, '--platform-policy', files.directory, '--no-resolve', '--json'])
    expect(r.code).toBe(0)
    const doc = parse(r)
    const pod = doc.platformPolicy.pods[0]
    expect(pod).toMatchObject({name: 'Deployment/api', namespace: 'prod', serviceAccount: 'api', checkSetIndex: 0})
    expect(pod?.images.map((i) => [i.init, i.verdict])).toEqual([
      [true, 'CONFORMANT'],
      [false, 'CONFORMANT'],
    ])
  })

  it("an image outside the trusted directory: NON_CONFORMANT in Google's words, exit 5, in text, Markdown and JUnit", async () => {
    const f = join(t.dir, 'prod-bad.yaml')
    writeFileSync(f, podManifest('api', `${PROD_DIR}/migrate@${D1}`, `gcr.io/my-project/dev-images/api@${D2}`))
    const md = join(t.dir, 'report.md')
    const junit = join(t.dir, 'report.xml')
    const r = await run(['-f', f, '--platform-policy', files.directory, '--no-resolve', '--report-md', md, '--report-junit', junit])
    expect(r.code).toBe(5)
    expect(r.stderr).toMatch(/Platform policy .*platform-directory\.yaml \(enforce\): NON_CONFORMANT/)
    expect(r.stderr).toMatch(/Pod Deployment\/api \(ns prod, sa api\): check set 0 "Prod check set"/)
    expect(r.stderr).toMatch(
      /TrustedDirectoryCheck at index 0 with display name "Trusted directory check" has verdict NOT_CONFORMANT\. Image is not in a trusted directory/,
    )
    expect(r.stderr).toMatch(
      /next: safe-deploy policy explain --platform-policy .* -n prod --service-account api --image gcr\.io\/my-project\/dev-images\/api@/,
    )
    const markdown = readFileSync(md, 'utf8')
    expect(markdown).toMatch(/### Platform policy/)
    expect(markdown).toMatch(/❌ NON_CONFORMANT/)
    const xml = readFileSync(junit, 'utf8')
    expect(xml).toMatch(/<testsuite name="platform policy [^"]*\(enforce\)" tests="2" failures="1" errors="0"/)
    expect(xml).toMatch(/<failure message="TrustedDirectoryCheck at index 0/)
  })

  it('--platform-policy-mode monitor: the same NON_CONFORMANT is reported, exit 0, and says so', async () => {
    const r = await run([
      '--image',
      `${PROD_DIR}/app@${D1}`,
      '--platform-policy',
      files.directory,
      '--platform-policy-mode',
      'monitor',
      '--no-resolve',
      '--json',
    ])
    expect(r.code).toBe(0)
    const doc = parse(r)
    expect(doc.verdict).toBe('ALLOW')
    expect(doc.platformPolicy).toMatchObject({mode: 'monitor', verdict: 'NON_CONFORMANT'})
    expect(doc.notes.join('\n')).toMatch(/monitor mode .* changes neither the verdict nor the exit status/)
  })

  it('a check whose facts cannot be had is ERROR, never CONFORMANT: freshness outside Artifact Registry, exit 4', async () => {
    const r = await run(['--image', `gcr.io/elsewhere/app@${D1}`, '--platform-policy', files.freshness, '--no-resolve', '--json'])
    expect(r.code).toBe(4)
    const doc = parse(r)
    expect(doc.platformPolicy.verdict).toBe('ERROR')
    expect(doc.platformPolicy.pods[0]?.images[0]?.checks.map((c) => [c.kind, c.verdict])).toEqual([
      ['ImageFreshnessCheck', 'ERROR'],
      ['TrustedDirectoryCheck', 'CONFORMANT'],
    ])
    const text = await run(['--image', `gcr.io/elsewhere/app@${D1}`, '--platform-policy', files.freshness, '--no-resolve'])
    expect(text.code).toBe(4)
    expect(text.stderr).toMatch(/Could not check: the platform policy could not check/)
  })

  it('an invalid platform policy: exit 7 with every problem listed', async () => {
    const bad = join(t.dir, 'bad-platform.yaml')
    writeFileSync(bad, 'gkePolicy:\n  checkSets:\n  - checks:\n    - alwaysDeny: false\n  - scope: {kubernetesNamespace: prod}\n    checks: []\n')
    const r = await run(['--image', `${PROD_DIR}/app@${D1}`, '--platform-policy', bad, '--no-resolve', '--json'])
    expect(r.code).toBe(7)
    const doc = JSON.parse(r.stdout) as {error: {errors: unknown[]}}
    expect(schemaErrors('error', doc)).toEqual([])
    expect(doc.error.errors.length).toBeGreaterThanOrEqual(2)
  })
})

describe('sigstoreSignatureCheck against the real registry', () => {
  it("signed by `attest --sigstore` with one authority's key: CONFORMANT (exit 0); unsigned: NON_CONFORMANT (exit 5)", async () => {
    await t.reg.pushImage('plat/signed', 'v1')
    await t.reg.pushImage('plat/unsigned', 'v1')
    const signed = await runCli([
      'attest',
      '--sigstore',
      '--image',
      `${t.reg.host}/plat/signed:v1`,
      '--private-key',
      files.ciPriv,
      '--insecure-registry',
      t.reg.host,
    ])
    expect(signed.code).toBe(0)
    const ok = await run(['--image', `${t.reg.host}/plat/signed:v1`, '--platform-policy', files.sigstore, '--insecure-registry', t.reg.host, '--json'])
    expect(ok.code).toBe(0)
    const doc = parse(ok)
    expect(doc.platformPolicy.pods[0]?.images[0]?.checks[0]).toMatchObject({kind: 'SigstoreSignatureCheck', verdict: 'CONFORMANT'})

    const no = await run(['--image', `${t.reg.host}/plat/unsigned:v1`, '--platform-policy', files.sigstore, '--insecure-registry', t.reg.host, '--json'])
    expect(no.code).toBe(5)
    const denied = parse(no)
    expect(denied.platformPolicy.pods[0]?.images[0]?.checks[0]).toMatchObject({kind: 'SigstoreSignatureCheck', verdict: 'NON_CONFORMANT'})
    expect(denied.images[0]?.reasons.join('\n')).toMatch(
      /platform policy: SigstoreSignatureCheck at index 0 with display name "cosign" has verdict NOT_CONFORMANT/,
    )
  })
})

describe('classic and platform policies together: an image must satisfy both', () => {
  const classic = () => ['--policy', t.policy, '--attestors', t.attestors, '--attestations', t.atts, '--insecure-registry', t.reg.host]

  it('attested (classic ALLOW) and signed (CONFORMANT): exit 0; attested but unsigned: exit 5; signed but unattested: exit 5', async () => {
    await t.reg.pushImage('plat/both', 'v1')
    await t.reg.pushImage('plat/attested-only', 'v1')
    await t.reg.pushImage('plat/signed-only', 'v1')
    for (const img of ['plat/both', 'plat/signed-only'])
      expect(
        (await runCli(['attest', '--sigstore', '--image', `${t.reg.host}/${img}:v1`, '--private-key', files.ciPriv, '--insecure-registry', t.reg.host])).code,
      ).toBe(0)
    await t.attestOk(`${t.reg.host}/plat/both:v1`)
    await t.attestOk(`${t.reg.host}/plat/attested-only:v1`)

    const both = await run(['--image', `${t.reg.host}/plat/both:v1`, ...classic(), '--platform-policy', files.sigstore, '--json'])
    expect(both.code).toBe(0)
    const ok = parse(both)
    expect(ok.policy.source).toBe(t.policy)
    expect(ok).toMatchObject({verdict: 'ALLOW', platformPolicy: {verdict: 'CONFORMANT'}})

    const unsigned = await run(['--image', `${t.reg.host}/plat/attested-only:v1`, ...classic(), '--platform-policy', files.sigstore, '--json'])
    expect(unsigned.code).toBe(5)
    expect(parse(unsigned)).toMatchObject({verdict: 'DENY', platformPolicy: {verdict: 'NON_CONFORMANT'}})

    const unattested = await run(['--image', `${t.reg.host}/plat/signed-only:v1`, ...classic(), '--platform-policy', files.sigstore, '--json'])
    expect(unattested.code).toBe(5)
    expect(parse(unattested)).toMatchObject({verdict: 'DENY', platformPolicy: {verdict: 'CONFORMANT'}})
  })
})
