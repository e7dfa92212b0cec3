/** Pure renderers for a pre-flight result: terminal text, Markdown for reviewers, JUnit for CD. */
import {incomplete, SIGNATURE_REASON, type PreflightResult, type PlanImageResult, type Verdict} from '../core/preflight.js'
import {imageRulesSnippet, ruleSnippet, unexaminedWarning} from '../core/manifest/unexamined.js'
import {posix} from 'node:path'
import {NO_CLASSIC_POLICY, PLATFORM_REASON, platformPolicyUnchecked, type PlatformPolicyReport} from '../core/platform-policy/preflight.js'
import type {ImageResult, PlatformVerdict, PodResult} from '../core/platform-policy/types.js'
import picocolors from 'picocolors'

const {createColors} = picocolors

const SYMBOL: Record<Verdict, string> = {ALLOW: 'ok  ', DENY: 'DENY', DRYRUN_DENY: 'DRY ', ALLOW_BREAKGLASS: 'BRK '}

function short(digest: string | undefined): string {
  return digest ? digest.slice(0, 19) + '…' : '(no digest)'
}

function ruleLabel(i: PlanImageResult): string {
  if (i.exemption)
    return `${i.exemption.kind === 'system' ? 'system policy' : 'allowlist'} ${i.exemption.pattern}${i.exemption.approximate ? ' (approximate)' : ''}`
  const r = i.rule
  const where = r.kind === 'default' ? 'default rule' : `${r.kind} rule ${r.key ?? ''}`.trim()
  const dry = r.enforcementMode === 'DRYRUN_AUDIT_LOG_ONLY' ? ', dry-run' : ''
  return `${where}: ${r.evaluationMode}${dry}`
}

function targetLabel(r: PreflightResult): string {
  const t = r.target
  if (t.platform === 'cloudrun')
    return `Cloud Run${t.project ? ' project ' + t.project : ''}${t.region ? ' region ' + t.region : ''}${t.service ? ' service ' + t.service : ''} (default rule only)`
  return `GKE${t.cluster ? ' cluster ' + t.cluster : ' (no cluster given: cluster rules not matched)'}${t.context ? ' context ' + t.context : ''}`
}

/** Reviewer context in one line: repository facts and vulnerability counts (never part of the verdict). */
export function contextLine(i: PlanImageResult): string | undefined {
  const parts: string[] = []
  const ar = i.context?.artifactRegistry
  if (ar)
    parts.push(
      `${ar.repository.split('/').pop() ?? ar.repository}: tags ${ar.immutableTags ? 'immutable' : 'MUTABLE'}${ar.uploadTime ? `, uploaded ${ar.uploadTime}` : ''}${ar.tags.length ? `, tags ${ar.tags.join(', ')}` : ''}`,
    )
  const v = i.context?.vulnerabilities
  if (v) {
    const sev = Object.entries(v.bySeverity)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')
    parts.push(`vulnerabilities ${v.total}${sev ? ` (${sev})` : ''}, ${v.fixable} fixable`)
  }
  return parts.length ? parts.join('; ') : undefined
}

export function verdictSummary(r: PreflightResult): string {
  const counts = new Map<Verdict, number>()
  for (const i of r.images) counts.set(i.verdict, (counts.get(i.verdict) ?? 0) + 1)
  const parts = [...counts.entries()].map(([v, n]) => `${n} ${v}`)
  return `${r.verdict} (${r.images.length} image(s): ${parts.join(', ') || 'none'})`
}

function attestorWarnings(details: unknown): string[] {
  const w = (details as {warnings?: unknown} | undefined)?.warnings
  return Array.isArray(w) ? w.filter((x): x is string => typeof x === 'string') : []
}

/** How the terminal text is styled: the decision (TTY, NO_COLOR, FORCE_COLOR, CI, --no-color) is the caller's. */
export interface TextOptions {
  color?: boolean
  /** -o wide: each image line also names its namespace, service account, rule and full digest. */
  wide?: boolean
}

/** `sha256:1a2b3c4d…`: enough to tell digests apart on a line; commands to run carry the full one. */
export function shortDigest(digest: string): string {
  const [alg, hex] = digest.split(':', 2)
  return hex === undefined ? digest.slice(0, 15) + '…' : `${alg}:${hex.slice(0, 8)}…`
}

/** The image as written, with the digest evaluated in short form (whether written or resolved). */
function imageShort(i: PlanImageResult): string {
  const at = i.original.indexOf('@')
  const name = at >= 0 ? i.original.slice(0, at) : i.original
  const digest = i.digest ?? (at >= 0 ? i.original.slice(at + 1) : undefined)
  return digest ? `${name}@${shortDigest(digest)}` : i.original
}

function fileLine(i: Pick<PlanImageResult, 'file' | 'line'>): string {
  return i.file ? `${i.file}${i.line ? ':' + i.line : ''}` : ''
}

/** `default admission rule`, `cluster admission rule us-central1.prod` (the GKE denial message's words). */
function ruleName(i: PlanImageResult): string {
  const r = i.rule
  return r.kind === 'default' ? 'default admission rule' : `${r.kind} admission rule${r.key ? ' ' + r.key : ''}`
}

/** Why an image that was not allowed was not: one line per unmet requirement. */
function unmet(i: PlanImageResult): string[] {
  const dry = i.rule.enforcementMode === 'DRYRUN_AUDIT_LOG_ONLY' ? ' (dry-run)' : ''
  const lines = i.attestors.filter((a) => !a.satisfied).map((a) => `${ruleName(i)}${dry} requires attestor ${a.attestor}: ${a.reason}`)
  // Anything else the evaluation said (ALWAYS_DENY), without the GKE header, attestor and signature lines shown apart.
  // Denied by the platform policy alone: the classic rule's own "allowed by" line is not an unmet requirement.
  const byPlatform = i.reasons.some((r) => r.startsWith(PLATFORM_REASON))
  for (const reason of i.reasons) {
    if (/ denied by (Binary Authorization |attestor )/.test(reason) || reason.includes(SIGNATURE_REASON)) continue
    if (byPlatform && / allowed by /.test(reason)) continue
    if (reason.startsWith(PLATFORM_REASON)) {
      lines.push(reason)
      continue
    }
    lines.push(`${ruleName(i)}${dry}: ${reason}`)
  }
  const signatures = i.signatures && !i.signatures.satisfied ? [`registry signatures required: ${i.signatures.reason}`] : []
  return lines.length > 0 || signatures.length > 0 ? [...lines, ...signatures] : [`${ruleName(i)}${dry}: ${i.rule.evaluationMode}`]
}

/** What admitted an allowed image, for the end of its line. */
function allowedBy(i: PlanImageResult): string {
  return policyAllowedBy(i) + (i.signatures?.satisfied ? `; ${signedBy(i.signatures)}` : '')
}

function policyAllowedBy(i: PlanImageResult): string {
  if (i.exemption) return ruleLabel(i)
  if (i.rule.evaluationMode === 'REQUIRE_ATTESTATION' && i.attestors.length > 0)
    return `${ruleName(i)}: valid attestation by ${i.attestors.map((a) => a.attestor).join(', ')}`
  return `${ruleName(i)}: ${i.rule.evaluationMode}`
}

/** `signed by ci.pub (bundle); attested https://slsa.dev/provenance/v1 by ci.pub`: what verified, for an allowed image. */
function signedBy(s: NonNullable<PlanImageResult['signatures']>): string {
  const sig = s.signatures.find((c) => c.verified)
  const parts = sig ? [`signed by ${sig.verifiedBy ?? '?'} (${sig.format})`] : []
  for (const a of s.attestations.filter((c) => c.verified)) parts.push(`attested ${a.predicateType ?? '?'} by ${a.verifiedBy ?? '?'}`)
  return parts.join('; ')
}

/**
 * One line per image (verdict, image as written with a short digest, container, workload, file:line),
 * then one indented line per unmet requirement, warnings and notes, then the next step; the overall
 * verdict last. Colour only when `color` is true.
 */
export function renderPreflightText(r: PreflightResult, opts: TextOptions = {}): string {
  const c = createColors(opts.color === true)
  const paint: Record<Verdict, (s: string) => string> = {
    ALLOW: c.green,
    DENY: (s) => c.bold(c.red(s)),
    DRYRUN_DENY: (s) => c.bold(c.yellow(s)),
    ALLOW_BREAKGLASS: (s) => c.bold(c.magenta(s)),
  }
  const reasonPaint: Record<Verdict, (s: string) => string> = {ALLOW: c.green, DENY: c.red, DRYRUN_DENY: c.yellow, ALLOW_BREAKGLASS: c.magenta}
  const out: string[] = []
  const wide = opts.wide === true
  // Only a platform policy: the stand-in classic rule admitted nothing of its own, so the line points at the section below.
  const noClassic = r.policy.source === NO_CLASSIC_POLICY
  for (const i of r.images) {
    const who = [
      i.container ? `container ${i.container}` : '',
      i.workload,
      i.namespace && (i.workload || wide) ? `ns ${i.namespace}` : '',
      wide && i.serviceAccount ? `sa ${i.serviceAccount}` : '',
    ]
      .filter(Boolean)
      .join(', ')
    const verdictTail =
      i.verdict === 'ALLOW'
        ? noClassic
          ? 'no classic policy: see the platform policy below'
          : allowedBy(i)
        : i.wouldBe
          ? `would be ${i.wouldBe} (${i.verdict === 'DRYRUN_DENY' ? 'dry-run' : 'break-glass'})`
          : ''
    // Wide names the rule for every verdict (an allowed image's tail already says what admitted it).
    const tail = wide && i.verdict !== 'ALLOW' ? [ruleLabel(i), verdictTail].filter(Boolean).join('; ') : verdictTail
    const where = fileLine(i)
    const shown = wide && i.digest ? `${imageShort(i).replace(/@.*$/, '')}@${i.digest}` : imageShort(i)
    out.push(
      `${paint[i.verdict](SYMBOL[i.verdict])}  ${c.bold(shown)}${who ? c.dim(`  (${who})`) : ''}${where ? `  ${c.cyan(where)}` : ''}${tail ? `  ${c.dim(tail)}` : ''}`,
    )
    if (i.verdict !== 'ALLOW') for (const u of unmet(i)) out.push(`      ${reasonPaint[i.verdict](u)}`)
    // Verification warnings (expired PGP key, duplicate key ids…) must reach the reader, not only --json.
    for (const a of i.attestors) for (const w of attestorWarnings(a.details)) out.push(`      ${c.yellow('warning:')} ${a.attestor}: ${w}`)
    const ctx = contextLine(i)
    if (ctx) out.push(`      ${c.dim('context:')} ${ctx}`)
    for (const n of i.notes) out.push(`      ${c.dim('note:')} ${n}`)
    if (i.verdict !== 'ALLOW') for (const s of i.nextSteps) out.push(`      ${c.bold('next:')} ${s}`)
  }
  if (r.platformPolicy) out.push(...platformText(r.platformPolicy, c))
  for (const n of r.notes) out.push(`${c.dim('note:')} ${n}`)
  const unexamined = r.unexamined ?? []
  for (const u of unexamined) out.push(`${c.yellow('warning:')} ${unexaminedWarning(u)}`)
  const snippet = imageRulesSnippet(unexamined)
  if (snippet)
    out.push(
      'If these are images, add to .safe-deploy.yaml:',
      ...snippet
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    )
  // Never a plain ALLOW when image-like values were not examined: they could be denied.
  const verdict = incomplete(r)
    ? `${c.bold(c.yellow('INCOMPLETE'))}: ${unexamined.length} image-like value(s) not examined; the examined images: ${verdictSummary(r)}`
    : `${paint[r.verdict](r.verdict)}${verdictSummary(r).slice(r.verdict.length)}`
  const platform = r.platformPolicy
    ? `, platform policy ${r.platformPolicy.source} ${r.platformPolicy.verdict}${r.platformPolicy.mode === 'monitor' ? ' (monitor)' : ''}`
    : ''
  out.push(`${c.bold('Verdict:')} ${verdict} — policy ${r.policy.source}${platform}, target ${targetLabel(r)}`)
  if (platformPolicyUnchecked(r))
    out.push(c.bold(c.magenta('Could not check: the platform policy could not check some image(s), so the input is not allowed (exit 4).')))
  if (r.verdict === 'DRYRUN_DENY')
    out.push('Dry-run: the policy would DENY, but the rule(s) are in DRYRUN_AUDIT_LOG_ONLY mode; the deploy proceeds and the denial is audit-logged.')
  if (r.verdict === 'ALLOW_BREAKGLASS') out.push('Break-glass: the deploy is admitted despite the policy; Binary Authorization logs a break-glass event.')
  return out.join('\n') + '\n'
}

// ---------------------------------------------------------------------------------------------------------------
// The platform policy section (docs/platform-policy.md#in-the-pre-flight): per Pod the check set it selects, per image
// its verdict or exemption, per check its verdict and Google-worded explanation, then the next step.

const PLATFORM_SYMBOL: Record<PlatformVerdict | 'ALLOWLISTED', string> = {
  CONFORMANT: 'ok  ',
  NON_CONFORMANT: 'NON ',
  ERROR: 'ERR ',
  ALLOWLISTED: 'skip',
}

function checkSetLabel(pod: PodResult): string {
  if (pod.checkSetIndex === null) return 'no check sets (always allow)'
  return `check set ${pod.checkSetIndex}${pod.checkSetDisplayName ? ` "${pod.checkSetDisplayName}"` : ''}`
}

function podLabel(pod: PodResult): string {
  return pod.namespace === null
    ? `Pod ${pod.name} (no namespace: default check set only)`
    : `Pod ${pod.name} (ns ${pod.namespace}, sa ${pod.serviceAccount ?? 'default'})`
}

function exemptionLabel(img: ImageResult): string {
  return img.exemption ? `exempt: ${img.exemption.level === 'policy' ? 'policy' : 'check set'} allowlist ${img.exemption.pattern}` : ''
}

/** The next step of an image the platform policy did not admit. */
function platformNextStep(report: PlatformPolicyReport, pod: PodResult, img: ImageResult): string {
  if (img.verdict === 'ERROR') {
    // A provenance signed by a key that was not given: the one ERROR the user fixes with a flag, not with access.
    const keyid = img.checks
      .map((ch) => /pass --builder-keys FILE with an entry for ([^\s;),]+)/.exec(ch.explanation)?.[1]?.replace(/\.$/, ''))
      .find((k) => k !== undefined)
    if (keyid !== undefined)
      return `add --builder-keys FILE holding [{"keyId": "${keyid}", "publicKeyPem": "…"}] (the key Cloud Build signs provenance with) and run again`
    return 'make the facts the failing checks read available (registry signatures, Container Analysis, Artifact Registry) and run again'
  }
  const who = pod.namespace === null ? '' : ` -n ${pod.namespace} --service-account ${pod.serviceAccount ?? 'default'}`
  return `safe-deploy policy explain --platform-policy ${report.source}${who} --image ${img.image}   # which checks apply and what each needs`
}

function platformText(report: PlatformPolicyReport, c: ReturnType<typeof createColors>): string[] {
  const paint: Record<PlatformVerdict | 'ALLOWLISTED', (s: string) => string> = {
    CONFORMANT: c.green,
    NON_CONFORMANT: (s) => c.bold(c.red(s)),
    ERROR: (s) => c.bold(c.magenta(s)),
    ALLOWLISTED: c.dim,
  }
  const out = [`${c.bold('Platform policy')} ${report.source} (${report.mode}): ${paint[report.verdict](report.verdict)}`]
  for (const pod of report.pods) {
    out.push(`  ${podLabel(pod)}: ${checkSetLabel(pod)}`)
    for (const img of pod.images) {
      const tail = [img.init ? 'init container' : '', img.container ? `container ${img.container}` : '', exemptionLabel(img)].filter(Boolean).join(', ')
      out.push(`  ${paint[img.verdict](PLATFORM_SYMBOL[img.verdict])}  ${c.bold(img.image)}${tail ? c.dim(`  (${tail})`) : ''}`)
      for (const ch of img.checks) {
        const line = `${PLATFORM_SYMBOL[ch.verdict]}  ${ch.explanation}`
        out.push(`        ${ch.verdict === 'CONFORMANT' || ch.verdict === 'ALLOWLISTED' ? c.dim(line) : paint[ch.verdict](line)}`)
      }
      for (const n of img.notes) out.push(`        ${c.dim('note:')} ${n}`)
      if (img.verdict !== 'CONFORMANT') out.push(`        ${c.bold('next:')} ${platformNextStep(report, pod, img)}`)
    }
  }
  for (const n of report.notes) out.push(`  ${c.dim('note:')} ${n}`)
  return out
}

const MD_PLATFORM: Record<PlatformVerdict | 'ALLOWLISTED', string> = {
  CONFORMANT: '✅ CONFORMANT',
  NON_CONFORMANT: '❌ NON_CONFORMANT',
  ERROR: '⚠️ ERROR',
  ALLOWLISTED: '⏭️ ALLOWLISTED',
}

function platformMarkdown(report: PlatformPolicyReport): string[] {
  const out = ['### Platform policy', '']
  out.push(`- **Policy:** \`${mdEscape(report.source)}\` (${report.mode === 'monitor' ? 'monitor: reported, not enforced' : 'enforced'})`)
  out.push(`- **Verdict:** ${MD_PLATFORM[report.verdict]}`, '')
  out.push('| Pod | Namespace | Service account | Check set | Image | Verdict | Exemption |', '|---|---|---|---|---|---|---|')
  for (const pod of report.pods)
    for (const img of pod.images)
      out.push(
        `| ${mdEscape(pod.name)} | ${pod.namespace === null ? '—' : mdEscape(pod.namespace)} | ${pod.serviceAccount === null ? '—' : mdEscape(pod.serviceAccount)} | ${mdEscape(checkSetLabel(pod))} | \`${mdEscape(img.image)}\` | ${MD_PLATFORM[img.verdict]} | ${img.exemption ? `${img.exemption.level} \`${mdEscape(img.exemption.pattern)}\`` : '—'} |`,
      )
  out.push('')
  for (const pod of report.pods)
    for (const img of pod.images.filter((i) => i.checks.length > 0 || i.notes.length > 0)) {
      out.push(`<details><summary>${mdEscape(pod.name)}: ${mdEscape(img.image)}: ${img.verdict}</summary>`, '')
      for (const ch of img.checks) out.push(`- ${MD_PLATFORM[ch.verdict]} ${mdEscape(ch.explanation)}`)
      for (const n of img.notes) out.push(`- _note:_ ${mdEscape(n)}`)
      if (img.verdict !== 'CONFORMANT') out.push('', 'Next step:', '', '```sh', platformNextStep(report, pod, img), '```')
      out.push('', '</details>', '')
    }
  for (const n of report.notes) out.push(`- _note:_ ${mdEscape(n)}`)
  if (report.notes.length > 0) out.push('')
  return out
}

/** JUnit: one test case per Pod image; NON_CONFORMANT is a failure and ERROR an error, unless the policy is only monitored. */
function platformJunit(report: PlatformPolicyReport): {lines: string[]; tests: number; failures: number; errors: number} {
  const cases = report.pods.flatMap((pod) => pod.images.map((img) => ({pod, img})))
  const enforced = report.mode === 'enforce'
  const failures = enforced ? cases.filter((x) => x.img.verdict === 'NON_CONFORMANT').length : 0
  const errors = enforced ? cases.filter((x) => x.img.verdict === 'ERROR').length : 0
  const out = [
    `  <testsuite name="${xml(`platform policy ${report.source} (${report.mode})`)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="0">`,
  ]
  for (const {pod, img} of cases) {
    out.push(`    <testcase classname="${xml(pod.name)}" name="${xml(img.container ? `container ${img.container}: ${img.image}` : img.image)}">`)
    const text = [checkSetLabel(pod), exemptionLabel(img), ...img.checks.map((ch) => ch.explanation), `next: ${platformNextStep(report, pod, img)}`]
      .filter(Boolean)
      .join('\n')
    const first = img.checks.find((ch) => ch.verdict === img.verdict)?.explanation ?? img.verdict
    if (enforced && img.verdict === 'NON_CONFORMANT') out.push(`      <failure message="${xml(first)}" type="NON_CONFORMANT">${xml(text)}</failure>`)
    else if (enforced && img.verdict === 'ERROR') out.push(`      <error message="${xml(first)}" type="ERROR">${xml(text)}</error>`)
    else if (img.verdict !== 'CONFORMANT') out.push(`      <system-out>${xml(`${img.verdict} (monitor)\n${text}`)}</system-out>`)
    out.push('    </testcase>')
  }
  out.push('  </testsuite>')
  return {lines: out, tests: cases.length, failures, errors}
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

const MD_ICON: Record<Verdict, string> = {ALLOW: '✅ ALLOW', DENY: '❌ DENY', DRYRUN_DENY: '⚠️ DRYRUN_DENY', ALLOW_BREAKGLASS: '🔓 ALLOW_BREAKGLASS'}

/** Where the Markdown report lives, for relative links to file:line (both absolute; no I/O here). */
export interface MarkdownOptions {
  links?: {cwd: string; reportDir: string}
}

/** `[k8s/app.yaml:12](../k8s/app.yaml#L12)` relative to the report, or the plain `file:line` when there is nothing to link. */
function mdWhere(i: Pick<PlanImageResult, 'file' | 'line'>, opts: MarkdownOptions): string {
  const text = fileLine(i)
  if (!text) return '—'
  const file = i.file as string
  // stdin and kustomize output are not files a reader can open.
  if (!opts.links || file === '-' || file.startsWith('kustomize:')) return `\`${mdEscape(text)}\``
  const target = posix.relative(opts.links.reportDir, posix.resolve(opts.links.cwd, file)) || posix.basename(file)
  const href = target.split('/').map(encodeURIComponent).join('/') + (i.line ? `#L${i.line}` : '')
  return `[${mdEscape(text)}](${href})`
}

/** Markdown for reviewers: a table per workload (one row per container's image), reasons in collapsible details. */
export function renderPreflightMarkdown(r: PreflightResult, opts: MarkdownOptions = {}): string {
  const out: string[] = []
  const unexamined = r.unexamined ?? []
  out.push(
    incomplete(r)
      ? `## safe-deploy pre-flight: ⚠️ INCOMPLETE (${unexamined.length} image-like value(s) not examined; examined images: ${MD_ICON[r.verdict]})`
      : `## safe-deploy pre-flight: ${MD_ICON[r.verdict]}`,
    '',
  )
  out.push(`- **Target:** ${mdEscape(targetLabel(r))}`)
  out.push(`- **Policy:** \`${mdEscape(r.policy.source)}\``)
  if (r.platformPolicy)
    out.push(
      `- **Platform policy:** \`${mdEscape(r.platformPolicy.source)}\` ${MD_PLATFORM[r.platformPolicy.verdict]}${r.platformPolicy.mode === 'monitor' ? ' (monitor)' : ''}`,
    )
  out.push(`- **Images:** ${mdEscape(verdictSummary(r))}`, '')
  if (unexamined.length > 0) {
    out.push('### Not examined', '')
    out.push('These values sit under an `image` key in a kind no image rule covers: they were neither pinned nor evaluated.', '')
    out.push('| Where | Object | Path | Value | Rule that would cover it |', '|---|---|---|---|---|')
    for (const u of unexamined) {
      out.push(
        `| ${mdWhere(u, opts)} | ${mdEscape(`${u.kind}/${u.name}`)} | \`${mdEscape(u.path)}\` | \`${mdEscape(u.value)}\` | ${u.rule ? `\`${mdEscape(ruleSnippet(u.rule))}\`` : '—'} |`,
      )
    }
    out.push('')
  }
  const groups = new Map<string, PlanImageResult[]>()
  for (const i of r.images) {
    const key = i.workload ? `${i.workload}${i.namespace ? ` (namespace ${i.namespace})` : ''}` : 'images'
    groups.set(key, [...(groups.get(key) ?? []), i])
  }
  for (const [workload, imgs] of groups) {
    out.push(`### ${mdEscape(workload)}`, '')
    // The Signatures column only when a signature requirement is in force.
    const withSignatures = imgs.some((i) => i.signatures !== undefined)
    out.push(
      `| Image | Container | Where | Digest | Verdict | Rule | Attestors |${withSignatures ? ' Signatures |' : ''}`,
      `|---|---|---|---|---|---|---|${withSignatures ? '---|' : ''}`,
    )
    for (const i of imgs) {
      const att =
        i.attestors.length === 0
          ? '—'
          : i.attestors.map((a) => `${a.satisfied ? '✅' : '❌'} \`${mdEscape(a.attestor.split('/').pop() ?? a.attestor)}\``).join('<br>')
      const sig = i.signatures === undefined ? '—' : i.signatures.satisfied ? `✅ ${mdEscape(signedBy(i.signatures))}` : `❌ ${mdEscape(i.signatures.reason)}`
      out.push(
        `| \`${mdEscape(i.original)}\` | ${i.container ? mdEscape(i.container) : '—'} | ${mdWhere(i, opts)} | \`${short(i.digest)}\` | ${MD_ICON[i.verdict]} | ${mdEscape(ruleLabel(i))} | ${att} |${withSignatures ? ` ${sig} |` : ''}`,
      )
    }
    out.push('')
    const detailed = imgs.filter((i) => i.verdict !== 'ALLOW' || i.notes.length > 0 || i.context !== undefined)
    for (const i of detailed) {
      const which = [i.container ? `container ${i.container}` : '', fileLine(i)].filter(Boolean).join(', ')
      out.push(`<details><summary>${mdEscape(i.original)}${which ? ` (${mdEscape(which)})` : ''}: ${i.verdict}</summary>`, '')
      if (i.file) out.push(`- _where:_ ${mdWhere(i, opts)}${i.path ? ` \`${mdEscape(i.path)}\`` : ''}`)
      // Each unmet requirement once (the GKE-worded reasons are in --json and the JUnit report).
      for (const reason of i.verdict === 'ALLOW' ? i.reasons : unmet(i)) out.push(`- ${mdEscape(reason)}`)
      const ctx = contextLine(i)
      if (ctx) out.push(`- _context:_ ${mdEscape(ctx)}`)
      for (const n of i.notes) out.push(`- _note:_ ${mdEscape(n)}`)
      if (i.nextSteps.length) {
        out.push('', 'Next steps:', '', '```sh', ...i.nextSteps, '```')
      }
      out.push('', '</details>', '')
    }
  }
  if (r.platformPolicy) out.push(...platformMarkdown(r.platformPolicy))
  if (r.notes.length) {
    out.push('### Notes', '')
    for (const n of r.notes) out.push(`- ${mdEscape(n)}`)
    out.push('')
  }
  out.push(
    "_A pre-flight is a prediction of Binary Authorization's verdict from the policy, attestors and attestations given; the admission controller decides._",
    '',
  )
  return out.join('\n')
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

/** JUnit XML: one testcase per image; DENY is a failure; dry-run and break-glass pass with output. */
export function renderPreflightJunit(r: PreflightResult): string {
  const unexamined = r.unexamined ?? []
  // Each unexamined image-like value is a failed test case: the pre-flight could not say it is allowed.
  const failures = r.images.filter((i) => i.verdict === 'DENY').length + unexamined.length
  const tests = r.images.length + unexamined.length
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>']
  const platform = r.platformPolicy ? platformJunit(r.platformPolicy) : undefined
  out.push(
    `<testsuites name="safe-deploy preflight" tests="${tests + (platform?.tests ?? 0)}" failures="${failures + (platform?.failures ?? 0)}"${platform ? ` errors="${platform.errors}"` : ''}>`,
  )
  out.push(`  <testsuite name="${xml(targetLabel(r))}" tests="${tests}" failures="${failures}" errors="0" skipped="0">`)
  const seen = new Set<string>()
  for (const i of r.images) {
    const classname = i.workload ?? 'image'
    // The container makes an image used by an init container and a container two cases; file:line or a counter keeps the rest apart.
    let name = i.container ? `container ${i.container}: ${i.original}` : i.original
    if (seen.has(`${classname}\u0000${name}`) && (i.path || fileLine(i))) name = `${name} (${[fileLine(i), i.path].filter(Boolean).join(' ')})`
    for (let n = 2; seen.has(`${classname}\u0000${name}`); n++) name = `${name} #${n}`
    seen.add(`${classname}\u0000${name}`)
    out.push(`    <testcase classname="${xml(classname)}" name="${xml(name)}">`)
    // The GKE-worded reasons (the header, then one per unmet requirement), then the next steps.
    const text = [ruleLabel(i), ...i.reasons, ...i.nextSteps.map((s) => `next: ${s}`)].join('\n')
    if (i.verdict === 'DENY')
      out.push(`      <failure message="${xml(i.reasons[0] ?? 'denied by Binary Authorization policy')}" type="DENY">${xml(text)}</failure>`)
    else if (i.verdict !== 'ALLOW')
      out.push(`      <system-out>${xml(`${i.verdict}${i.wouldBe ? ' (would be ' + i.wouldBe + ')' : ''}\n${text}`)}</system-out>`)
    out.push('    </testcase>')
  }
  for (const u of unexamined) {
    out.push(`    <testcase classname="${xml(`${u.kind}/${u.name}`)}" name="${xml(`${u.path}: ${u.value}`)}">`)
    out.push(`      <failure message="${xml('not examined: no image rule covers this field')}" type="UNEXAMINED">${xml(unexaminedWarning(u))}</failure>`)
    out.push('    </testcase>')
  }
  out.push('  </testsuite>')
  if (platform) out.push(...platform.lines)
  out.push('</testsuites>', '')
  return out.join('\n')
}
