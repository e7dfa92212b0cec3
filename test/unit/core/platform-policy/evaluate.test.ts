import {describe, expect, it} from '@jest/globals'
import {
  combineVerdicts,
  evaluatePlatformPolicy,
  exceeds,
  explanation,
  platformFactsNeeded,
  selectCheckSet,
  sigstoreKeySet,
} from '../../../../src/core/platform-policy/evaluate.js'
import {artifactKey, type ArtifactFacts, type PlatformFacts, type PodToEvaluate} from '../../../../src/core/platform-policy/types.js'
import {DIGEST, DIGEST2, KEY_A, KEY_B, MULTI_SET_POLICY, attestation, policy} from './fixtures.js'

const NOW = new Date('2026-11-27T12:00:00Z')
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86400000).toISOString()
const PROD = 'gcr.io/my-project/prod-images/app'

function facts(entries: Record<string, ArtifactFacts>): PlatformFacts {
  return {artifacts: entries}
}
function pod(image: string, namespace?: string, extra: Partial<PodToEvaluate> = {}): PodToEvaluate {
  return {name: 'p', ...(namespace === undefined ? {} : {namespace}), images: [{image, container: 'c'}], ...extra}
}
function one(p: ReturnType<typeof policy>, pd: PodToEvaluate, f: PlatformFacts = facts({})) {
  const r = evaluatePlatformPolicy(p, [pd], f, {now: NOW})
  const img = r.pods[0]?.images[0]
  if (img === undefined) throw new Error('no image result')
  return {r, pod: r.pods[0], img}
}
const single = (checks: string, extra = '') => policy(`gkePolicy:\n${extra}  checkSets:\n  - displayName: Default\n    checks:\n${checks}`)

describe('§11 worked examples (DOC-CV "Use multiple check sets")', () => {
  const p = policy(MULTI_SET_POLICY)
  it.each([
    ['prod, in the trusted directory, uploaded 3 days ago', 'prod', `${PROD}@${DIGEST}`, daysAgo(3), 0, 'CONFORMANT', ['CONFORMANT', 'CONFORMANT']],
    ['prod, uploaded 60 days ago', 'prod', `${PROD}@${DIGEST}`, daysAgo(60), 0, 'NON_CONFORMANT', ['CONFORMANT', 'NON_CONFORMANT']],
    ['dev, a tag in the trusted directory (no digest needed)', 'dev', 'gcr.io/my-project/dev-images/app:latest', undefined, 1, 'CONFORMANT', ['CONFORMANT']],
    ['kube-public, anything not allowlisted', 'kube-public', `${PROD}@${DIGEST}`, undefined, 2, 'NON_CONFORMANT', ['NON_CONFORMANT']],
    ['no namespace (gcloud … evaluate --image): default only', undefined, `${PROD}@${DIGEST}`, undefined, 2, 'NON_CONFORMANT', ['NON_CONFORMANT']],
  ])('%s', (_name, ns, image, uploaded, setIndex, verdict, checks) => {
    const f = uploaded === undefined ? facts({}) : facts({[artifactKey(PROD, DIGEST)]: {uploadTime: {status: 'found', uploadTime: uploaded}}})
    const {r, pod: pr, img} = one(p, pod(image, ns), f)
    expect(pr?.checkSetIndex).toBe(setIndex)
    expect(img.verdict).toBe(verdict)
    expect(img.checks.map((c) => c.verdict)).toEqual(checks)
    expect(r.verdict).toBe(verdict)
  })
})

describe('§4.2 check-set selection: first match, SA before namespace, default last', () => {
  const p = policy(`gkePolicy:
  checkSets:
  - scope: {kubernetesServiceAccount: prod:deployer}
    checks: [{alwaysDeny: true}]
  - scope: {kubernetesNamespace: prod}
    checks: [{alwaysDeny: true}]
  - scope: {kubernetesNamespace: default}
    checks: [{alwaysDeny: true}]
  - checks: [{alwaysDeny: true}]
`)
  it.each([
    ['the SA scope matches ns:sa', 'prod', 'deployer', 0],
    ['another SA of the namespace gets the namespace set', 'prod', 'other', 1],
    ['[OPEN, INFERRED] no serviceAccountName is "default" when a namespace is known', 'prod', undefined, 1],
    ['another namespace gets the default set', 'staging', 'deployer', 3],
    ['SDK-FLAGS: no namespace matches no scoped set, not even namespace "default"', undefined, undefined, 3],
    ['namespace "default" matches its set', 'default', undefined, 2],
    ['[INFERRED] comparison is case-sensitive', 'Prod', 'deployer', 3],
  ])('%s', (_name, ns, sa, expected) => {
    expect(selectCheckSet(p, ns, sa).index).toBe(expected)
  })
  it('§4.1 a Pod with a namespace and no service account says it used "default"', () => {
    const s = selectCheckSet(p, 'prod', undefined)
    expect(s.serviceAccount).toBe('default')
    expect(s.notes.join()).toContain('"default"')
  })
  it('checkSetIndex is null when the policy has no check sets (§2.2 "always allow")', () => {
    const {pod: pr, img} = one(policy('gkePolicy: {}\n'), pod(`${PROD}:1`, 'prod'))
    expect(pr?.checkSetIndex).toBeNull()
    expect(img.verdict).toBe('CONFORMANT')
  })
})

describe('§4.3 per image: allowlists at three levels, empty sets, no short-circuit', () => {
  const p = policy(`gkePolicy:
  imageAllowlist: {allowPattern: [gcr.io/exempt/**]}
  checkSets:
  - displayName: Prod
    scope: {kubernetesNamespace: prod}
    imageAllowlist: {allowPattern: [gcr.io/my-project/debug-tools*]}
    checks:
    - displayName: td
      imageAllowlist: {allowPattern: [gcr.io/third-party/**]}
      trustedDirectoryCheck: {trustedDirPatterns: [gcr.io/my-project/prod-images]}
    - displayName: deny
      alwaysDeny: true
  - displayName: Default
    checks: []
`)
  it('step 1: the policy allowlist exempts before any check set; checkSetIndex still the selected set', () => {
    const {pod: pr, img} = one(p, pod('gcr.io/exempt/a/b:1', 'prod'))
    expect(img).toMatchObject({verdict: 'CONFORMANT', exemption: {level: 'policy', pattern: 'gcr.io/exempt/**'}, checks: []})
    expect(pr?.checkSetIndex).toBe(0)
  })
  it('step 3: the check-set allowlist exempts', () => {
    const {img} = one(p, pod('gcr.io/my-project/debug-tools2:1', 'prod'))
    expect(img).toMatchObject({verdict: 'CONFORMANT', exemption: {level: 'checkSet', pattern: 'gcr.io/my-project/debug-tools*'}})
  })
  it('DOC-CV: a check-set allowlist applies only when that set is evaluated', () => {
    const {img} = one(p, pod('gcr.io/my-project/debug-tools2:1', 'dev'))
    expect(img.exemption).toBeNull()
  })
  it('step 4: a set with no checks allows ("always allow")', () => {
    const {img} = one(p, pod('anything.example.com/x:1', 'dev'))
    expect(img.verdict).toBe('CONFORMANT')
    expect(img.notes.join()).toContain('no checks')
  })
  it('step 5: a check allowlist skips only that check (ALLOWLISTED), and every check is evaluated', () => {
    const {img} = one(p, pod('gcr.io/third-party/x/y:1', 'prod'))
    expect(img.checks.map((c) => [c.displayName, c.verdict])).toEqual([
      ['td', 'ALLOWLISTED'],
      ['deny', 'NON_CONFORMANT'],
    ])
    expect(img.verdict).toBe('NON_CONFORMANT')
  })
  it('§4.4 [INFERRED] an image whose checks are all allowlisted is CONFORMANT', () => {
    const q = single('    - imageAllowlist: {allowPattern: [gcr.io/x/**]}\n      alwaysDeny: true\n')
    expect(one(q, pod('gcr.io/x/y:1')).img.verdict).toBe('CONFORMANT')
  })
  it('init containers are evaluated like containers', () => {
    const r = evaluatePlatformPolicy(
      p,
      [
        {
          name: 'p',
          namespace: 'prod',
          images: [
            {image: 'gcr.io/exempt/a:1', container: 'init', init: true},
            {image: 'gcr.io/no/a:1', container: 'c'},
          ],
        },
      ],
      facts({}),
      {now: NOW},
    )
    expect(r.pods[0]?.images.map((i) => [i.container, i.init, i.verdict])).toEqual([
      ['init', true, 'CONFORMANT'],
      ['c', false, 'NON_CONFORMANT'],
    ])
  })
})

describe('§4.4 combining verdicts: NON_CONFORMANT beats ERROR beats CONFORMANT', () => {
  it.each([
    [['CONFORMANT', 'ALLOWLISTED'], 'CONFORMANT'],
    [['CONFORMANT', 'ERROR'], 'ERROR'],
    [['ERROR', 'NON_CONFORMANT', 'CONFORMANT'], 'NON_CONFORMANT'],
    [['NON_CONFORMANT', 'ERROR'], 'NON_CONFORMANT'],
    [['ALLOWLISTED', 'ERROR', 'CONFORMANT'], 'ERROR'],
    [[], 'CONFORMANT'],
  ] as const)('%j → %s', (vs, expected) => {
    expect(combineVerdicts(vs)).toBe(expected)
  })
  it('across images and Pods of one evaluation', () => {
    const p = single('    - imageFreshnessCheck: {maxUploadAgeDays: 10}\n')
    const f = facts({[artifactKey(PROD, DIGEST)]: {uploadTime: {status: 'found', uploadTime: daysAgo(20)}}})
    const pods: PodToEvaluate[] = [
      {name: 'a', images: [{image: `${PROD}@${DIGEST2}`, container: 'c'}]}, // not collected → ERROR
      {name: 'b', images: [{image: `${PROD}@${DIGEST}`, container: 'c'}]}, // old → NON_CONFORMANT
    ]
    const r = evaluatePlatformPolicy(p, pods, f, {now: NOW})
    expect(r.pods.map((x) => x.verdict)).toEqual(['ERROR', 'NON_CONFORMANT'])
    expect(r.verdict).toBe('NON_CONFORMANT')
    expect(evaluatePlatformPolicy(p, [pods[0] as PodToEvaluate], f, {now: NOW}).verdict).toBe('ERROR')
  })
})

describe('§4.5 tags versus digests', () => {
  const p = single('    - imageFreshnessCheck: {maxUploadAgeDays: 30}\n    - trustedDirectoryCheck: {trustedDirPatterns: [gcr.io/my-project/prod-images]}\n')
  it('DOC-CV: a tag-only image fails a digest-based check (NON_CONFORMANT), the trusted directory check needs no digest', () => {
    const {img} = one(p, pod(`${PROD}:1`))
    expect(img.digest).toBeNull()
    expect(img.checks.map((c) => c.verdict)).toEqual(['NON_CONFORMANT', 'CONFORMANT'])
    expect(img.checks[0]?.explanation).toContain('tag; would need digest')
  })
  it('[INFERRED] a tag resolved beforehand is evaluated by its digest, with a note', () => {
    const f = facts({[artifactKey(PROD, DIGEST)]: {uploadTime: {status: 'found', uploadTime: daysAgo(1)}}})
    const {img} = one(p, {name: 'p', images: [{image: `${PROD}:1`, digest: DIGEST, container: 'c'}]}, f)
    expect(img).toMatchObject({digest: DIGEST, verdict: 'CONFORMANT'})
    expect(img.notes.join()).toContain('resolved digest')
  })
  it('[INFERRED] name:tag@digest: the digest is used', () => {
    const f = facts({[artifactKey(PROD, DIGEST)]: {uploadTime: {status: 'found', uploadTime: daysAgo(1)}}})
    expect(one(p, pod(`${PROD}:1@${DIGEST}`), f).img.verdict).toBe('CONFORMANT')
  })
  it('[INFERRED] alwaysDeny needs no digest', () => {
    expect(one(single('    - alwaysDeny: true\n'), pod(`${PROD}:1`)).img.checks[0]?.verdict).toBe('NON_CONFORMANT')
  })
})

describe('§6.1–§6.3 alwaysDeny, trustedDirectoryCheck, imageFreshnessCheck', () => {
  it('§7.3 explanation shape, as Google writes it (NOT_CONFORMANT in the prose)', () => {
    const p = single(
      '    - displayName: My trusted directory check\n      trustedDirectoryCheck: {trustedDirPatterns: [us-central1-docker.pkg.dev/my-project/my-directory]}\n',
    )
    const {img} = one(p, pod('us-docker.pkg.dev/google-samples/containers/gke/hello-app:1.0'))
    expect(img.checks[0]).toMatchObject({index: 0, kind: 'TrustedDirectoryCheck', verdict: 'NON_CONFORMANT', displayName: 'My trusted directory check'})
    expect(img.checks[0]?.explanation).toMatch(
      /^TrustedDirectoryCheck at index 0 with display name "My trusted directory check" has verdict NOT_CONFORMANT\. Image is not in a trusted directory/,
    )
    expect(explanation('X', 1, 'n', 'ERROR', 'why')).toBe('X at index 1 with display name "n" has verdict ERROR. why')
  })
  it('§6.1 alwaysDeny is NON_CONFORMANT, type AlwaysDenyCheck [OPEN] with a note', () => {
    const {img} = one(single('    - alwaysDeny: true\n'), pod(`${PROD}:1`))
    expect(img.checks[0]).toMatchObject({kind: 'AlwaysDenyCheck', verdict: 'NON_CONFORMANT'})
    expect(img.notes.join()).toContain('AlwaysDenyCheck')
  })
  it('§6.2 [OPEN] dir/** does not trust dir itself, and says so', () => {
    const {img} = one(single('    - trustedDirectoryCheck: {trustedDirPatterns: [gcr.io/my-project/**]}\n'), pod('gcr.io/my-project/app:1'))
    expect(img.verdict).toBe('NON_CONFORMANT')
    expect(img.notes.join()).toContain('undocumented')
  })
  const fresh = single('    - imageFreshnessCheck: {maxUploadAgeDays: 30}\n')
  const key = artifactKey(PROD, DIGEST)
  it.each([
    ['uploaded 29 days ago', {uploadTime: {status: 'found', uploadTime: daysAgo(29)}}, 'CONFORMANT'],
    ['uploaded 31 days ago', {uploadTime: {status: 'found', uploadTime: daysAgo(31)}}, 'NON_CONFORMANT'],
    ['[INFERRED] boundary inclusive: exactly 30 days', {uploadTime: {status: 'found', uploadTime: daysAgo(30)}}, 'CONFORMANT'],
    ['upload time not collected → ERROR', {}, 'ERROR'],
    ['[INFERRED/OPEN] not in Artifact Registry → ERROR', {uploadTime: {status: 'not-found', message: 'not an Artifact Registry image'}}, 'ERROR'],
    ['lookup failed → ERROR', {uploadTime: {status: 'error', message: '403'}}, 'ERROR'],
  ] as Array<[string, ArtifactFacts, string]>)('§6.3 %s', (_name, f, verdict) => {
    expect(one(fresh, pod(`${PROD}@${DIGEST}`), facts({[key]: f})).img.verdict).toBe(verdict)
  })
  it('§6.3 freshness is evaluated at the given clock (--at / collectedAt)', () => {
    const f = facts({[key]: {uploadTime: {status: 'found', uploadTime: '2026-01-01T00:00:00Z'}}})
    const at = (iso: string) => evaluatePlatformPolicy(fresh, [pod(`${PROD}@${DIGEST}`)], f, {now: new Date(iso)}).verdict
    expect(at('2026-01-20T00:00:00Z')).toBe('CONFORMANT')
    expect(at('2026-03-01T00:00:00Z')).toBe('NON_CONFORMANT')
  })
})

describe('§6.4 simpleSigningAttestationCheck: any key of any authenticator, in any listed project', () => {
  const p = single(`    - simpleSigningAttestationCheck:
        containerAnalysisAttestationProjects: [projects/attest-one, projects/attest-two]
        attestationAuthenticators:
        - displayName: qa
          pkixPublicKeySet:
            pkixPublicKeys:
            - {publicKeyPem: ${JSON.stringify(KEY_A.pem)}, signatureAlgorithm: ECDSA_P256_SHA256}
        - displayName: release
          pkixPublicKeySet:
            pkixPublicKeys:
            - {publicKeyPem: ${JSON.stringify(KEY_B.pem)}, signatureAlgorithm: ECDSA_P256_SHA256}
`)
  const key = artifactKey(PROD, DIGEST)
  const found = (...items: ReturnType<typeof attestation>[]) => ({status: 'found' as const, items})
  it.each([
    [
      'signed by the first authenticator, in the first project',
      {'projects/attest-one': found(attestation(PROD, DIGEST, KEY_A)), 'projects/attest-two': found()},
      'CONFORMANT',
    ],
    [
      'OR: signed by the second authenticator only, in the second project',
      {'projects/attest-one': found(), 'projects/attest-two': found(attestation(PROD, DIGEST, KEY_B))},
      'CONFORMANT',
    ],
    [
      'a verified attestation wins over an unreadable project',
      {'projects/attest-one': {status: 'error' as const, message: '403'}, 'projects/attest-two': found(attestation(PROD, DIGEST, KEY_B))},
      'CONFORMANT',
    ],
    ['no attestation anywhere → NON_CONFORMANT', {'projects/attest-one': found(), 'projects/attest-two': found()}, 'NON_CONFORMANT'],
    [
      'a payload naming another digest does not count',
      {'projects/attest-one': found(attestation(PROD, DIGEST, KEY_A, {payloadDigest: DIGEST2})), 'projects/attest-two': found()},
      'NON_CONFORMANT',
    ],
    [
      'the signature keyId must equal the key id exactly',
      {'projects/attest-one': found(attestation(PROD, DIGEST, KEY_A, {keyId: 'other'})), 'projects/attest-two': found()},
      'NON_CONFORMANT',
    ],
    [
      'nothing verified and a project unreadable → ERROR',
      {'projects/attest-one': {status: 'error' as const, message: '403'}, 'projects/attest-two': found()},
      'ERROR',
    ],
    ['a project not collected → ERROR', {'projects/attest-two': found()}, 'ERROR'],
  ])('%s', (_name, attestations, verdict) => {
    expect(one(p, pod(`${PROD}@${DIGEST}`), facts({[key]: {attestations}})).img.verdict).toBe(verdict)
  })
  it('a key signing with a wrong key under the right id does not verify', () => {
    const forged = attestation(PROD, DIGEST, KEY_B, {keyId: KEY_A.keyId})
    const r = one(p, pod(`${PROD}@${DIGEST}`), facts({[key]: {attestations: {'projects/attest-one': found(forged), 'projects/attest-two': found()}}}))
    expect(r.img.verdict).toBe('NON_CONFORMANT')
    expect(r.img.checks[0]?.explanation).toContain('does not verify')
  })
  it('tag-only → NON_CONFORMANT (DOC-CV)', () => {
    expect(one(p, pod(`${PROD}:1`)).img.verdict).toBe('NON_CONFORMANT')
  })
})

describe("§6.5 sigstoreSignatureCheck: a verdict computed elsewhere, keyed by the check's keys", () => {
  const p = single(`    - sigstoreSignatureCheck:
        sigstoreAuthorities:
        - publicKeySet: {publicKeys: [{publicKeyPem: ${JSON.stringify(KEY_A.pem)}}]}
        - publicKeySet: {publicKeys: [{publicKeyPem: ${JSON.stringify(KEY_B.pem)}}]}
`)
  const c = p.gkePolicy.checkSets[0]?.checks[0]
  if (c?.kind !== 'sigstoreSignatureCheck') throw new Error('fixture')
  const ks = sigstoreKeySet(c)
  const key = artifactKey(PROD, DIGEST)
  it.each([
    [{satisfied: true, couldNotCheck: false, reason: 'verified by key 1'}, 'CONFORMANT'],
    [{satisfied: false, couldNotCheck: false, reason: 'no signature'}, 'NON_CONFORMANT'],
    [{satisfied: false, couldNotCheck: true, reason: 'registry 503'}, 'ERROR'],
  ])('%j → %s', (v, verdict) => {
    expect(one(p, pod(`${PROD}@${DIGEST}`), facts({[key]: {sigstore: {[ks.key]: v}}})).img.verdict).toBe(verdict)
  })
  it('a verdict for another key set is not used (→ ERROR, not collected)', () => {
    expect(one(p, pod(`${PROD}@${DIGEST}`), facts({[key]: {sigstore: {other: {satisfied: true, couldNotCheck: false, reason: ''}}}})).img.verdict).toBe('ERROR')
  })
  it("the key set holds both authorities' keys (OR)", () => {
    expect(ks.publicKeys).toHaveLength(2)
  })
})

// §6.6 slsaCheck: test/unit/core/platform-policy/slsa.test.ts (generated keys and signed envelopes).

describe('§6.7 vulnerabilityCheck', () => {
  const p = single(`    - vulnerabilityCheck:
        maximumFixableSeverity: MEDIUM
        maximumUnfixableSeverity: HIGH
        allowedCves: [CVE-2022-11111]
        blockedCves: [CVE-2022-33333, CVE-2022-11111]
        containerAnalysisVulnerabilityProjects: [projects/scans]
`)
  const key = artifactKey(PROD, DIGEST)
  const scan = (vulnerabilities: import('../../../../src/core/platform-policy/types.js').VulnerabilityFact[], discoveryStatuses = ['FINISHED_SUCCESS']) =>
    facts({[key]: {vulnerabilities: {'projects/scans': {status: 'found', scan: {discoveryStatuses, vulnerabilities}}}}})
  const v = (id: string, sev: 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL' | 'SEVERITY_UNSPECIFIED', fixAvailable?: boolean) => ({
    noteName: `projects/goog-vulnz/notes/${id}`,
    effectiveSeverity: sev,
    ...(fixAvailable === undefined ? {} : {fixAvailable}),
  })
  it.each([
    ['no vulnerabilities, valid scan', scan([]), 'CONFORMANT'],
    ['fixable MEDIUM is within MEDIUM', scan([v('CVE-1', 'MEDIUM', true)]), 'CONFORMANT'],
    ['fixable HIGH exceeds MEDIUM', scan([v('CVE-1', 'HIGH', true)]), 'NON_CONFORMANT'],
    ['unfixable HIGH is within HIGH', scan([v('CVE-1', 'HIGH', false)]), 'CONFORMANT'],
    ['unfixable CRITICAL exceeds HIGH', scan([v('CVE-1', 'CRITICAL', false)]), 'NON_CONFORMANT'],
    ['blockedCves always violates', scan([v('CVE-2022-33333', 'LOW', false)]), 'NON_CONFORMANT'],
    ['allowedCves beats blockedCves and thresholds (DOC-CV decision rule)', scan([v('CVE-2022-11111', 'CRITICAL', true)]), 'CONFORMANT'],
    [
      'allowedCves match regardless of the note provider project',
      scan([{noteName: 'projects/custom/notes/CVE-2022-11111', effectiveSeverity: 'CRITICAL', fixAvailable: true}]),
      'CONFORMANT',
    ],
    ['[INFERRED] unspecified severity exceeds anything but ALLOW_ALL', scan([v('CVE-1', 'SEVERITY_UNSPECIFIED', false)]), 'NON_CONFORMANT'],
    ['[INFERRED] fix status unknown: the stricter threshold', scan([v('CVE-1', 'HIGH')]), 'NON_CONFORMANT'],
    ['SDK-MSG: no valid scan → ERROR', scan([], ['PENDING']), 'ERROR'],
    ['not collected → ERROR', facts({}), 'ERROR'],
  ])('%s', (_name, f, verdict) => {
    expect(one(p, pod(`${PROD}@${DIGEST}`), f).img.verdict).toBe(verdict)
  })
  it.each([
    ['CRITICAL', 'BLOCK_ALL', true],
    ['MINIMAL', 'BLOCK_ALL', true],
    ['MINIMAL', 'MINIMAL', false],
    ['LOW', 'MINIMAL', true],
    ['CRITICAL', 'CRITICAL', false],
    ['SEVERITY_UNSPECIFIED', 'CRITICAL', true],
    ['SEVERITY_UNSPECIFIED', 'ALLOW_ALL', false],
  ] as const)('§2.7 severity %s against %s exceeds: %s', (sev, limit, expected) => {
    expect(exceeds(sev, limit)).toBe(expected)
  })
  it("[OPEN] no projects listed: the image's own project, with a note", () => {
    const q = single('    - vulnerabilityCheck: {maximumFixableSeverity: LOW, maximumUnfixableSeverity: LOW}\n')
    const f = facts({
      [key]: {vulnerabilities: {'projects/my-project': {status: 'found', scan: {discoveryStatuses: ['FINISHED_SUCCESS'], vulnerabilities: []}}}},
    })
    const {img} = one(q, pod(`${PROD}@${DIGEST}`), f)
    expect(img.verdict).toBe('CONFORMANT')
    expect(img.notes.join()).toContain('projects/my-project')
  })
})

describe('platformFactsNeeded: what the evaluation reads, per artifact, and nothing else', () => {
  const p = policy(`gkePolicy:
  imageAllowlist: {allowPattern: [gcr.io/exempt/**]}
  checkSets:
  - scope: {kubernetesNamespace: prod}
    checks:
    - imageFreshnessCheck: {maxUploadAgeDays: 3}
    - vulnerabilityCheck: {maximumFixableSeverity: LOW, maximumUnfixableSeverity: LOW, containerAnalysisVulnerabilityProjects: [projects/scans]}
    - sigstoreSignatureCheck: {sigstoreAuthorities: [{publicKeySet: {publicKeys: [{publicKeyPem: ${JSON.stringify(KEY_A.pem)}}]}}]}
    - imageAllowlist: {allowPattern: [gcr.io/my-project/prod-images/app]}
      slsaCheck: {rules: [{trustedBuilder: GOOGLE_CLOUD_BUILD, attestationSource: {containerAnalysisAttestationProjects: [projects/builds]}}]}
  - checks:
    - trustedDirectoryCheck: {trustedDirPatterns: [gcr.io/p/d]}
`)
  it('lists every fact of the selected set, skips exempted checks, tags, exempt images and the default set', () => {
    const needed = platformFactsNeeded(p, [
      pod(`${PROD}@${DIGEST}`, 'prod'),
      pod(`gcr.io/other/app@${DIGEST2}`, 'prod'),
      pod(`gcr.io/exempt/x@${DIGEST}`, 'prod'),
      pod('gcr.io/other/app:1', 'prod'),
      pod(`gcr.io/other/app@${DIGEST}`, 'dev'),
    ])
    expect(needed).toEqual([
      expect.objectContaining({
        artifact: `${PROD}@${DIGEST}`,
        uploadTime: true,
        vulnerabilityProjects: ['projects/scans'],
        provenanceProjects: [],
        sigstore: [expect.objectContaining({publicKeys: [KEY_A.pem.trim() + '\n']})],
      }),
      expect.objectContaining({artifact: `gcr.io/other/app@${DIGEST2}`, uploadTime: true, provenanceProjects: ['projects/builds']}),
    ])
  })
  it('with every needed fact supplied, nothing is ERROR for "not collected"', () => {
    const pods = [pod(`${PROD}@${DIGEST}`, 'prod')]
    const f: Record<string, ArtifactFacts> = {}
    for (const n of platformFactsNeeded(p, pods)) {
      f[n.artifact] = {
        uploadTime: {status: 'found', uploadTime: daysAgo(1)},
        vulnerabilities: Object.fromEntries(
          n.vulnerabilityProjects.map((pr) => [pr, {status: 'found' as const, scan: {discoveryStatuses: ['FINISHED_SUCCESS'], vulnerabilities: []}}]),
        ),
        sigstore: Object.fromEntries(n.sigstore.map((s) => [s.key, {satisfied: true, couldNotCheck: false, reason: 'ok'}])),
      }
    }
    expect(evaluatePlatformPolicy(p, pods, facts(f), {now: NOW}).verdict).toBe('CONFORMANT')
  })
})

describe('edge statements', () => {
  it('§4.4 [INFERRED] a resource with no images is CONFORMANT with empty results', () => {
    const r = evaluatePlatformPolicy(policy(MULTI_SET_POLICY), [{name: 'empty', namespace: 'prod', images: []}], facts({}), {now: NOW})
    expect(r).toMatchObject({verdict: 'CONFORMANT', pods: [{name: 'empty', checkSetIndex: 0, images: []}]})
  })
  it('§6.2 [OPEN] a leading * spanning two labels is not trusted, with a note; an unrelated miss has no note', () => {
    const p = single('    - trustedDirectoryCheck: {trustedDirPatterns: ["*.gcr.io/my-project"]}\n')
    const spanning = one(p, pod('a.b.gcr.io/my-project/app:1')).img
    expect(spanning.verdict).toBe('NON_CONFORMANT')
    expect(spanning.notes.join()).toContain('narrower reading')
    const unrelated = one(p, pod('eu.gcr.io/other/app:1')).img
    expect(unrelated.verdict).toBe('NON_CONFORMANT')
    expect(unrelated.notes.join()).not.toContain('narrower reading')
  })
  it('§6.7 the image project default covers Artifact Registry and gcr.io only', async () => {
    const {imageProject} = await import('../../../../src/core/platform-policy/evaluate.js')
    expect(imageProject('us-central1-docker.pkg.dev/proj-a/repo/app')).toBe('projects/proj-a')
    expect(imageProject('eu.gcr.io/proj-b/app')).toBe('projects/proj-b')
    expect(imageProject('docker.io/library/nginx')).toBeUndefined()
    expect(imageProject('gcr.io/app')).toBeUndefined()
  })
  it('a hand-built policy whose sets match nothing fails closed (INTERNAL), never allows', () => {
    const p = policy(MULTI_SET_POLICY)
    const broken = {...p, gkePolicy: {checkSets: p.gkePolicy.checkSets.slice(0, 2)}}
    expect(() => evaluatePlatformPolicy(broken, [pod(`${PROD}:1`, 'other')], facts({}), {now: NOW})).toThrow(/no check set matches/)
  })
  it('§4.5 the written digest wins over a different resolved one, with a note', () => {
    const p = single('    - imageFreshnessCheck: {maxUploadAgeDays: 30}\n')
    const f = facts({[artifactKey(PROD, DIGEST)]: {uploadTime: {status: 'found', uploadTime: daysAgo(1)}}})
    const {img} = one(p, {name: 'p', images: [{image: `${PROD}@${DIGEST}`, digest: DIGEST2, container: 'c'}]}, f)
    expect(img).toMatchObject({digest: DIGEST, verdict: 'CONFORMANT'})
    expect(img.notes.join()).toContain('differs from the resolved digest')
  })
})
