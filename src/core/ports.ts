/**
 * One-method interfaces between the pure core and the outside world (docs/architecture.md#ports). Adapters
 * implement them; tests fake them with object literals.
 */
import type {SafeDeployError} from './errors.js'
import type {Attestor, AttestationOccurrence} from './attestation/types.js'
import type {Signer} from './attestation/sign.js'
import type {Policy} from './policy/types.js'
import type {ImageSite} from './manifest/types.js'
import type {ListedPod, OwnerObject} from './scan.js'
import type {PodEvent} from './scan-watch.js'
import type {AuditRecord} from './audit.js'
import type {SignatureArtifacts} from './signatures/types.js'

/** A reference to resolve: the normalized repository and the tag (or digest, for platform lookups). */
export interface ResolveRequest {
  /** The reference as written (used in messages). */
  image: string
  /** Normalized registry host, e.g. docker.io, gcr.io, 127.0.0.1:5000 */
  domain: string
  /** Normalized repository path, e.g. library/nginx */
  path: string
  /** Tag or digest to look up. */
  reference: string
}

export interface ResolvedImage {
  image: string
  /** sha256:… of the manifest (or index) the reference points to now; the platform child with --platform. */
  digest: string
  mediaType: string
  /** os/arch[/variant] when a platform child was selected. */
  platform?: string
  /** The index digest when a platform child was selected. */
  indexDigest?: string
  /** Registry host actually contacted (after mirror mapping). */
  registry: string
}

export type ResolveOutcome = {ok: true; value: ResolvedImage} | {ok: false; error: SafeDeployError}

export interface DigestResolver {
  /** Resolve every request (the adapter dedupes, bounds concurrency and retries). One outcome per request, same order. */
  resolveAll(requests: readonly ResolveRequest[]): Promise<ResolveOutcome[]>
  /**
   * Optional: start the lookups these image sites will need, while the rest of the input is still being
   * parsed (only the requests pinSites would make; resolveAll answers from them later).
   */
  prefetch?(sites: readonly ImageSite[]): void
  /** Optional: these requests will be made (a registry adapter can then fetch one token for several repositories). */
  announce?(requests: readonly ResolveRequest[]): void
}

/** One image digest whose registry signatures to gather (docs/sigstore.md). */
export interface SignatureRequest {
  /** The reference as written (used in messages). */
  image: string
  /** Normalized registry host of the image, e.g. 127.0.0.1:5000 */
  domain: string
  /** Normalized repository path, e.g. library/nginx */
  path: string
  /** sha256:… of the image being deployed. */
  digest: string
  /** Also read the legacy `sha256-<hex>.att` tag (some attestation type is required). */
  attestations: boolean
}

export interface SignatureSource {
  /**
   * What the registry holds for each digest, one SignatureArtifacts per request, same order. Never
   * rejects for a failed lookup: that is a Lookup with status 'error'. `repositoryOverride`
   * (--sigstore-repository, COSIGN_REPOSITORY) is searched instead of each image's repository.
   */
  read(requests: readonly SignatureRequest[], repositoryOverride?: {domain: string; path: string}): Promise<SignatureArtifacts[]>
}

export interface AttestationQuery {
  /** The attestor's note, projects/P/notes/N */
  noteName: string
  /** sha256:… */
  digest: string
}

export interface AttestationSource {
  /** Every ATTESTATION occurrence on the note for the digest. Throws SafeDeployError (API_ERROR…) when it cannot check. */
  listAttestations(query: AttestationQuery): Promise<AttestationOccurrence[]>
}

export interface PolicySource {
  getPolicy(): Promise<Policy>
}

export interface AttestorSource {
  /** Throws SafeDeployError ATTESTOR_UNKNOWN when the attestor does not exist. */
  getAttestor(name: string): Promise<Attestor>
}

export interface Clock {
  now(): Date
}

/**
 * Progress of a step that can take more than a second (resolving digests, checking attestations,
 * waiting for an API). The terminal implementation draws it on stderr; everywhere else it is a no-op.
 * Steps do not nest: `start` begins one, `done` ends it (also when it failed).
 */
export interface Progress {
  /** What is being done or waited for, and how many items there are when they are counted. */
  start(label: string, total?: number): void
  /** One item of the current step is done. */
  tick(): void
  done(): void
}

/** A manifest input as read: the path as given (`-` for stdin, `kustomize:DIR`, `helm:DIR`) and its text. */
export interface InputText {
  file: string
  text: string
}

/** Where manifests come from: files, directories, stdin, `kubectl kustomize` and `helm template` output. */
export interface ManifestInputs {
  files: string[]
  recursive: boolean
  kustomizeDirs: string[]
  /** Charts rendered with `helm template` (only the Argo CD plugin sets these, as Argo CD renders a Helm source). */
  helmCharts?: readonly HelmChartInput[]
}

/** One `helm template` run: what Argo CD passes for a Helm source, from the Application's build environment. */
export interface HelmChartInput {
  /** The chart directory (holds Chart.yaml). */
  dir: string
  /** --name-template: the Application's name. */
  release: string
  /** --namespace: the destination namespace; unset, helm's own default. */
  namespace?: string | undefined
  /** --values, in order, relative to the working directory. */
  valuesFiles: readonly string[]
  /** --kube-version: the destination cluster's version. */
  kubeVersion?: string | undefined
  /** --api-versions, each: the destination cluster's API versions. */
  apiVersions: readonly string[]
}

export interface InputReader {
  /** Read every input (bounded, strict UTF-8). Throws SafeDeployError naming the input that cannot be read. */
  read(inputs: ManifestInputs): Promise<InputText[]>
}

/**
 * What runs in a cluster, read-only (`scan`): every page of Pods (`limit`/`continue`), and the
 * ReplicaSets or Jobs that own them, with their own controller. Only get and list are ever sent.
 */
export interface PodLister {
  listPods(scope: {namespace?: string | undefined; selector?: string | undefined}): Promise<ListedPod[]>
  listOwners(kind: 'ReplicaSet' | 'Job', namespaces: readonly string[] | undefined): Promise<OwnerObject[]>
}

/**
 * `scan --watch`: the Pods in scope as events (data), until the signal aborts: first a full list, then
 * each change; a list again whenever the watch could not resume where it stopped. Read-only (list, watch).
 */
export interface PodWatcher {
  watchPods(scope: {namespace?: string | undefined; selector?: string | undefined}, signal: AbortSignal): AsyncIterable<PodEvent>
}

/** The audit log of deploy decisions (append-only). */
export interface AuditSink {
  append(record: AuditRecord): Promise<void>
}

// attest: signers and attestation stores

export type SignerKind = 'pkix' | 'kms' | 'pgp' | 'signature-file'

export interface AttestSigner extends Signer {
  kind: SignerKind
}

/** What a store receives: the occurrence to write and what makes it equivalent to one already there. */
export interface NewAttestation {
  /** The REST-form occurrence (as buildOccurrence makes it, what gcloud writes). */
  occurrence: object
  attestor: string
  noteName: string
  digest: string
  keyId: string
  /** Does the attestor still accept an existing look-alike occurrence? Only then may storing be skipped. */
  isExistingValid(existing: AttestationOccurrence): Promise<boolean>
}

export type StoredAt = {kind: 'container-analysis'; project: string; name?: string} | {kind: 'directory'; path: string}

export interface AttestationStore {
  /** Store it unless an equivalent occurrence is already there (created: false then). */
  store(attestation: NewAttestation): Promise<{stored: StoredAt; created: boolean}>
}

// Registry signatures (cosign / Sigstore): attest --sigstore

/** A key that signs bytes, with its public half (to verify before pushing, and as the bundle's key hint). */
export interface SigstoreSigner {
  /** How reports name it: the key file or the KMS key version. */
  name: string
  publicKeyPem: string
  sign(data: Uint8Array): Promise<Uint8Array>
}

/** Where signatures go: the registry, through the same credentials as pins (push scope). */
export interface SignaturePublisher {
  publishLegacySignature(req: {domain: string; path: string; digest: string; payload: Uint8Array; signature: string}): Promise<Published>
  publishLegacyAttestation(req: {domain: string; path: string; digest: string; envelope: Uint8Array; predicateType: string}): Promise<Published>
  /** `imageRepository`: where the image is when the bundle goes to another repository (its descriptor is read there). */
  publishBundle(req: {
    domain: string
    path: string
    digest: string
    bundle: Uint8Array
    predicateType: string
    imageRepository?: {domain: string; path: string}
  }): Promise<Published>
}

export interface Published {
  location: string
  created: boolean
}
