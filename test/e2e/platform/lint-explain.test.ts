/**
 * `policy lint --platform-policy` and `policy explain --platform-policy` through the built CLI: findings with file
 * and line, exit 7 with every problem listed, which check set a Pod selects and which checks apply, --json checked
 * against the published schemas (docs/platform-policy.md#lint, #explain).
 */
import {beforeAll, describe, expect, it} from '@jest/globals'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCli} from '../../support/cli.js'
import {schemaErrors} from '../../support/schemas.js'

const DIGEST = 'sha256:' + 'a'.repeat(64)

const POLICY = `gkePolicy:
  imageAllowlist:
    allowPattern:
    - gcr.io/my-project/tools/**
  checkSets:
  - displayName: Prod check set
    scope:
      kubernetesNamespace: prod
    checks:
    - trustedDirectoryCheck:
        trustedDirPatterns:
        - gcr.io/my-project/prod-images
      displayName: Trusted directory check
    - imageFreshnessCheck:
        maxUploadAgeDays: 30
      displayName: Freshness check
      imageAllowlist:
        allowPattern:
        - gcr.io/my-project/prod-images/legacy
  - displayName: Default check set
    checks:
    - alwaysDeny: true
`

/** Three problems at once: a set after the default, alwaysDeny false, a bare wildcard. */
const INVALID = `gkePolicy:
  imageAllowlist:
    allowPattern:
    - '**'
  checkSets:
  - displayName: Default
    checks:
    - alwaysDeny: false
  - displayName: Too late
    scope:
      kubernetesNamespace: prod
    checks:
    - alwaysDeny: true
`

let dir: string
const file = (name: string) => join(dir, name)

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sd-platform-lint-'))
  writeFileSync(file('policy.yaml'), POLICY)
  writeFileSync(file('invalid.yaml'), INVALID)
  writeFileSync(file('open.yaml'), 'gkePolicy:\n  checkSets:\n  - displayName: Everything\n    checks: []\n')
})

describe('policy lint --platform-policy', () => {
  it('a valid policy: no errors, exit 0, the --json document conforms', async () => {
    const r = await runCli(['policy', 'lint', '--platform-policy', file('policy.yaml'), '--json'])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(schemaErrors('lint', doc)).toEqual([])
    expect(doc).toMatchObject({kind: 'LintResult', policyType: 'platform', file: file('policy.yaml'), errors: 0})
  })

  it('an invalid policy: exit 7, every problem with its code and line', async () => {
    const r = await runCli(['policy', 'lint', '--platform-policy', file('invalid.yaml'), '--json'])
    expect(r.code).toBe(7)
    const doc = JSON.parse(r.stdout)
    expect(schemaErrors('lint', doc)).toEqual([])
    const codes = doc.findings.map((f: {code: string}) => f.code)
    expect(codes).toEqual(expect.arrayContaining(['E_BARE_WILDCARD', 'E_ALWAYS_DENY_FALSE', 'E_CHECK_SET_UNREACHABLE']))
    expect(doc.errors).toBeGreaterThanOrEqual(3)
    for (const f of doc.findings) expect(f.line).toBeGreaterThan(0)
  })

  it('text: FILE:LINE findings; warnings only exit 0, and 7 with --strict', async () => {
    const r = await runCli(['policy', 'lint', '--platform-policy', file('open.yaml')])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/open\.yaml:\d+: warning W_EMPTY_CHECK_SET: /)
    const strict = await runCli(['policy', 'lint', '--platform-policy', file('open.yaml'), '--strict'])
    expect(strict.code).toBe(7)
  })

  it('a missing file is named (exit 3), and a classic FILE with it is refused (exit 2)', async () => {
    const missing = await runCli(['policy', 'lint', '--platform-policy', file('nope.yaml')])
    expect(missing.code).toBe(3)
    expect(missing.stderr).toMatch(/--platform-policy .*nope\.yaml: no such file/)
    const both = await runCli(['policy', 'lint', file('policy.yaml'), '--platform-policy', file('policy.yaml')])
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(/without a classic policy FILE/)
  })
})

describe('policy explain --platform-policy', () => {
  it('namespace prod selects the Prod set; the checks for an image, one skipped by its own allowlist', async () => {
    const r = await runCli([
      'policy',
      'explain',
      '--platform-policy',
      file('policy.yaml'),
      '-n',
      'prod',
      '--image',
      `gcr.io/my-project/prod-images/legacy@${DIGEST}`,
      '--json',
    ])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(schemaErrors('explain', doc)).toEqual([])
    expect(doc).toMatchObject({kind: 'PolicyExplanation', policyType: 'platform', namespace: 'prod', serviceAccount: 'default', checkSetIndex: 0})
    expect(doc.checks.map((c: {kind: string; exemptedBy: string | null}) => [c.kind, c.exemptedBy])).toEqual([
      ['TrustedDirectoryCheck', null],
      ['ImageFreshnessCheck', 'gcr.io/my-project/prod-images/legacy'],
    ])
  })

  it('no namespace: only the default set, said in text', async () => {
    const r = await runCli(['policy', 'explain', '--platform-policy', file('policy.yaml'), '--image', 'gcr.io/my-project/app:1'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/Pod: a Pod without a namespace/)
    expect(r.stdout).toMatch(/Selected: checkSets\[1\] "Default check set"/)
    expect(r.stdout).toMatch(/check 0 AlwaysDenyCheck/)
    expect(r.stdout).toMatch(/only the default \(unscoped\) check set applies/)
  })

  it('the policy allowlist exempts an image before any check', async () => {
    const r = await runCli([
      'policy',
      'explain',
      '--platform-policy',
      file('policy.yaml'),
      '-n',
      'prod',
      '--image',
      'gcr.io/my-project/tools/kubectl:1',
      '-o',
      'json',
    ])
    const doc = JSON.parse(r.stdout)
    expect(schemaErrors('explain', doc)).toEqual([])
    expect(doc.exemption).toEqual({level: 'policy', pattern: 'gcr.io/my-project/tools/**'})
    expect(doc.checks).toEqual([])
  })

  it('an invalid policy exits 7 with every problem listed; --cluster is refused', async () => {
    const r = await runCli(['policy', 'explain', '--platform-policy', file('invalid.yaml'), '--json'])
    expect(r.code).toBe(7)
    const doc = JSON.parse(r.stdout)
    expect(schemaErrors('error', doc)).toEqual([])
    expect(doc.error.errors.length).toBeGreaterThanOrEqual(3)
    const cluster = await runCli(['policy', 'explain', '--platform-policy', file('policy.yaml'), '--cluster', 'us-central1.prod'])
    expect(cluster.code).toBe(2)
  })
})
