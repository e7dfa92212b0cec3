/**
 * REST JSON → core model converters used by the Binary Authorization adapter.
 *
 * TEMPORARY: these are small lenient stand-ins until `parsePolicyObject(obj, source)`
 * (core/policy/parse.ts) and `parseAttestor(json, source)` (core/attestation/parse.ts) land; then
 * both functions become one-line delegations and the strict validation lives in core only.
 */
import {SafeDeployError} from '../../core/errors.js'
import type {Attestor, AttestorPublicKey} from '../../core/attestation/types.js'
import type {AdmissionRule, EnforcementMode, EvaluationMode, GlobalPolicyEvaluationMode, Policy} from '../../core/policy/types.js'
import {arr, obj, projectOf, str} from './common.js'

const EVALUATION_MODES: readonly EvaluationMode[] = ['ALWAYS_ALLOW', 'REQUIRE_ATTESTATION', 'ALWAYS_DENY']
const ENFORCEMENT_MODES: readonly EnforcementMode[] = ['ENFORCED_BLOCK_AND_AUDIT_LOG', 'DRYRUN_AUDIT_LOG_ONLY']
const GLOBAL_MODES: readonly GlobalPolicyEvaluationMode[] = ['ENABLE', 'DISABLE', 'GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED']

function invalidPolicy(source: string, what: string): SafeDeployError {
  return new SafeDeployError('POLICY_INVALID', `${source}: ${what}`, {
    hint: 'check the policy with `gcloud container binauthz policy export`',
  })
}

function rule(v: unknown, source: string, path: string, project: string | undefined): AdmissionRule {
  const o = obj(v)
  if (!o) throw invalidPolicy(source, `${path}: expected an admission rule object`)
  const evaluationMode = o['evaluationMode']
  const enforcementMode = o['enforcementMode']
  if (!EVALUATION_MODES.includes(evaluationMode as EvaluationMode)) {
    throw invalidPolicy(source, `${path}.evaluationMode: expected one of ${EVALUATION_MODES.join(', ')}, got ${JSON.stringify(evaluationMode)}`)
  }
  if (!ENFORCEMENT_MODES.includes(enforcementMode as EnforcementMode)) {
    throw invalidPolicy(source, `${path}.enforcementMode: expected one of ${ENFORCEMENT_MODES.join(', ')}, got ${JSON.stringify(enforcementMode)}`)
  }
  const requireAttestationsBy = arr(o['requireAttestationsBy']).map((a) => {
    const name = String(a)
    return name.includes('/') || project === undefined ? name : `projects/${project}/attestors/${name}`
  })
  return {evaluationMode: evaluationMode as EvaluationMode, enforcementMode: enforcementMode as EnforcementMode, requireAttestationsBy}
}

function ruleMap(v: unknown, source: string, path: string, project: string | undefined): Record<string, AdmissionRule> {
  const out: Record<string, AdmissionRule> = {}
  for (const [k, r] of Object.entries(obj(v) ?? {})) out[k] = rule(r, source, `${path}.${k}`, project)
  return out
}

/** REST v1 Policy JSON → Policy. `source` is e.g. `projects/P/policy`. */
export function policyFromJson(json: unknown, source: string): Policy {
  const o = obj(json)
  if (!o) throw invalidPolicy(source, 'expected a JSON object')
  const name = str(o['name'])
  const project = projectOf(name ?? source)
  const gpe = o['globalPolicyEvaluationMode'] ?? 'GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED'
  if (!GLOBAL_MODES.includes(gpe as GlobalPolicyEvaluationMode)) {
    throw invalidPolicy(source, `globalPolicyEvaluationMode: expected one of ${GLOBAL_MODES.join(', ')}, got ${JSON.stringify(gpe)}`)
  }
  const description = str(o['description'])
  return {
    ...(name === undefined ? {} : {name}),
    ...(description === undefined ? {} : {description}),
    globalPolicyEvaluationMode: gpe as GlobalPolicyEvaluationMode,
    admissionWhitelistPatterns: arr(o['admissionWhitelistPatterns']).map((p) => ({namePattern: String(obj(p)?.['namePattern'] ?? '')})),
    clusterAdmissionRules: ruleMap(o['clusterAdmissionRules'], source, 'clusterAdmissionRules', project),
    kubernetesNamespaceAdmissionRules: ruleMap(o['kubernetesNamespaceAdmissionRules'], source, 'kubernetesNamespaceAdmissionRules', project),
    kubernetesServiceAccountAdmissionRules: ruleMap(o['kubernetesServiceAccountAdmissionRules'], source, 'kubernetesServiceAccountAdmissionRules', project),
    istioServiceIdentityAdmissionRules: ruleMap(o['istioServiceIdentityAdmissionRules'], source, 'istioServiceIdentityAdmissionRules', project),
    defaultAdmissionRule: rule(o['defaultAdmissionRule'], source, 'defaultAdmissionRule', project),
    source,
  }
}

function invalidAttestor(source: string, what: string): SafeDeployError {
  return new SafeDeployError('ATTESTOR_INVALID', `${source}: ${what}`, {hint: 'check it with `gcloud container binauthz attestors describe`'})
}

/** REST v1 (userOwnedGrafeasNote) or v1beta1 (userOwnedDrydockNote) Attestor JSON → Attestor. */
export function attestorFromJson(json: unknown, source: string): Attestor {
  const o = obj(json)
  if (!o) throw invalidAttestor(source, 'expected a JSON object')
  const name = str(o['name'])
  if (name === undefined) throw invalidAttestor(source, 'missing name')
  const note = obj(o['userOwnedGrafeasNote']) ?? obj(o['userOwnedDrydockNote'])
  const noteReference = str(note?.['noteReference'])
  if (noteReference === undefined) throw invalidAttestor(source, 'missing userOwnedGrafeasNote.noteReference')
  const publicKeys: AttestorPublicKey[] = arr(note?.['publicKeys']).map((k, i) => {
    const ko = obj(k) ?? {}
    const id = str(ko['id']) ?? ''
    const comment = str(ko['comment'])
    const c = comment === undefined ? {} : {comment}
    const pkix = obj(ko['pkixPublicKey'])
    const pgp = str(ko['asciiArmoredPgpPublicKey'])
    if (pkix) {
      return {kind: 'pkix', id, ...c, publicKeyPem: str(pkix['publicKeyPem']) ?? '', signatureAlgorithm: str(pkix['signatureAlgorithm']) ?? 'SIGNATURE_ALGORITHM_UNSPECIFIED'}
    }
    if (pgp !== undefined) return {kind: 'pgp', id, ...c, asciiArmoredPgpPublicKey: pgp}
    throw invalidAttestor(source, `publicKeys[${i}]: expected pkixPublicKey or asciiArmoredPgpPublicKey`)
  })
  const description = str(o['description'])
  return {name, ...(description === undefined ? {} : {description}), noteReference, publicKeys, source}
}
