/**
 * Human text for the commands other than pin and preflight: policy lint findings, policy explain, attest,
 * audit listings and Cloud Run deploy results. Pure: data in, string out; commands print it.
 */
import type {LintResult} from '../core/policy/lint.js'
import type {RuleExplanation} from '../core/policy/evaluate.js'
import type {PlatformExplanation} from '../core/platform-policy/explain.js'
import picocolors from 'picocolors'

const {createColors} = picocolors
type Colors = ReturnType<typeof createColors>

/** `FILE:LINE: severity CODE: message` then the fix, per finding, then the counts. */
export function renderLint(r: Pick<LintResult, 'file' | 'findings' | 'errors' | 'warnings' | 'notes'>): string {
  return (
    r.findings.map((f) => `${r.file}:${f.line}: ${f.severity} ${f.code}: ${f.message}\n    fix: ${f.fix}\n`).join('') +
    r.notes.map((n) => `note: ${n}\n`).join('') +
    `${r.errors} error(s), ${r.warnings} warning(s)\n`
  )
}

export function renderExplain(r: Pick<RuleExplanation, 'lines' | 'notes'>): string {
  return r.lines.join('\n') + '\n' + r.notes.map((n) => `note: ${n}\n`).join('')
}

/** `policy explain --platform-policy`: the check sets considered (why each matched or not), then the image's exemption or checks. */
export function renderPlatformExplain(r: PlatformExplanation): string {
  const lines: string[] = []
  const who = r.namespace === null ? 'a Pod without a namespace (--image alone)' : `namespace ${r.namespace}, service account ${r.serviceAccount ?? 'default'}`
  lines.push(`Pod: ${who}`)
  for (const c of r.candidates) {
    lines.push(`  ${c.selected ? '→' : ' '} checkSets[${c.index}]${c.displayName ? ` "${c.displayName}"` : ''} (${c.scope}): ${c.why}`)
  }
  if (r.checkSetIndex === null) lines.push('Selected: no check set (the policy has none: every image is allowed)')
  else lines.push(`Selected: checkSets[${r.checkSetIndex}]${r.checkSetDisplayName ? ` "${r.checkSetDisplayName}"` : ''}`)
  if (r.image !== null) lines.push(`Image: ${r.image}`)
  if (r.exemption !== null) {
    lines.push(`  exempt by the ${r.exemption.level === 'policy' ? 'policy' : 'check set'} allowlist pattern ${r.exemption.pattern}: no check runs`)
  }
  for (const c of r.checks) {
    const skip = c.exemptedBy !== null ? ` — skipped for this image (its allowlist: ${c.exemptedBy})` : ''
    lines.push(`  check ${c.index} ${c.kind}${c.displayName ? ` "${c.displayName}"` : ''}${skip}`)
    lines.push(`      needs ${c.needs}${c.needsDigest ? ' (a digest)' : ''}`)
  }
  return lines.join('\n') + '\n' + r.notes.map((n) => `note: ${n}\n`).join('')
}

export interface AuditLine {
  time: string
  outcome: string
  verdict: string
  command: string
  actor: string
  breakGlass: boolean
  justification?: string
  images: Array<{image: string; verdict: string}>
}

/** One line per record: time, outcome, verdict, who, break-glass, each image once with its verdict. */
export function renderAuditRecords(records: readonly AuditLine[]): string {
  return records
    .map((r) => {
      const imgs = [...new Set(r.images.map((i) => `${i.image} ${i.verdict}`))].join(', ')
      return `${r.time}  ${r.outcome.padEnd(8)} ${r.verdict.padEnd(16)} ${r.command} by ${r.actor}${r.breakGlass ? ` BREAK-GLASS "${r.justification ?? ''}"` : ''}  ${imgs}\n`
    })
    .join('')
}

/** How the deploy results are styled (the decision is the caller's: src/cli/terminal.ts). */
export interface ResultTextOptions {
  color?: boolean
  /** -o wide: objects with their namespace. */
  wide?: boolean
}

export interface RunLine {
  outcome: 'deployed' | 'blocked' | 'dry-run'
  service: string
  created?: boolean
  revision?: string
  uri?: string
  verdict: string
  auditId: string
}

/** The last line of run deploy / run replace. */
export function renderRunResult(r: RunLine, opts: ResultTextOptions = {}): string {
  const c = createColors(opts.color === true)
  if (r.outcome === 'blocked') return `${c.bold(c.red('BLOCKED'))}: nothing was deployed (see the reasons above).`
  const what = r.outcome === 'deployed' ? c.green(r.created ? 'created' : 'updated') : c.yellow('validated (dry run)')
  return `${what} ${c.bold(r.service)}${r.revision ? ' revision ' + r.revision : ''}${r.uri ? ' at ' + c.cyan(r.uri) : ''}; verdict ${paintVerdict(c, r.verdict)}; audit id ${r.auditId}`
}

/** The verdict word in the colours the pre-flight text uses for it. */
function paintVerdict(c: Colors, verdict: string): string {
  if (verdict === 'ALLOW') return c.green(verdict)
  if (verdict === 'DENY') return c.bold(c.red(verdict))
  if (verdict === 'DRYRUN_DENY') return c.bold(c.yellow(verdict))
  return c.bold(c.magenta(verdict))
}

export interface AttestLine {
  created: boolean
  image: string
  attestor: string
  noteName: string
  keyId: string
  signer: string
  stored: {kind: 'container-analysis'; project: string; name?: string} | {kind: 'directory'; path: string}
}

/** What attest did: signed and stored, or already there (idempotent). */
export function renderAttestResult(r: AttestLine): string {
  const where = r.stored.kind === 'directory' ? r.stored.path : `Container Analysis (project ${r.stored.project}${r.stored.name ? ', ' + r.stored.name : ''})`
  return `${r.created ? 'attested' : 'already attested (nothing new stored)'}: ${r.image}\n  attestor: ${r.attestor} (note ${r.noteName})\n  key: ${r.keyId} (${r.signer})\n  stored: ${where}`
}

/** `attest --sigstore`: what was signed, how, and where it went. */
export function renderSigstoreAttestResult(r: {
  image: string
  format: string
  signatureKind: string
  predicateType?: string
  key: string
  location: string
  created: boolean
}): string {
  const what = r.signatureKind === 'attestation' ? `attestation ${r.predicateType ?? ''}`.trim() : 'signature'
  return `${r.created ? 'signed' : 'already signed (nothing new pushed)'}: ${r.image}\n  ${what} (${r.format}), key ${r.key}\n  pushed: ${r.location}`
}

export interface ApplyLines {
  outcome: 'applied' | 'dry-run' | 'blocked'
  objects: Array<{kind: string; name: string; namespace?: string; action: string}>
  applier?: string
  verdict: string
  auditId: string
}

/** One line per object sent (kubectl's `kind/name action`), then the outcome. */
export function renderApplyResult(r: ApplyLines, opts: ResultTextOptions = {}): string {
  const c = createColors(opts.color === true)
  if (r.outcome === 'blocked') return `${c.bold(c.red('BLOCKED'))}: nothing was applied (see the reasons above).`
  const dry = r.outcome === 'dry-run' ? ' (dry run)' : ''
  const ns = (o: ApplyLines['objects'][number]): string => (opts.wide ? `  (ns ${o.namespace ?? '-'})` : '')
  return (
    r.objects.map((o) => `${o.kind.toLowerCase()}/${o.name} ${o.action}${dry}${ns(o)}\n`).join('') +
    `${r.outcome === 'applied' ? c.green('applied') : c.yellow('dry run done')}: ${r.objects.length} object(s) via ${r.applier ?? ''}; verdict ${paintVerdict(c, r.verdict)}; audit id ${r.auditId}`
  )
}
