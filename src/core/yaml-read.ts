/**
 * Every YAML (and JSON) text safe-deploy reads goes through here: manifests, policies, profiles, lock files,
 * kubeconfigs. These are yaml's parseAllDocuments, parseDocument and parse with two differences:
 *
 * - Nesting is bounded before anything is composed. yaml's composer recurses once per level of nesting, and
 *   running out of stack there is not always a clean error: when V8 has to compile a regular expression at that
 *   moment the process dies ("RegExpCompiler Allocation failed - process out of memory"), which is how a jest
 *   worker crashed on test/unit/core/manifest/parse.test.ts. So the depth is measured on the parser's token tree,
 *   which is built without recursion. A document with a collection nested deeper than MAX_NESTING is not
 *   composed: it comes back empty, with one error (code RESOURCE_EXHAUSTION, as yaml reports its own stack
 *   exhaustion) at that collection, so each reader reports it the way it reports any YAML error.
 * - The parse runs with process.env swapped for a plain copy (withPlainEnv).
 *
 * eslint.config.js keeps yaml's own parse functions out of the rest of src/.
 */
import {
  Composer,
  Lexer,
  LineCounter,
  Parser,
  YAMLParseError,
  type CST,
  type Document,
  type DocumentOptions,
  type ParseOptions,
  type SchemaOptions,
  type ToJSOptions,
  type YAMLError,
} from 'yaml'

/**
 * Deepest nesting of collections a document may have. Kubernetes objects nest a few dozen levels and kubectl's
 * reader allows 10,000, so refusing past this is never a differential; the composer handles 500 levels with most
 * of the stack to spare.
 */
export const MAX_NESTING = 500

const TOO_DEEP = 'the document is nested too deeply to parse safely'

/** The message of the error a document nested past MAX_NESTING carries. */
export const NESTED_TOO_DEEPLY = `${TOO_DEEP} (over ${MAX_NESTING} levels)`

export type ReadOptions = ParseOptions & DocumentOptions & SchemaOptions

/**
 * Run `fn` with process.env replaced by a plain-object copy. The `yaml` parser reads process.env.LOG_TOKENS once
 * per token, and the real process.env is a host object whose every read goes to the C++ environment: ~20% of a
 * large parse. Nothing else runs during `fn` (synchronous), and the real object is put back after it.
 */
export function withPlainEnv<T>(fn: () => T): T {
  const env = process.env
  process.env = {...env}
  try {
    return fn()
  } finally {
    process.env = env
  }
}

/** yaml's parseAllDocuments, with nesting bounded (an empty stream gives an empty array). */
export function parseAllDocuments(text: string, options: ReadOptions = {}): Document.Parsed[] {
  return compose(text, options, false)
}

/** yaml's parseDocument, with nesting bounded: the first document; a second one is an error (MULTIPLE_DOCS). */
export function parseDocument(text: string, options: ReadOptions = {}): Document.Parsed {
  // compose() with one: true always gives exactly one document, even for an empty text.
  return compose(text, options, true)[0] as Document.Parsed
}

/** yaml's parse, with nesting bounded: the value of the one document; its first error is thrown. */
export function parse(text: string, options: ReadOptions & ToJSOptions = {}): unknown {
  const doc = parseDocument(text, options)
  const error = doc.errors[0]
  if (error) throw error
  // Warnings (an unknown tag read as a string) are not printed: yaml would send them to process.emitWarning.
  return doc.toJS(options)
}

/**
 * The lexemes of the text, one at a time, as yaml's Lexer cuts it for its parser: source strings, plus the control
 * markers the lexer inserts (cst.DOCUMENT, cst.FLOW_END, cst.SCALAR before a plain scalar), which stand for no text.
 * Nothing is composed, so there is no nesting to bound.
 */
export function lexemes(text: string): Iterator<string, void> {
  return new Lexer().lex(text)
}

/** Every document of the text, or (one) only the first, with an error when there is a second, as yaml's parseDocument. */
function compose(text: string, options: ReadOptions, one: boolean): Document.Parsed[] {
  return withPlainEnv(() => {
    // As in yaml, errors get their line and column unless prettyErrors is false (yaml also appends an excerpt of the
    // text; safe-deploy's messages are one line).
    const pretty = options.prettyErrors !== false
    const lineCounter = options.lineCounter ?? (pretty ? new LineCounter() : undefined)
    const tokens = Array.from(new Parser(lineCounter?.addNewLine).parse(text))
    const cut = cutTooDeep(tokens)
    let documents = Array.from(new Composer(options).compose(tokens, one, text.length))
    const [first, second] = documents
    if (one && first) {
      if (second)
        first.errors.push(
          new YAMLParseError([second.range[0], second.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'),
        )
      documents = [first]
    }
    for (const doc of documents) {
      for (const error of doc.errors) {
        // "Nested too deeply" has one code and one wording, whether this module cut the document or the composer
        // ran out of stack on its own (its message, e.g. "Maximum call stack size exceeded", kept in brackets).
        if (cut.has(error.pos[0]) && error.message === NESTED_TOO_DEEPLY) error.code = 'RESOURCE_EXHAUSTION'
        else if (error.code === 'RESOURCE_EXHAUSTION') error.message = `${TOO_DEEP} (${error.message})`
      }
      if (pretty && lineCounter) for (const error of [...doc.errors, ...doc.warnings]) locate(error, lineCounter)
    }
    return documents
  })
}

/** What yaml's prettyErrors adds to an error, less the excerpt: linePos, and " at line L, column C" in the message. */
function locate(error: YAMLError, lineCounter: LineCounter): void {
  if (error.pos[0] === -1) return
  error.linePos = [lineCounter.linePos(error.pos[0]), lineCounter.linePos(error.pos[1])]
  error.message += ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}`
}

/**
 * Replace the content of every document that nests collections deeper than MAX_NESTING by an error token at its
 * first collection past the limit (the composer reports an error token as a document error and composes nothing
 * for it). Returns the offsets of the error tokens. The walk uses an explicit stack: no recursion.
 */
function cutTooDeep(tokens: readonly CST.Token[]): Set<number> {
  const cut = new Set<number>()
  for (const token of tokens) {
    if (token.type !== 'document') continue
    const stack: Array<{token: CST.Token | undefined; depth: number}> = [{token: token.value, depth: 0}]
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      const t = next.token
      if (t === undefined || (t.type !== 'block-map' && t.type !== 'block-seq' && t.type !== 'flow-collection')) continue
      const depth = next.depth + 1
      if (depth > MAX_NESTING) {
        token.value = {type: 'error', offset: t.offset, source: '', message: NESTED_TOO_DEEPLY}
        cut.add(t.offset)
        break
      }
      // Pushed last item first, value before key: popped in document order, so the cut is the first deep collection.
      for (let i = t.items.length - 1; i >= 0; i--) {
        const item = t.items[i]
        if (item === undefined) continue
        stack.push({token: item.value, depth})
        if ('key' in item) stack.push({token: item.key ?? undefined, depth})
      }
    }
  }
  return cut
}
