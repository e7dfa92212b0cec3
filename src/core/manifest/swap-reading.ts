/**
 * pin's read-back of a stretch whose rewrite only swapped image values (objects.ts readBackStretches). When each
 * swapped scalar has, before and after, the shape below, and yaml's lexer cuts the rewritten stretch into exactly the
 * lexemes of the original with only those scalars' sources swapped, the rewritten stretch reads as the original with
 * those values changed. The sites it holds are then the sites located in the original, with the new values: what
 * composing and locating it again (scanPart) gives, for the cost of lexing both (docs/kubectl-reading.md#the-second-look).
 *
 * Why the lexemes settle it (yaml 2.x, read through src/core/yaml-read.ts):
 * - yaml's parser builds its token tree from the lexemes alone. It branches on each lexeme's type (cst.tokenType: the
 *   whole string for indicators, else its first character) and on the indentation that space, newline and indicator
 *   lexemes carry; a scalar's source is copied into its token, and its length moves the offsets after it.
 * - The composer reads a flow scalar's content in three places: an empty plain scalar is a null, a plain scalar gets
 *   its type from the schema (null, bool, number or string), and a flow-collection value that starts with ":" is told
 *   apart. Its other offset checks (an implicit key within 1,024 characters of its ":") span keys, and a swapped
 *   scalar is an image value, never inside a key.
 * - Each swapped scalar is one line before and after (so no line number moves), keeps its style (plain, single- or
 *   double-quoted), has no tag or anchor (so no alias repeats it, and its tag is the schema's), and holds a value of
 *   isPlainSafe's shape: not empty, not starting with ":", "@" or "-", a string under YAML 1.1 and 1.2 alike, with no
 *   character that a quoted style escapes or that ends a plain scalar. Written quoted, such a value reads as itself.
 * So the rewritten stretch composes into the original's documents with those values changed and later offsets moved,
 * and no reading check (parse.ts, kubectl-reading.ts, the locator's plain-scalar check) sees anything new. The locator
 * branches on keys, kinds and structure, never on an image's value: it finds the same sites at the same documents
 * and paths, with the new values.
 *
 * Anything else (another style, a multi-line or tagged scalar, a value of another shape, lexemes that differ anywhere
 * else) gives undefined, and the stretch is composed and located again.
 */
import {CST} from 'yaml'
import {lexemes} from '../yaml-read.js'
import {isPlainSafe} from './rewrite.js'
import type {ImageSite} from './types.js'

/** One swapped value: the site as located (its valueRange in the stretch's own offsets) and the value written there. */
export interface SwappedValue {
  site: ImageSite
  value: string
}

/**
 * The sites of `rewritten` (the stretch `original` with `swaps` written in), when the lexemes prove it reads as the
 * original with only those values changed: each site of `located` (the original's sites, valueRange in the stretch's
 * offsets) with its new value. Undefined when that cannot be shown.
 */
export function sitesAfterSwap(original: string, rewritten: string, located: readonly ImageSite[], swaps: readonly SwappedValue[]): ImageSite[] | undefined {
  // By start offset in the original: the source the lexer must give there, and the one it must give instead.
  const at = new Map<number, Swap>()
  for (const {site, value} of swaps) {
    const before = written(site.scalarType, site.image)
    const after = written(site.scalarType, value)
    const [start, end] = site.valueRange
    if (before === undefined || after === undefined || original.slice(start, end) !== before) return undefined
    const seen = at.get(start)
    // One field reached by two paths (an alias of the map around it) holds one value.
    if (seen !== undefined && seen.after !== after) return undefined
    at.set(start, {start, before, after, value})
  }
  const order = [...at.values()].sort((a, b) => a.start - b.start)
  // Both texts lexed side by side, one lexeme at a time (a large stretch is a million lexemes).
  const was = lexemes(original)
  const now = lexemes(rewritten)
  let offset = 0
  let next = 0
  let props = false
  for (;;) {
    const a = was.next()
    const b = now.next()
    if (a.done === true || b.done === true) {
      if (a.done !== b.done) return undefined
      break
    }
    const lexeme = a.value
    if (isMarker(lexeme)) {
      if (b.value !== lexeme) return undefined
      continue
    }
    // Each other lexeme is the text where it stands: yaml's parser counts its offsets so.
    const swap = order[next]
    if (swap !== undefined && swap.start === offset && lexeme === swap.before) {
      if (b.value !== swap.after || props) return undefined
      next++
    } else if (b.value !== lexeme) {
      return undefined
    }
    // A tag or anchor applies to the node that follows it, across spaces, line breaks and comments.
    const c = lexeme.charCodeAt(0)
    if (c === 0x21 /* ! */ || c === 0x26 /* & */) props = true
    else if (!(c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x23 /* # */ || lexeme === '')) props = false
    offset += lexeme.length
  }
  if (next !== order.length || offset !== original.length) return undefined
  return located.map((site) => {
    const swap = at.get(site.valueRange[0])
    return swap === undefined ? site : {...site, image: swap.value}
  })
}

interface Swap {
  start: number
  before: string
  after: string
  value: string
}

/** The source of a one-line scalar of this style holding `value`, when `value` has the shape that reads as itself. */
function written(style: ImageSite['scalarType'], value: string): string | undefined {
  if (!isPlainSafe(value)) return undefined
  switch (style) {
    case 'PLAIN':
      return value
    case 'QUOTE_SINGLE':
      return `'${value}'`
    case 'QUOTE_DOUBLE':
      return `"${value}"`
    default:
      return undefined
  }
}

const MARKERS = new Set([CST.DOCUMENT.charCodeAt(0), CST.FLOW_END.charCodeAt(0), CST.SCALAR.charCodeAt(0)])

/** The lexer's control markers, which stand for no text (cst.DOCUMENT, cst.FLOW_END, cst.SCALAR). */
function isMarker(lexeme: string): boolean {
  return lexeme.length === 1 && MARKERS.has(lexeme.charCodeAt(0))
}
