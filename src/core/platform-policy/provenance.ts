/**
 * Cloud Build provenance for slsaCheck (docs/platform-policy.md#slsacheck-and-builder-keys): the builder keys given
 * with `--builder-keys`, and one BUILD occurrence verified against them. Pure and synchronous.
 *
 * Only the DSSE envelope's payload is signed, so nothing else of the occurrence (its `build` field, its resourceUri)
 * is read: the builder, the subject digest and the source repositories all come from the verified in-toto statement.
 * The signature check is the repository's one DSSE verifier (dsseSignatureVerifies, src/core/signatures/verify.ts).
 */
import {createPublicKey, type KeyObject} from 'node:crypto'
import {aggregateErrors, SafeDeployError} from '../errors.js'
import {IN_TOTO_PAYLOAD_TYPE, decodeBase64, dsseSignatureVerifies, readStatement} from '../signatures/dsse.js'
import {parseKmsKeyVersionName} from '../resource-names.js'
import type {BuilderKey, BuilderKeySpec, BuildOccurrenceFact} from './types.js'

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1'
export const SLSA_PROVENANCE_V01 = 'https://slsa.dev/provenance/v0.1'

const KEYS_HINT =
  'give a JSON array [{"keyId": "<the keyid of the provenance envelope signature>", "publicKeyPem": "-----BEGIN PUBLIC KEY-----\\n…"}]; an entry whose keyId is a Cloud KMS key version may leave out publicKeyPem (read with getPublicKey)'

// ---------------------------------------------------------------------------------------------------------------
// --builder-keys

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** A PEM public key usable for provenance signatures, or why not. A private key given as a trust anchor is refused. */
function publicKeyOf(pem: string): {key: KeyObject} | {problem: string} {
  if (/PRIVATE KEY-----/.test(pem)) return {problem: 'is a private key, expected the public key'}
  let key: KeyObject
  try {
    key = createPublicKey(pem)
  } catch (err) {
    return {problem: `is not a PEM public key: ${errorText(err)}`}
  }
  const type = key.asymmetricKeyType
  if (type !== 'ec' && type !== 'rsa' && type !== 'rsa-pss' && type !== 'ed25519') return {problem: `is a ${String(type)} key (expected ECDSA, RSA or Ed25519)`}
  return {key}
}

/**
 * The builder keys of a `--builder-keys` file: a JSON array of `{keyId, publicKeyPem}`, where an entry whose keyId is a
 * Cloud KMS key version may leave out the PEM (read from KMS before evaluating). Every problem is reported at once
 * with the file and the entry, as KEY_INVALID (exit 7): a key the user meant to trust that cannot be used must stop
 * the deploy, not narrow the trust silently.
 */
export function parseBuilderKeys(text: string, file: string): BuilderKeySpec[] {
  const fail = (message: string) => new SafeDeployError('KEY_INVALID', `--builder-keys ${file}: ${message}`, {location: {file}, hint: KEYS_HINT})
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw fail(`not JSON: ${errorText(err)}`)
  }
  if (!Array.isArray(doc)) throw fail('expected a JSON array of {keyId, publicKeyPem}')
  if (doc.length === 0) throw fail('the array is empty: no key to verify provenance with')
  const problems: SafeDeployError[] = []
  const keys: BuilderKeySpec[] = []
  doc.forEach((entry: unknown, i) => {
    const where = `entry ${i + 1}`
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      problems.push(fail(`${where}: expected an object {keyId, publicKeyPem}`))
      return
    }
    const e = entry as Record<string, unknown>
    const unknown = Object.keys(e).filter((k) => k !== 'keyId' && k !== 'publicKeyPem')
    if (unknown.length > 0) problems.push(fail(`${where}: unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}`))
    const keyId = e['keyId']
    const pem = e['publicKeyPem']
    if (typeof keyId !== 'string' || keyId.trim() === '') {
      problems.push(fail(`${where}: keyId must be a non-empty string (the keyid the envelope signature names)`))
      return
    }
    const named = `${where} (keyId ${JSON.stringify(keyId)})`
    if (pem === undefined && parseKmsKeyVersionName(keyId)) {
      keys.push({keyId})
      return
    }
    if (typeof pem !== 'string' || pem.trim() === '') {
      problems.push(fail(`${named}: publicKeyPem must be a PEM public key (only a keyId that is a Cloud KMS key version may leave it out)`))
      return
    }
    const k = publicKeyOf(pem)
    if ('problem' in k) {
      problems.push(fail(`${named}: publicKeyPem ${k.problem}`))
      return
    }
    keys.push({keyId, publicKeyPem: pem})
  })
  if (problems.length > 0) throw aggregateErrors(problems, '--builder-keys')
  return keys
}

/** Builder keys by keyId, each parsed once per evaluation (several keys may share an id: each is tried). */
export type PreparedBuilderKeys = ReadonlyMap<string, ReadonlyArray<{key: KeyObject} | {problem: string}>>

export function prepareBuilderKeys(keys: readonly BuilderKey[]): PreparedBuilderKeys {
  const out = new Map<string, Array<{key: KeyObject} | {problem: string}>>()
  for (const k of keys) {
    const list = out.get(k.keyId) ?? []
    list.push(publicKeyOf(k.publicKeyPem))
    out.set(k.keyId, list)
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// One provenance

/** What a verified provenance says, read from the signed statement only. */
export interface ProvenanceClaims {
  predicateType: string
  /** `runDetails.builder.id` (SLSA v1) or `builder.id` (v0.1); '' when absent. */
  builderId: string
  /** SLSA v1 `buildDefinition.externalParameters.buildConfigSource.repository`: the build ran from a checked-in config. */
  configSourceRepository?: string
  /** The source URIs the build read: v1 `resolvedDependencies[].uri`, v0.1 `materials[].uri`, as written. */
  sourceUris: string[]
  /** Why the statement is not a provenance of the digest (another subject, not in-toto), when it is not. */
  subjectProblem?: string
}

export type ProvenanceReading =
  | {status: 'verified'; keyId: string; claims: ProvenanceClaims}
  /** The signature could not be checked or did not verify: ERROR, never CONFORMANT. `missingKey` asks for --builder-keys. */
  | {status: 'unverifiable'; reason: string; missingKey?: string}

/** Standard or URL-safe base64 (an evidence file may carry either), strictly. */
function decode(text: string): Buffer | undefined {
  return decodeBase64(text.replace(/-/g, '+').replace(/_/g, '/'))
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
const objectOf = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {})

function claimsOf(payload: Buffer, digest: string): ProvenanceClaims {
  const statement = readStatement(payload, digest)
  let doc: Record<string, unknown> = {}
  try {
    doc = objectOf(JSON.parse(payload.toString('utf8')))
  } catch {
    // readStatement has said why.
  }
  const predicate = objectOf(doc['predicate'])
  const base = {predicateType: statement.predicateType, ...(statement.problem === undefined ? {} : {subjectProblem: statement.problem})}
  if (statement.predicateType === SLSA_PROVENANCE_V1) {
    const def = objectOf(predicate['buildDefinition'])
    const repo = str(objectOf(objectOf(def['externalParameters'])['buildConfigSource'])['repository'])
    const deps = Array.isArray(def['resolvedDependencies']) ? (def['resolvedDependencies'] as unknown[]) : []
    return {
      ...base,
      builderId: str(objectOf(objectOf(predicate['runDetails'])['builder'])['id']) ?? '',
      ...(repo === undefined ? {} : {configSourceRepository: repo}),
      sourceUris: deps.map((d) => str(objectOf(d)['uri'])).filter((u): u is string => u !== undefined),
    }
  }
  const materials = Array.isArray(predicate['materials']) ? (predicate['materials'] as unknown[]) : []
  return {
    ...base,
    builderId: str(objectOf(predicate['builder'])['id']) ?? '',
    sourceUris: materials.map((m) => str(objectOf(m)['uri'])).filter((u): u is string => u !== undefined),
  }
}

/**
 * Verify one BUILD occurrence's envelope with the builder keys: a signature counts when its `keyid` names a given key
 * and that key verifies the DSSE pre-authentication encoding. Then, and only then, the statement is read.
 */
export function verifyProvenance(occ: BuildOccurrenceFact, keys: PreparedBuilderKeys | undefined, digest: string): ProvenanceReading {
  const env = occ.envelope
  if (env === undefined) return {status: 'unverifiable', reason: 'the occurrence carries no DSSE envelope (no signed provenance)'}
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return {status: 'unverifiable', reason: `DSSE payload type ${JSON.stringify(env.payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`}
  const payload = decode(env.payload)
  if (payload === undefined) return {status: 'unverifiable', reason: 'the envelope payload is missing or not base64'}
  if (env.signatures.length === 0) return {status: 'unverifiable', reason: 'the envelope has no signature'}
  const problems: string[] = []
  const missing: string[] = []
  for (const s of env.signatures) {
    const candidates = keys?.get(s.keyid)
    if (candidates === undefined || candidates.length === 0) {
      missing.push(s.keyid === '' ? '(empty keyid)' : s.keyid)
      continue
    }
    const sig = decode(s.sig)
    if (sig === undefined) {
      problems.push(`the signature by ${s.keyid} is not base64`)
      continue
    }
    for (const c of candidates) {
      if ('problem' in c) {
        problems.push(`builder key ${s.keyid} ${c.problem}`)
        continue
      }
      if (dsseSignatureVerifies(c.key, env.payloadType, payload, sig)) return {status: 'verified', keyId: s.keyid, claims: claimsOf(payload, digest)}
      problems.push(`the signature does not verify with builder key ${s.keyid}`)
    }
  }
  if (problems.length > 0) return {status: 'unverifiable', reason: problems.join('; ')}
  const keyid = missing[0] as string
  const given = keys === undefined || keys.size === 0 ? 'no builder keys were given' : 'no builder key has that keyId'
  return {
    status: 'unverifiable',
    reason: `the envelope is signed by ${missing.join(', ')} and ${given}: pass --builder-keys FILE with an entry for ${keyid}`,
    missingKey: keyid,
  }
}

/**
 * The repository of a source URI: the scheme goes (sourceRepoMatches strips it again), and so does a git ref
 * (`…/repo@refs/heads/main`) or a fragment (`…tgz#123`) after the host, which name a revision of the repository,
 * not another repository.
 */
export function repositoryOf(uri: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?([^/]*)(.*)$/.exec(uri)
  if (!m) return uri
  const path = (m[3] ?? '').replace(/[@#].*$/, '')
  return `${m[1] ?? ''}${m[2] ?? ''}${path}`
}
