/**
 * A YAML or JSON input read as a tree of values with their 1-based lines, so that strict parsers (the classic
 * policy, the platform policy) can report every problem with its line. Aliases are resolved (a recursive
 * one is reported, not followed); an object given as data (the REST form) gives the same tree without lines.
 */
import {isAlias, isMap, isScalar, isSeq, type Document, type LineCounter} from 'yaml'

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
