/**
 * Which admission rule applies to a request (docs/binauthz.md#rule-selection).
 *
 * Cloud Run: the default rule only. GKE: a specific rule whose key matches replaces the default rule. In v1 at most
 * one scoped map is non-empty (the parser enforces it); if several match anyway (hand-built or v1beta1 policies) the
 * order is service account → Istio identity → namespace → cluster (ASSUMPTION: undocumented, flagged in notes).
 */
import type {AdmissionRule, Policy, RuleKind} from './types.js'
import {RULE_MAP_FIELDS} from './types.js'

export type Platform = 'gke' | 'cloudrun'

export interface SelectContext {
  platform: Platform
  /** `location.name` of the cluster (GKE); unknown → every cluster rule is a candidate. */
  cluster?: string
  /** Pod namespace; unknown → `default` (noted when it matters). */
  namespace?: string
  /** `spec.serviceAccountName`; unset → `default` (Kubernetes defaulting). */
  serviceAccount?: string
  /** SPIFFE identity (`spiffe://<domain>/ns/<ns>/sa/<sa>` or without `spiffe://`). */
  istioIdentity?: string
}

export interface RuleCandidate {
  kind: RuleKind
  key?: string
  rule: AdmissionRule
  /** False when the rule only MAY apply (cluster or mesh identity unknown); the evaluator then takes the strictest verdict. */
  certain: boolean
}

export interface RuleSelection {
  kind: RuleKind
  key?: string
  rule: AdmissionRule
  /** Every rule that may apply, in precedence order (the selected one among them). */
  candidates: RuleCandidate[]
  notes: string[]
}

/** Precedence among specific rule kinds (most specific first). */
export const RULE_PRECEDENCE: ReadonlyArray<Exclude<RuleKind, 'default'>> = ['serviceAccount', 'istioIdentity', 'namespace', 'cluster']

const KIND_LABEL: Record<RuleKind, string> = {
  default: 'default admission rule',
  cluster: 'cluster admission rule',
  namespace: 'Kubernetes namespace admission rule',
  serviceAccount: 'Kubernetes service account admission rule',
  istioIdentity: 'Istio service identity admission rule',
}

/** "cluster admission rule for us-central1.prod", "default admission rule". */
export function ruleLabel(kind: RuleKind, key?: string): string {
  return key === undefined ? KIND_LABEL[kind] : `${KIND_LABEL[kind]} for ${key}`
}

function stripSpiffe(id: string): string {
  return id.startsWith('spiffe://') ? id.slice('spiffe://'.length) : id
}

function nonEmptyKinds(policy: Policy): Array<Exclude<RuleKind, 'default'>> {
  return RULE_PRECEDENCE.filter((k) => Object.keys(policy[RULE_MAP_FIELDS[k]]).length > 0)
}

export function selectRule(policy: Policy, ctx: SelectContext): RuleSelection {
  const notes: string[] = []
  const def: RuleCandidate = {kind: 'default', rule: policy.defaultAdmissionRule, certain: true}
  const scoped = nonEmptyKinds(policy)

  if (ctx.platform === 'cloudrun') {
    if (scoped.length > 0) {
      const n = scoped.reduce((s, k) => s + Object.keys(policy[RULE_MAP_FIELDS[k]]).length, 0)
      notes.push(
        `Cloud Run uses only the default admission rule; the policy's ${n} scoped rule(s) (${scoped.map((k) => RULE_MAP_FIELDS[k]).join(', ')}) do not apply.`,
      )
    }
    return {kind: 'default', rule: def.rule, candidates: [def], notes}
  }

  const namespace = ctx.namespace ?? 'default'
  const serviceAccount = ctx.serviceAccount ?? 'default'
  const found: RuleCandidate[] = []

  for (const kind of scoped) {
    const map = policy[RULE_MAP_FIELDS[kind]]
    switch (kind) {
      case 'serviceAccount': {
        const key = `${namespace}:${serviceAccount}`
        const rule = map[key]
        if (ctx.namespace === undefined) notes.push(`namespace unknown: assumed "default" for the service account rules (key ${key}).`)
        if (rule) found.push({kind, key, rule, certain: true})
        break
      }
      case 'istioIdentity': {
        if (ctx.istioIdentity !== undefined) {
          const want = stripSpiffe(ctx.istioIdentity)
          for (const [key, rule] of Object.entries(map)) if (stripSpiffe(key) === want) found.push({kind, key, rule, certain: true})
        } else {
          // The mesh identity is unknown: a key naming this namespace and SA may apply (conservative: consider it).
          const suffix = `/ns/${namespace}/sa/${serviceAccount}`
          const maybe = Object.entries(map).filter(([key]) => stripSpiffe(key).endsWith(suffix))
          for (const [key, rule] of maybe) found.push({kind, key, rule, certain: false})
          if (maybe.length > 0) {
            notes.push(
              `Istio service identity rule(s) ${maybe.map(([k]) => k).join(', ')} name namespace ${namespace} and service account ${serviceAccount}; ` +
                'the workload identity was not given (--istio-identity), so they are assumed to possibly apply (Cloud Service Mesh only).',
            )
          } else {
            notes.push('the policy has Istio service identity rules but no workload identity was given; they apply only to Cloud Service Mesh workloads.')
          }
        }
        break
      }
      case 'namespace': {
        const rule = map[namespace]
        if (ctx.namespace === undefined) notes.push('namespace unknown: assumed "default" for the namespace rules.')
        if (rule) found.push({kind, key: namespace, rule, certain: true})
        break
      }
      case 'cluster': {
        if (ctx.cluster !== undefined) {
          const rule = map[ctx.cluster]
          if (rule) found.push({kind, key: ctx.cluster, rule, certain: true})
        } else {
          for (const [key, rule] of Object.entries(map)) found.push({kind, key, rule, certain: false})
          notes.push(
            'the policy has cluster admission rules but the cluster is unknown (give it as LOCATION.NAME, e.g. us-central1.prod); ' +
              'every cluster rule and the default rule were considered and the strictest verdict is reported.',
          )
        }
        break
      }
    }
  }

  const certain = found.filter((c) => c.certain)
  const candidates = certain.length > 0 ? found : [...found, def]
  const selected = certain[0] ?? def
  if (certain.length > 1) {
    notes.push(
      `precedence undocumented: ${certain.map((c) => ruleLabel(c.kind, c.key)).join(', ')} all match; ` +
        `assumed order service account → Istio identity → namespace → cluster, so the ${ruleLabel(selected.kind, selected.key)} is used ` +
        '(a valid v1 policy has only one non-empty scoped rule map).',
    )
  }
  return {
    kind: selected.kind,
    ...(selected.key === undefined ? {} : {key: selected.key}),
    rule: selected.rule,
    candidates,
    notes,
  }
}
