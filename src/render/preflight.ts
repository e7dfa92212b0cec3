/** Pure renderers for a pre-flight result: terminal text, Markdown for reviewers, JUnit for CD. */
import {incomplete, type PreflightResult, type PlanImageResult, type Verdict} from '../core/preflight.js'
import {imageRulesSnippet, ruleSnippet, unexaminedWarning} from '../core/manifest/unexamined.js'

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

/** One line per image, reasons indented, then next steps and the overall verdict. */
export function renderPreflightText(r: PreflightResult): string {
  const out: string[] = []
  for (const i of r.images) {
    const who = [i.workload, i.namespace ? `ns ${i.namespace}` : '', i.file ? `${i.file}${i.line ? ':' + i.line : ''}` : ''].filter(Boolean).join(', ')
    out.push(`${SYMBOL[i.verdict]}  ${i.image}${who ? `  (${who})` : ''}`)
    out.push(`      ${ruleLabel(i)}${i.wouldBe ? `; would be ${i.wouldBe}` : ''}`)
    for (const a of i.attestors) {
      out.push(`      ${a.satisfied ? '+' : '-'} ${a.attestor}: ${a.satisfied ? 'valid attestation' : a.reason}`)
      // Verification warnings (expired PGP key, duplicate key ids…) must reach the reader, not only --json.
      for (const w of attestorWarnings(a.details)) out.push(`        warning: ${w}`)
    }
    if (i.verdict !== 'ALLOW') for (const reason of i.reasons) out.push(`      ${reason}`)
    const ctx = contextLine(i)
    if (ctx) out.push(`      context: ${ctx}`)
    for (const n of i.notes) out.push(`      note: ${n}`)
    if (i.verdict !== 'ALLOW') for (const s of i.nextSteps) out.push(`      next: ${s}`)
  }
  for (const n of r.notes) out.push(`note: ${n}`)
  const unexamined = r.unexamined ?? []
  for (const u of unexamined) out.push(`warning: ${unexaminedWarning(u)}`)
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
    ? `INCOMPLETE: ${unexamined.length} image-like value(s) not examined; the examined images: ${verdictSummary(r)}`
    : verdictSummary(r)
  out.push(`Verdict: ${verdict} — policy ${r.policy.source}, target ${targetLabel(r)}`)
  if (r.verdict === 'DRYRUN_DENY')
    out.push('Dry-run: the policy would DENY, but the rule(s) are in DRYRUN_AUDIT_LOG_ONLY mode; the deploy proceeds and the denial is audit-logged.')
  if (r.verdict === 'ALLOW_BREAKGLASS') out.push('Break-glass: the deploy is admitted despite the policy; Binary Authorization logs a break-glass event.')
  return out.join('\n') + '\n'
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

const MD_ICON: Record<Verdict, string> = {ALLOW: '✅ ALLOW', DENY: '❌ DENY', DRYRUN_DENY: '⚠️ DRYRUN_DENY', ALLOW_BREAKGLASS: '🔓 ALLOW_BREAKGLASS'}

/** Markdown for reviewers: a table per workload, reasons in collapsible details. */
export function renderPreflightMarkdown(r: PreflightResult): string {
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
  out.push(`- **Images:** ${mdEscape(verdictSummary(r))}`, '')
  if (unexamined.length > 0) {
    out.push('### Not examined', '')
    out.push('These values sit under an `image` key in a kind no image rule covers: they were neither pinned nor evaluated.', '')
    out.push('| Where | Object | Path | Value | Rule that would cover it |', '|---|---|---|---|---|')
    for (const u of unexamined) {
      out.push(
        `| \`${mdEscape(u.file)}:${u.line}\` | ${mdEscape(`${u.kind}/${u.name}`)} | \`${mdEscape(u.path)}\` | \`${mdEscape(u.value)}\` | ${u.rule ? `\`${mdEscape(ruleSnippet(u.rule))}\`` : '—'} |`,
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
    out.push('| Image | Digest | Verdict | Rule | Attestors |', '|---|---|---|---|---|')
    for (const i of imgs) {
      const att =
        i.attestors.length === 0
          ? '—'
          : i.attestors.map((a) => `${a.satisfied ? '✅' : '❌'} \`${mdEscape(a.attestor.split('/').pop() ?? a.attestor)}\``).join('<br>')
      out.push(`| \`${mdEscape(i.original)}\` | \`${short(i.digest)}\` | ${MD_ICON[i.verdict]} | ${mdEscape(ruleLabel(i))} | ${att} |`)
    }
    out.push('')
    const detailed = imgs.filter((i) => i.verdict !== 'ALLOW' || i.notes.length > 0 || i.context !== undefined)
    for (const i of detailed) {
      out.push(`<details><summary>${mdEscape(i.original)}: ${i.verdict}</summary>`, '')
      for (const reason of i.reasons) out.push(`- ${mdEscape(reason)}`)
      for (const a of i.attestors.filter((x) => !x.satisfied)) out.push(`- \`${mdEscape(a.attestor)}\`: ${mdEscape(a.reason)}`)
      const ctx = contextLine(i)
      if (ctx) out.push(`- _context:_ ${mdEscape(ctx)}`)
      for (const n of i.notes) out.push(`- _note:_ ${mdEscape(n)}`)
      if (i.nextSteps.length) {
        out.push('', 'Next steps:', '', '```sh', ...i.nextSteps, '```')
      }
      out.push('', '</details>', '')
    }
  }
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
  out.push(`<testsuites name="safe-deploy preflight" tests="${tests}" failures="${failures}">`)
  out.push(`  <testsuite name="${xml(targetLabel(r))}" tests="${tests}" failures="${failures}" errors="0" skipped="0">`)
  for (const i of r.images) {
    const classname = xml(i.workload ?? 'image')
    out.push(`    <testcase classname="${classname}" name="${xml(i.original)}">`)
    const text = [
      ruleLabel(i),
      ...i.reasons,
      ...i.attestors.filter((a) => !a.satisfied).map((a) => `${a.attestor}: ${a.reason}`),
      ...i.nextSteps.map((s) => `next: ${s}`),
    ].join('\n')
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
  out.push('  </testsuite>', '</testsuites>', '')
  return out.join('\n')
}
