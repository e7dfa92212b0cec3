/**
 * Binary Authorization check-based platform policies (GKE continuous validation), docs/platform-policy.md.
 * The policy as parsed (docs/platform-policy.md#policy-files), the facts a caller gathers for each image before evaluating (docs/platform-policy.md#facts),
 * and the result shape of the JSON section (docs/platform-policy.md#evaluation, reduced to what the reports show).
 *
 * Facts are plain data: an absent fact means "not collected", which the evaluator turns into ERROR, never into
 * CONFORMANT (docs/platform-policy.md#assumptions-the-inferred-and-open-points, "unknown ≠ pass").
 */
import type {AttestationOccurrence} from '../attestation/types.js'

// ---------------------------------------------------------------------------------------------------------------
// Policy (docs/platform-policy.md#policy-files)

/** A pattern of an `imageAllowlist.allowPattern` list, with its line when read from a file. */
export interface AllowPattern {
  pattern: string
  line?: number
}

/** `ImageAllowlist` (docs/platform-policy.md#policy-files): the same message at policy, check-set and check level. */
export interface ImageAllowlist {
  allowPattern: AllowPattern[]
  line?: number
}

/** `Scope` (docs/platform-policy.md#policy-files): at most one of the two; none = the default check set. */
export type Scope = {kind: 'serviceAccount'; namespace: string; serviceAccount: string; value: string} | {kind: 'namespace'; namespace: string}

export const SEVERITIES = ['BLOCK_ALL', 'MINIMAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'ALLOW_ALL'] as const
/** `VulnerabilityCheck.MaximumAllowedSeverity` without `…_UNSPECIFIED`, which the parser rejects (docs/platform-policy.md#policy-files). */
export type MaximumAllowedSeverity = (typeof SEVERITIES)[number]

export interface PkixPublicKey {
  publicKeyPem: string
  signatureAlgorithm: string
  /** As written, or the default `ni:///sha-256;…` id the server fills in (docs/platform-policy.md#policy-files, INFERRED form; see keyIdComputed). */
  keyId: string
  keyIdComputed: boolean
}

export interface AttestationAuthenticator {
  displayName?: string
  pkixPublicKeys: PkixPublicKey[]
}

export interface SigstoreAuthority {
  displayName?: string
  publicKeys: Array<{publicKeyPem: string}>
}

export interface SlsaRule {
  trustedBuilder: 'GOOGLE_CLOUD_BUILD'
  /** `attestationSource.containerAnalysisAttestationProjects`, `projects/ID`. */
  attestationProjects: string[]
  configBasedBuildRequired: boolean
  trustedSourceRepoPatterns: string[]
  customConstraints?: string
  line?: number
}

/** The seven check kinds, named by their field in `Check` (docs/platform-policy.md#policy-files). */
export type CheckKind =
  | 'alwaysDeny'
  | 'trustedDirectoryCheck'
  | 'imageFreshnessCheck'
  | 'simpleSigningAttestationCheck'
  | 'sigstoreSignatureCheck'
  | 'slsaCheck'
  | 'vulnerabilityCheck'

export const CHECK_KINDS: readonly CheckKind[] = [
  'alwaysDeny',
  'trustedDirectoryCheck',
  'imageFreshnessCheck',
  'simpleSigningAttestationCheck',
  'sigstoreSignatureCheck',
  'slsaCheck',
  'vulnerabilityCheck',
]

/**
 * The `type` string of a check result (docs/platform-policy.md#evaluation, DOC-FRESH "Check types"). The always-deny string is not
 * documented ([OPEN], docs/platform-policy.md#assumptions-the-inferred-and-open-points): `AlwaysDenyCheck` follows the pattern of the others.
 */
export const CHECK_TYPE: Readonly<Record<CheckKind, string>> = {
  alwaysDeny: 'AlwaysDenyCheck',
  trustedDirectoryCheck: 'TrustedDirectoryCheck',
  imageFreshnessCheck: 'ImageFreshnessCheck',
  simpleSigningAttestationCheck: 'SimpleSigningAttestationCheck',
  sigstoreSignatureCheck: 'SigstoreSignatureCheck',
  slsaCheck: 'SlsaCheck',
  vulnerabilityCheck: 'VulnerabilityCheck',
}

export type CheckSpec =
  | {kind: 'alwaysDeny'}
  | {kind: 'trustedDirectoryCheck'; trustedDirPatterns: string[]}
  | {kind: 'imageFreshnessCheck'; maxUploadAgeDays: number}
  | {kind: 'simpleSigningAttestationCheck'; attestationAuthenticators: AttestationAuthenticator[]; containerAnalysisAttestationProjects: string[]}
  | {kind: 'sigstoreSignatureCheck'; sigstoreAuthorities: SigstoreAuthority[]}
  | {kind: 'slsaCheck'; rules: SlsaRule[]}
  | {
      kind: 'vulnerabilityCheck'
      maximumFixableSeverity: MaximumAllowedSeverity
      maximumUnfixableSeverity: MaximumAllowedSeverity
      allowedCves: string[]
      blockedCves: string[]
      containerAnalysisVulnerabilityProjects: string[]
    }

export type Check = CheckSpec & {
  displayName?: string
  imageAllowlist?: ImageAllowlist
  line?: number
}

export interface CheckSet {
  displayName?: string
  /** Undefined: the default (unscoped) check set. */
  scope?: Scope
  imageAllowlist?: ImageAllowlist
  checks: Check[]
  line?: number
}

export interface GkePolicy {
  imageAllowlist?: ImageAllowlist
  /** Empty: "always allow" (docs/platform-policy.md#policy-files). */
  checkSets: CheckSet[]
}

export interface PlatformPolicy {
  /** `projects/P/platforms/gke/policies/ID`, output only. */
  name?: string
  description?: string
  etag?: string
  updateTime?: string
  gkePolicy: GkePolicy
  /** Where it came from: a file path or a resource name. */
  source: string
  /** What the parser accepted as gcloud does but normalised (scalar → list, mapping → list, "30" → 30), or assumed. */
  notes: string[]
}

// ---------------------------------------------------------------------------------------------------------------
// Pods (docs/platform-policy.md#evaluation)

export interface PodImage {
  /** As written in the manifest: allowlists and trusted directories are matched against this string. */
  image: string
  /** The resolved digest when the written reference has none (a pinned tag); the written digest wins when both exist. */
  digest?: string
  container: string
  init?: boolean
  ephemeral?: boolean
}

export interface PodToEvaluate {
  name: string
  /** Absent: `--image` alone (gcloud's GeneratePodSpecFromImages): only the default check set applies (docs/platform-policy.md#evaluation). */
  namespace?: string
  serviceAccount?: string
  images: PodImage[]
}

// ---------------------------------------------------------------------------------------------------------------
// Facts (docs/platform-policy.md#facts)

/** What one project gave for one kind of fact: the items, or why they could not be read (→ ERROR). */
export type ProjectFact<T> = {status: 'found'; items: T[]} | {status: 'error'; message: string}

/** Artifact Registry `DockerImage.uploadTime` for the digest (docs/platform-policy.md#facts). */
export type UploadTimeFact =
  | {status: 'found'; uploadTime: string}
  /** Not an Artifact Registry / Container Registry image, or not found there: ERROR (docs/platform-policy.md#facts, INFERRED). */
  | {status: 'not-found'; message: string}
  | {status: 'error'; message: string}

/**
 * A DSSE envelope as Grafeas v1 stores it beside an occurrence (`Occurrence.envelope`), in the REST JSON form: bytes
 * as base64 (standard or URL-safe alphabet). Only `payload` is signed: the evaluator trusts nothing else of a BUILD
 * occurrence (docs/platform-policy.md#slsacheck-and-builder-keys).
 */
export interface DsseEnvelopeFact {
  payloadType: string
  /** base64 of the payload bytes (an in-toto statement). */
  payload: string
  signatures: Array<{keyid: string; sig: string}>
}

/**
 * One BUILD occurrence (Cloud Build provenance) as Container Analysis returns it, reduced to what slsaCheck reads:
 * plain values, so an evidence file can carry it as listed (docs/platform-policy.md#slsacheck-and-builder-keys).
 */
export interface BuildOccurrenceFact {
  /** `projects/P/occurrences/ID`, for messages. */
  name: string
  resourceUri: string
  noteName?: string
  /** Absent: the occurrence carries no signed provenance, so it cannot be verified (ERROR, never CONFORMANT). */
  envelope?: DsseEnvelopeFact
}

/**
 * A public key trusted to sign build provenance (`--builder-keys FILE`), matched to a DSSE envelope signature's
 * `keyid` exactly. The same shape as an evidence file's `builderKeys`.
 */
export interface BuilderKey {
  keyId: string
  publicKeyPem: string
}

/**
 * An entry of the `--builder-keys` file: a key, or only the `keyId` of a Cloud KMS key version
 * (`projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N`) whose public key is read with getPublicKey
 * before evaluating, so the facts always carry the PEM.
 */
export interface BuilderKeySpec {
  keyId: string
  publicKeyPem?: string
}

export type Severity = 'SEVERITY_UNSPECIFIED' | 'MINIMAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL'

/** One VULNERABILITY occurrence, reduced to what the check reads (docs/platform-policy.md#facts). */
export interface VulnerabilityFact {
  /** `projects/goog-vulnz/notes/CVE-2021-20305`: the note id (last segment) is what allowedCves/blockedCves name. */
  noteName: string
  effectiveSeverity?: Severity
  severity?: Severity
  /** `VulnerabilityOccurrence.fixAvailable`; absent: unknown (the stricter threshold applies). */
  fixAvailable?: boolean
}

/** DISCOVERY and VULNERABILITY occurrences of one project. */
export interface VulnerabilityScanFact {
  /** `discovery.analysisStatus` of every DISCOVERY occurrence (FINISHED_SUCCESS, COMPLETE, PENDING, …). */
  discoveryStatuses: string[]
  vulnerabilities: VulnerabilityFact[]
  /**
   * The occurrences the scan was reduced from, in REST form (name, kind, resourceUri, noteName and the fields the check
   * reads), when the source has them: what `evidence collect` records (docs/evidence.md#format).
   */
  occurrences?: Array<Record<string, unknown>>
}

/** A verdict computed elsewhere (src/core/signatures verifySignatures) for one digest and one key set. */
export interface SigstoreVerdictFact {
  satisfied: boolean
  couldNotCheck: boolean
  reason: string
}

/** Everything gathered for one artifact `name@sha256:…` (artifactKey). Absent fields were not collected. */
export interface ArtifactFacts {
  uploadTime?: UploadTimeFact
  /** ATTESTATION occurrences (classic AttestationOccurrence form) by project `projects/ID`. */
  attestations?: Readonly<Record<string, ProjectFact<AttestationOccurrence>>>
  /** BUILD occurrences (Cloud Build provenance) by project `projects/ID`. */
  provenance?: Readonly<Record<string, ProjectFact<BuildOccurrenceFact>>>
  /** Vulnerability scans by project `projects/ID`; the fact of one project is its single scan summary. */
  vulnerabilities?: Readonly<Record<string, {status: 'found'; scan: VulnerabilityScanFact} | {status: 'error'; message: string}>>
  /** Sigstore verdicts keyed by sigstoreKeySetKey(check). */
  sigstore?: Readonly<Record<string, SigstoreVerdictFact>>
}

export interface PlatformFacts {
  /** Keyed by artifactKey(name, digest). */
  artifacts: Readonly<Record<string, ArtifactFacts>>
  /** The keys provenance signatures are verified with; absent: none given (a provenance is then ERROR, "pass --builder-keys"). */
  builderKeys?: readonly BuilderKey[]
}

/** The key of an artifact in PlatformFacts: the written name (no tag) and the digest evaluated. */
export function artifactKey(name: string, digest: string): string {
  return `${name}@${digest}`
}

// ---------------------------------------------------------------------------------------------------------------
// Results (issue #14 "JSON"; docs/platform-policy.md#evaluation)

export type PlatformVerdict = 'CONFORMANT' | 'NON_CONFORMANT' | 'ERROR'
export type CheckVerdict = PlatformVerdict | 'ALLOWLISTED'

export interface CheckResult {
  index: number
  displayName: string
  /** The `type` string (docs/platform-policy.md#evaluation). */
  kind: string
  verdict: CheckVerdict
  explanation: string
}

export interface Exemption {
  /** Which allowlist exempted the image: the policy's or the selected check set's. */
  level: 'policy' | 'checkSet'
  pattern: string
}

export interface ImageResult {
  image: string
  /** The digest evaluated (written, else resolved), null for a tag that was not resolved. */
  digest: string | null
  container: string
  init: boolean
  verdict: PlatformVerdict
  exemption: Exemption | null
  checks: CheckResult[]
  /** Assumptions ([INFERRED]/[OPEN] points taken on the conservative side) and other remarks. */
  notes: string[]
}

export interface PodResult {
  name: string
  namespace: string | null
  serviceAccount: string | null
  verdict: PlatformVerdict
  checkSetIndex: number | null
  checkSetDisplayName: string | null
  images: ImageResult[]
}

export interface PlatformEvaluation {
  verdict: PlatformVerdict
  pods: PodResult[]
  notes: string[]
}
