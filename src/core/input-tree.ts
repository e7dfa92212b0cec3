/**
 * A YAML or JSON input read as a tree of values with their 1-based lines, so that strict parsers (the classic
 * policy, the platform policy) can report every problem with its line. Aliases are resolved (a recursive
 * one is reported, not followed); an object given as data (the REST form) gives the same tree without lines.
 */
import {isAlias, isMap, isScalar, isSeq, LineCounter, type Document} from 'yaml'
import {parseAllDocuments} from './yaml-read.js'
import {SafeDeployError} from './errors.js'

export type Tree =
  | {t: 'map'; line: number | undefined; entries: Array<{key: string; keyLine: number | undefined; value: Tree}>}
  | {t: 'seq'; line: number | undefined; items: Tree[]}
  | {t: 'scalar'; line: number | undefined; value: string | number | boolean | null}
  | {t: 'other'; line: number | undefined; desc: string}

export function yamlTree(node: unknown, doc: Document, lc: LineCounter, depth = 0): Tree {
  const line = lineOf(node, lc)
  if (node === null || node === undefined) return {t: 'scalar', line, value: null}
  if (isAlias(node)) {
    if (depth > 20) return {t: 'other', line, desc: 'a recursive alias'}
    return yamlTree(node.resolve(doc), doc, lc, depth + 1)
  }
  if (isMap(node)) {
    const entries = node.items.map((pair) => {
      const k: unknown = pair.key
      const key = isScalar(k) ? String(k.value) : k === null ? 'null' : '[complex key]'
      return {key, keyLine: lineOf(k, lc) ?? line, value: yamlTree(pair.value, doc, lc, depth)}
    })
    return {t: 'map', line, entries}
  }
  if (isSeq(node)) return {t: 'seq', line, items: node.items.map((i) => yamlTree(i, doc, lc, depth))}
  if (isScalar(node)) {
    const v = node.value
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return {t: 'scalar', line, value: v}
    return {t: 'other', line, desc: `a ${typeof v} value`}
  }
  return {t: 'other', line, desc: 'an unsupported YAML node'}
}

export function lineOf(node: unknown, lc: LineCounter): number | undefined {
  if (node === null || typeof node !== 'object' || !('range' in node)) return undefined
  const range = (node as {range?: unknown}).range
  if (!Array.isArray(range) || typeof range[0] !== 'number') return undefined
  return lc.linePos(range[0]).line
}

export function objectTree(v: unknown): Tree {
  if (v === null || v === undefined) return {t: 'scalar', line: undefined, value: null}
  if (Array.isArray(v)) return {t: 'seq', line: undefined, items: v.map(objectTree)}
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return {t: 'scalar', line: undefined, value: v}
  if (typeof v === 'object') {
    return {t: 'map', line: undefined, entries: Object.entries(v).map(([key, value]) => ({key, keyLine: undefined, value: objectTree(value)}))}
  }
  return {t: 'other', line: undefined, desc: `a ${typeof v}`}
}

export function describe(t: Tree | undefined): string {
  if (t === undefined) return 'nothing'
  switch (t.t) {
    case 'map':
      return 'a mapping'
    case 'seq':
      return 'a list'
    case 'other':
      return t.desc
    case 'scalar':
      if (t.value === null) return 'null'
      if (typeof t.value === 'string') return t.value === '' ? 'an empty string' : JSON.stringify(t.value)
      return String(t.value)
  }
}

export function isNull(t: Tree | undefined): boolean {
  return t === undefined || (t.t === 'scalar' && t.value === null)
}

/** One problem of a strict parser: where (path, line when known) and what. */
export interface Problem {
  path: string
  line: number | undefined
  message: string
}

/** Every problem at once: one error listing them in file order, each saying its own file:line once. */
export function problemsError(code: 'POLICY_INVALID' | 'INVALID_INPUT', source: string, title: string, found: Problem[], hint: string): SafeDeployError {
  // In file order (stable: problems on one line keep their discovery order; problems without a line go last).
  const problems = [...found].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity))
  // Each problem says where it is, once; the summary only counts them (they are listed from `errors`).
  const errors = problems.map(
    (p) =>
      new SafeDeployError(code, `${source}${p.line === undefined ? '' : `:${p.line}`}: ${p.path}: ${p.message}`, {
        location: {file: source, path: p.path, ...(p.line === undefined ? {} : {line: p.line})},
      }),
  )
  const n = problems.length
  return new SafeDeployError(code, `${source}: ${title} (${n} problem${n === 1 ? '' : 's'}):`, {hint, errors, location: {file: source}})
}

/**
 * A policy file read as one document's tree: every syntax error listed (INVALID_INPUT), an empty file or a second
 * document refused (POLICY_INVALID). `what` names the policy in messages; `empty` says what was expected and how
 * to get it; `hint` is the invalid-policy hint.
 */
export function policyDocumentTree(text: string, file: string, what: {title: string; empty: {message: string; hint: string}; hint: string}): Tree {
  const lc = new LineCounter()
  const docs = parseAllDocuments(text, {lineCounter: lc, prettyErrors: false})
  const list = Array.isArray(docs) ? docs : []
  const syntax: Problem[] = []
  for (const doc of list) {
    for (const e of doc.errors) {
      syntax.push({
        path: 'syntax',
        line: e.linePos?.[0].line ?? lc.linePos(e.pos[0]).line,
        message: `expected valid YAML or JSON, got: ${e.message.split('\n')[0] ?? e.message}`,
      })
    }
  }
  if (syntax.length > 0) throw problemsError('INVALID_INPUT', file, 'malformed policy file', syntax, 'fix the YAML/JSON syntax at the lines listed')
  const nonEmpty = list.filter((d) => d.contents !== null)
  if (nonEmpty.length === 0) throw new SafeDeployError('POLICY_INVALID', `${file}: ${what.empty.message}`, {hint: what.empty.hint, location: {file}})
  if (nonEmpty.length > 1) {
    const line = lineOf((nonEmpty[1] as Document).contents, lc)
    throw problemsError(
      'POLICY_INVALID',
      file,
      what.title,
      [{path: 'document 2', line, message: `expected a single policy document, got ${nonEmpty.length} YAML documents`}],
      what.hint,
    )
  }
  const doc = nonEmpty[0] as Document
  return yamlTree(doc.contents, doc, lc)
}
