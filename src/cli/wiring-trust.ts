/**
 * Wiring for attest, audit and policy lint/explain: the adapters behind the ports of src/app/attest.ts,
 * src/app/audit.ts and src/app/policy.ts, built from the command's flags. Google clients are loaded
 * (and created) only when a port is first asked, so a command that never reaches the API never loads them.
 */
import {createHash, createPublicKey} from 'node:crypto'
import {join} from 'node:path'
import {stringify} from 'yaml'
import {SafeDeployError} from '../core/errors.js'
import {pemSigner, pgpSigner, kmsSigner} from '../core/attestation/sign.js'
import {defaultPkixKeyId} from '../core/attestation/keys.js'
import {parseOccurrences} from '../core/attestation/parse.js'
import type {Attestor} from '../core/attestation/types.js'
import type {AttestorSource, Clock} from '../core/ports.js'
import {projectOf} from '../core/resource-names.js'
import {DirAttestorSource} from '../adapters/fs/trust.js'
import {AuditLog, defaultAuditPath} from '../adapters/fs/audit.js'
import {writeFileAtomic} from '../adapters/fs/atomic.js'
import {fileExists, listDirectory, readBinaryFile, readTextFile} from '../adapters/fs/files.js'
import type {BinauthzApi} from '../adapters/gcp/binauthz.js'
import type {AttestationStore, AttestPorts, AttestSigner, NewAttestation} from '../app/attest.js'
import type {AuditProblem, AuditReader} from '../app/audit.js'
import type {PolicyExplainPorts, PolicyLintPorts, PolicyTextSource} from '../app/policy.js'
import type {AuditRecord} from './audit.js'
import {buildResolver, type RegistryFlags} from './pipeline.js'
import {systemAllowlist} from './preflight.js'

interface ApiFlags {
  'binauthz-endpoint'?: string | undefined
  'api-insecure'?: boolean | undefined
}

/** The Binary Authorization API of a project, created on first use (the project is checked then). */
function binauthz(project: () => string, flags: ApiFlags): () => Promise<BinauthzApi> {
  let api: Promise<BinauthzApi> | undefined
  return () => (api ??= (async () => {
    const [{BinauthzApi}, {gcpOptions}] = await Promise.all([import('../adapters/gcp/binauthz.js'), import('./gcp.js')])
    return new BinauthzApi({project: project(), ...(await gcpOptions(flags['binauthz-endpoint'], flags['api-insecure']))})
  })())
}

const apiAttestors = (api: () => Promise<BinauthzApi>): AttestorSource => ({getAttestor: async (name) => (await api()).getAttestor(name)})

// audit

/** The audit log at path (default: $XDG_STATE_HOME/safe-deploy/audit.jsonl); no file: undefined. */
export function auditReader(path: string | undefined): AuditReader<AuditRecord> {
  const file = path ?? defaultAuditPath(process.env)
  return {
    file,
    read: async () => (fileExists(file) ? (await new AuditLog(file).readAll()) as unknown as {records: AuditRecord[]; problems: AuditProblem[]} : undefined),
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
      if (flags.file) return {text: readTextFile(flags.file, 'policy file', {code: 'USAGE', reason: 'errno'}), file: flags.file}
      if (!api) throw new SafeDeployError('USAGE', 'give a policy FILE or --project PROJECT')
      const {source: _s, notes: _n, project: _p, ...rest} = await (await api()).getPolicy()
      const clean = JSON.parse(JSON.stringify(rest, (k, v) => (k === 'line' ? undefined : v))) as Record<string, unknown>
      return {text: stringify(clean), file: `projects/${flags.project}/policy (as YAML)`}
    },
  }
}

const policyApi = (flags: PolicyFlags): (() => Promise<BinauthzApi>) | undefined =>
  !flags.file && flags.project ? binauthz(() => flags.project as string, flags) : undefined

export function policyLintPorts(flags: PolicyFlags & {attestors?: string | undefined; 'audit-log'?: string | undefined}): PolicyLintPorts {
  const api = policyApi(flags)
  const attestors = flags.attestors ? new DirAttestorSource(flags.attestors) : api ? apiAttestors(api) : undefined
  return {policy: policyText(flags, api), audit: auditReader(flags['audit-log']), ...(attestors ? {attestors} : {})}
}

export function policyExplainPorts(flags: PolicyFlags & {'system-policy'?: string | undefined}): PolicyExplainPorts {
  return {policy: policyText(flags, policyApi(flags)), systemAllowlist: () => systemAllowlist(flags['system-policy'])}
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
  'image-platform'?: string | undefined
}

export function attestPorts(flags: AttestFlags, debug: (line: string) => void): AttestPorts {
  const project = (): string => {
    const p = flags.project ?? projectOf(flags.attestor)
    if (!p) throw new SafeDeployError('USAGE', '--attestor must be projects/P/attestors/A')
    return p
  }
  return {
    resolver: {resolveAll: (requests) => buildResolver(flags, flags['image-platform'], debug).resolveAll(requests)},
    attestors: flags.attestors ? new DirAttestorSource(flags.attestors) : apiAttestors(binauthz(project, flags)),
    signer: (attestor) => signerFor(flags, attestor),
    store: flags['output-dir'] ? directoryStore(flags['output-dir']) : containerAnalysisStore(flags),
  }
}

const readKeyFile = (path: string, what: string): string => readTextFile(path, what, {code: 'KEY_INVALID', reason: 'errno'})

/** The one signer flag given (oclif's exactlyOne; --signature-file dependsOn --public-key-id). */
async function signerFor(flags: AttestFlags, attestor: Attestor): Promise<AttestSigner> {
  if (flags['private-key']) {
    const pem = readKeyFile(flags['private-key'], 'private key')
    // The algorithm comes from the attestor key this private key belongs to (docs/binauthz.md#key-ids).
    let publicPem: string
    try {
      publicPem = createPublicKey(pem).export({type: 'spki', format: 'pem'}).toString()
    } catch (err) {
      throw new SafeDeployError('KEY_INVALID', `${flags['private-key']}: not a PEM private key: ${(err as Error).message}`)
    }
    const keyId = flags['public-key-id'] ?? defaultPkixKeyId(publicPem)
    const key = attestor.publicKeys.find((k) => k.id === keyId)
    if (!key || key.kind !== 'pkix') {
      throw new SafeDeployError('KEY_INVALID', `the private key's id ${keyId} is not a PKIX key of attestor ${attestor.name}`, {
        hint: `the attestor trusts: ${attestor.publicKeys.map((k) => k.id).join(', ') || '(no keys)'}; add the public key with \`gcloud container binauthz attestors public-keys add\` or pass --public-key-id`,
      })
    }
    return {...pemSigner(pem, key.signatureAlgorithm, keyId), kind: 'pkix'}
  }
  if (flags['pgp-key']) {
    const armored = readKeyFile(flags['pgp-key'], 'PGP private key')
    const pass = flags['pgp-passphrase-file'] ? readKeyFile(flags['pgp-passphrase-file'], 'passphrase file').replace(/\r?\n$/, '') : undefined
    return {...(await pgpSigner(armored, pass)), kind: 'pgp'}
  }
  if (flags['kms-key']) {
    const {kmsPort} = await import('../adapters/gcp/kms.js')
    const port = kmsPort(flags['kms-key'], {...(flags['kms-endpoint'] ? {endpoint: flags['kms-endpoint']} : {}), insecure: flags['api-insecure'] === true})
    return {...(await kmsSigner(port, flags['kms-key'])), kind: 'kms'}
  }
  if (flags['signature-file'] && flags['public-key-id']) {
    const sig = readBinaryFile(flags['signature-file'], 'signature file', {code: 'USAGE'})
    return {keyId: flags['public-key-id'], kind: 'signature-file', sign: async () => new Uint8Array(sig)}
  }
  throw new SafeDeployError('USAGE', 'give one of --private-key, --kms-key, --pgp-key, --signature-file (with --public-key-id)')
}

/** --output-dir: one JSON file per note, digest and key id (what `preflight --attestations DIR` reads). */
function directoryStore(dir: string): AttestationStore {
  return {
    store: async (a) => {
      const h = createHash('sha256').update(`${a.noteName}\n${a.digest}\n${a.keyId}`).digest('hex').slice(0, 16)
      const path = join(dir, `attestation-${a.digest.slice(7, 19)}-${h}.json`)
      const created = !existingEquivalent(dir, a)
      if (created) await writeFileAtomic(path, JSON.stringify(a.occurrence, null, 2) + '\n')
      return {stored: {kind: 'directory', path}, created}
    },
  }
}

/** Idempotency for --output-dir: an occurrence on the same note, digest and key id already there. */
function existingEquivalent(dir: string, a: NewAttestation): boolean {
  if (!fileExists(dir)) return false
  for (const f of listDirectory(dir).filter((x) => x.endsWith('.json'))) {
    try {
      const occs = parseOccurrences(JSON.parse(readTextFile(join(dir, f), 'attestation')), f)
      if (occs.some((o) => o.noteName === a.noteName && o.resourceUri.endsWith(a.digest) && o.signatures.some((s) => s.publicKeyId === a.keyId))) return true
    } catch {
      // not ours; ignore
    }
  }
  return false
}

/** Container Analysis, in --project (default: the attestor's project); a still-valid look-alike is not duplicated. */
function containerAnalysisStore(flags: AttestFlags): AttestationStore {
  return {
    store: async (a) => {
      const project = flags.project ?? (projectOf(a.attestor) as string)
      const {storeOccurrence} = await import('./gcp.js')
      const r = await storeOccurrence(project, a.occurrence, {
        ...(flags['containeranalysis-endpoint'] ? {containerAnalysisEndpoint: flags['containeranalysis-endpoint']} : {}), insecure: flags['api-insecure'] === true,
      }, a.isExistingValid)
      return {stored: {kind: 'container-analysis', project, ...(r.name ? {name: r.name} : {})}, created: r.created}
    },
  }
}
