import {describe, expect, it} from '@jest/globals'
import {SafeDeployError} from '../../../../src/core/errors.js'
import {parsePolicyObject, parsePolicyText, parseSystemPolicyText} from '../../../../src/core/policy/parse.js'

function problems(text: string): SafeDeployError {
  try {
    parsePolicyText(text, 'policy.yaml')
  } catch (e) {
    if (e instanceof SafeDeployError) return e
    throw e
  }
  throw new Error('expected parsePolicyText to throw')
}

/** What the error says: its summary, then each problem listed under it (each naming file:line once). */
function said(fn: () => unknown): {code: string; text: string} {
  try {
    fn()
  } catch (e) {
    if (e instanceof SafeDeployError) return {code: e.code, text: [e.message, ...e.errors.map((sub) => sub.message)].join('\n')}
    throw e
  }
  throw new Error('expected a throw')
}

const DEFAULT_RULE = 'defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n'

describe('parsePolicyText: the spec example policies parse', () => {
  it('default exported policy of a new project (docs/binauthz.md#policy-file-formats)', () => {
    const p = parsePolicyText(
      'defaultAdmissionRule:\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  evaluationMode: ALWAYS_ALLOW\nglobalPolicyEvaluationMode: ENABLE\nname: projects/PROJECT_ID/policy\n',
      'default.yaml',
    )
    expect(p).toEqual({
      name: 'projects/PROJECT_ID/policy',
      project: 'PROJECT_ID',
      globalPolicyEvaluationMode: 'ENABLE',
      admissionWhitelistPatterns: [],
      clusterAdmissionRules: {},
      kubernetesNamespaceAdmissionRules: {},
      kubernetesServiceAccountAdmissionRules: {},
      istioServiceIdentityAdmissionRules: {},
      defaultAdmissionRule: {evaluationMode: 'ALWAYS_ALLOW', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG', requireAttestationsBy: [], line: 1},
      source: 'default.yaml',
    })
  })

  it('gcloud import example (docs/binauthz.md#policy-file-formats), with flow mappings', () => {
    const p = parsePolicyText(
      [
        'admissionWhitelistPatterns:',
        '- namePattern: gcr.io/google_containers/*',
        'clusterAdmissionRules:',
        '  us-central1-a.prod-cluster:',
        '    evaluationMode: REQUIRE_ATTESTATION',
        '    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG',
        '    requireAttestationsBy: [projects/p/attestors/a]',
        'defaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: DRYRUN_AUDIT_LOG_ONLY}',
        'globalPolicyEvaluationMode: ENABLE',
      ].join('\n'),
      'import.yaml',
    )
    expect(p.admissionWhitelistPatterns).toEqual([{namePattern: 'gcr.io/google_containers/*', line: 2}])
    expect(p.clusterAdmissionRules).toEqual({
      'us-central1-a.prod-cluster': {
        evaluationMode: 'REQUIRE_ATTESTATION',
        enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
        requireAttestationsBy: ['projects/p/attestors/a'],
        line: 4,
      },
    })
    expect(p.defaultAdmissionRule).toEqual({evaluationMode: 'ALWAYS_DENY', enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY', requireAttestationsBy: [], line: 8})
    expect(p.globalPolicyEvaluationMode).toBe('ENABLE')
  })

  it('JSON (REST form) with output-only fields, namespace / SA / Istio maps', () => {
    const rule = {evaluationMode: 'ALWAYS_DENY', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG'}
    const base = {name: 'projects/p/policy', etag: '"abc"', updateTime: '2024-01-01T00:00:00Z', description: 'd', defaultAdmissionRule: rule}
    for (const [field, key] of [
      ['kubernetesNamespaceAdmissionRules', 'some-namespace'],
      ['kubernetesNamespaceAdmissionRules', 'team-1.prod'],
      ['kubernetesServiceAccountAdmissionRules', 'test-ns:default'],
      ['istioServiceIdentityAdmissionRules', 'spiffe://example.com/ns/test-ns/sa/default'],
      ['istioServiceIdentityAdmissionRules', 'p.svc.id.goog/ns/test-ns/sa/default'],
      ['clusterAdmissionRules', 'global.test-membership'],
    ] as const) {
      const p = parsePolicyText(JSON.stringify({...base, [field]: {[key]: rule}}, null, 2), 'policy.json')
      expect(p[field][key]?.evaluationMode).toBe('ALWAYS_DENY')
      expect(p.etag).toBe('"abc"')
    }
  })

  it('tab-indented JSON parses', () => {
    const p = parsePolicyText(
      '{\n\t"defaultAdmissionRule": {\n\t\t"evaluationMode": "ALWAYS_ALLOW",\n\t\t"enforcementMode": "ENFORCED_BLOCK_AND_AUDIT_LOG"\n\t}\n}\n',
      'p.json',
    )
    expect(p.defaultAdmissionRule.line).toBe(2)
  })

  it('omitted globalPolicyEvaluationMode is UNSPECIFIED', () => {
    expect(parsePolicyText(DEFAULT_RULE, 'p.yaml').globalPolicyEvaluationMode).toBe('GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED')
  })

  it('short attestor names are completed with the policy project, with a note', () => {
    const p = parsePolicyText(
      'name: projects/my-proj/policy\ndefaultAdmissionRule:\n  evaluationMode: REQUIRE_ATTESTATION\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  requireAttestationsBy:\n  - built-by-ci\n  - projects/other/attestors/qa\n',
      'p.yaml',
    )
    expect(p.defaultAdmissionRule.requireAttestationsBy).toEqual(['projects/my-proj/attestors/built-by-ci', 'projects/other/attestors/qa'])
    expect(p.notes?.[0]).toMatch(/short attestor name "built-by-ci" read as projects\/my-proj\/attestors\/built-by-ci/)
  })

  it('enum numbers (proto3 JSON) are accepted', () => {
    const p = parsePolicyObject({globalPolicyEvaluationMode: 2, defaultAdmissionRule: {evaluationMode: 3, enforcementMode: 2}}, 'projects/p/policy')
    expect(p.globalPolicyEvaluationMode).toBe('DISABLE')
    expect(p.defaultAdmissionRule).toEqual({evaluationMode: 'ALWAYS_DENY', enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY', requireAttestationsBy: []})
  })
})

describe('parsePolicyText: every validation reports file:line: field: expected X, got Y', () => {
  it.each([
    ['unknown top-level field', `${DEFAULT_RULE}foo: 1\n`, 4, 'foo', /expected a known Policy field .*got unknown field "foo"/],
    [
      'snake_case field gets a suggestion',
      `${DEFAULT_RULE}admission_whitelist_patterns: []\n`,
      4,
      'admission_whitelist_patterns',
      /did you mean admissionWhitelistPatterns\?/,
    ],
    [
      'unknown rule field',
      'defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  mode: x\n',
      4,
      'defaultAdmissionRule.mode',
      /unknown field "mode"/,
    ],
    [
      'unknown evaluation mode',
      'defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n',
      2,
      'defaultAdmissionRule.evaluationMode',
      /expected one of ALWAYS_ALLOW, REQUIRE_ATTESTATION, ALWAYS_DENY, got "ALWAYS_ALOW"/,
    ],
    [
      'UNSPECIFIED evaluation mode',
      'defaultAdmissionRule:\n  evaluationMode: EVALUATION_MODE_UNSPECIFIED\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n',
      2,
      'defaultAdmissionRule.evaluationMode',
      /UNSPECIFIED is rejected/,
    ],
    [
      'missing evaluation mode',
      'defaultAdmissionRule:\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n',
      1,
      'defaultAdmissionRule.evaluationMode',
      /the field is required\), got nothing/,
    ],
    [
      'unknown enforcement mode',
      'defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: BLOCK\n',
      3,
      'defaultAdmissionRule.enforcementMode',
      /got "BLOCK"/,
    ],
    [
      'UNSPECIFIED enforcement mode',
      'defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCEMENT_MODE_UNSPECIFIED\n',
      3,
      'defaultAdmissionRule.enforcementMode',
      /UNSPECIFIED is rejected/,
    ],
    [
      'missing enforcement mode',
      'defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n',
      1,
      'defaultAdmissionRule.enforcementMode',
      /required\), got nothing/,
    ],
    [
      'unknown global mode',
      `${DEFAULT_RULE}globalPolicyEvaluationMode: ON\n`,
      4,
      'globalPolicyEvaluationMode',
      /expected one of GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED, ENABLE, DISABLE, got "ON"/,
    ],
    [
      'missing defaultAdmissionRule',
      'globalPolicyEvaluationMode: ENABLE\n',
      1,
      'defaultAdmissionRule',
      /expected an AdmissionRule \(the field is required\), got nothing/,
    ],
    ['null defaultAdmissionRule', 'globalPolicyEvaluationMode: ENABLE\ndefaultAdmissionRule:\n', 2, 'defaultAdmissionRule', /got null/],
    ['defaultAdmissionRule not a mapping', 'defaultAdmissionRule: ALWAYS_ALLOW\n', 1, 'defaultAdmissionRule', /expected a mapping, got "ALWAYS_ALLOW"/],
    [
      'REQUIRE_ATTESTATION without attestors',
      'defaultAdmissionRule:\n  evaluationMode: REQUIRE_ATTESTATION\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n',
      2,
      'defaultAdmissionRule.requireAttestationsBy',
      /expected at least one attestor when evaluationMode is REQUIRE_ATTESTATION, got none/,
    ],
    [
      'REQUIRE_ATTESTATION with an empty list',
      'defaultAdmissionRule:\n  evaluationMode: REQUIRE_ATTESTATION\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  requireAttestationsBy: []\n',
      4,
      'defaultAdmissionRule.requireAttestationsBy',
      /at least one attestor/,
    ],
    [
      'attestors without REQUIRE_ATTESTATION',
      'defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  requireAttestationsBy:\n  - projects/p/attestors/a\n',
      4,
      'defaultAdmissionRule.requireAttestationsBy',
      /expected no attestors when evaluationMode is ALWAYS_ALLOW .*got 1/,
    ],
    [
      'short attestor name without a policy name',
      'defaultAdmissionRule:\n  evaluationMode: REQUIRE_ATTESTATION\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  requireAttestationsBy:\n  - a\n',
      5,
      'defaultAdmissionRule.requireAttestationsBy[0]',
      /expected a full attestor name projects\/PROJECT\/attestors\/ATTESTOR, got short name "a"/,
    ],
    [
      'malformed attestor name',
      'defaultAdmissionRule:\n  evaluationMode: REQUIRE_ATTESTATION\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  requireAttestationsBy:\n  - projects/p/notes/n\n',
      5,
      'defaultAdmissionRule.requireAttestationsBy[0]',
      /expected an attestor name .*got "projects\/p\/notes\/n"/,
    ],
    [
      'bad cluster key',
      `${DEFAULT_RULE}clusterAdmissionRules:\n  prod-cluster:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n`,
      5,
      'clusterAdmissionRules["prod-cluster"]',
      /expected a cluster key LOCATION.CLUSTER_NAME .*got "prod-cluster"/,
    ],
    [
      'bad namespace key',
      `${DEFAULT_RULE}kubernetesNamespaceAdmissionRules:\n  Team_A:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n`,
      5,
      'kubernetesNamespaceAdmissionRules["Team_A"]',
      /expected a Kubernetes namespace name/,
    ],
    [
      'bad service account key',
      `${DEFAULT_RULE}kubernetesServiceAccountAdmissionRules:\n  default:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n`,
      5,
      'kubernetesServiceAccountAdmissionRules["default"]',
      /expected NAMESPACE:SERVICE_ACCOUNT/,
    ],
    [
      'bad Istio key',
      `${DEFAULT_RULE}istioServiceIdentityAdmissionRules:\n  test-ns/default:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n`,
      5,
      'istioServiceIdentityAdmissionRules["test-ns/default"]',
      /expected an Istio identity/,
    ],
    [
      'wildcard not at the end',
      `${DEFAULT_RULE}admissionWhitelistPatterns:\n- namePattern: gcr.io/my-project/n*x\n`,
      5,
      'admissionWhitelistPatterns[0].namePattern',
      /expected a valid allowlist pattern \(a wildcard is only allowed at the end.*got "gcr.io\/my-project\/n\*x"/,
    ],
    [
      'wildcard in the registry host',
      `${DEFAULT_RULE}admissionWhitelistPatterns:\n- namePattern: gcr.io/ok/*\n- namePattern: gcr.i*\n`,
      6,
      'admissionWhitelistPatterns[1].namePattern',
      /after the registry\/ part/,
    ],
    [
      'empty pattern',
      `${DEFAULT_RULE}admissionWhitelistPatterns:\n- namePattern: ""\n`,
      5,
      'admissionWhitelistPatterns[0].namePattern',
      /the pattern is empty\), got ""/,
    ],
    [
      'pattern entry without namePattern',
      `${DEFAULT_RULE}admissionWhitelistPatterns:\n- name: gcr.io/*\n`,
      5,
      'admissionWhitelistPatterns[0].name',
      /unknown field "name"/,
    ],
    [
      'allowlist not a list',
      `${DEFAULT_RULE}admissionWhitelistPatterns: gcr.io/*\n`,
      4,
      'admissionWhitelistPatterns',
      /expected a list of \{namePattern: \.\.\.\}, got "gcr.io\/\*"/,
    ],
    ['bad policy name', `name: my-policy\n${DEFAULT_RULE}`, 1, 'name', /expected projects\/PROJECT\/policy .*got "my-policy"/],
    ['description not a string', `${DEFAULT_RULE}description: [a]\n`, 4, 'description', /expected a string, got a list/],
  ])('%s', (_title, text, line, path, re) => {
    const err = problems(text)
    expect(err.code).toBe('POLICY_INVALID')
    const sub = err.errors.find((e) => e.location?.path === path)
    expect(sub).toBeDefined()
    expect(sub?.location?.line).toBe(line)
    expect(sub?.code).toBe('POLICY_INVALID')
    expect(sub?.message).toMatch(re)
    expect(sub?.message).toContain(`policy.yaml:${line}: ${path}: `)
    expect(err.message).toMatch(/^policy\.yaml: invalid Binary Authorization policy \(\d+ problems?\):$/)
  })

  it('two non-empty scoped maps: names both (v1 rule)', () => {
    const err = problems(
      `${DEFAULT_RULE}clusterAdmissionRules:\n  us-central1.prod:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n` +
        'kubernetesNamespaceAdmissionRules:\n  prod:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n',
    )
    expect(err.errors).toHaveLength(1)
    expect(err.errors[0]?.message).toMatch(
      /policy\.yaml:8: kubernetesNamespaceAdmissionRules: expected at most one non-empty scoped rule map .*got both clusterAdmissionRules and kubernetesNamespaceAdmissionRules/,
    )
  })

  it('empty maps do not count as non-empty', () => {
    const p = parsePolicyText(`${DEFAULT_RULE}clusterAdmissionRules: {}\nkubernetesNamespaceAdmissionRules: {}\n`, 'p.yaml')
    expect(p.clusterAdmissionRules).toEqual({})
  })

  it('collects ALL problems into one error', () => {
    const err = problems('foo: 1\nglobalPolicyEvaluationMode: MAYBE\nadmissionWhitelistPatterns:\n- namePattern: a*b\n')
    expect(err.errors.map((e) => [e.location?.path, e.location?.line])).toEqual([
      ['foo', 1],
      ['defaultAdmissionRule', 1],
      ['globalPolicyEvaluationMode', 2],
      ['admissionWhitelistPatterns[0].namePattern', 4],
    ])
    expect(err.message).toBe('policy.yaml: invalid Binary Authorization policy (4 problems):')
    expect(err.exitCode).toBe(7)
  })

  it('empty file → a clear error', () => {
    expect(() => parsePolicyText('', 'p.yaml')).toThrowWithCode('POLICY_INVALID', /p\.yaml: the policy file is empty/)
    expect(() => parsePolicyText('# only a comment\n', 'p.yaml')).toThrowWithCode('POLICY_INVALID', /empty/)
  })

  it('malformed YAML is an input error with a line', () => {
    expect(said(() => parsePolicyText('defaultAdmissionRule: [1\n', 'p.yaml'))).toMatchObject({
      code: 'INVALID_INPUT',
      text: expect.stringMatching(/p\.yaml:2: syntax: expected valid YAML or JSON/),
    })
    expect(said(() => parsePolicyText('a: 1\na: 2\n', 'p.yaml'))).toMatchObject({code: 'INVALID_INPUT', text: expect.stringMatching(/p\.yaml:2: .*unique/)})
  })

  it('several documents are rejected', () => {
    expect(said(() => parsePolicyText(`${DEFAULT_RULE}---\n${DEFAULT_RULE}`, 'p.yaml'))).toMatchObject({
      code: 'POLICY_INVALID',
      text: expect.stringMatching(/p\.yaml:5: .*expected a single policy document, got 2/),
    })
  })

  it('a list at the top level is rejected', () => {
    expect(said(() => parsePolicyText('- a\n', 'p.yaml'))).toMatchObject({
      code: 'POLICY_INVALID',
      text: expect.stringMatching(/p\.yaml:1: policy: expected a mapping/),
    })
  })
})

describe('parsePolicyObject (REST JSON, no lines)', () => {
  it('valid object', () => {
    const p = parsePolicyObject(
      {
        name: 'projects/p/policy',
        globalPolicyEvaluationMode: 'ENABLE',
        defaultAdmissionRule: {evaluationMode: 'REQUIRE_ATTESTATION', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG', requireAttestationsBy: ['a']},
      },
      'projects/p/policy',
    )
    expect(p.defaultAdmissionRule).toEqual({
      evaluationMode: 'REQUIRE_ATTESTATION',
      enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
      requireAttestationsBy: ['projects/p/attestors/a'],
    })
    expect(p.source).toBe('projects/p/policy')
  })

  it('problems without lines', () => {
    expect(
      said(() => parsePolicyObject({defaultAdmissionRule: {evaluationMode: 'X', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG'}}, 'projects/p/policy')),
    ).toMatchObject({
      code: 'POLICY_INVALID',
      text: expect.stringMatching(/\nprojects\/p\/policy: defaultAdmissionRule\.evaluationMode: expected one of .*got "X"/),
    })
    expect(said(() => parsePolicyObject(null, 'api'))).toMatchObject({
      code: 'POLICY_INVALID',
      text: expect.stringMatching(/api: policy: expected a mapping .*got null/),
    })
  })
})

describe('parseSystemPolicyText', () => {
  it('defaultAdmissionRule is optional; patterns are exact exemptions', () => {
    const s = parseSystemPolicyText('name: locations/global/policy\nadmissionWhitelistPatterns:\n- namePattern: gke.gcr.io/**\n', 'sys.yaml')
    expect(s).toEqual({patterns: ['gke.gcr.io/**'], approximate: false, source: 'sys.yaml'})
  })
})
