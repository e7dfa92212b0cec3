/**
 * Evidence files (docs/evidence.md): the facts a pre-flight gathered, collected once (`evidence collect`) and
 * replayed anywhere (`preflight --evidence`) with no network access. Pure: the file's text parsed and checked
 * into values (parseEvidenceText), the document `evidence collect` writes (EvidenceDocument), and the port
 * implementations over those values (evidencePorts), so a replay runs the very evaluation an online pre-flight
 * runs (docs/architecture.md#facts-then-evaluation); only where the facts come from differs.
 *
 * Absent means "not collected": a fact the evaluation asks for that the evidence lacks is "could not check"
 * (EVIDENCE_MISSING, exit 4; ERROR for a platform check), never an allow.
 */
import {SafeDeployError} from './errors.js'
import {decodeBase64Bytes, parseAttestor, parseOccurrences} from './attestation/parse.js'
import type {Attestor, AttestationOccurrence} from './attestation/types.js'
import {splitReference} from './platform-policy/patterns.js'
import {
  artifactKey,
  type BuildOccurrenceFact,
  type BuilderKey,
  type DsseEnvelopeFact,
  type Severity,
  type UploadTimeFact,
  type VulnerabilityFact,
  type VulnerabilityScanFact,
} from './platform-policy/types.js'
import {parseWritten} from './reference/index.js'
import type {
  AttestationQuery,
  AttestationSource,
  AttestorSource,
  DigestResolver,
  ResolveOutcome,
  ResolveRequest,
  SignatureRequest,
  SignatureSource,
} from './ports.js'
import type {BundleArtifact, Lookup, SignatureArtifacts, SimpleSigningLayer} from './signatures/types.js'

export const EVIDENCE_API_VERSION = 'safe-deploy.dev/v1'
export const EVIDENCE_KIND = 'Evidence'

// ---------------------------------------------------------------------------------------------------------------
// The document (what the file holds, src/schemas/evidence.schema.json)

/** A registry signature as found beside the image (docs/evidence.md#format). */
export type EvidenceSignatureJson =
  | {format: 'simplesigning'; payload: string; signature: string; certificate?: string; chain?: string; rekorBundle?: string}
  | {format: 'bundle'; bundle: Record<string, unknown>}

export interface EvidenceImageJson {
  digest: string | null
  uploadTime?: string | null
  /** Grafeas v1 Occurrence objects as the Container Analysis REST API returns them. */
  occurrences?: Array<Record<string, unknown>>
  sigstore?: EvidenceSignatureJson[]
}

/** The same shape as `--builder-keys` entries (docs/platform-policy.md#slsacheck-and-builder-keys), with the PEM always present. */
export type {BuilderKey}

export interface EvidenceDocument {
  apiVersion: string
  kind: string
  collectedAt: string
  /** Keyed by the image exactly as written in the manifest (or given with --image). */
  images: Record<string, EvidenceImageJson>
  /** Attestors the classic policy requires, as the Binary Authorization REST API returns them. */
  attestors?: Array<Record<string, unknown>>
  /** Carried unchanged: the Cloud Build builder's public keys (docs/evidence.md#format). */
  builderKeys?: BuilderKey[]
  policies?: {classic?: Record<string, unknown>; platform?: Record<string, unknown>}
}

// ---------------------------------------------------------------------------------------------------------------
// Parsed values

export interface EvidenceOccurrence {
  /** `projects/P` from the occurrence name; undefined for an occurrence without a name (it counts for note lookups only). */
  project: string | undefined
  kind: string
  resourceUri: string
  noteName: string
  raw: Record<string, unknown>
  /** ATTESTATION occurrences, parsed as every other attestation source parses them. */
  attestation?: AttestationOccurrence
  /** BUILD occurrences: the signed provenance slsaCheck verifies. */
  envelope?: DsseEnvelopeFact
}

export type EvidenceSignature = {format: 'simplesigning'; layer: SimpleSigningLayer} | {format: 'bundle'; bundle: Record<string, unknown>; bytes: Uint8Array}

export interface EvidenceImage {
  image: string
  digest: string | null
  /** The name evaluated by platform checks and the registry repository (`domain/path`) signatures are read from. */
  name: string
  repository: string | undefined
  uploadTime?: string | null
  occurrences?: EvidenceOccurrence[]
  sigstore?: EvidenceSignature[]
}

export interface Evidence {
  source: string
  collectedAt: Date
  /** Read-only once parsed: lookups are indexed once per Evidence. */
  images: ReadonlyMap<string, EvidenceImage>
  attestors?: Map<string, Attestor>
  builderKeys?: BuilderKey[]
  policies: {classic?: Record<string, unknown>; platform?: Record<string, unknown>}
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing (exit 3 with the field path)

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v)
const key = (k: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`)

const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/
const OCCURRENCE_NAME_RE = /^(projects\/[^/]+)\/occurrences\/[^/]+$/

function invalid(source: string, path: string, why: string): SafeDeployError {
  const where = path.replace(/^\./, '')
  return new SafeDeployError('INVALID_INPUT', `${source}: ${where === '' ? 'the document' : where}: ${why}`, {
    hint: 'write the file with `safe-deploy evidence collect` (format: docs/evidence.md#format)',
    location: {file: source, ...(where === '' ? {} : {path: where})},
  })
}

function rfc3339(v: unknown, source: string, path: string): string {
  if (typeof v !== 'string' || !RFC3339_RE.test(v) || Number.isNaN(Date.parse(v)))
    throw invalid(source, path, `expected an RFC 3339 time with its offset (e.g. 2026-11-27T12:00:00Z), got ${JSON.stringify(v)}`)
  return v
}

function string(v: unknown, source: string, path: string): string {
  if (typeof v !== 'string' || v === '') throw invalid(source, path, `expected a non-empty string, got ${typeName(v)}`)
  return v
}

/** Standard or URL-safe base64 (with or without padding) → bytes; anything else is an input error at path. */
function base64(v: unknown, source: string, path: string): Uint8Array {
  const bytes = typeof v === 'string' ? decodeBase64Bytes(v) : undefined
  if (bytes === undefined)
    throw invalid(source, path, `expected base64 (standard or URL-safe alphabet), got ${typeof v === 'string' ? 'other text' : typeName(v)}`)
  return bytes
}

function only(o: Obj, allowed: readonly string[], source: string, path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw invalid(source, path + key(k), `unknown field (expected one of ${allowed.join(', ')})`)
}

/** The text of an evidence file → its values. Throws INVALID_INPUT (exit 3) naming the file and the field. */
export function parseEvidenceText(text: string, source: string): Evidence {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw invalid(source, '', `not JSON: ${(err as Error).message}`)
  }
  return parseEvidenceObject(json, source)
}

export function parseEvidenceObject(json: unknown, source: string): Evidence {
  if (!isObj(json)) throw invalid(source, '', `expected a JSON object, got ${typeName(json)}`)
  only(json, ['apiVersion', 'kind', 'collectedAt', 'images', 'attestors', 'builderKeys', 'policies'], source, '')
  if (json['apiVersion'] !== EVIDENCE_API_VERSION)
    throw invalid(source, '.apiVersion', `expected "${EVIDENCE_API_VERSION}", got ${JSON.stringify(json['apiVersion'])}`)
  if (json['kind'] !== EVIDENCE_KIND) throw invalid(source, '.kind', `expected "${EVIDENCE_KIND}", got ${JSON.stringify(json['kind'])}`)
  const collectedAt = new Date(rfc3339(json['collectedAt'], source, '.collectedAt'))
  const rawImages = json['images']
  if (!isObj(rawImages)) throw invalid(source, '.images', `expected an object keyed by image, got ${typeName(rawImages)}`)
  const images = new Map<string, EvidenceImage>()
  for (const [image, v] of Object.entries(rawImages)) images.set(image, parseImage(image, v, source, `.images${key(image)}`))

  let attestors: Map<string, Attestor> | undefined
  const rawAttestors = json['attestors']
  if (rawAttestors !== undefined) {
    if (!Array.isArray(rawAttestors)) throw invalid(source, '.attestors', `expected an array, got ${typeName(rawAttestors)}`)
    attestors = new Map()
    rawAttestors.forEach((a, i) => {
      const path = `.attestors[${i}]`
      let parsed: Attestor
      try {
        parsed = parseAttestor(a, `${source}#attestors[${i}]`)
      } catch (err) {
        if (err instanceof SafeDeployError) throw invalid(source, path, err.message)
        throw err
      }
      ;(attestors as Map<string, Attestor>).set(parsed.name, parsed)
    })
  }

  let builderKeys: BuilderKey[] | undefined
  const rawKeys = json['builderKeys']
  if (rawKeys !== undefined) {
    if (!Array.isArray(rawKeys)) throw invalid(source, '.builderKeys', `expected an array, got ${typeName(rawKeys)}`)
    builderKeys = rawKeys.map((k, i) => {
      const path = `.builderKeys[${i}]`
      if (!isObj(k)) throw invalid(source, path, `expected {keyId, publicKeyPem}, got ${typeName(k)}`)
      only(k, ['keyId', 'publicKeyPem'], source, path)
      return {keyId: string(k['keyId'], source, `${path}.keyId`), publicKeyPem: string(k['publicKeyPem'], source, `${path}.publicKeyPem`)}
    })
  }

  const policies: Evidence['policies'] = {}
  const rawPolicies = json['policies']
  if (rawPolicies !== undefined) {
    if (!isObj(rawPolicies)) throw invalid(source, '.policies', `expected {classic, platform}, got ${typeName(rawPolicies)}`)
    only(rawPolicies, ['classic', 'platform'], source, '.policies')
    for (const k of ['classic', 'platform'] as const) {
      const p = rawPolicies[k]
      if (p === undefined) continue
      if (!isObj(p)) throw invalid(source, `.policies.${k}`, `expected a policy object, got ${typeName(p)}`)
      policies[k] = p
    }
  }
  return {
    source,
    collectedAt,
    images,
    ...(attestors ? {attestors} : {}),
    ...(builderKeys ? {builderKeys} : {}),
    policies,
  }
}

function parseImage(image: string, v: unknown, source: string, path: string): EvidenceImage {
  if (!isObj(v)) throw invalid(source, path, `expected an object, got ${typeName(v)}`)
  only(v, ['digest', 'uploadTime', 'occurrences', 'sigstore'], source, path)
  if (!('digest' in v)) throw invalid(source, `${path}.digest`, 'missing (sha256:<hex>, or null for a tag that was not resolved)')
  const d = v['digest']
  if (d !== null && (typeof d !== 'string' || !DIGEST_RE.test(d)))
    throw invalid(source, `${path}.digest`, `expected sha256:<64 hex> or null, got ${JSON.stringify(d)}`)
  const written = splitReference(image)
  if (written.digest !== null && d !== null && written.digest !== d)
    throw invalid(source, `${path}.digest`, `${d} differs from the digest written in the image (${written.digest})`)
  let repository: string | undefined
  try {
    const w = parseWritten(image)
    repository = `${w.domain}/${w.path}`
  } catch {
    repository = undefined
  }
  const out: EvidenceImage = {image, digest: d, name: written.name, repository}
  const up = v['uploadTime']
  if (up !== undefined) out.uploadTime = up === null ? null : rfc3339(up, source, `${path}.uploadTime`)
  const occ = v['occurrences']
  if (occ !== undefined) {
    if (!Array.isArray(occ)) throw invalid(source, `${path}.occurrences`, `expected an array, got ${typeName(occ)}`)
    out.occurrences = occ.map((o, i) => parseOccurrence(o, source, `${path}.occurrences[${i}]`))
  }
  const sig = v['sigstore']
  if (sig !== undefined) {
    if (!Array.isArray(sig)) throw invalid(source, `${path}.sigstore`, `expected an array, got ${typeName(sig)}`)
    out.sigstore = sig.map((s, i) => parseSignature(s, source, `${path}.sigstore[${i}]`))
  }
  return out
}

function parseOccurrence(o: unknown, source: string, path: string): EvidenceOccurrence {
  if (!isObj(o)) throw invalid(source, path, `expected a Grafeas occurrence object, got ${typeName(o)}`)
  const name = o['name']
  let project: string | undefined
  if (name !== undefined) {
    const m = typeof name === 'string' ? OCCURRENCE_NAME_RE.exec(name) : null
    if (!m) throw invalid(source, `${path}.name`, `expected projects/PROJECT/occurrences/ID, got ${JSON.stringify(name)}`)
    project = m[1]
  }
  const kind = string(o['kind'], source, `${path}.kind`)
  const resourceUri = string(o['resourceUri'], source, `${path}.resourceUri`)
  const noteName = string(o['noteName'], source, `${path}.noteName`)
  const out: EvidenceOccurrence = {project, kind, resourceUri, noteName, raw: o}
  if (kind === 'ATTESTATION') {
    // An attestation without a name (read from --attestations files) belongs to no project: it counts for note lookups only.
    try {
      const [att] = parseOccurrences(o, `${source}#${path.replace(/^\./, '')}`)
      if (att !== undefined) out.attestation = att
    } catch (err) {
      if (err instanceof SafeDeployError) throw invalid(source, path, err.message)
      throw err
    }
  } else if (name === undefined) throw invalid(source, `${path}.name`, 'missing: the project of an occurrence is taken from its name')
  if (kind === 'BUILD' && o['envelope'] !== undefined) out.envelope = parseEnvelope(o['envelope'], source, `${path}.envelope`)
  if (kind === 'DISCOVERY' && !isObj(o['discovery'])) throw invalid(source, `${path}.discovery`, 'missing (a DISCOVERY occurrence carries discovery)')
  if (kind === 'VULNERABILITY' && !isObj(o['vulnerability']))
    throw invalid(source, `${path}.vulnerability`, 'missing (a VULNERABILITY occurrence carries vulnerability)')
  return out
}

/**
 * A BUILD occurrence's DSSE envelope (Grafeas v1 Envelope, bytes as base64 in either alphabet), kept as the
 * standard-alphabet base64 slsaCheck verifies. An occurrence without one is kept: slsaCheck then says ERROR.
 */
function parseEnvelope(v: unknown, source: string, path: string): DsseEnvelopeFact {
  if (!isObj(v)) throw invalid(source, path, `expected the DSSE envelope object {payload, payloadType, signatures}, got ${typeName(v)}`)
  const b64 = (x: unknown, at: string) => Buffer.from(base64(x, source, at)).toString('base64')
  const sigs = v['signatures']
  if (!Array.isArray(sigs)) throw invalid(source, `${path}.signatures`, `expected an array, got ${typeName(sigs)}`)
  return {
    payloadType: string(v['payloadType'], source, `${path}.payloadType`),
    payload: b64(v['payload'], `${path}.payload`),
    signatures: sigs.map((sig: unknown, i) => {
      const at = `${path}.signatures[${i}]`
      if (!isObj(sig)) throw invalid(source, at, `expected {sig, keyid}, got ${typeName(sig)}`)
      return {keyid: sig['keyid'] === undefined ? '' : string(sig['keyid'], source, `${at}.keyid`), sig: b64(sig['sig'], `${at}.sig`)}
    }),
  }
}

function parseSignature(s: unknown, source: string, path: string): EvidenceSignature {
  if (!isObj(s)) throw invalid(source, path, `expected a signature object, got ${typeName(s)}`)
  if (s['format'] === 'simplesigning') {
    only(s, ['format', 'payload', 'signature', 'certificate', 'chain', 'rekorBundle'], source, path)
    const payload = base64(s['payload'], source, `${path}.payload`)
    const signature = Buffer.from(base64(s['signature'], source, `${path}.signature`)).toString('base64')
    const opt = (k: 'certificate' | 'chain' | 'rekorBundle'): Partial<SimpleSigningLayer> =>
      s[k] === undefined ? {} : {[k]: string(s[k], source, `${path}.${k}`)}
    return {format: 'simplesigning', layer: {payload, signature, ...opt('certificate'), ...opt('chain'), ...opt('rekorBundle')}}
  }
  if (s['format'] === 'bundle') {
    only(s, ['format', 'bundle'], source, path)
    const b = s['bundle']
    if (!isObj(b)) throw invalid(source, `${path}.bundle`, `expected the Sigstore bundle JSON object, got ${typeName(b)}`)
    if (typeof b['mediaType'] !== 'string' || !b['mediaType'].startsWith('application/vnd.dev.sigstore.bundle'))
      throw invalid(source, `${path}.bundle.mediaType`, `expected application/vnd.dev.sigstore.bundle…+json, got ${JSON.stringify(b['mediaType'])}`)
    return {format: 'bundle', bundle: b, bytes: new TextEncoder().encode(JSON.stringify(b))}
  }
  throw invalid(source, `${path}.format`, `expected "simplesigning" or "bundle", got ${JSON.stringify(s['format'])}`)
}

// ---------------------------------------------------------------------------------------------------------------
// Occurrences: shared reductions

const SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'MINIMAL']
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/**
 * DISCOVERY and VULNERABILITY occurrences (REST JSON, or gRPC objects decoded with string enums) → the scan a
 * vulnerabilityCheck reads (docs/platform-policy.md#facts). An unspecified severity is left out so that the
 * evaluator applies its own rule; a missing `fixAvailable` stays unknown.
 */
export function vulnerabilityScanOf(occurrences: ReadonlyArray<Record<string, unknown>>): VulnerabilityScanFact {
  const known = (s: string | undefined): Severity | undefined => (s !== undefined && SEVERITIES.includes(s as Severity) ? (s as Severity) : undefined)
  const of = (kind: string) => occurrences.filter((o) => o['kind'] === kind)
  return {
    discoveryStatuses: of('DISCOVERY')
      .map((o) => str((isObj(o['discovery']) ? o['discovery'] : {})['analysisStatus']) ?? '')
      .filter((s) => s !== ''),
    vulnerabilities: of('VULNERABILITY').map((o): VulnerabilityFact => {
      const v = isObj(o['vulnerability']) ? o['vulnerability'] : {}
      const effectiveSeverity = known(str(v['effectiveSeverity']))
      const severity = known(str(v['severity']))
      return {
        noteName: str(o['noteName']) ?? '',
        ...(effectiveSeverity !== undefined ? {effectiveSeverity} : {}),
        ...(severity !== undefined ? {severity} : {}),
        ...(typeof v['fixAvailable'] === 'boolean' ? {fixAvailable: v['fixAvailable']} : {}),
      }
    }),
  }
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

/** An ATTESTATION occurrence as the Container Analysis REST API writes it (bytes in standard base64). */
export function attestationOccurrenceJson(o: AttestationOccurrence): Record<string, unknown> {
  const attestation: Record<string, unknown> = o.pgpSignedAttestation
    ? {attestation: {pgpSignedAttestation: {signature: o.pgpSignedAttestation.signature, pgpKeyId: o.pgpSignedAttestation.pgpKeyId}}}
    : {
        serializedPayload: b64(o.serializedPayload),
        ...(o.signatures.length > 0 ? {signatures: o.signatures.map((s) => ({publicKeyId: s.publicKeyId, signature: b64(s.signature)}))} : {}),
        ...(o.jwts.length > 0 ? {jwts: o.jwts.map((compactJwt) => ({compactJwt}))} : {}),
      }
  return {...(o.name !== undefined ? {name: o.name} : {}), resourceUri: o.resourceUri, noteName: o.noteName, kind: 'ATTESTATION', attestation}
}

/** An attestor as the Binary Authorization REST API returns it. */
export function attestorJson(a: Attestor): Record<string, unknown> {
  return {
    name: a.name,
    ...(a.description !== undefined ? {description: a.description} : {}),
    userOwnedGrafeasNote: {
      noteReference: a.noteReference,
      publicKeys: a.publicKeys.map((k) =>
        k.kind === 'pkix'
          ? {id: k.id, ...(k.comment ? {comment: k.comment} : {}), pkixPublicKey: {publicKeyPem: k.publicKeyPem, signatureAlgorithm: k.signatureAlgorithm}}
          : {id: k.id, ...(k.comment ? {comment: k.comment} : {}), asciiArmoredPgpPublicKey: k.asciiArmoredPgpPublicKey},
      ),
    },
  }
}

/** Registry signatures as found → the evidence entries; undefined when a lookup failed (the fact was not collected). */
export function signaturesJson(a: SignatureArtifacts): EvidenceSignatureJson[] | undefined {
  const lookups: Array<Lookup<unknown>> = [a.legacySignatures, a.bundles]
  if (lookups.some((l) => l.status === 'error')) return undefined
  const out: EvidenceSignatureJson[] = []
  if (a.legacySignatures.status === 'found')
    for (const l of a.legacySignatures.items)
      out.push({
        format: 'simplesigning',
        payload: b64(l.payload),
        signature: l.signature,
        ...(l.certificate !== undefined ? {certificate: l.certificate} : {}),
        ...(l.chain !== undefined ? {chain: l.chain} : {}),
        ...(l.rekorBundle !== undefined ? {rekorBundle: l.rekorBundle} : {}),
      })
  if (a.bundles.status === 'found')
    for (const b of a.bundles.items) {
      let bundle: unknown
      try {
        bundle = JSON.parse(new TextDecoder().decode(b.bundle))
      } catch {
        bundle = undefined
      }
      // A bundle that is not JSON cannot verify anyway; it is kept out rather than written as something else.
      if (isObj(bundle)) out.push({format: 'bundle', bundle})
    }
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// Ports over the evidence (replay)

export function notCollected(what: string, source: string): SafeDeployError {
  return new SafeDeployError('EVIDENCE_MISSING', `${what} is not in the evidence file ${source}, so it could not be checked`, {
    hint: 'collect the evidence again for these manifests and policies (`safe-deploy evidence collect`), then replay',
    location: {file: source},
  })
}

/** Entries by artifact (`repository@digest`) and by digest, built once per Evidence: a replay asks once per image and check. */
interface EvidenceIndex {
  byArtifact: Map<string, EvidenceImage[]>
  byDigest: Map<string, EvidenceImage[]>
}
const indexes = new WeakMap<Evidence, EvidenceIndex>()

function indexOf(e: Evidence): EvidenceIndex {
  let index = indexes.get(e)
  if (index === undefined) {
    index = {byArtifact: new Map(), byDigest: new Map()}
    const add = (m: Map<string, EvidenceImage[]>, k: string, i: EvidenceImage) => {
      const list = m.get(k)
      if (list === undefined) m.set(k, [i])
      else list.push(i)
    }
    for (const i of e.images.values()) {
      if (i.digest === null) continue
      add(index.byArtifact, artifactKey(i.name, i.digest), i)
      add(index.byDigest, i.digest, i)
    }
    indexes.set(e, index)
  }
  return index
}

/** The entries of the evidence that evaluate the artifact `name@digest` a platform check asks about. */
function byArtifact(e: Evidence, artifact: string): EvidenceImage[] {
  return indexOf(e).byArtifact.get(artifact) ?? []
}

/** The occurrences recorded for these entries: undefined when none of them recorded any (not collected). */
function occurrencesOf(entries: readonly EvidenceImage[]): EvidenceOccurrence[] | undefined {
  const withOcc = entries.filter((i) => i.occurrences !== undefined)
  if (withOcc.length === 0) return undefined
  const seen = new Set<string>()
  const out: EvidenceOccurrence[] = []
  for (const i of withOcc)
    for (const o of i.occurrences as EvidenceOccurrence[]) {
      const id = typeof o.raw['name'] === 'string' ? o.raw['name'] : JSON.stringify(o.raw)
      if (seen.has(id)) continue
      seen.add(id)
      out.push(o)
    }
  return out
}

/** Tag → digest from the evidence, through the same port as the registry and the lock file. */
export function evidenceResolver(e: Evidence): DigestResolver {
  const resolve = (req: ResolveRequest): ResolveOutcome => {
    const entry = e.images.get(req.image)
    if (entry === undefined || entry.digest === null) return {ok: false, error: notCollected(`the digest of "${req.image}"`, e.source)}
    return {ok: true, value: {image: req.image, digest: entry.digest, mediaType: '', registry: entry.repository?.split('/')[0] ?? ''}}
  }
  return {resolveAll: (requests) => Promise.resolve(requests.map(resolve))}
}

/** Whether every tag in the evidence was resolved (else the replay evaluates references as written, as the collection did). */
export function evidenceResolved(e: Evidence): boolean {
  return [...e.images.values()].every((i) => i.digest !== null || splitReference(i.image).digest !== null)
}

export function evidenceAttestors(e: Evidence): AttestorSource {
  return {
    getAttestor: (name) => {
      const a = e.attestors?.get(name)
      return a === undefined ? Promise.reject(notCollected(`attestor ${name}`, e.source)) : Promise.resolve(a)
    },
  }
}

/** ATTESTATION occurrences on a note for a digest: those of every entry with that digest (none recorded: not collected). */
export function evidenceAttestations(e: Evidence): AttestationSource {
  return {
    listAttestations: (q: AttestationQuery) => {
      const occ = occurrencesOf(indexOf(e).byDigest.get(q.digest) ?? [])
      if (occ === undefined) return Promise.reject(notCollected(`the attestations of ${q.digest}`, e.source))
      return Promise.resolve(
        occ.flatMap((o) => (o.attestation !== undefined && o.noteName === q.noteName && o.resourceUri.endsWith(`@${q.digest}`) ? [o.attestation] : [])),
      )
    },
  }
}

/** What a platform policy's checks read, per project (the shapes of src/app/platform-facts.ts's ports). */
export function evidencePlatformSources(e: Evidence): {
  attestations: {listResourceAttestations(project: string, resourceUri: string): Promise<AttestationOccurrence[]>}
  uploadTimes: {uploadTime(imageWithDigest: string): Promise<UploadTimeFact>}
  vulnerabilities: {vulnerabilityScan(project: string, resourceUri: string): Promise<VulnerabilityScanFact>}
  provenance: {listBuildOccurrences(project: string, resourceUri: string): Promise<BuildOccurrenceFact[]>}
} {
  const inProject = (project: string, resourceUri: string, kinds: readonly string[]) => {
    const occ = occurrencesOf(byArtifact(e, resourceUri.replace(/^https:\/\//, '')))
    if (occ === undefined) throw notCollected(`the occurrences of ${resourceUri}`, e.source)
    return occ.filter((o) => kinds.includes(o.kind) && o.project === `projects/${project}` && o.resourceUri === resourceUri)
  }
  return {
    attestations: {
      listResourceAttestations: async (project, resourceUri) =>
        inProject(project, resourceUri, ['ATTESTATION']).flatMap((o) => (o.attestation ? [o.attestation] : [])),
    },
    vulnerabilities: {
      vulnerabilityScan: async (project, resourceUri) => vulnerabilityScanOf(inProject(project, resourceUri, ['DISCOVERY', 'VULNERABILITY']).map((o) => o.raw)),
    },
    provenance: {
      listBuildOccurrences: async (project, resourceUri) =>
        inProject(project, resourceUri, ['BUILD']).map(
          (o): BuildOccurrenceFact => ({
            name: typeof o.raw['name'] === 'string' ? o.raw['name'] : '',
            resourceUri: o.resourceUri,
            noteName: o.noteName,
            ...(o.envelope ? {envelope: o.envelope} : {}),
          }),
        ),
    },
    uploadTimes: {
      uploadTime: async (artifact) => {
        const entry = byArtifact(e, artifact).find((i) => i.uploadTime !== undefined)
        if (entry === undefined) throw notCollected(`the upload time of ${artifact}`, e.source)
        if (entry.uploadTime === null) return {status: 'not-found', message: `the evidence records no Artifact Registry upload time for ${artifact}`}
        return {status: 'found', uploadTime: entry.uploadTime as string}
      },
    },
  }
}

/** Registry signatures as recorded; an image whose signatures were not collected reads as a failed lookup ("could not check"). */
export function evidenceSignatureSource(e: Evidence): SignatureSource {
  const read = (req: SignatureRequest): SignatureArtifacts => {
    const repository = `${req.domain}/${req.path}`
    const entry = [...e.images.values()].find((i) => i.digest === req.digest && i.repository === repository && i.sigstore !== undefined)
    const location = `${repository}@${req.digest} (evidence ${e.source})`
    if (entry === undefined) {
      const missing = {location, status: 'error' as const, code: 'EVIDENCE_MISSING', message: 'registry signatures were not collected in the evidence'}
      return {repository, digest: req.digest, legacySignatures: missing, bundles: missing, ...(req.attestations ? {legacyAttestations: missing} : {})}
    }
    const sigs = entry.sigstore as EvidenceSignature[]
    const layers = sigs.flatMap((s) => (s.format === 'simplesigning' ? [s.layer] : []))
    const bundles: BundleArtifact[] = sigs.flatMap((s) =>
      s.format === 'bundle' ? [{bundle: s.bytes, artifactType: String(s.bundle['mediaType']), manifestDigest: 'evidence'}] : [],
    )
    return {
      repository,
      digest: req.digest,
      legacySignatures: layers.length > 0 ? {location, status: 'found', items: layers} : {location, status: 'absent'},
      bundles: bundles.length > 0 ? {location, status: 'found', items: bundles} : {location, status: 'absent'},
      // Legacy `.att` DSSE layers are not part of the evidence format: an attestation requirement can be met by a bundle only.
      ...(req.attestations
        ? {
            legacyAttestations: {
              location,
              status: 'error' as const,
              code: 'EVIDENCE_MISSING',
              message: 'legacy .att attestations are not in the evidence format',
            },
          }
        : {}),
    }
  }
  return {read: (requests) => Promise.resolve(requests.map(read))}
}

/** The evidence file's text: stable key order as built, two-space indent, final newline. */
export function evidenceText(doc: EvidenceDocument): string {
  return JSON.stringify(doc, null, 2) + '\n'
}

/**
 * Every port a platform policy's facts are gathered through (src/app/platform-facts.ts PlatformFactPorts), answered
 * from the evidence: what `preflight --evidence` gathers with. The builder keys travel in the file with their PEM.
 */
// The return type is inferred: core cannot name the app layer's PlatformFactPorts, which this satisfies structurally.
export function evidencePlatformFactPorts(e: Evidence) {
  const s = evidencePlatformSources(e)
  return {
    signatures: () => evidenceSignatureSource(e),
    attestations: () => Promise.resolve(s.attestations),
    uploadTimes: () => Promise.resolve(s.uploadTimes),
    vulnerabilities: () => Promise.resolve(s.vulnerabilities),
    provenance: () => Promise.resolve(s.provenance),
    ...(e.builderKeys !== undefined ? {builderKeys: e.builderKeys} : {}),
  }
}
