/**
 * One options step: flags > environment (oclif reads the `env:` of each flag) > profile > defaults,
 * resolved once per command into typed settings. Nothing else reads a profile or falls back from a
 * flag to it; commands and use cases get these settings, never the kebab-case flag bag.
 */
import {SafeDeployError} from '../core/errors.js'
import type {RegistryMirror} from '../adapters/registry/index.js'
import {DEFAULT_TIMEOUT_MS} from '../adapters/gcp/common.js'
import type {Profile} from '../core/config.js'
import type {GcloudDefaults} from '../core/gcloud-config.js'

/** The flags any command may carry that a profile can also set (kebab-case, as oclif parses them). */
export interface ProfileBackedFlags {
  target?: string | undefined
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
  'sigstore-key'?: string[] | undefined
  'sigstore-identity'?: string | undefined
  'sigstore-identity-regexp'?: string | undefined
  'sigstore-issuer'?: string | undefined
  'sigstore-trusted-root'?: string | undefined
  'sigstore-attestation-type'?: string[] | undefined
  'sigstore-repository'?: string | undefined
  'platform-policy'?: string | undefined
  'platform-policy-mode'?: string | undefined
  /** Flag only (a profile has no clock): when the platform policy's freshness is evaluated. */
  at?: string | undefined
  /** Flag only: the keys slsaCheck verifies Cloud Build provenance with. */
  'builder-keys'?: string | undefined
}

/** The registry signature requirement in force (docs/sigstore.md): files named, not yet read. */
export interface SignatureSettings {
  keys: string[]
  identities: Array<{subject?: string; subjectRegexp?: string; issuer: string}>
  trustedRoot?: string
  attestationTypes: string[]
  /** host/path where signatures are stored instead of the image's repository. */
  repository?: string
}

export interface Settings {
  /** Where it deploys (--target, profile `target:`); the image platform (--platform os/arch) is a registry setting. */
  target: 'gke' | 'cloudrun'
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
  /** Present when a key or an identity is given (flags, else the profile's requireSignatures): that is what turns the requirement on. */
  signatures?: SignatureSettings
  /** A GKE platform policy file (flag, else profile) and whether its verdict is enforced or only reported. */
  platformPolicy?: {file: string; mode: 'enforce' | 'monitor'; at?: Date; builderKeys?: string}
}

/**
 * Resolve the settings of one invocation (flags already include their environment variables). gcloud's
 * own defaults (CLOUDSDK_CORE_PROJECT, GOOGLE_CLOUD_PROJECT, CLOUDSDK_RUN_REGION, the active gcloud
 * configuration) come last, after the profile: a repository's profile is more specific than the machine.
 */
export function resolveSettings(flags: ProfileBackedFlags, profile: Profile | undefined, gcloud: GcloudDefaults = {}): Settings {
  const p: Partial<Profile> = {...(gcloud.project ? {project: gcloud.project} : {}), ...(gcloud.region ? {region: gcloud.region} : {}), ...profile}
  const defined = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
    (value === undefined ? {} : {[key]: value}) as Partial<Record<K, V>>
  const policy = flags.policy ?? (flags.project ? undefined : p.policy)
  const project = flags.project ?? p.project
  return {
    target: (flags.target ?? p.target ?? 'gke') as Settings['target'],
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
    ...defined('signatures', signatureSettings(flags, p.requireSignatures)),
    ...defined('platformPolicy', platformPolicySettings(flags, p)),
  }
}

/**
 * The signature requirement: each --sigstore-* flag wins over the profile's key of the same meaning.
 * Giving a key or an identity turns it on, as `cosign verify --key` does; the other settings alone
 * mean nothing and are refused rather than silently ignored.
 */
function signatureSettings(flags: ProfileBackedFlags, profile: Profile['requireSignatures']): SignatureSettings | undefined {
  const subject = flags['sigstore-identity']
  const subjectRegexp = flags['sigstore-identity-regexp']
  const issuer = flags['sigstore-issuer']
  if ((subject !== undefined || subjectRegexp !== undefined) !== (issuer !== undefined)) {
    throw new SafeDeployError('USAGE', 'a keyless signer is named by --sigstore-identity (or --sigstore-identity-regexp) together with --sigstore-issuer', {
      hint: 'e.g. --sigstore-identity https://github.com/ORG/REPO/.github/workflows/release.yml@refs/heads/main --sigstore-issuer https://token.actions.githubusercontent.com',
    })
  }
  const flagIdentity = issuer === undefined ? [] : [{...(subject !== undefined ? {subject} : {subjectRegexp: subjectRegexp as string}), issuer}]
  const keys = flags['sigstore-key'] ?? profile?.keys ?? []
  const identities = issuer !== undefined ? flagIdentity : (profile?.identities ?? [])
  const trustedRoot = flags['sigstore-trusted-root'] ?? profile?.trustedRoot
  const attestationTypes = flags['sigstore-attestation-type'] ?? profile?.attestationTypes ?? []
  const repository = flags['sigstore-repository'] ?? profile?.repository
  if (keys.length === 0 && identities.length === 0) {
    const stray = (['sigstore-trusted-root', 'sigstore-attestation-type', 'sigstore-repository'] as const).filter((f) => flags[f] !== undefined)
    if (stray.length > 0)
      throw new SafeDeployError('USAGE', `${stray.map((f) => `--${f}`).join(', ')} without a signer to verify with`, {
        hint: 'add --sigstore-key FILE (a cosign public key), or --sigstore-identity/--sigstore-issuer with --sigstore-trusted-root',
      })
    return undefined
  }
  return {
    keys,
    identities,
    ...(trustedRoot !== undefined ? {trustedRoot} : {}),
    attestationTypes,
    ...(repository !== undefined ? {repository} : {}),
  }
}

/** --platform-policy and its mode, each over the profile's key; a mode without a policy is refused rather than ignored. */
function platformPolicySettings(flags: ProfileBackedFlags, p: Partial<Profile>): Settings['platformPolicy'] {
  const file = flags['platform-policy'] ?? p.platformPolicy
  const mode = flags['platform-policy-mode'] ?? p.platformPolicyMode ?? 'enforce'
  if (mode !== 'enforce' && mode !== 'monitor') throw new SafeDeployError('USAGE', `--platform-policy-mode expects enforce or monitor, got "${mode}"`)
  if (file === undefined) {
    const stray = (['platform-policy-mode', 'at', 'builder-keys'] as const).filter((f) => flags[f] !== undefined)
    if (stray.length > 0)
      throw new SafeDeployError('USAGE', `${stray.map((f) => `--${f}`).join(', ')} without a platform policy`, {hint: 'add --platform-policy FILE'})
    return undefined
  }
  const at = flags.at === undefined ? undefined : parseAtFlag(flags.at)
  const builderKeys = flags['builder-keys']
  return {file, mode, ...(at !== undefined ? {at} : {}), ...(builderKeys !== undefined ? {builderKeys} : {})}
}

/** --at: RFC 3339 with its offset (a time without one would be read in the machine's zone). */
export function parseAtFlag(value: string): Date {
  const at = new Date(value)
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value) || Number.isNaN(at.getTime()))
    throw new SafeDeployError('USAGE', `--at expects an RFC 3339 time with its offset, e.g. 2026-11-27T12:00:00Z, got "${value}"`)
  return at
}

/** The values of --target (init also takes `both`): where a command deploys. */
const TARGET_VALUES: ReadonlySet<string> = new Set(['gke', 'cloudrun', 'both'])

/** What a command's flags mean: the --target values it takes (none: no target) and whether --platform is the image platform. */
export interface FlagSpellingSpec {
  targets: readonly string[]
  imagePlatform: boolean
  /** --target was not given (oclif filled in its default): a deprecated --platform gke|cloudrun may set it. */
  targetFromDefault?: boolean
}

/**
 * One meaning per flag name: --target gke|cloudrun[|both] is where it deploys, --platform os/arch[/variant]
 * the image platform. The old spellings are accepted for one release, each with a warning: a --platform
 * value of gke/cloudrun/both on a command with --target means --target (the two value sets are disjoint:
 * an image platform always has a `/`), and --image-platform X means --platform X. Resolved here, once,
 * for every command (BaseCommand.parse), before anything reads the flags.
 */
export function resolveFlagSpellings<F extends Record<string, unknown>>(flags: F, spec: FlagSpellingSpec): {flags: F; warnings: string[]} {
  const out: Record<string, unknown> = {...flags}
  const warnings: string[] = []
  const platform = out.platform
  if (typeof platform === 'string' && spec.targets.length > 0 && TARGET_VALUES.has(platform)) {
    if (!spec.targets.includes(platform)) {
      throw new SafeDeployError('USAGE', `--platform ${platform} is not a target here: use --target ${spec.targets.join('|')}`)
    }
    const given = spec.targetFromDefault === true ? undefined : out.target
    if (given !== undefined && given !== platform) {
      throw new SafeDeployError('USAGE', `--platform ${platform} (deprecated: the target) contradicts --target ${String(given)}`, {
        hint: `give only --target ${String(given)}`,
      })
    }
    warnings.push(`--platform ${platform} is deprecated: use --target ${platform}`)
    out.target = platform
    out.platform = undefined
  }
  const imagePlatform = out['image-platform']
  if (typeof imagePlatform === 'string') {
    if (out.platform !== undefined && out.platform !== imagePlatform) {
      throw new SafeDeployError('USAGE', `--image-platform ${imagePlatform} (deprecated) contradicts --platform ${String(out.platform)}`, {
        hint: `give only --platform ${imagePlatform}`,
      })
    }
    warnings.push(`--image-platform ${imagePlatform} is deprecated: use --platform ${imagePlatform}`)
    out.platform = imagePlatform
    out['image-platform'] = undefined
  }
  if (typeof out.platform === 'string') {
    if (!spec.imagePlatform) {
      throw new SafeDeployError('USAGE', `--platform ${out.platform}: this command has no image platform`, {
        ...(spec.targets.length > 0 ? {hint: `--target ${spec.targets.join('|')} names where it deploys`} : {}),
      })
    }
    if (!/^[a-z0-9._-]+\/[a-z0-9._-]+(\/[a-z0-9._-]+)?$/i.test(out.platform.trim())) {
      throw new SafeDeployError('USAGE', `--platform expects an image platform os/arch[/variant] (e.g. linux/arm64), got "${out.platform}"`, {
        hint: spec.targets.length > 0 ? `where it deploys is --target ${spec.targets.join('|')}` : 'the image platform as docker and crane take it',
      })
    }
  }
  return {flags: out as F, warnings}
}

/** The registry flags (pin, preflight, apply, run, attest). */
export interface RegistryFlags {
  'registry-ca-cert'?: string | undefined
  'insecure-registry'?: string[] | undefined
  'registry-mirror'?: string[] | undefined
  concurrency: number
  'registry-timeout': number
  retries: number
  'registry-http2'?: boolean | undefined
}

export interface RegistrySettings {
  concurrency: number
  timeoutMs: number
  retries: number
  /** Offer HTTP/2 to TLS registries (ALPN h2). */
  http2: boolean
  insecureRegistries: string[]
  mirrors: Map<string, RegistryMirror>
  caCertFile?: string
}

export function registrySettings(flags: RegistryFlags): RegistrySettings {
  return {
    concurrency: flags.concurrency,
    timeoutMs: flags['registry-timeout'] * 1000,
    retries: flags.retries,
    http2: flags['registry-http2'] !== false,
    insecureRegistries: flags['insecure-registry'] ?? [],
    mirrors: parseMirrors(flags['registry-mirror']),
    ...(flags['registry-ca-cert'] ? {caCertFile: flags['registry-ca-cert']} : {}),
  }
}

/** `--registry-mirror FROM=TO` values, parsed once into what the registry client uses. */
export function parseMirrors(values: string[] | undefined): Map<string, RegistryMirror> {
  const out = new Map<string, RegistryMirror>()
  for (const v of values ?? []) {
    const i = v.indexOf('=')
    const to = v.slice(i + 1)
    const host = to.replace(/^https?:\/\//, '').replace(/\/+$/, '')
    if (i <= 0 || host === '') {
      throw new SafeDeployError('USAGE', `--registry-mirror expects FROM=TO (e.g. docker.io=mirror.example.com:5000), got "${v}"`)
    }
    out.set(v.slice(0, i), {host, ...(to.startsWith('http://') ? {insecure: true} : {})})
  }
  return out
}

/** `--api-timeout SECONDS`: the deadline of each Google API call, in ms, as the gcp adapters take it (GcpOptions.timeoutMs). */
export function apiTimeoutMs(flags: {'api-timeout'?: number | undefined}): number {
  const seconds = flags['api-timeout']
  return seconds === undefined ? DEFAULT_TIMEOUT_MS : seconds * 1000
}

/** The manifest input flags (-f, -R, -k) as the use cases take them. */
export function manifestInputs(flags: {filename?: string[] | undefined; recursive?: boolean | undefined; kustomize?: string[] | undefined}) {
  return {files: flags.filename ?? [], recursive: flags.recursive === true, kustomizeDirs: flags.kustomize ?? []}
}

/** kubectl's `-o` formats: the --json document (json), the same as YAML, `kind/name` lines, the human table with more columns. */
export const OUTPUT_FORMATS = ['json', 'yaml', 'name', 'wide'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

/**
 * The one decision of what a command prints as its result: `-o FORMAT` (also `-oFORMAT`, `-o=FORMAT`,
 * `--output FORMAT`, `--output=FORMAT`), `--json` as `-o json`, nothing for the default human output.
 * Read from argv rather than parsed flags because oclif asks whether output is JSON before parsing
 * (and when parsing fails: the error document must follow the format asked for). Arguments after `--`
 * belong to kubectl. An unknown value is left to oclif's parser (`options`), which reports it.
 */
export function outputFormat(argv: readonly string[]): OutputFormat | undefined {
  const end = argv.indexOf('--')
  const args = end === -1 ? argv : argv.slice(0, end)
  let format: string | undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    if (a === '--json') format = 'json'
    else if (a === '-o' || a === '--output') format = args[++i]
    else if (a.startsWith('--output=')) format = a.slice('--output='.length)
    else if (a.startsWith('-o=')) format = a.slice(3)
    else if (/^-o[a-z]+$/.test(a)) format = a.slice(2)
  }
  return (OUTPUT_FORMATS as readonly string[]).includes(format ?? '') ? (format as OutputFormat) : undefined
}

/** json and yaml print the --json document (and the error document) instead of the human output. */
export function isDocumentFormat(format: OutputFormat | undefined): format is 'json' | 'yaml' {
  return format === 'json' || format === 'yaml'
}
