/** `policy lint` and `policy explain` composition: read the policy (file or API), audit history, attestors. */
import {stringify} from 'yaml'
import {SafeDeployError} from '../core/errors.js'
import {lintPolicy, type LintResult} from '../core/policy/lint.js'
import {explainRule, type RuleExplanation} from '../core/policy/evaluate.js'
import {parsePolicyText} from '../core/policy/parse.js'
import type {Attestor} from '../core/attestation/types.js'
import {DirAttestorSource} from '../adapters/fs/trust.js'
import {AuditLog, defaultAuditPath} from '../adapters/fs/audit.js'
import {fileExists, readTextFile} from '../adapters/fs/files.js'
import {systemAllowlist} from './wiring.js'
import type {AttestorSource} from '../core/ports.js'

export interface PolicyInputFlags {
  file?: string | undefined
  project?: string | undefined
  attestors?: string | undefined
  'audit-log'?: string | undefined
  'binauthz-endpoint'?: string | undefined
  'api-insecure'?: boolean | undefined
}

async function policyText(flags: PolicyInputFlags): Promise<{text: string; file: string; attestorSource?: AttestorSource; close: () => Promise<void>}> {
  if (flags.file) {
    return {text: readTextFile(flags.file, 'policy file', {code: 'USAGE', reason: 'errno'}), file: flags.file, close: async () => {}}
  }
  if (!flags.project) throw new SafeDeployError('USAGE', 'give a policy FILE or --project PROJECT')
  const {gcpTrustSources} = await import('./gcp.js')
  const gcp = await gcpTrustSources(flags.project, {
    ...(flags['binauthz-endpoint'] ? {binauthzEndpoint: flags['binauthz-endpoint']} : {}), insecure: flags['api-insecure'] === true,
  })
  const policy = await gcp.policy.getPolicy()
  const {source: _s, notes: _n, project: _p, ...rest} = policy
  const clean = JSON.parse(JSON.stringify(rest, (k, v) => (k === 'line' ? undefined : v))) as Record<string, unknown>
  return {text: stringify(clean), file: `projects/${flags.project}/policy (as YAML)`, attestorSource: gcp.attestors, close: () => gcp.close()}
}

export async function runLint(flags: PolicyInputFlags): Promise<LintResult> {
  const src = await policyText(flags)
  try {
    const auditPath = flags['audit-log'] ?? defaultAuditPath(process.env)
    let audit: {records: number; dryRunDecisions: number; file: string} | undefined
    if (fileExists(auditPath)) {
      const {records} = await new AuditLog(auditPath).readAll()
      const dry = (records as Array<{images?: Array<{rule?: {enforcementMode?: string}; verdict?: string}>}>).filter((r) =>
        (r.images ?? []).some((i) => i.rule?.enforcementMode === 'DRYRUN_AUDIT_LOG_ONLY' || i.verdict === 'DRYRUN_DENY')).length
      audit = {records: records.length, dryRunDecisions: dry, file: auditPath}
    } else if (flags['audit-log']) {
      throw new SafeDeployError('USAGE', `--audit-log ${auditPath} does not exist`, {hint: 'give the audit log that apply/run deploy write (default: $XDG_STATE_HOME/safe-deploy/audit.jsonl), or omit --audit-log'})
    }
    // No audit log at all: no history to judge, so W_ENFORCED_WITHOUT_DRYRUN is not checked (audit stays undefined).
    let attestors: Map<string, Attestor | undefined> | undefined
    const attestorSource: AttestorSource | undefined = flags.attestors ? new DirAttestorSource(flags.attestors) : src.attestorSource
    if (attestorSource) {
      // Which attestors does the policy name? Parse once (errors are reported by lint itself).
      let names: string[] = []
      try {
        const p = parsePolicyText(src.text, src.file)
        names = [p.defaultAdmissionRule, ...Object.values(p.clusterAdmissionRules), ...Object.values(p.kubernetesNamespaceAdmissionRules),
          ...Object.values(p.kubernetesServiceAccountAdmissionRules), ...Object.values(p.istioServiceIdentityAdmissionRules)].flatMap((r) => r.requireAttestationsBy)
      } catch { names = [] }
      attestors = new Map()
      for (const name of new Set(names)) {
        try {
          attestors.set(name, await attestorSource.getAttestor(name))
        } catch (err) {
          if (err instanceof SafeDeployError && err.code === 'ATTESTOR_UNKNOWN') attestors.set(name, undefined)
          else throw err
        }
      }
    }
    return lintPolicy({text: src.text, file: src.file, ...(audit ? {audit} : {}), ...(attestors ? {attestors} : {})})
  } finally {
    await src.close()
  }
}

export interface ExplainFlags extends PolicyInputFlags {
  platform?: string | undefined
  cluster?: string | undefined
  namespace?: string | undefined
  'service-account'?: string | undefined
  'istio-identity'?: string | undefined
  image?: string | undefined
  'system-policy'?: string | undefined
}

export async function runExplain(flags: ExplainFlags): Promise<RuleExplanation> {
  // As preflight: a cluster key that is not LOCATION.NAME can never match a rule, so it would silently explain the default rule.
  if (flags.cluster !== undefined && !/^[^.\s]+\.[^\s]+$/.test(flags.cluster)) {
    throw new SafeDeployError('USAGE', `--cluster expects LOCATION.NAME (e.g. us-central1.prod), got "${flags.cluster}"`)
  }
  const src = await policyText(flags)
  try {
    const policy = parsePolicyText(src.text, src.file)
    return explainRule(policy, {
      platform: (flags.platform ?? 'gke') as 'gke' | 'cloudrun',
      ...(flags.cluster ? {cluster: flags.cluster} : {}), ...(flags.namespace ? {namespace: flags.namespace} : {}),
      ...(flags['service-account'] ? {serviceAccount: flags['service-account']} : {}),
      ...(flags['istio-identity'] ? {istioIdentity: flags['istio-identity']} : {}),
      systemAllowlist: systemAllowlist(flags['system-policy']),
    }, flags.image)
  } finally {
    await src.close()
  }
}
