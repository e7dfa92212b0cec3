/**
 * The pre-flight's trust material: the policy, attestors and attestations as files when given,
 * else from the Binary Authorization and Container Analysis APIs of the project (the Google
 * clients are loaded only then).
 */
import {SafeDeployError} from '../core/errors.js'
import type {AttestationSource, AttestorSource, PolicySource} from '../core/ports.js'
import {FilePolicySource, DirAttestorSource, DirAttestationSource} from './fs/trust.js'
import type {GcpEndpoints} from './gcp/clients.js'
import {stringify} from 'yaml'
import {GKE_POLICY_NAME_RE} from '../core/platform-policy/parse.js'
import {readTextFile} from './fs/files.js'

export interface TrustPaths {
  policy?: string
  attestors?: string
  attestations?: string
  /** The project whose APIs hold what is not given as a file. */
  project?: string
}

export interface TrustSources {
  policy: PolicySource
  attestors: AttestorSource
  attestations: AttestationSource
  close(): Promise<void>
}

/** Files when given, else the Google APIs of the project (loaded lazily: only then are the clients paid for). */
/**
 * The project whose APIs serve what is not given as a file (also what `attest` hints name). With a
 * policy file in force, the attestors and attestations not given as directories still come from the
 * target project's APIs (a profile with `policy:` and `project:` needs no --attestors).
 */
export function apiProject(trust: TrustPaths, targetProject: string | undefined): string | undefined {
  return trust.project ?? (trust.policy ? targetProject : undefined)
}

export async function openTrustSources(trust: TrustPaths, endpoints: GcpEndpoints, targetProject?: string): Promise<TrustSources> {
  const {policy: policyFile, attestors: attestorsDir, attestations: attestationsDir} = trust
  const project = apiProject(trust, targetProject)
  if (!policyFile && !project) {
    throw new SafeDeployError('USAGE', 'no policy: give --policy FILE or --project PROJECT', {
      hint: 'export one with `gcloud container binauthz policy export > policy.yaml`, or let safe-deploy read it with --project',
    })
  }
  if (policyFile && attestorsDir && attestationsDir) {
    return {
      policy: new FilePolicySource(policyFile),
      attestors: new DirAttestorSource(attestorsDir),
      attestations: new DirAttestationSource(attestationsDir),
      close: async () => {},
    }
  }
  if (!project) {
    throw new SafeDeployError(
      'USAGE',
      `${!attestorsDir ? '--attestors DIR' : '--attestations DIR'} is required with --policy unless --project is given (to read them from the APIs)`,
    )
  }
  const {gcpTrustSources} = await import('./gcp/clients.js')
  const gcp = await gcpTrustSources(project, endpoints)
  return {
    policy: policyFile ? new FilePolicySource(policyFile) : gcp.policy,
    attestors: attestorsDir ? new DirAttestorSource(attestorsDir) : gcp.attestors,
    attestations: attestationsDir ? new DirAttestationSource(attestationsDir) : gcp.attestations,
    close: () => gcp.close(),
  }
}

/**
 * A GKE platform policy as text with lines: a file, or `projects/P/platforms/gke/policies/NAME` read from the Binary
 * Authorization API and written as YAML (the shape `gcloud … policy describe --format=yaml` prints), as the classic
 * policy is for lint and explain. The Google client is loaded only for a resource name.
 */
export async function readPlatformPolicy(ref: string, endpoints: GcpEndpoints): Promise<{text: string; file: string}> {
  const m = GKE_POLICY_NAME_RE.exec(ref)
  if (!m) return {text: readTextFile(ref, 'platform policy file', {location: true}), file: ref}
  const [{BinauthzApi}, {gcpOptions}] = await Promise.all([import('./gcp/binauthz.js'), import('./gcp/clients.js')])
  const api = new BinauthzApi({project: m[1] as string, ...(await gcpOptions(endpoints.binauthzEndpoint, endpoints.insecure, endpoints.timeoutMs))})
  return {text: stringify(await api.getPlatformPolicyJson(ref)), file: `${ref} (as YAML)`}
}

/** A platform policy named as an API resource rather than a file. */
export function isPlatformPolicyName(ref: string): boolean {
  return GKE_POLICY_NAME_RE.test(ref)
}
