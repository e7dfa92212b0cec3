import {describe, expect, it} from '@jest/globals'
import {ruleLabel, selectRule, type SelectContext} from '../../../../src/core/policy/select.js'
import type {RuleKind} from '../../../../src/core/policy/types.js'
import {allow, deny, dryDeny, policy} from './fixtures.js'

describe('selectRule: each map type (GKE)', () => {
  const cases: Array<[string, Parameters<typeof policy>[0], SelectContext, RuleKind, string | undefined]> = [
    ['default only', {}, {platform: 'gke', namespace: 'prod'}, 'default', undefined],
    [
      'cluster rule matches',
      {clusterAdmissionRules: {'us-central1.prod': deny}},
      {platform: 'gke', cluster: 'us-central1.prod'},
      'cluster',
      'us-central1.prod',
    ],
    [
      'cluster rule for another cluster',
      {clusterAdmissionRules: {'us-central1.prod': deny}},
      {platform: 'gke', cluster: 'us-central1.dev'},
      'default',
      undefined,
    ],
    [
      'cluster keys are case-sensitive',
      {clusterAdmissionRules: {'us-central1.prod': deny}},
      {platform: 'gke', cluster: 'us-central1.PROD'},
      'default',
      undefined,
    ],
    ['namespace rule matches', {kubernetesNamespaceAdmissionRules: {prod: deny}}, {platform: 'gke', namespace: 'prod'}, 'namespace', 'prod'],
    ['namespace rule, other namespace', {kubernetesNamespaceAdmissionRules: {prod: deny}}, {platform: 'gke', namespace: 'dev'}, 'default', undefined],
    ['namespace unknown → default namespace', {kubernetesNamespaceAdmissionRules: {default: deny}}, {platform: 'gke'}, 'namespace', 'default'],
    [
      'SA rule matches ns:sa',
      {kubernetesServiceAccountAdmissionRules: {'prod:builder': deny}},
      {platform: 'gke', namespace: 'prod', serviceAccount: 'builder'},
      'serviceAccount',
      'prod:builder',
    ],
    [
      'SA unset → default SA',
      {kubernetesServiceAccountAdmissionRules: {'prod:default': deny}},
      {platform: 'gke', namespace: 'prod'},
      'serviceAccount',
      'prod:default',
    ],
    ['SA rule for other SA', {kubernetesServiceAccountAdmissionRules: {'prod:builder': deny}}, {platform: 'gke', namespace: 'prod'}, 'default', undefined],
    [
      'Istio key with spiffe://, identity without',
      {istioServiceIdentityAdmissionRules: {'spiffe://p.svc.id.goog/ns/prod/sa/web': deny}},
      {platform: 'gke', istioIdentity: 'p.svc.id.goog/ns/prod/sa/web'},
      'istioIdentity',
      'spiffe://p.svc.id.goog/ns/prod/sa/web',
    ],
    [
      'Istio key without spiffe://, identity with',
      {istioServiceIdentityAdmissionRules: {'p.svc.id.goog/ns/prod/sa/web': deny}},
      {platform: 'gke', istioIdentity: 'spiffe://p.svc.id.goog/ns/prod/sa/web'},
      'istioIdentity',
      'p.svc.id.goog/ns/prod/sa/web',
    ],
    [
      'Istio identity mismatch',
      {istioServiceIdentityAdmissionRules: {'p.svc.id.goog/ns/prod/sa/web': deny}},
      {platform: 'gke', istioIdentity: 'p.svc.id.goog/ns/prod/sa/api'},
      'default',
      undefined,
    ],
  ]
  it.each(cases)('%s', (_t, over, ctx, kind, key) => {
    const s = selectRule(policy(over), ctx)
    expect(s.kind).toBe(kind)
    expect(s.key).toBe(key)
    expect(s.candidates.every((c) => c.certain)).toBe(true)
  })
})

describe('selectRule: Cloud Run', () => {
  it('uses the default rule only and notes ignored scoped rules', () => {
    const s = selectRule(policy({clusterAdmissionRules: {'us-central1.prod': deny}}), {platform: 'cloudrun', cluster: 'us-central1.prod'})
    expect(s.kind).toBe('default')
    expect(s.rule).toBe(allow)
    expect(s.candidates).toHaveLength(1)
    expect(s.notes.join('\n')).toMatch(/Cloud Run uses only the default admission rule; the policy's 1 scoped rule\(s\) \(clusterAdmissionRules\) do not apply/)
  })

  it('no note when there are no scoped rules', () => {
    expect(selectRule(policy(), {platform: 'cloudrun'}).notes).toEqual([])
  })
})

describe('selectRule: several matches (hand-built / v1beta1 policies)', () => {
  it('precedence SA → namespace → cluster with a "precedence undocumented" note', () => {
    const p = policy({
      clusterAdmissionRules: {'us-central1.prod': allow},
      kubernetesNamespaceAdmissionRules: {prod: dryDeny},
      kubernetesServiceAccountAdmissionRules: {'prod:web': deny},
    })
    const s = selectRule(p, {platform: 'gke', cluster: 'us-central1.prod', namespace: 'prod', serviceAccount: 'web'})
    expect(s.kind).toBe('serviceAccount')
    expect(s.candidates.map((c) => c.kind)).toEqual(['serviceAccount', 'namespace', 'cluster'])
    expect(s.notes.join('\n')).toMatch(/precedence undocumented/)
    const s2 = selectRule(p, {platform: 'gke', cluster: 'us-central1.prod', namespace: 'prod', serviceAccount: 'other'})
    expect(s2.kind).toBe('namespace')
  })

  it('unknown cluster: every cluster rule and the default may apply', () => {
    const s = selectRule(policy({clusterAdmissionRules: {'us-central1.prod': deny, 'europe-west1.dev': allow}}), {platform: 'gke'})
    expect(s.kind).toBe('default')
    expect(s.candidates.map((c) => [c.kind, c.key, c.certain])).toEqual([
      ['cluster', 'us-central1.prod', false],
      ['cluster', 'europe-west1.dev', false],
      ['default', undefined, true],
    ])
    expect(s.notes.join('\n')).toMatch(/cluster is unknown/)
  })

  it('unknown mesh identity: Istio rules naming the namespace and SA may apply', () => {
    const s = selectRule(policy({istioServiceIdentityAdmissionRules: {'spiffe://p.svc.id.goog/ns/prod/sa/web': deny}}), {
      platform: 'gke',
      namespace: 'prod',
      serviceAccount: 'web',
    })
    expect(s.candidates.map((c) => [c.kind, c.certain])).toEqual([
      ['istioIdentity', false],
      ['default', true],
    ])
  })
})

describe('ruleLabel', () => {
  it.each([
    ['default', undefined, 'default admission rule'],
    ['cluster', 'us-central1.prod', 'cluster admission rule for us-central1.prod'],
    ['namespace', 'prod', 'Kubernetes namespace admission rule for prod'],
    ['serviceAccount', 'prod:web', 'Kubernetes service account admission rule for prod:web'],
  ] as const)('%s %s', (kind, key, want) => {
    expect(ruleLabel(kind, key)).toBe(want)
  })
})
