/**
 * Wiring for attest, audit and policy lint/explain: the adapters behind the ports of src/app/attest.ts,
 * src/app/audit.ts and src/app/policy.ts, built from the command's flags. Google clients are loaded
 * (and created) only when a port is first asked, so a command that never reaches the API never loads them.
 */
import {stringify} from 'yaml'
import {SafeDeployError} from '../core/errors.js'
import type {AuditRecord} from '../core/audit.js'
import type {AttestorSource, Clock} from '../core/ports.js'
import {projectOf} from '../core/resource-names.js'
import {DirAttestorSource, TRUST_PATH_HINTS} from '../adapters/fs/trust.js'
import {AuditLog, defaultAuditPath} from '../adapters/fs/audit.js'
import {directoryStore} from '../adapters/fs/attestation-store.js'
import {fileSigner, sigstoreSigner} from '../adapters/signer.js'
import {RegistrySignatureWriter} from '../adapters/registry/signature-writer.js'
import {RegistrySignatureSource} from '../adapters/registry/signatures.js'
import {parseRepositoryOverride} from '../core/signatures/requests.js'
import type {SigstoreAttestOptions, SigstoreAttestPorts} from '../app/attest-sigstore.js'
import {fileExists, readTextFile, requirePath} from '../adapters/fs/files.js'
import {isPlatformPolicyName, readPlatformPolicy} from '../adapters/trust-sources.js'
import type {BinauthzApi} from '../adapters/gcp/binauthz.js'
import type {AttestationStore, AttestPorts} from '../app/attest.js'
import type {AuditProblem, AuditReader} from '../app/audit.js'
import type {PolicyExplainPorts, PolicyLintPorts, PolicyTextSource} from '../app/policy.js'
import {apiTimeoutMs, registrySettings, type RegistryFlags} from './options.js'
import {registryResolver, sharedRegistryClient, systemAllowlist} from './wiring.js'

interface ApiFlags {
  'binauthz-endpoint'?: string | undefined
  'api-insecure'?: boolean | undefined
  'api-timeout'?: number | undefined
}

/** The Binary Authorization API of a project, created on first use (the project is checked then). */
function binauthz(project: () => string, flags: ApiFlags): () => Promise<BinauthzApi> {
  let api: Promise<BinauthzApi> | undefined
  return () =>
    (api ??= (async () => {
      const [{BinauthzApi}, {gcpOptions}] = await Promise.all([import('../adapters/gcp/binauthz.js'), import('../adapters/gcp/clients.js')])
      return new BinauthzApi({project: project(), ...(await gcpOptions(flags['binauthz-endpoint'], flags['api-insecure'], apiTimeoutMs(flags)))})
    })())
}

const apiAttestors = (api: () => Promise<BinauthzApi>): AttestorSource => ({getAttestor: async (name) => (await api()).getAttestor(name)})

// audit

/** The audit log at path (default: $XDG_STATE_HOME/safe-deploy/audit.jsonl); no file: undefined. */
export function auditReader(path: string | undefined): AuditReader<AuditRecord> {
  const file = path ?? defaultAuditPath(process.env)
  return {
    file,
    read: async () => (fileExists(file) ? ((await new AuditLog(file).readAll()) as unknown as {records: AuditRecord[]; problems: AuditProblem[]}) : undefined),
  }
}

export const systemClock: Clock = {now: () => new Date()}

// policy lint / explain

export interface PolicyFlags extends ApiFlags {
  file?: string | undefined
  project?: string | undefined
}

/** A policy FILE, or the project's policy from the API written as YAML (what lint and explain read, with lines). */
function policyText(flags: PolicyFlags, api: (() => Promise<BinauthzApi>) | undefined): PolicyTextSource {
  return {
    read: async () => {
      if (flags.file) return {text: readTextFile(flags.file, 'policy file', {reason: 'errno'}), file: flags.file}
      if (!api) throw new SafeDeployError('USAGE', 'give a policy FILE or --project PROJECT')
      const {source: _s, notes: _n, project: _p, ...rest} = await (await api()).getPolicy()
      const clean = JSON.parse(JSON.stringify(rest, (k, v) => (k === 'line' ? undefined : v))) as Record<string, unknown>
      return {text: stringify(clean), file: `projects/${flags.project}/policy (as YAML)`}
    },
  }
}

/** The policy FILE argument and --attestors must exist before anything is read. */
function checkPolicyPaths(flags: PolicyFlags & {attestors?: string | undefined}): void {
  if (flags.file !== undefined) requirePath({flag: 'policy file', path: flags.file, kind: 'file', hint: TRUST_PATH_HINTS.policy})
  if (flags.attestors !== undefined) requirePath({flag: '--attestors', path: flags.attestors, kind: 'directory', hint: TRUST_PATH_HINTS.attestors})
}

const policyApi = (flags: PolicyFlags): (() => Promise<BinauthzApi>) | undefined =>
  !flags.file && flags.project ? binauthz(() => flags.project as string, flags) : undefined

export function policyLintPorts(flags: PolicyFlags & {attestors?: string | undefined; 'audit-log'?: string | undefined}): PolicyLintPorts {
  checkPolicyPaths(flags)
  const api = policyApi(flags)
  const attestors = flags.attestors ? new DirAttestorSource(flags.attestors) : api ? apiAttestors(api) : undefined
  return {policy: policyText(flags, api), audit: auditReader(flags['audit-log']), ...(attestors ? {attestors} : {})}
}

export function policyExplainPorts(flags: PolicyFlags & {'system-policy'?: string | undefined}): PolicyExplainPorts {
  checkPolicyPaths(flags)
  return {policy: policyText(flags, policyApi(flags)), systemAllowlist: () => systemAllowlist(flags['system-policy'])}
}

/**
 * `policy lint|explain --platform-policy FILE`: the GKE platform policy file, checked before it is read. It is
 * not combined with a classic policy FILE or --project: each command explains one policy.
 */
export function platformPolicyPorts(flags: PolicyFlags & {'platform-policy': string}): {policy: PolicyTextSource} {
  if (flags.file !== undefined || flags.project !== undefined)
    throw new SafeDeployError('USAGE', '--platform-policy explains a GKE platform policy: give it without a classic policy FILE or --project', {
      hint: 'run the command once per policy',
    })
  const ref = flags['platform-policy']
  if (isPlatformPolicyName(ref)) {
    const endpoints = {
      ...(flags['binauthz-endpoint'] ? {binauthzEndpoint: flags['binauthz-endpoint']} : {}),
      insecure: flags['api-insecure'] === true,
      timeoutMs: apiTimeoutMs(flags),
    }
    return {policy: {read: () => readPlatformPolicy(ref, endpoints)}}
  }
  requirePath({
    flag: '--platform-policy',
    path: ref,
    kind: 'file',
    hint: 'write it with `gcloud beta container binauthz policy describe POLICY_ID --platform=gke --format=yaml > platform-policy.yaml`',
  })
  return {policy: {read: () => Promise.resolve({text: readTextFile(ref, 'platform policy file', {reason: 'errno'}), file: ref})}}
}

// attest

export interface AttestFlags extends RegistryFlags, ApiFlags {
  attestor: string
  attestors?: string | undefined
  project?: string | undefined
  'private-key'?: string | undefined
  'kms-key'?: string | undefined
  'pgp-key'?: string | undefined
  'pgp-passphrase-file'?: string | undefined
  'signature-file'?: string | undefined
  'public-key-id'?: string | undefined
  'output-dir'?: string | undefined
  'containeranalysis-endpoint'?: string | undefined
  'kms-endpoint'?: string | undefined
  /** The image platform os/arch[/variant] (the deprecated --image-platform is resolved into it). */
  platform?: string | undefined
}

/** Every file and directory attest was given must exist: checked before the image is resolved or anything signed. */
function checkAttestPaths(flags: AttestFlags): void {
  if (flags.attestors !== undefined) requirePath({flag: '--attestors', path: flags.attestors, kind: 'directory', hint: TRUST_PATH_HINTS.attestors})
  const files: Array<[string, string | undefined, string]> = [
    ['--private-key', flags['private-key'], "the PEM private key of one of the attestor's public keys"],
    ['--pgp-key', flags['pgp-key'], "the ASCII-armored PGP private key of one of the attestor's public keys"],
    ['--pgp-passphrase-file', flags['pgp-passphrase-file'], 'a file holding the passphrase of the PGP key'],
    [
      '--signature-file',
      flags['signature-file'],
      'sign the payload of `safe-deploy attest payload --image IMAGE@sha256:… > payload.json` elsewhere and give the signature file',
    ],
  ]
  for (const [flag, path, hint] of files) if (path !== undefined) requirePath({flag, path, kind: 'file', hint})
}

export interface SigstoreAttestFlags extends RegistryFlags, ApiFlags {
  image?: string | undefined
  'image-digest'?: string | undefined
  'private-key'?: string | undefined
  'kms-key'?: string | undefined
  'kms-endpoint'?: string | undefined
  'sigstore-format': string
  'attestation-type'?: string | undefined
  predicate?: string | undefined
  'sigstore-repository'?: string | undefined
  platform?: string | undefined
}

/** attest --sigstore: the key, the predicate file, and the registry as the place signatures are pushed to. */
export function sigstoreAttestPorts(flags: SigstoreAttestFlags, debug: (line: string) => void): {options: SigstoreAttestOptions; ports: SigstoreAttestPorts} {
  if (flags['private-key'] !== undefined)
    requirePath({
      flag: '--private-key',
      path: flags['private-key'],
      kind: 'file',
      hint: 'the PEM private key to sign with (e.g. `openssl ecparam -genkey -name prime256v1 -noout | openssl pkcs8 -topk8 -nocrypt`)',
    })
  if (flags.predicate !== undefined)
    requirePath({flag: '--predicate', path: flags.predicate, kind: 'file', hint: 'a JSON file holding the predicate (e.g. the SLSA provenance)'})
  if (flags['private-key'] === undefined && flags['kms-key'] === undefined)
    throw new SafeDeployError('USAGE', 'attest --sigstore signs with --private-key FILE or --kms-key projects/…/cryptoKeyVersions/N')
  const type = flags['attestation-type']
  let attestation: SigstoreAttestOptions['attestation']
  if (type !== undefined && flags.predicate !== undefined) {
    const text = readTextFile(flags.predicate, 'predicate file', {location: true})
    try {
      attestation = {type, predicate: JSON.parse(text) as unknown}
    } catch (err) {
      throw new SafeDeployError('INVALID_INPUT', `${flags.predicate} is not JSON: ${(err as Error).message}`, {location: {file: flags.predicate}})
    }
  }
  const registry = registrySettings(flags)
  // One client: the pin, the read of what is already signed and the push share one token cache and one limit.
  const client = sharedRegistryClient(registry, debug)
  return {
    options: {
      image: flags.image,
      imageDigest: flags['image-digest'],
      format: flags['sigstore-format'] === 'legacy' ? 'legacy' : 'bundle',
      attestation,
      ...(flags['sigstore-repository'] ? {repository: parseRepositoryOverride(flags['sigstore-repository'])} : {}),
    },
    ports: {
      resolver: {resolveAll: (requests) => registryResolver(registry, flags.platform, debug, client).resolveAll(requests)},
      signer: () =>
        sigstoreSigner({
          privateKey: flags['private-key'],
          kmsKey: flags['kms-key'],
          kmsEndpoint: flags['kms-endpoint'],
          insecure: flags['api-insecure'] === true,
          timeoutMs: apiTimeoutMs(flags),
        }),
      source: new RegistrySignatureSource(client()),
      publisher: new RegistrySignatureWriter(client()),
    },
  }
}

export function attestPorts(flags: AttestFlags, debug: (line: string) => void): AttestPorts {
  checkAttestPaths(flags)
  const project = (): string => {
    const p = flags.project ?? projectOf(flags.attestor)
    if (!p) throw new SafeDeployError('USAGE', '--attestor must be projects/P/attestors/A')
    return p
  }
  return {
    resolver: {resolveAll: (requests) => registryResolver(registrySettings(flags), flags.platform, debug).resolveAll(requests)},
    attestors: flags.attestors ? new DirAttestorSource(flags.attestors) : apiAttestors(binauthz(project, flags)),
    signer: (attestor) =>
      fileSigner(
        {
          privateKey: flags['private-key'],
          pgpKey: flags['pgp-key'],
          pgpPassphraseFile: flags['pgp-passphrase-file'],
          kmsKey: flags['kms-key'],
          signatureFile: flags['signature-file'],
          publicKeyId: flags['public-key-id'],
          kmsEndpoint: flags['kms-endpoint'],
          insecure: flags['api-insecure'] === true,
          timeoutMs: apiTimeoutMs(flags),
        },
        attestor,
      ),
    store: flags['output-dir'] ? directoryStore(flags['output-dir']) : containerAnalysisStore(flags),
  }
}

/** Container Analysis, in --project (default: the attestor's project); a still-valid look-alike is not duplicated. */
function containerAnalysisStore(flags: AttestFlags): AttestationStore {
  return {
    store: async (a) => {
      const project = flags.project ?? (projectOf(a.attestor) as string)
      const {storeOccurrence} = await import('../adapters/gcp/clients.js')
      const r = await storeOccurrence(
        project,
        a.occurrence,
        {
          ...(flags['containeranalysis-endpoint'] ? {containerAnalysisEndpoint: flags['containeranalysis-endpoint']} : {}),
          insecure: flags['api-insecure'] === true,
          timeoutMs: apiTimeoutMs(flags),
        },
        a.isExistingValid,
      )
      return {stored: {kind: 'container-analysis', project, ...(r.name ? {name: r.name} : {})}, created: r.created}
    },
  }
}
