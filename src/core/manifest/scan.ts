/**
 * Find the image sites of a large YAML stream in bounded memory: split the text at document-start
 * markers, parse a few kilobytes of documents at a time, locate their sites (with whole-file offsets,
 * lines and document indexes) and drop the parsed documents. The result, and every error, is what
 * parseManifest + locateImages report for the whole text.
 *
 * A line that starts with `---` followed by a space, a tab, a line break or the end of the text is
 * a document start wherever it appears (YAML forbids it inside scalars and flow collections at
 * column 0; the `yaml` lexer ends any scalar there too), and documents are parsed independently of
 * each other, except for directives (`%YAML`, `%TAG`): a stream with a line starting with `%` is
 * parsed whole. Each split is also checked: the parser must start a document at the split point.
 */
import {SafeDeployError} from '../errors.js'
import {locateAll, locateInAll} from './locate.js'
import {fileTraits, manifestProblem, parseDocuments, parseManifest, WHOLE_FILE, type TextOrigin} from './parse.js'
import type {FileTraits} from './parse.js'
import type {CustomImageRule, ImageSite, ManifestFile, UnexaminedValue} from './types.js'

/** At most this many documents are parsed at a time. */
export const DOCUMENTS_PER_CHUNK = 250

/**
 * About this many characters are parsed at a time. Small chunks keep what the parser allocates
 * short-lived, so young-generation collections reclaim it and the heap stays flat. Measured on
 * 10,000 Deployments (5.6 MB, Node 22): 4–8 KB chunks peak at 130 MB RSS and 1.7 s of CPU; from
 * 16 KB (or 250 documents) up, V8 starts promoting parser garbage and the peak is 200–215 MB at
 * 2.1–2.4 s of CPU. The parser's setup per chunk is negligible even at a few documents per chunk.
 */
export const CHARS_PER_CHUNK = 4 * 1024

export interface ScanResult {
  sites: ImageSite[]
  /** Image-like values no rule examined (docs/image-rules.md#unexamined-image-like-values), in file order. */
  unexamined: UnexaminedValue[]
  /** Documents in the stream (empty and comment-only ones count, as in parseManifest). */
  documents: number
}

/** What one stretch of a file produced; several parts are merged in order by finishScan. */
export interface ScanPart {
  sites: ImageSite[]
  unexamined: UnexaminedValue[]
  documents: number
  /** YAML problems (whole-file locations), in stream order. */
  problems: SafeDeployError[]
  /** The first locate error of the part (reported only when no part has YAML problems). */
  locateError?: SafeDeployError
  /** A split point was not a document start for the parser: scan the whole text instead. */
  fallback?: true
}

export interface ScanOptions {
  /** At most this many documents per chunk (default DOCUMENTS_PER_CHUNK). */
  documentsPerChunk?: number
  /** About this many characters per chunk (default CHARS_PER_CHUNK). */
  charsPerChunk?: number
}

/** A stretch of text that starts at a line start; `line` is that line (1-based). */
export interface TextSpan {
  start: number
  end: number
  line: number
}

/** A document-start marker `---` (then a space, tab, line break or the end) at `i`. */
function isDocumentStart(text: string, i: number): boolean {
  if (text.charCodeAt(i) !== 45 || text.charCodeAt(i + 1) !== 45 || text.charCodeAt(i + 2) !== 45) return false
  const c = text.charCodeAt(i + 3)
  return Number.isNaN(c) || c === 32 || c === 9 || c === 10 || c === 13
}

/** True when a line starts with `%`: a directive may apply to the following documents. */
export function hasDirectives(text: string): boolean {
  return text.startsWith('%') || text.startsWith('\uFEFF%') || text.includes('\n%')
}

/**
 * Offsets of the lines that start a document (`---` markers), from `from` (a line start) to `to`.
 * A marker at `from` itself counts.
 */
export function documentStarts(text: string, from = 0, to = text.length): number[] {
  const out: number[] = []
  if (isDocumentStart(text, from) || (from === 0 && text.charCodeAt(0) === 0xfeff && isDocumentStart(text, 1))) out.push(from)
  let i = text.indexOf('\n---', from)
  while (i >= 0 && i + 1 < to) {
    if (isDocumentStart(text, i + 1)) out.push(i + 1)
    i = text.indexOf('\n---', i + 4)
  }
  return out
}

/** Number of line feeds in text[from, to). */
export function countLines(text: string, from: number, to: number): number {
  let n = 0
  let i = text.indexOf('\n', from)
  while (i >= 0 && i < to) {
    n++
    i = text.indexOf('\n', i + 1)
  }
  return n
}

/** How large a chunk may get: a cut is made at the first marker past either limit. */
export interface ChunkLimits {
  /** Documents per chunk. */
  documents?: number
  /** Characters per chunk. */
  chars?: number
}

/**
 * Split [from, to) of the text (from a line start) into spans at document-start markers, each
 * ending at the first marker past the limits. One span when the text has directives or no markers.
 */
export function splitAtDocuments(text: string, limits: ChunkLimits = {}, from = 0, to = text.length, line = 1): TextSpan[] {
  if (hasDirectives(text)) return [{start: from, end: to, line}]
  const maxDocuments = Math.max(1, limits.documents ?? DOCUMENTS_PER_CHUNK)
  const maxChars = Math.max(1, limits.chars ?? CHARS_PER_CHUNK)
  const starts = documentStarts(text, from, to)
  const spans: TextSpan[] = []
  let start = from
  let startLine = line
  // Content before the first marker is a document too.
  let documents = starts[0] === from ? 0 : 1
  for (const at of starts) {
    if (at > start && (documents >= maxDocuments || at - start >= maxChars)) {
      spans.push({start, end: at, line: startLine})
      startLine += countLines(text, start, at)
      start = at
      documents = 0
    }
    documents++
  }
  spans.push({start, end: to, line: startLine})
  return spans
}

export {fileTraits} from './parse.js'

/**
 * Scan `text`, a stretch of a file that starts at a document boundary `origin` (its first
 * document's index there, its first line, its offset), chunk by chunk. Never throws for YAML or
 * locate problems: they are returned for finishScan (which throws them as the whole-file scan would).
 */
export function scanPart(
  text: string,
  file: string,
  rules: readonly CustomImageRule[],
  origin: TextOrigin,
  traits: FileTraits,
  options: ScanOptions & {last?: boolean} = {},
): ScanPart {
  const spans = splitAtDocuments(text, {
    ...(options.documentsPerChunk === undefined ? {} : {documents: options.documentsPerChunk}),
    ...(options.charsPerChunk === undefined ? {} : {chars: options.charsPerChunk}),
  })
  const last = options.last ?? true
  const out: ScanPart = {sites: [], unexamined: [], documents: 0, problems: []}
  for (const [k, span] of spans.entries()) {
    const piece = text.slice(span.start, span.end)
    const final = last && k === spans.length - 1
    // Followed by "---" as in the file, so that the last document ends exactly as it does there.
    const parsed = parseDocuments(
      final ? piece : piece + '---',
      file,
      {
        offset: origin.offset + span.start,
        line: origin.line + span.line - 1,
        document: origin.document + out.documents,
      },
      traits,
    )
    let documents = parsed.documents
    if (!final) {
      const extra = documents[documents.length - 1]
      if (!extra || extra.range[0] !== piece.length || !extra.empty || parsed.problemDocuments.includes(extra.index)) return {...out, fallback: true}
      documents = documents.slice(0, -1)
    }
    // A piece after the file's start begins with its marker: the parser must start a document there.
    if (origin.offset + span.start > 0 && documents[0]?.range[0] !== 0) return {...out, fallback: true}
    out.problems.push(...parsed.problems)
    if (out.problems.length === 0 && out.locateError === undefined) {
      try {
        const located = locateInAll(
          {
            file,
            text: piece,
            lineCounter: parsed.lineCounter,
            origin: {
              offset: origin.offset + span.start,
              line: origin.line + span.line - 1,
              document: origin.document + out.documents,
            },
          },
          documents,
          rules,
        )
        for (const s of located.sites) out.sites.push(s)
        for (const u of located.unexamined) out.unexamined.push(u)
      } catch (err) {
        if (!(err instanceof SafeDeployError)) throw err
        out.locateError = err
      }
    }
    out.documents += documents.length
  }
  return out
}

/** A file's scan: its sites, or the error that stops it and whether it is a YAML problem or a locate one. */
export type ScanOutcome = ({ok: true} & ScanResult) | {ok: false; stage: 'parse' | 'locate'; error: SafeDeployError}

/** Merge parts (in file order): YAML problems first (as parseManifest throws them), then the first locate error. */
export function finishScan(parts: readonly ScanPart[]): ScanOutcome {
  const problem = manifestProblem(parts.flatMap((p) => p.problems))
  if (problem) return {ok: false, stage: 'parse', error: problem}
  const failed = parts.find((p) => p.locateError !== undefined)
  if (failed?.locateError) return {ok: false, stage: 'locate', error: failed.locateError}
  const sites: ImageSite[] = []
  const unexamined: UnexaminedValue[] = []
  let documents = 0
  for (const p of parts) {
    for (const s of p.sites) sites.push(s)
    for (const u of p.unexamined) unexamined.push(u)
    documents += p.documents
  }
  return {ok: true, sites, unexamined, documents}
}

/** Whole-text scan: parseManifest + locateImages, the reference the chunked scan must match. */
export function scanWhole(text: string, file: string, rules: readonly CustomImageRule[] = []): ScanOutcome {
  let m: ManifestFile
  try {
    m = parseManifest(text, file)
  } catch (err) {
    if (err instanceof SafeDeployError) return {ok: false, stage: 'parse', error: err}
    throw err
  }
  try {
    return {ok: true, ...locateAll(m, rules), documents: m.documents.length}
  } catch (err) {
    if (err instanceof SafeDeployError) return {ok: false, stage: 'locate', error: err}
    throw err
  }
}

/** scanManifest without throwing: the outcome, with the stage of a failure. */
export function scanOutcome(text: string, file: string, rules: readonly CustomImageRule[] = [], options: ScanOptions = {}): ScanOutcome {
  const part = scanPart(text, file, rules, WHOLE_FILE, fileTraits(text), options)
  return part.fallback ? scanWhole(text, file, rules) : finishScan([part])
}

/**
 * Every image site of a YAML stream, as parseManifest + locateImages find them, without keeping
 * the parsed documents: the text is parsed `documentsPerChunk` documents at a time. Throws what
 * they throw (INVALID_INPUT with the file, the document index and the line; UNPINNABLE_VALUE;
 * CONFIG_INVALID for a bad rule).
 */
export function scanManifest(text: string, file: string, rules: readonly CustomImageRule[] = [], options: ScanOptions = {}): ScanResult {
  const outcome = scanOutcome(text, file, rules, options)
  if (!outcome.ok) throw outcome.error
  return {sites: outcome.sites, unexamined: outcome.unexamined, documents: outcome.documents}
}
