/**
 * The pre-flight evaluation: pinned images + policy + attestation facts → one typed result that
 * preflight/apply/run share and the renderers turn into text, JSON, Markdown and JUnit.
 *
 * Facts, then evaluation (docs/architecture.md#facts-then-evaluation): `attestationFactsNeeded` says which
 * (attestor, digest) checks the plan needs, the application layer gathers and verifies them through its ports
 * (src/app/attestation-facts.ts), then `evaluatePreflight` is synchronous over that data: trust material in,
 * verdict out. Platform policies and registry signatures plug in at the same seam.
 */
import {
  attestationChecksNeeded,
  denyBesidePolicy,
  evaluatePolicy,
  overallVerdict,
  type AttestationCheck,
  type AttestHint,
  type AttestorOutcome,
  type ImageVerdict,
  type Verdict,
} from './policy/evaluate.js'
import {EXIT, SafeDeployError, type ExitCode} from './errors.js'
import {parseWritten} from './reference/index.js'
import {exitForVerdict} from './deploy.js'
import type {Policy} from './policy/types.js'
import type {UnexaminedValue} from './manifest/types.js'
import {signatureRequest, unpinnedVerdict, signatureKey, type RepositoryOverride, type SignatureFacts} from './signatures/requests.js'
import type {SignatureVerdict} from './signatures/types.js'
import {platformPolicyUnchecked, type PlatformPolicyReport} from './platform-policy/preflight.js'

export type {Verdict} from './policy/evaluate.js'

export interface Target {
  platform: 'gke' | 'cloudrun'
  /** LOCATION.NAME for cluster rules. */
  cluster?: string
  /** Namespace used when a document names none. */
  namespace: string
  context?: string
  project?: string
  region?: string
  service?: string
  istioIdentity?: string
}

export interface PlanImage {
  /** As written in the input. */
  original: string
  /** The reference evaluated: pinned, or as written with --no-resolve. */
  image: string
  digest?: string
  namespace: string
  serviceAccount: string
  breakGlass: boolean
  workload?: string
  /** The container (or init/ephemeral container) the image is used by, when named. */
  container?: string
  file?: string
  document?: number
  path?: string
  line?: number
}

/** Reviewer context (Artifact Registry facts, vulnerability counts); never changes the verdict. */
export interface ImageContext {
  artifactRegistry?: {repository: string; immutableTags: boolean; uploadTime?: string; tags: string[]}
  vulnerabilities?: {total: number; bySeverity: Record<string, number>; fixable: number}
}

export interface PlanImageResult extends ImageVerdict {
  context?: ImageContext
  /** The registry signature requirement's outcome for this image (docs/sigstore.md), when one is in force. */
  signatures?: SignatureVerdict
  original: string
  namespace: string
  serviceAccount: string
  workload?: string
  /** The container the image is used by, when named: an image used by two containers is two results. */
  container?: string
  file?: string
  document?: number
  path?: string
  line?: number
}

export interface PreflightResult {
  verdict: Verdict
  target: Target
  policy: {source: string}
  images: PlanImageResult[]
  notes: string[]
  /**
   * Image-like values of the input that no image rule examined: they were not evaluated, so the
   * verdict covers only `images` (docs/image-rules.md#what-preflight-reports). Always set by the
   * pre-flight use case (empty when there are none).
   */
  unexamined?: UnexaminedValue[]
  /** The GKE platform policy's verdict per Pod (--platform-policy), docs/platform-policy.md#in-the-pre-flight. */
  platformPolicy?: PlatformPolicyReport
}

/** Everything the pre-flight evaluates, gathered beforehand (no ports). */
export interface PreflightPlan {
  policy: Policy
  systemAllowlist?: {patterns: string[]; approximate: boolean}
  target: Target
  images: PlanImage[]
  /** Image-like values no rule examined (reported, never evaluated). */
  unexamined?: UnexaminedValue[]
  /** Where the `attest` next step of a denial reads attestors and writes the attestation (the invocation's trust sources). */
  attestHint?: AttestHint
  /** Registry signatures are required too (--sigstore-key / identity, or the profile's requireSignatures): an image is allowed only if both allow. */
  signatures?: {repository?: RepositoryOverride; attestationTypes: string[]}
}

export type {AttestationCheck} from './policy/evaluate.js'

/** Verified attestor outcomes keyed by factKey(attestor, digest). */
export type AttestationFacts = ReadonlyMap<string, AttestorOutcome>

export function factKey(attestor: string, digest: string): string {
  return `${attestor}\u0000${digest}`
}

function evaluationInput(plan: PreflightPlan) {
  return {
    policy: plan.policy,
    ...(plan.systemAllowlist ? {systemAllowlist: plan.systemAllowlist} : {}),
    ...(plan.attestHint ? {attestHint: plan.attestHint} : {}),
    context: {
      platform: plan.target.platform,
      ...(plan.target.cluster ? {cluster: plan.target.cluster} : {}),
      ...(plan.target.istioIdentity ? {istioIdentity: plan.target.istioIdentity} : {}),
    },
    images: plan.images.map((i) => ({
      image: i.image,
      namespace: i.namespace,
      serviceAccount: i.serviceAccount,
      breakGlass: i.breakGlass,
      ...(i.digest ? {digest: i.digest} : {}),
    })),
  }
}

/** The attestor checks the plan needs (each once): what the application layer gathers before evaluating. */
export function attestationFactsNeeded(plan: PreflightPlan): AttestationCheck[] {
  return attestationChecksNeeded(evaluationInput(plan))
}

/**
 * The verdict for every image of the plan over facts gathered beforehand. A fact the evaluation asks
 * for that was not gathered is a bug, and it fails closed (INTERNAL), never "allowed".
 */
export function evaluatePreflight(plan: PreflightPlan, facts: AttestationFacts, signatureFacts: SignatureFacts = new Map()): PreflightResult {
  const evaluation = evaluatePolicy({
    ...evaluationInput(plan),
    checkAttestor: (attestor, digest) => {
      const fact = facts.get(factKey(attestor, digest))
      if (fact === undefined) throw new SafeDeployError('INTERNAL', `pre-flight: the check of attestor ${attestor} for ${digest} was not gathered`)
      return fact
    },
  })
  const images: PlanImageResult[] = evaluation.images.map((v, idx) => {
    const src = plan.images[idx] as PlanImage
    const result: PlanImageResult = {
      ...v,
      original: src.original,
      namespace: src.namespace,
      serviceAccount: src.serviceAccount,
      ...(src.workload ? {workload: src.workload} : {}),
      ...(src.container ? {container: src.container} : {}),
      ...(src.file !== undefined ? {file: src.file} : {}),
      ...(src.document !== undefined ? {document: src.document} : {}),
      ...(src.path ? {path: src.path} : {}),
      ...(src.line !== undefined ? {line: src.line} : {}),
    }
    return plan.signatures ? withSignatures(result, signatureVerdict(plan.signatures, src, signatureFacts), plan.signatures, src.breakGlass) : result
  })
  const unexamined = plan.unexamined ?? []
  const notes = [...evaluation.notes, ...requirementNotes(images)]
  if (unexamined.length > 0) notes.push(incompleteNote(unexamined.length, evaluation.verdict))
  const verdict = plan.signatures ? overallVerdict(images.map((i) => i.verdict)) : evaluation.verdict
  return {verdict, target: plan.target, policy: {source: plan.policy.source}, images, notes, unexamined}
}

/**
 * Notes every image's signature verdict carries alike (the thresholds of the requirement) are said
 * once for the whole result, not on every image.
 */
function requirementNotes(images: PlanImageResult[]): string[] {
  const withSignatures = images.filter((i) => i.signatures !== undefined)
  const first = withSignatures[0]?.signatures?.notes ?? []
  const shared = first.filter((n) => withSignatures.every((i) => i.signatures?.notes.includes(n)))
  for (const i of withSignatures) i.notes = i.notes.filter((n) => !shared.includes(n))
  return shared
}

function signatureVerdict(req: NonNullable<PreflightPlan['signatures']>, image: PlanImage, facts: SignatureFacts): SignatureVerdict {
  const request = signatureRequest(image, req.repository)
  if (request === undefined) return unpinnedVerdict(image.image)
  const fact = facts.get(signatureKey(request))
  if (fact === undefined) throw new SafeDeployError('INTERNAL', `pre-flight: the signatures of ${signatureKey(request)} were not gathered`)
  return fact
}

/** What the reason line of an image denied by the registry signature requirement says (scan and the renderers tell it from the policy's by it). */
export const SIGNATURE_REASON = 'denied by the registry signature requirement'

/**
 * An image is allowed only if the policy and the signature requirement both allow it: an unmet
 * requirement denies it as denyBesidePolicy says. "Could not check" leaves the verdict to the caller,
 * which refuses to go on (exit 4).
 */
function withSignatures(v: PlanImageResult, sv: SignatureVerdict, req: NonNullable<PreflightPlan['signatures']>, breakGlass: boolean): PlanImageResult {
  const out: PlanImageResult = {...v, signatures: sv, notes: [...v.notes, ...sv.notes]}
  if (sv.satisfied || sv.couldNotCheck) return out
  out.reasons = [...v.reasons, `Image ${v.evaluatedImage} ${SIGNATURE_REASON}: ${sv.reason}`]
  out.nextSteps = [...v.nextSteps, ...signFixes(digestReference(v), sv, req)]
  denyBesidePolicy(out, breakGlass)
  return out
}

/** REPOSITORY@sha256:… as cosign and `attest` take it (the tag adds nothing once the digest is known). */
function digestReference(v: PlanImageResult): string {
  if (v.digest === undefined) return v.image
  try {
    return `${parseWritten(v.image).name}@${v.digest}`
  } catch {
    return v.image
  }
}

/** The commands that would produce what is missing: safe-deploy's own signer, or cosign's. */
function signFixes(ref: string, sv: SignatureVerdict, req: NonNullable<PreflightPlan['signatures']>): string[] {
  if (!ref.includes('@sha256:')) return [`safe-deploy pin -f FILE   # sign and deploy ${ref} by digest`]
  const verified = new Set(sv.attestations.filter((a) => a.verified).map((a) => a.predicateType))
  const fixes: string[] = []
  if (!sv.signatures.some((s) => s.verified))
    fixes.push(`safe-deploy attest --sigstore --image ${ref} --private-key KEY.pem   # or: cosign sign --key cosign.key ${ref}`)
  for (const type of req.attestationTypes)
    if (!verified.has(type))
      fixes.push(
        `safe-deploy attest --sigstore --image ${ref} --attestation-type ${type} --predicate PREDICATE.json --private-key KEY.pem   # or: cosign attest --key cosign.key --type ${type} --predicate PREDICATE.json ${ref}`,
      )
  return fixes
}

function incompleteNote(n: number, verdict: Verdict): string {
  return (
    `${n} image-like value(s) of the input were not examined (no image rule covers them): the verdict ${verdict} covers only the examined images` +
    (verdict === 'DENY' ? '' : ', so this pre-flight does not allow the input (exit 3)')
  )
}

/**
 * The pre-flight's exit status: the verdict's, except that an input with unexamined image-like
 * values is never allowed. A DENY stands (more images cannot make it better); any other verdict
 * becomes an input error (3): the images that were not examined could be denied.
 */
export function exitForPreflight(r: Pick<PreflightResult, 'verdict' | 'unexamined' | 'platformPolicy'>): ExitCode {
  // An enforced platform policy that could not check an image: "could not check" (4), before the rest.
  if (platformPolicyUnchecked(r)) return EXIT.UNCHECKED
  return incomplete(r) ? EXIT.INPUT : exitForVerdict(r.verdict)
}

/** The verdict has to be read with its unexamined values: true when some were not examined and the verdict is not DENY. */
export function incomplete(r: Pick<PreflightResult, 'verdict' | 'unexamined'>): boolean {
  return (r.unexamined?.length ?? 0) > 0 && r.verdict !== 'DENY'
}
