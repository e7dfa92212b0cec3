/**
 * The pre-flight stage composed: pinned image sites + policy + trust sources → one typed result
 * that pin/preflight/apply share and the renderers turn into text, JSON, Markdown and JUnit.
 * I/O happens only through the ports passed in.
 */
import {evaluatePolicy, type ImageVerdict, type Verdict} from './policy/evaluate.js'
import {checkAttestor, type AttestorCheck} from './attestation/verify.js'
import type {Policy} from './policy/types.js'
import type {Attestor} from './attestation/types.js'
import type {AttestationSource, AttestorSource} from './ports.js'

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
}

export interface PreflightInput {
  policy: Policy
  systemAllowlist?: {patterns: string[]; approximate: boolean}
  target: Target
  images: PlanImage[]
  attestors: AttestorSource
  attestations: AttestationSource
  now?: Date
}

export async function runPreflight(input: PreflightInput): Promise<PreflightResult> {
  const attestorCache = new Map<string, Promise<Attestor>>()
  const getAttestor = (name: string): Promise<Attestor> => {
    let p = attestorCache.get(name)
    if (!p) {
      p = input.attestors.getAttestor(name)
      attestorCache.set(name, p)
    }
    return p
  }
  const check = async (attestorName: string, digest: string): Promise<{satisfied: boolean; reason: string; details?: AttestorCheck}> => {
    const attestor = await getAttestor(attestorName)
    const occurrences = await input.attestations.listAttestations({noteName: attestor.noteReference, digest})
    const result = await checkAttestor(attestor, occurrences, digest, input.now ? {now: input.now} : {})
    return {satisfied: result.satisfied, reason: result.reason, details: result}
  }
  const evaluation = await evaluatePolicy({
    policy: input.policy,
    ...(input.systemAllowlist ? {systemAllowlist: input.systemAllowlist} : {}),
    context: {
      platform: input.target.platform,
      ...(input.target.cluster ? {cluster: input.target.cluster} : {}),
      ...(input.target.istioIdentity ? {istioIdentity: input.target.istioIdentity} : {}),
    },
    images: input.images.map((i) => ({
      image: i.image, namespace: i.namespace, serviceAccount: i.serviceAccount, breakGlass: i.breakGlass,
      ...(i.digest ? {digest: i.digest} : {}),
    })),
    checkAttestor: check,
  })
  const images: PlanImageResult[] = evaluation.images.map((v, idx) => {
    const src = input.images[idx] as PlanImage
    return {
      ...v,
      original: src.original, namespace: src.namespace, serviceAccount: src.serviceAccount,
      ...(src.workload ? {workload: src.workload} : {}), ...(src.file !== undefined ? {file: src.file} : {}),
      ...(src.document !== undefined ? {document: src.document} : {}), ...(src.path ? {path: src.path} : {}),
      ...(src.line !== undefined ? {line: src.line} : {}),
    }
  })
  return {verdict: evaluation.verdict, target: input.target, policy: {source: input.policy.source}, images, notes: evaluation.notes}
}
