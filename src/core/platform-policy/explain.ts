/**
 * `safe-deploy policy explain` for GKE platform policies, docs/platform-policy.md#explain: which check set a
 * namespace / service account selects (and why each earlier set did not), and, for an image, which allowlist
 * exempts it or which checks apply and what each needs. Pure: no facts, so no verdicts.
 */
import {selectCheckSet} from './evaluate.js'
import {firstAllowMatch, splitReference} from './patterns.js'
import {CHECK_TYPE, type CheckKind, type CheckSet, type PlatformPolicy, type Scope} from './types.js'

export interface CheckSetCandidate {
  index: number
  displayName: string | null
  scope: string
  selected: boolean
  /** Why it matches or not (only the sets up to the selected one are listed). */
  why: string
}

export interface CheckExplanation {
  index: number
  displayName: string
  kind: string
  /** The check's allow pattern exempting the image, when an image was given. */
  exemptedBy: string | null
  /** What the check reads (docs/platform-policy.md#facts). */
  needs: string
  /** Digest-based checks fail a tag-only reference (docs/platform-policy.md#tags-and-digests). */
  needsDigest: boolean
}

export interface PlatformExplanation {
  namespace: string | null
  serviceAccount: string | null
  checkSetIndex: number | null
  checkSetDisplayName: string | null
  candidates: CheckSetCandidate[]
  image: string | null
  /** Which allowlist exempts the image before any check runs. */
  exemption: {level: 'policy' | 'checkSet'; pattern: string} | null
  checks: CheckExplanation[]
  notes: string[]
}

const NEEDS: Readonly<Record<CheckKind, string>> = {
  alwaysDeny: 'nothing: always NON_CONFORMANT',
  trustedDirectoryCheck: 'the image reference only (its directory)',
  imageFreshnessCheck: 'the Artifact Registry upload time of the digest',
  simpleSigningAttestationCheck: 'ATTESTATION occurrences of the digest in the listed projects, verified with the policy keys',
  sigstoreSignatureCheck: 'cosign signatures stored beside the image, verified with the policy keys',
  slsaCheck: 'Cloud Build provenance (BUILD occurrences) in the listed projects, verified with the builder keys (--builder-keys)',
  vulnerabilityCheck: 'DISCOVERY and VULNERABILITY occurrences of the digest in the listed projects',
}

function scopeText(s: Scope | undefined): string {
  if (s === undefined) return 'default (unscoped)'
  return s.kind === 'serviceAccount' ? `kubernetesServiceAccount ${s.value}` : `kubernetesNamespace ${s.namespace}`
}

export function explainPlatformPolicy(policy: PlatformPolicy, input: {namespace?: string; serviceAccount?: string; image?: string}): PlatformExplanation {
  const sel = selectCheckSet(policy, input.namespace, input.serviceAccount)
  const notes = [...sel.notes]
  if (input.namespace === undefined) notes.push('no namespace: like `gcloud … policy evaluate --image`, only the default (unscoped) check set applies.')
  const sets = policy.gkePolicy.checkSets
  const last = sel.index ?? sets.length - 1
  const candidates: CheckSetCandidate[] = sets.slice(0, last + 1).map((s, i) => {
    const selected = i === sel.index
    let why: string
    if (s.scope === undefined) why = 'the default set matches every Pod not matched by an earlier set'
    else if (input.namespace === undefined) why = 'a scoped set never matches a Pod without a namespace'
    else if (s.scope.kind === 'namespace') why = selected ? `namespace ${input.namespace} matches` : `namespace ${input.namespace} is not ${s.scope.namespace}`
    else why = selected ? `${input.namespace}:${sel.serviceAccount ?? ''} matches` : `${input.namespace}:${sel.serviceAccount ?? ''} is not ${s.scope.value}`
    return {index: i, displayName: s.displayName ?? null, scope: scopeText(s.scope), selected, why}
  })
  if (sets.length === 0) notes.push('the policy has no check sets: every image is allowed ("always allow").')
  const set: CheckSet | undefined = sel.index === null ? undefined : sets[sel.index]
  let exemption: PlatformExplanation['exemption'] = null
  const checks: CheckExplanation[] = []
  if (input.image !== undefined) {
    const top = firstAllowMatch(policy.gkePolicy.imageAllowlist?.allowPattern ?? [], input.image)
    const cs = set === undefined ? undefined : firstAllowMatch(set.imageAllowlist?.allowPattern ?? [], input.image)
    if (top !== undefined) exemption = {level: 'policy', pattern: top}
    else if (cs !== undefined) exemption = {level: 'checkSet', pattern: cs}
    if (exemption === null && splitReference(input.image).digest === null) {
      notes.push('the image has no digest: every check except trustedDirectoryCheck and alwaysDeny is NON_CONFORMANT for it unless it is resolved first.')
    }
  }
  if (set !== undefined && exemption === null) {
    set.checks.forEach((c, j) => {
      checks.push({
        index: j,
        displayName: c.displayName ?? '',
        kind: CHECK_TYPE[c.kind],
        exemptedBy: input.image === undefined ? null : (firstAllowMatch(c.imageAllowlist?.allowPattern ?? [], input.image) ?? null),
        needs: NEEDS[c.kind],
        needsDigest: c.kind !== 'trustedDirectoryCheck' && c.kind !== 'alwaysDeny',
      })
    })
    if (set.checks.length === 0) notes.push(`check set ${sel.index} has no checks: every image is allowed ("always allow").`)
  }
  return {
    namespace: input.namespace ?? null,
    serviceAccount: sel.serviceAccount,
    checkSetIndex: sel.index,
    checkSetDisplayName: set?.displayName ?? null,
    candidates,
    image: input.image ?? null,
    exemption,
    checks,
    notes,
  }
}
