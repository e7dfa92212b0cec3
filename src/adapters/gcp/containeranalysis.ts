/**
 * Container Analysis (Grafeas v1) over gRPC: attestation occurrences (read for the pre-flight,
 * written by `attest`) and a vulnerability summary. docs/google-apis.md#container-analysis-occurrences.
 */
import {SafeDeployError} from '../../core/errors.js'
import type {AttestationOccurrence, AttestationSignature} from '../../core/attestation/types.js'
import type {AttestationQuery, AttestationSource} from '../../core/ports.js'
import type {BuildOccurrenceFact, VulnerabilityScanFact} from '../../core/platform-policy/types.js'
import {arr, callOptions, closeGaxClient, grpcError, obj, openGaxClient, str, toBytes, withRetries, type GaxClient, type GcpOptions} from './common.js'
import {parseNoteName, projectOf} from '../../core/resource-names.js'
import {settleAll} from '../../core/settle.js'
import {vulnerabilityScanOf} from '../../core/evidence.js'

/**
 * A DISCOVERY or VULNERABILITY occurrence decoded by google-gax → its REST form, reduced to what a vulnerabilityCheck
 * reads (the evidence records it, docs/evidence.md#format). gRPC fills every proto3 field with its default; only the set ones are kept.
 */
function restOccurrence(o: Record<string, unknown>): Record<string, unknown> {
  const pick = (from: unknown, keys: readonly string[]): Record<string, unknown> => {
    const src = obj(from) ?? {}
    return Object.fromEntries(keys.flatMap((k) => (src[k] === undefined || src[k] === null || src[k] === '' ? [] : [[k, src[k]]])))
  }
  const base = pick(o, ['name', 'kind', 'resourceUri', 'noteName'])
  if (o['kind'] === 'DISCOVERY') return {...base, discovery: pick(o['discovery'], ['analysisStatus', 'continuousAnalysis'])}
  return {...base, vulnerability: pick(o['vulnerability'], ['severity', 'effectiveSeverity', 'fixAvailable', 'cvssScore', 'shortDescription'])}
}

type CallOpts = ReturnType<typeof callOptions>

/** The part of @google-cloud/grafeas GrafeasClient we use. */
interface GrafeasLike {
  listNoteOccurrences(req: {name: string; filter: string; pageSize?: number}, opts: CallOpts): Promise<[unknown[], ...unknown[]]>
  listOccurrences(req: {parent: string; filter: string; pageSize?: number}, opts: CallOpts): Promise<[unknown[], ...unknown[]]>
  createOccurrence(req: {parent: string; occurrence: Record<string, unknown>}, opts: CallOpts): Promise<[unknown, ...unknown[]]>
  initialize(): Promise<unknown>
  close(): Promise<void>
}

interface ContainerAnalysisLike {
  getGrafeasClient(): unknown
  close(): Promise<void>
}

/** An attestation to write. */
export interface NewAttestationOccurrence {
  /** Usually the scheme-less `registry/repo@sha256:…` (what gcloud writes). */
  resourceUri: string
  /** The attestor's note, projects/P/notes/N */
  noteName: string
  serializedPayload: Uint8Array
  signatures: AttestationSignature[]
}

export interface CreateAttestationOptions {
  /**
   * Called for an existing occurrence that looks like a duplicate (same note, resourceUri,
   * payload bytes and key id). Return false to create a new one anyway (e.g. the old signature no
   * longer verifies). Default: trust it.
   */
  isExistingValid?: (existing: AttestationOccurrence) => boolean | Promise<boolean>
}

export interface CreateAttestationResult {
  created: boolean
  /** The occurrence created, or the existing one that made creation unnecessary. */
  occurrence: AttestationOccurrence
}

export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'MINIMAL' | 'SEVERITY_UNSPECIFIED'
export const SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'MINIMAL', 'SEVERITY_UNSPECIFIED']

export interface VulnerabilitySummary {
  resourceUri: string
  total: number
  /** By effective severity (falls back to the CVSS severity). */
  bySeverity: Record<Severity, number>
  /** Those with a fix available, by the same severity. */
  fixableBySeverity: Record<Severity, number>
}

const DIGEST_SUFFIX_RE = /@(sha256:[a-f0-9]{64})$/
// No pageSize in list requests: gax auto-paginates (collects every page) and, given a pageSize
// without autoPaginate: false, prints an AutopaginateTrueWarning on stderr of every CLI run.

function digestOf(resourceUri: string): string {
  const m = DIGEST_SUFFIX_RE.exec(resourceUri)
  if (!m?.[1]) {
    throw new SafeDeployError('INVALID_REFERENCE', `expected an image by digest (…@sha256:<64 hex>), got "${resourceUri}"`, {
      hint: 'pin the image first: `safe-deploy pin`',
    })
  }
  return m[1]
}

function checkNote(noteName: string): void {
  if (!parseNoteName(noteName)) {
    throw new SafeDeployError('ATTESTOR_INVALID', `invalid note name "${noteName}": expected projects/PROJECT/notes/NOTE`)
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))
}

function emptyCounts(): Record<Severity, number> {
  return {CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, MINIMAL: 0, SEVERITY_UNSPECIFIED: 0}
}

/** A Grafeas v1 occurrence as decoded by google-gax (Buffers for bytes) → AttestationOccurrence. */
export function occurrenceFromGrpc(v: unknown): AttestationOccurrence {
  const o = obj(v) ?? {}
  const att = obj(o['attestation']) ?? {}
  const name = str(o['name'])
  const signatures: AttestationSignature[] = arr(att['signatures']).map((s) => {
    const so = obj(s) ?? {}
    return {publicKeyId: str(so['publicKeyId']) ?? '', signature: toBytes(so['signature'])}
  })
  const jwts = arr(att['jwts'])
    .map((j) => str(obj(j)?.['compactJwt']))
    .filter((j): j is string => j !== undefined)
  return {
    ...(name === undefined ? {} : {name}),
    resourceUri: str(o['resourceUri']) ?? '',
    noteName: str(o['noteName']) ?? '',
    serializedPayload: toBytes(att['serializedPayload']),
    signatures,
    jwts,
    source: `containeranalysis:${name ?? str(o['noteName']) ?? 'occurrence'}`,
  }
}

/**
 * A BUILD occurrence as decoded by google-gax → the plain form slsaCheck reads, the envelope's bytes as standard
 * base64 (what the REST API returns), so the same value can be written to and read from an evidence file.
 */
export function buildOccurrenceFromGrpc(v: unknown): BuildOccurrenceFact {
  const o = obj(v) ?? {}
  const env = obj(o['envelope'])
  const noteName = str(o['noteName'])
  const b64 = (x: unknown) => Buffer.from(toBytes(x)).toString('base64')
  return {
    name: str(o['name']) ?? '',
    resourceUri: str(o['resourceUri']) ?? '',
    ...(noteName === undefined ? {} : {noteName}),
    ...(env === undefined
      ? {}
      : {
          envelope: {
            payloadType: str(env['payloadType']) ?? '',
            payload: b64(env['payload']),
            signatures: arr(env['signatures']).map((sg) => {
              const so = obj(sg) ?? {}
              return {keyid: str(so['keyid']) ?? '', sig: b64(so['sig'])}
            }),
          },
        }),
  }
}

export class ContainerAnalysisAttestations implements AttestationSource {
  private readonly opts: GcpOptions
  private clients: Promise<GaxClient & {grafeas: GrafeasLike}> | undefined
  private closed = false

  constructor(opts: GcpOptions = {}) {
    this.opts = opts
  }

  /**
   * Every ATTESTATION occurrence on the note whose resourceUri ends with `@<digest>`. The server
   * filter is `has_suffix(resourceUrl, "<digest>")` (what gcloud sends); kind and suffix are checked
   * again here because the server filter is advisory. Failures throw: never "no attestations".
   */
  async listAttestations(query: AttestationQuery): Promise<AttestationOccurrence[]> {
    checkNote(query.noteName)
    if (!/^sha256:[a-f0-9]{64}$/.test(query.digest)) {
      throw new SafeDeployError('INVALID_REFERENCE', `expected a sha256 digest, got "${query.digest}"`)
    }
    const {grafeas} = await this.getClients()
    let occurrences: unknown[]
    try {
      ;[occurrences] = await this.call(() =>
        grafeas.listNoteOccurrences({name: query.noteName, filter: `has_suffix(resourceUrl, "${query.digest}")`}, callOptions(this.opts)),
      )
    } catch (err) {
      throw grpcError(err, {
        action: `listing attestations on note ${query.noteName}`,
        permission: 'containeranalysis.notes.listOccurrences (roles/containeranalysis.notes.occurrences.viewer) on the note',
        project: projectOf(query.noteName),
        notFound: 'ATTESTOR_INVALID',
        notFoundHint: "the attestor's note does not exist; check userOwnedGrafeasNote.noteReference",
      })
    }
    return occurrences
      .filter((o) => obj(o)?.['kind'] === 'ATTESTATION')
      .map(occurrenceFromGrpc)
      .filter((o) => o.resourceUri.endsWith(`@${query.digest}`))
  }

  /**
   * Every ATTESTATION occurrence of `resourceUri` (`https://NAME@sha256:…`) stored in `projects/<project>`, whatever
   * its note: what a platform policy's simpleSigningAttestationCheck reads from the projects it names (docs/platform-policy.md#facts).
   * Kind and resource are checked again here because the server filter is advisory. Failures throw.
   */
  async listResourceAttestations(project: string, resourceUri: string): Promise<AttestationOccurrence[]> {
    const {grafeas} = await this.getClients()
    let occurrences: unknown[]
    try {
      ;[occurrences] = await this.call(() =>
        grafeas.listOccurrences({parent: `projects/${project}`, filter: `kind="ATTESTATION" AND resourceUrl="${resourceUri}"`}, callOptions(this.opts)),
      )
    } catch (err) {
      throw grpcError(err, {
        action: `listing attestations of ${resourceUri} in projects/${project}`,
        permission: 'containeranalysis.occurrences.list (roles/containeranalysis.occurrences.viewer)',
        project,
      })
    }
    return occurrences
      .filter((o) => obj(o)?.['kind'] === 'ATTESTATION')
      .map(occurrenceFromGrpc)
      .filter((o) => o.resourceUri === resourceUri)
  }

  /**
   * Every BUILD occurrence (Cloud Build provenance, with its DSSE envelope) of `resourceUri` (`https://NAME@sha256:…`)
   * in `projects/<project>`: what a platform policy's slsaCheck reads from the projects its rules name
   * (docs/platform-policy.md#slsacheck-and-builder-keys). Kind and resource are checked again here because the server
   * filter is advisory. Failures throw.
   */
  async listBuildOccurrences(project: string, resourceUri: string): Promise<BuildOccurrenceFact[]> {
    const {grafeas} = await this.getClients()
    let occurrences: unknown[]
    try {
      ;[occurrences] = await this.call(() =>
        grafeas.listOccurrences({parent: `projects/${project}`, filter: `kind="BUILD" AND resourceUrl="${resourceUri}"`}, callOptions(this.opts)),
      )
    } catch (err) {
      throw grpcError(err, {
        action: `listing build provenance of ${resourceUri} in projects/${project}`,
        permission: 'containeranalysis.occurrences.list (roles/containeranalysis.occurrences.viewer)',
        project,
      })
    }
    return occurrences.filter((o) => obj(o)?.['kind'] === 'BUILD' && obj(o)?.['resourceUri'] === resourceUri).map(buildOccurrenceFromGrpc)
  }

  /**
   * The DISCOVERY statuses and VULNERABILITY occurrences of `resourceUri` in `projects/<project>`: what a platform
   * policy's vulnerabilityCheck reads (docs/platform-policy.md#facts). Two listings, because the Grafeas filter has no OR that every
   * server accepts. An unspecified severity is left out so that the evaluator applies its own rule (effectiveSeverity,
   * then severity); `fixAvailable` is a proto3 bool, so a missing one reads as false, as Google's own API reports it.
   */
  async vulnerabilityScan(project: string, resourceUri: string): Promise<VulnerabilityScanFact> {
    const {grafeas} = await this.getClients()
    const list = async (kind: 'DISCOVERY' | 'VULNERABILITY'): Promise<Record<string, unknown>[]> => {
      let occurrences: unknown[]
      try {
        ;[occurrences] = await this.call(() =>
          grafeas.listOccurrences({parent: `projects/${project}`, filter: `kind="${kind}" AND resourceUrl="${resourceUri}"`}, callOptions(this.opts)),
        )
      } catch (err) {
        throw grpcError(err, {
          action: `listing ${kind} occurrences of ${resourceUri} in projects/${project}`,
          permission: 'containeranalysis.occurrences.list (roles/containeranalysis.occurrences.viewer)',
          project,
        })
      }
      return occurrences.map(obj).filter((o): o is Record<string, unknown> => o?.['kind'] === kind && o['resourceUri'] === resourceUri)
    }
    const [discovery, vulns] = await settleAll([list('DISCOVERY'), list('VULNERABILITY')])
    const occurrences = [...discovery, ...vulns].map(restOccurrence)
    return {...vulnerabilityScanOf(occurrences), occurrences}
  }

  /**
   * Write an ATTESTATION occurrence into `projects/<project>`, idempotently.
   *
   * Duplicate rule: an existing ATTESTATION occurrence on the same note with the same resourceUri,
   * byte-identical serializedPayload and a signature with the same publicKeyId counts as the same
   * attestation, whatever its signature bytes. ECDSA and RSA-PSS signatures (Cloud KMS
   * EC_SIGN_*, RSA_SIGN_PSS_*) are randomised, so comparing signature bytes would add a new
   * occurrence on every CI re-run. The payload bytes name the image (repository + digest) and the
   * key id names the signer, so the old occurrence carries the same evidence; pass
   * `isExistingValid` to verify its signature before trusting it.
   */
  async createAttestationOccurrence(
    project: string,
    occurrence: NewAttestationOccurrence,
    options: CreateAttestationOptions = {},
  ): Promise<CreateAttestationResult> {
    checkNote(occurrence.noteName)
    const digest = digestOf(occurrence.resourceUri)
    if (occurrence.signatures.length === 0) {
      throw new SafeDeployError('ATTESTATION_INVALID', 'refusing to write an attestation without signatures')
    }
    const keyIds = new Set(occurrence.signatures.map((s) => s.publicKeyId))
    const existing = await this.listAttestations({noteName: occurrence.noteName, digest})
    for (const e of existing) {
      if (e.resourceUri !== occurrence.resourceUri) continue
      if (!sameBytes(e.serializedPayload, occurrence.serializedPayload)) continue
      if (!e.signatures.some((s) => keyIds.has(s.publicKeyId))) continue
      if (options.isExistingValid && !(await options.isExistingValid(e))) continue
      return {created: false, occurrence: e}
    }
    const {grafeas} = await this.getClients()
    const parent = `projects/${project}`
    try {
      const [created] = await grafeas.createOccurrence(
        {
          parent,
          occurrence: {
            resourceUri: occurrence.resourceUri,
            noteName: occurrence.noteName,
            kind: 'ATTESTATION',
            attestation: {
              serializedPayload: Buffer.from(occurrence.serializedPayload),
              signatures: occurrence.signatures.map((s) => ({publicKeyId: s.publicKeyId, signature: Buffer.from(s.signature)})),
            },
          },
        },
        callOptions(this.opts),
      )
      return {created: true, occurrence: occurrenceFromGrpc(created)}
    } catch (err) {
      throw grpcError(err, {
        action: `creating an attestation occurrence for ${occurrence.resourceUri} on note ${occurrence.noteName}`,
        permission: `containeranalysis.occurrences.create in ${parent} and containeranalysis.notes.attachOccurrence on ${occurrence.noteName} (roles/containeranalysis.notes.attacher)`,
        project,
      })
    }
  }

  /**
   * Counts of VULNERABILITY occurrences for an image in `projects/<project>` by severity.
   * Artifact Analysis stores vulnerability resourceUris as `https://…`; a scheme-less URI is
   * prefixed.
   */
  async vulnerabilitySummary(project: string, resourceUri: string): Promise<VulnerabilitySummary> {
    const uri = /^[a-z]+:\/\//.test(resourceUri) ? resourceUri : `https://${resourceUri}`
    const {grafeas} = await this.getClients()
    let occurrences: unknown[]
    try {
      ;[occurrences] = await this.call(() =>
        grafeas.listOccurrences({parent: `projects/${project}`, filter: `kind="VULNERABILITY" AND resourceUrl="${uri}"`}, callOptions(this.opts)),
      )
    } catch (err) {
      throw grpcError(err, {
        action: `listing vulnerabilities of ${uri}`,
        permission: 'containeranalysis.occurrences.list (roles/containeranalysis.occurrences.viewer)',
        project,
      })
    }
    const bySeverity = emptyCounts()
    const fixableBySeverity = emptyCounts()
    let total = 0
    for (const o of occurrences) {
      const oo = obj(o)
      if (oo?.['kind'] !== 'VULNERABILITY' || oo['resourceUri'] !== uri) continue
      const v = obj(oo['vulnerability']) ?? {}
      const eff = str(v['effectiveSeverity'])
      const raw = eff !== undefined && eff !== 'SEVERITY_UNSPECIFIED' ? eff : str(v['severity'])
      const sev: Severity = SEVERITIES.includes(raw as Severity) ? (raw as Severity) : 'SEVERITY_UNSPECIFIED'
      total++
      bySeverity[sev]++
      if (v['fixAvailable'] === true) fixableBySeverity[sev]++
    }
    return {resourceUri: uri, total, bySeverity, fixableBySeverity}
  }

  async close(): Promise<void> {
    this.closed = true
    const opened = this.clients
    this.clients = undefined
    await closeGaxClient(opened)
  }

  /**
   * One call under the retry policy. A retry that would start after close() fails here instead:
   * google-gax turns a call on a closed client into a rejection no caller can catch, which kills the
   * process (settleAll keeps the use cases from closing early; this keeps any other caller safe too).
   */
  private call<T>(fn: () => Promise<T>): Promise<T> {
    return withRetries(this.opts, async () => {
      if (this.closed) throw new SafeDeployError('INTERNAL', 'Container Analysis call started after the client was closed')
      return fn()
    })
  }

  private getClients(): Promise<GaxClient & {grafeas: GrafeasLike}> {
    if (this.closed) return Promise.reject(new SafeDeployError('INTERNAL', 'Container Analysis used after the client was closed'))
    this.clients ??= (async () => {
      const {ContainerAnalysisClient} = await import('@google-cloud/containeranalysis')
      // The Grafeas client does the calls; the Container Analysis client that made it is closed with it.
      return openGaxClient(
        (options) => {
          const ca = new ContainerAnalysisClient(options as ConstructorParameters<typeof ContainerAnalysisClient>[0]) as unknown as ContainerAnalysisLike
          const grafeas = ca.getGrafeasClient() as GrafeasLike
          return {
            grafeas,
            initialize: () => grafeas.initialize(),
            close: async () => {
              await grafeas.close()
              await ca.close()
            },
          }
        },
        this.opts,
        {action: 'connecting to Container Analysis', permission: 'containeranalysis.occurrences.list'},
      )
    })()
    return this.clients
  }
}
