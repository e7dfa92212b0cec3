/**
 * CI output the engine understands (issue #16): under GitHub Actions (GITHUB_ACTIONS=true, or
 * --ci-format github) each problem becomes a workflow-command annotation at its file and line, the
 * outputs go to $GITHUB_OUTPUT and, for commands without a Markdown report, the full problem list to
 * $GITHUB_STEP_SUMMARY. Rendering is src/render/github.ts; this module only decides and writes.
 */
import {randomUUID} from 'node:crypto'
import {resolve} from 'node:path'
import {redact} from '../core/redact.js'
import type {SafeDeployError} from '../core/errors.js'
import {incomplete, type PreflightResult} from '../core/preflight.js'
import {errorProblems, type Problem} from '../render/problems.js'
import {capStepSummary, droppedNote, renderAnnotations, renderOutputs, renderProblemsMarkdown, type WorkspacePaths} from '../render/github.js'
import {reportPorts} from './wiring.js'

export type CiFormat = 'github' | 'none'

/** --ci-format wins; else GitHub's runner says so itself (GITHUB_ACTIONS=true on every step). */
export function ciFormat(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): CiFormat {
  if (flag === 'github' || flag === 'none') return flag
  return env.GITHUB_ACTIONS === 'true' ? 'github' : 'none'
}

/** The repository root annotations are relative to (GITHUB_WORKSPACE), and where the command runs. */
export function workspacePaths(env: NodeJS.ProcessEnv = process.env): WorkspacePaths {
  const cwd = process.cwd()
  return {cwd, workspace: env.GITHUB_WORKSPACE ? resolve(cwd, env.GITHUB_WORKSPACE) : cwd}
}

export interface GithubReport {
  problems: readonly Problem[]
  outputs?: Record<string, string>
  /** Append the full problem list to the step summary (commands whose Markdown report does not list them). */
  summary?: boolean
  /** The heading of that list. */
  heading?: string
}

/**
 * Write what GitHub reads: annotations on stderr (stdout is data: pin's YAML is piped into kubectl;
 * the runner reads workflow commands from both streams), outputs and summary through the report ports.
 */
export function writeGithub(report: GithubReport, env: NodeJS.ProcessEnv = process.env): void {
  const paths = workspacePaths(env)
  const {lines, dropped} = renderAnnotations(report.problems, paths)
  // Annotations quote registry and API error text: redacted like every other output.
  if (lines.length > 0) process.stderr.write(redact(lines.join('\n')) + '\n')
  if (env.GITHUB_OUTPUT && report.outputs) reportPorts.appendFile(env.GITHUB_OUTPUT, renderOutputs(report.outputs, `ghadelimiter_${randomUUID()}`))
  if (env.GITHUB_STEP_SUMMARY && report.summary === true && report.problems.length > 0) {
    const md = droppedNote(dropped) + renderProblemsMarkdown(report.problems, paths, report.heading)
    reportPorts.appendFile(env.GITHUB_STEP_SUMMARY, capStepSummary(redact(md)) + '\n')
  }
}

/** The outputs of a pre-flight (preflight, apply): verdict, how many images are denied, the report, the digests. */
export function preflightOutputs(r: PreflightResult, reportPath: string | undefined): Record<string, string> {
  return {
    // Never a plain ALLOW when image-like values were not examined (the exit status is 3 then).
    verdict: incomplete(r) ? 'INCOMPLETE' : r.verdict,
    'denied-count': String(r.images.filter((i) => i.verdict === 'DENY').length),
    'report-path': reportPath ?? '',
    digests: digestsJson(r.images.map((i) => ({original: i.original, digest: i.digest}))),
  }
}

/** `{"image as written": "sha256:…"}`, one line (a workflow reads it with fromJSON). */
export function digestsJson(images: ReadonlyArray<{original: string; digest?: string | undefined}>): string {
  const out: Record<string, string> = {}
  for (const i of images) if (i.digest !== undefined) out[i.original] = i.digest
  return JSON.stringify(out)
}

/** A failed command under GitHub Actions: its errors annotated where they are (the error text itself still goes to stderr). */
export function writeGithubError(err: SafeDeployError, flag: string | undefined): void {
  if (ciFormat(flag) !== 'github') return
  writeGithub({problems: errorProblems(err), outputs: {verdict: 'ERROR'}, summary: true, heading: 'safe-deploy failed'})
}
