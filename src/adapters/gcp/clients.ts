/**
 * Google API composition (loaded lazily: only commands that talk to Google pay for the clients).
 * With `insecure` (local test servers only) a fixed local token stands in for ADC.
 */
import {SafeDeployError} from '../../core/errors.js'
import {parseOccurrences} from '../../core/attestation/parse.js'
import {BinauthzApi} from './binauthz.js'
import {ContainerAnalysisAttestations} from './containeranalysis.js'
import {artifactRegistryLocation} from './artifactregistry.js'
import type {GcpOptions} from './common.js'
import type {AttestationOccurrence} from '../../core/attestation/types.js'
import type {AttestationSource, AttestorSource, PolicySource} from '../../core/ports.js'

export interface GcpEndpoints {
  binauthzEndpoint?: string
  containerAnalysisEndpoint?: string
  insecure?: boolean
  /** Deadline of each call in ms (--api-timeout; default 30 s). */
  timeoutMs?: number
}

function hostPort(endpoint: string): string {
  return endpoint.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '')
}

/** GcpOptions for an endpoint override (and the local-test insecure mode), with the per-call deadline. */
export async function gcpOptions(endpoint: string | undefined, insecure: boolean | undefined, timeoutMs?: number): Promise<GcpOptions> {
  const o: GcpOptions = {}
  if (endpoint) o.endpoint = hostPort(endpoint)
  if (timeoutMs !== undefined) o.timeoutMs = timeoutMs
  if (insecure) {
    if (!endpoint || !/^(127\.|localhost|\[::1\])/.test(hostPort(endpoint))) {
      throw new SafeDeployError('USAGE', '--api-insecure is only allowed with a loopback endpoint (local test servers)')
    }
    o.insecure = true
    const {OAuth2Client} = await import('google-auth-library')
    const client = new OAuth2Client()
    client.setCredentials({access_token: 'local-test-token', expiry_date: Date.now() + 3600_000})
    o.authClient = client
  }
  return o
}

export async function gcpTrustSources(
  project: string,
  e: GcpEndpoints,
): Promise<{policy: PolicySource; attestors: AttestorSource; attestations: AttestationSource; close(): Promise<void>}> {
  const binauthz = new BinauthzApi({project, ...(await gcpOptions(e.binauthzEndpoint, e.insecure, e.timeoutMs))})
  const ca = new ContainerAnalysisAttestations(await gcpOptions(e.containerAnalysisEndpoint, e.insecure, e.timeoutMs))
  return {policy: binauthz, attestors: binauthz, attestations: ca, close: () => ca.close()}
}

/** Store a REST-form occurrence (as buildOccurrence makes it) in Container Analysis, idempotently. */
export async function storeOccurrence(
  project: string,
  occurrence: object,
  e: GcpEndpoints,
  /** Is an existing look-alike occurrence still valid? Only then is creating a new one skipped. */
  isExistingValid?: (existing: AttestationOccurrence) => Promise<boolean>,
): Promise<{created: boolean; name?: string}> {
  const [occ] = parseOccurrences(occurrence, 'new attestation')
  if (!occ) throw new SafeDeployError('INTERNAL', 'built occurrence did not parse')
  const ca = new ContainerAnalysisAttestations(await gcpOptions(e.containerAnalysisEndpoint, e.insecure, e.timeoutMs))
  try {
    const r = await ca.createAttestationOccurrence(
      project,
      {
        resourceUri: occ.resourceUri,
        noteName: occ.noteName,
        serializedPayload: occ.serializedPayload,
        signatures: occ.signatures,
      },
      isExistingValid ? {isExistingValid} : {},
    )
    return {created: r.created, ...(r.occurrence.name ? {name: r.occurrence.name} : {})}
  } finally {
    await ca.close()
  }
}

/** Reviewer context (Artifact Registry facts, vulnerability counts): clients opened only when asked. */
export function reviewerContextSources(e: GcpEndpoints & {artifactRegistryEndpoint?: string}) {
  // Local test mode (--api-insecure) never falls back to Google's real endpoints.
  const usable = (endpoint: string | undefined): boolean => e.insecure !== true || endpoint !== undefined
  return {
    isArtifactRegistry: (ref: string) => artifactRegistryLocation(ref) !== undefined,
    openRepositoryFacts: async () => {
      if (!usable(e.artifactRegistryEndpoint)) return undefined
      const {ArtifactRegistryApi} = await import('./artifactregistry.js')
      return new ArtifactRegistryApi(await gcpOptions(e.artifactRegistryEndpoint, e.insecure, e.timeoutMs))
    },
    openVulnerabilities: async () => {
      if (!usable(e.containerAnalysisEndpoint)) return undefined
      const {ContainerAnalysisAttestations} = await import('./containeranalysis.js')
      return new ContainerAnalysisAttestations(await gcpOptions(e.containerAnalysisEndpoint, e.insecure, e.timeoutMs))
    },
  }
}
