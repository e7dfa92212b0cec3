/**
 * Signatures stored in the registry beside the image (cosign / Sigstore), as data
 * (docs/sigstore.md). The registry adapter gathers `SignatureArtifacts` for each digest, exactly as
 * found; `verifySignatures` (pure, synchronous) turns them and a `SignatureRequirement` into a
 * `SignatureVerdict`. Nothing here reads the network or the disk.
 */

/** A PEM public key trusted for signatures (`--sigstore-key FILE`, repeatable: any one suffices). */
export interface TrustedSigstoreKey {
  /** How it is named in reports: the file as given. */
  name: string
  pem: string
}

/** A keyless signer: the Fulcio certificate's identity (SAN) and OIDC issuer. */
export interface TrustedIdentity {
  /** Exact SAN (`--sigstore-identity`), or */
  subject?: string
  /** a regular expression the SAN must match in full (`--sigstore-identity-regexp`). */
  subjectRegexp?: string
  /** The OIDC issuer (`--sigstore-issuer`), exact. */
  issuer: string
}

/** What a deploy requires of registry signatures. Giving a key or an identity turns it on. */
export interface SignatureRequirement {
  keys: TrustedSigstoreKey[]
  identities: TrustedIdentity[]
  /** The trusted-root JSON (`--sigstore-trusted-root FILE`, cosign's `--trusted-root`): needed for keyless. */
  trustedRoot?: {name: string; json: unknown}
  /** Predicate types of which a verified attestation is required (`--sigstore-attestation-type URI`). */
  attestationTypes: string[]
  /** Where signatures are stored instead of the image's repository (`--sigstore-repository`, COSIGN_REPOSITORY). */
  repository?: string
}

/** One lookup in the registry: what was asked, and what it gave. */
export type Lookup<T> =
  | {location: string; status: 'found'; items: T[]}
  /** Nothing there (404 on the tag, no referrers): not an error, just no signature of this format. */
  | {location: string; status: 'absent'}
  /** Could not be read (auth, 5xx, timeout, size limit, digest mismatch): never "unsigned", never "signed". */
  | {location: string; status: 'error'; code: string; message: string}

/** A layer of a legacy `sha256-<hex>.sig` manifest: the simple-signing payload and its annotations. */
export interface SimpleSigningLayer {
  /** The layer blob, verified against the layer digest. */
  payload: Uint8Array
  /** `dev.cosignproject.cosign/signature` (base64), as found. */
  signature: string
  /** `dev.sigstore.cosign/certificate` (PEM), keyless signatures. */
  certificate?: string
  /** `dev.sigstore.cosign/chain` (PEM). */
  chain?: string
  /** `dev.sigstore.cosign/bundle` (Rekor SET JSON), as found. */
  rekorBundle?: string
}

/** A layer of a legacy `sha256-<hex>.att` manifest: a DSSE envelope. */
export interface DsseLayer {
  /** The envelope JSON bytes, verified against the layer digest. */
  envelope: Uint8Array
  /** The `predicateType` annotation, as found (informational: the signed statement decides). */
  predicateType?: string
  certificate?: string
  chain?: string
}

/** A Sigstore bundle (v0.1–v0.3) found as an OCI 1.1 referrer (API or fallback tag). */
export interface BundleArtifact {
  /** The bundle JSON bytes, verified against the layer digest. */
  bundle: Uint8Array
  /** The referrer manifest's artifactType. */
  artifactType: string
  /** `dev.sigstore.bundle.predicateType` annotation, when present. */
  predicateType?: string
  /** The referrer manifest digest (for messages). */
  manifestDigest: string
}

/** Everything the registry holds for one image digest, in both formats. */
export interface SignatureArtifacts {
  /** The repository searched, `host/path` (the image's, or the --sigstore-repository override). */
  repository: string
  /** sha256:… of the image being deployed. */
  digest: string
  /** `<repository>:sha256-<hex>.sig` */
  legacySignatures: Lookup<SimpleSigningLayer>
  /** `<repository>:sha256-<hex>.att`; absent when no attestation type is required. */
  legacyAttestations?: Lookup<DsseLayer>
  /** Referrers API, or the `sha256-<hex>` fallback index when the registry has no API. */
  bundles: Lookup<BundleArtifact>
}

/** One signature or attestation found, and whether it counts. */
export interface SignatureCheck {
  format: 'simplesigning' | 'bundle'
  kind: 'signature' | 'attestation'
  /** Where it was found, e.g. `127.0.0.1:5000/app:sha256-….sig` or `…/app@sha256:… (referrer)`. */
  location: string
  verified: boolean
  /** The key (file name) or identity (`subject` from `issuer`) that verified it. */
  verifiedBy?: string
  /** Why it does not count, when it does not. */
  reason?: string
  /** Attestations: the predicate type of the signed statement. */
  predicateType?: string
}

export interface SignatureVerdict {
  /** Every requirement met: a verified signature, and a verified attestation of each required type. */
  satisfied: boolean
  /** Not satisfied, and some lookup failed: "could not check" (exit 4), never a denial nor an allow. */
  couldNotCheck: boolean
  signatures: SignatureCheck[]
  attestations: SignatureCheck[]
  /** One line: what is missing (or what verified). */
  reason: string
  /** Lookups that failed while another verified, thresholds in force (tlog, timestamps), and the like. */
  notes: string[]
  /** The failed lookups, for "could not check" messages. */
  failedLookups: Array<{location: string; code: string; message: string}>
}
