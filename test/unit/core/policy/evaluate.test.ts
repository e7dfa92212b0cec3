import {describe, expect, it} from '@jest/globals'
import {
  ALWAYS_DENY_REASON,
  evaluatePolicy,
  explainRule,
  NO_VALID_ATTESTATIONS,
  overallVerdict,
  TAG_NOT_DIGEST,
  type CheckAttestor,
  type EvaluationInput,
  type ImageToEvaluate,
} from '../../../../src/core/policy/evaluate.js'
import type {AdmissionRule, GlobalPolicyEvaluationMode} from '../../../../src/core/policy/types.js'
import {allow, attest, D, D2, deny, dryDeny, policy} from './fixtures.js'

const A = 'projects/p/attestors/a'
const B = 'projects/p/attestors/b'
const IMG = 'gcr.io/p/app'

/** checkAttestor over a set of "attestor digest" pairs, recording calls. */
function attested(pairs: string[]): CheckAttestor & {calls: string[]} {
  const calls: string[] = []
  const fn = (attestor: string, digest: string): {satisfied: boolean; reason: string} => {
    calls.push(`${attestor} ${digest}`)
    return pairs.includes(`${attestor} ${digest}`) ? {satisfied: true, reason: 'verified'} : {satisfied: false, reason: NO_VALID_ATTESTATIONS}
  }
  return Object.assign(fn, {calls})
}

/** Async so that a throwing checkAttestor shows as a rejection, as the assertions expect. */
async function run(over: Partial<EvaluationInput> & {images: ImageToEvaluate[]}): Promise<ReturnType<typeof evaluatePolicy>> {
  return evaluatePolicy({policy: policy(), context: {platform: 'gke'}, checkAttestor: attested([]), ...over})
}

describe('evaluation mode × enforcement mode', () => {
  const enforced = (r: AdmissionRule): AdmissionRule => ({...r, enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG'})
  const dry = (r: AdmissionRule): AdmissionRule => ({...r, enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY'})
  it.each([
    ['ALWAYS_ALLOW enforced', enforced(allow), [], 'ALLOW', undefined],
    ['ALWAYS_ALLOW dry-run', dry(allow), [], 'ALLOW', undefined],
    ['ALWAYS_DENY enforced', enforced(deny), [], 'DENY', undefined],
    ['ALWAYS_DENY dry-run', dry(deny), [], 'DRYRUN_DENY', 'DENY'],
    ['REQUIRE_ATTESTATION satisfied, enforced', attest([A]), [`${A} ${D}`], 'ALLOW', undefined],
    ['REQUIRE_ATTESTATION satisfied, dry-run', attest([A], true), [`${A} ${D}`], 'ALLOW', undefined],
    ['REQUIRE_ATTESTATION unsatisfied, enforced', attest([A]), [], 'DENY', undefined],
    ['REQUIRE_ATTESTATION unsatisfied, dry-run', attest([A], true), [], 'DRYRUN_DENY', 'DENY'],
  ] as const)('%s', async (_t, rule, pairs, verdict, wouldBe) => {
    const r = await run({policy: policy({defaultAdmissionRule: rule}), images: [{image: `${IMG}@${D}`}], checkAttestor: attested([...pairs])})
    expect(r.verdict).toBe(verdict)
    expect(r.images[0]?.verdict).toBe(verdict)
    expect(r.images[0]?.wouldBe).toBe(wouldBe)
    expect(r.images[0]?.rule).toEqual({kind: 'default', evaluationMode: rule.evaluationMode, enforcementMode: rule.enforcementMode})
  })
})

describe('GKE-style reasons (docs/binauthz.md#denial-messages)', () => {
  it('always_deny under the default rule', async () => {
    const r = await run({policy: policy({defaultAdmissionRule: deny}), images: [{image: 'gcr.io/google-samples/hello-app:1.0'}]})
    expect(r.images[0]?.reasons).toEqual([
      'Image gcr.io/google-samples/hello-app:1.0 denied by Binary Authorization default admission rule.',
      ALWAYS_DENY_REASON,
    ])
    expect(r.images[0]?.nextSteps.join('\n')).toMatch(/namePattern: gcr.io\/google-samples\/hello-app:\*/)
  })

  it('always_deny under a cluster rule', async () => {
    const r = await run({
      policy: policy({clusterAdmissionRules: {'us-east4-a.my-cluster-1': deny}}),
      context: {platform: 'gke', cluster: 'us-east4-a.my-cluster-1'},
      images: [{image: 'gcr.io/P/nginx:latest'}],
    })
    expect(r.images[0]?.reasons[0]).toBe('Image gcr.io/P/nginx:latest denied by Binary Authorization cluster admission rule for us-east4-a.my-cluster-1.')
    expect(r.images[0]?.rule).toEqual({
      kind: 'cluster',
      key: 'us-east4-a.my-cluster-1',
      evaluationMode: 'ALWAYS_DENY',
      enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
    })
    expect(r.images[0]?.notes.join('\n')).not.toMatch(/unverified/)
  })

  it.each([
    [{kubernetesNamespaceAdmissionRules: {prod: deny}}, 'Kubernetes namespace admission rule for prod'],
    [{kubernetesServiceAccountAdmissionRules: {'prod:web': deny}}, 'Kubernetes service account admission rule for prod:web'],
  ])('namespace / SA wording is marked unverified', async (over, label) => {
    const r = await run({policy: policy(over), images: [{image: `${IMG}:1`, namespace: 'prod', serviceAccount: 'web'}]})
    expect(r.verdict).toBe('DENY')
    expect(r.images[0]?.reasons[0]).toBe(`Image ${IMG}:1 denied by Binary Authorization ${label}.`)
    expect(r.images[0]?.notes.join('\n')).toMatch(/wording .* is unverified/)
  })

  it('missing attestation: attestor line and an attest next step', async () => {
    const r = await run({policy: policy({defaultAdmissionRule: attest([A])}), images: [{image: `${IMG}@${D}`}]})
    expect(r.images[0]?.reasons).toEqual([
      `Image ${IMG}@${D} denied by Binary Authorization default admission rule.`,
      `Image ${IMG}@${D} denied by attestor ${A}: ${NO_VALID_ATTESTATIONS}`,
    ])
    expect(r.images[0]?.attestors).toEqual([{attestor: A, satisfied: false, reason: NO_VALID_ATTESTATIONS}])
    expect(r.images[0]?.nextSteps).toContain(`safe-deploy attest --image ${IMG}@${D} --attestor ${A} --attestors DIR --output-dir DIR --private-key KEY.pem`)
  })

  it.each([
    [
      'files: attestors and the attestations directory, a local key',
      {attestors: 'trust/attestors', outputDir: 'trust/atts'},
      '--attestors trust/attestors --output-dir trust/atts --private-key KEY.pem',
    ],
    ['the APIs of a project: stored there, a KMS key', {project: 'acme-prod'}, '--project acme-prod --kms-key KEY'],
    [
      'attestors from files, attestations in the API',
      {attestors: 'a dir', project: 'p', extra: ['--containeranalysis-endpoint', '127.0.0.1:9']},
      "--attestors 'a dir' --project p --containeranalysis-endpoint 127.0.0.1:9 --kms-key KEY",
    ],
  ])('the attest next step carries the trust source and a signer (%s)', async (_what, attestHint, flags) => {
    const r = await run({policy: policy({defaultAdmissionRule: attest([A])}), images: [{image: `${IMG}@${D}`}], attestHint})
    expect(r.images[0]?.nextSteps).toEqual([`safe-deploy attest --image ${IMG}@${D} --attestor ${A} ${flags}`])
  })
})

describe('REQUIRE_ATTESTATION', () => {
  it('a tag-only image is denied per attestor without calling checkAttestor', async () => {
    const check = attested([`${A} ${D}`])
    const r = await run({policy: policy({defaultAdmissionRule: attest([A, B])}), images: [{image: 'nginx', digest: D}], checkAttestor: check})
    expect(r.verdict).toBe('DENY')
    expect(check.calls).toEqual([])
    expect(r.images[0]?.reasons).toEqual([
      'Image nginx denied by Binary Authorization default admission rule.',
      `Image nginx denied by attestor ${A}: ${TAG_NOT_DIGEST}`,
      `Image nginx denied by attestor ${B}: ${TAG_NOT_DIGEST}`,
    ])
    expect(r.images[0]?.nextSteps[0]).toMatch(/safe-deploy pin/)
    expect(r.images[0]?.nextSteps).toContain(`safe-deploy attest --image nginx@${D} --attestor ${A} --attestors DIR --output-dir DIR --private-key KEY.pem`)
  })

  it('a malformed digest is treated like a tag', async () => {
    const r = await run({policy: policy({defaultAdmissionRule: attest([A])}), images: [{image: `${IMG}@sha256:123`}], checkAttestor: attested([])})
    expect(r.images[0]?.attestors[0]?.reason).toBe(TAG_NOT_DIGEST)
    expect(r.images[0]?.notes.join('\n')).toMatch(/not a valid image reference/)
  })

  it('tag+digest: the digest counts', async () => {
    const r = await run({policy: policy({defaultAdmissionRule: attest([A])}), images: [{image: `${IMG}:v1@${D}`}], checkAttestor: attested([`${A} ${D}`])})
    expect(r.verdict).toBe('ALLOW')
    expect(r.images[0]?.digest).toBe(D)
  })

  it.each([
    [[`${A} ${D}`, `${B} ${D}`], 'ALLOW', []],
    [[`${A} ${D}`], 'DENY', [B]],
    [[`${B} ${D}`], 'DENY', [A]],
    [[], 'DENY', [A, B]],
  ])('multi-attestor AND: attested %j → %s', async (pairs, verdict, failing) => {
    const r = await run({policy: policy({defaultAdmissionRule: attest([A, B])}), images: [{image: `${IMG}@${D}`}], checkAttestor: attested(pairs)})
    expect(r.verdict).toBe(verdict)
    expect(r.images[0]?.attestors.filter((a) => !a.satisfied).map((a) => a.attestor)).toEqual(failing)
    expect(r.images[0]?.reasons.filter((l) => l.includes('denied by attestor'))).toHaveLength(failing.length)
  })

  it('checkAttestor is called once per (attestor, digest)', async () => {
    const check = attested([`${A} ${D}`, `${B} ${D}`])
    const r = await run({
      policy: policy({defaultAdmissionRule: attest([A, B])}),
      images: [{image: `${IMG}@${D}`}, {image: `gcr.io/p/other@${D}`}, {image: `${IMG}:v2@${D}`}, {image: `${IMG}@${D2}`}],
      checkAttestor: check,
    })
    expect([...check.calls].sort()).toEqual([`${A} ${D}`, `${A} ${D2}`, `${B} ${D}`, `${B} ${D2}`])
    expect(r.images.map((i) => i.verdict)).toEqual(['ALLOW', 'ALLOW', 'ALLOW', 'DENY'])
  })

  it('a throwing checkAttestor propagates (never treated as allowed)', async () => {
    const boom: CheckAttestor = () => {
      throw new Error('network down')
    }
    await expect(run({policy: policy({defaultAdmissionRule: attest([A])}), images: [{image: `${IMG}@${D}`}], checkAttestor: boom})).rejects.toThrow(
      'network down',
    )
  })
})

describe('aggregation over images and rules', () => {
  const p = policy({kubernetesNamespaceAdmissionRules: {audit: dryDeny, locked: deny, open: allow}})
  it.each([
    [['open', 'open'], 'ALLOW'],
    [['open', 'audit'], 'DRYRUN_DENY'],
    [['audit', 'locked'], 'DENY'],
    [['locked', 'open', 'audit'], 'DENY'],
  ])('namespaces %j → %s', async (namespaces, verdict) => {
    const r = await run({policy: p, images: namespaces.map((namespace) => ({image: `${IMG}:1`, namespace}))})
    expect(r.verdict).toBe(verdict)
  })

  it('overallVerdict ranking', () => {
    expect(overallVerdict([])).toBe('ALLOW')
    expect(overallVerdict(['ALLOW', 'DRYRUN_DENY', 'ALLOW_BREAKGLASS'])).toBe('ALLOW_BREAKGLASS')
    expect(overallVerdict(['ALLOW_BREAKGLASS', 'DENY'])).toBe('DENY')
  })
})

describe('break-glass', () => {
  it('turns DENY into ALLOW_BREAKGLASS with wouldBe', async () => {
    const r = await run({policy: policy({defaultAdmissionRule: deny}), images: [{image: `${IMG}:1`, breakGlass: true}, {image: `${IMG}:2`}]})
    expect(r.images.map((i) => [i.verdict, i.wouldBe])).toEqual([
      ['ALLOW_BREAKGLASS', 'DENY'],
      ['DENY', undefined],
    ])
    expect(r.verdict).toBe('DENY')
  })

  it('request-level break-glass; overall ALLOW_BREAKGLASS', async () => {
    const r = await run({policy: policy({defaultAdmissionRule: deny}), context: {platform: 'cloudrun', breakGlass: true}, images: [{image: `${IMG}@${D}`}]})
    expect(r.verdict).toBe('ALLOW_BREAKGLASS')
    expect(r.images[0]?.reasons[1]).toBe(ALWAYS_DENY_REASON)
  })

  it('dry-run stays DRYRUN_DENY; an allowed image notes the logged break-glass event', async () => {
    const r = await run({policy: policy({defaultAdmissionRule: dryDeny}), images: [{image: `${IMG}:1`, breakGlass: true}]})
    expect(r.verdict).toBe('DRYRUN_DENY')
    const r2 = await run({images: [{image: `${IMG}:1`, breakGlass: true}]})
    expect(r2.verdict).toBe('ALLOW')
    expect(r2.images[0]?.notes.join('\n')).toMatch(/break-glass event/)
  })
})

describe('allowlist and system policy', () => {
  it('the allowlist beats ALWAYS_DENY and REQUIRE_ATTESTATION, even for a tag', async () => {
    const check = attested([])
    for (const rule of [deny, attest([A])]) {
      const r = await run({
        policy: policy({defaultAdmissionRule: rule, admissionWhitelistPatterns: [{namePattern: 'gcr.io/p/*', line: 3}]}),
        images: [{image: `${IMG}:latest`}],
        checkAttestor: check,
      })
      expect(r.verdict).toBe('ALLOW')
      expect(r.images[0]?.exemption).toEqual({kind: 'allowlist', pattern: 'gcr.io/p/*'})
      expect(r.images[0]?.reasons[0]).toMatch(/matches allowlist pattern gcr.io\/p\/\* \(line 3\)/)
    }
    expect(check.calls).toEqual([])
  })

  it('an uncertain @* match is not an exemption, with a note', async () => {
    const r = await run({policy: policy({defaultAdmissionRule: deny, admissionWhitelistPatterns: [{namePattern: `${IMG}@*`}]}), images: [{image: `${IMG}:v1`}]})
    expect(r.verdict).toBe('DENY')
    expect(r.images[0]?.notes.join('\n')).toMatch(/may exempt the image.*treated as not matching/)
  })

  it('normalisation and exact-pattern hints', async () => {
    const r = await run({
      policy: policy({defaultAdmissionRule: deny, admissionWhitelistPatterns: [{namePattern: 'docker.io/library/nginx*'}, {namePattern: 'gcr.io/p/app'}]}),
      images: [{image: 'nginx:1.25'}, {image: `${IMG}:1`}],
    })
    expect(r.verdict).toBe('DENY')
    expect(r.images[0]?.notes.join('\n')).toMatch(/differ only by docker.io\//)
    expect(r.images[1]?.notes.join('\n')).toMatch(/no wildcard/)
    expect(r.images[1]?.nextSteps.join('\n')).toMatch(/fix the allowlist/)
  })

  const sysImage = 'k8s.gcr.io/pause:3.9'
  it.each<[GlobalPolicyEvaluationMode, 'gke' | 'cloudrun', string]>([
    ['ENABLE', 'gke', 'ALLOW'],
    ['DISABLE', 'gke', 'DENY'],
    ['GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED', 'gke', 'DENY'],
    ['ENABLE', 'cloudrun', 'DENY'],
  ])('system image with globalPolicyEvaluationMode %s on %s → %s', async (mode, platform, verdict) => {
    const image = platform === 'cloudrun' ? `k8s.gcr.io/pause@${D}` : sysImage
    const r = await run({policy: policy({globalPolicyEvaluationMode: mode, defaultAdmissionRule: deny}), context: {platform}, images: [{image}]})
    expect(r.verdict).toBe(verdict)
    if (verdict === 'ALLOW') {
      expect(r.images[0]?.exemption).toEqual({kind: 'system', pattern: 'k8s.gcr.io/**', approximate: true})
      expect(r.notes.join('\n')).toMatch(/approximate system image list/)
    }
    if (mode === 'GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED') expect(r.notes.join('\n')).toMatch(/UNSPECIFIED\), which behaves as DISABLE/)
    if (mode === 'DISABLE') expect(r.images[0]?.notes.join('\n')).toMatch(/matches system pattern k8s.gcr.io\/\*\*, but globalPolicyEvaluationMode is DISABLE/)
  })

  it('a user-supplied system list is exact', async () => {
    const r = await run({
      policy: policy({defaultAdmissionRule: deny}),
      systemAllowlist: {patterns: ['gcr.io/my-sys/*'], approximate: false},
      images: [{image: 'gcr.io/my-sys/agent:1'}, {image: sysImage}],
    })
    expect(r.images.map((i) => i.verdict)).toEqual(['ALLOW', 'DENY'])
    expect(r.images[0]?.exemption).toEqual({kind: 'system', pattern: 'gcr.io/my-sys/*'})
  })
})

describe('Cloud Run', () => {
  it('only the default rule applies, and the resolved digest is evaluated', async () => {
    const r = await run({
      policy: policy({defaultAdmissionRule: attest([A]), clusterAdmissionRules: {'us-central1.prod': allow}}),
      context: {platform: 'cloudrun', cluster: 'us-central1.prod'},
      images: [{image: `${IMG}:v1`, digest: D}],
      checkAttestor: attested([`${A} ${D}`]),
    })
    expect(r.verdict).toBe('ALLOW')
    expect(r.images[0]?.evaluatedImage).toBe(`${IMG}@${D}`)
    expect(r.notes.join('\n')).toMatch(/Cloud Run uses only the default admission rule/)
  })

  it('tag patterns never match; @* and ** do', async () => {
    const input = (namePattern: string): Parameters<typeof run>[0] => ({
      policy: policy({defaultAdmissionRule: deny, admissionWhitelistPatterns: [{namePattern}]}),
      context: {platform: 'cloudrun'},
      images: [{image: `${IMG}:v1`, digest: D}],
    })
    const tag = await run(input(`${IMG}:v1`))
    expect(tag.verdict).toBe('DENY')
    expect(tag.notes.join('\n')).toMatch(/tag never match on Cloud Run/)
    expect(tag.images[0]?.notes.join('\n')).toMatch(/Cloud Run evaluates the resolved digest/)
    expect((await run(input(`${IMG}@*`))).verdict).toBe('ALLOW')
    expect((await run(input('gcr.io/p/**'))).verdict).toBe('ALLOW')
  })

  it('an unresolved tag: digest-independent patterns still match, attestation is denied', async () => {
    const r = await run({
      policy: policy({defaultAdmissionRule: deny, admissionWhitelistPatterns: [{namePattern: `${IMG}@*`}]}),
      context: {platform: 'cloudrun'},
      images: [{image: `${IMG}:v1`}],
    })
    expect(r.verdict).toBe('ALLOW')
    const r2 = await run({
      policy: policy({defaultAdmissionRule: deny, admissionWhitelistPatterns: [{namePattern: `${IMG}@sha256:a*`}]}),
      context: {platform: 'cloudrun'},
      images: [{image: `${IMG}:v1`}],
    })
    expect(r2.verdict).toBe('DENY')
    expect(r2.images[0]?.notes.join('\n')).toMatch(/depends on the digest Cloud Run will resolve/)
    const r3 = await run({
      policy: policy({defaultAdmissionRule: attest([A])}),
      context: {platform: 'cloudrun'},
      images: [{image: `${IMG}:v1`}],
      checkAttestor: attested([`${A} ${D}`]),
    })
    expect(r3.verdict).toBe('DENY')
    expect(r3.images[0]?.notes.join('\n')).toMatch(/Cloud Run resolves .* at deploy time/)
  })
})

describe('GKE: a tag-only image with a resolved digest is still a tag for GKE', () => {
  it('denied, the resolved digest is only used in next steps', async () => {
    const check = attested([`${A} ${D}`])
    const r = await run({policy: policy({defaultAdmissionRule: attest([A])}), images: [{image: `${IMG}:v1`, digest: D}], checkAttestor: check})
    expect(r.verdict).toBe('DENY')
    expect(check.calls).toEqual([])
  })
})

describe('several candidate rules: the strictest verdict is reported', () => {
  it('unknown cluster with a denying cluster rule → DENY with a note', async () => {
    const r = await run({policy: policy({clusterAdmissionRules: {'us-central1.prod': deny, 'us-central1.dev': allow}}), images: [{image: `${IMG}:1`}]})
    expect(r.verdict).toBe('DENY')
    expect(r.images[0]?.rule.key).toBe('us-central1.prod')
    expect(r.images[0]?.notes.join('\n')).toMatch(/They disagree; the strictest \(DENY\) is reported/)
  })
})

describe('explainRule', () => {
  const p = policy({
    defaultAdmissionRule: deny,
    clusterAdmissionRules: {'us-central1.prod': attest([A, B], true)},
    admissionWhitelistPatterns: [
      {namePattern: 'gcr.io/p/*', line: 2},
      {namePattern: `${IMG}@*`, line: 3},
    ],
  })

  it('which rule, why, attestors needed', () => {
    const e = explainRule(p, {platform: 'gke', cluster: 'us-central1.prod'})
    expect(e.kind).toBe('cluster')
    expect(e.key).toBe('us-central1.prod')
    expect(e.attestorsRequired).toEqual([A, B])
    expect(e.lines.join('\n')).toMatch(/Rule: cluster admission rule for us-central1.prod: REQUIRE_ATTESTATION, DRYRUN_AUDIT_LOG_ONLY/)
    expect(e.lines.join('\n')).toMatch(/Enforcement: dry run/)
    expect(e.system).toEqual({mode: 'ENABLE', applies: true, approximate: true})
  })

  it('allowlist matches for an image', () => {
    const e = explainRule(p, {platform: 'gke', cluster: 'us-central1.dev'}, `${IMG}:v1`)
    expect(e.kind).toBe('default')
    expect(e.allowlist?.map((a) => [a.pattern, a.line, a.result])).toEqual([
      ['gcr.io/p/*', 2, 'match'],
      [`${IMG}@*`, 3, 'uncertain'],
    ])
    expect(e.lines.join('\n')).toMatch(/Allowlist: gcr.io\/p\/\* match\(es\)/)
  })

  it('Cloud Run: default rule only', () => {
    const e = explainRule(p, {platform: 'cloudrun'}, `${IMG}@${D}`)
    expect(e.kind).toBe('default')
    expect(e.system.applies).toBe(false)
    expect(e.lines[0]).toMatch(/Cloud Run/)
  })
})
