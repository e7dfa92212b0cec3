import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {readFileSync, writeFileSync, readdirSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import type {TestRegistry} from '../../support/registry.js'
import {runCli, isolatedEnv} from '../../support/cli.js'
import {schemaErrors} from '../../support/schemas.js'
import {requireAttestationPolicy, type TestAttestor} from '../../support/trust.js'
import {deployment, startTrustSetup, type TrustSetup} from '../../support/fixtures.js'

let trust: TrustSetup
let reg: TestRegistry
let dir: string
let ci: TestAttestor
let scan: TestAttestor
let attestors: string

beforeAll(async () => {
  trust = await startTrustSetup({prefix: 'sd-pf-', attestors: ['built-by-ci', {name: 'scanned', kind: 'rsa'}]})
  ;({reg, dir, attestors, ci} = trust)
  scan = trust.made['scanned']!
  await reg.pushImage('team/app', '1.4')
  await reg.pushImage('team/worker', '2.0')
}, 60_000)
afterAll(async () => {
  await reg?.stop()
})

function manifest(...images: string[]): string {
  return images.map((img, i) => deployment(`w${i}`, img, {namespace: 'prod', serviceAccountName: 'deployer', container: 'c', selector: false})).join('---\n')
}

function setup(name: string, policy: string, images: string[]) {
  const d = join(dir, name)
  mkdirSync(join(d, 'atts'), {recursive: true})
  writeFileSync(join(d, 'policy.yaml'), policy)
  writeFileSync(join(d, 'deploy.yaml'), manifest(...images))
  const base = [
    '-f',
    join(d, 'deploy.yaml'),
    '--policy',
    join(d, 'policy.yaml'),
    '--attestors',
    attestors,
    '--attestations',
    join(d, 'atts'),
    '--insecure-registry',
    reg.host,
  ]
  return {d, base}
}

const attest = (image: string, who: TestAttestor, out: string, extra: string[] = []) =>
  trust.attest(image, {attestor: who, outputDir: out, extra: ['--json', ...extra]})

describe('preflight + attest, end to end through the CLI', () => {
  it('denies an unattested image with GKE wording and the fixing command (exit 5), then allows it once attested (exit 0)', async () => {
    const {d, base} = setup('e2e', requireAttestationPolicy([ci.name, scan.name]), [`${reg.host}/team/app:1.4`])
    const denied = await runCli(['preflight', ...base])
    expect(denied.code).toBe(5)
    // The report is human text: stderr; stdout (data) stays empty without --json.
    expect(denied.stdout).toBe('')
    expect(denied.stderr).toMatch(/DENY/)
    expect(denied.stderr).toContain(
      `default admission rule requires attestor ${ci.name}: No attestations found that were valid and signed by a key trusted by the attestor`,
    )
    // One line per unmet requirement (two attestors), each said once — not three times per image.
    expect(denied.stderr.split('No attestations found').length - 1).toBe(2)
    expect(denied.stderr).toMatch(/next: safe-deploy attest/)

    const a1 = await attest(`${reg.host}/team/app:1.4`, ci, join(d, 'atts'))
    expect(a1.stderr).toBe('')
    expect(a1.code).toBe(0)
    const one = JSON.parse(a1.stdout)
    expect(schemaErrors('attest', one)).toEqual([])
    expect(one).toMatchObject({apiVersion: 'safe-deploy.dev/v1', kind: 'AttestResult'})
    expect(one).toMatchObject({attestor: ci.name, keyId: ci.keyId, created: true, signer: 'pkix'})
    // Only one of two attestors: still denied, naming the missing one only.
    const half = await runCli(['preflight', ...base, '--json'])
    expect(half.code).toBe(5)
    const hj = JSON.parse(half.stdout)
    expect(hj.images[0].attestors).toEqual([
      expect.objectContaining({attestor: ci.name, satisfied: true}),
      expect.objectContaining({attestor: scan.name, satisfied: false}),
    ])
    const a2 = await attest(`${reg.host}/team/app:1.4`, scan, join(d, 'atts'))
    expect(a2.code).toBe(0)
    // Idempotent: attesting the same digest with the same key again stores nothing new.
    const again = await attest(`${reg.host}/team/app:1.4`, scan, join(d, 'atts'))
    expect(JSON.parse(again.stdout).created).toBe(false)
    expect(readdirSync(join(d, 'atts'))).toHaveLength(2)

    const ok = await runCli(['preflight', ...base, '--json'])
    expect(ok.code).toBe(0)
    const json = JSON.parse(ok.stdout)
    expect(json.verdict).toBe('ALLOW')
    expect(json.images[0]).toMatchObject({
      original: `${reg.host}/team/app:1.4`,
      verdict: 'ALLOW',
      namespace: 'prod',
      serviceAccount: 'deployer',
      workload: 'Deployment/w0',
    })
    expect(json).toMatchObject({apiVersion: 'safe-deploy.dev/v1', kind: 'PreflightResult'})
    expect(schemaErrors('preflight', json)).toEqual([])
    expect(schemaErrors('preflight', hj)).toEqual([])

    // The tag moves after attesting: the new digest is unattested and preflight catches it.
    await reg.pushImage('team/app', '1.4', {seed: 'rebuilt'})
    const moved = await runCli(['preflight', ...base])
    expect(moved.code).toBe(5)
    expect(moved.stderr).toMatch(/No attestations found/)
  })

  it('--no-resolve evaluates the tag as written: denied as GKE does', async () => {
    const {base} = setup('noresolve', requireAttestationPolicy([ci.name]), [`${reg.host}/team/worker:2.0`])
    const r = await runCli(['preflight', ...base, '--no-resolve'])
    expect(r.code).toBe(5)
    expect(r.stderr).toContain('Expected digest with sha256 scheme, but got tag or malformed digest')
  })

  it('dry-run rules: DRYRUN_DENY, exit 6, reported loudly', async () => {
    const {base} = setup('dry', requireAttestationPolicy([ci.name], 'DRYRUN_AUDIT_LOG_ONLY'), [`${reg.host}/team/worker:2.0`])
    const r = await runCli(['preflight', ...base])
    expect(r.code).toBe(6)
    expect(r.stderr).toMatch(/DRYRUN_DENY/)
    expect(r.stderr).toMatch(/dry-run/i)
  })

  it('writes Markdown and JUnit reports and appends to $GITHUB_STEP_SUMMARY', async () => {
    const {d, base} = setup('reports', requireAttestationPolicy([ci.name]), [
      `${reg.host}/team/worker:2.0`,
      'gcr.io/google_containers/pause:3.9@sha256:' + 'a'.repeat(64),
    ])
    const summary = join(d, 'summary.md')
    writeFileSync(summary, '# existing\n')
    const r = await runCli(['preflight', ...base, '--report-md', join(d, 'r.md'), '--report-junit', join(d, 'r.xml')], {
      env: isolatedEnv({GITHUB_STEP_SUMMARY: summary}),
    })
    expect(r.code).toBe(5)
    const md = readFileSync(join(d, 'r.md'), 'utf8')
    expect(md).toMatch(/## safe-deploy pre-flight: ❌ DENY/)
    expect(md).toMatch(/\| Image \| Container \| Where \| Digest \| Verdict \| Rule \| Attestors \|/)
    // file:line links to the manifest, relative to the report (both are in the same directory here).
    expect(md).toContain(`| c | [${join(d, 'deploy.yaml')}:12](deploy.yaml#L12) |`)
    expect(md).toMatch(/<details>/)
    expect(md).toMatch(/system policy gcr\.io\/google_containers\/\* \(approximate\)/)
    expect(readFileSync(summary, 'utf8')).toMatch(/^# existing\n## safe-deploy pre-flight/)
    const xml = readFileSync(join(d, 'r.xml'), 'utf8')
    expect(xml).toMatch(/<testsuites name="safe-deploy preflight" tests="2" failures="1">/)
    expect(xml).toMatch(/<failure message="Image .* denied by Binary Authorization default admission rule\./)
  })

  it('fails closed: a registry failure is "could not check" (exit 4), never ALLOW', async () => {
    const {base} = setup('regfail', requireAttestationPolicy([ci.name]), [`${reg.host}/team/worker:missing`])
    const r = await runCli(['preflight', ...base, '--json'])
    expect(r.code).toBe(4)
    const j = JSON.parse(r.stdout)
    expect(j.error.code).toBe('REGISTRY_NOT_FOUND')
    expect(r.stdout).not.toMatch(/"verdict": "ALLOW"/)
  })

  it('an attestor the policy needs but the directory lacks: exit 7 naming it', async () => {
    const {base} = setup('unknown', requireAttestationPolicy(['projects/test-proj/attestors/nobody']), [`${reg.host}/team/worker:2.0`])
    const r = await runCli(['preflight', ...base])
    expect(r.code).toBe(7)
    expect(r.stderr).toMatch(/ATTESTOR_UNKNOWN/)
    expect(r.stderr).toContain('projects/test-proj/attestors/nobody')
  })

  it('an invalid policy: exit 7 with the file and line', async () => {
    const {d, base} = setup('badpolicy', 'defaultAdmissionRule:\n  evaluationMode: REQUIRE_ATTESTATION\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n', [
      `${reg.host}/team/worker:2.0`,
    ])
    const r = await runCli(['preflight', ...base])
    expect(r.code).toBe(7)
    expect(r.stderr).toContain(join(d, 'policy.yaml'))
    expect(r.stderr).toMatch(/:2\b|line 2/)
  })

  it('break-glass annotation on the pod template: ALLOW_BREAKGLASS (exit 0) with the would-be verdict', async () => {
    const d = join(dir, 'bg')
    mkdirSync(join(d, 'atts'), {recursive: true})
    writeFileSync(join(d, 'policy.yaml'), requireAttestationPolicy([ci.name]))
    writeFileSync(
      join(d, 'deploy.yaml'),
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: hotfix}
spec:
  template:
    metadata:
      annotations:
        alpha.image-policy.k8s.io/break-glass: "true"
    spec:
      containers: [{name: c, image: ${reg.host}/team/worker:2.0}]
`,
    )
    const r = await runCli([
      'preflight',
      '-f',
      join(d, 'deploy.yaml'),
      '--policy',
      join(d, 'policy.yaml'),
      '--attestors',
      attestors,
      '--attestations',
      join(d, 'atts'),
      '--insecure-registry',
      reg.host,
      '--json',
    ])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).images[0]).toMatchObject({verdict: 'ALLOW_BREAKGLASS', wouldBe: 'DENY'})
  })

  it('--image with --platform cloudrun evaluates the default rule by digest', async () => {
    const {base} = setup('cr', requireAttestationPolicy([ci.name]), [])
    const r = await runCli(['preflight', '--image', `${reg.host}/team/worker:2.0`, ...base.slice(2), '--platform', 'cloudrun', '--json'])
    expect(r.code).toBe(5)
    const j = JSON.parse(r.stdout)
    expect(j.target.platform).toBe('cloudrun')
    expect(j.images[0].digest).toMatch(/^sha256:/)
  })
})

describe('rule selection from the kube context', () => {
  it('derives --cluster from a gke_PROJECT_LOCATION_NAME context and the namespace default from the context', async () => {
    const d = join(dir, 'ctx')
    mkdirSync(join(d, 'atts'), {recursive: true})
    writeFileSync(
      join(d, 'kubeconfig'),
      `apiVersion: v1
kind: Config
current-context: gke_my-prod_us-central1_prod
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]
users: [{name: u, user: {token: not-used}}]
contexts: [{name: gke_my-prod_us-central1_prod, context: {cluster: c, user: u, namespace: payments}}]
`,
    )
    writeFileSync(
      join(d, 'policy.yaml'),
      `name: projects/my-prod/policy
globalPolicyEvaluationMode: ENABLE
defaultAdmissionRule: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}
clusterAdmissionRules:
  us-central1.prod: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}
`,
    )
    const r = await runCli([
      'preflight',
      '--image',
      `${reg.host}/team/worker:2.0`,
      '--policy',
      join(d, 'policy.yaml'),
      '--attestors',
      attestors,
      '--attestations',
      join(d, 'atts'),
      '--insecure-registry',
      reg.host,
      '--kubeconfig',
      join(d, 'kubeconfig'),
      '--json',
    ])
    expect(r.code).toBe(5)
    const j = JSON.parse(r.stdout)
    expect(j.target).toMatchObject({cluster: 'us-central1.prod', context: 'gke_my-prod_us-central1_prod', namespace: 'payments'})
    expect(j.images[0].rule).toMatchObject({kind: 'cluster', key: 'us-central1.prod', evaluationMode: 'ALWAYS_DENY'})
    expect(j.images[0].reasons.join('\n')).toMatch(/cluster admission rule for us-central1\.prod\.[\s\S]*Denied by always_deny admission rule/)
    // --cluster wins over the context.
    const other = await runCli([
      'preflight',
      '--image',
      `${reg.host}/team/worker:2.0`,
      '--policy',
      join(d, 'policy.yaml'),
      '--attestors',
      attestors,
      '--attestations',
      join(d, 'atts'),
      '--insecure-registry',
      reg.host,
      '--kubeconfig',
      join(d, 'kubeconfig'),
      '--cluster',
      'europe-west1.dev',
      '--json',
    ])
    expect(other.code).toBe(0)
    expect(JSON.parse(other.stdout).images[0].rule.kind).toBe('default')
  })
})

describe('preflight: image-like values no image rule examined (issue #12)', () => {
  const myApp = `apiVersion: example.com/v1
kind: MyApp
metadata:
  name: shop
  namespace: prod
spec:
  image: nginx:1.25
`

  it('never a plain ALLOW: the rest is evaluated, the values are reported (text, --json, Markdown, JUnit), exit 3', async () => {
    const {d, base} = setup(
      'unexamined',
      'globalPolicyEvaluationMode: ENABLE\ndefaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n',
      [`${reg.host}/team/worker:2.0`],
    )
    const file = join(d, 'deploy.yaml')
    writeFileSync(file, readFileSync(file, 'utf8') + '---\n' + myApp)
    const r = await runCli(['preflight', ...base, '--report-md', join(d, 'r.md'), '--report-junit', join(d, 'r.xml')])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain(
      `warning: ${file}:20: MyApp/shop: spec.image: "nginx:1.25" was not examined (safe-deploy has no image rule for example.com/v1 MyApp)`,
    )
    expect(r.stderr).toContain('  imageRules:\n    - {apiVersion: example.com/v1, kind: MyApp, path: spec.image}')
    expect(r.stderr).toMatch(/^Verdict: INCOMPLETE: 1 image-like value\(s\) not examined; the examined images: ALLOW \(1 image\(s\): 1 ALLOW\)/m)
    expect(r.stderr).not.toMatch(/^Verdict: ALLOW/m)
    expect(readFileSync(join(d, 'r.md'), 'utf8')).toMatch(
      /## safe-deploy pre-flight: ⚠️ INCOMPLETE \(1 image-like value\(s\) not examined; examined images: ✅ ALLOW\)/,
    )
    expect(readFileSync(join(d, 'r.xml'), 'utf8')).toMatch(
      /tests="2" failures="1"[\s\S]*<failure message="not examined: no image rule covers this field" type="UNEXAMINED">/,
    )

    const j = await runCli(['preflight', ...base, '--json'])
    expect(j.code).toBe(3)
    const json = JSON.parse(j.stdout)
    expect(json.unexamined).toEqual([
      expect.objectContaining({
        file,
        // 1-based, as the messages say it ("document 2").
        document: 2,
        line: 20,
        kind: 'MyApp',
        name: 'shop',
        path: 'spec.image',
        value: 'nginx:1.25',
        rule: {apiVersion: 'example.com/v1', kind: 'MyApp', path: 'spec.image'},
      }),
    ])
    expect(json.notes).toContain(
      '1 image-like value(s) of the input were not examined (no image rule covers them): the verdict ALLOW covers only the examined images, so this pre-flight does not allow the input (exit 3)',
    )
    expect(schemaErrors('preflight', json)).toEqual([])
  })

  it('--strict: exit 3 before anything is evaluated (no policy or attestation is read)', async () => {
    const {d, base} = setup('unexamined-strict', requireAttestationPolicy([ci.name]), [`${reg.host}/team/worker:2.0`])
    writeFileSync(join(d, 'deploy.yaml'), readFileSync(join(d, 'deploy.yaml'), 'utf8') + '---\n' + myApp)
    writeFileSync(join(d, 'policy.yaml'), 'not: a policy\n')
    const r = await runCli(['preflight', ...base, '--strict'])
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('Error [INVALID_INPUT]: 1 image-like value(s) that no image rule examined')
    expect(r.stderr).toContain('spec.image (line 20): "nginx:1.25" was not examined')
  })

  it('--json error document: apiVersion, kind Error, the published schema, document numbers as in the messages (1-based)', async () => {
    const {d, base} = setup('unexamined-json-error', requireAttestationPolicy([ci.name]), [`${reg.host}/team/worker:2.0`])
    writeFileSync(join(d, 'deploy.yaml'), readFileSync(join(d, 'deploy.yaml'), 'utf8') + '---\n' + myApp)
    const r = await runCli(['preflight', ...base, '--strict', '--json'])
    expect(r.code).toBe(3)
    const json = JSON.parse(r.stdout)
    expect(json).toMatchObject({apiVersion: 'safe-deploy.dev/v1', kind: 'Error', exitCode: 3, error: {code: 'INVALID_INPUT'}})
    expect(schemaErrors('error', json)).toEqual([])
    const sub = json.error.errors[0]
    expect(sub.message).toContain('document 2: spec.image (line 20)')
    expect(sub.location).toMatchObject({document: 2, line: 20, path: 'spec.image'})
  })
})

describe('a named cluster needs no cluster credentials (issue #12, item 2: the CI pre-flight)', () => {
  const POLICY = `name: projects/my-prod/policy
globalPolicyEvaluationMode: ENABLE
defaultAdmissionRule: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}
clusterAdmissionRules:
  us-east1.prod: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}
`
  function nokube(name: string) {
    const d = join(dir, name)
    mkdirSync(join(d, 'atts'), {recursive: true})
    writeFileSync(join(d, 'policy.yaml'), POLICY)
    const args = ['preflight', '--image', `${reg.host}/team/worker:2.0`, '--policy', join(d, 'policy.yaml'), '--attestors', attestors]
    return {d, args: [...args, '--attestations', join(d, 'atts'), '--insecure-registry', reg.host, '--json']}
  }

  it('--context gke_PROJECT_LOCATION_NAME with no kubeconfig at all: the cluster comes from the name (rule applied, exit 5)', async () => {
    const {args} = nokube('nokube-ctx')
    // isolatedEnv: KUBECONFIG names a file that does not exist, HOME has no .kube/config.
    const r = await runCli([...args, '--context', 'gke_my-prod_us-east1_prod'])
    expect(r.stderr).not.toMatch(/kubeconfig/)
    expect(r.code).toBe(5)
    const j = JSON.parse(r.stdout)
    expect(j.target).toMatchObject({cluster: 'us-east1.prod', context: 'gke_my-prod_us-east1_prod', namespace: 'default'})
    expect(j.images[0].rule).toMatchObject({kind: 'cluster', key: 'us-east1.prod'})
  })

  it("a profile's gke_… context, no kubeconfig (what `init` generates, run in CI)", async () => {
    const {d, args} = nokube('nokube-profile')
    writeFileSync(
      join(d, '.safe-deploy.yaml'),
      'apiVersion: safe-deploy.dev/v1\nkind: Config\nprofiles:\n  prod: {platform: gke, context: gke_my-prod_us-east1_prod}\n',
    )
    const r = await runCli([...args, '--profile', 'prod'], {cwd: d})
    expect(r.code).toBe(5)
    expect(JSON.parse(r.stdout).target).toMatchObject({cluster: 'us-east1.prod', context: 'gke_my-prod_us-east1_prod'})
  })

  it('--cluster with a --kubeconfig that does not exist: the named cluster is used', async () => {
    const {d, args} = nokube('nokube-cluster')
    const r = await runCli([...args, '--cluster', 'us-east1.prod', '--kubeconfig', join(d, 'missing-kubeconfig'), '--context', 'prod-admin'])
    expect(r.code).toBe(5)
    expect(JSON.parse(r.stdout).target).toMatchObject({cluster: 'us-east1.prod', context: 'prod-admin'})
  })

  it('a context that names no cluster still needs its kubeconfig (usage error, exit 2)', async () => {
    const {args} = nokube('nokube-plain')
    const r = await runCli([...args, '--context', 'prod-admin'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error.message).toMatch(/kubeconfig|KUBECONFIG/)
  })
})
