/**
 * `policy lint` and `policy explain`: gather the policy text (a file or the project's policy), the
 * audit history and the attestors the policy names, then the pure lintPolicy / explainRule
 * (docs/binauthz.md#policy-model, docs/binauthz.md#rule-selection).
 */
import {SafeDeployError} from '../core/errors.js'
import {requireClusterKey} from '../core/resource-names.js'
import {lintPolicy, type LintResult} from '../core/policy/lint.js'
import {explainRule, type RuleExplanation} from '../core/policy/evaluate.js'
import {parsePolicyText} from '../core/policy/parse.js'
import type {Platform} from '../core/policy/select.js'
import type {Attestor} from '../core/attestation/types.js'
import type {AttestorSource} from '../core/ports.js'
import {readAuditLog, type AuditReader} from './audit.js'
import {lintPlatformPolicy, type PlatformLintResult} from '../core/platform-policy/lint.js'
import {explainPlatformPolicy, type PlatformExplanation} from '../core/platform-policy/explain.js'
import {parsePlatformPolicyText} from '../core/platform-policy/parse.js'

/** The policy as text, so findings carry its line numbers; `file` names it in messages. */
export interface PolicyTextSource {
  read(): Promise<{text: string; file: string}>
}

export interface PolicyLintOptions {
  /** The audit log was named on the command line, so it must exist (a missing default log only means no history). */
  requireAuditLog?: boolean | undefined
  /** Where the policy is used; Cloud Run findings are not raised for GKE, and back. Default: both. */
  platform?: 'gke' | 'cloudrun' | undefined
}

export interface PolicyLintPorts {
  policy: PolicyTextSource
  audit: AuditReader<unknown>
  /** Where the attestors the policy names are looked up; undefined: they are not checked. */
  attestors?: AttestorSource | undefined
}

export async function policyLint(options: PolicyLintOptions, ports: PolicyLintPorts): Promise<LintResult> {
  const {text, file} = await ports.policy.read()
  const audit = await auditHistory(options, ports.audit)
  let attestors: Map<string, Attestor | undefined> | undefined
  if (ports.attestors) {
    attestors = new Map()
    for (const name of attestorsNamed(text, file)) {
      try {
        attestors.set(name, await ports.attestors.getAttestor(name))
      } catch (err) {
        // An attestor that does not exist is a finding of lint's own, not a failure to check.
        if (err instanceof SafeDeployError && err.code === 'ATTESTOR_UNKNOWN') attestors.set(name, undefined)
        else throw err
      }
    }
  }
  return lintPolicy({
    text,
    file,
    ...(audit ? {audit} : {missingAuditLog: ports.audit.file}),
    ...(attestors ? {attestors} : {}),
    ...(options.platform ? {platform: options.platform} : {}),
  })
}

/**
 * How many dry-run decisions the audit log holds. No log at all: no history to judge, so
 * W_ENFORCED_WITHOUT_DRYRUN is not checked (undefined).
 */
async function auditHistory(
  options: PolicyLintOptions,
  log: AuditReader<unknown>,
): Promise<{records: number; dryRunDecisions: number; file: string} | undefined> {
  const read = await readAuditLog(log, options.requireAuditLog === true)
  if (!read) return undefined
  const dry = (read.records as Array<{images?: Array<{rule?: {enforcementMode?: string}; verdict?: string}>}>).filter((r) =>
    (r.images ?? []).some((i) => i.rule?.enforcementMode === 'DRYRUN_AUDIT_LOG_ONLY' || i.verdict === 'DRYRUN_DENY'),
  ).length
  return {records: read.records.length, dryRunDecisions: dry, file: log.file}
}

/** The attestors the policy's rules require, each once (a policy that does not parse names none: lint reports it). */
function attestorsNamed(text: string, file: string): Set<string> {
  try {
    const p = parsePolicyText(text, file)
    return new Set(
      [
        p.defaultAdmissionRule,
        ...Object.values(p.clusterAdmissionRules),
        ...Object.values(p.kubernetesNamespaceAdmissionRules),
        ...Object.values(p.kubernetesServiceAccountAdmissionRules),
        ...Object.values(p.istioServiceIdentityAdmissionRules),
      ].flatMap((r) => r.requireAttestationsBy),
    )
  } catch {
    return new Set()
  }
}

export interface PolicyExplainOptions {
  platform: Platform
  /** LOCATION.NAME */
  cluster?: string | undefined
  namespace?: string | undefined
  serviceAccount?: string | undefined
  istioIdentity?: string | undefined
  /** Also show which allowlist patterns match this image. */
  image?: string | undefined
}

export interface PolicyExplainPorts {
  policy: PolicyTextSource
  /** Google's system allowlist: the built-in approximate list or an exported system policy. */
  systemAllowlist(): {patterns: string[]; approximate: boolean}
}

export async function policyExplain(options: PolicyExplainOptions, ports: PolicyExplainPorts): Promise<RuleExplanation> {
  if (options.cluster !== undefined) requireClusterKey(options.cluster)
  const {text, file} = await ports.policy.read()
  const policy = parsePolicyText(text, file)
  return explainRule(
    policy,
    {
      platform: options.platform,
      ...(options.cluster ? {cluster: options.cluster} : {}),
      ...(options.namespace ? {namespace: options.namespace} : {}),
      ...(options.serviceAccount ? {serviceAccount: options.serviceAccount} : {}),
      ...(options.istioIdentity ? {istioIdentity: options.istioIdentity} : {}),
      systemAllowlist: ports.systemAllowlist(),
    },
    options.image,
  )
}

// GKE platform policies (docs/platform-policy.md#lint, #explain): the policy file only; nothing else is read.

export async function platformPolicyLint(ports: {policy: PolicyTextSource}): Promise<PlatformLintResult> {
  return lintPlatformPolicy(await ports.policy.read())
}

export interface PlatformPolicyExplainOptions {
  /** Classic-only scopes: refused rather than ignored (check sets are scoped by namespace and service account only). */
  cluster?: string | undefined
  istioIdentity?: string | undefined
  namespace?: string | undefined
  serviceAccount?: string | undefined
  image?: string | undefined
}

/** An invalid policy throws POLICY_INVALID (exit 7) with every problem listed, as the parser reports them. */
export async function platformPolicyExplain(options: PlatformPolicyExplainOptions, ports: {policy: PolicyTextSource}): Promise<PlatformExplanation> {
  const classicOnly = [options.cluster !== undefined ? '--cluster' : '', options.istioIdentity !== undefined ? '--istio-identity' : ''].filter(Boolean)
  if (classicOnly.length > 0)
    throw new SafeDeployError('USAGE', `${classicOnly.join(', ')}: a platform policy's check sets are scoped by namespace and service account only`, {
      hint: 'the cluster selects which platform policy applies (its Binary Authorization config); give -n and --service-account',
    })
  const {text, file} = await ports.policy.read()
  return explainPlatformPolicy(parsePlatformPolicyText(text, file), {
    ...(options.namespace !== undefined ? {namespace: options.namespace} : {}),
    ...(options.serviceAccount !== undefined ? {serviceAccount: options.serviceAccount} : {}),
    ...(options.image !== undefined ? {image: options.image} : {}),
  })
}
