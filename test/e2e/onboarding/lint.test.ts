/**
 * `policy lint`: one test per finding code (lintPolicy directly: code, severity, 1-based line, message, fix),
 * then the CLI: --json shape, exit codes (7 on errors, 0 on warnings, 7 on warnings with --strict),
 * --audit-log and --attestors.
 */
import {beforeAll, describe, expect, it} from '@jest/globals'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {lintPolicy, type Finding, type LintInput} from '../../../src/core/policy/lint.js'
import type {Attestor} from '../../../src/core/attestation/types.js'
import {runCli, isolatedEnv} from '../../support/cli.js'
import {schemaErrors} from '../../support/schemas.js'
import {makeAttestor} from '../../support/trust.js'
import {tmp} from './helpers.js'

const CI = 'projects/acme/attestors/built-by-ci'
const HEAD = 'name: projects/acme/policy\nglobalPolicyEvaluationMode: ENABLE\n'
const DENY_DEFAULT = 'defaultAdmissionRule:\n  evaluationMode: ALWAYS_DENY\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n'
const ATTEST_DEFAULT = `defaultAdmissionRule:\n  evaluationMode: REQUIRE_ATTESTATION\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  requireAttestationsBy:\n  - ${CI}\n`

/** A policy with an allowlist (lines 4.. hold the patterns, in order). */
const allowlist = (...patterns: string[]) => HEAD + 'admissionWhitelistPatterns:\n' + patterns.map((p) => `- namePattern: ${p}\n`).join('') + DENY_DEFAULT

const lint = (text: string, extra: Partial<LintInput> = {}) => lintPolicy({text, file: 'policy.yaml', ...extra})
const only = (text: string, code: string, extra: Partial<LintInput> = {}): Finding[] => lint(text, extra).findings.filter((f) => f.code === code)
const attestor = (name: string, keys: number): Attestor => ({
  name,
  noteReference: name.replace('/attestors/', '/notes/'),
  source: 'test',
  publicKeys: Array.from({length: keys}, (_, i) => ({id: `k${i}`}) as unknown as Attestor['publicKeys'][number]),
})

describe('lintPolicy: one test per finding', () => {
  it('a clean policy has no findings', () => {
    expect(
      lint(HEAD + ATTEST_DEFAULT, {audit: {records: 4, dryRunDecisions: 2, file: 'audit.jsonl'}, attestors: new Map([[CI, attestor(CI, 1)]])}),
    ).toMatchObject({findings: [], errors: 0, warnings: 0})
  })

  it("E_POLICY_INVALID: every structural error, at its line, with the parser's message", () => {
    const r = lint(
      HEAD +
        'defaultAdmissionRule:\n  evaluationMode: SOMETIMES\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\nclusterAdmissionRules:\n  prod:\n    evaluationMode: ALWAYS_ALLOW\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n',
    )
    expect(r.errors).toBe(2)
    expect(r.policy).toBeUndefined()
    expect(r.findings).toEqual([
      {
        code: 'E_POLICY_INVALID',
        severity: 'error',
        line: 4,
        message: expect.stringMatching(
          /^defaultAdmissionRule\.evaluationMode: expected one of ALWAYS_ALLOW, REQUIRE_ATTESTATION, ALWAYS_DENY, got "SOMETIMES"/,
        ),
        fix: 'fix the field as described; `gcloud container binauthz policy import` would reject it too',
      },
      {
        code: 'E_POLICY_INVALID',
        severity: 'error',
        line: 7,
        message: 'clusterAdmissionRules["prod"]: expected a cluster key LOCATION.CLUSTER_NAME (e.g. us-central1-a.prod-cluster), got "prod"',
        fix: expect.any(String),
      },
    ])
    // YAML syntax: the line of the error
    const syntax = lint(HEAD + 'defaultAdmissionRule: [\n')
    expect(syntax.findings).toEqual([
      expect.objectContaining({
        code: 'E_POLICY_INVALID',
        severity: 'error',
        line: expect.any(Number),
        message: expect.stringContaining('expected valid YAML or JSON'),
      }),
    ])
    expect(syntax.findings[0]?.line).toBeGreaterThanOrEqual(3)
    // an empty file: one error, line 0 (unknown)
    expect(lint('').findings).toEqual([
      expect.objectContaining({code: 'E_POLICY_INVALID', line: 0, message: expect.stringContaining('the policy file is empty')}),
    ])
  })

  it('W_GLOBAL_EVAL_MODE: DISABLE at the line of the field; missing at line 1', () => {
    expect(only('name: projects/acme/policy\nglobalPolicyEvaluationMode: DISABLE\n' + DENY_DEFAULT, 'W_GLOBAL_EVAL_MODE')).toEqual([
      {
        code: 'W_GLOBAL_EVAL_MODE',
        severity: 'warning',
        line: 2,
        message: 'globalPolicyEvaluationMode is DISABLE: Google-maintained system images must then be allowlisted by hand',
        fix: 'add `globalPolicyEvaluationMode: ENABLE` (the default for new projects)',
      },
    ])
    expect(only('name: projects/acme/policy\n' + DENY_DEFAULT, 'W_GLOBAL_EVAL_MODE')).toEqual([
      {
        code: 'W_GLOBAL_EVAL_MODE',
        severity: 'warning',
        line: 1,
        message:
          'globalPolicyEvaluationMode is missing (treated as DISABLE): Google-maintained system images are evaluated against your rules and may be blocked',
        fix: 'add `globalPolicyEvaluationMode: ENABLE` (the default for new projects)',
      },
    ])
    // JSON (gcloud --format=json) form: the line of the field too
    const json = JSON.stringify(
      {
        name: 'projects/acme/policy',
        defaultAdmissionRule: {evaluationMode: 'ALWAYS_DENY', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG'},
        globalPolicyEvaluationMode: 'DISABLE',
      },
      null,
      2,
    )
    expect(only(json, 'W_GLOBAL_EVAL_MODE')[0]?.line).toBe(7)
  })

  it("W_PERMISSIVE_PRODUCTION: ALWAYS_ALLOW on a production-like cluster, at the rule's line", () => {
    const text =
      HEAD +
      DENY_DEFAULT +
      'clusterAdmissionRules:\n  us-central1.prod:\n    evaluationMode: ALWAYS_ALLOW\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  us-central1.product-catalog:\n    evaluationMode: ALWAYS_ALLOW\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n'
    expect(only(text, 'W_PERMISSIVE_PRODUCTION')).toEqual([
      {
        code: 'W_PERMISSIVE_PRODUCTION',
        severity: 'warning',
        line: 7,
        message: 'cluster rule "us-central1.prod" looks production-like but is ALWAYS_ALLOW: any image deploys there',
        fix: 'write evaluationMode: REQUIRE_ATTESTATION, enforcementMode: DRYRUN_AUDIT_LOG_ONLY, requireAttestationsBy: [projects/acme/attestors/ATTESTOR]; enforce once the audit log shows no unexpected denials',
      },
    ])
  })

  it('W_PRODUCTION_DRYRUN: a production-like namespace only in dry-run', () => {
    const text =
      HEAD +
      DENY_DEFAULT +
      `kubernetesNamespaceAdmissionRules:\n  payments-prod:\n    evaluationMode: REQUIRE_ATTESTATION\n    enforcementMode: DRYRUN_AUDIT_LOG_ONLY\n    requireAttestationsBy:\n    - ${CI}\n`
    expect(only(text, 'W_PRODUCTION_DRYRUN')).toEqual([
      {
        code: 'W_PRODUCTION_DRYRUN',
        severity: 'warning',
        line: 7,
        message: 'namespace rule "payments-prod" looks production-like but is only DRYRUN_AUDIT_LOG_ONLY: denials are logged, not blocked',
        fix: 'write enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG once the audit log shows no unexpected dry-run denials',
      },
    ])
  })

  it('W_ENFORCED_WITHOUT_DRYRUN: only when an audit log exists and has no dry-run decision', () => {
    const text = HEAD + ATTEST_DEFAULT
    expect(only(text, 'W_ENFORCED_WITHOUT_DRYRUN', {audit: {records: 3, dryRunDecisions: 0, file: 'audit.jsonl'}})).toEqual([
      {
        code: 'W_ENFORCED_WITHOUT_DRYRUN',
        severity: 'warning',
        line: 3,
        message: 'defaultAdmissionRule is enforced, but the audit log (audit.jsonl, 3 record(s)) has no dry-run decisions yet',
        fix: 'write enforcementMode: DRYRUN_AUDIT_LOG_ONLY on this rule and deploy through safe-deploy for a while, then ENFORCED_BLOCK_AND_AUDIT_LOG',
      },
    ])
    expect(only(text, 'W_ENFORCED_WITHOUT_DRYRUN', {audit: {records: 3, dryRunDecisions: 1, file: 'audit.jsonl'}})).toEqual([])
    expect(only(text, 'W_ENFORCED_WITHOUT_DRYRUN')).toEqual([])
    // ALWAYS_ALLOW enforced is not "strict"
    expect(
      only(HEAD + 'defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n', 'W_ENFORCED_WITHOUT_DRYRUN', {
        audit: {records: 0, dryRunDecisions: 0, file: 'a'},
      }),
    ).toEqual([])
  })

  it('W_ATTESTOR_NOT_FOUND and W_ATTESTOR_NO_KEYS: only when attestors were checked', () => {
    const scanned = 'projects/acme/attestors/scanned'
    const text = HEAD + ATTEST_DEFAULT + `  - ${scanned}\n`
    const findings = lint(text, {
      attestors: new Map<string, Attestor | undefined>([
        [CI, undefined],
        [scanned, attestor(scanned, 0)],
      ]),
    }).findings
    // same line: sorted by code
    expect(findings).toEqual([
      {
        code: 'W_ATTESTOR_NO_KEYS',
        severity: 'warning',
        line: 3,
        message: `defaultAdmissionRule requires ${scanned}, which has no public keys: it never accepts an attestation, so every image is denied`,
        fix: `add a key: gcloud container binauthz attestors public-keys add --attestor=${scanned} --pkix-public-key-file=KEY.pem --pkix-public-key-algorithm=ecdsa-p256-sha256`,
      },
      {
        code: 'W_ATTESTOR_NOT_FOUND',
        severity: 'warning',
        line: 3,
        message: `defaultAdmissionRule requires ${CI}, which was not found`,
        fix: `create it, or export it with gcloud container binauthz attestors describe ${CI} --format=json`,
      },
    ])
    expect(lint(text).findings).toEqual([])
  })

  it("W_SIMILAR_CLUSTERS_DIFFER: clusters of one family with different rules, at the odd one's line", () => {
    const rule = (ev: string, en: string) => `    evaluationMode: ${ev}\n    enforcementMode: ${en}\n`
    const text =
      HEAD +
      DENY_DEFAULT +
      'clusterAdmissionRules:\n' +
      '  us-central1.shop-1:\n' +
      rule('ALWAYS_DENY', 'ENFORCED_BLOCK_AND_AUDIT_LOG') +
      '  europe-west1.shop-eu:\n' +
      rule('ALWAYS_DENY', 'ENFORCED_BLOCK_AND_AUDIT_LOG') +
      '  us-east1.shop-2:\n' +
      rule('ALWAYS_DENY', 'DRYRUN_AUDIT_LOG_ONLY') +
      '  us-east1.shopfront:\n' +
      rule('ALWAYS_ALLOW', 'ENFORCED_BLOCK_AND_AUDIT_LOG')
    expect(only(text, 'W_SIMILAR_CLUSTERS_DIFFER')).toEqual([
      {
        code: 'W_SIMILAR_CLUSTERS_DIFFER',
        severity: 'warning',
        line: 13,
        message:
          'clusters "us-central1.shop-1" and "us-east1.shop-2" look like the same environment ("shop") but have different rules: ALWAYS_DENY/ENFORCED_BLOCK_AND_AUDIT_LOG vs ALWAYS_DENY/DRYRUN_AUDIT_LOG_ONLY',
        fix: 'give both clusters the stricter rule (an unprotected twin is the way in): ALWAYS_DENY/ENFORCED_BLOCK_AND_AUDIT_LOG',
      },
    ])
  })

  it('W_BROAD_ALLOWLIST: a prefix without "/" (siblings) and a whole registry', () => {
    expect(only(allowlist('gcr.io/acme/app**', 'gcr.io/**', 'us-docker.pkg.dev/*', 'gcr.io/acme/tools/**', 'gcr.io/acme/app:**'), 'W_BROAD_ALLOWLIST')).toEqual(
      [
        {
          code: 'W_BROAD_ALLOWLIST',
          severity: 'warning',
          line: 4,
          message: 'allowlist pattern "gcr.io/acme/app**" also matches sibling paths such as "gcr.io/acme/app-exploit/…"',
          fix: 'use "gcr.io/acme/app/**" to allow only what is inside gcr.io/acme/app',
        },
        {
          code: 'W_BROAD_ALLOWLIST',
          severity: 'warning',
          line: 5,
          message: 'allowlist pattern "gcr.io/**" exempts every image in the registry gcr.io',
          fix: 'narrow it to your project or repository path, e.g. "gcr.io/PROJECT/**"',
        },
        {
          code: 'W_BROAD_ALLOWLIST',
          severity: 'warning',
          line: 6,
          message: 'allowlist pattern "us-docker.pkg.dev/*" exempts every top-level image in the registry us-docker.pkg.dev',
          fix: 'narrow it to your project or repository path, e.g. "us-docker.pkg.dev/PROJECT/**"',
        },
      ],
    )
  })

  it('W_TAG_PATTERN_CLOUD_RUN: a tag in the pattern (a registry port is not a tag)', () => {
    expect(only(allowlist('gcr.io/acme/app:v1', 'localhost:5000/app@*', 'gcr.io/acme/job:v1.*'), 'W_TAG_PATTERN_CLOUD_RUN')).toEqual([
      {
        code: 'W_TAG_PATTERN_CLOUD_RUN',
        severity: 'warning',
        line: 4,
        message: 'allowlist pattern "gcr.io/acme/app:v1" names a tag: it never matches on Cloud Run, which evaluates images by digest',
        fix: 'write "gcr.io/acme/app@*" (every digest of the image) or "gcr.io/acme/**" (its directory)',
      },
      {
        code: 'W_TAG_PATTERN_CLOUD_RUN',
        severity: 'warning',
        line: 6,
        message: 'allowlist pattern "gcr.io/acme/job:v1.*" names a tag: it never matches on Cloud Run, which evaluates images by digest',
        fix: 'write "gcr.io/acme/job@*" (every digest of the image) or "gcr.io/acme/**" (its directory)',
      },
    ])
  })

  it('W_NORMALIZED_PATTERN: docker.io/ and index.docker.io/ patterns', () => {
    expect(only(allowlist('nginx@*', 'docker.io/library/nginx@*', 'index.docker.io/bitnami/redis@*'), 'W_NORMALIZED_PATTERN')).toEqual([
      {
        code: 'W_NORMALIZED_PATTERN',
        severity: 'warning',
        line: 5,
        message:
          'allowlist pattern "docker.io/library/nginx@*" uses the normalized Docker Hub name; matching is on the image as written, so "nginx" or "library/nginx" does not match it',
        fix: 'add "nginx@*" for the short form your manifests use, or write the images with docker.io/ explicitly',
      },
      expect.objectContaining({code: 'W_NORMALIZED_PATTERN', line: 6, message: expect.stringContaining('"index.docker.io/bitnami/redis@*"')}),
    ])
  })

  it('W_SHADOWED_ALLOWLIST: covered by a broader pattern, or listed twice; one finding per pattern', () => {
    const findings = only(
      allowlist(
        'gcr.io/acme/app@*',
        'gcr.io/acme/*',
        'gcr.io/acme/**',
        'gcr.io/acme/**',
        'gcr.io/other/x/y',
        'gcr.io/other/*',
        'gcr.io/other/ab',
        'gcr.io/other/a*',
      ),
      'W_SHADOWED_ALLOWLIST',
    )
    expect(findings).toEqual([
      // covered by both gcr.io/acme/* and gcr.io/acme/**: reported once, against the first
      {
        code: 'W_SHADOWED_ALLOWLIST',
        severity: 'warning',
        line: 4,
        message: 'allowlist pattern "gcr.io/acme/app@*" is shadowed by the broader "gcr.io/acme/*" (line 5)',
        fix: 'remove "gcr.io/acme/app@*", or narrow "gcr.io/acme/*"',
      },
      {
        code: 'W_SHADOWED_ALLOWLIST',
        severity: 'warning',
        line: 5,
        message: 'allowlist pattern "gcr.io/acme/*" is shadowed by the broader "gcr.io/acme/**" (line 6)',
        fix: 'remove "gcr.io/acme/*", or narrow "gcr.io/acme/**"',
      },
      // the second copy is the duplicate; the first is not "shadowed" by it
      {code: 'W_SHADOWED_ALLOWLIST', severity: 'warning', line: 7, message: 'allowlist pattern "gcr.io/acme/**" is listed twice', fix: 'remove the duplicate'},
      // gcr.io/other/x/y is NOT covered by gcr.io/other/* (one path level only); gcr.io/other/ab is covered by gcr.io/other/a*
      {
        code: 'W_SHADOWED_ALLOWLIST',
        severity: 'warning',
        line: 10,
        message: 'allowlist pattern "gcr.io/other/ab" is shadowed by the broader "gcr.io/other/*" (line 9)',
        fix: 'remove "gcr.io/other/ab", or narrow "gcr.io/other/*"',
      },
      {
        code: 'W_SHADOWED_ALLOWLIST',
        severity: 'warning',
        line: 11,
        message: 'allowlist pattern "gcr.io/other/a*" is shadowed by the broader "gcr.io/other/*" (line 9)',
        fix: 'remove "gcr.io/other/a*", or narrow "gcr.io/other/*"',
      },
    ])
    // the broadest pattern (line 4) is never reported as shadowed by narrower ones; a tag-only pattern is not covered by name@*
    expect(
      only(allowlist('gcr.io/acme/**', 'gcr.io/acme/*', 'gcr.io/acme/app@*', 'gcr.io/acme/app:v1', 'gcr.io/acme/app**'), 'W_SHADOWED_ALLOWLIST').map(
        (f) => f.line,
      ),
    ).toEqual([5, 6, 7, 8])
    expect(only(allowlist('gcr.io/acme/app@*', 'gcr.io/acme/app:v1'), 'W_SHADOWED_ALLOWLIST')).toEqual([])
    expect(only(allowlist('gcr.io/acme/app:v1', 'gcr.io/acme/app:*'), 'W_SHADOWED_ALLOWLIST').map((f) => f.line)).toEqual([4])
  })

  it('findings are sorted by line, then code', () => {
    const r = lint(allowlist('docker.io/library/nginx:1.27', 'gcr.io/**'))
    expect(r.findings.map((f) => `${f.line} ${f.code}`)).toEqual(['4 W_NORMALIZED_PATTERN', '4 W_TAG_PATTERN_CLOUD_RUN', '5 W_BROAD_ALLOWLIST'])
    expect(r).toMatchObject({errors: 0, warnings: 3})
  })
})

describe('policy lint through the CLI', () => {
  let d: string
  beforeAll(() => {
    d = tmp('lint-cli')
    writeFileSync(join(d, 'clean.yaml'), HEAD + ATTEST_DEFAULT)
    writeFileSync(join(d, 'warn.yaml'), allowlist('gcr.io/**'))
    writeFileSync(join(d, 'bad.yaml'), HEAD + 'defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: BLOCK\n')
    mkdirSync(join(d, 'attestors'))
    makeAttestor(join(d, 'attestors'), join(d, 'keys'), 'acme', 'built-by-ci')
    mkdirSync(join(d, 'nokeys'))
    writeFileSync(join(d, 'nokeys', 'ci.json'), JSON.stringify({name: CI, userOwnedGrafeasNote: {noteReference: 'projects/acme/notes/ci', publicKeys: []}}))
    const rec = (enforcementMode: string, verdict: string) =>
      JSON.stringify({
        time: '2026-11-01T00:00:00Z',
        command: 'apply',
        verdict,
        images: [{image: 'gcr.io/acme/app@sha256:' + 'a'.repeat(64), verdict, rule: {kind: 'default', enforcementMode}}],
      })
    writeFileSync(join(d, 'enforced-only.jsonl'), [rec('ENFORCED_BLOCK_AND_AUDIT_LOG', 'ALLOW'), rec('ENFORCED_BLOCK_AND_AUDIT_LOG', 'DENY')].join('\n') + '\n')
    writeFileSync(join(d, 'with-dryrun.jsonl'), [rec('ENFORCED_BLOCK_AND_AUDIT_LOG', 'ALLOW'), rec('DRYRUN_AUDIT_LOG_ONLY', 'DRYRUN_DENY')].join('\n') + '\n')
  })
  const lintCli = (args: string[], env = isolatedEnv()) => runCli(['policy', 'lint', ...args], {cwd: d, env})

  it('--json: {file, findings: [{code, severity, line, message, fix}], errors, warnings}; exit 0 on warnings', async () => {
    const r = await lintCli(['warn.yaml', '--json'])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(Object.keys(out).sort()).toEqual(['apiVersion', 'errors', 'file', 'findings', 'kind', 'notes', 'warnings'])
    expect(schemaErrors('lint', out)).toEqual([])
    expect(out).toEqual({
      apiVersion: 'safe-deploy.dev/v1',
      kind: 'LintResult',
      file: 'warn.yaml',
      errors: 0,
      warnings: 1,
      // No audit log yet (a fresh setup): said, never a finding.
      notes: [
        expect.stringMatching(
          /^no audit log at \S+audit\.jsonl yet: whether the enforced rules were tried in dry-run first \(W_ENFORCED_WITHOUT_DRYRUN\) was not checked$/,
        ),
      ],
      findings: [
        {
          code: 'W_BROAD_ALLOWLIST',
          severity: 'warning',
          line: 4,
          message: 'allowlist pattern "gcr.io/**" exempts every image in the registry gcr.io',
          fix: 'narrow it to your project or repository path, e.g. "gcr.io/PROJECT/**"',
        },
      ],
    })
  })

  it('human output: file:line: severity CODE: message, the fix, a summary', async () => {
    const r = await lintCli(['warn.yaml'])
    expect(r.code).toBe(0)
    expect(r.stdout.replace(/no audit log at \S+ yet/, 'no audit log at LOG yet')).toBe(
      'warn.yaml:4: warning W_BROAD_ALLOWLIST: allowlist pattern "gcr.io/**" exempts every image in the registry gcr.io\n    fix: narrow it to your project or repository path, e.g. "gcr.io/PROJECT/**"\n' +
        'note: no audit log at LOG yet: whether the enforced rules were tried in dry-run first (W_ENFORCED_WITHOUT_DRYRUN) was not checked\n0 error(s), 1 warning(s)\n',
    )
  })

  it('exit 7 on warnings with --strict, 0 on a clean policy with --strict', async () => {
    expect((await lintCli(['warn.yaml', '--strict'])).code).toBe(7)
    expect((await lintCli(['clean.yaml', '--strict'])).code).toBe(0)
  })

  it('exit 7 on errors, with the line', async () => {
    const r = await lintCli(['bad.yaml', '--json'])
    expect(r.code).toBe(7)
    const out = JSON.parse(r.stdout)
    expect(out.errors).toBe(1)
    expect(out.findings).toEqual([
      expect.objectContaining({
        code: 'E_POLICY_INVALID',
        severity: 'error',
        line: 5,
        message: expect.stringContaining(
          'defaultAdmissionRule.enforcementMode: expected one of ENFORCED_BLOCK_AND_AUDIT_LOG, DRYRUN_AUDIT_LOG_ONLY, got "BLOCK"',
        ),
      }),
    ])
  })

  it('--audit-log: W_ENFORCED_WITHOUT_DRYRUN without dry-run records, none with them, none without any audit log', async () => {
    const without = JSON.parse((await lintCli(['clean.yaml', '--audit-log', 'enforced-only.jsonl', '--json'])).stdout)
    expect(without.findings).toEqual([
      expect.objectContaining({
        code: 'W_ENFORCED_WITHOUT_DRYRUN',
        line: 3,
        message: 'defaultAdmissionRule is enforced, but the audit log (enforced-only.jsonl, 2 record(s)) has no dry-run decisions yet',
      }),
    ])
    expect(JSON.parse((await lintCli(['clean.yaml', '--audit-log', 'with-dryrun.jsonl', '--json'])).stdout).findings).toEqual([])
    // the default audit log ($XDG_STATE_HOME/safe-deploy/audit.jsonl) is read when present
    const env = isolatedEnv()
    mkdirSync(join(env.XDG_STATE_HOME as string, 'safe-deploy'), {recursive: true})
    expect(JSON.parse((await lintCli(['clean.yaml', '--json'], env)).stdout).findings).toEqual([])
    writeFileSync(join(env.XDG_STATE_HOME as string, 'safe-deploy', 'audit.jsonl'), '')
    expect(JSON.parse((await lintCli(['clean.yaml', '--json'], env)).stdout).findings.map((f: Finding) => f.code)).toEqual(['W_ENFORCED_WITHOUT_DRYRUN'])
    // an explicit --audit-log that does not exist is an input error (exit 3), not "0 records"
    const missing = await lintCli(['clean.yaml', '--audit-log', 'nope.jsonl'])
    expect(missing.code).toBe(3)
    expect(missing.stderr).toContain('--audit-log nope.jsonl does not exist')
  })

  it('--attestors DIR: W_ATTESTOR_NOT_FOUND / W_ATTESTOR_NO_KEYS, none when the attestor has keys', async () => {
    expect(JSON.parse((await lintCli(['clean.yaml', '--attestors', 'attestors', '--json'])).stdout).findings).toEqual([])
    const none = JSON.parse((await lintCli(['clean.yaml', '--attestors', 'keys', '--json'])).stdout)
    expect(none.findings).toEqual([expect.objectContaining({code: 'W_ATTESTOR_NOT_FOUND', line: 3})])
    const nokeys = await lintCli(['clean.yaml', '--attestors', 'nokeys', '--json', '--strict'])
    expect(nokeys.code).toBe(7)
    expect(JSON.parse(nokeys.stdout).findings).toEqual([
      expect.objectContaining({code: 'W_ATTESTOR_NO_KEYS', line: 3, message: expect.stringContaining('which has no public keys')}),
    ])
  })

  it('usage: no file and no --project (exit 2); a missing file is an input error (exit 3)', async () => {
    const r = await lintCli([])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('give a policy FILE or --project PROJECT')
    const m = await lintCli(['missing.yaml'])
    expect(m.code).toBe(3)
    expect(m.stderr).toContain('Error [INVALID_INPUT]: policy file missing.yaml: no such file')
  })
})

describe('lint says what it could not check, and only what applies to the platform', () => {
  it('no audit log: a note (not a finding) for enforced rules; none once the log exists or nothing is enforced', () => {
    expect(lint(HEAD + ATTEST_DEFAULT, {missingAuditLog: '/state/audit.jsonl'}).notes).toEqual([
      'no audit log at /state/audit.jsonl yet: whether the enforced rules were tried in dry-run first (W_ENFORCED_WITHOUT_DRYRUN) was not checked',
    ])
    expect(lint(HEAD + ATTEST_DEFAULT, {audit: {records: 3, dryRunDecisions: 1, file: 'a.jsonl'}}).notes).toEqual([])
    const dry =
      HEAD +
      'defaultAdmissionRule:\n  evaluationMode: REQUIRE_ATTESTATION\n  enforcementMode: DRYRUN_AUDIT_LOG_ONLY\n  requireAttestationsBy:\n  - ' +
      CI +
      '\n'
    expect(lint(dry, {missingAuditLog: '/state/audit.jsonl'}).notes).toEqual([])
  })
  it('--platform gke: no Cloud Run finding for a tag pattern; cloudrun or unset: raised', () => {
    const text = allowlist('gcr.io/acme/app:v1')
    expect(only(text, 'W_TAG_PATTERN_CLOUD_RUN', {platform: 'gke'})).toEqual([])
    expect(only(text, 'W_TAG_PATTERN_CLOUD_RUN', {platform: 'cloudrun'})).toHaveLength(1)
    expect(only(text, 'W_TAG_PATTERN_CLOUD_RUN')).toHaveLength(1)
  })
})
