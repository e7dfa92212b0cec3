/**
 * Scan several already-read manifest files for image sites, in this thread, in file order. No I/O:
 * the inputs are `{file, text}` values. Each file gets its sites, or the error that stops it and
 * its stage (a YAML problem or a locate one), exactly as scanning that file on its own
 * (scanOutcome) reports them.
 *
 * scanFilesStreaming does the same part by part, handing each part's sites to a callback as soon
 * as they are known and yielding to the event loop in between, so that registry lookups started
 * from the callback run while the rest of the input is still being parsed.
 */
import {countLines, documentStarts, fileTraits, finishScan, scanPart, hasDirectives, scanOutcome, type ScanOutcome, type ScanPart} from './scan.js'
import type {SafeDeployError} from '../errors.js'
import type {CustomImageRule, ImageSite, UnexaminedValue} from './types.js'

export interface ScanInput {
  file: string
  text: string
}

/** One input file and its sites (and unexamined image-like values), or the error that stops it (stage: a YAML problem, or a locate one). */
export type ScannedFile = ScanInput &
  (
    | {sites: ImageSite[]; unexamined: UnexaminedValue[]; error?: undefined}
    | {sites?: undefined; unexamined?: undefined; error: SafeDeployError; stage: 'parse' | 'locate'}
  )

/** Default smallest stretch planParts cuts a file into. */
export const MIN_PART_CHARS = 256 * 1024

/** Part size of the streaming scan: small enough that the first lookups start within milliseconds. */
export const STREAM_PART_CHARS = 8 * 1024

/** Image sites of every input, in input order. */
export function scanFiles(inputs: readonly ScanInput[], rules: readonly CustomImageRule[]): ScannedFile[] {
  return inputs.map((f) => settle(f, scanOutcome(f.text, f.file, rules)))
}

/**
 * scanFiles part by part (each file cut at document markers into stretches of about `partChars`),
 * handing each part's image sites to `onSites` as soon as they are known, in file order, and
 * yielding to the event loop in between. Same results and errors as scanFiles: a file whose parts
 * cannot be placed exactly is scanned whole (and its sites handed over then).
 */
export async function scanFilesStreaming(
  inputs: readonly ScanInput[],
  rules: readonly CustomImageRule[],
  onSites: (sites: readonly ImageSite[]) => void,
  partChars = STREAM_PART_CHARS,
): Promise<ScannedFile[]> {
  const out: ScannedFile[] = []
  for (const input of inputs) {
    const plan = planParts(input.text, Math.max(1, Math.ceil(input.text.length / partChars)), partChars)
    const traits = fileTraits(input.text)
    const parts: ScanPart[] = []
    let documents = 0
    let fallback = false
    for (const [k, p] of plan.entries()) {
      const part = scanPart(input.text.slice(p.start, p.end), input.file, rules, {offset: p.start, line: p.line, document: p.document}, traits, {
        last: k === plan.length - 1,
      })
      if (part.fallback || p.document !== documents) {
        fallback = true
        break
      }
      documents += part.documents
      parts.push(part)
      if (part.problems.length === 0 && part.locateError === undefined && part.sites.length > 0) onSites(part.sites)
      if (k < plan.length - 1) await new Promise<void>((resolve) => setImmediate(resolve))
    }
    const file = settle(input, fallback ? scanOutcome(input.text, input.file, rules) : finishScan(parts))
    if (fallback && file.sites) onSites(file.sites)
    out.push(file)
  }
  return out
}

function settle(input: ScanInput, outcome: ScanOutcome): ScannedFile {
  return outcome.ok
    ? {file: input.file, text: input.text, sites: outcome.sites, unexamined: outcome.unexamined}
    : {file: input.file, text: input.text, error: outcome.error, stage: outcome.stage}
}

export interface PlannedPart {
  start: number
  end: number
  line: number
  /** The document index the stretch is expected to start at (checked against the documents found before it). */
  document: number
}

/** A line that is exactly `...` (or `...` then whitespace): the end-of-document marker. */
const DOCUMENT_END = /(?:^|\n)\.\.\.(?:[ \t\r\n]|$)/

/**
 * Cut a file into about `count` stretches at document-start markers. Only where each stretch's
 * first document index is known from the markers alone: no directives, no `...` markers (after
 * which a document may start without `---`).
 */
export function planParts(text: string, count: number, minPartChars = MIN_PART_CHARS): PlannedPart[] {
  const whole: PlannedPart[] = [{start: 0, end: text.length, line: 1, document: 0}]
  if (count < 2 || text.length < 2 * minPartChars || hasDirectives(text) || DOCUMENT_END.test(text)) return whole
  const starts = documentStarts(text)
  const first = starts[0]
  if (first === undefined) return whole
  // Content before the first marker is a document of its own ("bare" document); comments are not.
  const prelude = text.slice(0, first).replace(/^\uFEFF/, '')
  const bare = /^[ \t]*[^#\s]/m.test(prelude) ? 1 : 0
  const size = Math.max(minPartChars, Math.ceil(text.length / count))
  const parts: PlannedPart[] = []
  let start = 0
  let line = 1
  let document = 0
  let j = 0
  for (let k = 1; k < count; k++) {
    const target = start + size
    while (j < starts.length && (starts[j] as number) < target) j++
    const at = starts[j]
    if (at === undefined || text.length - at < minPartChars / 2) break
    parts.push({start, end: at, line, document})
    line += countLines(text, start, at)
    start = at
    document = bare + j
  }
  parts.push({start, end: text.length, line, document})
  return parts
}
