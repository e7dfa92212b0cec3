/**
 * Composition for `safe-deploy attest`: pin the image, read the attestor, sign the gcloud payload
 * with the chosen signer, verify it with the pre-flight's own verifier, then store it (Container
 * Analysis or a directory). A signature the attestor would not accept is never stored.
 */
import {createHash, createPublicKey} from 'node:crypto'
import {join} from 'node:path'
import {SafeDeployError} from '../core/errors.js'
import {parseWritten} from '../core/reference/index.js'
import {buildSignaturePayload} from '../core/attestation/payload.js'
import {pemSigner, pgpSigner, kmsSigner, buildOccurrence, type Signer} from '../core/attestation/sign.js'
import {checkAttestor} from '../core/attestation/verify.js'
import {defaultPkixKeyId} from '../core/attestation/keys.js'
import {parseOccurrences} from '../core/attestation/parse.js'
import type {Attestor} from '../core/attestation/types.js'
import {DirAttestorSource} from '../adapters/fs/trust.js'
import {writeFileAtomic} from '../adapters/fs/atomic.js'
import {fileExists, listDirectory, readBinaryFile, readTextFile} from '../adapters/fs/files.js'
import {registrySettings, type RegistryFlags} from './options.js'
import {registryResolver} from './wiring.js'
import type {AttestorSource} from '../core/ports.js'
import {parseAttestorName, projectOf} from '../core/resource-names.js'

export interface AttestFlags extends RegistryFlags {
  image?: string | undefined
  'image-digest'?: string | undefined
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
  'binauthz-endpoint'?: string | undefined
  'containeranalysis-endpoint'?: string | undefined
  'kms-endpoint'?: string | undefined
  'api-insecure'?: boolean | undefined
  'image-platform'?: string | undefined
}

export interface AttestResult {
  image: string
  digest: string
  attestor: string
  noteName: string
  keyId: string
  signer: 'pkix' | 'kms' | 'pgp' | 'signature-file'
  stored: {kind: 'container-analysis'; project: string; name?: string} | {kind: 'directory'; path: string}
  created: boolean
  occurrence: object
}

/** image → image@digest (resolving a tag through the registry); --image-digest must already carry the digest. */
export async function pinForAttest(flags: AttestFlags, debug: (l: string) => void): Promise<{image: string; digest: string}> {
  const given = flags['image-digest'] ?? flags.image
  if (!given) throw new SafeDeployError('USAGE', 'give --image REF (resolved to its digest) or --image-digest REF@sha256:…')
  const w = parseWritten(given)
  if (w.digest !== undefined) {
    if (!w.digest.startsWith('sha256:')) throw new SafeDeployError('INVALID_REFERENCE', `Binary Authorization only accepts sha256 digests, got ${w.digest}`)
    return {image: `${w.domain}/${w.path}@${w.digest}`, digest: w.digest}
  }
  if (flags['image-digest']) {
    throw new SafeDeployError('USAGE', `--image-digest needs REF@sha256:…, got "${given}"`, {hint: 'use --image to resolve a tag first'})
  }
  const resolver = registryResolver(registrySettings(flags), flags['image-platform'], debug)
  const [outcome] = await resolver.resolveAll([{image: given, domain: w.domain, path: w.path, reference: w.tag ?? 'latest'}])
  if (!outcome) throw new SafeDeployError('INTERNAL', 'resolver returned no outcome')
  if (!outcome.ok) {
    throw new SafeDeployError(outcome.error.code, `cannot pin ${given}, so nothing was signed: ${outcome.error.message}`, {hint: outcome.error.hint, cause: outcome.error.cause})
  }
  return {image: `${w.domain}/${w.path}@${outcome.value.digest}`, digest: outcome.value.digest}
}

function readFileOrThrow(path: string, what: string): string {
  return readTextFile(path, what, {code: 'KEY_INVALID', reason: 'errno'})
}

export async function buildSigner(flags: AttestFlags, attestor: Attestor): Promise<Signer & {kind: AttestResult['signer']}> {
  const chosen = (['private-key', 'kms-key', 'pgp-key', 'signature-file'] as const).filter((k) => flags[k] !== undefined)
  if (chosen.length !== 1) {
    throw new SafeDeployError('USAGE', `give exactly one of --private-key, --kms-key, --pgp-key, --signature-file (got ${chosen.length === 0 ? 'none' : chosen.map((c) => '--' + c).join(', ')})`)
  }
  if (flags['private-key']) {
    const pem = readFileOrThrow(flags['private-key'], 'private key')
    // The algorithm comes from the attestor key this private key belongs to.
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
    const armored = readFileOrThrow(flags['pgp-key'], 'PGP private key')
    const pass = flags['pgp-passphrase-file'] ? readFileOrThrow(flags['pgp-passphrase-file'], 'passphrase file').replace(/\r?\n$/, '') : undefined
    return {...(await pgpSigner(armored, pass)), kind: 'pgp'}
  }
  if (flags['kms-key']) {
    const {kmsPort} = await import('../adapters/gcp/kms.js')
    const port = kmsPort(flags['kms-key'], {
      ...(flags['kms-endpoint'] ? {endpoint: flags['kms-endpoint']} : {}), insecure: flags['api-insecure'] === true,
    })
    return {...(await kmsSigner(port, flags['kms-key'])), kind: 'kms'}
  }
  const sigPath = flags['signature-file'] as string
  if (!flags['public-key-id']) throw new SafeDeployError('USAGE', '--signature-file needs --public-key-id')
  const sig = readBinaryFile(sigPath, 'signature file', {code: 'USAGE'})
  const keyId = flags['public-key-id']
  return {keyId, kind: 'signature-file', sign: async () => new Uint8Array(sig)}
}

export async function attestorSourceFor(flags: AttestFlags): Promise<{source: AttestorSource; close: () => Promise<void>}> {
  if (flags.attestors) return {source: new DirAttestorSource(flags.attestors), close: async () => {}}
  const project = flags.project ?? projectOf(flags.attestor)
  if (!project) throw new SafeDeployError('USAGE', '--attestor must be projects/P/attestors/A')
  const {gcpTrustSources} = await import('./gcp.js')
  const gcp = await gcpTrustSources(project, {
    ...(flags['binauthz-endpoint'] ? {binauthzEndpoint: flags['binauthz-endpoint']} : {}),
    ...(flags['containeranalysis-endpoint'] ? {containerAnalysisEndpoint: flags['containeranalysis-endpoint']} : {}),
    insecure: flags['api-insecure'] === true,
  })
  return {source: gcp.attestors, close: () => gcp.close()}
}

function occurrenceFileName(noteName: string, digest: string, keyId: string): string {
  const h = createHash('sha256').update(`${noteName}\n${digest}\n${keyId}`).digest('hex').slice(0, 16)
  return `attestation-${digest.slice(7, 19)}-${h}.json`
}

export async function attest(flags: AttestFlags, debug: (l: string) => void): Promise<AttestResult> {
  if (parseAttestorName(flags.attestor) === undefined) {
    throw new SafeDeployError('USAGE', `--attestor expects projects/PROJECT/attestors/NAME, got "${flags.attestor}"`)
  }
  const {image, digest} = await pinForAttest(flags, debug)
  const {source, close} = await attestorSourceFor(flags)
  try {
    const attestor = await source.getAttestor(flags.attestor)
    const signer = await buildSigner(flags, attestor)
    if (!attestor.publicKeys.some((k) => k.id === signer.keyId)) {
      throw new SafeDeployError('KEY_INVALID', `key id ${signer.keyId} is not configured on attestor ${attestor.name}; Binary Authorization would ignore this signature`, {
        hint: `the attestor trusts: ${attestor.publicKeys.map((k) => k.id).join(', ') || '(no keys)'}`,
      })
    }
    const payload = buildSignaturePayload(image)
    const signature = await signer.sign(payload)
    const occurrence = buildOccurrence({imageWithDigest: image, noteName: attestor.noteReference, payload, signature, keyId: signer.keyId, pgp: signer.kind === 'pgp'})
    // Verify with the pre-flight's own code path before storing anything.
    const parsed = parseOccurrences(occurrence, 'new attestation')
    const check = await checkAttestor(attestor, parsed, digest)
    if (!check.satisfied) {
      const why = check.checks.map((c) => c.reason).join('; ') || check.reason
      throw new SafeDeployError('SIGNATURE_INVALID', `the new signature would not be accepted by ${attestor.name}: ${why}; nothing was stored`, {
        hint: 'check that the key matches the attestor\'s public key and algorithm',
      })
    }
    const base = {image, digest, attestor: attestor.name, noteName: attestor.noteReference, keyId: signer.keyId, signer: signer.kind, occurrence}
    if (flags['output-dir']) {
      const dir = flags['output-dir']
      const file = join(dir, occurrenceFileName(attestor.noteReference, digest, signer.keyId))
      const created = !existingEquivalent(dir, attestor.noteReference, digest, signer.keyId)
      if (created) await writeFileAtomic(file, JSON.stringify(occurrence, null, 2) + '\n')
      return {...base, stored: {kind: 'directory', path: file}, created}
    }
    const project = flags.project ?? (projectOf(attestor.name) as string)
    const {storeOccurrence} = await import('./gcp.js')
    const stored = await storeOccurrence(project, occurrence, {
      ...(flags['containeranalysis-endpoint'] ? {containerAnalysisEndpoint: flags['containeranalysis-endpoint']} : {}),
      insecure: flags['api-insecure'] === true,
    }, async (existing) => (await checkAttestor(attestor, [existing], digest)).satisfied)
    return {...base, stored: {kind: 'container-analysis', project, ...(stored.name ? {name: stored.name} : {})}, created: stored.created}
  } finally {
    await close()
  }
}

/** Idempotency for --output-dir: an occurrence on the same note, digest and key id already there. */
function existingEquivalent(dir: string, noteName: string, digest: string, keyId: string): boolean {
  if (!fileExists(dir)) return false
  for (const f of listDirectory(dir).filter((x) => x.endsWith('.json'))) {
    try {
      const occs = parseOccurrences(JSON.parse(readTextFile(join(dir, f), 'attestation')), f)
      if (occs.some((o) => o.noteName === noteName && o.resourceUri.endsWith(digest) && o.signatures.some((s) => s.publicKeyId === keyId))) return true
    } catch {
      // not ours; ignore
    }
  }
  return false
}
