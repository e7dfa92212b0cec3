/** Pure renderers for a scan: terminal text (the fix per row), Markdown for reviewers, JUnit for CD, names. */
import picocolors from 'picocolors'
import type {Finding, ScanResult, Severity, Unchecked} from '../core/scan.js'
import {shortDigest} from './preflight.js'

const {createColors} = picocolors

const LABEL: Record<Severity, string> = {deny: 'DENY', unchecked: 'UNCHECKED', 'dry-run': 'DRY', warning: 'WARN'}

export interface ScanTextOptions {
  color?: boolean
  /** -o wide: each row also names the Pods it stands for. */
  wide?: boolean
}

function scopeLabel(r: ScanResult): string {
  const t = r.target
  const where = [t.context ? `context ${t.context}` : undefined, t.cluster ? `cluster ${t.cluster}` : 'no cluster given (cluster rules not matched)']
  const ns = r.scope.allNamespaces ? 'every namespace' : `namespace ${r.scope.namespace ?? ''}`
  return `${where.filter(Boolean).join(', ')}; ${ns}${r.scope.selector ? `, selector ${r.scope.selector}` : ''}`
}

function counts(r: ScanResult): string {
  const by = new Map<Severity, number>()
  for (const f of r.findings) by.set(f.severity, (by.get(f.severity) ?? 0) + 1)
  const parts = [...by.entries()].map(([s, n]) => `${n} ${LABEL[s]}`)
  if (r.unchecked.length) parts.push(`${r.unchecked.length} could not be checked`)
  return parts.join(', ') || 'no findings'
}

function workloadLabel(f: Pick<Finding, 'namespace' | 'workload'>): string {
  return `${f.namespace}/${f.workload.kind}/${f.workload.name}`
}

type Paint = Record<Severity, (s: string) => string>
type Colors = ReturnType<typeof createColors>

function palette(color: boolean | undefined): {c: ReturnType<typeof createColors>; paint: Paint} {
  const c = createColors(color === true)
  return {c, paint: {deny: c.red, unchecked: c.magenta, 'dry-run': c.yellow, warning: c.yellow}}
}

/** A finding's first line in the report: severity, workload, container, kind, digest, verdict. */
function findingHead(f: Finding, c: Colors, paint: Paint): string {
  const digest = f.digest ? ` ${shortDigest(f.digest)}` : ''
  return `${paint[f.severity](LABEL[f.severity].padEnd(4))} ${c.bold(workloadLabel(f))} container ${f.container}: ${f.kind}${digest}${f.verdict ? ` [${f.verdict}]` : ''}`
}

function uncheckedHead(u: Unchecked, c: Colors, paint: Paint): string {
  return `${paint.unchecked('UNCHECKED')} ${c.bold(workloadLabel(u))} container ${u.container}: ${u.image}`
}

/** The rows of findings and of what could not be checked: the report's body. */
function rowLines(rows: Pick<ScanResult, 'findings' | 'unchecked'>, opts: ScanTextOptions): string[] {
  const {c, paint} = palette(opts.color)
  const out: string[] = []
  for (const f of rows.findings) {
    out.push(findingHead(f, c, paint))
    out.push(`     ${f.message}`)
    out.push(`     fix: ${f.fix}`)
    if (opts.wide) out.push(`     pods: ${f.pods.join(', ')}`)
  }
  for (const u of rows.unchecked) {
    out.push(uncheckedHead(u, c, paint))
    out.push(`     ${u.reason}`)
    if (opts.wide) out.push(`     pods: ${u.pods.join(', ')}`)
  }
  return out
}

export function renderScanText(r: ScanResult, opts: ScanTextOptions = {}): string {
  const {c} = palette(opts.color)
  const out: string[] = []
  out.push(`Scan (read-only) of ${scopeLabel(r)}: ${r.pods} Pod(s), ${r.workloads} workload(s), ${r.digests} running digest(s); policy ${r.policy.source}`)
  out.push(...rowLines(r, opts))
  for (const n of r.notes) out.push(c.dim(`note: ${n}`))
  out.push(`Result: ${r.verdict} (${counts(r)})`)
  return out.join('\n') + '\n'
}

/**
 * `scan --watch`: one line per row that just appeared, the report row's first line as the report renders it (a log
 * to follow or grep; the message and the fix are `scan`'s report).
 */
export function renderScanRows(rows: Pick<ScanResult, 'findings' | 'unchecked'>, opts: ScanTextOptions = {}): string {
  const {c, paint} = palette(opts.color)
  const lines = [...rows.findings.map((f) => findingHead(f, c, paint)), ...rows.unchecked.map((u) => uncheckedHead(u, c, paint))]
  return lines.length ? lines.join('\n') + '\n' : ''
}

/** -o name: one workload per line (namespace/Kind/name) with a finding. */
export function scanNames(r: Pick<ScanResult, 'findings'>): string {
  const names = [...new Set(r.findings.map(workloadLabel))]
  return names.map((n) => n + '\n').join('')
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, ' ')
}

export function renderScanMarkdown(r: ScanResult): string {
  const out: string[] = [
    `## safe-deploy scan: ${r.verdict}`,
    '',
    `${scopeLabel(r)}: ${r.pods} Pod(s), ${r.workloads} workload(s), ${r.digests} running digest(s).`,
    '',
  ]
  if (r.findings.length === 0 && r.unchecked.length === 0) out.push('No findings: everything running would be admitted today.')
  else {
    out.push('| severity | workload | container | finding | digest | message | fix |', '|---|---|---|---|---|---|---|')
    for (const f of r.findings)
      out.push(
        `| ${LABEL[f.severity]} | ${mdEscape(workloadLabel(f))} | ${mdEscape(f.container)} | ${f.kind} | ${f.digest ? '`' + shortDigest(f.digest) + '`' : ''} | ${mdEscape(f.message)} | \`${mdEscape(f.fix)}\` |`,
      )
    for (const u of r.unchecked) out.push(`| UNCHECKED | ${mdEscape(workloadLabel(u))} | ${mdEscape(u.container)} | unchecked | | ${mdEscape(u.reason)} | |`)
  }
  return out.join('\n') + '\n'
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

/** JUnit XML: one testcase per finding; denials and unchecked rows fail, the rest pass with output. */
export function renderScanJunit(r: ScanResult): string {
  const failing = (s: Severity) => s === 'deny' || s === 'unchecked'
  const tests = r.findings.length + r.unchecked.length
  const failures = r.findings.filter((f) => failing(f.severity)).length + r.unchecked.length
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="safe-deploy scan" tests="${tests}" failures="${failures}">`]
  out.push(`  <testsuite name="${xml(scopeLabel(r))}" tests="${tests}" failures="${failures}" errors="0" skipped="0">`)
  for (const f of r.findings) {
    out.push(`    <testcase classname="${xml(workloadLabel(f))}" name="${xml(`${f.kind} container ${f.container}${f.digest ? ' ' + f.digest : ''}`)}">`)
    const text = `${f.message}\nfix: ${f.fix}\npods: ${f.pods.join(', ')}`
    if (failing(f.severity)) out.push(`      <failure message="${xml(f.message)}" type="${xml(f.kind)}">${xml(text)}</failure>`)
    else out.push(`      <system-out>${xml(`${LABEL[f.severity]}: ${text}`)}</system-out>`)
    out.push('    </testcase>')
  }
  for (const u of r.unchecked) {
    out.push(`    <testcase classname="${xml(workloadLabel(u))}" name="${xml(`unchecked container ${u.container}`)}">`)
    out.push(`      <failure message="${xml(u.reason)}" type="UNCHECKED">${xml(u.reason)}</failure>`, '    </testcase>')
  }
  out.push('  </testsuite>', '</testsuites>', '')
  return out.join('\n')
}
