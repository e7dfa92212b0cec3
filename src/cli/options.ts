/**
 * One options step: flags > environment (oclif reads the `env:` of each flag) > profile > defaults,
 * resolved once per command into typed settings. Nothing else reads a profile or falls back from a
 * flag to it; commands and use cases get these settings, never the kebab-case flag bag.
 */
import type {Profile} from './config.js'

/** The flags any command may carry that a profile can also set (kebab-case, as oclif parses them). */
export interface ProfileBackedFlags {
  platform?: string | undefined
  context?: string | undefined
  kubeconfig?: string | undefined
  namespace?: string | undefined
  cluster?: string | undefined
  project?: string | undefined
  region?: string | undefined
  policy?: string | undefined
  'system-policy'?: string | undefined
  attestors?: string | undefined
  attestations?: string | undefined
  'audit-log'?: string | undefined
  'report-md'?: string | undefined
  'report-junit'?: string | undefined
  'service-account'?: string | undefined
  applier?: string | undefined
  'require-enforcement'?: boolean | undefined
}

export interface Settings {
  platform: 'gke' | 'cloudrun'
  kube: {kubeconfig?: string; context?: string; namespace?: string; applier?: string}
  cluster?: string
  project?: string
  region?: string
  /**
   * Trust sources. A profile's policy file is not used when --project names the project on the
   * command line (the API policy was asked for), and a profile's project is not used to read the
   * policy when a policy file is in force.
   */
  trust: {policy?: string; project?: string; systemPolicy?: string; attestors?: string; attestations?: string}
  auditLog?: string
  reportMd?: string
  reportJunit?: string
  serviceAccount?: string
  requireEnforcement: boolean
}

/** Resolve the settings of one invocation (flags already include their environment variables). */
export function resolveSettings(flags: ProfileBackedFlags, profile: Profile | undefined): Settings {
  const p: Partial<Profile> = profile ?? {}
  const defined = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
    (value === undefined ? {} : {[key]: value}) as Partial<Record<K, V>>
  const policy = flags.policy ?? (flags.project ? undefined : p.policy)
  const project = flags.project ?? p.project
  return {
    platform: (flags.platform ?? p.platform ?? 'gke') as Settings['platform'],
    kube: {
      ...defined('kubeconfig', flags.kubeconfig ?? p.kubeconfig),
      ...defined('context', flags.context ?? p.context),
      ...defined('namespace', flags.namespace ?? p.namespace),
      ...defined('applier', flags.applier ?? p.applier),
    },
    ...defined('cluster', flags.cluster ?? p.cluster),
    ...defined('project', project),
    ...defined('region', flags.region ?? p.region),
    trust: {
      ...defined('policy', policy),
      ...defined('project', flags.project ?? (policy ? undefined : p.project)),
      ...defined('systemPolicy', flags['system-policy'] ?? p.systemPolicy),
      ...defined('attestors', flags.attestors ?? p.attestors),
      ...defined('attestations', flags.attestations ?? p.attestations),
    },
    ...defined('auditLog', flags['audit-log'] ?? p.auditLog),
    ...defined('reportMd', flags['report-md'] ?? p.reportMd),
    ...defined('reportJunit', flags['report-junit'] ?? p.reportJunit),
    ...defined('serviceAccount', flags['service-account'] ?? p.serviceAccount),
    requireEnforcement: flags['require-enforcement'] === true || p.requireEnforcement === true,
  }
}
