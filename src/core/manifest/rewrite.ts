/**
 * Rewrite image scalars in place: splice the original text at each scalar's source range, keeping
 * its quoting style. Every other byte (comments, flow style, key order, line endings, a missing
 * final newline) stays as it was. One pass over the sorted ranges, so large files stay linear.
 */
import {isAlias, isMap, isScalar, isSeq, Scalar, type Document} from 'yaml'
import {SafeDeployError, formatLocation, type ErrorLocation} from '../errors.js'
import type {ImageSite, ManifestFile} from './types.js'

export interface ImageReplacement {
  site: ImageSite
  value: string
}

interface Edit {
  start: number
  end: number
  type: string | undefined
  /** The scalar's current value (checked against the source of a block scalar). */
  current: string
  value: string
  site: ImageSite
}

/**
 * The new file text with only the given image scalars changed, spliced at each site's valueRange
 * with its scalarType's quoting: no parsed document is needed. `text` must be the text the sites
 * were located in. Throws INVALID_INPUT for two different values for one field, or a block scalar
 * that cannot hold the value; INTERNAL when a site's range does not fit the text.
 */
export function rewriteText(text: string, replacements: ReadonlyArray<ImageReplacement>): string {
  const edits: Edit[] = []
  for (const {site, value} of replacements) {
    const [start, end] = site.valueRange
    if (!(start >= 0 && end >= start && end <= text.length) || !sourceFits(text.slice(start, end), site)) {
      throw new SafeDeployError(
        'INTERNAL',
        `${where(site)}rewriteText: the text at the site's range does not hold ${JSON.stringify(site.image)} (stale image site)`,
      )
    }
    edits.push({start, end, type: site.scalarType, current: site.image, value, site})
  }
  return splice(text, edits)
}

/** A cheap check that the range still holds the scalar the site was read from. */
function sourceFits(source: string, site: ImageSite): boolean {
  switch (site.scalarType) {
    case 'PLAIN':
      // A multi-line plain scalar is folded: its line breaks read as spaces.
      return source === site.image || source.replace(/[ \t]*\r?\n[ \t]*/g, ' ') === site.image
    case 'QUOTE_SINGLE':
      return source.length >= 2 && source.startsWith("'") && source.endsWith("'")
    case 'QUOTE_DOUBLE':
      return source.length >= 2 && source.startsWith('"') && source.endsWith('"')
    default:
      return source.startsWith('|') || source.startsWith('>')
  }
}

/** The new file text with only the given image scalars changed (sites checked against the parsed documents). */
export function rewriteImages(m: ManifestFile, replacements: ReadonlyArray<ImageReplacement>): string {
  const edits: Edit[] = []
  for (const {site, value} of replacements) {
    if (site.file !== m.file) {
      throw new SafeDeployError('INTERNAL', `rewriteImages: the site belongs to ${site.file}, not ${m.file}`)
    }
    const doc = m.documents[site.document]
    const node = doc && !doc.empty ? nodeAt(doc.document, site.path) : undefined
    if (!isScalar(node) || node.value !== site.image || !node.range) {
      throw new SafeDeployError('INTERNAL', `${where(site)}rewriteImages: the field no longer holds ${JSON.stringify(site.image)} (stale image site)`)
    }
    const [start, end] = node.range
    edits.push({start, end, type: node.type, current: site.image, value, site})
  }
  return splice(m.text, edits)
}

/** One pass over the edits sorted by offset; the same field twice must get the same value. */
function splice(text: string, edits: Edit[]): string {
  const rendered = edits.map((e) => ({...e, text: renderScalar(text, e)}))
  rendered.sort((a, b) => a.start - b.start)

  const parts: string[] = []
  let pos = 0
  let prev: (typeof rendered)[number] | undefined
  for (const e of rendered) {
    if (prev && e.start < prev.end) {
      if (e.start === prev.start && e.end === prev.end && e.text === prev.text) continue
      throw new SafeDeployError('INVALID_INPUT', `${where(e.site)}two different values were requested for the same image field`, {
        hint: 'the same YAML node is reached twice (through an alias or a duplicate replacement); pin it once',
        location: location(e.site),
      })
    }
    parts.push(text.slice(pos, e.start), e.text)
    pos = e.end
    prev = e
  }
  parts.push(text.slice(pos))
  return parts.join('')
}

/** Follow a site path through maps (string keys) and sequences (indexes), resolving aliases. */
function nodeAt(doc: Document.Parsed, path: ReadonlyArray<string | number>): unknown {
  let node: unknown = doc.contents
  for (const key of path) {
    if (isAlias(node)) node = node.resolve(doc)
    if (typeof key === 'number') {
      node = isSeq(node) ? node.items[key] : undefined
    } else if (isMap(node)) {
      let found: unknown
      for (const pair of node.items) {
        const k = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key
        if (isScalar(k) && k.value === key) {
          found = pair.value
          break
        }
      }
      node = found
    } else {
      return undefined
    }
  }
  return node
}

/** YAML 1.1 and 1.2 words a plain scalar would be read as (bool, null, number), not as a string. */
const NON_STRING_PLAIN =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?(?:\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN|[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9]+(?:[eE][-+]?[0-9]+)?|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$/

/** Safe to write as a plain scalar in block or flow context (image references always are). */
export function isPlainSafe(value: string): boolean {
  if (!/^[A-Za-z0-9._/@+-][A-Za-z0-9._/@+:-]*$/.test(value)) return false
  if (value.endsWith(':') || value.startsWith('-') || value.startsWith('.') || value.startsWith('@')) return false
  if (value === '---' || value === '...') return false
  return !NON_STRING_PLAIN.test(value)
}

/**
 * Characters JSON.stringify leaves as they are but YAML does not read as themselves in a double-quoted
 * scalar: U+0085, U+2028 and U+2029 are line breaks to kubectl's YAML 1.1 reader (so the text would be
 * refused as a reading hazard, src/core/manifest/kubectl-reading.ts), and DEL, the C1 controls, U+FEFF,
 * U+FFFE and U+FFFF are not printable YAML. Each is written as a `\uXXXX` escape, which YAML 1.1, 1.2 and
 * JSON all read. Found by the manifest fuzzer (seed 645058353): `"a\Pb"` rewritten with its own value.
 */
const NOT_PRINTABLE_IN_YAML = /[\u007F-\u009F\u2028\u2029\uFEFF\uFFFE\uFFFF]/g

/** A double-quoted scalar that YAML and JSON both read back as `value`. */
function doubleQuoted(value: string): string {
  return JSON.stringify(value).replace(NOT_PRINTABLE_IN_YAML, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}

function singleQuoted(value: string): string | undefined {
  // Line breaks, control and other non-printable characters need escapes that only double quotes have.
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) < 0x20) return undefined
  // (search, unlike test, ignores the global regex's lastIndex.)
  if (value.search(NOT_PRINTABLE_IN_YAML) !== -1) return undefined
  return `'${value.replace(/'/g, "''")}'`
}

function renderScalar(text: string, e: Edit): string {
  const value = e.value
  switch (e.type) {
    case Scalar.PLAIN:
      return isPlainSafe(value) ? value : doubleQuoted(value)
    case Scalar.QUOTE_SINGLE:
      return singleQuoted(value) ?? doubleQuoted(value)
    case Scalar.QUOTE_DOUBLE:
      return doubleQuoted(value)
    case Scalar.BLOCK_LITERAL:
    case Scalar.BLOCK_FOLDED:
      return renderBlock(text.slice(e.start, e.end), e.current, value, e.site)
    default:
      return doubleQuoted(value)
  }
}

/**
 * A block scalar (`image: |-` then the value on the next line) keeps its header and indentation
 * when it has one content line and strips the final line break ("-"); other block scalars are refused.
 */
function renderBlock(source: string, current: string, value: string, site: ImageSite): string {
  const refuse = (why: string): never => {
    throw new SafeDeployError('INVALID_INPUT', `${where(site)}cannot rewrite the image in place: ${why}`, {
      hint: 'write the image as a plain scalar (image: gcr.io/my-project/app:1.0) and run pin again',
      location: location(site),
    })
  }
  const headerEnd = source.indexOf('\n')
  const header = (headerEnd < 0 ? source : source.slice(0, headerEnd)).replace(/\r$/, '')
  const m = /^[|>]([1-9]?)([-+]?)([1-9]?)[ \t]*(?:#.*)?$/.exec(header)
  if (!m || headerEnd < 0) return refuse('the block scalar header could not be read')
  if ((m[2] ?? '') !== '-') return refuse('a block scalar (| or >) without "-" keeps a final line break, which is not part of an image reference')
  if (/[\s]/.test(value)) return refuse('the new value contains whitespace')
  const body = source.slice(headerEnd + 1)
  const lines = body.split('\n')
  const content = lines.filter((l) => l.trim() !== '')
  if (content.length !== 1) return refuse('the block scalar spans several lines')
  const first = lines.findIndex((l) => l.trim() !== '')
  const line = lines[first] as string
  const indent = line.length - line.trimStart().length
  const eol = line.endsWith('\r') ? '\r' : ''
  const old = line.slice(indent, line.length - eol.length).trimEnd()
  if (old !== current) return refuse('the block scalar content could not be matched')
  lines[first] = line.slice(0, indent) + value + line.slice(indent + old.length)
  return source.slice(0, headerEnd + 1) + lines.join('\n')
}

function location(site: ImageSite): ErrorLocation {
  return {file: site.file, document: site.document, path: site.pathString, line: site.line, image: site.image}
}

function where(site: ImageSite): string {
  return formatLocation({file: site.file, document: site.document, path: site.pathString, line: site.line})
}
