/** Binary Authorization project-singleton policy (REST v1 JSON / gcloud YAML form). binauthz-spec.md §1. */

export type EvaluationMode = 'ALWAYS_ALLOW' | 'REQUIRE_ATTESTATION' | 'ALWAYS_DENY'
export type EnforcementMode = 'ENFORCED_BLOCK_AND_AUDIT_LOG' | 'DRYRUN_AUDIT_LOG_ONLY'
export type GlobalPolicyEvaluationMode = 'ENABLE' | 'DISABLE' | 'GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED'

export interface AdmissionRule {
  evaluationMode: EvaluationMode
  enforcementMode: EnforcementMode
  /** Full attestor names `projects/P/attestors/A` (short names normalised with the policy's project). */
  requireAttestationsBy: string[]
  /** 1-based line of the rule in the source file, when known. */
  line?: number
}

export type RuleKind = 'default' | 'cluster' | 'namespace' | 'serviceAccount' | 'istioIdentity'

export interface AllowlistPattern {
  namePattern: string
  line?: number
}

export interface Policy {
  name?: string
  description?: string
  globalPolicyEvaluationMode: GlobalPolicyEvaluationMode
  admissionWhitelistPatterns: AllowlistPattern[]
  clusterAdmissionRules: Record<string, AdmissionRule>
  kubernetesNamespaceAdmissionRules: Record<string, AdmissionRule>
  kubernetesServiceAccountAdmissionRules: Record<string, AdmissionRule>
  istioServiceIdentityAdmissionRules: Record<string, AdmissionRule>
  defaultAdmissionRule: AdmissionRule
  /** Where it came from: a file path or `projects/P/policy` (API). */
  source: string
}
