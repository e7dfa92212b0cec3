/**
 * Wiring for audit and policy lint/explain: the adapters behind the ports of src/app/audit.ts and src/app/policy.ts,
 * built from the command's flags. Google clients are loaded (and created) only when a port is first asked, so a
 * command that never reaches the API never loads them.
 */
import {stringify} from 'yaml'
import {SafeDeployError} from '../core/errors.js'
import type {AttestorSource, Clock} from '../core/ports.js'
import {DirAttestorSource} from '../adapters/fs/trust.js'
import {AuditLog, defaultAuditPath} from '../adapters/fs/audit.js'
import {fileExists, readTextFile} from '../adapters/fs/files.js'
import type {BinauthzApi} from '../adapters/gcp/binauthz.js'
import type {AuditProblem, AuditReader} from '../app/audit.js'
import type {PolicyExplainPorts, PolicyLintPorts, PolicyTextSource} from '../app/policy.js'
import type {AuditRecord} from './audit.js'
import {systemAllowlist} from './preflight.js'

interface ApiFlags {
  'binauthz-endpoint'?: string | undefined
  'api-insecure'?: boolean | undefined
}

/** The Binary Authorization API of a project, created on first use (the project is checked then). */
function binauthz(project: () => string, flags: ApiFlags): () => Promise<BinauthzApi> {
  let api: Promise<BinauthzApi> | undefined
  return () => (api ??= (async () => {
    const [{BinauthzApi}, {gcpOptions}] = await Promise.all([import('../adapters/gcp/binauthz.js'), import('./gcp.js')])
    return new BinauthzApi({project: project(), ...(await gcpOptions(flags['binauthz-endpoint'], flags['api-insecure']))})
  })())
}

const apiAttestors = (api: () => Promise<BinauthzApi>): AttestorSource => ({getAttestor: async (name) => (await api()).getAttestor(name)})

// audit

/** The audit log at path (default: $XDG_STATE_HOME/safe-deploy/audit.jsonl); no file: undefined. */
export function auditReader(path: string | undefined): AuditReader<AuditRecord> {
  const file = path ?? defaultAuditPath(process.env)
  return {
    file,
    read: async () => (fileExists(file) ? (await new AuditLog(file).readAll()) as unknown as {records: AuditRecord[]; problems: AuditProblem[]} : undefined),
  }
}

export const systemClock: Clock = {now: () => new Date()}

// policy lint / explain

export interface PolicyFlags extends ApiFlags {
  file?: string | undefined
  project?: string | undefined
}

/** A policy FILE, or the project's policy from the API written as YAML (what lint and explain read, with lines). */
function policyText(flags: PolicyFlags, api: (() => Promise<BinauthzApi>) | undefined): PolicyTextSource {
  return {
    read: async () => {
      if (flags.file) return {text: readTextFile(flags.file, 'policy file', {code: 'USAGE', reason: 'errno'}), file: flags.file}
      if (!api) throw new SafeDeployError('USAGE', 'give a policy FILE or --project PROJECT')
      const {source: _s, notes: _n, project: _p, ...rest} = await (await api()).getPolicy()
      const clean = JSON.parse(JSON.stringify(rest, (k, v) => (k === 'line' ? undefined : v))) as Record<string, unknown>
      return {text: stringify(clean), file: `projects/${flags.project}/policy (as YAML)`}
    },
  }
}

const policyApi = (flags: PolicyFlags): (() => Promise<BinauthzApi>) | undefined =>
  !flags.file && flags.project ? binauthz(() => flags.project as string, flags) : undefined

export function policyLintPorts(flags: PolicyFlags & {attestors?: string | undefined; 'audit-log'?: string | undefined}): PolicyLintPorts {
  const api = policyApi(flags)
  const attestors = flags.attestors ? new DirAttestorSource(flags.attestors) : api ? apiAttestors(api) : undefined
  return {policy: policyText(flags, api), audit: auditReader(flags['audit-log']), ...(attestors ? {attestors} : {})}
}

export function policyExplainPorts(flags: PolicyFlags & {'system-policy'?: string | undefined}): PolicyExplainPorts {
  return {policy: policyText(flags, policyApi(flags)), systemAllowlist: () => systemAllowlist(flags['system-policy'])}
}
