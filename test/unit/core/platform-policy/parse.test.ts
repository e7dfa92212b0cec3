import {describe, expect, it} from '@jest/globals'
import {SafeDeployError} from '../../../../src/core/errors.js'
import {parsePlatformPolicyObject, parsePlatformPolicyText} from '../../../../src/core/platform-policy/parse.js'
import {KEY_A, KEY_B, pemBlock} from './fixtures.js'

/** The problems listed, one per line (each starting with file:line). */
function problems(text: string): {code: string; exit: number; lines: string[]} {
  try {
    parsePlatformPolicyText(text, 'p.yaml')
  } catch (e) {
    if (e instanceof SafeDeployError) return {code: e.code, exit: e.exitCode, lines: e.errors.map((x) => x.message)}
    throw e
  }
  throw new Error('expected a POLICY_INVALID error')
}

const CANONICAL = `description: optional text
gkePolicy:
  imageAllowlist:
    allowPattern:
    - us-central1-docker.pkg.dev/my-project/exempt/**
  checkSets:
  - displayName: Prod
    scope:
      kubernetesNamespace: prod
    imageAllowlist:
      allowPattern: [gcr.io/my-project/debug-tools*]
    checks:
    - displayName: Trusted dirs
      trustedDirectoryCheck:
        trustedDirPatterns: [us-central1-docker.pkg.dev/my-project/prod]
    - displayName: Fresh
      imageFreshnessCheck: {maxUploadAgeDays: 30}
    - displayName: Signed by QA
      simpleSigningAttestationCheck:
        containerAnalysisAttestationProjects: [projects/attestations]
        attestationAuthenticators:
        - displayName: qa
          pkixPublicKeySet:
            pkixPublicKeys:
            - publicKeyPem: |
${pemBlock(KEY_A.pem, 16)}
              signatureAlgorithm: ECDSA_P256_SHA256
    - vulnerabilityCheck:
        maximumFixableSeverity: MEDIUM
        maximumUnfixableSeverity: HIGH
        allowedCves: [CVE-2022-11111]
        blockedCves: [CVE-2022-33333]
        containerAnalysisVulnerabilityProjects: [projects/my-project]
    - sigstoreSignatureCheck:
        sigstoreAuthorities:
        - displayName: ci
          publicKeySet:
            publicKeys:
            - publicKeyPem: ${JSON.stringify(KEY_B.pem)}
    - slsaCheck:
        rules:
        - trustedBuilder: GOOGLE_CLOUD_BUILD
          attestationSource:
            containerAnalysisAttestationProjects: [projects/build-attestations]
          configBasedBuildRequired: true
          trustedSourceRepoPatterns: [github.com/my-org/*]
  - displayName: Default
    checks:
    - alwaysDeny: true
`

describe('§2.8 the canonical YAML parses into the §2 data model', () => {
  const p = parsePlatformPolicyText(CANONICAL, 'canonical.yaml')
  it('policy level: description, allowlist with lines', () => {
    expect(p.description).toBe('optional text')
    expect(p.gkePolicy.imageAllowlist?.allowPattern).toEqual([{pattern: 'us-central1-docker.pkg.dev/my-project/exempt/**', line: 5}])
    expect(p.gkePolicy.checkSets.map((s) => s.scope)).toEqual([{kind: 'namespace', namespace: 'prod'}, undefined])
  })
  it('one kind per check, in order, with every field', () => {
    const checks = p.gkePolicy.checkSets[0]?.checks ?? []
    expect(checks.map((c) => c.kind)).toEqual([
      'trustedDirectoryCheck',
      'imageFreshnessCheck',
      'simpleSigningAttestationCheck',
      'vulnerabilityCheck',
      'sigstoreSignatureCheck',
      'slsaCheck',
    ])
    expect(checks[1]).toMatchObject({kind: 'imageFreshnessCheck', maxUploadAgeDays: 30, displayName: 'Fresh'})
    expect(checks[3]).toMatchObject({
      maximumFixableSeverity: 'MEDIUM',
      maximumUnfixableSeverity: 'HIGH',
      allowedCves: ['CVE-2022-11111'],
      blockedCves: ['CVE-2022-33333'],
    })
    expect(checks[5]).toMatchObject({
      rules: [
        {
          trustedBuilder: 'GOOGLE_CLOUD_BUILD',
          attestationProjects: ['projects/build-attestations'],
          configBasedBuildRequired: true,
          trustedSourceRepoPatterns: ['github.com/my-org/*'],
        },
      ],
    })
  })
  it('§2.7 [INFERRED] a blank keyId becomes the attestor default ni:///sha-256;… and a note says so', () => {
    const ss = p.gkePolicy.checkSets[0]?.checks[2]
    expect(ss?.kind === 'simpleSigningAttestationCheck' && ss.attestationAuthenticators[0]?.pkixPublicKeys[0]).toMatchObject({
      keyId: KEY_A.keyId,
      keyIdComputed: true,
    })
    expect(p.notes.join('\n')).toContain('keyId is blank')
  })
  it('§2 the REST JSON form (name, updateTime output fields) parses the same', () => {
    const obj = {
      name: 'projects/p/platforms/gke/policies/my_policy-1',
      updateTime: '2026-01-01T00:00:00Z',
      gkePolicy: {checkSets: [{displayName: 'Default', checks: [{trustedDirectoryCheck: {trustedDirPatterns: ['gcr.io/p/dir']}}]}]},
    }
    const q = parsePlatformPolicyObject(obj, 'projects/p/platforms/gke/policies/my_policy-1')
    expect(q.name).toBe(obj.name)
    expect(q.gkePolicy.checkSets[0]?.checks[0]).toMatchObject({kind: 'trustedDirectoryCheck', trustedDirPatterns: ['gcr.io/p/dir']})
  })
  it('§3.1 item 4: a policy with no check sets is allowed', () => {
    expect(parsePlatformPolicyText('gkePolicy: {}\n', 'x.yaml').gkePolicy.checkSets).toEqual([])
  })
})

describe('§3.3 what gcloud accepts client side is accepted (and said in notes)', () => {
  it('a scalar where a list is expected is wrapped', () => {
    const p = parsePlatformPolicyText(
      'gkePolicy:\n  checkSets:\n  - checks:\n    - trustedDirectoryCheck:\n        trustedDirPatterns: gcr.io/p/dir\n',
      'x.yaml',
    )
    expect(p.gkePolicy.checkSets[0]?.checks[0]).toMatchObject({trustedDirPatterns: ['gcr.io/p/dir']})
    expect(p.notes.join('\n')).toContain('one-element list')
  })
  it('checkSets given as a single mapping is wrapped', () => {
    const p = parsePlatformPolicyText('gkePolicy:\n  checkSets:\n    checks:\n    - alwaysDeny: true\n', 'x.yaml')
    expect(p.gkePolicy.checkSets).toHaveLength(1)
  })
  it('maxUploadAgeDays: "30" is read as 30', () => {
    const p = parsePlatformPolicyText('gkePolicy:\n  checkSets:\n  - checks:\n    - imageFreshnessCheck: {maxUploadAgeDays: "30"}\n', 'x.yaml')
    expect(p.gkePolicy.checkSets[0]?.checks[0]).toMatchObject({maxUploadAgeDays: 30})
  })
})

const set = (scope: string, checks = '    - alwaysDeny: true\n') => `  - scope: {${scope}}\n    checks:\n${checks}`
const DEFAULT_SET = '  - checks:\n    - alwaysDeny: true\n'

describe('§3.1–§3.3 invalid policies: POLICY_INVALID (exit 7), with file:line', () => {
  it.each([
    [
      '§3.3 unknown field (typo), with a line',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - trustedDirectoryChek: {trustedDirPatterns: [gcr.io/p/d]}\n',
      'p.yaml:4: gkePolicy.checkSets[0].checks[0].trustedDirectoryChek',
    ],
    [
      '§3.3 unknown enum value',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - vulnerabilityCheck: {maximumFixableSeverity: SEVERE, maximumUnfixableSeverity: HIGH}\n',
      'maximumFixableSeverity: expected one of BLOCK_ALL',
    ],
    [
      '§3.2 vulnerability maxima must not be UNSPECIFIED',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - vulnerabilityCheck: {maximumFixableSeverity: MAXIMUM_ALLOWED_SEVERITY_UNSPECIFIED, maximumUnfixableSeverity: HIGH}\n',
      'got "MAXIMUM_ALLOWED_SEVERITY_UNSPECIFIED"',
    ],
    [
      '§3.2 vulnerability maxima are required',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - vulnerabilityCheck: {maximumFixableSeverity: LOW}\n',
      'maximumUnfixableSeverity: expected one of',
    ],
    [
      '§3.3 list where a message is expected (DOC-CV allowlist example)',
      'gkePolicy:\n  imageAllowlist:\n  - allowPattern: gcr.io/p/*\n',
      "'list' object has no attribute 'items'",
    ],
    [
      '§3.3 list where attestationSource is expected (DOC-CV SLSA example)',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - slsaCheck:\n        rules:\n        - trustedBuilder: GOOGLE_CLOUD_BUILD\n          attestationSource:\n          - containerAnalysisAttestationProjects: [projects/my-project]\n',
      'attestationSource: expected a mapping {containerAnalysisAttestationProjects',
    ],
    [
      '§3.1.1 SA scope after the namespace scope of its namespace',
      `gkePolicy:\n  checkSets:\n${set('kubernetesNamespace: prod')}${set('kubernetesServiceAccount: prod:deployer')}${DEFAULT_SET}`,
      'could never be selected',
    ],
    [
      '§3.1.2 one check set per scope',
      `gkePolicy:\n  checkSets:\n${set('kubernetesNamespace: prod')}${set('kubernetesNamespace: prod')}${DEFAULT_SET}`,
      'one check set per scope',
    ],
    ['§3.1.3 the default check set is last', `gkePolicy:\n  checkSets:\n${DEFAULT_SET}${set('kubernetesNamespace: prod')}`, 'to be listed last'],
    ['§3.1.3 the last entry has no scope', `gkePolicy:\n  checkSets:\n${set('kubernetesNamespace: prod')}`, 'expected the last check set to have no scope'],
    ['§3.1.3 only one default set', `gkePolicy:\n  checkSets:\n${DEFAULT_SET}${DEFAULT_SET}`, 'one check set per scope'],
    [
      '§3.1.5 [INFERRED] a service account without exactly one colon',
      `gkePolicy:\n  checkSets:\n${set('kubernetesServiceAccount: deployer')}${DEFAULT_SET}`,
      'expected NAMESPACE:SERVICE_ACCOUNT',
    ],
    [
      '§2.5 [INFERRED] both scope fields',
      `gkePolicy:\n  checkSets:\n${set('kubernetesNamespace: a, kubernetesServiceAccount: a:b')}${DEFAULT_SET}`,
      'got both',
    ],
    [
      '§2.6/§3.2 [INFERRED] two check kinds in one check',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - alwaysDeny: true\n      imageFreshnessCheck: {maxUploadAgeDays: 3}\n',
      'exactly one check kind per check',
    ],
    ['§2.6 [INFERRED] no check kind', 'gkePolicy:\n  checkSets:\n  - checks:\n    - displayName: nothing\n', 'exactly one check kind'],
    ['§3.2 alwaysDeny must be true (DOC-CV)', 'gkePolicy:\n  checkSets:\n  - checks:\n    - alwaysDeny: false\n', "can't be set to false"],
    ['§3.2 allowPattern non-empty', 'gkePolicy:\n  imageAllowlist: {allowPattern: []}\n', 'expected at least one pattern'],
    ['§3.2 `**` alone is not a valid pattern', 'gkePolicy:\n  imageAllowlist: {allowPattern: ["**"]}\n', 'alone is not a valid pattern'],
    [
      '§3.2 trustedDirPatterns non-empty',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - trustedDirectoryCheck: {trustedDirPatterns: []}\n',
      'expected at least one directory pattern',
    ],
    [
      '§3.2 trusted dir syntax (gcr.i*)',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - trustedDirectoryCheck: {trustedDirPatterns: ["gcr.i*"]}\n',
      'registry must be completely specified',
    ],
    ['§3.2 maxUploadAgeDays > 0', 'gkePolicy:\n  checkSets:\n  - checks:\n    - imageFreshnessCheck: {maxUploadAgeDays: 0}\n', 'greater than zero'],
    [
      '§3.2 simple signing needs an authenticator',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - simpleSigningAttestationCheck: {attestationAuthenticators: [], containerAnalysisAttestationProjects: [projects/abcdef]}\n',
      'expected at least one authenticator',
    ],
    [
      '§3.2 project ID, not number',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - vulnerabilityCheck: {maximumFixableSeverity: LOW, maximumUnfixableSeverity: LOW, containerAnalysisVulnerabilityProjects: [projects/123456789]}\n',
      'not a project number',
    ],
    [
      '§3.2 at most 10 projects',
      `gkePolicy:\n  checkSets:\n  - checks:\n    - vulnerabilityCheck: {maximumFixableSeverity: LOW, maximumUnfixableSeverity: LOW, containerAnalysisVulnerabilityProjects: [${Array.from({length: 11}, (_, i) => `projects/proj-${i}x`).join(', ')}]}\n`,
      'at most 10 projects',
    ],
    [
      '§3.2 sigstore needs an authority',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - sigstoreSignatureCheck: {sigstoreAuthorities: []}\n',
      'expected at least one authority',
    ],
    [
      '§3.2 [INFERRED] trustedBuilder must be GOOGLE_CLOUD_BUILD',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - slsaCheck: {rules: [{trustedBuilder: BUILDER_UNSPECIFIED, attestationSource: {containerAnalysisAttestationProjects: [projects/abcdef]}}]}\n',
      'expected one of GOOGLE_CLOUD_BUILD',
    ],
    [
      '§3.2 SLSA repo patterns are scheme-less',
      'gkePolicy:\n  checkSets:\n  - checks:\n    - slsaCheck: {rules: [{trustedBuilder: GOOGLE_CLOUD_BUILD, trustedSourceRepoPatterns: ["https://github.com/a/b"]}]}\n',
      'must not include schemes',
    ],
    [
      '§3.2 keyId must be a URI',
      `gkePolicy:\n  checkSets:\n  - checks:\n    - simpleSigningAttestationCheck:\n        containerAnalysisAttestationProjects: [projects/abcdef]\n        attestationAuthenticators:\n        - pkixPublicKeySet:\n            pkixPublicKeys:\n            - publicKeyPem: ${JSON.stringify(KEY_A.pem)}\n              signatureAlgorithm: ECDSA_P256_SHA256\n              keyId: "not a uri"\n`,
      'expected an RFC 3986 URI',
    ],
    [
      '§2.7 the key must match its algorithm',
      `gkePolicy:\n  checkSets:\n  - checks:\n    - simpleSigningAttestationCheck:\n        containerAnalysisAttestationProjects: [projects/abcdef]\n        attestationAuthenticators:\n        - pkixPublicKeySet:\n            pkixPublicKeys:\n            - publicKeyPem: ${JSON.stringify(KEY_A.pem)}\n              signatureAlgorithm: RSA_SIGN_PKCS1_2048_SHA256\n`,
      'needs an RSA',
    ],
    ['§2.1 a Cloud Run platform policy is not a GKE policy', 'cloudRunPolicy: {}\n', 'got a Cloud Run platform policy'],
    [
      '§1 the name must be a GKE platform policy name',
      'name: projects/p/platforms/cloudRun/policies/x\ngkePolicy: {}\n',
      'expected projects/PROJECT/platforms/gke/policies/POLICY_ID',
    ],
  ])('%s', (_name, text, expected) => {
    const r = problems(text)
    expect(r.code).toBe('POLICY_INVALID')
    expect(r.exit).toBe(7)
    expect(r.lines.join('\n')).toContain(expected)
  })

  it('every problem is listed at once, in file order, each with file:line', () => {
    const r = problems(
      'gkePolicy:\n  imageAllowlist: {allowPattern: ["*"]}\n  checkSets:\n  - checks:\n    - alwaysDeny: false\n    - imageFreshnessCheck: {maxUploadAgeDays: -1}\n    - bogus: 1\n',
    )
    expect(r.lines).toHaveLength(5)
    expect(r.lines.map((l) => l.split(':')[1])).toEqual(['2', '5', '6', '7', '7'])
  })

  it('malformed YAML is INVALID_INPUT (exit 3) with the line', () => {
    try {
      parsePlatformPolicyText('gkePolicy:\n  checkSets: [\n', 'bad.yaml')
      throw new Error('no throw')
    } catch (e) {
      expect(e).toBeInstanceOf(SafeDeployError)
      expect((e as SafeDeployError).code).toBe('INVALID_INPUT')
    }
  })
})

describe('§2 JSON text (gcloud --format=json) and REST objects', () => {
  it('JSON text parses, and problems carry their lines', () => {
    const text = JSON.stringify({gkePolicy: {checkSets: [{checks: [{alwaysDeny: true, imageFreshnessCheck: {maxUploadAgeDays: 1}}]}]}}, null, 2)
    const r = problems(text)
    expect(r.lines).toHaveLength(1)
    expect(r.lines[0]).toMatch(/^p\.yaml:\d+: gkePolicy\.checkSets\[0\]\.checks\[0\]: expected exactly one check kind per check/)
  })
  it('REST object problems are listed without lines', () => {
    try {
      parsePlatformPolicyObject({gkePolicy: {checkSets: [{scope: {kubernetesNamespace: 'prod'}, checks: []}]}, extra: 1}, 'projects/p/platforms/gke/policies/x')
      throw new Error('no throw')
    } catch (e) {
      expect((e as SafeDeployError).errors.map((x) => x.message)).toEqual([
        expect.stringContaining('projects/p/platforms/gke/policies/x: extra: expected a known PlatformPolicy field'),
        expect.stringContaining('expected the last check set to have no scope'),
      ])
    }
  })
})
