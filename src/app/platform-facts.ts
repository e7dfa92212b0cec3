/**
 * Gather the facts a GKE platform policy needs (docs/platform-policy.md#in-the-pre-flight), once per digest, and
 * nothing else: what `platformFactsNeeded` asked for. Trusted directories, allowlists and alwaysDeny need none.
 *
 * - sigstoreSignatureCheck: the registry's signatures for the digest (one SignatureSource read per artifact), verified
 *   with `verifySignatures` against each check's keys (the union of its authorities' keys: any one suffices).
 * - simpleSigningAttestationCheck: ATTESTATION occurrences of `https://NAME@DIGEST` in each project the check names.
 * - imageFreshnessCheck: Artifact Registry `DockerImage.uploadTime`.
 * - vulnerabilityCheck: DISCOVERY statuses and VULNERABILITY occurrences of the resource in each project it names.
 * - slsaCheck: BUILD occurrences (Cloud Build provenance, with their DSSE envelopes) of the resource in each project its
 *   rules name, and the builder keys (`--builder-keys`) they are verified with; verification is the evaluator's
 *   (docs/platform-policy.md#slsacheck-and-builder-keys). Without keys a provenance is ERROR, never CONFORMANT.
 *
 * A lookup that fails is data (`{status: 'error'}`): the evaluator makes that check ERROR, and NON_CONFORMANT still
 * wins for the image when another check fails.
 */
import {SafeDeployError} from '../core/errors.js'
import {redact} from '../core/redact.js'
import {settleAll} from '../core/settle.js'
import {parseWritten} from '../core/reference/index.js'
import type {AttestationOccurrence} from '../core/attestation/types.js'
import type {ArtifactFactsNeeded} from '../core/platform-policy/evaluate.js'
import type {
  ArtifactFacts,
  BuilderKey,
  BuilderKeySpec,
  BuildOccurrenceFact,
  PlatformFacts,
  ProjectFact,
  SigstoreVerdictFact,
  UploadTimeFact,
  VulnerabilityScanFact,
} from '../core/platform-policy/types.js'
import {prepareRequirement, type PreparedRequirement} from '../core/signatures/requirement.js'
import {verifySignatures} from '../core/signatures/verify.js'
import type {SignatureArtifacts} from '../core/signatures/types.js'
import type {SignatureRequest, SignatureSource} from '../core/ports.js'

/** ATTESTATION occurrences of one resource in one project, whatever their note. Throws when it cannot read them. */
export interface ProjectAttestationSource {
  listResourceAttestations(project: string, resourceUri: string): Promise<AttestationOccurrence[]>
}

/** Artifact Registry upload times: `not-found` for an image outside Artifact Registry. Throws when it cannot read. */
export interface UploadTimeSource {
  uploadTime(imageWithDigest: string): Promise<UploadTimeFact>
}

/** DISCOVERY and VULNERABILITY occurrences of one resource in one project. Throws when it cannot read them. */
export interface VulnerabilityScanSource {
  vulnerabilityScan(project: string, resourceUri: string): Promise<VulnerabilityScanFact>
}

/** BUILD occurrences (Cloud Build provenance) of one resource in one project. Throws when it cannot read them. */
export interface BuildOccurrenceSource {
  listBuildOccurrences(project: string, resourceUri: string): Promise<BuildOccurrenceFact[]>
}

/** Each source is opened only when some needed fact asks for it. */
export interface PlatformFactPorts {
  signatures(): SignatureSource
  attestations(): Promise<ProjectAttestationSource>
  uploadTimes(): Promise<UploadTimeSource>
  vulnerabilities(): Promise<VulnerabilityScanSource>
  provenance(): Promise<BuildOccurrenceSource>
  /** The keys provenance is verified with (`--builder-keys`, already read and checked); absent: none given. */
  builderKeys?: readonly BuilderKeySpec[]
  /** Cloud KMS, for builder keys given by key version only; opened only for such a key. */
  kmsPublicKeys?(): Promise<KmsPublicKeySource>
}

/** The public key (PEM) of a Cloud KMS key version. Throws when it cannot be read. */
export interface KmsPublicKeySource {
  publicKeyPem(versionName: string): Promise<string>
}

const message = (err: unknown): string => redact(err instanceof Error ? err.message : String(err))

export async function gatherPlatformFacts(needed: readonly ArtifactFactsNeeded[], ports: PlatformFactPorts): Promise<PlatformFacts> {
  const artifacts: Record<string, ArtifactFacts> = {}
  const facts = (n: ArtifactFactsNeeded): ArtifactFacts => (artifacts[n.artifact] ??= {})
  let keys: BuilderKey[] | undefined
  await settleAll([
    sigstoreFacts(needed, ports, facts),
    attestationFacts(needed, ports, facts),
    uploadTimeFacts(needed, ports, facts),
    vulnerabilityFacts(needed, ports, facts),
    provenanceFacts(needed, ports, facts),
    // The keys travel with the facts only when a provenance is read, so the facts say what verified it.
    needed.some((n) => n.provenanceProjects.length > 0) && ports.builderKeys !== undefined
      ? resolveBuilderKeys(ports.builderKeys, ports).then((k) => void (keys = k))
      : Promise.resolve(),
  ])
  return {artifacts, ...(keys === undefined ? {} : {builderKeys: keys})}
}

/**
 * Every builder key with its PEM: an entry given by Cloud KMS key version only is read with getPublicKey (only the
 * versions the user listed, never one an envelope names). A key that cannot be read stops the pre-flight as "could
 * not check" (exit 4): a trusted key missing would turn every provenance it signed into an ERROR for the wrong reason.
 */
async function resolveBuilderKeys(specs: readonly BuilderKeySpec[], ports: PlatformFactPorts): Promise<BuilderKey[]> {
  const fromKms = specs.filter((k) => k.publicKeyPem === undefined)
  const pems = new Map<string, string>()
  if (fromKms.length > 0) {
    if (ports.kmsPublicKeys === undefined) throw new SafeDeployError('INTERNAL', 'platform policy: builder keys from Cloud KMS without a KMS port')
    const kms = await ports.kmsPublicKeys()
    await settleAll(fromKms.map(async (k) => void pems.set(k.keyId, await kms.publicKeyPem(k.keyId))))
  }
  return specs.map((k) => ({keyId: k.keyId, publicKeyPem: k.publicKeyPem ?? (pems.get(k.keyId) as string)}))
}

type FactsOf = (n: ArtifactFactsNeeded) => ArtifactFacts

async function sigstoreFacts(needed: readonly ArtifactFactsNeeded[], ports: PlatformFactPorts, facts: FactsOf): Promise<void> {
  const wanted = needed.filter((n) => n.sigstore.length > 0)
  if (wanted.length === 0) return
  // One requirement per key set, prepared once: a key the policy holds that cannot be parsed is exit 7 before any read.
  const prepared = new Map<string, PreparedRequirement>()
  for (const n of wanted)
    for (const ks of n.sigstore)
      if (!prepared.has(ks.key))
        prepared.set(
          ks.key,
          prepareRequirement({
            keys: ks.publicKeys.map((pem, i) => ({name: `sigstoreSignatureCheck key ${i + 1}`, pem})),
            identities: [],
            attestationTypes: [],
          }),
        )
  const requests: SignatureRequest[] = wanted.map((n) => {
    const w = parseWritten(n.name)
    return {image: n.images[0] ?? n.artifact, domain: w.domain, path: w.path, digest: n.digest, attestations: false}
  })
  const read: SignatureArtifacts[] = await ports.signatures().read(requests)
  wanted.forEach((n, i) => {
    const artifactsRead = read[i]
    if (artifactsRead === undefined) throw new SafeDeployError('INTERNAL', `platform policy: no signature lookup for ${n.artifact}`)
    const verdicts: Record<string, SigstoreVerdictFact> = {}
    for (const ks of n.sigstore) {
      const v = verifySignatures(prepared.get(ks.key) as PreparedRequirement, artifactsRead)
      const failed = v.failedLookups.map((f) => `${f.location}: ${f.message}`)
      verdicts[ks.key] = {satisfied: v.satisfied, couldNotCheck: v.couldNotCheck, reason: v.couldNotCheck && failed.length > 0 ? failed.join('; ') : v.reason}
    }
    facts(n).sigstore = verdicts
  })
}

/**
 * One read per artifact and per project it names, all at once. A failed read is recorded as that project's error
 * (the evaluator then says ERROR for the check, never CONFORMANT), not thrown: one unreadable project must not hide
 * what the others hold.
 */
async function readPerProject<F>(
  wanted: readonly ArtifactFactsNeeded[],
  projectsOf: (n: ArtifactFactsNeeded) => readonly string[],
  read: (projectId: string, resourceUri: string) => Promise<F>,
): Promise<Map<ArtifactFactsNeeded, Record<string, F | {status: 'error'; message: string}>>> {
  const out = new Map<ArtifactFactsNeeded, Record<string, F | {status: 'error'; message: string}>>()
  await settleAll(
    wanted.map(async (n) => {
      const byProject: Record<string, F | {status: 'error'; message: string}> = {}
      await settleAll(
        projectsOf(n).map(async (project) => {
          try {
            byProject[project] = await read(project.replace(/^projects\//, ''), `https://${n.artifact}`)
          } catch (err) {
            byProject[project] = {status: 'error', message: message(err)}
          }
        }),
      )
      out.set(n, byProject)
    }),
  )
  return out
}

async function attestationFacts(needed: readonly ArtifactFactsNeeded[], ports: PlatformFactPorts, facts: FactsOf): Promise<void> {
  const wanted = needed.filter((n) => n.attestationProjects.length > 0)
  if (wanted.length === 0) return
  const source = await ports.attestations()
  const read = await readPerProject(
    wanted,
    (n) => n.attestationProjects,
    async (id, uri): Promise<ProjectFact<AttestationOccurrence>> => ({status: 'found', items: await source.listResourceAttestations(id, uri)}),
  )
  for (const [n, byProject] of read) facts(n).attestations = byProject
}

async function uploadTimeFacts(needed: readonly ArtifactFactsNeeded[], ports: PlatformFactPorts, facts: FactsOf): Promise<void> {
  const wanted = needed.filter((n) => n.uploadTime)
  if (wanted.length === 0) return
  const source = await ports.uploadTimes()
  await settleAll(
    wanted.map(async (n) => {
      try {
        facts(n).uploadTime = await source.uploadTime(n.artifact)
      } catch (err) {
        facts(n).uploadTime = {status: 'error', message: message(err)}
      }
    }),
  )
}

async function vulnerabilityFacts(needed: readonly ArtifactFactsNeeded[], ports: PlatformFactPorts, facts: FactsOf): Promise<void> {
  const wanted = needed.filter((n) => n.vulnerabilityProjects.length > 0)
  if (wanted.length === 0) return
  const source = await ports.vulnerabilities()
  const read = await readPerProject(
    wanted,
    (n) => n.vulnerabilityProjects,
    async (id, uri) => ({status: 'found' as const, scan: await source.vulnerabilityScan(id, uri)}),
  )
  for (const [n, byProject] of read) facts(n).vulnerabilities = byProject
}

async function provenanceFacts(needed: readonly ArtifactFactsNeeded[], ports: PlatformFactPorts, facts: FactsOf): Promise<void> {
  const wanted = needed.filter((n) => n.provenanceProjects.length > 0)
  if (wanted.length === 0) return
  const source = await ports.provenance()
  const read = await readPerProject(
    wanted,
    (n) => n.provenanceProjects,
    async (id, uri): Promise<ProjectFact<BuildOccurrenceFact>> => ({status: 'found', items: await source.listBuildOccurrences(id, uri)}),
  )
  for (const [n, byProject] of read) facts(n).provenance = byProject
}
