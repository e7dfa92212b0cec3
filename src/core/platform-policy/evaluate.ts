/**
 * Local evaluation of a GKE platform policy (docs/platform-policy.md#evaluation), docs/platform-policy.md#evaluation: Pod → check set →
 * per image: policy allowlist, check-set allowlist, every check (with its own allowlist) → CONFORMANT /
 * NON_CONFORMANT / ERROR, NON_CONFORMANT beating ERROR at every level (docs/platform-policy.md#evaluation).
 *
 * Pure and synchronous over facts gathered beforehand (docs/architecture.md#facts-then-evaluation). A fact that was
 * not collected makes the check ERROR ("could not check"), never CONFORMANT. `platformFactsNeeded` runs this same
 * evaluation with a recorder in place of the facts, so the list of what to gather cannot drift from what is read.
 * Signature checks of attestations are local PKIX verifications (src/core/attestation) and Cloud Build provenance is
 * verified here with the builder keys the facts carry (./provenance.ts); the sigstore verdict is computed by the caller
 * and arrives as a fact.
 */
import {SafeDeployError} from '../errors.js'
import {checkPkixKey} from '../attestation/keys.js'
import {verifyPkixSignature} from '../attestation/verify.js'
import {parsePayload} from '../attestation/payload.js'
import {digestOfResourceUri} from '../attestation/parse.js'
import type {AttestationOccurrence} from '../attestation/types.js'
import {
  prepareBuilderKeys,
  repositoryOf,
  SLSA_PROVENANCE_V01,
  SLSA_PROVENANCE_V1,
  verifyProvenance,
  type PreparedBuilderKeys,
  type ProvenanceClaims,
  type ProvenanceReading,
} from './provenance.js'
import {allowPatternMatches, directoryOf, firstAllowMatch, sourceRepoMatches, splitReference, trustedDirMatches} from './patterns.js'
import {
  CHECK_TYPE,
  artifactKey,
  type Check,
  type CheckResult,
  type CheckSet,
  type CheckVerdict,
  type ImageAllowlist,
  type ImageResult,
  type MaximumAllowedSeverity,
  type PkixPublicKey,
  type PlatformEvaluation,
  type PlatformFacts,
  type PlatformPolicy,
  type PlatformVerdict,
  type PodImage,
  type PodResult,
  type PodToEvaluate,
  type ProjectFact,
  type BuildOccurrenceFact,
  type Severity,
  type SigstoreVerdictFact,
  type UploadTimeFact,
  type VulnerabilityScanFact,
} from './types.js'

export interface EvaluateOptions {
  /** The clock for freshness: `--at`, the evidence's `collectedAt`, or now. */
  now: Date
}

type VulnProjectFact = {status: 'found'; scan: VulnerabilityScanFact} | {status: 'error'; message: string}

/** Where the evaluator reads facts: PlatformFacts, or a recorder (platformFactsNeeded). */
interface FactReader {
  uploadTime(artifact: string): UploadTimeFact | undefined
  attestations(artifact: string, project: string): ProjectFact<AttestationOccurrence> | undefined
  provenance(artifact: string, project: string): ProjectFact<BuildOccurrenceFact> | undefined
  /** The builder keys, prepared once; undefined when none were given. */
  builderKeys(): PreparedBuilderKeys | undefined
  vulnerabilities(artifact: string, project: string): VulnProjectFact | undefined
  sigstore(artifact: string, keySet: string, publicKeys: string[]): SigstoreVerdictFact | undefined
}

function factsReader(facts: PlatformFacts): FactReader {
  const of = (a: string) => facts.artifacts[a]
  let keys: PreparedBuilderKeys | undefined
  return {
    builderKeys: () => (facts.builderKeys === undefined ? undefined : (keys ??= prepareBuilderKeys(facts.builderKeys))),
    uploadTime: (a) => of(a)?.uploadTime,
    attestations: (a, p) => of(a)?.attestations?.[p],
    provenance: (a, p) => of(a)?.provenance?.[p],
    vulnerabilities: (a, p) => of(a)?.vulnerabilities?.[p],
    sigstore: (a, k) => of(a)?.sigstore?.[k],
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Verdicts

/** NON_CONFORMANT beats ERROR beats CONFORMANT (docs/platform-policy.md#evaluation); an allowlisted check counts as allowed. */
export function combineVerdicts(verdicts: Iterable<CheckVerdict>): PlatformVerdict {
  let out: PlatformVerdict = 'CONFORMANT'
  for (const v of verdicts) {
    if (v === 'NON_CONFORMANT') return 'NON_CONFORMANT'
    if (v === 'ERROR') out = 'ERROR'
  }
  return out
}

/**
 * Google's explanation shape (docs/platform-policy.md#evaluation): `<Type> at index <i> with display name "<name>" has verdict <V>. <reason>`.
 * The observed prose says NOT_CONFORMANT where the enum says NON_CONFORMANT; the prose is kept so log searches match.
 */
export function explanation(kind: string, index: number, displayName: string, verdict: CheckVerdict, reason: string): string {
  const v = verdict === 'NON_CONFORMANT' ? 'NOT_CONFORMANT' : verdict
  return `${kind} at index ${index} with display name "${displayName}" has verdict ${v}. ${reason}`
}

interface Outcome {
  verdict: PlatformVerdict
  reason: string
  notes?: string[]
}

// ---------------------------------------------------------------------------------------------------------------
// Check-set selection (docs/platform-policy.md#evaluation)

export interface Selection {
  index: number | null
  /** The service account used for scope matching (defaulted to `default` when a namespace is known). */
  serviceAccount: string | null
  notes: string[]
}

/**
 * The first check set whose scope matches (the default set, last, always does). A Pod without a namespace
 * (`--image` alone) matches no scoped set, not even one scoped to namespace `default` (SDK-FLAGS, docs/platform-policy.md#evaluation).
 */
export function selectCheckSet(policy: PlatformPolicy, namespace: string | undefined, serviceAccount: string | undefined): Selection {
  const notes: string[] = []
  let sa = serviceAccount ?? null
  if (namespace !== undefined && serviceAccount === undefined) {
    // [OPEN] docs/platform-policy.md#evaluation: Kubernetes admission gives such a Pod the `default` service account, which is what CV sees.
    sa = 'default'
    notes.push(
      'the Pod names no serviceAccountName: evaluated as service account "default", which Kubernetes assigns and CV sees (what the evaluation service assumes is undocumented).',
    )
  }
  const sets = policy.gkePolicy.checkSets
  for (let i = 0; i < sets.length; i++) {
    const s = (sets[i] as CheckSet).scope
    if (s === undefined) return {index: i, serviceAccount: sa, notes}
    if (s.kind === 'serviceAccount' && namespace !== undefined && sa !== null && s.value === `${namespace}:${sa}`) return {index: i, serviceAccount: sa, notes}
    if (s.kind === 'namespace' && namespace !== undefined && s.namespace === namespace) return {index: i, serviceAccount: sa, notes}
  }
  return {index: null, serviceAccount: sa, notes}
}

// ---------------------------------------------------------------------------------------------------------------
// Image facts

interface Subject {
  image: string
  name: string
  /** sha256 digest evaluated, or null (a tag that was not resolved). */
  digest: string | null
  artifact: string | null
  notes: string[]
}

const SHA256_RE = /^sha256:[0-9a-f]{64}$/

function subjectOf(img: PodImage): Subject {
  const ref = splitReference(img.image)
  const notes: string[] = []
  let digest: string | null = null
  if (ref.digest !== null && SHA256_RE.test(ref.digest)) {
    digest = ref.digest
    if (img.digest !== undefined && img.digest !== ref.digest)
      notes.push(`the digest written in the image (${ref.digest}) differs from the resolved digest (${img.digest}); the written one is evaluated.`)
  } else if (ref.digest === null && img.digest !== undefined && SHA256_RE.test(img.digest)) {
    digest = img.digest
    // [INFERRED] docs/platform-policy.md#tags-and-digests: CV evaluates the digest the node pulled; a pre-deploy evaluation uses the resolved one.
    notes.push(
      `"${img.image}" is a tag: the digest-based checks used the resolved digest ${img.digest} (CV evaluates the digest the node pulled; the evaluation service would reject the tag: pin it with \`safe-deploy pin\`).`,
    )
  }
  return {image: img.image, name: ref.name, digest, artifact: digest === null ? null : artifactKey(ref.name, digest), notes}
}

/** The reason a digest-based check gives a tag-only image (DOC-CV, docs/platform-policy.md#tags-and-digests). */
function tagOnly(s: Subject): Outcome {
  return {
    verdict: 'NON_CONFORMANT',
    reason: `Image ${s.image} has no digest: CV doesn't support image tags other than those in exempt images (tag; would need digest).`,
    notes: ['digest-based checks need IMAGE@sha256:…; resolve the tag first (`safe-deploy pin`) to evaluate the digest that will run.'],
  }
}

function notCollected(what: string): Outcome {
  return {verdict: 'ERROR', reason: `${what} was not collected, so the check could not be evaluated.`}
}

// ---------------------------------------------------------------------------------------------------------------
// The checks (docs/platform-policy.md#facts)

type CheckOf<K extends Check['kind']> = Extract<Check, {kind: K}>

/**
 * Whether the wider reading of the [OPEN] points of docs/platform-policy.md#patterns would trust the directory: `dir/*` or `dir/**` covering
 * `dir` itself, or a leading registry `*` spanning several labels. Only used to say so in a note.
 */
function lenientDirMatch(pattern: string, dir: string): boolean {
  if (/\/\*\*?$/.test(pattern) && trustedDirMatches(pattern.replace(/\/\*\*?$/, ''), dir)) return true
  if (!pattern.startsWith('*')) return false
  const slash = dir.indexOf('/')
  const reg = slash < 0 ? dir : dir.slice(0, slash)
  const sfx = (pattern.split('/')[0] ?? '').slice(1)
  if (!reg.endsWith(sfx) || reg.length <= sfx.length) return false
  const head = reg.slice(0, reg.length - sfx.length)
  return head.includes('.') && trustedDirMatches(pattern, head.replaceAll('.', '-') + sfx + (slash < 0 ? '' : dir.slice(slash)))
}

function trustedDirectory(c: CheckOf<'trustedDirectoryCheck'>, s: Subject): Outcome {
  const dir = directoryOf(s.image)
  const hit = c.trustedDirPatterns.find((p) => trustedDirMatches(p, dir))
  if (hit !== undefined) return {verdict: 'CONFORMANT', reason: `Image is in a trusted directory (${dir} matches ${hit}).`}
  const notes: string[] = []
  // [OPEN] docs/platform-policy.md#patterns: whether `dir/*` / `dir/**` also trust `dir` itself, and whether a leading `*` spans dots.
  const near = c.trustedDirPatterns.find((p) => lenientDirMatch(p, dir))
  if (near !== undefined) {
    notes.push(
      `trusted directory pattern "${near}" does not cover directory "${dir}" here: whether Google's \`dir/*\`/\`dir/**\` include \`dir\` itself, or a leading \`*\` spans several subdomain labels, is undocumented; the narrower reading is used.`,
    )
  }
  return {
    verdict: 'NON_CONFORMANT',
    reason: `Image is not in a trusted directory (${dir === '' ? 'no directory' : dir}; trusted: ${c.trustedDirPatterns.join(', ')}).`,
    notes,
  }
}

const DAY_MS = 24 * 60 * 60 * 1000

function freshness(c: CheckOf<'imageFreshnessCheck'>, s: Subject, facts: FactReader, now: Date): Outcome {
  if (s.artifact === null) return tagOnly(s)
  const f = facts.uploadTime(s.artifact)
  if (f === undefined) return notCollected('The upload time (Artifact Registry DockerImage.uploadTime)')
  if (f.status !== 'found') {
    // [INFERRED/OPEN] docs/platform-policy.md#facts: an image outside Artifact Registry cannot be evaluated (ERROR, not NON_CONFORMANT).
    return {verdict: 'ERROR', reason: `The upload time could not be read: ${f.message}`}
  }
  const t = Date.parse(f.uploadTime)
  if (Number.isNaN(t)) return {verdict: 'ERROR', reason: `The upload time ${JSON.stringify(f.uploadTime)} is not an RFC 3339 timestamp.`}
  const ageMs = now.getTime() - t
  const limitMs = c.maxUploadAgeDays * DAY_MS
  const days = (ageMs / DAY_MS).toFixed(1)
  const notes: string[] = []
  if (Math.abs(ageMs - limitMs) < DAY_MS) {
    notes.push(
      'the image is within a day of the freshness limit: days are counted as 24-hour periods with the boundary inclusive (undocumented; docs/platform-policy.md#facts).',
    )
  }
  if (ageMs > limitMs)
    return {
      verdict: 'NON_CONFORMANT',
      reason: `Image is older than ${c.maxUploadAgeDays} days (uploaded ${f.uploadTime}, ${days} days before ${now.toISOString()}).`,
      notes,
    }
  const expires = new Date(t + limitMs).toISOString()
  notes.push(`CV re-evaluates running Pods at least every 24 hours: this image stops satisfying the freshness check after ${expires}.`)
  return {verdict: 'CONFORMANT', reason: `Image was uploaded ${f.uploadTime}, ${days} days ago (at most ${c.maxUploadAgeDays}).`, notes}
}

/** Whether an occurrence carries a signature that a key of the check verifies over a payload naming the digest. */
function verifiedBy(occ: AttestationOccurrence, keys: ReadonlyArray<{key: PkixPublicKey; authenticator: string}>, digest: string): {by?: string; why: string} {
  const uriDigest = digestOfResourceUri(occ.resourceUri)
  if (uriDigest !== digest) return {why: `resourceUri ${occ.resourceUri} is for another artifact`}
  let why = 'no signature by a key of the check'
  for (const sig of occ.signatures) {
    for (const {key, authenticator} of keys.filter((k) => k.key.keyId === sig.publicKeyId)) {
      const prepared = checkPkixKey(key.publicKeyPem, key.signatureAlgorithm)
      if (!prepared.ok) {
        why = `key ${key.keyId} cannot be used: ${prepared.reason}`
        continue
      }
      if (!verifyPkixSignature(prepared.key, prepared.spec, occ.serializedPayload, sig.signature)) {
        why = `signature does not verify with key ${key.keyId}`
        continue
      }
      const p = parsePayload(occ.serializedPayload)
      if (!p.ok) {
        why = p.reason
        continue
      }
      if (p.digest !== digest) {
        why = `signature by key ${key.keyId} verifies, but the payload names ${p.digest}`
        continue
      }
      return {by: `key ${key.keyId} of authenticator "${authenticator}"`, why: ''}
    }
  }
  return {why}
}

function simpleSigning(c: CheckOf<'simpleSigningAttestationCheck'>, s: Subject, facts: FactReader): Outcome {
  if (s.artifact === null || s.digest === null) return tagOnly(s)
  if (c.containerAnalysisAttestationProjects.length === 0) {
    // [OPEN] docs/platform-policy.md#assumptions-the-inferred-and-open-points: "You must explicitly specify one or more projects" (DOC-CV); where Google looks otherwise is unknown.
    return {verdict: 'ERROR', reason: 'The check lists no containerAnalysisAttestationProjects, so there is nowhere to look for attestations.'}
  }
  const keys = c.attestationAuthenticators.flatMap((a, i) => a.pkixPublicKeys.map((key) => ({key, authenticator: a.displayName ?? `#${i}`})))
  const unreadable: string[] = []
  const rejected: string[] = []
  const artifact = s.artifact
  for (const {project, fact: f} of readable(c.containerAnalysisAttestationProjects, (project) => facts.attestations(artifact, project), unreadable)) {
    for (const occ of f.items) {
      const r = verifiedBy(occ, keys, s.digest)
      if (r.by !== undefined)
        return {verdict: 'CONFORMANT', reason: `Image has a valid attestation (${occ.name ?? 'occurrence'} in ${project}) signed by ${r.by}.`}
      rejected.push(`${occ.name ?? project}: ${r.why}`)
    }
  }
  if (unreadable.length > 0)
    return {verdict: 'ERROR', reason: `No verified attestation found, and attestations could not be read from ${unreadable.join('; ')}.`}
  return {
    verdict: 'NON_CONFORMANT',
    reason: `No attestation for ${s.digest} signed by a key of any authenticator was found in ${c.containerAnalysisAttestationProjects.join(', ')}${rejected.length > 0 ? ` (${rejected.join('; ')})` : ''}.`,
    // [OPEN] docs/platform-policy.md#facts: whether DSSE-enveloped occurrences count.
    notes: [
      'only classic AttestationOccurrence signatures (serializedPayload + signatures) are accepted; whether Google also accepts DSSE envelopes is undocumented.',
    ],
  }
}

/**
 * The per-project facts that were read: a project not collected, or whose read failed, is added to `unreadable`
 * (the check is then ERROR unless something else already decides it), never skipped silently.
 */
function readable<F extends {status: 'found'}>(
  projects: readonly string[],
  lookup: (project: string) => F | {status: 'error'; message: string} | undefined,
  unreadable: string[],
): Array<{project: string; fact: F}> {
  const out: Array<{project: string; fact: F}> = []
  for (const project of projects) {
    const f = lookup(project)
    if (f === undefined) unreadable.push(`${project}: not collected`)
    else if (f.status === 'error') unreadable.push(`${project}: ${f.message}`)
    else out.push({project, fact: f})
  }
  return out
}

/** The fact key of a sigstore check: its public keys (OR over authorities and keys, docs/platform-policy.md#facts), sorted and de-duplicated. */
export function sigstoreKeySet(c: CheckOf<'sigstoreSignatureCheck'>): {key: string; publicKeys: string[]} {
  const publicKeys = [...new Set(c.sigstoreAuthorities.flatMap((a) => a.publicKeys.map((k) => k.publicKeyPem.trim() + '\n')))].sort()
  return {key: JSON.stringify(publicKeys), publicKeys}
}

function sigstore(c: CheckOf<'sigstoreSignatureCheck'>, s: Subject, facts: FactReader): Outcome {
  if (s.artifact === null) return tagOnly(s)
  const {key, publicKeys} = sigstoreKeySet(c)
  const f = facts.sigstore(s.artifact, key, publicKeys)
  if (f === undefined) return notCollected("The registry signature verdict for the check's keys")
  if (f.satisfied) return {verdict: 'CONFORMANT', reason: `Image has a signature verified by a key of the check: ${f.reason}`}
  if (f.couldNotCheck) return {verdict: 'ERROR', reason: `Signatures could not be checked: ${f.reason}`}
  return {verdict: 'NON_CONFORMANT', reason: `No signature verified by any key of any authority: ${f.reason}`}
}

/** `trustedBuilder: GOOGLE_CLOUD_BUILD`, "the whole Google Cloud Build (GCB) builder group": any builder id under this prefix [INFERRED]. */
const CLOUD_BUILD_RE = /^https:\/\/cloudbuild\.googleapis\.com\//

type RuleOutcome = {status: 'satisfied'; by: string} | {status: 'unsatisfied'; why: string} | {status: 'error'; why: string}

type Rule = CheckOf<'slsaCheck'>['rules'][number]

/** Why a verified provenance does not satisfy a rule, or undefined when it does. Notes say which assumption decided. */
function ruleProblem(rule: Rule, c: ProvenanceClaims, digest: string, notes: string[]): string | undefined {
  if (c.subjectProblem !== undefined) return `not a provenance of ${digest} (${c.subjectProblem})`
  if (c.predicateType !== SLSA_PROVENANCE_V1 && c.predicateType !== SLSA_PROVENANCE_V01) return `predicate type ${c.predicateType} is not SLSA provenance`
  if (!CLOUD_BUILD_RE.test(c.builderId)) return `built by ${c.builderId === '' ? '(no builder id)' : c.builderId}, not Google Cloud Build`
  if (rule.configBasedBuildRequired) {
    const repo = c.configSourceRepository
    if (repo === undefined) {
      if (c.predicateType === SLSA_PROVENANCE_V01)
        // [INFERRED] docs/platform-policy.md#slsacheck-and-builder-keys: only SLSA v1's buildConfigSource records a checked-in config.
        notes.push(
          'a SLSA v0.1 provenance does not record a checked-in build config, so it cannot satisfy configBasedBuildRequired (Cloud Build writes v1 provenance for trigger builds).',
        )
      return 'not built from a checked-in top-level config (no buildConfigSource in the provenance)'
    }
    if (!rule.trustedSourceRepoPatterns.some((pat) => sourceRepoMatches(pat, repo))) return `config from ${repo}, not a trusted source repository`
    return undefined
  }
  if (rule.trustedSourceRepoPatterns.length > 0) {
    // [OPEN] docs/platform-policy.md#facts item 4: patterns without configBasedBuildRequired; applied to every source the build read.
    notes.push(
      'trustedSourceRepoPatterns without configBasedBuildRequired: every source repository the build read must match (what Google does then is undocumented).',
    )
    const repos = c.sourceUris.map(repositoryOf)
    const bad = repos.length === 0 ? ['(none recorded)'] : repos.filter((r) => !rule.trustedSourceRepoPatterns.some((pat) => sourceRepoMatches(pat, r)))
    if (bad.length > 0) return `source ${bad.join(', ')} is not a trusted source repository`
  }
  return undefined
}

/** One verification per occurrence for all the rules of a check (rules may name the same projects). */
type Verified = (occ: BuildOccurrenceFact) => ProvenanceReading

function slsaRule(rule: Rule, i: number, s: Subject & {artifact: string; digest: string}, facts: FactReader, verify: Verified, notes: string[]): RuleOutcome {
  if (rule.attestationProjects.length === 0) return {status: 'unsatisfied', why: `rule ${i} lists no attestation projects`}
  const errors: string[] = []
  const why: string[] = []
  let found: string | undefined
  for (const {project, fact: f} of readable(rule.attestationProjects, (project) => facts.provenance(s.artifact, project), errors)) {
    for (const occ of f.items) {
      // Nothing unsigned is trusted, not even to reject: a provenance that cannot be verified is ERROR, never CONFORMANT.
      const r = verify(occ)
      if (r.status === 'unverifiable') {
        errors.push(`${occ.name}: the provenance cannot be verified (${r.reason})`)
        continue
      }
      const problem = ruleProblem(rule, r.claims, s.digest, notes)
      if (problem !== undefined) {
        why.push(`${occ.name}: ${problem}`)
        continue
      }
      found ??= `${occ.name} in ${project}, signed with builder key ${r.keyId}`
    }
  }
  if (rule.customConstraints !== undefined) {
    // [OPEN] docs/platform-policy.md#facts: the CEL variables are undocumented, so custom constraints cannot be evaluated locally.
    return {status: 'error', why: `rule ${i} has customConstraints, which cannot be evaluated locally (the CEL variables are undocumented)`}
  }
  if (found !== undefined) return {status: 'satisfied', by: found}
  if (errors.length > 0) return {status: 'error', why: `rule ${i}: ${[...errors, ...why].join('; ')}`}
  return {
    status: 'unsatisfied',
    why: `rule ${i}: ${why.length > 0 ? why.join('; ') : `no BUILD occurrence for ${s.digest} in ${rule.attestationProjects.join(', ')}`}`,
  }
}

function slsa(c: CheckOf<'slsaCheck'>, s: Subject, facts: FactReader): Outcome {
  if (s.artifact === null || s.digest === null) return tagOnly(s)
  const subject = {...s, artifact: s.artifact, digest: s.digest}
  const notes: string[] = []
  const readings = new Map<BuildOccurrenceFact, ProvenanceReading>()
  const verify: Verified = (occ) => {
    let r = readings.get(occ)
    if (r === undefined) readings.set(occ, (r = verifyProvenance(occ, facts.builderKeys(), subject.digest)))
    return r
  }
  const results = c.rules.map((r, i) => slsaRule(r, i, subject, facts, verify, notes))
  const ok = results.find((r) => r.status === 'satisfied')
  if (ok !== undefined && ok.status === 'satisfied') {
    notes.push(
      'the provenance signature was verified with a key given with --builder-keys: Google verifies Cloud Build provenance with its own roots of trust, which the policy does not list.',
      'trustedBuilder GOOGLE_CLOUD_BUILD was read as any builder id under https://cloudbuild.googleapis.com/ (the whole Cloud Build builder group).',
    )
    return {verdict: 'CONFORMANT', reason: `Image has a verified Cloud Build provenance (${ok.by}).`, notes}
  }
  if (results.length === 0) return {verdict: 'NON_CONFORMANT', reason: 'The check has no rules, so none can be satisfied.', notes}
  const text = results.map((r) => (r.status === 'satisfied' ? '' : r.why)).join('; ')
  if (results.some((r) => r.status === 'error')) return {verdict: 'ERROR', reason: `No rule is satisfied and some could not be evaluated: ${text}.`, notes}
  return {verdict: 'NON_CONFORMANT', reason: `Image does not have a verified SLSA provenance satisfying any rule: ${text}.`, notes}
}

const SEVERITY_RANK: Readonly<Record<string, number>> = {MINIMAL: 1, LOW: 2, MEDIUM: 3, HIGH: 4, CRITICAL: 5}

/** Whether a vulnerability severity exceeds a threshold (docs/platform-policy.md#facts): an unspecified severity exceeds everything but ALLOW_ALL. */
export function exceeds(severity: Severity, limit: MaximumAllowedSeverity): boolean {
  if (limit === 'BLOCK_ALL') return true
  if (limit === 'ALLOW_ALL') return false
  const r = SEVERITY_RANK[severity]
  if (r === undefined) return true
  return r > (SEVERITY_RANK[limit] ?? 0)
}

const LIMIT_RANK: Readonly<Record<MaximumAllowedSeverity, number>> = {BLOCK_ALL: 0, MINIMAL: 1, LOW: 2, MEDIUM: 3, HIGH: 4, CRITICAL: 5, ALLOW_ALL: 6}

/** The project of an Artifact Registry / Container Registry image (`REGION-docker.pkg.dev/P/…`, `gcr.io/P/…`), or undefined. */
export function imageProject(name: string): string | undefined {
  const parts = name.split('/')
  const host = parts[0] ?? ''
  if (parts.length < 3) return undefined
  if (/(^|\.)pkg\.dev$/.test(host) || /(^|\.)gcr\.io$/.test(host)) return parts[1] === undefined || parts[1] === '' ? undefined : `projects/${parts[1]}`
  return undefined
}

function vulnerability(c: CheckOf<'vulnerabilityCheck'>, s: Subject, facts: FactReader): Outcome {
  if (s.artifact === null) return tagOnly(s)
  const notes: string[] = []
  let projects = c.containerAnalysisVulnerabilityProjects
  if (projects.length === 0) {
    // [OPEN] docs/platform-policy.md#facts: the default when no project is listed; the image's own project is the reading the spec recommends.
    const own = imageProject(s.name)
    if (own === undefined) {
      return {
        verdict: 'ERROR',
        reason:
          'The check lists no containerAnalysisVulnerabilityProjects and the image is not in an Artifact Registry or Container Registry project to default to.',
      }
    }
    projects = [own]
    notes.push(`no containerAnalysisVulnerabilityProjects: the image's own project ${own} was used (Google's default is undocumented).`)
  }
  const unreadable: string[] = []
  let validScan = false
  const violations = new Map<string, string>()
  let unspecified = false
  let unknownFix = false
  const artifact = s.artifact
  for (const {fact: f} of readable(projects, (project) => facts.vulnerabilities(artifact, project), unreadable)) {
    // [INFERRED] docs/platform-policy.md#facts: a "valid scan" is a DISCOVERY occurrence whose analysis finished.
    if (f.scan.discoveryStatuses.some((st) => st === 'FINISHED_SUCCESS' || st === 'COMPLETE')) validScan = true
    for (const v of f.scan.vulnerabilities) {
      const id = v.noteName.slice(v.noteName.lastIndexOf('/') + 1)
      if (c.allowedCves.includes(id)) continue // allowedCves beats blockedCves (DOC-CV decision rule)
      if (c.blockedCves.includes(id)) {
        violations.set(id, `${id} (blocked)`)
        continue
      }
      // [INFERRED] effectiveSeverity (distro) before the provider's severity; absent: unspecified.
      const sev: Severity = v.effectiveSeverity ?? v.severity ?? 'SEVERITY_UNSPECIFIED'
      let limit: MaximumAllowedSeverity
      if (v.fixAvailable === undefined) {
        unknownFix = true
        limit = LIMIT_RANK[c.maximumFixableSeverity] <= LIMIT_RANK[c.maximumUnfixableSeverity] ? c.maximumFixableSeverity : c.maximumUnfixableSeverity
      } else limit = v.fixAvailable ? c.maximumFixableSeverity : c.maximumUnfixableSeverity
      if (exceeds(sev, limit)) {
        if (SEVERITY_RANK[sev] === undefined) unspecified = true
        const fix = v.fixAvailable === undefined ? 'fix status unknown' : v.fixAvailable ? 'fix available' : 'no fix'
        violations.set(id, `${id} (${sev}, ${fix}; limit ${limit})`)
      }
    }
  }
  if (unspecified)
    notes.push(
      'a vulnerability with unspecified severity was counted as exceeding the threshold (only ALLOW_ALL admits it per the enum doc; kritis did otherwise).',
    )
  if (unknownFix) notes.push('a vulnerability without fixAvailable was held to the stricter of the two thresholds.')
  if (violations.size > 0) {
    const list = [...violations.values()]
    return {
      verdict: 'NON_CONFORMANT',
      reason: `Image has ${list.length} vulnerabilit${list.length === 1 ? 'y' : 'ies'} that violate the check: ${list.join(', ')}.`,
      notes,
    }
  }
  if (unreadable.length > 0) {
    // Google uses the projects it can read; safe-deploy does not call an image conformant on partial data.
    return {verdict: 'ERROR', reason: `Vulnerabilities could not be read from ${unreadable.join('; ')}.`, notes}
  }
  if (!validScan) return {verdict: 'ERROR', reason: `No valid vulnerability scan found in ${projects.join(', ')}.`, notes}
  return {verdict: 'CONFORMANT', reason: 'Image has no vulnerabilities that violate the check.', notes}
}

function evaluateCheck(c: Check, s: Subject, facts: FactReader, now: Date): Outcome {
  switch (c.kind) {
    case 'alwaysDeny':
      return {verdict: 'NON_CONFORMANT', reason: 'Image is denied by an always-deny check.'}
    case 'trustedDirectoryCheck':
      return trustedDirectory(c, s)
    case 'imageFreshnessCheck':
      return freshness(c, s, facts, now)
    case 'simpleSigningAttestationCheck':
      return simpleSigning(c, s, facts)
    case 'sigstoreSignatureCheck':
      return sigstore(c, s, facts)
    case 'slsaCheck':
      return slsa(c, s, facts)
    case 'vulnerabilityCheck':
      return vulnerability(c, s, facts)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Pods and images (docs/platform-policy.md#evaluation)

function allowlistMatch(al: ImageAllowlist | undefined, image: string): string | undefined {
  return al === undefined ? undefined : firstAllowMatch(al.allowPattern, image)
}

/** A note when a `name:tag` pattern of the image's name exists but the image has no tag ([OPEN] docs/platform-policy.md#assumptions-the-inferred-and-open-points). */
function tagPatternNote(al: ImageAllowlist | undefined, s: Subject): string | undefined {
  if (al === undefined) return undefined
  const ref = splitReference(s.image)
  if (ref.tag !== null) return undefined
  const p = al.allowPattern.find((x) => {
    const P = splitReference(x.pattern)
    return P.tag !== null && P.digest === null && P.name === ref.name
  })
  return p === undefined
    ? undefined
    : `allow pattern "${p.pattern}" names a tag and "${s.image}" has none: it is not treated as exempt (whether Google matches name:tag against a digest-only reference is undocumented).`
}

function evaluateImage(
  policy: PlatformPolicy,
  set: {index: number; set: CheckSet} | null,
  img: PodImage,
  podNotes: string[],
  facts: FactReader,
  now: Date,
): ImageResult {
  const s = subjectOf(img)
  const notes = [...podNotes, ...s.notes]
  const base = {image: img.image, digest: s.digest, container: img.container, init: img.init === true}
  const gke = policy.gkePolicy
  const done = (verdict: PlatformVerdict, exemption: ImageResult['exemption'], checks: CheckResult[]): ImageResult => ({
    ...base,
    verdict,
    exemption,
    checks,
    notes: [...new Set(notes)],
  })

  const top = allowlistMatch(gke.imageAllowlist, img.image)
  if (top !== undefined) return done('CONFORMANT', {level: 'policy', pattern: top}, [])
  const n1 = tagPatternNote(gke.imageAllowlist, s)
  if (n1) notes.push(n1)
  if (set === null) {
    notes.push('the policy has no check sets: "always allow" (docs/platform-policy.md#policy-files).')
    return done('CONFORMANT', null, [])
  }
  const csMatch = allowlistMatch(set.set.imageAllowlist, img.image)
  if (csMatch !== undefined) return done('CONFORMANT', {level: 'checkSet', pattern: csMatch}, [])
  const n2 = tagPatternNote(set.set.imageAllowlist, s)
  if (n2) notes.push(n2)
  if (set.set.checks.length === 0) {
    notes.push(`check set ${set.index} has no checks: "always allow" (docs/platform-policy.md#policy-files).`)
    return done('CONFORMANT', null, [])
  }
  // Every check is evaluated, no short-circuit (DOC-CV): the report names every failing check.
  const checks: CheckResult[] = set.set.checks.map((c, j) => {
    const kind = CHECK_TYPE[c.kind]
    const displayName = c.displayName ?? ''
    const exempt = allowlistMatch(c.imageAllowlist, img.image)
    if (exempt !== undefined) {
      return {
        index: j,
        displayName,
        kind,
        verdict: 'ALLOWLISTED',
        explanation: `${kind} at index ${j} with display name "${displayName}" was not evaluated: the image matches its allow pattern "${exempt}".`,
      }
    }
    const o = evaluateCheck(c, s, facts, now)
    for (const n of o.notes ?? []) notes.push(n)
    if (c.kind === 'alwaysDeny') notes.push('the type string of an always-deny check is undocumented; "AlwaysDenyCheck" is used.')
    return {index: j, displayName, kind, verdict: o.verdict, explanation: explanation(kind, j, displayName, o.verdict, o.reason)}
  })
  return done(combineVerdicts(checks.map((c) => c.verdict)), null, checks)
}

export function evaluatePlatformPolicy(
  policy: PlatformPolicy,
  pods: readonly PodToEvaluate[],
  facts: PlatformFacts,
  options: EvaluateOptions,
): PlatformEvaluation {
  return evaluateWith(policy, pods, factsReader(facts), options)
}

function evaluateWith(policy: PlatformPolicy, pods: readonly PodToEvaluate[], facts: FactReader, options: EvaluateOptions): PlatformEvaluation {
  const results: PodResult[] = pods.map((pod) => {
    const sel = selectCheckSet(policy, pod.namespace, pod.serviceAccount)
    const set = sel.index === null ? null : {index: sel.index, set: policy.gkePolicy.checkSets[sel.index] as CheckSet}
    if (set === null && policy.gkePolicy.checkSets.length > 0) {
      // Impossible for a parsed policy (the default set is last); fail closed rather than allow.
      throw new SafeDeployError('INTERNAL', `platform policy ${policy.source}: no check set matches the Pod ${pod.name}, and the policy has check sets`)
    }
    const images = pod.images.map((img) => evaluateImage(policy, set, img, sel.notes, facts, options.now))
    return {
      name: pod.name,
      namespace: pod.namespace ?? null,
      serviceAccount: sel.serviceAccount,
      verdict: combineVerdicts(images.map((i) => i.verdict)),
      checkSetIndex: sel.index,
      checkSetDisplayName: set === null ? null : (set.set.displayName ?? null),
      images,
    }
  })
  return {verdict: combineVerdicts(results.map((p) => p.verdict)), pods: results, notes: [...policy.notes]}
}

// ---------------------------------------------------------------------------------------------------------------
// Facts needed

export interface ArtifactFactsNeeded {
  /** artifactKey(name, digest): the key of PlatformFacts.artifacts. */
  artifact: string
  name: string
  digest: string
  /** The images as written that evaluate this artifact. */
  images: string[]
  uploadTime: boolean
  /** Projects whose ATTESTATION occurrences for `https://NAME@DIGEST` are read. */
  attestationProjects: string[]
  /** Projects whose BUILD (provenance) occurrences are read. */
  provenanceProjects: string[]
  /** Projects whose DISCOVERY and VULNERABILITY occurrences are read. */
  vulnerabilityProjects: string[]
  /** Sigstore verdicts to compute (verifySignatures with these keys), keyed as in ArtifactFacts.sigstore. */
  sigstore: Array<{key: string; publicKeys: string[]}>
}

/**
 * What the evaluation of these Pods reads, per artifact, and nothing else: computed by running the evaluation with a
 * recorder in place of the facts (the recorder answers "not collected", so every check runs to the end).
 */
export function platformFactsNeeded(policy: PlatformPolicy, pods: readonly PodToEvaluate[]): ArtifactFactsNeeded[] {
  const needed = new Map<string, ArtifactFactsNeeded>()
  const entry = (artifact: string): ArtifactFactsNeeded => {
    let e = needed.get(artifact)
    if (!e) {
      const at = artifact.lastIndexOf('@')
      e = {
        artifact,
        name: artifact.slice(0, at),
        digest: artifact.slice(at + 1),
        images: [],
        uploadTime: false,
        attestationProjects: [],
        provenanceProjects: [],
        vulnerabilityProjects: [],
        sigstore: [],
      }
      needed.set(artifact, e)
    }
    return e
  }
  const add = (list: string[], v: string) => {
    if (!list.includes(v)) list.push(v)
  }
  const recorder: FactReader = {
    builderKeys: () => undefined,
    uploadTime: (a) => void (entry(a).uploadTime = true),
    attestations: (a, p) => void add(entry(a).attestationProjects, p),
    provenance: (a, p) => void add(entry(a).provenanceProjects, p),
    vulnerabilities: (a, p) => void add(entry(a).vulnerabilityProjects, p),
    sigstore: (a, key, publicKeys) => {
      const e = entry(a)
      if (!e.sigstore.some((x) => x.key === key)) e.sigstore.push({key, publicKeys})
      return undefined
    },
  }
  evaluateWith(policy, pods, recorder, {now: new Date(0)})
  for (const pod of pods) {
    for (const img of pod.images) {
      const s = subjectOf(img)
      if (s.artifact !== null && needed.has(s.artifact)) add((needed.get(s.artifact) as ArtifactFactsNeeded).images, img.image)
    }
  }
  return [...needed.values()]
}

/** For explain and lint: whether an allow pattern exempts an image (re-exported so callers need one module). */
export {allowPatternMatches}
