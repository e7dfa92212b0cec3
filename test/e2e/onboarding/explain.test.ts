/**
 * `policy explain`: which rule applies (cluster, namespace, service account, default), which allowlist patterns
 * match --image, which attestors are required, Cloud Run's default-only rule, and --json.
 */
import {beforeAll, describe, expect, it} from '@jest/globals'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCli} from '../../support/cli.js'
import {schemaErrors} from '../../support/schemas.js'
import {DIGEST, tmp} from './helpers.js'

const CI = 'projects/acme/attestors/built-by-ci'
const SCAN = 'projects/acme/attestors/scanned'
const HEAD = `name: projects/acme/policy
globalPolicyEvaluationMode: ENABLE
admissionWhitelistPatterns:
- namePattern: gcr.io/acme/tools/**
- namePattern: docker.io/library/nginx@*
defaultAdmissionRule:
  evaluationMode: ALWAYS_DENY
  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG
`
const POLICIES = {
  'cluster.yaml':
    HEAD +
    `clusterAdmissionRules:
  us-central1.prod:
    evaluationMode: REQUIRE_ATTESTATION
    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG
    requireAttestationsBy:
    - ${CI}
    - ${SCAN}
  us-central1.dev:
    evaluationMode: ALWAYS_ALLOW
    enforcementMode: DRYRUN_AUDIT_LOG_ONLY
`,
  'namespace.yaml':
    HEAD +
    `kubernetesNamespaceAdmissionRules:
  payments:
    evaluationMode: REQUIRE_ATTESTATION
    enforcementMode: DRYRUN_AUDIT_LOG_ONLY
    requireAttestationsBy:
    - ${CI}
`,
  'sa.yaml':
    HEAD.replace('ENABLE', 'DISABLE') +
    `kubernetesServiceAccountAdmissionRules:
  payments:api:
    evaluationMode: ALWAYS_ALLOW
    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG
`,
}

let d: string
beforeAll(() => {
  d = tmp('explain')
  for (const [f, text] of Object.entries(POLICIES)) writeFileSync(join(d, f), text)
})
const explain = async (args: string[]) => {
  const r = await runCli(['policy', 'explain', ...args], {cwd: d})
  // The old spelling --platform cloudrun still works, with a warning (#12 item 11).
  const old = args.indexOf('--platform')
  expect(r.stderr).toBe(old < 0 ? '' : `warning: --platform ${args[old + 1]} is deprecated: use --target ${args[old + 1]}\n`)
  expect(r.code).toBe(0)
  return r.stdout
}
const explainJson = async (args: string[]) => JSON.parse(await explain([...args, '--json']))

describe('policy explain: which rule', () => {
  it('a cluster rule, by LOCATION.NAME, with its line and its attestors', async () => {
    const out = await explain(['cluster.yaml', '--cluster', 'us-central1.prod', '-n', 'payments'])
    expect(out.split('\n').slice(0, 6)).toEqual([
      'Platform: GKE — cluster us-central1.prod, namespace payments, service account default.',
      'Rule: cluster admission rule for us-central1.prod (cluster.yaml:10): REQUIRE_ATTESTATION, ENFORCED_BLOCK_AND_AUDIT_LOG.',
      'Why: the key "us-central1.prod" matches, so the default rule is not considered.',
      `Evaluation: the image must be referenced by digest (@sha256:…) and have a valid attestation from ALL of: ${CI}, ${SCAN}.`,
      'Enforcement: enforced — a denial blocks the deploy (unless break-glass).',
      'System images: exempt (globalPolicyEvaluationMode ENABLE); built-in approximate list.',
    ])
    const j = await explainJson(['cluster.yaml', '--cluster', 'us-central1.prod'])
    expect(schemaErrors('explain', j)).toEqual([])
    expect(j).toMatchObject({
      apiVersion: 'safe-deploy.dev/v1',
      kind: 'PolicyExplanation',
      platform: 'gke',
      ruleKind: 'cluster',
      key: 'us-central1.prod',
      attestorsRequired: [CI, SCAN],
      rule: {line: 10, enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG'},
    })
  })

  it('another cluster → the default rule; an unknown cluster → every cluster rule "may apply"', async () => {
    expect(await explainJson(['cluster.yaml', '--cluster', 'europe-west1.prod'])).toMatchObject({
      ruleKind: 'default',
      attestorsRequired: [],
      rule: {evaluationMode: 'ALWAYS_DENY', line: 6},
    })
    const unknown = await explain(['cluster.yaml'])
    expect(unknown).toContain('Platform: GKE — cluster (unknown), namespace default (assumed), service account default.')
    expect(unknown).toContain(
      'Also may apply: cluster admission rule for us-central1.prod: REQUIRE_ATTESTATION, ENFORCED_BLOCK_AND_AUDIT_LOG (the strictest verdict is reported).',
    )
    expect(unknown).toContain('Also may apply: cluster admission rule for us-central1.dev: ALWAYS_ALLOW, DRYRUN_AUDIT_LOG_ONLY')
    expect(unknown).toMatch(/note: the policy has cluster admission rules but the cluster is unknown/)
  })

  it('a cluster that is not LOCATION.NAME is a usage error (it could never match a rule)', async () => {
    const r = await runCli(['policy', 'explain', 'cluster.yaml', '--cluster', 'prod'], {cwd: d})
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--cluster expects LOCATION.NAME (e.g. us-central1.prod), got "prod"')
  })

  it('a namespace rule (dry run), and the default for another namespace', async () => {
    const out = await explain(['namespace.yaml', '-n', 'payments'])
    expect(out).toContain('Rule: Kubernetes namespace admission rule for payments (namespace.yaml:10): REQUIRE_ATTESTATION, DRYRUN_AUDIT_LOG_ONLY.')
    expect(out).toContain('Enforcement: dry run — a denial is audit-logged and the deploy proceeds.')
    expect(await explainJson(['namespace.yaml', '-n', 'payments'])).toMatchObject({ruleKind: 'namespace', key: 'payments', attestorsRequired: [CI]})
    expect(await explainJson(['namespace.yaml', '-n', 'web'])).toMatchObject({ruleKind: 'default'})
  })

  it('a service account rule keyed NAMESPACE:SA; without the namespace, "default" is assumed and said', async () => {
    const out = await explain(['sa.yaml', '-n', 'payments', '--service-account', 'api'])
    expect(out).toContain('Rule: Kubernetes service account admission rule for payments:api (sa.yaml:10): ALWAYS_ALLOW, ENFORCED_BLOCK_AND_AUDIT_LOG.')
    expect(out).toContain('Evaluation: every image is allowed (no digest or attestation needed).')
    expect(out).toContain('System images: not exempt (globalPolicyEvaluationMode DISABLE).')
    const noNs = await explain(['sa.yaml', '--service-account', 'api'])
    expect(noNs).toContain('Rule: default admission rule')
    expect(noNs).toContain('note: namespace unknown: assumed "default" for the service account rules (key default:api).')
    expect(await explainJson(['sa.yaml', '-n', 'payments'])).toMatchObject({ruleKind: 'default'})
  })
})

describe('policy explain --image: allowlist and digests', () => {
  it('an allowlisted image: the matching pattern with its line; the others do not match', async () => {
    const j = await explainJson(['cluster.yaml', '--cluster', 'us-central1.prod', '--image', 'gcr.io/acme/tools/kubectl:1.30'])
    expect(j.allowlist).toEqual([
      {pattern: 'gcr.io/acme/tools/**', line: 4, result: 'match'},
      {pattern: 'docker.io/library/nginx@*', line: 5, result: 'no-match'},
    ])
    expect(j.lines).toContain('Allowlist: gcr.io/acme/tools/** match(es) gcr.io/acme/tools/kubectl:1.30: the image is exempt from the rule.')
  })

  it('a tag under REQUIRE_ATTESTATION: would be denied, pin it', async () => {
    const out = await explain(['namespace.yaml', '-n', 'payments', '--image', 'us-docker.pkg.dev/acme/app/app:1.0'])
    expect(out).toContain('Allowlist: no pattern matches us-docker.pkg.dev/acme/app/app:1.0.')
    expect(out).toContain('Image us-docker.pkg.dev/acme/app/app:1.0 has no sha256 digest: it would be denied')
    expect(out).toContain('pin it with `safe-deploy pin`')
  })

  it('nginx vs docker.io/library/nginx@*: no match as written, with the normalization note', async () => {
    const j = await explainJson(['cluster.yaml', '--cluster', 'us-central1.prod', '--image', `nginx@${DIGEST}`])
    expect(j.allowlist.find((a: {pattern: string}) => a.pattern === 'docker.io/library/nginx@*').result).toBe('no-match')
    expect(j.notes.join('\n')).toContain('allowlist pattern "docker.io/library/nginx@*" does not match image "nginx@sha256:')
    const full = await explainJson(['cluster.yaml', '--cluster', 'us-central1.prod', '--image', `docker.io/library/nginx@${DIGEST}`])
    expect(full.allowlist.find((a: {pattern: string}) => a.pattern === 'docker.io/library/nginx@*').result).toBe('match')
  })

  it('a system image on GKE is exempt (approximate built-in list)', async () => {
    const j = await explainJson(['cluster.yaml', '--cluster', 'us-central1.prod', '--image', 'gcr.io/google_containers/pause:3.9'])
    expect(j.system).toEqual({mode: 'ENABLE', applies: true, approximate: true, match: 'gcr.io/google_containers/*'})
    expect(j.lines).toContain('Image gcr.io/google_containers/pause:3.9: exempt as a system image (pattern gcr.io/google_containers/*, approximate).')
  })
})

describe('policy explain --platform cloudrun', () => {
  it('only the default rule applies, whatever the cluster/namespace; scoped rules are noted; no system exemption', async () => {
    const out = await explain(['cluster.yaml', '--platform', 'cloudrun', '--cluster', 'us-central1.prod', '-n', 'payments'])
    expect(out.split('\n').slice(0, 3)).toEqual([
      'Platform: Cloud Run — only the default admission rule applies.',
      'Rule: default admission rule (cluster.yaml:6): ALWAYS_DENY, ENFORCED_BLOCK_AND_AUDIT_LOG.',
      'Why: Cloud Run supports the default rule only.',
    ])
    expect(out).toContain('System images: not exempt (globalPolicyEvaluationMode ENABLE; the system policy applies to GKE only).')
    expect(out).toContain("note: Cloud Run uses only the default admission rule; the policy's 2 scoped rule(s) (clusterAdmissionRules) do not apply.")
    const j = await explainJson(['cluster.yaml', '--platform', 'cloudrun', '--image', 'gcr.io/google_containers/pause@' + DIGEST])
    expect(j).toMatchObject({platform: 'cloudrun', ruleKind: 'default', attestorsRequired: [], system: {applies: false}})
    expect(j.system.match).toBeUndefined()
  })
})

describe('policy explain --json', () => {
  it('has the rule, candidates, attestors, system, lines and notes', async () => {
    const j = await explainJson(['namespace.yaml', '-n', 'payments', '--image', `us-docker.pkg.dev/acme/app/app@${DIGEST}`])
    expect(Object.keys(j).sort()).toEqual([
      'allowlist',
      'apiVersion',
      'attestorsRequired',
      'candidates',
      'key',
      'kind',
      'lines',
      'notes',
      'platform',
      'rule',
      'ruleKind',
      'system',
    ])
    expect(j.rule).toEqual({evaluationMode: 'REQUIRE_ATTESTATION', enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY', requireAttestationsBy: [CI], line: 10})
    expect(j.candidates).toEqual([{kind: 'namespace', key: 'payments', rule: j.rule, certain: true}])
    expect(j.lines[0]).toBe('Platform: GKE — cluster (unknown), namespace payments, service account default.')
  })

  it('errors are JSON too: an invalid policy (exit 7) names the line', async () => {
    writeFileSync(join(d, 'broken.yaml'), 'defaultAdmissionRule:\n  evaluationMode: MAYBE\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n')
    const r = await runCli(['policy', 'explain', 'broken.yaml', '--json'], {cwd: d})
    expect(r.code).toBe(7)
    const out = JSON.parse(r.stdout)
    expect(out).toMatchObject({exitCode: 7, error: {code: 'POLICY_INVALID'}})
    // The summary counts; each problem is listed once, with its line.
    const said = [out.error.message, ...(out.error.errors ?? []).map((e: {message: string}) => e.message)].join('\n')
    expect(said).toContain('broken.yaml:2: defaultAdmissionRule.evaluationMode')
  })
})
