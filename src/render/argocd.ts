/**
 * Argo CD shows a plugin's failure as `` `<cmd>` failed exit status N: <stderr> `` in its UI: the
 * stderr of `safe-deploy argocd generate` is one line saying what and where. Pure.
 */
import {redact} from '../core/redact.js'
import type {SafeDeployError} from '../core/errors.js'
import type {PreflightResult} from '../core/preflight.js'
import {preflightProblems, type Problem} from './problems.js'

/** Long enough for the first problems with their places, short enough for the UI's status line. */
const MAX = 600

function flat(s: string): string {
  const one = redact(s)
    .replace(/\s*\r?\n\s*/g, ' ')
    .trim()
  return one.length > MAX ? one.slice(0, MAX - 1) + '…' : one
}

function place(p: Problem): string {
  return p.file ? ` at ${p.file}${p.line ? `:${p.line}` : ''}` : ''
}

/** `safe-deploy: DENY: 2 problem(s), nothing generated: IMAGE at FILE:LINE: reason; …`. */
export function argocdVerdictLine(r: PreflightResult, label: string): string {
  const problems = preflightProblems(r).filter((p) => p.severity === 'error' || p.check === 'unexamined-image')
  const each = problems.map((p) => `${p.message.split('\n')[0] ?? ''}${place(p)}`)
  return flat(`safe-deploy: ${label}: ${problems.length} problem(s), nothing generated: ${each.join('; ')}`)
}

/** A failed command (registry outage, bad policy): the code, the message and each cause once. */
export function argocdErrorLine(err: SafeDeployError): string {
  const causes = (err.groups ?? []).map((g) => g.summary).filter((s) => !err.message.includes(s))
  return flat(`safe-deploy: ${err.code}: ${err.message}${causes.length ? ' ' + causes.join('; ') : ''}${err.hint ? ` (${err.hint})` : ''}`)
}
