/**
 * The composition root: turns resolved settings into the adapters behind each use case's ports.
 * Nothing here decides anything; every decision is in src/app (use cases) and src/core (pure).
 */
import {randomUUID} from 'node:crypto'
import {parse as parseYaml} from '../core/yaml-read.js'
import {SafeDeployError} from '../core/errors.js'
import {requireClusterKey} from '../core/resource-names.js'
import {LockResolver, parseLockText} from '../core/lock.js'
import {enforcementTarget} from '../core/deploy.js'
import type {Target} from '../core/preflight.js'
import type {AttestHint} from '../core/policy/evaluate.js'
import type {CustomImageRule} from '../core/manifest/types.js'
import type {AuditSink, DigestResolver, InputReader, Progress} from '../core/ports.js'
import {readInputs} from '../adapters/fs/inputs.js'
import {appendTextFile, readTextFile, requirePath} from '../adapters/fs/files.js'
import {writeFileAtomic, writeFilesAtomic} from '../adapters/fs/atomic.js'
import {requireTrustPaths, systemAllowlist} from '../adapters/fs/trust.js'
import {apiProject, isPlatformPolicyName, openTrustSources, readPlatformPolicy} from '../adapters/trust-sources.js'
import type {GcpEndpoints} from '../adapters/gcp/clients.js'
import {parseGkeName, resolveKubeContext, type GkeCluster} from '../adapters/k8s/kubeconfig.js'
import {AuditLog, actor, defaultAuditPath} from '../adapters/fs/audit.js'
import {readGcloudDefaults} from '../adapters/fs/gcloud.js'
import {RegistryResolver} from '../adapters/registry/index.js'
import {RegistryClient} from '../adapters/registry/client.js'
import {PrefetchingResolver} from '../adapters/registry/prefetch.js'
import {RegistrySignatureSource} from '../adapters/registry/signatures.js'
import {readSignatureRequirement} from '../adapters/fs/sigstore-material.js'
import {parseRepositoryOverride} from '../core/signatures/requests.js'
import type {PreflightOptions, PreflightPorts} from '../app/preflight.js'
import type {PreflightResult} from '../core/preflight.js'
import {addReviewerContext} from '../app/reviewer-context.js'
import type {EnforcementReport} from '../app/deploy.js'
import type {RunOptions, RunPorts} from '../app/run.js'
import type {TextOptions} from '../render/preflight.js'
import type {Profile} from '../core/config.js'
import {parsePlatformPolicyText} from '../core/platform-policy/parse.js'
import {parseBuilderKeys} from '../core/platform-policy/provenance.js'
import type {BuilderKeySpec} from '../core/platform-policy/types.js'
import {noClassicPolicy} from '../core/platform-policy/preflight.js'
import type {PlatformFactPorts} from '../app/platform-facts.js'
import type {TrustSources} from '../app/preflight.js'
import {askConfirmation} from './prompt.js'
import {
  apiTimeoutMs,
  manifestInputs,
  registrySettings,
  resolveSettings,
  type ProfileBackedFlags,
  type RegistryFlags,
  type RegistrySettings,
  type Settings,
} from './options.js'

export const inputReader: InputReader = {read: (inputs) => readInputs(inputs)}

export const writeFiles = (files: Array<{path: string; text: string}>): Promise<void> => writeFilesAtomic(files)

/** The registry (prefetching: lookups start while the input is parsed), or the lock file replayed through the same port. */
export function digestResolver(o: {
  lock?: string | undefined
  registry: RegistrySettings
  platform?: string | undefined
  debug: (line: string) => void
  /** The invocation's one registry client, when other ports use the registry too. */
  client?: () => RegistryClient
}): DigestResolver {
  if (o.lock !== undefined) {
    requirePath({
      flag: '--lock',
      path: o.lock,
      kind: 'file',
      hint: 'write one with `safe-deploy pin -f … --lock-output FILE`, or omit --lock to ask the registry',
    })
    return new LockResolver(parseLockText(readTextFile(o.lock, 'lock file', {location: true}), o.lock))
  }
  return new PrefetchingResolver(registryResolver(o.registry, o.platform, o.debug, o.client), o.registry.concurrency)
}

export function registryResolver(
  r: RegistrySettings,
  platform: string | undefined,
  debug: (line: string) => void,
  client: () => RegistryClient = sharedRegistryClient(r, debug),
): RegistryResolver {
  return new RegistryResolver({...r, ...(platform ? {platform} : {}), debug}, client())
}

/**
 * The invocation's one registry client, built on first use: the resolver, the signature reader and the
 * signature writer share its token cache, its limit on requests in flight and its keep-alive sockets.
 * Signatures go through the same mirrors, insecure registries, CA and credentials as pins.
 */
export function sharedRegistryClient(r: RegistrySettings, debug: (line: string) => void): () => RegistryClient {
  let client: RegistryClient | undefined
  return () => {
    if (client === undefined) {
      if (r.caCertFile !== undefined) requirePath({flag: '--registry-ca-cert', path: r.caCertFile, kind: 'file', hint: "give the private CA's PEM certificate"})
      client = new RegistryClient({...r, debug})
    }
    return client
  }
}

// ------------------------------------------------------------------------------------------------
// Pre-flight: target, trust sources, system allowlist, reviewer context.

/** The flags the pre-flight wiring reads besides the settings (endpoints are for tests and private access). */
export interface PreflightWiringFlags
  extends RegistryFlags,
    Pick<ProfileBackedFlags, 'policy' | 'attestors' | 'attestations' | 'system-policy' | 'platform-policy'> {
  project?: string | undefined
  filename?: string[] | undefined
  recursive?: boolean | undefined
  kustomize?: string[] | undefined
  image?: string[] | undefined
  'istio-identity'?: string | undefined
  'no-resolve'?: boolean | undefined
  /** The image platform os/arch[/variant] (the deprecated --image-platform is resolved into it). */
  platform?: string | undefined
  lock?: string | undefined
  'strip-tag'?: boolean | undefined
  vulnerabilities?: boolean | undefined
  'binauthz-endpoint'?: string | undefined
  'containeranalysis-endpoint'?: string | undefined
  'artifactregistry-endpoint'?: string | undefined
  'api-insecure'?: boolean | undefined
  /** pin/preflight --strict: unexamined image-like values are an input error. */
  strict?: boolean | undefined
  /** apply/run replace: deploy despite unexamined image-like values (dangerous). */
  'allow-unexamined-images'?: boolean | undefined
  'api-timeout'?: number | undefined
  /** Cloud KMS host:port for builder keys given by key version (tests, private access). */
  'kms-endpoint'?: string | undefined
}

/**
 * Target from the settings (flags > profile), then the kube context (GKE). A pre-flight needs no
 * cluster credentials: when the cluster is named — by --cluster, or by a context named
 * gke_PROJECT_LOCATION_NAME — the kubeconfig is read only if it can be (for the context's default
 * namespace), and a missing or unreadable one is not an error (CI jobs that only pre-flight have none).
 */
export function preflightTarget(settings: Settings, istioIdentity: string | undefined, debug: (l: string) => void): Target {
  const platform = settings.target
  let cluster = settings.cluster
  let namespace = settings.kube.namespace
  let context: string | undefined
  if (platform === 'gke') {
    const wantContext = settings.kube.context
    const kubeconfig = settings.kube.kubeconfig
    const named = cluster ?? (wantContext ? parseGkeName(wantContext)?.clusterKey : undefined)
    try {
      const kc = resolveKubeContext({...(kubeconfig ? {kubeconfig} : {}), ...(wantContext ? {context: wantContext} : {})})
      context = kc.context
      cluster ??= kc.gke?.clusterKey
      namespace ??= kc.namespace
    } catch (err) {
      // An explicitly named context or kubeconfig must exist unless the cluster is named without it; the implicit current context is optional.
      if ((wantContext || kubeconfig) && named === undefined) throw err
      debug(`no kube context read: ${(err as Error).message}`)
      if (named !== undefined)
        debug(
          `cluster ${named} (named by ${cluster !== undefined ? '--cluster' : `the context name ${wantContext}`}); namespace ${namespace ?? 'default'} unless a document names one`,
        )
      context = wantContext
      cluster = named
    }
  }
  if (cluster !== undefined) requireClusterKey(cluster)
  return {
    platform,
    namespace: namespace ?? 'default',
    ...(cluster ? {cluster} : {}),
    ...(context ? {context} : {}),
    ...(settings.project ? {project: settings.project} : {}),
    ...(istioIdentity ? {istioIdentity} : {}),
  }
}

/**
 * The clusters of a multi-cluster apply, in the order given: each context's own pre-flight target
 * (its gke_PROJECT_LOCATION_NAME name, or the kubeconfig's, gives the cluster key that picks the
 * classic policy's cluster rule). A context the kubeconfig lacks fails here, before anything is read
 * or sent. --cluster names one cluster and cannot name several.
 */
export function clusterTargets(settings: Settings, contexts: readonly string[], istioIdentity: string | undefined, debug: (l: string) => void) {
  if (settings.target !== 'gke')
    throw new SafeDeployError(
      'USAGE',
      `${contexts.length} kube contexts are given, but the target is ${settings.target}: several contexts are GKE/Kubernetes clusters`,
      {
        hint: 'give one --context, or --target gke',
      },
    )
  if (settings.cluster !== undefined)
    throw new SafeDeployError('USAGE', `--cluster ${settings.cluster} names one cluster, but ${contexts.length} contexts are given`, {
      hint: "drop --cluster (or the profile's cluster): with several contexts each cluster is named by its gke_PROJECT_LOCATION_NAME context",
    })
  return contexts.map((context) => ({context, target: preflightTarget(withContext(settings, context), istioIdentity, debug)}))
}

/** The settings of one cluster of a multi-cluster apply: the same, with its own kube context. */
export function withContext<S extends Pick<Settings, 'kube'>>(settings: S, context: string): S {
  return {...settings, kube: {...settings.kube, context}}
}

/** The Google API endpoints and deadline of this invocation (endpoints: tests and private access). */
export function gcpEndpoints(flags: PreflightWiringFlags): GcpEndpoints & {artifactRegistryEndpoint?: string} {
  return {
    ...(flags['binauthz-endpoint'] ? {binauthzEndpoint: flags['binauthz-endpoint']} : {}),
    ...(flags['containeranalysis-endpoint'] ? {containerAnalysisEndpoint: flags['containeranalysis-endpoint']} : {}),
    ...(flags['artifactregistry-endpoint'] ? {artifactRegistryEndpoint: flags['artifactregistry-endpoint']} : {}),
    insecure: flags['api-insecure'] === true,
    timeoutMs: apiTimeoutMs(flags),
  }
}

/**
 * The trust sources of this invocation as `attest` flags (the next step of a denial runs as printed):
 * the same choice as openTrust, files when all three are files, else the APIs of the project.
 */
export function attestHint(trust: Settings['trust'], flags: PreflightWiringFlags, targetProject?: string): AttestHint {
  const {policy, attestors, attestations} = trust
  const project = apiProject(trust, targetProject)
  if (policy && attestors && attestations) return {attestors, outputDir: attestations}
  const extra = [
    ...(!attestors && flags['binauthz-endpoint'] ? ['--binauthz-endpoint', flags['binauthz-endpoint']] : []),
    ...(!attestations && flags['containeranalysis-endpoint'] ? ['--containeranalysis-endpoint', flags['containeranalysis-endpoint']] : []),
    ...(flags['api-insecure'] === true && (!attestors || !attestations) ? ['--api-insecure'] : []),
  ]
  return {
    ...(attestors ? {attestors} : {}),
    ...(attestations ? {outputDir: attestations} : project ? {project} : {}),
    ...(extra.length > 0 ? {extra} : {}),
  }
}

/** The pre-flight use case's options and ports from one command's flags and settings. */
export function preflightSetup(
  flags: PreflightWiringFlags,
  settings: Settings,
  rules: readonly CustomImageRule[],
  debug: (l: string) => void,
  deploy: {breakGlass: boolean} | undefined = undefined,
): {options: PreflightOptions; ports: PreflightPorts} {
  // Trust paths in force (flag or profile) must exist before anything is read, resolved or sent.
  requireTrustPaths(settings.trust, (key) => (flags[key] !== undefined ? `--${key}` : `${key} (from the profile)`))
  const target = preflightTarget(settings, flags['istio-identity'], debug)
  const resolve = flags['no-resolve'] !== true
  const registry = sharedRegistryClient(registrySettings(flags), debug)
  const sig = settings.signatures
  const platform = settings.platformPolicy
  if (platform !== undefined && settings.target === 'cloudrun')
    throw new SafeDeployError('USAGE', "a GKE platform policy (--platform-policy, or the profile's platformPolicy) applies to GKE only, not to Cloud Run", {
      hint: 'give it with --target gke, or drop it for Cloud Run',
    })
  if (platform !== undefined && !isPlatformPolicyName(platform.file))
    requirePath({
      flag: flags['platform-policy'] !== undefined ? '--platform-policy' : 'platformPolicy (from the profile)',
      path: platform.file,
      kind: 'file',
      hint: 'write it with `gcloud beta container binauthz policy describe POLICY_ID --platform=gke --format=yaml > platform-policy.yaml`',
    })
  if (platform?.builderKeys !== undefined)
    requirePath({
      flag: '--builder-keys',
      path: platform.builderKeys,
      kind: 'file',
      hint: 'a JSON array [{"keyId": "…", "publicKeyPem": "…"}] of the keys Cloud Build provenance is signed with',
    })
  // With only a platform policy, no classic policy is read (not even the project's): the platform policy alone decides.
  const classic = platform === undefined || settings.trust.policy !== undefined || flags.project !== undefined
  return {
    options: {
      target,
      inputs: manifestInputs(flags),
      images: flags.image ?? [],
      rules,
      resolve,
      replayingLock: flags.lock !== undefined,
      stripTag: flags['strip-tag'] === true,
      breakGlass: deploy?.breakGlass === true,
      // A deploy refuses unexamined image-like values unless explicitly allowed; preflight only with --strict.
      unexamined: deploy ? (flags['allow-unexamined-images'] === true ? 'warn' : 'refuse-deploy') : flags.strict === true ? 'refuse' : 'warn',
      serviceAccount: settings.serviceAccount,
      systemAllowlist: systemAllowlist(
        settings.trust.systemPolicy,
        flags['system-policy'] !== undefined ? '--system-policy' : 'systemPolicy (from the profile)',
      ),
      // kubectl is given -n (flag or profile) and refuses objects in another namespace; Cloud Run has no -n.
      ...(settings.target === 'gke' && settings.kube.namespace !== undefined ? {enforcedNamespace: settings.kube.namespace} : {}),
      attestHint: attestHint(settings.trust, flags, settings.project),
      ...(sig ? {signatures: {attestationTypes: sig.attestationTypes, ...(sig.repository ? {repository: parseRepositoryOverride(sig.repository)} : {})}} : {}),
      ...(platform ? {platformPolicy: {mode: platform.mode, now: platform.at ?? new Date()}} : {}),
    },
    ports: {
      reader: inputReader,
      ...(resolve ? {resolver: digestResolver({lock: flags.lock, registry: registrySettings(flags), platform: flags.platform, debug, client: registry})} : {}),
      openTrust: async () => {
        // Signature keys first: local files, and an unreadable one is exit 7 before any API is asked.
        // The Sigstore libraries load only when signatures are required (docs/architecture.md#start-up).
        const signatures = sig
          ? {
              requirement: (await import('../core/signatures/requirement.js')).prepareRequirement(readSignatureRequirement(sig)),
              source: new RegistrySignatureSource(registry()),
            }
          : undefined
        // Builder keys too: a file that cannot be read or holds a bad key is exit 7 with the entry, before any API is asked.
        const builderKeys =
          platform?.builderKeys === undefined
            ? undefined
            : parseBuilderKeys(readTextFile(platform.builderKeys, 'builder keys file', {code: 'KEY_INVALID', location: true}), platform.builderKeys)
        // The platform policy is a local file too: an invalid one is exit 7 with every problem, before any API is asked.
        const platformText = platform ? await readPlatformPolicy(platform.file, gcpEndpoints(flags)) : undefined
        const platformPolicy = platformText
          ? {
              policy: parsePlatformPolicyText(platformText.text, platformText.file),
              facts: platformFactPorts(flags, registry, builderKeys),
              // The policy as written, for `evidence collect` to store (docs/evidence.md#format).
              document: policyDocument(platformText.text),
            }
          : undefined
        const trust = classic ? await openTrustSources(settings.trust, gcpEndpoints(flags), settings.project) : noClassicTrust()
        const close = async () => {
          await trust.close()
          await platformPolicy?.facts.close()
        }
        return {...trust, close, ...(signatures ? {signatures} : {}), ...(platformPolicy ? {platformPolicy} : {})}
      },
      // Reviewer context only when --project is on the command line (a profile's project alone never reaches out).
      ...(flags.project !== undefined || flags.vulnerabilities === true
        ? {
            addContext: async (result: PreflightResult) =>
              addReviewerContext(
                result,
                {project: flags.project, vulnerabilities: flags.vulnerabilities === true},
                (await import('../adapters/gcp/clients.js')).reviewerContextSources(gcpEndpoints(flags)),
              ),
          }
        : {}),
    },
  }
}

/** A policy's text (YAML or JSON) as an object; the parser has already accepted it, so anything else is an empty object. */
function policyDocument(text: string): Record<string, unknown> {
  const v: unknown = parseYaml(text, {maxAliasCount: 0})
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
}

/** Only a platform policy: the classic policy allows every image, and no attestor or attestation is ever asked for. */
export function noClassicTrust(): Omit<TrustSources, 'signatures' | 'platformPolicy'> {
  const never = (what: string) => () => Promise.reject(new SafeDeployError('INTERNAL', `pre-flight: ${what} asked for without a classic policy`))
  return {
    policy: {getPolicy: () => Promise.resolve(noClassicPolicy())},
    attestors: {getAttestor: never('an attestor')},
    attestations: {listAttestations: never('attestations')},
    close: () => Promise.resolve(),
  }
}

/**
 * Where the platform policy's facts are read: registry signatures through the pins' registry settings, Container
 * Analysis and Artifact Registry through the Google clients (loaded and opened only when a check needs them; closed
 * when the pre-flight's trust sources are, by the caller's process end).
 */
function platformFactPorts(
  flags: PreflightWiringFlags,
  registry: () => RegistryClient,
  builderKeys: readonly BuilderKeySpec[] | undefined,
): PlatformFactPorts & {close(): Promise<void>} {
  const e = gcpEndpoints(flags)
  const opened: Array<{close(): Promise<void>}> = []
  // One Container Analysis client for attestations and vulnerabilities.
  let ca: Promise<import('../adapters/gcp/containeranalysis.js').ContainerAnalysisAttestations> | undefined
  const containerAnalysis = () =>
    (ca ??= (async () => {
      const {ContainerAnalysisAttestations, gcpOptions} = await gcpModules()
      const client = new ContainerAnalysisAttestations(await gcpOptions(e.containerAnalysisEndpoint, e.insecure, e.timeoutMs))
      opened.push(client)
      return client
    })())
  return {
    signatures: () => new RegistrySignatureSource(registry()),
    attestations: containerAnalysis,
    vulnerabilities: containerAnalysis,
    provenance: containerAnalysis,
    ...(builderKeys === undefined ? {} : {builderKeys}),
    kmsPublicKeys: async () => {
      const [{kmsPort}, {gcpOptions}] = await Promise.all([import('../adapters/gcp/kms.js'), import('../adapters/gcp/clients.js')])
      const options = await gcpOptions(flags['kms-endpoint'], e.insecure, e.timeoutMs)
      return {
        publicKeyPem: async (versionName) => {
          const port = kmsPort(versionName, options)
          opened.push(port)
          return (await port.getPublicKey()).pem
        },
      }
    },
    uploadTimes: async () => {
      const {ArtifactRegistryApi, artifactRegistryLocation, gcpOptions} = await gcpModules()
      const ar = new ArtifactRegistryApi(await gcpOptions(e.artifactRegistryEndpoint, e.insecure, e.timeoutMs))
      opened.push(ar)
      return {
        uploadTime: async (ref) => {
          // docs/platform-policy.md#facts [OPEN]: an image outside Artifact Registry has no upload time to check: ERROR, never CONFORMANT.
          if (artifactRegistryLocation(ref) === undefined) return {status: 'not-found', message: `${ref} is not in Artifact Registry (*-docker.pkg.dev)`}
          const f = await ar.repositoryFacts(ref)
          if (f?.uploadTime === undefined) return {status: 'not-found', message: `Artifact Registry has no upload time for ${ref}`}
          return {status: 'found', uploadTime: f.uploadTime.toISOString()}
        },
      }
    },
    close: async () => {
      await Promise.all(opened.map((c) => c.close()))
    },
  }
}

async function gcpModules() {
  const [ca, ar, clients] = await Promise.all([
    import('../adapters/gcp/containeranalysis.js'),
    import('../adapters/gcp/artifactregistry.js'),
    import('../adapters/gcp/clients.js'),
  ])
  return {...ca, ...ar, gcpOptions: clients.gcpOptions}
}

export {actor, readGcloudDefaults, systemAllowlist}
export {kubeApplier} from '../adapters/k8s/applier.js'

export const reportPorts = {writeFile: writeFileAtomic, appendFile: appendTextFile}

// ------------------------------------------------------------------------------------------------
// Deploys: audit log, who, confirmation, enforcement, appliers, Cloud Run.

export function auditSink(path: string | undefined): AuditSink & {id: string} {
  const log = new AuditLog(path ?? defaultAuditPath(process.env))
  return {id: randomUUID(), append: (record) => log.append(record)}
}

export interface KubeFlags {
  'server-side': boolean
  'field-manager'?: string | undefined
  'container-endpoint'?: string | undefined
  'api-insecure'?: boolean | undefined
  'api-timeout'?: number | undefined
}

/**
 * The enforcement of the cluster the deploy goes to, through the GKE API: the kube context's own
 * cluster (gke_PROJECT_LOCATION_NAME), else the one --cluster and --project (flags or profile) name.
 * Which one, or why none, is decided in core (enforcementTarget); an unidentified cluster is
 * reported as such, never read as "enforced".
 */
export function enforcementCheck(
  settings: Pick<Settings, 'kube' | 'cluster' | 'project'>,
  flags: KubeFlags,
  debug: (l: string) => void,
): () => Promise<EnforcementReport> {
  return async () => {
    const kube = settings.kube
    let context = kube.context
    let gke: GkeCluster | undefined
    try {
      const kc = resolveKubeContext({...(kube.kubeconfig ? {kubeconfig: kube.kubeconfig} : {}), ...(kube.context ? {context: kube.context} : {})})
      context = kc.context
      gke = kc.gke
    } catch (err) {
      debug(`enforcement: no kube context read (${(err as Error).message})`)
      gke = context === undefined ? undefined : parseGkeName(context)
    }
    const target = enforcementTarget({
      context,
      ...(gke ? {contextCluster: {project: gke.project, location: gke.location, name: gke.cluster}} : {}),
      cluster: settings.cluster,
      project: settings.project,
    })
    if ('unidentified' in target) {
      debug(`enforcement: cluster not identified: ${target.unidentified}`)
      return {unidentified: target.unidentified}
    }
    const {project, location, name} = target.cluster
    debug(
      `enforcement: reading projects/${project}/locations/${location}/clusters/${name} (named by the ${target.via === 'context' ? 'kube context' : '--cluster and --project'})`,
    )
    try {
      const {clusterEnforcement} = await import('../adapters/gcp/gke.js')
      const r = await clusterEnforcement(
        {project, location, cluster: name},
        {
          ...(flags['container-endpoint'] ? {endpoint: flags['container-endpoint']} : {}),
          insecure: flags['api-insecure'] === true,
          timeoutMs: apiTimeoutMs(flags),
        },
      )
      return {...r, cluster: target.key}
    } catch (err) {
      return {unavailable: err instanceof Error ? err.message : String(err)}
    }
  }
}

/** The Cloud Run v2 API (loaded when a deploy is sent). */
export function cloudRunPorts(flags: {
  'run-endpoint'?: string | undefined
  'api-insecure'?: boolean | undefined
  'api-timeout'?: number | undefined
}): Pick<RunPorts, 'deployService' | 'replaceService' | 'readManifest'> {
  const opts = {
    ...(flags['run-endpoint'] ? {endpoint: flags['run-endpoint']} : {}),
    insecure: flags['api-insecure'] === true,
    timeoutMs: apiTimeoutMs(flags),
  }
  return {
    deployService: async (req) => (await import('../adapters/gcp/cloudrun.js')).deployService(req, opts),
    replaceService: async (req) => (await import('../adapters/gcp/cloudrun.js')).replaceService(req, opts),
    readManifest: (file) => readTextFile(file, 'manifest', {location: true}),
  }
}

export interface RunWiringFlags extends PreflightWiringFlags {
  project?: string | undefined
  region?: string | undefined
  'service-account'?: string | undefined
  'break-glass'?: string | undefined
  yes: boolean
  'audit-log'?: string | undefined
  'run-endpoint'?: string | undefined
  'dry-run'?: boolean | undefined
}

/** run deploy / run replace: the Cloud Run rules (default rule only), no custom image rules. */
/** What a Cloud Run command gives its use case besides flags: human output, debug log, progress, text styling. */
export interface RunIo {
  say(m: string): void
  debugLog: (l: string) => void
  progress?: Progress
  text?: TextOptions
}

export function runSetup(flags: RunWiringFlags & ProfileBackedFlags, profile: Profile | undefined, io: RunIo): {options: RunOptions; ports: RunPorts} {
  const settings = resolveSettings({...flags, target: 'cloudrun'}, profile, readGcloudDefaults())
  const breakGlass = flags['break-glass']
  const preflight = preflightSetup(flags, settings, [], io.debugLog, {breakGlass: breakGlass !== undefined})
  const audit = auditSink(settings.auditLog)
  return {
    options: {
      preflight: preflight.options,
      project: settings.project,
      region: settings.region,
      serviceAccount: settings.serviceAccount,
      breakGlass,
      validateOnly: flags['dry-run'] === true,
      actor: actor(),
      ...(io.text ? {text: io.text} : {}),
    },
    ports: {
      // One Progress for the whole command: pre-flight steps, then the Cloud Run operation.
      preflight: {...preflight.ports, progress: io.progress},
      progress: io.progress,
      audit,
      auditId: audit.id,
      say: (m) => io.say(m),
      confirm: (question) => askConfirmation(question, flags.yes),
      ...cloudRunPorts(flags),
    },
  }
}
