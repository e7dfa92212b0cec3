/**
 * GitLab Code Quality report (artifacts:reports:codequality): a JSON array of issues GitLab shows on
 * the merge request, each with description, check_name, fingerprint, severity and location.path +
 * location.lines.begin. Pure; drawn from the same problems as the GitHub annotations.
 */
import {createHash} from 'node:crypto'
import type {Problem, ProblemSeverity} from './problems.js'
import {workspacePath, type WorkspacePaths} from './github.js'

export interface CodeQualityIssue {
  description: string
  check_name: string
  fingerprint: string
  severity: 'info' | 'minor' | 'major' | 'critical' | 'blocker'
  location: {path: string; lines: {begin: number}}
}

/** A denial stops the deploy: critical; a warning is worth a look: major. */
const SEVERITY: Record<ProblemSeverity, CodeQualityIssue['severity']> = {error: 'critical', warning: 'major', notice: 'info'}

/**
 * The issues, paths relative to the project directory (CI_PROJECT_DIR). GitLab requires a path and a
 * line on each issue: a problem without one is placed at line 1 of its file, or of the input ('.').
 * The fingerprint is the problem's stable key, so an issue still there after a fix is matched, not new.
 */
export function renderCodeQuality(problems: readonly Problem[], paths: WorkspacePaths): string {
  const issues: CodeQualityIssue[] = problems.map((p) => ({
    description: `${p.title}: ${p.message}`,
    check_name: p.check,
    fingerprint: createHash('sha256').update(p.key).digest('hex'),
    severity: SEVERITY[p.severity],
    location: {path: workspacePath(p.file, paths) ?? p.file ?? '.', lines: {begin: p.line ?? 1}},
  }))
  return JSON.stringify(issues, null, 2) + '\n'
}
