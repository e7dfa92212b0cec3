/**
 * The Kubernetes objects a (pinned) manifest stream holds, read exactly as kubectl's builder reads
 * them, and serialized for kubectl so that it can only see what safe-deploy evaluated.
 *
 * `apply` never hands kubectl the source text: it parses the pinned text with the same reader that
 * located the images (parse.ts, with every kubectl-reading check), flattens lists as kubectl does,
 * and sends the objects as JSON values in plain ASCII (no YAML left to interpret). A second look
 * (secondLook) then reads that JSON again and checks that its images are exactly the evaluated ones.
 */
import {SafeDeployError, formatLocation} from '../errors.js'
import {nodeHazards} from './kubectl-reading.js'
import {MAX_ALIAS_COUNT, fileTraits, parseManifest} from './parse.js'
import {rewriteText} from './rewrite.js'
import {countLines, scanOutcome, scanPart} from './scan.js'
import {planParts, STREAM_PART_CHARS} from './scan-files.js'
import {sitesAfterSwap} from './swap-reading.js'
import type {CustomImageRule, ImageSite} from './types.js'

export interface ManifestObject {
  apiVersion: string
  kind: string
  name: string
  /** metadata.namespace as written, if any. */
  namespace?: string
  /** The whole object (plain JSON). */
  body: Record<string, unknown>
  /** Where it came from (file as given, 0-based document index). */
  file?: string
  document?: number
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Every object in a YAML/JSON stream, in order, as kubectl applies them
 * (docs/kubectl-reading.md#lists): empty documents skipped; an object with an `items` key is a list
 * whose items are applied instead of it; an item with neither kind nor apiVersion takes the list's
 * apiVersion and its kind minus "List"; a list inside a list is refused (kubectl fails on it).
 * Throws INVALID_INPUT for anything kubectl could read differently or cannot apply.
 */
export function manifestObjects(text: string, file = '-'): ManifestObject[] {
  const m = parseManifest(text, file)
  const out: ManifestObject[] = []
  for (const d of m.documents) {
    if (d.empty) continue
    // A mapping used as a key (an unrendered `{{ … }}` outside image fields) cannot become an object.
    const hazard = nodeHazards(d.document, '')[0]
    if (hazard) {
      throw new SafeDeployError('INVALID_INPUT', `${formatLocation({file, document: d.index})}${hazard.why}`, {
        hint: m.text.includes('{{') ? 'render it first: helm template ./chart | safe-deploy apply -f -' : hazard.hint,
        location: {file, document: d.index},
      })
    }
    const value: unknown = d.document.toJS({maxAliasCount: MAX_ALIAS_COUNT})
    if (value === null || value === undefined) continue
    const where = formatLocation({file, document: d.index})
    const push = (v: unknown, listOf?: {apiVersion: unknown; kind: string}): void => {
      if (!isRecord(v)) {
        throw new SafeDeployError('INVALID_INPUT', `${where}expected a Kubernetes object, got ${Array.isArray(v) ? 'a list' : typeof v}`, {
          location: {file, document: d.index},
        })
      }
      let obj = v
      if (listOf && !('kind' in obj) && !('apiVersion' in obj)) obj = {apiVersion: listOf.apiVersion, kind: listOf.kind, ...obj}
      if ('items' in obj) {
        if (listOf) throw new SafeDeployError('INVALID_INPUT', `${where}a list inside a list: kubectl cannot apply it`, {location: {file, document: d.index}})
        if (obj.items === null) return
        if (!Array.isArray(obj.items))
          throw new SafeDeployError('INVALID_INPUT', `${where}"items" is not a list: kubectl cannot apply this object`, {location: {file, document: d.index}})
        const kind = typeof obj.kind === 'string' ? obj.kind : ''
        for (const item of obj.items) push(item, {apiVersion: obj.apiVersion, kind: kind.endsWith('List') ? kind.slice(0, -'List'.length) : kind})
        return
      }
      const meta = isRecord(obj.metadata) ? obj.metadata : {}
      if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || typeof meta.name !== 'string' || meta.name === '') {
        throw new SafeDeployError(
          'INVALID_INPUT',
          `${where}expected apiVersion, kind and metadata.name, got ${JSON.stringify({apiVersion: obj.apiVersion, kind: obj.kind, name: meta.name})}`,
          {
            location: {file, document: d.index},
            hint: 'every object kubectl applies needs apiVersion, kind and metadata.name',
          },
        )
      }
      out.push({
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: meta.name,
        ...(typeof meta.namespace === 'string' && meta.namespace !== '' ? {namespace: meta.namespace} : {}),
        body: obj,
        file,
        document: d.index,
      })
    }
    push(value)
  }
  return out
}

/**
 * The objects as kubectl's input: a stream of JSON objects, one per line, every non-ASCII character
 * escaped. A stream that starts with "{" is decoded by kubectl as JSON values, so there is nothing
 * left to read two ways (no YAML, no line-break characters, no duplicate keys). Not a `kind: List`:
 * kubectl validates a List against the server's OpenAPI v2 document, which need not exist.
 */
export function kubectlInput(objects: readonly ManifestObject[]): string {
  return objects.map((o) => asciiJson(o.body) + '\n').join('')
}

function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}

/** What one evaluated image site must look like in the objects that are sent. */
export interface EvaluatedImage {
  site: ImageSite
  /** The value that was evaluated and must be sent (the pinned reference). */
  image: string
}

/**
 * The second look before anything leaves: read what will be sent (kubectlInput) with the same
 * locator, and require exactly the evaluated images — same count, same values, at the same object
 * and path. Throws INVALID_INPUT naming the first differences; nothing is sent.
 */
export function secondLook(sent: string, evaluated: readonly EvaluatedImage[], rules: readonly CustomImageRule[] = []): void {
  const key = (s: ImageSite, image: string): string => `${s.kind} ${s.namespace ?? ''}/${s.name} ${s.pathString.replace(/^items\[\d+\]\.?/, '')} ${image}`
  // One JSON value per line, read one by one as kubectl's JSON decoder reads the stream.
  const sites: ImageSite[] = []
  for (const line of sent.split('\n')) {
    if (line === '') continue
    const outcome = scanOutcome(line, 'the objects to send', rules)
    if (!outcome.ok) throw readBackFailed('the objects to send', outcome.error)
    sites.push(...outcome.sites)
  }
  mustMatch(sites, 'the objects to send', evaluated, key)
}

function readBackFailed(what: string, error: SafeDeployError): SafeDeployError {
  return new SafeDeployError('INVALID_INPUT', `refused: ${what} could not be read back: ${error.message}`, {
    hint: 'nothing was written or deployed; report this input as a safe-deploy bug',
  })
}

/**
 * The same look for a rewritten file (pin): every image site of the new text must be a pinned
 * value of the evaluated set, in the same document at the same path, and nothing more or less.
 */
export function rewrittenMustMatch(text: string, file: string, evaluated: readonly EvaluatedImage[], rules: readonly CustomImageRule[] = []): void {
  const what = `the rewritten ${file === '-' ? '<stdin>' : file}`
  const outcome = scanOutcome(text, file, rules)
  if (!outcome.ok) throw readBackFailed(what, outcome.error)
  mustMatch(outcome.sites, what, evaluated, rewrittenKey)
}

/** A rewritten file's image field: its document, path and value (offsets and lines move with the rewrite). */
const rewrittenKey = (s: ImageSite, image: string): string => `document ${s.document + 1} ${s.pathString} ${image}`

/** A pinned file as rewrittenStretchesMustMatch reads it back. */
export interface RewrittenFile {
  file: string
  /** The text as read, in which `located` were found and evaluated. */
  original: string
  /** Every image site located in `original` (the first reading). */
  located: readonly ImageSite[]
  /** `original` with the pinned values written in. */
  rewritten: string
  /** What was evaluated for this file: each located site and the value it must now hold. */
  evaluated: readonly EvaluatedImage[]
  rules?: readonly CustomImageRule[]
  /** About this many characters per stretch (default: the streaming scan's part size). */
  partChars?: number
}

/**
 * rewrittenMustMatch for a pinned file, reading back only the stretches that the rewrite changed. The file is cut
 * at document markers as the streaming scan cuts it (planParts); each stretch is rewritten on its own, and the
 * stretches must join into exactly the rewritten text. A stretch without a replacement is byte for byte the text
 * that was located, at the same document index, so reading it again gives the sites located there; those must be
 * exactly the evaluated ones, unchanged. Only the changed stretches are read again, each as the streaming scan reads
 * a part (its documents parsed on their own; the parser must end the stretch at a document boundary), and must hold
 * exactly the evaluated values. A changed stretch in which only image values of a plain shape were swapped is read
 * again by yaml's lexer alone, which settles what it holds without composing it (swap-reading.ts). A large input whose
 * images sit in a few documents (a CRD-heavy install.yaml) is then not parsed whole a second time. Whatever this
 * cannot settle (directives or `...` markers, a single stretch, a stretch read differently, any problem or difference)
 * goes to the whole read-back, which gives the verdict.
 */
export function rewrittenStretchesMustMatch(f: RewrittenFile): void {
  if (readBackStretches(f) === undefined) rewrittenMustMatch(f.rewritten, f.file, f.evaluated, f.rules ?? [])
}

/**
 * The read-back by stretches: how many stretches were read again (of how many; `swapped` of them by their lexemes alone)
 * when it settles that the rewritten file holds exactly what was evaluated; undefined when it cannot tell (the whole
 * read-back decides then).
 */
export function readBackStretches(f: RewrittenFile): {read: number; swapped: number; of: number} | undefined {
  const {file, original, rewritten} = f
  const rules = f.rules ?? []
  const traits = fileTraits(rewritten)
  const before = fileTraits(original)
  if ((Object.keys(traits) as Array<keyof typeof traits>).some((k) => traits[k] !== before[k])) return undefined
  const partChars = Math.max(1, f.partChars ?? STREAM_PART_CHARS)
  const plan = planParts(original, Math.ceil(original.length / partChars), partChars)
  if (plan.length < 2) return undefined
  const located: ImageSite[][] = plan.map(() => [])
  const evaluated: EvaluatedImage[][] = plan.map(() => [])
  for (const site of f.located) {
    const k = partHolding(plan, site)
    if (site.file !== file || k < 0) return undefined
    ;(located[k] as ImageSite[]).push(site)
  }
  for (const e of f.evaluated) {
    const k = partHolding(plan, e.site)
    if (e.site.file !== file || k < 0) return undefined
    ;(evaluated[k] as EvaluatedImage[]).push(e)
  }
  let offset = 0
  let line = 1
  let read = 0
  let lexed = 0
  for (const [k, p] of plan.entries()) {
    const entries = evaluated[k] as EvaluatedImage[]
    const source = original.slice(p.start, p.end)
    const reps = entries.filter((e) => e.image !== e.site.image).map((e) => ({value: e.image, site: shifted(e.site, p.start)}))
    let text = source
    if (reps.length > 0) {
      try {
        text = rewriteText(source, reps)
      } catch {
        return undefined
      }
    }
    if (rewritten.slice(offset, offset + text.length) !== text) return undefined
    // Unchanged: what this stretch holds is what was located in it.
    let found: readonly ImageSite[] = located[k] as ImageSite[]
    if (reps.length > 0) {
      // Where only image values were swapped, yaml's lexer settles it (swap-reading.ts); else the stretch is read again.
      const swapped = sitesAfterSwap(
        source,
        text,
        (located[k] as ImageSite[]).map((s) => shifted(s, p.start)),
        reps,
      )
      if (swapped !== undefined) {
        found = swapped
        lexed++
      } else {
        const last = k === plan.length - 1
        const part = scanPart(text, file, rules, {offset, line, document: p.document}, traits, {last})
        if (part.fallback || part.problems.length > 0 || part.locateError !== undefined) return undefined
        if (!last && part.documents !== (plan[k + 1] as {document: number}).document - p.document) return undefined
        found = part.sites
      }
      read++
    }
    if (differences(found, entries, rewrittenKey) !== undefined) return undefined
    offset += text.length
    line += countLines(text, 0, text.length)
  }
  return offset === rewritten.length ? {read, swapped: lexed, of: plan.length} : undefined
}

/** The site with its valueRange in the offsets of a stretch that starts at `start`. */
function shifted(site: ImageSite, start: number): ImageSite {
  return {...site, valueRange: [site.valueRange[0] - start, site.valueRange[1] - start] as const}
}

/** The index of the part that holds the site's whole value, or -1. */
function partHolding(parts: ReadonlyArray<{start: number; end: number}>, site: ImageSite): number {
  const [start, end] = site.valueRange
  const k = partAt(parts, start)
  return k >= 0 && end <= (parts[k] as {end: number}).end ? k : -1
}

/** The index of the part holding offset `at` (parts are contiguous and in order), or -1. */
function partAt(parts: ReadonlyArray<{start: number; end: number}>, at: number): number {
  let lo = 0
  let hi = parts.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const p = parts[mid] as {start: number; end: number}
    if (at < p.start) hi = mid - 1
    else if (at >= p.end) lo = mid + 1
    else return mid
  }
  return -1
}

/** What differs between the sites found and the evaluated images, by key; undefined when nothing does. */
function differences(
  found: readonly ImageSite[],
  evaluated: readonly EvaluatedImage[],
  key: (s: ImageSite, image: string) => string,
): {extra: string[]; missing: string[]} | undefined {
  const counts = new Map<string, number>()
  for (const e of evaluated) {
    const k = key(e.site, e.image)
    counts.set(k, (counts.get(k) ?? 0) + 1)
  }
  const extra: string[] = []
  for (const s of found) {
    const k = key(s, s.image)
    const n = counts.get(k) ?? 0
    if (n === 0) extra.push(k)
    else counts.set(k, n - 1)
  }
  const missing = [...counts].flatMap(([k, n]) => Array.from({length: n}, () => k))
  return missing.length === 0 && extra.length === 0 ? undefined : {extra, missing}
}

function mustMatch(found: readonly ImageSite[], what: string, evaluated: readonly EvaluatedImage[], key: (s: ImageSite, image: string) => string): void {
  const diff = differences(found, evaluated, key)
  if (diff === undefined) return
  const {extra, missing} = diff
  const detail = [
    ...extra.slice(0, 3).map((k) => `found ${k}, which was not evaluated`),
    ...missing.slice(0, 3).map((k) => `evaluated ${k}, which is not there`),
  ].join('; ')
  throw new SafeDeployError(
    'INVALID_INPUT',
    `refused: ${what} differs from what was evaluated (${found.length} image field(s) read back, ${evaluated.length} evaluated): ${detail}`,
    {
      hint: 'nothing was written or deployed; check the input for constructs that tools read differently, and report it as a safe-deploy bug',
    },
  )
}
