/**
 * Parse a multi-document YAML (or JSON) manifest, keeping the documents and the original text so
 * image scalars can later be spliced in place. Hostile input is bounded: alias expansion is capped,
 * duplicate keys are refused, runaway nesting is reported, non-UTF-8 bytes are refused.
 */
import {LineCounter, isAlias, isScalar, visit, type Document, type YAMLError} from 'yaml'
import {parseAllDocuments} from '../yaml-read.js'
import {SafeDeployError, formatLocation, type ErrorLocation} from '../errors.js'
import {isJsonStream, nodeHazards, textHazards, type ReadingHazard} from './kubectl-reading.js'
import type {ManifestDocument, ManifestFile} from './types.js'

export type {ManifestDocument, ManifestFile} from './types.js'

/** Most alias expansions a document may cause (a "billion laughs" document needs far more). */
export const MAX_ALIAS_COUNT = 100

const HELM_HINT = 'render it first: helm template ./chart | safe-deploy pin -f -'

/**
 * Decode file bytes as strict UTF-8 (a leading BOM is dropped). Throws INVALID_INPUT naming the
 * file when the bytes are not UTF-8.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch (cause) {
    const utf16 = bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    const offset = firstInvalidUtf8(bytes)
    return invalidEncoding(file, utf16, offset, cause)
  }
}

function invalidEncoding(file: string, utf16: boolean, offset: number, cause: unknown): never {
  const where = formatLocation({file})
  throw new SafeDeployError(
    'INVALID_INPUT',
    `${where}expected UTF-8 text, got ${utf16 ? 'UTF-16 (byte-order mark)' : `an invalid UTF-8 byte sequence at byte offset ${offset}`}`,
    {
      hint: `convert the file to UTF-8 first, e.g. iconv -f ${utf16 ? 'UTF-16' : 'LATIN1'} -t UTF-8 ${file === '-' ? 'FILE' : file}`,
      cause,
      location: {file},
    },
  )
}

/** Offset of the first byte that starts an invalid UTF-8 sequence (for the message only). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0
  while (i < b.length) {
    const c = b[i] as number
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1
    if (n < 0) return i
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k]
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i
    }
    i += n + 1
  }
  return i
}

/**
 * Parse every document of a YAML stream (JSON is YAML too). Throws SafeDeployError INVALID_INPUT
 * naming the file, the document and the line of the first problem (all problems in `errors`).
 */
export function parseManifest(text: string, file: string): ManifestFile {
  const part = parseDocuments(text, file, WHOLE_FILE, fileTraits(text))
  const problem = manifestProblem(part.problems)
  if (problem) throw problem
  return {file, text, documents: part.documents, lineCounter: part.lineCounter}
}

/** Where a piece of text starts in its file (a chunk of a large stream; all zero for the whole file). */
export interface TextOrigin {
  /** Character offset of the piece in the file text. */
  offset: number
  /** 1-based line of the piece's first character. */
  line: number
  /** Index of the piece's first document in the file's stream. */
  document: number
}

export const WHOLE_FILE: TextOrigin = {offset: 0, line: 1, document: 0}

/** Facts about the whole file that the messages and checks of any of its pieces depend on. */
export interface FileTraits {
  /** The file contains "{{" (YAML errors are then reported as an unrendered Helm template). */
  helm: boolean
  /** The file contains both "&" and "*" (only then can aliases expand). */
  aliases: boolean
  /** The stream starts with "{": kubectl decodes it as JSON, so it must be one JSON value. */
  json: boolean
}

/** The whole-file facts a piece needs (computed once per file). */
export function fileTraits(text: string): FileTraits {
  return {helm: text.includes('{{'), aliases: mayHaveAliases(text), json: isJsonStream(text)}
}

export function mayHaveAliases(text: string): boolean {
  return text.includes('*') && text.includes('&')
}

/** Documents of a piece of a stream, in the piece's coordinates; problems in the file's. */
export interface ParsedPiece {
  documents: ManifestDocument[]
  /** Every problem, located in whole-file coordinates (document index and line). */
  problems: SafeDeployError[]
  /** Local 0-based index of the document that each problem belongs to (same order as problems). */
  problemDocuments: number[]
  lineCounter: LineCounter
}

/**
 * Parse the documents of `text`, a piece of a file that starts at `origin` (a line start that is a
 * document boundary). Documents keep the piece's own offsets and indexes; problems are reported as
 * parseManifest would report them for the whole file.
 */
export function parseDocuments(text: string, file: string, origin: TextOrigin, traits: FileTraits): ParsedPiece {
  const lineCounter = new LineCounter()
  let parsed: Document.Parsed[]
  try {
    // Nesting past MAX_NESTING comes back as a document error (yaml-read.ts), reported below like any other.
    parsed = parseAllDocuments(text, {lineCounter, prettyErrors: false, uniqueKeys: true, strict: true})
  } catch (cause) {
    // The parser reports its problems as document errors; anything thrown here is unexpected.
    throw new SafeDeployError('INVALID_INPUT', `${formatLocation({file})}could not parse the manifest: ${errorText(cause)}`, {
      hint: 'check that the file is a Kubernetes YAML or JSON manifest',
      cause,
      location: {file},
    })
  }

  const problems: SafeDeployError[] = []
  const problemDocuments: number[] = []
  const documents: ManifestDocument[] = []
  const at = (offset: number): number => lineCounter.linePos(offset).line + origin.line - 1
  // Where kubectl's reader and ours could disagree, nothing else is worth reporting: the file is refused.
  const reading = readingProblems(text, file, origin, traits, parsed, at)
  if (reading.length > 0) {
    return {documents: [], problems: reading, problemDocuments: reading.map(() => 0), lineCounter}
  }
  for (const [index, document] of parsed.entries()) {
    for (const err of document.errors) {
      if (origin.offset !== 0) err.pos = [err.pos[0] + origin.offset, err.pos[1] + origin.offset]
      problems.push(yamlProblem(traits.helm, file, origin.document + index, err, at(err.pos[0] - origin.offset)))
      problemDocuments.push(index)
    }
    // The reading checks walk the tree without expanding aliases; the alias budget check expands
    // them (toJS), so it runs only on documents that passed.
    const hazard = document.errors.length === 0 ? nodeHazards(document, text)[0] : undefined
    if (hazard) {
      problems.push(readingProblem(file, origin.document + index, at(hazard.offset), hazard))
      problemDocuments.push(index)
    } else if (document.errors.length === 0 && traits.aliases && hasBoth(text, document.range[0], document.range[2])) {
      // An alias needs an anchor: only documents with both "&" and "*" can expand at all.
      const aliasProblem = checkAliases(document, file, origin.document + index, at)
      if (aliasProblem) {
        problems.push(aliasProblem)
        problemDocuments.push(index)
      }
    }
    const range = document.range
    documents.push({index, document, range: [range[0], range[2]], empty: isEmpty(document)})
  }
  return {documents, problems, problemDocuments, lineCounter}
}

/**
 * Text-level disagreements between kubectl's reader and ours (docs/kubectl-reading.md), located in
 * whole-file coordinates: odd line breaks, byte-order marks, separator and directive lines, and a
 * stream that kubectl would decode as JSON but that is not exactly one JSON value.
 */
function readingProblems(
  text: string,
  file: string,
  origin: TextOrigin,
  traits: FileTraits,
  parsed: readonly Document.Parsed[],
  at: (offset: number) => number,
): SafeDeployError[] {
  const documentAt = (offset: number): number => {
    const k = parsed.findIndex((d) => offset < d.range[2])
    return origin.document + (k < 0 ? Math.max(0, parsed.length - 1) : k)
  }
  const hazards = textHazards(text, origin.offset === 0)
  if (hazards.length === 0 && traits.json) {
    const jsonProblem = jsonStreamProblem(text, origin)
    if (jsonProblem) hazards.push(jsonProblem)
  }
  return hazards.map((h) => readingProblem(file, documentAt(h.offset), at(h.offset), h))
}

/** kubectl decodes a stream that starts with "{" as JSON values; we accept exactly one JSON value. */
function jsonStreamProblem(text: string, origin: TextOrigin): ReadingHazard | undefined {
  const hint = 'send one JSON object per file, or several objects as a List: {"apiVersion": "v1", "kind": "List", "items": [...]}'
  if (origin.offset !== 0) {
    return {offset: 0, why: 'the stream starts with "{", so kubectl decodes it as JSON, but it also has YAML document separators', hint}
  }
  try {
    JSON.parse(text)
    return undefined
  } catch (cause) {
    return {offset: 0, why: `the stream starts with "{", so kubectl decodes it as JSON, and it is not one JSON value (${errorText(cause)})`, hint}
  }
}

function readingProblem(file: string, document: number, line: number, hazard: ReadingHazard): SafeDeployError {
  const location: ErrorLocation = {file, document, line}
  return new SafeDeployError('INVALID_INPUT', `${formatLocation(location)}refused: kubectl could read this differently from safe-deploy: ${hazard.why}`, {
    hint: hazard.hint,
    location,
  })
}

/**
 * The error for a file's parse problems (undefined when there are none): the one problem, or a count
 * with every problem listed once in `errors` (each saying where it is).
 */
export function manifestProblem(problems: readonly SafeDeployError[]): SafeDeployError | undefined {
  const first = problems[0]
  if (!first || problems.length === 1) return first
  const file = first.location?.file
  if (problems.every((p) => p.hint === HELM_HINT)) {
    // One cause (an unrendered chart), said once: the YAML errors are its symptoms.
    const lines = [...new Set(problems.map((p) => p.location?.line))].join(', ')
    return new SafeDeployError(
      'INVALID_INPUT',
      `${formatLocation(file === undefined ? undefined : {file})}this looks like a Helm chart template, not a rendered manifest (${problems.length} YAML errors, at lines ${lines})`,
      {hint: HELM_HINT, ...(first.location === undefined ? {} : {location: first.location})},
    )
  }
  return new SafeDeployError('INVALID_INPUT', `${formatLocation(file === undefined ? undefined : {file})}${problems.length} problems reading the manifest:`, {
    ...(first.hint === undefined ? {} : {hint: first.hint}),
    ...(first.location === undefined ? {} : {location: first.location}),
    errors: [...problems],
  })
}

function hasBoth(text: string, start: number, end: number): boolean {
  const star = text.indexOf('*', start)
  if (star < 0 || star >= end) return false
  const amp = text.indexOf('&', start)
  return amp >= 0 && amp < end
}

/** No content: an empty document, comments only, or a bare null. */
function isEmpty(document: Document.Parsed): boolean {
  const c = document.contents
  return c === null || (isScalar(c) && c.value === null)
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

function yamlProblem(helm: boolean, file: string, document: number, err: YAMLError, line: number): SafeDeployError {
  const location: ErrorLocation = {file, document, line}
  const where = formatLocation(location)
  const reason = err.message.split('\n')[0] ?? err.message
  let hint: string
  let message = `${where}invalid YAML: ${reason}`
  if (helm) {
    message = `${where}this looks like a Helm chart template, not a rendered manifest (YAML error: ${reason})`
    hint = HELM_HINT
  } else if (err.code === 'DUPLICATE_KEY') {
    hint = 'remove or rename the repeated key: a mapping with duplicate keys is ambiguous (tools disagree on which value wins)'
  } else if (err.code === 'RESOURCE_EXHAUSTION') {
    return tooDeepProblem(location, reason, err)
  } else {
    hint = `fix the YAML at line ${line} (indentation, quoting, a missing ":" or closing bracket); kubectl apply --dry-run=client -f ${file === '-' ? '-' : file} reports the same problem`
  }
  return new SafeDeployError('INVALID_INPUT', message, {hint, cause: err, location})
}

/** A document nested too deeply (yaml-read.ts gives every such error the code RESOURCE_EXHAUSTION and one wording). */
function tooDeepProblem(location: ErrorLocation, reason: string, cause: YAMLError): SafeDeployError {
  return new SafeDeployError('INVALID_INPUT', `${formatLocation(location)}${reason}`, {
    hint: 'this is not a plausible Kubernetes manifest; check that the right file was passed',
    cause,
    location,
  })
}

/** Refuse documents whose aliases would expand beyond MAX_ALIAS_COUNT (billion laughs). */
function checkAliases(document: Document.Parsed, file: string, index: number, lineAt: (offset: number) => number): SafeDeployError | undefined {
  let firstAlias: number | undefined
  visit(document, {
    Alias(_key, node) {
      if (isAlias(node)) firstAlias = node.range?.[0] ?? 0
      return visit.BREAK
    },
  })
  if (firstAlias === undefined) return undefined
  try {
    document.toJS({maxAliasCount: MAX_ALIAS_COUNT})
    return undefined
  } catch (cause) {
    const location: ErrorLocation = {file, document: index, line: lineAt(firstAlias)}
    return new SafeDeployError(
      'INVALID_INPUT',
      `${formatLocation(location)}YAML aliases expand too much (over ${MAX_ALIAS_COUNT} alias expansions): ${errorText(cause)}`,
      {hint: 'write the values out instead of nesting anchors and aliases (this shape is a known resource-exhaustion attack)', cause, location},
    )
  }
}
