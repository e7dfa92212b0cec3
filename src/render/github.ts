/**
 * GitHub Actions' own formats (docs: workflow commands, $GITHUB_OUTPUT, job summaries), pure:
 * workflow-command annotations at a file and line, the outputs file, the step summary's size cap.
 * The CLI decides where they are written (src/cli/ci.ts).
 */
import {posix} from 'node:path'
import {byImportance, type Problem, type ProblemSeverity} from './problems.js'

/** What GitHub shows per step and per level; more are dropped silently, so we choose which. */
export const ANNOTATIONS_PER_LEVEL = 10

/** A step summary over 1 MiB is not uploaded at all (an error annotation instead): we cap below it. */
export const STEP_SUMMARY_LIMIT = 1024 * 1024

/** The message of a workflow command: %, CR and LF escaped (what @actions/core's escapeData does). */
export function escapeData(s: string): string {
  return s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}

/** A property value (file, title): also `:` and `,`, which would end the property. */
export function escapeProperty(s: string): string {
  return escapeData(s).replaceAll(':', '%3A').replaceAll(',', '%2C')
}

export interface WorkspacePaths {
  /** GITHUB_WORKSPACE (absolute): annotation paths are relative to the repository root. */
  workspace: string
  /** Where the command ran (absolute): the files were given relative to it. */
  cwd: string
}

/**
 * The file as GitHub wants it, relative to the workspace; undefined for stdin or a file outside the
 * workspace (GitHub could not show it on the diff, so the annotation goes on the run instead).
 */
export function workspacePath(file: string | undefined, paths: WorkspacePaths): string | undefined {
  if (file === undefined || file === '-' || file === '') return undefined
  const rel = posix.relative(paths.workspace, posix.resolve(paths.cwd, file))
  return rel === '' || rel.startsWith('..') || posix.isAbsolute(rel) ? undefined : rel
}

/** One `::error file=…,line=…,title=…::message` line. */
export function annotation(p: Problem, paths: WorkspacePaths): string {
  const file = workspacePath(p.file, paths)
  const props = [
    ...(file !== undefined ? [`file=${escapeProperty(file)}`] : []),
    ...(file !== undefined && p.line !== undefined ? [`line=${p.line}`] : []),
    `title=${escapeProperty(p.title)}`,
  ]
  // A problem whose file is not in the workspace still names it, in the message.
  const where = file === undefined && p.file !== undefined && p.file !== '-' ? `${p.file}${p.line ? `:${p.line}` : ''}: ` : ''
  return `::${p.severity} ${props.join(',')}::${escapeData(where + p.message)}`
}

export interface Annotations {
  /** The workflow-command lines, most important first, at most ANNOTATIONS_PER_LEVEL per level. */
  lines: string[]
  /** How many problems were not annotated (they are in the step summary's full list). */
  dropped: number
}

/** The problems as annotations, most important first, within GitHub's per-step limits. */
export function renderAnnotations(problems: readonly Problem[], paths: WorkspacePaths, perLevel = ANNOTATIONS_PER_LEVEL): Annotations {
  const used: Record<ProblemSeverity, number> = {error: 0, warning: 0, notice: 0}
  const lines: string[] = []
  let dropped = 0
  for (const p of byImportance(problems)) {
    if (used[p.severity] >= perLevel) {
      dropped++
      continue
    }
    used[p.severity]++
    lines.push(annotation(p, paths))
  }
  return {lines, dropped}
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, '<br>')
}

/** Every problem as a Markdown table, for the step summary (annotations show only the first ten per level). */
export function renderProblemsMarkdown(problems: readonly Problem[], paths: WorkspacePaths, heading = 'safe-deploy problems'): string {
  if (problems.length === 0) return ''
  const rows = byImportance(problems).map((p) => {
    const file = workspacePath(p.file, paths) ?? p.file
    const where = file === undefined ? '' : `\`${file}${p.line ? `:${p.line}` : ''}\``
    return `| ${p.severity} | ${where} | ${mdCell(p.title)} | ${mdCell(p.message)} |`
  })
  return [`### ${heading} (${problems.length})`, '', '| severity | where | problem | details |', '|---|---|---|---|', ...rows, ''].join('\n') + '\n'
}

/** A note saying how many problems only the summary lists. */
export function droppedNote(dropped: number): string {
  return dropped > 0
    ? `> ${dropped} more problem(s) than GitHub annotates per step (${ANNOTATIONS_PER_LEVEL} errors, ${ANNOTATIONS_PER_LEVEL} warnings): every one is listed below.\n\n`
    : ''
}

/**
 * Cut Markdown to at most `limit` bytes (UTF-8) with a note saying so: past GitHub's 1 MiB a summary
 * is not shown at all, which would hide the verdict with the detail.
 */
export function capStepSummary(markdown: string, limit = STEP_SUMMARY_LIMIT, fullReport?: string): string {
  const bytes = Buffer.from(markdown, 'utf8')
  if (bytes.length <= limit) return markdown
  const note = `\n\n> **Truncated**: this summary was ${bytes.length} bytes, over GitHub's ${limit}-byte step summary limit${fullReport ? `; the full report is ${fullReport}` : ''}.\n`
  const room = Math.max(0, limit - Buffer.byteLength(note, 'utf8'))
  // Cut at a line end so no table row or multi-byte character is split.
  let cut = bytes.subarray(0, room).toString('utf8')
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1)
  const nl = cut.lastIndexOf('\n')
  return (nl > 0 ? cut.slice(0, nl) : cut) + note
}

/**
 * $GITHUB_OUTPUT lines: `name=value`, or the heredoc form `name<<DELIM … DELIM` for a value with a
 * line break (a plain line would end it). The delimiter is the caller's random one (as @actions/core
 * makes `ghadelimiter_<uuid>`), refused if a value contains it.
 */
export function renderOutputs(outputs: Record<string, string>, delimiter: string): string {
  let text = ''
  for (const [name, value] of Object.entries(outputs)) {
    if (!/[\r\n]/.test(value)) {
      text += `${name}=${value}\n`
      continue
    }
    if (value.includes(delimiter)) throw new Error(`output ${name} contains the delimiter ${delimiter}`)
    text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`
  }
  return text
}
