/**
 * Evidence files (docs/evidence.md): `evidence collect` is the pre-flight's own wiring with recording ports
 * (src/app/evidence.ts); `preflight --evidence` is the pre-flight's options with every port answered from the file.
 * A replay builds no registry client, no Google client and no Kubernetes client: nothing it does can reach a network.
 */
import {SafeDeployError} from '../core/errors.js'
import {
  evidenceAttestations,
  evidenceAttestors,
  evidencePlatformFactPorts,
  evidenceResolved,
  evidenceResolver,
  evidenceSignatureSource,
  parseEvidenceText,
  type Evidence,
} from '../core/evidence.js'
import {parsePolicyObject} from '../core/policy/parse.js'
import {parsePlatformPolicyObject, parsePlatformPolicyText} from '../core/platform-policy/parse.js'
import type {CustomImageRule} from '../core/manifest/types.js'
import type {PlatformPolicyMode} from '../core/platform-policy/preflight.js'
import type {PolicySource} from '../core/ports.js'
import {readTextFile, requirePath} from '../adapters/fs/files.js'
import {FilePolicySource} from '../adapters/fs/trust.js'
import {readSignatureRequirement} from '../adapters/fs/sigstore-material.js'
import {isPlatformPolicyName} from '../adapters/trust-sources.js'
import type {PreflightOptions, PreflightPorts, TrustSources} from '../app/preflight.js'
import type {CollectOptions, CollectPorts} from '../app/evidence.js'
import type {Settings} from './options.js'
import {noClassicTrust, preflightSetup, type PreflightWiringFlags} from './wiring.js'
import {systemClock} from './wiring-trust.js'

export {systemClock}

/** `evidence collect`: the pre-flight's wiring, without reviewer context (it never changes a verdict, so it is no fact). */
export function collectSetup(
  flags: PreflightWiringFlags,
  settings: Settings,
  rules: readonly CustomImageRule[],
  debug: (l: string) => void,
): {options: CollectOptions; ports: CollectPorts} {
  const {options, ports} = preflightSetup(flags, settings, rules, debug)
  const {addContext: _context, ...rest} = ports
  return {options: {preflight: options}, ports: {...rest, clock: systemClock}}
}

export interface ReplayFlags extends PreflightWiringFlags {
  evidence: string
  at?: string | undefined
  'platform-policy-mode'?: string | undefined
  'builder-keys'?: string | undefined
  'kms-endpoint'?: string | undefined
}

/** Flags that name a source of facts: with --evidence the facts come from the file, so they would be ignored; refused instead. */
const FACT_FLAGS = [
  'attestors',
  'attestations',
  'lock',
  'vulnerabilities',
  'binauthz-endpoint',
  'containeranalysis-endpoint',
  'artifactregistry-endpoint',
  // The evidence carries the builder keys it was collected with, PEM included (a KMS key is not fetched offline).
  'builder-keys',
  'kms-endpoint',
] as const

export function readEvidence(file: string): Evidence {
  requirePath({flag: '--evidence', path: file, kind: 'file', hint: 'write one with `safe-deploy evidence collect -f … -o evidence.json`'})
  return parseEvidenceText(readTextFile(file, 'evidence file', {location: true}), file)
}

/**
 * `preflight --evidence FILE`: the policies given as files (--policy, --platform-policy, or the profile's), else those
 * stored in the evidence; freshness at --at, else at the evidence's collectedAt.
 */
export function replaySetup(
  flags: ReplayFlags,
  settings: Settings,
  rules: readonly CustomImageRule[],
  debug: (l: string) => void,
  platform: {mode: PlatformPolicyMode; at?: Date | undefined},
): {options: PreflightOptions; ports: PreflightPorts; evidence: Evidence} {
  const given = FACT_FLAGS.filter((f) => flags[f] !== undefined && flags[f] !== false)
  if (given.length > 0)
    throw new SafeDeployError('USAGE', `--evidence replays the facts in the file: ${given.map((f) => `--${f}`).join(', ')} cannot be combined with it`, {
      hint: 'collect the evidence with those sources (`safe-deploy evidence collect … -o evidence.json`), then replay it alone',
    })
  const platformFile = settings.platformPolicy?.file
  if (platformFile !== undefined && isPlatformPolicyName(platformFile))
    throw new SafeDeployError('USAGE', `--evidence replays without network access: the platform policy ${platformFile} would be read from the API`, {
      hint: 'give the policy as a file (`gcloud beta container binauthz policy describe … --platform=gke --format=yaml`), or use the one stored in the evidence',
    })
  const evidence = readEvidence(flags.evidence)
  const source = evidence.source
  const classic: PolicySource | undefined = settings.trust.policy
    ? new FilePolicySource(settings.trust.policy)
    : evidence.policies.classic
      ? {getPolicy: () => Promise.resolve(parsePolicyObject(evidence.policies.classic, `${source}#policies.classic`))}
      : undefined
  const stored = evidence.policies.platform
  if (classic === undefined && platformFile === undefined && stored === undefined)
    throw new SafeDeployError(
      'USAGE',
      `no policy to evaluate: give --policy FILE or --platform-policy FILE, or use evidence that stores them (${source} has none)`,
    )
  // The registry and Google APIs are never asked: the settings without the trust sources that would open them.
  const {attestors: _a, attestations: _b, ...trustFiles} = settings.trust
  const {platformPolicy: _p, ...rest} = settings
  const offline: Settings = {...rest, trust: trustFiles}
  // --no-resolve: the registry resolver is not even built; the evidence's resolver replaces it.
  const base = preflightSetup({...flags, project: undefined, vulnerabilities: undefined, 'no-resolve': true}, offline, rules, debug)
  const platformPolicy = platformFile !== undefined || stored !== undefined
  const stray = [...(platform.at !== undefined ? ['--at'] : []), ...(flags['platform-policy-mode'] !== undefined ? ['--platform-policy-mode'] : [])]
  if (!platformPolicy && stray.length > 0)
    throw new SafeDeployError('USAGE', `${stray.join(', ')} without a platform policy (${source} stores none)`, {hint: 'add --platform-policy FILE'})
  const sig = settings.signatures
  const options: PreflightOptions = {
    ...base.options,
    resolve: flags['no-resolve'] !== true && evidenceResolved(evidence),
    // Digests are replayed, not looked up again: no drift check against the registry.
    replayingLock: true,
    ...(platformPolicy ? {platformPolicy: {mode: platform.mode, now: platform.at ?? evidence.collectedAt}} : {}),
  }
  const ports: PreflightPorts = {
    reader: base.ports.reader,
    resolver: evidenceResolver(evidence),
    openTrust: async () => {
      // The Sigstore libraries load only when signatures are required (docs/architecture.md#start-up).
      const prepareRequirement = sig ? (await import('../core/signatures/requirement.js')).prepareRequirement : undefined
      const trust: TrustSources = {
        ...(classic ? {policy: classic, attestors: evidenceAttestors(evidence), attestations: evidenceAttestations(evidence)} : noClassicTrust()),
        ...(sig && prepareRequirement
          ? {signatures: {requirement: prepareRequirement(readSignatureRequirement(sig)), source: evidenceSignatureSource(evidence)}}
          : {}),
        ...(platformPolicy
          ? {
              platformPolicy: {
                policy:
                  platformFile !== undefined
                    ? parsePlatformPolicyText(readTextFile(platformFile, 'platform policy file', {location: true}), platformFile)
                    : parsePlatformPolicyObject(stored, `${source}#policies.platform`),
                facts: evidencePlatformFactPorts(evidence),
              },
            }
          : {}),
        close: () => Promise.resolve(),
      }
      return trust
    },
  }
  return {options, ports, evidence}
}
