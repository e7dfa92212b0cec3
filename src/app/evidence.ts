/**
 * `safe-deploy evidence collect` (docs/evidence.md): the pre-flight itself, run over ports that record what they
 * answer. Digests, the policies, attestors, attestation occurrences, upload times, vulnerability occurrences and
 * registry signatures are gathered by the same code, asked for by the same "facts needed" computations, as an online
 * pre-flight: the evidence holds every fact the given policies need, and nothing else.
 *
 * A lookup that failed is recorded as absent ("not collected"): the replay then says "could not check", as the
 * online pre-flight did. What the pre-flight itself refuses (an unreadable classic source, exit 4) stops the
 * collection, and no file is written.
 */
import {NO_CLASSIC_POLICY} from '../core/platform-policy/preflight.js'
import {splitReference} from '../core/platform-policy/patterns.js'
import {parseWritten} from '../core/reference/index.js'
import {artifactKey, type UploadTimeFact} from '../core/platform-policy/types.js'
import {
  EVIDENCE_API_VERSION,
  EVIDENCE_KIND,
  attestationOccurrenceJson,
  attestorJson,
  signaturesJson,
  type BuilderKey,
  type EvidenceDocument,
  type EvidenceImageJson,
  type EvidenceSignatureJson,
} from '../core/evidence.js'
import type {AttestationOccurrence, Attestor} from '../core/attestation/types.js'
import type {Policy} from '../core/policy/types.js'
import type {Clock, DigestResolver, SignatureSource} from '../core/ports.js'
import type {PlatformFactPorts} from './platform-facts.js'
import {preflight, type PreflightOptions, type PreflightPorts, type TrustSources} from './preflight.js'

export interface CollectOptions {
  preflight: PreflightOptions
}

export interface CollectPorts extends PreflightPorts {
  clock: Clock
}

export interface CollectResult {
  document: EvidenceDocument
  /** Facts whose lookup failed, recorded as absent (a replay reports them as could not check). */
  missing: string[]
}

type Listing<T> = {items: T[]; failed: boolean}

/** What the recording ports saw, keyed as the evidence keys it. */
class Recorder {
  readonly digests = new Map<string, string>()
  /** Classic note listings by digest. */
  readonly noteAttestations = new Map<string, Listing<AttestationOccurrence>>()
  /** Platform listings (ATTESTATION, DISCOVERY, VULNERABILITY) by artifact `name@digest`. */
  readonly occurrences = new Map<string, Listing<Record<string, unknown>>>()
  readonly uploadTimes = new Map<string, UploadTimeFact | 'failed'>()
  /** `domain/path@digest` → signatures, or undefined when a lookup failed. */
  readonly signatures = new Map<string, EvidenceSignatureJson[] | undefined>()
  readonly attestors = new Map<string, Attestor>()
  /** The keys provenance was verified with, PEM filled in (a Cloud KMS key version as KMS returned it). */
  readonly builderKeys = new Map<string, BuilderKey>()
  readonly missing: string[] = []
  classic: Policy | undefined
  platform: Record<string, unknown> | undefined

  listing<T>(map: Map<string, Listing<T>>, k: string): Listing<T> {
    let l = map.get(k)
    if (l === undefined) {
      l = {items: [], failed: false}
      map.set(k, l)
    }
    return l
  }

  async record<T, L>(map: Map<string, Listing<L>>, k: string, what: string, call: () => Promise<T>, items: (v: T) => L[]): Promise<T> {
    const l = this.listing(map, k)
    try {
      const v = await call()
      l.items.push(...items(v))
      return v
    } catch (err) {
      l.failed = true
      this.missing.push(`${what}: ${err instanceof Error ? err.message : String(err)}`)
      throw err
    }
  }
}

function recordingResolver(r: DigestResolver, rec: Recorder): DigestResolver {
  return {
    resolveAll: async (requests) => {
      const out = await r.resolveAll(requests)
      out.forEach((o, i) => {
        if (o.ok) rec.digests.set((requests[i] as {image: string}).image, o.value.digest)
      })
      return out
    },
    ...(r.prefetch ? {prefetch: (sites) => r.prefetch?.(sites)} : {}),
  }
}

function recordingSignatures(s: SignatureSource, rec: Recorder): SignatureSource {
  return {
    read: async (requests, override) => {
      const out = await s.read(requests, override)
      out.forEach((a, i) => {
        const q = requests[i] as (typeof requests)[number]
        const k = `${q.domain}/${q.path}@${q.digest}`
        const sigs = signaturesJson(a)
        if (sigs === undefined) rec.missing.push(`registry signatures of ${q.image}: a lookup failed`)
        // Once a read of this digest failed, the evidence must not claim a complete set.
        rec.signatures.set(k, rec.signatures.has(k) && rec.signatures.get(k) === undefined ? undefined : sigs)
      })
      return out
    },
  }
}

function recordingPlatform(ports: PlatformFactPorts, rec: Recorder): PlatformFactPorts {
  const artifact = (resourceUri: string) => resourceUri.replace(/^https:\/\//, '')
  return {
    signatures: () => recordingSignatures(ports.signatures(), rec),
    attestations: async () => {
      const src = await ports.attestations()
      return {
        listResourceAttestations: (project, uri) =>
          rec.record(
            rec.occurrences,
            artifact(uri),
            `attestations of ${uri} in projects/${project}`,
            () => src.listResourceAttestations(project, uri),
            (v) => v.map(attestationOccurrenceJson),
          ),
      }
    },
    vulnerabilities: async () => {
      const src = await ports.vulnerabilities()
      return {
        vulnerabilityScan: (project, uri) =>
          rec.record(
            rec.occurrences,
            artifact(uri),
            `vulnerability occurrences of ${uri} in projects/${project}`,
            () => src.vulnerabilityScan(project, uri),
            (v) => v.occurrences ?? [],
          ),
      }
    },
    provenance: async () => {
      const src = await ports.provenance()
      return {
        listBuildOccurrences: (project, uri) =>
          rec.record(
            rec.occurrences,
            artifact(uri),
            `build provenance of ${uri} in projects/${project}`,
            () => src.listBuildOccurrences(project, uri),
            (v) => v.map((o) => ({...o, kind: 'BUILD'})),
          ),
      }
    },
    ...(ports.builderKeys !== undefined ? {builderKeys: recordingBuilderKeys(ports.builderKeys, rec)} : {}),
    ...(ports.kmsPublicKeys !== undefined
      ? {
          kmsPublicKeys: async () => {
            const kms = await (ports.kmsPublicKeys as NonNullable<PlatformFactPorts['kmsPublicKeys']>)()
            return {
              publicKeyPem: async (version) => {
                const publicKeyPem = await kms.publicKeyPem(version)
                rec.builderKeys.set(version, {keyId: version, publicKeyPem})
                return publicKeyPem
              },
            }
          },
        }
      : {}),
    uploadTimes: async () => {
      const src = await ports.uploadTimes()
      return {
        uploadTime: async (ref) => {
          try {
            const f = await src.uploadTime(ref)
            rec.uploadTimes.set(ref, f.status === 'error' ? 'failed' : f)
            if (f.status === 'error') rec.missing.push(`upload time of ${ref}: ${f.message}`)
            return f
          } catch (err) {
            rec.uploadTimes.set(ref, 'failed')
            rec.missing.push(`upload time of ${ref}: ${err instanceof Error ? err.message : String(err)}`)
            throw err
          }
        },
      }
    },
  }
}

/** Keys given with their PEM are recorded as given; a KMS key version is recorded when KMS answers. */
function recordingBuilderKeys(keys: NonNullable<PlatformFactPorts['builderKeys']>, rec: Recorder): NonNullable<PlatformFactPorts['builderKeys']> {
  for (const k of keys) if (k.publicKeyPem !== undefined) rec.builderKeys.set(k.keyId, {keyId: k.keyId, publicKeyPem: k.publicKeyPem})
  return keys
}

function recordingTrust(t: TrustSources, rec: Recorder): TrustSources {
  const recorded: TrustSources = {
    policy: {
      getPolicy: async () => {
        const p = await t.policy.getPolicy()
        if (p.source !== NO_CLASSIC_POLICY) rec.classic = p
        return p
      },
    },
    attestors: {
      getAttestor: async (name) => {
        const a = await t.attestors.getAttestor(name)
        rec.attestors.set(a.name, a)
        return a
      },
    },
    attestations: {
      listAttestations: (q) =>
        rec.record(
          rec.noteAttestations,
          q.digest,
          `attestations of ${q.digest} on ${q.noteName}`,
          () => t.attestations.listAttestations(q),
          (v) => v,
        ),
    },
    close: () => t.close(),
  }
  if (t.signatures) recorded.signatures = {...t.signatures, source: recordingSignatures(t.signatures.source, rec)}
  if (t.platformPolicy) {
    rec.platform = t.platformPolicy.document
    recorded.platformPolicy = {...t.platformPolicy, facts: recordingPlatform(t.platformPolicy.facts, rec)}
  }
  return recorded
}

/** The classic policy as the REST API writes it: what the file holds, without what the parser added. */
function classicJson(p: Policy): Record<string, unknown> {
  const {source: _s, notes: _n, project: _p, ...rest} = p
  return JSON.parse(JSON.stringify(rest, (k, v: unknown) => (k === 'line' ? undefined : v))) as Record<string, unknown>
}

export async function collectEvidence(options: CollectOptions, ports: CollectPorts): Promise<CollectResult> {
  const rec = new Recorder()
  const collectedAt = ports.clock.now()
  const {result} = await preflight(options.preflight, {
    ...ports,
    ...(ports.resolver ? {resolver: recordingResolver(ports.resolver, rec)} : {}),
    openTrust: async () => recordingTrust(await ports.openTrust(), rec),
  })

  const images: Record<string, EvidenceImageJson> = {}
  for (const img of result.images) {
    if (images[img.original] !== undefined) continue
    const digest = img.digest ?? rec.digests.get(img.original) ?? null
    const entry: EvidenceImageJson = {digest}
    if (digest !== null) {
      const artifact = artifactKey(splitReference(img.original).name, digest)
      const up = rec.uploadTimes.get(artifact)
      if (up !== undefined && up !== 'failed') entry.uploadTime = up.status === 'found' ? up.uploadTime : null
      const note = rec.noteAttestations.get(digest)
      const platform = rec.occurrences.get(artifact)
      if ((note !== undefined || platform !== undefined) && note?.failed !== true && platform?.failed !== true) {
        const all = [...(note?.items.map(attestationOccurrenceJson) ?? []), ...(platform?.items ?? [])]
        const seen = new Set<string>()
        entry.occurrences = all.filter((o) => {
          const id = typeof o['name'] === 'string' ? o['name'] : JSON.stringify(o)
          if (seen.has(id)) return false
          seen.add(id)
          return true
        })
      }
      for (const [k, sigs] of rec.signatures) {
        if (!k.endsWith(`@${digest}`) || sigs === undefined) continue
        if (repositoryOf(img.original) === k.slice(0, k.length - digest.length - 1)) entry.sigstore = sigs
      }
    }
    images[img.original] = entry
  }

  const policies: NonNullable<EvidenceDocument['policies']> = {
    ...(rec.classic ? {classic: classicJson(rec.classic)} : {}),
    ...(rec.platform ? {platform: rec.platform} : {}),
  }
  const document: EvidenceDocument = {
    apiVersion: EVIDENCE_API_VERSION,
    kind: EVIDENCE_KIND,
    collectedAt: collectedAt.toISOString(),
    images,
    ...(rec.attestors.size > 0 ? {attestors: [...rec.attestors.values()].map(attestorJson)} : {}),
    ...(rec.builderKeys.size > 0 ? {builderKeys: [...rec.builderKeys.values()]} : {}),
    ...(Object.keys(policies).length > 0 ? {policies} : {}),
  }
  return {document, missing: [...new Set(rec.missing)]}
}

function repositoryOf(image: string): string | undefined {
  try {
    const w = parseWritten(image)
    return `${w.domain}/${w.path}`
  } catch {
    return undefined
  }
}
