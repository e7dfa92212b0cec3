/** Flags shared by pin, preflight, apply, run and attest: one definition each. */
import {Flags} from '@oclif/core'
import {DEFAULT_TIMEOUT_MS} from '../adapters/gcp/common.js'
import {OUTPUT_FORMATS, type OutputFormat} from './options.js'

export const inputFlags = {
  filename: Flags.string({char: 'f', multiple: true, description: 'manifest file, directory, or - for stdin (repeatable)', helpGroup: 'INPUT'}),
  recursive: Flags.boolean({char: 'R', description: 'process directories given with -f recursively', helpGroup: 'INPUT'}),
  kustomize: Flags.string({char: 'k', multiple: true, description: 'kustomization directory (rendered with `kubectl kustomize`)', helpGroup: 'INPUT'}),
  config: Flags.string({description: 'safe-deploy config file (default: ./.safe-deploy.yaml when present)', helpGroup: 'INPUT'}),
  profile: Flags.string({description: 'profile from the config file (e.g. prod)', env: 'SAFE_DEPLOY_PROFILE', helpGroup: 'INPUT'}),
}

export const registryFlags = {
  'registry-ca-cert': Flags.string({description: 'PEM file with a private CA to trust for registries', helpGroup: 'REGISTRY'}),
  'insecure-registry': Flags.string({multiple: true, description: 'HOST[:PORT] reached over plain HTTP (repeatable; never implied)', helpGroup: 'REGISTRY'}),
  'registry-mirror': Flags.string({
    multiple: true,
    description: "FROM=TO: resolve FROM's references through the mirror TO; output keeps FROM's names (repeatable)",
    helpGroup: 'REGISTRY',
  }),
  concurrency: Flags.integer({default: 16, min: 1, max: 256, description: 'registry requests in flight', helpGroup: 'REGISTRY'}),
  'registry-timeout': Flags.integer({default: 15, min: 1, description: 'per-request registry timeout in seconds', helpGroup: 'REGISTRY'}),
  retries: Flags.integer({default: 4, min: 0, max: 10, description: 'retries on 429/5xx/timeouts (exponential backoff with jitter)', helpGroup: 'REGISTRY'}),
  'registry-http2': Flags.boolean({
    default: true,
    allowNo: true,
    description: 'offer HTTP/2 to TLS registries (--concurrency streams on one connection); --no-registry-http2: HTTP/1.1 only',
    helpGroup: 'REGISTRY',
  }),
}

export const pinFlags = {
  'strip-tag': Flags.boolean({description: 'write name@sha256:… instead of name:tag@sha256:…', helpGroup: 'PIN'}),
  lock: Flags.string({description: 'replay digests from this lock file; no registry calls; fails on any image missing from it', helpGroup: 'PIN'}),
  'lock-output': Flags.string({description: 'write a lock file (tag, digest, registry, platform, time)', helpGroup: 'PIN'}),
}

/**
 * One meaning per flag name: --platform is the image platform (os/arch[/variant], as docker and crane
 * take it), --target where it deploys. The old spellings (--image-platform, and --platform gke|cloudrun
 * where there is a --target) are hidden flags resolved with a warning in one place (options.ts resolveFlagSpellings).
 */
export const imagePlatformFlags = (
  helpGroup: string | undefined,
  description = 'pin the child manifest of a multi-arch index for os/arch[/variant] (default: the index digest)',
) => ({
  platform: Flags.string({description, ...(helpGroup === undefined ? {} : {helpGroup})}),
  'image-platform': Flags.string({description: 'deprecated: use --platform', hidden: true}),
})

/** The deprecated --platform of the commands without an image platform: only the old target values. */
export const deprecatedTargetPlatformFlag = (options: readonly string[]) =>
  Flags.string({options: [...options], description: 'deprecated: use --target', hidden: true})

export const targetFlags = {
  target: Flags.string({
    options: ['gke', 'cloudrun'],
    description: 'where it deploys: gke or cloudrun (Cloud Run evaluates the default rule only) [default: gke]',
    helpGroup: 'TARGET',
  }),
  cluster: Flags.string({description: 'LOCATION.NAME for cluster rules (default: derived from a gke_PROJECT_LOCATION_NAME kube context)', helpGroup: 'TARGET'}),
  namespace: Flags.string({
    char: 'n',
    description: 'namespace for documents that name none (then the context default, then "default"); a document naming another one is refused, as kubectl does',
    helpGroup: 'TARGET',
  }),
  context: Flags.string({description: 'kubeconfig context (default: current context)', helpGroup: 'TARGET'}),
  kubeconfig: Flags.string({description: 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)', helpGroup: 'TARGET'}),
  'istio-identity': Flags.string({description: 'SPIFFE identity for istioServiceIdentityAdmissionRules', helpGroup: 'TARGET'}),
}

/**
 * The deadline of each Google API call (Binary Authorization, Container Analysis, Artifact Registry,
 * GKE, Cloud Run, KMS); a retried call gets it per attempt (src/adapters/retry.ts). One definition,
 * placed in each command's own help group.
 */
export const apiTimeoutFlag = (helpGroup?: string) =>
  Flags.integer({
    default: DEFAULT_TIMEOUT_MS / 1000,
    min: 1,
    max: 3600,
    description: 'deadline of each Google API call in seconds (each retry gets a new one)',
    ...(helpGroup === undefined ? {} : {helpGroup}),
  })

export const trustFlags = {
  policy: Flags.string({description: 'policy file (what `gcloud container binauthz policy export` writes)', helpGroup: 'POLICY'}),
  project: Flags.string({
    description:
      'Google Cloud project: the policy, attestors and attestations not given as files are read from its Binary Authorization and Container Analysis APIs (also used for reviewer context)',
    helpGroup: 'POLICY',
  }),
  attestors: Flags.string({
    description: 'directory of attestor JSON files (`gcloud container binauthz attestors describe --format=json`)',
    helpGroup: 'POLICY',
  }),
  attestations: Flags.string({
    description: 'directory of attestation occurrence JSON files (`gcloud container binauthz attestations list --format=json`)',
    helpGroup: 'POLICY',
  }),
  'system-policy': Flags.string({
    description: 'exported system policy file to use instead of the built-in (approximate) system image list',
    helpGroup: 'POLICY',
  }),
  'binauthz-endpoint': Flags.string({description: 'Binary Authorization API base URL (tests, private access)', hidden: false, helpGroup: 'POLICY'}),
  'containeranalysis-endpoint': Flags.string({description: 'Container Analysis API host:port (tests, private access)', helpGroup: 'POLICY'}),
  'artifactregistry-endpoint': Flags.string({description: 'Artifact Registry API host:port (tests, private access)', helpGroup: 'POLICY'}),
  'api-timeout': apiTimeoutFlag('POLICY'),
  'api-insecure': Flags.boolean({description: 'talk to the endpoints above without TLS/auth (local test servers only)', hidden: true, helpGroup: 'POLICY'}),
}

/**
 * Registry signatures (cosign / Sigstore) required besides the policy (docs/sigstore.md). A key or an
 * identity turns the requirement on, as `cosign verify --key` does.
 */
export const signatureFlags = {
  'sigstore-key': Flags.string({
    multiple: true,
    description: 'require a registry signature (cosign/Sigstore) verified by this PEM public key for every image (repeatable: any one key suffices)',
    helpGroup: 'SIGNATURES',
  }),
  'sigstore-identity': Flags.string({
    description: 'keyless: require a signature whose certificate names exactly this identity (SAN), with --sigstore-issuer',
    exclusive: ['sigstore-identity-regexp'],
    helpGroup: 'SIGNATURES',
  }),
  'sigstore-identity-regexp': Flags.string({description: 'keyless: the identity (SAN) must match this regular expression in full', helpGroup: 'SIGNATURES'}),
  'sigstore-issuer': Flags.string({description: 'keyless: the OIDC issuer of the signing certificate, exactly', helpGroup: 'SIGNATURES'}),
  'sigstore-trusted-root': Flags.string({
    description: "keyless: trusted root JSON (what cosign's --trusted-root reads); verification never reaches Rekor, Fulcio or TUF",
    helpGroup: 'SIGNATURES',
  }),
  'sigstore-attestation-type': Flags.string({
    multiple: true,
    description: 'also require a verified in-toto attestation of this predicate type, e.g. https://slsa.dev/provenance/v1 (repeatable)',
    helpGroup: 'SIGNATURES',
  }),
  'sigstore-repository': Flags.string({
    description: "read signatures from this repository instead of the image's (cosign's COSIGN_REPOSITORY)",
    env: 'COSIGN_REPOSITORY',
    helpGroup: 'SIGNATURES',
  }),
}

/** preflight only: bare images (apply needs manifests). */
export const bareImageFlags = {
  image: Flags.string({multiple: true, description: 'evaluate a bare image reference (repeatable)', helpGroup: 'INPUT'}),
  'service-account': Flags.string({description: 'Kubernetes service account for --image (default: "default")', helpGroup: 'TARGET'}),
}

export const preflightExtraFlags = {
  'no-resolve': Flags.boolean({
    description: 'evaluate references exactly as written (a tag under REQUIRE_ATTESTATION is then denied, as GKE does)',
    helpGroup: 'PIN',
  }),
  ...imagePlatformFlags('PIN'),
  'report-md': Flags.string({description: 'write a Markdown report for reviewers (also appended to $GITHUB_STEP_SUMMARY when set)', helpGroup: 'REPORT'}),
  'report-junit': Flags.string({description: 'write a JUnit XML report for CD systems', helpGroup: 'REPORT'}),
  'report-codequality': Flags.string({
    description: 'write a GitLab Code Quality report (JSON, artifacts:reports:codequality) of every problem at its file and line',
    helpGroup: 'REPORT',
  }),
  vulnerabilities: Flags.boolean({
    description: 'add Container Analysis vulnerability counts per digest (context only; never changes the verdict)',
    helpGroup: 'REPORT',
  }),
}

/** Image-like values no image rule examined (docs/image-rules.md#unexamined-image-like-values). */
export const unexaminedFlags = {
  strict: Flags.boolean({
    description: 'fail (exit 3) on image-like values that no image rule examined (an `image:` in a kind without rules), instead of warning',
    helpGroup: 'INPUT',
  }),
}

/** The deploy commands refuse unexamined image-like values unless told otherwise. */
export const allowUnexaminedFlags = {
  'allow-unexamined-images': Flags.boolean({
    description:
      'DANGEROUS: deploy although some image-like values were examined by no image rule: they are neither pinned nor pre-flighted (add imageRules instead)',
    helpGroup: 'INPUT',
  }),
}

/**
 * kubectl's -o for the commands with a result (src/cli/options.ts outputFormat decides, once). --json stays:
 * it is `-o json`, so giving both is refused rather than guessed. A command without a list of objects
 * takes only the document formats.
 */
export const outputFlag = (formats: readonly OutputFormat[] = OUTPUT_FORMATS) =>
  Flags.string({
    char: 'o',
    options: [...formats],
    exclusive: ['json'],
    description: [
      'json: the --json document',
      'yaml: the same document as YAML',
      ...(formats.includes('name') ? ['name: one reference per line on stdout'] : []),
      ...(formats.includes('wide') ? ['wide: the human report with more columns'] : []),
    ].join('; '),
    helpGroup: 'GLOBAL',
  })

export const outputFlags = {output: outputFlag()}

/**
 * A GKE check-based platform policy (docs/platform-policy.md): the file `gcloud beta container binauthz policy
 * describe POLICY_ID --platform=gke --format=yaml` writes. Independent of --policy: when both are given an image
 * must satisfy both.
 */
export const platformPolicyFlag = (helpGroup?: string) =>
  Flags.string({
    description:
      'GKE platform policy (check-based, continuous validation): a file `gcloud beta container binauthz policy describe … --platform=gke` writes, or projects/P/platforms/gke/policies/NAME (read from the API)',
    ...(helpGroup === undefined ? {} : {helpGroup}),
  })

/** The pre-flight's platform policy (preflight, apply, run): with or without --policy; both must allow when both are given. */
export const platformPolicyFlags = {
  'platform-policy': platformPolicyFlag('POLICY'),
  'platform-policy-mode': Flags.string({
    options: ['enforce', 'monitor'],
    description:
      'enforce (default): NON_CONFORMANT denies (exit 5), ERROR is "could not check" (exit 4); monitor: report the platform verdict only, as continuous validation does',
    helpGroup: 'POLICY',
  }),
  at: Flags.string({
    description: "evaluate the platform policy's imageFreshnessCheck at this RFC 3339 time (default: now; with --evidence, the file's collectedAt)",
    helpGroup: 'POLICY',
  }),
  'builder-keys': Flags.string({
    description:
      'JSON file [{"keyId": …, "publicKeyPem": …}]: the keys Cloud Build provenance is verified with for slsaCheck, matched to the envelope signature keyid (without it a provenance is ERROR); a keyId that is a Cloud KMS key version may leave out publicKeyPem',
    helpGroup: 'POLICY',
  }),
  'kms-endpoint': Flags.string({description: 'Cloud KMS API host:port for --builder-keys read from KMS (tests, private access)', helpGroup: 'POLICY'}),
}

/**
 * CI output the engine understands (src/cli/ci.ts): GitHub annotations, $GITHUB_OUTPUT and the step
 * summary. Automatic on GitHub's runner (GITHUB_ACTIONS=true); `none` turns it off there.
 */
export const ciFlags = {
  'ci-format': Flags.string({
    options: ['github', 'none'],
    description: 'github: annotate problems at their file and line, write $GITHUB_OUTPUT and the step summary [default: github when GITHUB_ACTIONS=true]',
    helpGroup: 'REPORT',
  }),
}
