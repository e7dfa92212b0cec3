/** The pre-flight's reviewer and CD reports: rendered in src/render, redacted, written through a port. */
import {posix} from 'node:path'
import {redact} from '../core/redact.js'
import type {PreflightResult} from '../core/preflight.js'
import {renderPreflightJunit, renderPreflightMarkdown} from '../render/preflight.js'
import type {ScanResult} from '../core/scan.js'
import {renderScanJunit, renderScanMarkdown} from '../render/scan.js'
import {preflightProblems} from '../render/problems.js'
import {capStepSummary, droppedNote, renderAnnotations, renderProblemsMarkdown} from '../render/github.js'
import {renderCodeQuality} from '../render/codequality.js'

export interface ReportTargets {
  markdown?: string | undefined
  junit?: string | undefined
  /** GitLab Code Quality JSON (--report-codequality). */
  codequality?: string | undefined
  /** $GITHUB_STEP_SUMMARY: the Markdown report is appended to it. */
  stepSummary?: string | undefined
  /** The working directory (absolute): the Markdown report links each file:line relative to where it is written. */
  cwd?: string | undefined
  /** The repository root (GITHUB_WORKSPACE, CI_PROJECT_DIR; absolute): CI paths are relative to it (default: cwd). */
  workspace?: string | undefined
}

export interface ReportPorts {
  writeFile(path: string, text: string): Promise<void>
  appendFile(path: string, text: string): void
}

/** Returns the files written (or appended to). */
export async function writeReports(result: PreflightResult, to: ReportTargets, ports: ReportPorts): Promise<string[]> {
  const written: string[] = []
  const cwd = to.cwd ?? posix.resolve('.')
  const paths = {cwd, workspace: to.workspace ?? cwd}
  // Reports quote reasons and notes that can carry API error text: redacted like any other output.
  if (to.markdown || to.stepSummary) {
    if (to.markdown) {
      const links = to.cwd === undefined ? undefined : {cwd: to.cwd, reportDir: posix.dirname(posix.resolve(to.cwd, to.markdown))}
      await ports.writeFile(to.markdown, redact(renderPreflightMarkdown(result, links ? {links} : {})))
      written.push(to.markdown)
    }
    if (to.stepSummary) {
      // A step summary is shown on the run's page, where a relative link leads nowhere: file:line stays text.
      // GitHub annotates only the first ten problems per level: past that the summary lists every one.
      const problems = preflightProblems(result)
      const {dropped} = renderAnnotations(problems, paths)
      const full = dropped > 0 ? droppedNote(dropped) + renderProblemsMarkdown(problems, paths) : ''
      ports.appendFile(to.stepSummary, capStepSummary(redact(renderPreflightMarkdown(result) + (full ? '\n' + full : '')), undefined, to.markdown) + '\n')
      written.push(to.stepSummary)
    }
  }
  if (to.junit) {
    await ports.writeFile(to.junit, redact(renderPreflightJunit(result)))
    written.push(to.junit)
  }
  if (to.codequality) {
    await ports.writeFile(to.codequality, redact(renderCodeQuality(preflightProblems(result), paths)))
    written.push(to.codequality)
  }
  return written
}

/** The scan's reports (--report-md, --report-junit, $GITHUB_STEP_SUMMARY), redacted like the pre-flight's. */
export async function writeScanReports(result: ScanResult, to: ReportTargets, ports: ReportPorts): Promise<string[]> {
  const written: string[] = []
  if (to.markdown) {
    await ports.writeFile(to.markdown, redact(renderScanMarkdown(result)))
    written.push(to.markdown)
  }
  if (to.stepSummary) {
    ports.appendFile(to.stepSummary, redact(renderScanMarkdown(result)) + '\n')
    written.push(to.stepSummary)
  }
  if (to.junit) {
    await ports.writeFile(to.junit, redact(renderScanJunit(result)))
    written.push(to.junit)
  }
  return written
}
