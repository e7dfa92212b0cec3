/** Binary Authorization project-singleton policy (REST v1 JSON / gcloud YAML form). docs/binauthz.md#policy-model. */

export type EvaluationMode = 'ALWAYS_ALLOW' | 'REQUIRE_ATTESTATION' | 'ALWAYS_DENY'
export type EnforcementMode = 'ENFORCED_BLOCK_AND_AUDIT_LOG' | 'DRYRUN_AUDIT_LOG_ONLY'
/** UNSPECIFIED (also what an omitted field parses to) behaves as DISABLE. */
export type GlobalPolicyEvaluationMode = 'ENABLE' | 'DISABLE' | 'GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED'

export const EVALUATION_MODES: readonly EvaluationMode[] = ['ALWAYS_ALLOW', 'REQUIRE_ATTESTATION', 'ALWAYS_DENY']
export const ENFORCEMENT_MODES: readonly EnforcementMode[] = ['ENFORCED_BLOCK_AND_AUDIT_LOG', 'DRYRUN_AUDIT_LOG_ONLY']
export const GLOBAL_POLICY_EVALUATION_MODES: readonly GlobalPolicyEvaluationMode[] = ['GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED', 'ENABLE', 'DISABLE']

export interface AdmissionRule {
  evaluationMode: EvaluationMode
  enforcementMode: EnforcementMode
  /** Full attestor names `projects/P/attestors/A` (short names normalised with the policy's project). */
  requireAttestationsBy: string[]
  /** 1-based line of the rule in the source file, when known. */
  line?: number
}

export type RuleKind = 'default' | 'cluster' | 'namespace' | 'serviceAccount' | 'istioIdentity'

/** The policy field holding each kind of scoped rule. */
export const RULE_MAP_FIELDS = {
  cluster: 'clusterAdmissionRules',
  namespace: 'kubernetesNamespaceAdmissionRules',
  serviceAccount: 'kubernetesServiceAccountAdmissionRules',
  istioIdentity: 'istioServiceIdentityAdmissionRules',
} as const satisfies Record<Exclude<RuleKind, 'default'>, keyof Policy>

export interface AllowlistPattern {
  namePattern: string
  line?: number
}

export interface Policy {
  /** Output only: `projects/P/policy` (or `locations/L/policy` for the system policy). */
  name?: string
  /** The project taken from `name`, when it has the `projects/P/policy` form. */
  project?: string
  description?: string
  etag?: string
  updateTime?: string
  globalPolicyEvaluationMode: GlobalPolicyEvaluationMode
  admissionWhitelistPatterns: AllowlistPattern[]
  clusterAdmissionRules: Record<string, AdmissionRule>
  kubernetesNamespaceAdmissionRules: Record<string, AdmissionRule>
  kubernetesServiceAccountAdmissionRules: Record<string, AdmissionRule>
  istioServiceIdentityAdmissionRules: Record<string, AdmissionRule>
  defaultAdmissionRule: AdmissionRule
  /** Where it came from: a file path or `projects/P/policy` (API). */
  source: string
  /** Things the parser normalised or assumed (e.g. short attestor names completed), for display. */
  notes?: string[]
}
