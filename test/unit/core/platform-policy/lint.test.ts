import {describe, expect, it} from '@jest/globals'
import {lintPlatformPolicy} from '../../../../src/core/platform-policy/lint.js'
import {explainPlatformPolicy} from '../../../../src/core/platform-policy/explain.js'
import {KEY_A, KEY_B, MULTI_SET_POLICY, policy} from './fixtures.js'

const codes = (text: string) => lintPlatformPolicy({text, file: 'p.yaml'}).findings.map((f) => [f.code, f.severity, f.line])

/**
 * Published examples, in the shapes spec §3.3 reports from DOC-CV (the allowlist examples and the SLSA example print a
 * list where gcloud needs a mapping) and DOC-QS / DOC-CV "Use multiple check sets" (valid as published).
 */
const PUBLISHED = {
  allowlistAsList: `gkePolicy:
  imageAllowlist:
  - allowPattern: us-central1-docker.pkg.dev/my-project/my-image*
  checkSets:
  - checks:
    - trustedDirectoryCheck:
        trustedDirPatterns:
        - us-central1-docker.pkg.dev/my-project/my-directory
`,
  checkAllowlistAsList: `gkePolicy:
  checkSets:
  - checks:
    - imageAllowlist:
      - allowPattern: us-central1-docker.pkg.dev/my-project/**
      imageFreshnessCheck:
        maxUploadAgeDays: 30
`,
  slsaAttestationSourceAsList: `gkePolicy:
  checkSets:
  - displayName: My check set
    checks:
    - displayName: My SLSA check
      imageAllowlist:
        allowPattern: [us-central1-docker.pkg.dev/my-project/not-built-by-gcb/**]
      slsaCheck:
        rules:
        - trustedBuilder: GOOGLE_CLOUD_BUILD
          attestationSource:
          - containerAnalysisAttestationProjects: [projects/my-attestation-project]
          configBasedBuildRequired: true
          trustedSourceRepoPatterns:
          - source.cloud.google.com/my-project/my-source-repo
`,
  quickstart: `gkePolicy:
  checkSets:
  - checks:
    - displayName: My trusted directory check
      trustedDirectoryCheck:
        trustedDirPatterns:
        - us-central1-docker.pkg.dev/my-project/my-directory
    displayName: My check set
`,
}

describe('lint: published policy examples (spec §3.3)', () => {
  it.each([
    ['policy-level imageAllowlist written as a list', PUBLISHED.allowlistAsList, [['E_LIST_FOR_MESSAGE', 'error', 2]]],
    ['check-level imageAllowlist written as a list', PUBLISHED.checkAllowlistAsList, [['E_LIST_FOR_MESSAGE', 'error', 4]]],
    ['SLSA attestationSource written as a list', PUBLISHED.slsaAttestationSourceAsList, [['E_LIST_FOR_MESSAGE', 'error', 11]]],
    ['the quickstart policy is clean', PUBLISHED.quickstart, []],
    ['the multiple-check-sets example is clean', MULTI_SET_POLICY, []],
  ])('%s', (_name, text, expected) => {
    expect(codes(text)).toEqual(expected)
  })
  it('the fix shows the mapping shape', () => {
    expect(lintPlatformPolicy({text: PUBLISHED.allowlistAsList, file: 'p.yaml'}).findings[0]?.fix).toContain('imageAllowlist: {allowPattern: [PATTERN]}')
  })
})

const pk = (pem: string) => `{publicKeyPem: ${JSON.stringify(pem)}, signatureAlgorithm: ECDSA_P256_SHA256}`

describe('lint findings', () => {
  it.each([
    [
      'a scoped set that can never be selected (SA after its namespace)',
      'gkePolicy:\n  checkSets:\n  - scope: {kubernetesNamespace: prod}\n    checks: [{alwaysDeny: true}]\n  - scope: {kubernetesServiceAccount: prod:ci}\n    checks: [{alwaysDeny: true}]\n  - checks: [{alwaysDeny: true}]\n',
      [['E_CHECK_SET_UNREACHABLE', 'error', 5]],
    ],
    [
      'a set after the default can never be selected',
      'gkePolicy:\n  checkSets:\n  - checks: [{alwaysDeny: true}]\n  - scope: {kubernetesNamespace: prod}\n    checks: [{alwaysDeny: true}]\n',
      [
        ['E_CHECK_SET_UNREACHABLE', 'error', 3],
        ['E_POLICY_INVALID', 'error', 4],
      ],
    ],
    [
      "§3.1 docs rule: an SA set after another namespace's set (warning)",
      'gkePolicy:\n  checkSets:\n  - scope: {kubernetesNamespace: dev}\n    checks: [{alwaysDeny: true}]\n  - scope: {kubernetesServiceAccount: prod:ci}\n    checks: [{alwaysDeny: true}]\n  - checks: [{alwaysDeny: true}]\n',
      [['W_CHECK_SET_ORDER', 'warning', 5]],
    ],
    [
      'a check set with no checks allows everything',
      'gkePolicy:\n  checkSets:\n  - scope: {kubernetesNamespace: prod}\n    checks: []\n  - checks: [{alwaysDeny: true}]\n',
      [['W_EMPTY_CHECK_SET', 'warning', 3]],
    ],
    ['no check sets at all', 'gkePolicy: {}\n', [['W_NO_CHECK_SETS', 'warning', 1]]],
    ['alwaysDeny: false', 'gkePolicy:\n  checkSets:\n  - checks:\n    - alwaysDeny: false\n', [['E_ALWAYS_DENY_FALSE', 'error', 4]]],
    ['a bare ** allowlist', 'gkePolicy:\n  imageAllowlist: {allowPattern: ["**"]}\n', [['E_BARE_WILDCARD', 'error', 2]]],
    [
      'a registry-wide ** allowlist',
      'gkePolicy:\n  imageAllowlist:\n    allowPattern: [gcr.io/**]\n',
      [
        ['W_BROAD_ALLOWLIST', 'warning', 3],
        ['W_NO_CHECK_SETS', 'warning', 1],
      ].reverse(),
    ],
    [
      'two kinds in one check',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - alwaysDeny: true\n      trustedDirectoryCheck: {trustedDirPatterns: [gcr.io/p/d]}\n',
      [['E_SEVERAL_KINDS_IN_CHECK', 'error', 4]],
    ],
    [
      'several authenticators in one check (OR, not AND)',
      `gkePolicy:\n  checkSets:\n  - checks:\n    - simpleSigningAttestationCheck:\n        containerAnalysisAttestationProjects: [projects/attest]\n        attestationAuthenticators:\n        - pkixPublicKeySet: {pkixPublicKeys: [${pk(KEY_A.pem)}]}\n        - pkixPublicKeySet: {pkixPublicKeys: [${pk(KEY_B.pem)}]}\n`,
      [['W_OR_NOT_AND', 'warning', 4]],
    ],
    [
      'several sigstore keys in one check (OR)',
      `gkePolicy:\n  checkSets:\n  - checks:\n    - sigstoreSignatureCheck:\n        sigstoreAuthorities:\n        - publicKeySet: {publicKeys: [{publicKeyPem: ${JSON.stringify(KEY_A.pem)}}, {publicKeyPem: ${JSON.stringify(KEY_B.pem)}}]}\n`,
      [['W_OR_NOT_AND', 'warning', 4]],
    ],
    [
      'simple signing without projects (DOC-CV: you must specify them)',
      `gkePolicy:\n  checkSets:\n  - checks:\n    - simpleSigningAttestationCheck:\n        attestationAuthenticators:\n        - pkixPublicKeySet: {pkixPublicKeys: [${pk(KEY_A.pem)}]}\n`,
      [['E_ATTESTATION_NO_PROJECTS', 'error', 4]],
    ],
    [
      'a vulnerability check with no projects',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - vulnerabilityCheck: {maximumFixableSeverity: LOW, maximumUnfixableSeverity: LOW}\n',
      [['W_VULN_NO_PROJECTS', 'warning', 4]],
    ],
    [
      'SLSA custom constraints and patterns without config',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - slsaCheck:\n        rules:\n        - trustedBuilder: GOOGLE_CLOUD_BUILD\n          attestationSource: {containerAnalysisAttestationProjects: [projects/builds]}\n          trustedSourceRepoPatterns: [github.com/o/*]\n          customConstraints: "x"\n',
      [
        ['W_SLSA_CUSTOM_CONSTRAINTS', 'warning', 6],
        ['W_SLSA_PATTERNS_WITHOUT_CONFIG', 'warning', 6],
      ],
    ],
  ])('%s', (_name, text, expected) => {
    expect(codes(text)).toEqual(expected)
  })
})

describe('explain: which check set a namespace / service account selects, which checks apply to an image', () => {
  const p = policy(`gkePolicy:
  imageAllowlist: {allowPattern: [gcr.io/exempt/**]}
  checkSets:
  - displayName: CI
    scope: {kubernetesServiceAccount: prod:ci}
    checks: [{alwaysDeny: true}]
  - displayName: Prod
    scope: {kubernetesNamespace: prod}
    checks:
    - displayName: td
      imageAllowlist: {allowPattern: [gcr.io/tools/**]}
      trustedDirectoryCheck: {trustedDirPatterns: [gcr.io/p/prod]}
    - imageFreshnessCheck: {maxUploadAgeDays: 7}
  - displayName: Default
    checks: [{alwaysDeny: true}]
`)
  it('namespace prod with another service account selects Prod, and says why CI did not match', () => {
    const e = explainPlatformPolicy(p, {namespace: 'prod', serviceAccount: 'web'})
    expect(e).toMatchObject({checkSetIndex: 1, checkSetDisplayName: 'Prod'})
    expect(e.candidates.map((c) => [c.index, c.selected])).toEqual([
      [0, false],
      [1, true],
    ])
    expect(e.candidates[0]?.why).toContain('prod:web is not prod:ci')
  })
  it('no namespace: only the default set', () => {
    const e = explainPlatformPolicy(p, {})
    expect(e.checkSetIndex).toBe(2)
    expect(e.notes.join()).toContain('only the default')
  })
  it('an image: exemptions and the checks that apply, with what each needs', () => {
    expect(explainPlatformPolicy(p, {namespace: 'prod', serviceAccount: 'web', image: 'gcr.io/exempt/a:1'}).exemption).toEqual({
      level: 'policy',
      pattern: 'gcr.io/exempt/**',
    })
    const e = explainPlatformPolicy(p, {namespace: 'prod', serviceAccount: 'web', image: 'gcr.io/tools/x:1'})
    expect(e.checks.map((c) => [c.kind, c.exemptedBy, c.needsDigest])).toEqual([
      ['TrustedDirectoryCheck', 'gcr.io/tools/**', false],
      ['ImageFreshnessCheck', null, true],
    ])
    expect(e.notes.join()).toContain('no digest')
  })
})
