/**
 * kubectl and safe-deploy must read a manifest the same way: kubectl reads it with Go
 * (apimachinery's YAML document reader splits the stream into documents, go-yaml v2 decodes each one
 * with YAML 1.1 rules, encoding/json decodes streams that start with `{`), safe-deploy with the
 * `yaml` package (YAML 1.2). Wherever the two readings could differ, the input is refused here, with
 * the place and the reason, instead of guessing which reading wins: an image that kubectl would send
 * but safe-deploy never saw is exactly the hole this tool exists to close.
 *
 * docs/kubectl-reading.md lists every rule with the kubectl v1.32 behaviour it mirrors; the
 * differential tests (test/e2e/differential) check each against the real kubectl binary.
 */
import {isAlias, isMap, isScalar, isSeq, type Document, type Node, type Pair} from 'yaml'

/** One place where the two readers could disagree. `offset` is in the text that was checked. */
export interface ReadingHazard {
  offset: number
  why: string
  hint: string
}

/** At most this many hazards are reported per piece of text (the first one is what the error leads with). */
const MAX_HAZARDS = 10

/**
 * Characters that Go's YAML reader treats as line breaks and YAML 1.2 does not (NEL, LINE SEPARATOR,
 * PARAGRAPH SEPARATOR, a CR not followed by LF), and a byte-order mark anywhere but the start.
 */
const ODD_CHARACTERS = /[\u0085\u2028\u2029\uFEFF]|\r(?!\n)/g

/** Lines that are (or look like) document markers or directives: `---…`, `...…`, `%…`. */
const MARKER_LINES = /^(?:---|\.\.\.|%)[^\r\n]*/gm

const CHARACTER_NAMES: Readonly<Record<string, string>> = {
  '\u0085': 'U+0085 (NEXT LINE)',
  '\u2028': 'U+2028 (LINE SEPARATOR)',
  '\u2029': 'U+2029 (PARAGRAPH SEPARATOR)',
  '\r': 'a carriage return (CR) not followed by a line feed',
  '\uFEFF': 'U+FEFF (a byte-order mark) after the start of the stream',
}

/**
 * Text-level hazards of a piece of a stream. `atStreamStart`: the piece starts at offset 0 of the
 * file, where a byte-order mark is allowed.
 */
export function textHazards(text: string, atStreamStart: boolean): ReadingHazard[] {
  const out: ReadingHazard[] = []
  ODD_CHARACTERS.lastIndex = 0
  for (let m = ODD_CHARACTERS.exec(text); m !== null && out.length < MAX_HAZARDS; m = ODD_CHARACTERS.exec(text)) {
    if (m[0] === '\uFEFF' && m.index === 0 && atStreamStart) continue
    const name = CHARACTER_NAMES[m[0]] ?? 'an unusual line break'
    out.push({
      offset: m.index,
      why:
        m[0] === '\uFEFF'
          ? `the text contains ${name}: kubectl drops it at the start of a document, safe-deploy would read it as part of a key`
          : `the text contains ${name}, which kubectl's YAML reader (YAML 1.1) treats as a line break and YAML 1.2 does not, so the two would see different keys`,
      hint:
        m[0] === '\uFEFF'
          ? 'remove the byte-order mark (only the very start of a file may carry one)'
          : 'replace it with a plain line feed (\\n) or remove it; if it is meant to be in a value, write it as an escape in a double-quoted string',
    })
  }
  if (out.length > 0) return out
  MARKER_LINES.lastIndex = 0
  for (let m = MARKER_LINES.exec(text); m !== null && out.length < MAX_HAZARDS; m = MARKER_LINES.exec(text)) {
    const line = m[0]
    const rest = line.slice(line[0] === '%' ? 1 : 3)
    if (line[0] === '%') {
      out.push({
        offset: m.index,
        why: `a YAML directive line (${JSON.stringify(line)}): kubectl's reader does not accept directives and safe-deploy would switch YAML versions`,
        hint: 'remove the directive line; Kubernetes manifests need none',
      })
    } else if (line.startsWith('---')) {
      if (!cleanMarkerRest(rest)) {
        out.push({
          offset: m.index,
          why: `the document separator line ${JSON.stringify(line)} is not "---" followed by nothing, whitespace or a comment: kubectl splits documents there (or refuses the file) while YAML reads it differently`,
          hint: 'put "---" alone on its line and move anything after it to the next line',
        })
      }
    } else if (!cleanMarkerRest(rest)) {
      out.push({
        offset: m.index,
        why: `the line ${JSON.stringify(line)} starts with the document-end marker "...": kubectl and YAML read it differently`,
        hint: 'remove the line, or indent it if it belongs to a value',
      })
    } else {
      const after = contentAfterDocumentEnd(text, m.index + line.length)
      if (after !== undefined) {
        out.push({
          offset: after,
          why: 'there is content after a document-end marker ("...") before the next "---": kubectl ignores it, YAML reads it as another document',
          hint: 'put a "---" line after the "..." line, or remove the "..." line',
        })
      }
    }
  }
  return out
}

/** After `---` or `...`: nothing, or whitespace then nothing or a comment (what both readers accept). */
function cleanMarkerRest(rest: string): boolean {
  if (rest === '') return true
  if (rest[0] !== ' ' && rest[0] !== '\t') return false
  const trimmed = rest.trim()
  return trimmed === '' || trimmed.startsWith('#')
}

/** Offset of the first content line after a `...` line, before the next `---` line (undefined when none). */
function contentAfterDocumentEnd(text: string, from: number): number | undefined {
  let i = text.indexOf('\n', from)
  while (i >= 0 && i + 1 < text.length) {
    const start = i + 1
    const end = text.indexOf('\n', start)
    const line = text.slice(start, end < 0 ? text.length : end)
    if (line.startsWith('---')) return undefined
    const trimmed = line.trim()
    if (trimmed !== '' && !trimmed.startsWith('#')) return start
    i = end
  }
  return undefined
}

const ALLOWED_TAGS: ReadonlySet<string> = new Set(['tag:yaml.org,2002:str', 'tag:yaml.org,2002:map', 'tag:yaml.org,2002:seq'])

/**
 * Node-level hazards of one parsed document: mapping keys that are aliases, anchored, tagged or
 * collections; merge keys (`<<`); explicit tags other than !!str, !!map and !!seq (kubectl decodes
 * `!!binary` and resolves the others with YAML 1.1 rules); keys that YAML 1.1 turns into the same
 * string (`yes` and `true`, `0x10` and `16`), where kubectl keeps one of them.
 */
export function nodeHazards(doc: Document.Parsed, text: string): ReadingHazard[] {
  const out: ReadingHazard[] = []
  const visit = (node: unknown): void => {
    if (out.length >= MAX_HAZARDS || node === null || node === undefined || isAlias(node)) return
    const n = node as Node
    if (n.tag !== undefined && !ALLOWED_TAGS.has(n.tag)) {
      out.push({
        offset: n.range?.[0] ?? 0,
        why: `the value has the explicit tag ${n.tag.replace('tag:yaml.org,2002:', '!!')}, which kubectl resolves with YAML 1.1 rules (for example, it decodes !!binary) and safe-deploy does not`,
        hint: 'remove the tag and write the value itself (quote it if it must be a string)',
      })
    }
    if (isMap(node)) {
      const goKeys = new Map<string, number>()
      for (const pair of node.items as Array<Pair<unknown, unknown>>) {
        keyHazard(pair.key, out, goKeys, text)
        visit(pair.value)
      }
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item)
    }
  }
  visit(doc.contents)
  return out
}

function keyHazard(key: unknown, out: ReadingHazard[], goKeys: Map<string, number>, text: string): void {
  const offset = (key as Node | null)?.range?.[0] ?? 0
  if (isAlias(key)) {
    out.push({
      offset,
      why: `the mapping key is a YAML alias (*${key.source}): safe-deploy and kubectl disagree on which value of a repeated key wins`,
      hint: 'write the key out instead of an alias',
    })
    return
  }
  if (!isScalar(key)) {
    // `{{ .Values.x }}` reads as a mapping used as a key: an unrendered Helm template, reported as
    // such by the locator (kubectl cannot decode either; nothing is hidden from us by it).
    const range = (key as Node | null)?.range
    if (range && text.slice(Math.max(0, range[0] - 1), range[1]).includes('{{')) return
    out.push({offset, why: 'the mapping key is a list or a mapping, which kubectl cannot decode', hint: 'use a plain string key'})
    return
  }
  if (key.anchor !== undefined) {
    out.push({
      offset,
      why: `the mapping key carries an anchor (&${key.anchor}), used only to repeat keys through aliases`,
      hint: 'remove the anchor from the key',
    })
  }
  if (key.tag !== undefined && key.tag !== 'tag:yaml.org,2002:str') {
    out.push({
      offset,
      why: `the mapping key has the tag ${key.tag.replace('tag:yaml.org,2002:', '!!')}: kubectl decodes it (e.g. !!binary aW1hZ2U= is the key "image"), safe-deploy does not`,
      hint: 'write the key as a plain string',
    })
    return
  }
  if (key.type === 'PLAIN' && key.source === '<<') {
    out.push({
      offset,
      why: 'a YAML merge key (<<): kubectl (YAML 1.1) merges the referenced mapping into this one, YAML 1.2 reads a key named "<<"',
      hint: 'write the merged keys out in the mapping instead of using <<',
    })
    return
  }
  const goKey = key.type === 'PLAIN' && typeof key.source === 'string' ? goYamlKeyString(key.source) : String(key.value)
  const first = goKeys.get(goKey)
  if (first !== undefined) {
    out.push({
      offset,
      why: `this key and the key at offset ${first} are the same key "${goKey}" for kubectl (YAML 1.1 reads plain yes/no/on/off as booleans and numbers in every base): kubectl keeps only the last`,
      hint: 'quote the keys, or remove one of them',
    })
  } else {
    goKeys.set(goKey, offset)
  }
}

/** What go-yaml v2 (YAML 1.1) makes of a plain scalar: its type, for refusing values that change type. */
export type GoYamlType = 'string' | 'bool' | 'null' | 'int' | 'float'

const GO_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'])
const GO_BOOLS = new Set([...GO_TRUE, 'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'])
const GO_NULLS = new Set(['', '~', 'null', 'Null', 'NULL'])
const GO_FLOAT_WORDS = /^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/
const GO_INT = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)$/
const GO_FLOAT = /^[-+]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|0[xX][0-9a-fA-F]*\.?[0-9a-fA-F]*[pP][-+]?[0-9]+|inf(?:inity)?|nan)$/i

/**
 * The type go-yaml v2 resolves a plain scalar to (its resolve table: YAML 1.1 booleans and nulls,
 * then, for text that starts with a digit, a sign or a dot, Go's integer and float syntax with
 * underscores removed). Timestamps stay strings when decoded into interface{}, as kubectl does.
 */
export function goYamlPlainType(source: string): GoYamlType {
  if (GO_BOOLS.has(source)) return 'bool'
  if (GO_NULLS.has(source)) return 'null'
  if (GO_FLOAT_WORDS.test(source)) return 'float'
  const c = source.charCodeAt(0)
  const numeric = (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46
  if (!numeric) return 'string'
  const plain = source.replaceAll('_', '')
  if (GO_INT.test(plain)) return 'int'
  if (GO_FLOAT.test(plain)) return 'float'
  return 'string'
}

/** The JSON key kubectl ends up with for a plain key (sigs.k8s.io/yaml stringifies non-string keys). */
function goYamlKeyString(source: string): string {
  switch (goYamlPlainType(source)) {
    case 'bool':
      return GO_TRUE.has(source) ? 'true' : 'false'
    case 'null':
      return 'null'
    case 'int': {
      try {
        const plain = source.replaceAll('_', '')
        const neg = plain.startsWith('-')
        const body = plain.replace(/^[-+]/, '')
        const v = /^0[oO]/.test(body) ? BigInt('0o' + body.slice(2)) : /^0[0-7]+$/.test(body) ? BigInt('0o' + body.slice(1)) : BigInt(body)
        return (neg ? -v : v).toString()
      } catch {
        return source
      }
    }
    case 'float':
      return String(Number(source.replaceAll('_', '')))
    default:
      return source
  }
}

/**
 * Why a plain scalar that YAML 1.2 reads as a string is not one for kubectl (YAML 1.1), or
 * undefined when both read the same string. Used for image values and the fields that select a
 * policy rule (kind, apiVersion, name, namespace, service account).
 */
export function plainStringDisagreement(source: string): string | undefined {
  const t = goYamlPlainType(source)
  if (t === 'string') return undefined
  const what = t === 'bool' ? 'a boolean' : t === 'null' ? 'null' : t === 'int' ? 'an integer' : 'a number'
  return `kubectl (YAML 1.1) reads the unquoted value ${JSON.stringify(source)} as ${what}, safe-deploy (YAML 1.2) as a string`
}

/** Does the stream start (after whitespace) with "{"? kubectl then decodes it as a JSON stream, not YAML. */
export function isJsonStream(text: string): boolean {
  const m = /^[ \t\r\n]*/.exec(text)
  const i = m ? m[0].length : 0
  return text.charCodeAt(i) === 123
}
