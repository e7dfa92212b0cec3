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
  evaluatePolicy,
  type AttestationCheck,
  type AttestHint,
  type AttestorOutcome,
  type ImageVerdict,
  type Verdict,
} from './policy/evaluate.js'
import {EXIT, SafeDeployError, type ExitCode} from './errors.js'
import {exitForVerdict} from './deploy.js'
import type {Policy} from './policy/types.js'
import type {UnexaminedValue} from './manifest/types.js'

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
export function evaluatePreflight(plan: PreflightPlan, facts: AttestationFacts): PreflightResult {
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
    return {
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
  })
  const unexamined = plan.unexamined ?? []
  const notes = [...evaluation.notes]
  if (unexamined.length > 0) notes.push(incompleteNote(unexamined.length, evaluation.verdict))
  return {verdict: evaluation.verdict, target: plan.target, policy: {source: plan.policy.source}, images, notes, unexamined}
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
export function exitForPreflight(r: Pick<PreflightResult, 'verdict' | 'unexamined'>): ExitCode {
  return incomplete(r) ? EXIT.INPUT : exitForVerdict(r.verdict)
}

/** The verdict has to be read with its unexamined values: true when some were not examined and the verdict is not DENY. */
export function incomplete(r: Pick<PreflightResult, 'verdict' | 'unexamined'>): boolean {
  return (r.unexamined?.length ?? 0) > 0 && r.verdict !== 'DENY'
}
