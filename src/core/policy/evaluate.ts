/**
 * Local evaluation of a Binary Authorization project policy (docs/binauthz.md#evaluation-order):
 * system exemption → allowlist → rule selection → evaluation mode → enforcement mode → break-glass.
 * Pure and synchronous: attestation checks come in through `checkAttestor`, a lookup into facts gathered
 * beforehand (docs/architecture.md#facts-then-evaluation); `attestationChecksNeeded` says which facts those are.
 * A checkAttestor that throws propagates: the caller reports "could not check", never "allowed".
 */
import {parseWritten, isSha256Digest} from '../reference/index.js'
import {
  BUILTIN_SYSTEM_ALLOWLIST,
  exactPatternHint,
  explainMatch,
  matchAny,
  normalizationHint,
  patternHasTag,
  type MatchResult,
  type SystemAllowlist,
} from './allowlist.js'
import {ruleLabel, selectRule, type Platform, type RuleCandidate, type RuleSelection, type SelectContext} from './select.js'
import type {AdmissionRule, EnforcementMode, EvaluationMode, GlobalPolicyEvaluationMode, Policy, RuleKind} from './types.js'

export type Verdict = 'ALLOW' | 'DENY' | 'DRYRUN_DENY' | 'ALLOW_BREAKGLASS'

/** GKE attestor reasons (docs/binauthz.md#denial-messages). */
export const NO_VALID_ATTESTATIONS = 'No attestations found that were valid and signed by a key trusted by the attestor'
export const TAG_NOT_DIGEST = 'Expected digest with sha256 scheme, but got tag or malformed digest'
export const ALWAYS_DENY_REASON = 'Denied by always_deny admission rule'

export interface EvaluationContext {
  platform: Platform
  /** `location.name` (GKE cluster rules). */
  cluster?: string
  /** Default namespace for images that name none. */
  namespace?: string
  /** Default service account for images that name none (`default` when unset). */
  serviceAccount?: string
  istioIdentity?: string
  /** Break-glass for the whole request (GKE annotation / Cloud Run --breakglass). */
  breakGlass?: boolean
}

export interface ImageToEvaluate {
  /** As written in the workload (GKE matches this string), maybe pinned (`name@sha256:…`, `name:tag@sha256:…`). */
  image: string
  /** The resolved digest, when known. On Cloud Run it is what gets evaluated; on GKE only the written digest counts. */
  digest?: string
  namespace?: string
  serviceAccount?: string
  istioIdentity?: string
  /** Break-glass on this image's pod (`alpha.image-policy.k8s.io/break-glass: "true"`). */
  breakGlass?: boolean
  /** Opaque id echoed back, for the caller to correlate. */
  id?: string
}

export interface AttestorOutcome {
  satisfied: boolean
  reason: string
  details?: unknown
}

export type CheckAttestor = (attestorName: string, digest: string) => AttestorOutcome

export interface ImageVerdict {
  id?: string
  image: string
  digest?: string
  /** The string the policy was matched against (GKE: the image as written; Cloud Run: name@digest). */
  evaluatedImage: string
  verdict: Verdict
  /** What the verdict would be without break-glass (DENY) or dry-run (DENY). */
  wouldBe?: Verdict
  rule: {kind: RuleKind; key?: string; evaluationMode: EvaluationMode; enforcementMode: EnforcementMode; line?: number}
  exemption?: {kind: 'allowlist' | 'system'; pattern: string; approximate?: boolean}
  attestors: Array<{attestor: string; satisfied: boolean; reason: string; details?: unknown}>
  /** GKE-style lines: `Image X denied by Binary Authorization default admission rule.`, then one line per reason. */
  reasons: string[]
  /** Assumptions and warnings. */
  notes: string[]
  nextSteps: string[]
}

/**
 * What the `safe-deploy attest` next step needs besides the image and the attestor to run as printed,
 * from the invocation (or profile) being evaluated: where the attestor is read and where the
 * attestation goes. Without it, the step names placeholders (`--attestors DIR --output-dir DIR`).
 */
export interface AttestHint {
  /** Attestors read from this directory (`--attestors DIR`); otherwise from the Binary Authorization API. */
  attestors?: string
  /** Attestations read from this directory: attest writes there (`--output-dir DIR`) and signs with a local key. */
  outputDir?: string
  /** Attestations read from this project's Container Analysis: attest stores there (`--project P`) and signs with Cloud KMS. */
  project?: string
  /** Further flags of the invocation the command needs as given (API endpoints). */
  extra?: readonly string[]
}

/** `safe-deploy attest …` for one image and attestor, every flag it needs (a signer placeholder: KEY). */
export function attestCommand(image: string, attestor: string, hint: AttestHint | undefined): string {
  const h: AttestHint = hint ?? {attestors: 'DIR', outputDir: 'DIR'}
  const words = ['safe-deploy', 'attest', '--image', image, '--attestor', attestor]
  if (h.attestors !== undefined) words.push('--attestors', h.attestors)
  if (h.outputDir !== undefined) words.push('--output-dir', h.outputDir)
  else if (h.project !== undefined) words.push('--project', h.project)
  words.push(...(h.extra ?? []))
  words.push(...(h.outputDir !== undefined ? ['--private-key', 'KEY.pem'] : ['--kms-key', 'KEY']))
  return words.map(shellWord).join(' ')
}

/** A word as a POSIX shell reads it back (quoted only when it has to be). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

export interface EvaluationInput {
  policy: Policy
  /** Exemptions when globalPolicyEvaluationMode is ENABLE (GKE). Default: the built-in approximate list. */
  systemAllowlist?: {patterns: string[]; approximate: boolean}
  context: EvaluationContext
  images: ImageToEvaluate[]
  checkAttestor: CheckAttestor
  /** Completes the `attest` next step of a denial (see AttestHint). */
  attestHint?: AttestHint
}

export interface EvaluationResult {
  verdict: Verdict
  images: ImageVerdict[]
  notes: string[]
}

const UNVERIFIED_WORDING =
  'the deny message wording for namespace, service-account and Istio rules is unverified (no public sample; modelled on the cluster rule message).'

const RANK: Record<Verdict, number> = {ALLOW: 0, DRYRUN_DENY: 1, ALLOW_BREAKGLASS: 2, DENY: 3}

/**
 * A requirement beside the policy (registry signatures, a GKE platform policy) is not met: the image is denied
 * whatever the policy said short of DENY, a dry-run denial included (these are enforced by safe-deploy, not in
 * the policy's dry-run mode); break-glass still admits it, saying it would be denied.
 */
export function denyBesidePolicy(v: Pick<ImageVerdict, 'verdict' | 'wouldBe'>, breakGlass: boolean): void {
  if (v.verdict === 'DENY') return
  if (breakGlass) {
    v.verdict = 'ALLOW_BREAKGLASS'
    v.wouldBe = 'DENY'
  } else {
    v.verdict = 'DENY'
    delete v.wouldBe
  }
}

/** The overall verdict: DENY if any enforced deny, else ALLOW_BREAKGLASS, else DRYRUN_DENY, else ALLOW. */
export function overallVerdict(verdicts: readonly Verdict[]): Verdict {
  let worst: Verdict = 'ALLOW'
  for (const v of verdicts) if (RANK[v] > RANK[worst]) worst = v
  return worst
}

function push(list: string[], s: string | undefined): void {
  if (s !== undefined && !list.includes(s)) list.push(s)
}

interface ImageFacts {
  name: string | undefined
  /** sha256 digest usable for attestations (undefined: tag or malformed). */
  digest: string | undefined
  /** What is matched against allowlists; undefined on Cloud Run when the tag is not resolved. */
  evaluated: string | undefined
  notes: string[]
}

function imageFacts(img: ImageToEvaluate, platform: Platform): ImageFacts {
  const notes: string[] = []
  let name: string | undefined
  let written: string | undefined
  try {
    const w = parseWritten(img.image)
    name = w.name
    written = w.digest
  } catch (e) {
    notes.push(
      `"${img.image}" is not a valid image reference (${e instanceof Error ? e.message : String(e)}); Binary Authorization treats it as a tag or malformed digest.`,
    )
  }
  if (img.digest !== undefined && written !== undefined && img.digest !== written) {
    notes.push(`the digest written in the image (${written}) differs from the resolved digest (${img.digest}); the written one is evaluated.`)
  }
  if (platform === 'gke') {
    return {name, digest: isSha256Digest(written) ? written : undefined, evaluated: img.image, notes}
  }
  // Cloud Run resolves the tag to a digest before evaluating: the policy sees name@digest.
  const d = written ?? img.digest
  if (name !== undefined && d !== undefined && isSha256Digest(d)) return {name, digest: d, evaluated: `${name}@${d}`, notes}
  if (name !== undefined && d === undefined) {
    notes.push(
      `Cloud Run resolves "${img.image}" to a digest at deploy time; it was not resolved here, so digest-dependent results are uncertain (pin it with \`safe-deploy pin\`).`,
    )
    return {name, digest: undefined, evaluated: undefined, notes}
  }
  return {name, digest: undefined, evaluated: img.image, notes}
}

/** Allowlist matching for an image; on Cloud Run without a digest, a pattern must match any digest to count. */
function matchList(facts: ImageFacts, patterns: readonly string[]): {match?: string; uncertain: Array<{pattern: string; why: string}>} {
  if (facts.evaluated !== undefined) return matchAny(facts.evaluated, patterns)
  const a = `${facts.name ?? ''}@sha256:${'0'.repeat(64)}`
  const b = `${facts.name ?? ''}@sha256:${'f'.repeat(64)}`
  const uncertain: Array<{pattern: string; why: string}> = []
  for (const pattern of patterns) {
    const ra = explainMatch(a, pattern).result
    const rb = explainMatch(b, pattern).result
    if (ra === 'match' && rb === 'match') return {match: pattern, uncertain}
    // A pattern naming (a prefix of) a specific digest of this image may or may not match the digest to come.
    const literal = pattern.replace(/\*+$/, '')
    const digestPrefix = `${facts.name ?? ''}@sha256:`
    const namesDigest = literal.startsWith(digestPrefix) && /^[0-9a-f]*$/.test(literal.slice(digestPrefix.length))
    if (namesDigest || ra !== 'no-match' || rb !== 'no-match') uncertain.push({pattern, why: 'it depends on the digest Cloud Run will resolve'})
  }
  return {uncertain}
}

interface RuleOutcome {
  candidate: RuleCandidate
  /** After enforcement mode: ALLOW, DENY or DRYRUN_DENY. */
  verdict: Verdict
  attestors: ImageVerdict['attestors']
  reasons: string[]
}

function suggestPattern(facts: ImageFacts, image: string): string {
  if (facts.name === undefined) return image
  return facts.digest !== undefined ? `${facts.name}@*` : `${facts.name}:*`
}

export function evaluatePolicy(input: EvaluationInput): EvaluationResult {
  const {policy, context} = input
  const system: SystemAllowlist = input.systemAllowlist ?? BUILTIN_SYSTEM_ALLOWLIST
  const globalMode: GlobalPolicyEvaluationMode = policy.globalPolicyEvaluationMode
  const topNotes: string[] = [...(policy.notes ?? [])]
  const memo = new Map<string, AttestorOutcome>()
  const check = (attestor: string, digest: string): AttestorOutcome => {
    const key = `${attestor}\u0000${digest}`
    let p = memo.get(key)
    if (!p) {
      p = input.checkAttestor(attestor, digest)
      memo.set(key, p)
    }
    return p
  }

  if (context.platform === 'gke' && globalMode === 'GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED') {
    push(topNotes, 'globalPolicyEvaluationMode is not set (UNSPECIFIED), which behaves as DISABLE: Google-maintained system images are not exempt.')
  }
  if (context.platform === 'cloudrun' && policy.admissionWhitelistPatterns.some((p) => patternHasTag(p.namePattern))) {
    push(
      topNotes,
      'Cloud Run resolves tags to digests before evaluating, so allowlist patterns with a tag never match on Cloud Run; use IMAGE@*, PATH/** or IMAGE@sha256:….',
    )
  }

  const evalRule = (cand: RuleCandidate, img: ImageToEvaluate, facts: ImageFacts): RuleOutcome => {
    const rule: AdmissionRule = cand.rule
    const header = `Image ${img.image} denied by Binary Authorization ${ruleLabel(cand.kind, cand.key)}.`
    let denied = false
    const reasons: string[] = []
    const attestors: ImageVerdict['attestors'] = []
    switch (rule.evaluationMode) {
      case 'ALWAYS_ALLOW':
        break
      case 'ALWAYS_DENY':
        denied = true
        reasons.push(ALWAYS_DENY_REASON)
        break
      case 'REQUIRE_ATTESTATION': {
        const digest = facts.digest
        const results = rule.requireAttestationsBy.map((attestor) => {
          if (digest === undefined) return {attestor, satisfied: false, reason: TAG_NOT_DIGEST}
          const r = check(attestor, digest)
          return {attestor, satisfied: r.satisfied, reason: r.reason, ...(r.details === undefined ? {} : {details: r.details})}
        })
        for (const r of results) {
          attestors.push(r)
          if (!r.satisfied) {
            denied = true
            reasons.push(`Image ${img.image} denied by attestor ${r.attestor}: ${r.reason}`)
          }
        }
        break
      }
    }
    const verdict: Verdict = !denied ? 'ALLOW' : rule.enforcementMode === 'DRYRUN_AUDIT_LOG_ONLY' ? 'DRYRUN_DENY' : 'DENY'
    return {candidate: cand, verdict, attestors, reasons: denied ? [header, ...reasons] : []}
  }

  const evaluateImage = (img: ImageToEvaluate): ImageVerdict => {
    const facts = imageFacts(img, context.platform)
    const notes: string[] = [...facts.notes]
    const nextSteps: string[] = []
    const selCtx: SelectContext = {platform: context.platform}
    const cluster = context.cluster
    const namespace = img.namespace ?? context.namespace
    const serviceAccount = img.serviceAccount ?? context.serviceAccount
    const istio = img.istioIdentity ?? context.istioIdentity
    if (cluster !== undefined) selCtx.cluster = cluster
    if (namespace !== undefined) selCtx.namespace = namespace
    if (serviceAccount !== undefined) selCtx.serviceAccount = serviceAccount
    if (istio !== undefined) selCtx.istioIdentity = istio
    const selection: RuleSelection = selectRule(policy, selCtx)
    for (const n of selection.notes) {
      push(notes, n)
      push(topNotes, n)
    }
    const breakGlass = img.breakGlass ?? context.breakGlass ?? false
    const base = {
      ...(img.id === undefined ? {} : {id: img.id}),
      image: img.image,
      ...(facts.digest !== undefined ? {digest: facts.digest} : img.digest !== undefined ? {digest: img.digest} : {}),
      evaluatedImage: facts.evaluated ?? img.image,
    }
    const ruleInfo = (kind: RuleKind, key: string | undefined, rule: AdmissionRule): ImageVerdict['rule'] => ({
      kind,
      ...(key === undefined ? {} : {key}),
      evaluationMode: rule.evaluationMode,
      enforcementMode: rule.enforcementMode,
      ...(rule.line === undefined ? {} : {line: rule.line}),
    })
    const allowed = (exemption: NonNullable<ImageVerdict['exemption']>, reason: string): ImageVerdict => {
      if (breakGlass) push(notes, 'break-glass is set: GKE logs a break-glass event even though the policy allows the image.')
      return {
        ...base,
        verdict: 'ALLOW',
        rule: ruleInfo(selection.kind, selection.key, selection.rule),
        exemption,
        attestors: [],
        reasons: [reason],
        notes,
        nextSteps,
      }
    }

    // 1. System policy (GKE only, globalPolicyEvaluationMode ENABLE).
    if (context.platform === 'gke') {
      const sys = matchList(facts, system.patterns)
      if (globalMode === 'ENABLE') {
        if (sys.match !== undefined) {
          if (system.approximate) {
            push(
              notes,
              "system-image exemption from the built-in approximate list (Google's list is not published and varies by region); export the real one with `gcloud alpha container binauthz policy export-system-policy --location=REGION`.",
            )
          }
          return allowed(
            {kind: 'system', pattern: sys.match, ...(system.approximate ? {approximate: true} : {})},
            `Image ${img.image} allowed: Google-maintained system image (pattern ${sys.match}${system.approximate ? ', approximate' : ''}).`,
          )
        }
        for (const u of sys.uncertain) push(notes, `system pattern "${u.pattern}" may exempt the image (${u.why}); treated as not matching.`)
      } else if (sys.match !== undefined) {
        push(
          notes,
          `the image matches system pattern ${sys.match}, but globalPolicyEvaluationMode is ${globalMode} so system images are not exempt; allowlist it or set globalPolicyEvaluationMode: ENABLE.`,
        )
      }
    }

    // 2. Allowlist.
    const patterns = policy.admissionWhitelistPatterns.map((p) => p.namePattern)
    const wl = matchList(facts, patterns)
    if (wl.match !== undefined) {
      const line = policy.admissionWhitelistPatterns.find((p) => p.namePattern === wl.match)?.line
      return allowed(
        {kind: 'allowlist', pattern: wl.match},
        `Image ${img.image} allowed: matches allowlist pattern ${wl.match}${line === undefined ? '' : ` (line ${line})`}.`,
      )
    }
    for (const u of wl.uncertain) push(notes, `allowlist pattern "${u.pattern}" may exempt the image: ${u.why}; treated as not matching (conservative).`)
    const hintTarget = facts.evaluated ?? img.image
    const allowlistHints: Array<{fix: string}> = []
    for (const p of patterns) {
      const norm = normalizationHint(hintTarget, p)
      const exact = exactPatternHint(hintTarget, p)
      push(notes, norm)
      push(notes, exact)
      if (norm !== undefined) allowlistHints.push({fix: `pattern "${p}" differs from "${hintTarget}" only by docker.io/ or library/ (see notes)`})
      if (exact !== undefined) allowlistHints.push({fix: `pattern "${p}" has no wildcard; "${p}@*" or "${p}:*" would cover "${hintTarget}" (see notes)`})
      if (context.platform === 'cloudrun' && patternHasTag(p) && explainMatch(img.image, p).result === 'match') {
        push(
          notes,
          `allowlist pattern "${p}" matches "${img.image}" as written, but Cloud Run evaluates the resolved digest, so tag patterns never match; use ${facts.name ?? 'IMAGE'}@* instead.`,
        )
      }
    }

    // 3-4. Rule(s) and evaluation; when several candidates may apply, the strictest verdict wins (conservative).
    const outcomes = selection.candidates.map((c) => evalRule(c, img, facts))
    let chosen = outcomes.find((o) => o.candidate.kind === selection.kind && o.candidate.key === selection.key) ?? (outcomes[0] as RuleOutcome)
    for (const o of outcomes) if (RANK[o.verdict] > RANK[chosen.verdict]) chosen = o
    if (outcomes.length > 1) {
      const list = outcomes.map((o) => `${ruleLabel(o.candidate.kind, o.candidate.key)}${o.candidate.certain ? '' : ' (may apply)'} → ${o.verdict}`).join('; ')
      const agree = outcomes.every((o) => o.verdict === chosen.verdict)
      push(notes, `several rules may apply: ${list}. ${agree ? 'They agree.' : `They disagree; the strictest (${chosen.verdict}) is reported.`}`)
    }
    const {candidate, attestors} = chosen
    const rule = candidate.rule
    const reasons = [...chosen.reasons]
    if (chosen.verdict !== 'ALLOW' && candidate.kind !== 'default' && candidate.kind !== 'cluster') push(notes, UNVERIFIED_WORDING)

    let verdict: Verdict = chosen.verdict
    let wouldBe: Verdict | undefined
    if (verdict === 'DRYRUN_DENY') {
      wouldBe = 'DENY'
      push(
        notes,
        `the ${ruleLabel(candidate.kind, candidate.key)} is in dry-run (DRYRUN_AUDIT_LOG_ONLY): the deploy proceeds and the denial is only audit-logged.`,
      )
    }
    if (verdict === 'DENY' && breakGlass) {
      verdict = 'ALLOW_BREAKGLASS'
      wouldBe = 'DENY'
      push(notes, 'break-glass: the request is admitted despite the denial, and a break-glass event is audit-logged.')
    } else if (breakGlass && verdict === 'ALLOW') {
      push(notes, 'break-glass is set: GKE logs a break-glass event even though the policy allows the image.')
    }
    if (verdict === 'ALLOW') {
      reasons.push(
        rule.evaluationMode === 'ALWAYS_ALLOW'
          ? `Image ${img.image} allowed by the ${ruleLabel(candidate.kind, candidate.key)} (ALWAYS_ALLOW).`
          : `Image ${img.image} allowed by the ${ruleLabel(candidate.kind, candidate.key)}: every required attestor has a valid attestation.`,
      )
    }

    // Next steps for a denial (also shown for dry-run and break-glass, which would be denials once enforced).
    if (chosen.verdict !== 'ALLOW') {
      if (rule.evaluationMode === 'ALWAYS_DENY') {
        nextSteps.push(
          `the ${ruleLabel(candidate.kind, candidate.key)} denies every image not allowlisted: to exempt this one add "- namePattern: ${suggestPattern(facts, img.image)}" to admissionWhitelistPatterns (or change the rule).`,
        )
      } else if (facts.digest === undefined) {
        nextSteps.push('pin the image to a digest (`safe-deploy pin`): REQUIRE_ATTESTATION only accepts image@sha256:… references.')
        if (facts.name !== undefined && img.digest !== undefined && isSha256Digest(img.digest)) {
          for (const a of attestors) nextSteps.push(attestCommand(`${facts.name}@${img.digest}`, a.attestor, input.attestHint))
        }
      } else {
        for (const a of attestors) {
          if (!a.satisfied) nextSteps.push(attestCommand(`${facts.name ?? img.image}@${facts.digest}`, a.attestor, input.attestHint))
        }
      }
      for (const h of allowlistHints) push(nextSteps, `or fix the allowlist: ${h.fix}`)
    }

    return {
      ...base,
      verdict,
      ...(wouldBe === undefined ? {} : {wouldBe}),
      rule: ruleInfo(candidate.kind, candidate.key, rule),
      attestors,
      reasons,
      notes,
      nextSteps,
    }
  }

  const images = input.images.map(evaluateImage)
  if (images.length === 0) push(topNotes, 'no images to evaluate.')
  if (images.some((i) => i.exemption?.approximate === true)) {
    push(topNotes, 'some images were exempted by the built-in approximate system image list; pass an exported system policy for an exact answer.')
  }
  push(topNotes, 'this is a local prediction: policy changes take a few minutes to propagate, and the system image list differs by region during rollouts.')
  return {verdict: overallVerdict(images.map((i) => i.verdict)), images, notes: topNotes}
}

export interface AttestationCheck {
  attestor: string
  digest: string
}

/**
 * The attestor checks an evaluation will ask for, each (attestor, digest) once: the facts to gather
 * before evaluating. Found by running the evaluation itself with a recorder in place of the facts, so
 * the list can never drift from what evaluatePolicy asks (every required attestor of every candidate
 * rule is asked whatever the answers, so a placeholder answer does not change which are asked).
 */
export function attestationChecksNeeded(input: Omit<EvaluationInput, 'checkAttestor'>): AttestationCheck[] {
  const needed = new Map<string, AttestationCheck>()
  evaluatePolicy({
    ...input,
    checkAttestor: (attestor, digest) => {
      needed.set(`${attestor}\u0000${digest}`, {attestor, digest})
      return {satisfied: false, reason: 'not gathered yet'}
    },
  })
  return [...needed.values()]
}

// ---------------------------------------------------------------------------------------------------------------
// explain

export interface ExplainContext extends SelectContext {
  systemAllowlist?: {patterns: string[]; approximate: boolean}
}

export interface RuleExplanation {
  platform: Platform
  kind: RuleKind
  key?: string
  rule: AdmissionRule
  candidates: RuleCandidate[]
  /** Attestors that must ALL have a valid attestation for the image's digest (REQUIRE_ATTESTATION). */
  attestorsRequired: string[]
  system: {mode: GlobalPolicyEvaluationMode; applies: boolean; approximate: boolean; match?: string}
  /** Present when an image was given. */
  allowlist?: Array<{pattern: string; line?: number; result: MatchResult; why?: string}>
  /** Human-readable explanation, one statement per line. */
  lines: string[]
  notes: string[]
}

/** Which rule applies and why, which allowlist patterns match, which attestors are needed (`safe-deploy policy explain`). */
export function explainRule(policy: Policy, ctx: ExplainContext, image?: string): RuleExplanation {
  const selCtx: SelectContext = {platform: ctx.platform}
  if (ctx.cluster !== undefined) selCtx.cluster = ctx.cluster
  if (ctx.namespace !== undefined) selCtx.namespace = ctx.namespace
  if (ctx.serviceAccount !== undefined) selCtx.serviceAccount = ctx.serviceAccount
  if (ctx.istioIdentity !== undefined) selCtx.istioIdentity = ctx.istioIdentity
  const sel = selectRule(policy, selCtx)
  const notes = [...(policy.notes ?? []), ...sel.notes]
  const lines: string[] = []
  const system = ctx.systemAllowlist ?? BUILTIN_SYSTEM_ALLOWLIST
  const rule = sel.rule

  if (ctx.platform === 'cloudrun') {
    lines.push('Platform: Cloud Run — only the default admission rule applies.')
  } else {
    lines.push(
      `Platform: GKE — cluster ${ctx.cluster ?? '(unknown)'}, namespace ${ctx.namespace ?? 'default (assumed)'}, service account ${ctx.serviceAccount ?? 'default'}` +
        `${ctx.istioIdentity === undefined ? '' : `, Istio identity ${ctx.istioIdentity}`}.`,
    )
  }
  const at = rule.line === undefined ? '' : ` (${policy.source}:${rule.line})`
  lines.push(`Rule: ${ruleLabel(sel.kind, sel.key)}${at}: ${rule.evaluationMode}, ${rule.enforcementMode}.`)
  if (sel.kind === 'default') {
    lines.push(
      ctx.platform === 'cloudrun'
        ? 'Why: Cloud Run supports the default rule only.'
        : 'Why: no cluster, namespace, service account or Istio identity rule matches, so the default rule applies.',
    )
  } else {
    lines.push(`Why: the key "${sel.key ?? ''}" matches, so the default rule is not considered.`)
  }
  for (const c of sel.candidates) {
    if (c.kind === sel.kind && c.key === sel.key) continue
    lines.push(
      `Also ${c.certain ? 'matches' : 'may apply'}: ${ruleLabel(c.kind, c.key)}: ${c.rule.evaluationMode}, ${c.rule.enforcementMode} (the strictest verdict is reported).`,
    )
  }
  switch (rule.evaluationMode) {
    case 'ALWAYS_ALLOW':
      lines.push('Evaluation: every image is allowed (no digest or attestation needed).')
      break
    case 'ALWAYS_DENY':
      lines.push('Evaluation: every image is denied unless it is allowlisted.')
      break
    case 'REQUIRE_ATTESTATION':
      lines.push(
        `Evaluation: the image must be referenced by digest (@sha256:…) and have a valid attestation from ALL of: ${rule.requireAttestationsBy.join(', ')}.`,
      )
      break
  }
  lines.push(
    rule.enforcementMode === 'DRYRUN_AUDIT_LOG_ONLY'
      ? 'Enforcement: dry run — a denial is audit-logged and the deploy proceeds.'
      : 'Enforcement: enforced — a denial blocks the deploy (unless break-glass).',
  )
  const systemApplies = ctx.platform === 'gke' && policy.globalPolicyEvaluationMode === 'ENABLE'
  lines.push(
    systemApplies
      ? `System images: exempt (globalPolicyEvaluationMode ENABLE)${system.approximate ? '; built-in approximate list' : ''}.`
      : `System images: not exempt (globalPolicyEvaluationMode ${policy.globalPolicyEvaluationMode}${ctx.platform === 'cloudrun' ? '; the system policy applies to GKE only' : ''}).`,
  )

  const out: RuleExplanation = {
    platform: ctx.platform,
    kind: sel.kind,
    ...(sel.key === undefined ? {} : {key: sel.key}),
    rule,
    candidates: sel.candidates,
    attestorsRequired: rule.evaluationMode === 'REQUIRE_ATTESTATION' ? [...rule.requireAttestationsBy] : [],
    system: {mode: policy.globalPolicyEvaluationMode, applies: systemApplies, approximate: system.approximate},
    lines,
    notes,
  }

  if (image !== undefined) {
    const facts = imageFacts({image}, ctx.platform)
    for (const n of facts.notes) push(notes, n)
    if (systemApplies) {
      const s = matchList(facts, system.patterns)
      if (s.match !== undefined) {
        out.system.match = s.match
        lines.push(`Image ${image}: exempt as a system image (pattern ${s.match}${system.approximate ? ', approximate' : ''}).`)
      }
    }
    const target = facts.evaluated
    out.allowlist = policy.admissionWhitelistPatterns.map((p) => {
      let r: {result: MatchResult; why?: string}
      if (target !== undefined) r = explainMatch(target, p.namePattern)
      else {
        const m = matchList(facts, [p.namePattern])
        r = m.match !== undefined ? {result: 'match'} : m.uncertain[0] ? {result: 'uncertain', why: m.uncertain[0].why} : {result: 'no-match'}
      }
      return {pattern: p.namePattern, ...(p.line === undefined ? {} : {line: p.line}), result: r.result, ...(r.why === undefined ? {} : {why: r.why})}
    })
    const matching = out.allowlist.filter((a) => a.result === 'match')
    if (matching.length > 0) lines.push(`Allowlist: ${matching.map((a) => a.pattern).join(', ')} match(es) ${image}: the image is exempt from the rule.`)
    else if (policy.admissionWhitelistPatterns.length > 0) lines.push(`Allowlist: no pattern matches ${target ?? image}.`)
    for (const a of out.allowlist)
      if (a.result === 'uncertain') lines.push(`Allowlist: ${a.pattern} may match (${a.why ?? 'undocumented'}); treated as not matching.`)
    for (const p of policy.admissionWhitelistPatterns) {
      push(notes, normalizationHint(target ?? image, p.namePattern))
      push(notes, exactPatternHint(target ?? image, p.namePattern))
    }
    if (rule.evaluationMode === 'REQUIRE_ATTESTATION' && matching.length === 0 && out.system.match === undefined && facts.digest === undefined) {
      lines.push(`Image ${image} has no sha256 digest: it would be denied ("${TAG_NOT_DIGEST}"); pin it with \`safe-deploy pin\`.`)
    }
  }
  return out
}
