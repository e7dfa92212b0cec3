import type {AdmissionRule, Policy} from '../../../../src/core/policy/types.js'

export const D = 'sha256:' + 'a'.repeat(64)
export const D2 = 'sha256:' + 'b'.repeat(64)

export const allow: AdmissionRule = {evaluationMode: 'ALWAYS_ALLOW', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG', requireAttestationsBy: []}
export const deny: AdmissionRule = {evaluationMode: 'ALWAYS_DENY', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG', requireAttestationsBy: []}
export const dryDeny: AdmissionRule = {evaluationMode: 'ALWAYS_DENY', enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY', requireAttestationsBy: []}

export function attest(attestors: string[], dry = false): AdmissionRule {
  return {
    evaluationMode: 'REQUIRE_ATTESTATION',
    enforcementMode: dry ? 'DRYRUN_AUDIT_LOG_ONLY' : 'ENFORCED_BLOCK_AND_AUDIT_LOG',
    requireAttestationsBy: attestors,
  }
}

export function policy(over: Partial<Policy> = {}): Policy {
  return {
    globalPolicyEvaluationMode: 'ENABLE',
    admissionWhitelistPatterns: [],
    clusterAdmissionRules: {},
    kubernetesNamespaceAdmissionRules: {},
    kubernetesServiceAccountAdmissionRules: {},
    istioServiceIdentityAdmissionRules: {},
    defaultAdmissionRule: allow,
    source: 'policy.yaml',
    ...over,
  }
}
