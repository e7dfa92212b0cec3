/**
 * The problems of a pin, pre-flight, apply or policy lint, at their file and line, most important
 * first: the one list that CI renderers (GitHub annotations, GitLab Code Quality) and the step
 * summary's full list are drawn from, so the three never disagree. Pure.
 */
import type {PreflightResult, PlanImageResult} from '../core/preflight.js'
import type {LintResult} from '../core/policy/lint.js'
import type {UnexaminedValue} from '../core/manifest/types.js'
import {unexaminedWarning} from '../core/manifest/unexamined.js'
import {formatLocation, type SafeDeployError} from '../core/errors.js'

export type ProblemSeverity = 'error' | 'warning' | 'notice'

export interface Problem {
  severity: ProblemSeverity
  /** A short, stable name of the kind of problem (Code Quality's check_name, the annotation title's start). */
  check: string
  title: string
  message: string
  /** The file as the command was given it ('-' for stdin): the caller makes it workspace-relative. */
  file?: string
  line?: number
  /** What identifies this problem across runs (never a digest or a time), for Code Quality fingerprints. */
  key: string
}

const RANK: Record<ProblemSeverity, number> = {error: 0, warning: 1, notice: 2}

/** Errors first, then warnings, then notices; in input order within each (a stable sort). */
export function byImportance(problems: readonly Problem[]): Problem[] {
  return [...problems].sort((a, b) => RANK[a.severity] - RANK[b.severity])
}

function at(p: {file?: string | undefined; line?: number | undefined}): Pick<Problem, 'file' | 'line'> {
  return {...(p.file !== undefined ? {file: p.file} : {}), ...(p.line !== undefined && p.line > 0 ? {line: p.line} : {})}
}

function unmetReasons(i: PlanImageResult): string[] {
  const reasons = i.attestors.filter((a) => !a.satisfied).map((a) => `requires attestor ${a.attestor}: ${a.reason}`)
  if (i.signatures && !i.signatures.satisfied) reasons.push(`registry signatures required: ${i.signatures.reason}`)
  if (reasons.length === 0) reasons.push(...i.reasons)
  return reasons
}

function imageProblem(i: PlanImageResult): Problem | undefined {
  if (i.verdict === 'ALLOW') return undefined
  const who = [i.workload, i.container ? `container ${i.container}` : ''].filter(Boolean).join(' ')
  const reasons = unmetReasons(i)
  const next = i.nextSteps.length > 0 ? `\nnext: ${i.nextSteps.join('\nnext: ')}` : ''
  const base = {...at(i), key: `${i.verdict}|${i.original}|${i.file ?? ''}|${i.document ?? ''}|${i.path ?? ''}`}
  const detail = `${i.original}${who ? ` (${who})` : ''}: ${reasons.join('; ')}${next}`
  switch (i.verdict) {
    case 'DENY':
      return {...base, severity: 'error', check: 'binauthz-deny', title: 'Binary Authorization would deny this image', message: detail}
    case 'DRYRUN_DENY':
      return {
        ...base,
        severity: 'warning',
        check: 'binauthz-dryrun-deny',
        title: 'Binary Authorization would deny this image (dry-run: deployed and audit-logged)',
        message: detail,
      }
    case 'ALLOW_BREAKGLASS':
      return {...base, severity: 'warning', check: 'binauthz-breakglass', title: 'Admitted by break-glass despite the policy', message: detail}
  }
}

export function unexaminedProblems(values: readonly UnexaminedValue[]): Problem[] {
  return values.map((v) => ({
    severity: 'warning',
    check: 'unexamined-image',
    title: 'Image-like value not examined',
    message: unexaminedWarning(v),
    ...at(v),
    key: `unexamined|${v.file}|${v.document}|${v.path}`,
  }))
}

/** A pre-flight's (and apply's) problems: each image not plainly allowed, then the values no rule examined. */
export function preflightProblems(r: PreflightResult): Problem[] {
  const images = r.images.map(imageProblem).filter((p): p is Problem => p !== undefined)
  return byImportance([...images, ...unexaminedProblems(r.unexamined ?? [])])
}

/** pin: tags that moved since they were pinned (drift), warnings without a place, values no rule examined. */
export function pinProblems(o: {
  sites: ReadonlyArray<{file: string; line: number; original: string; status: string; currentDigest?: string | undefined; path: string}>
  warnings: readonly string[]
  unexamined: readonly UnexaminedValue[]
}): Problem[] {
  const drift: Problem[] = o.sites
    .filter((s) => s.status === 'drift')
    .map((s) => ({
      severity: 'warning',
      check: 'pin-drift',
      title: 'Pinned digest no longer matches its tag',
      message: `${s.original}: the tag now points to ${s.currentDigest ?? 'another digest'}; re-pin if the new image is intended`,
      ...at(s),
      key: `drift|${s.file}|${s.path}|${s.original}`,
    }))
  const warnings: Problem[] = o.warnings.map((w) => ({severity: 'warning', check: 'pin-warning', title: 'safe-deploy pin', message: w, key: `warning|${w}`}))
  return byImportance([...drift, ...unexaminedProblems(o.unexamined), ...warnings])
}

/** policy lint: each finding at its policy line. */
export function lintProblems(r: Pick<LintResult, 'file' | 'findings'>): Problem[] {
  return byImportance(
    r.findings.map((f) => ({
      severity: f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'notice',
      check: `policy-${f.code}`,
      title: `policy lint ${f.code}`,
      message: `${f.message}\nfix: ${f.fix}`,
      ...at({file: r.file, line: f.line}),
      key: `lint|${f.code}|${r.file}|${f.message}`,
    })),
  )
}

/**
 * A command that failed (an image that did not resolve, a policy that did not parse): one error per
 * sub-error that names a place, or the error itself.
 */
export function errorProblems(err: SafeDeployError): Problem[] {
  const each = err.errors.length > 0 ? err.errors : [err]
  return each.map((e) => {
    // SafeDeployError.at() put the place in front of the message; the annotation carries it already.
    const {image: _image, ...where} = e.location ?? {}
    const prefix = formatLocation(where)
    const message = prefix !== '' && e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message
    return problemOf(e, message)
  })
}

function problemOf(e: SafeDeployError, message: string): Problem {
  return {
    severity: 'error',
    check: `error-${e.code.toLowerCase().replaceAll('_', '-')}`,
    title: `safe-deploy: ${e.code}`,
    message: e.hint ? `${message}\nhint: ${e.hint}` : message,
    ...at(e.location ?? {}),
    key: `error|${e.code}|${e.location?.file ?? ''}|${e.location?.document ?? ''}|${e.location?.path ?? ''}|${e.location?.image ?? e.message}`,
  }
}
