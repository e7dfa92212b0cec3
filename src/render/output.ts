/**
 * The -o renderers that are not the human report: YAML of the --json document, and `-o name` lines
 * (kubectl prints `kind.group/name` per object; safe-deploy's objects are mostly images). Pure.
 */
import {stringify} from 'yaml'
import type {PinJson} from '../app/pin.js'
import type {PreflightResult} from '../core/preflight.js'

/**
 * The --json document as YAML: key order kept, no line folding (long references stay on one line), and
 * an object used twice written out twice as JSON does, never as an anchor and alias (`&a1`/`*a1`),
 * which many YAML readers (yq, jq pipelines, other languages) do not expect.
 */
export function renderYamlDocument(doc: unknown): string {
  return stringify(doc, {lineWidth: 0, aliasDuplicateObjects: false})
}

/** One line per item, each once, in order of first appearance. */
function lines(items: Iterable<string>): string {
  const unique = [...new Set(items)]
  return unique.length ? unique.join('\n') + '\n' : ''
}

/** pin -o name: each pinned image reference once (what `xargs crane copy` or a scanner takes). */
export function pinNames(r: Pick<PinJson, 'sites'>): string {
  return lines(r.sites.map((s) => s.pinned))
}

/**
 * preflight -o name: each evaluated image once as `name@digest` (the image as written, any tag and
 * digest replaced by the digest evaluated); an image without a digest (--no-resolve on a tag) as written.
 */
export function preflightNames(r: Pick<PreflightResult, 'images'>): string {
  return lines(r.images.map((i) => (i.digest ? `${repository(i.original)}@${i.digest}` : i.original)))
}

/** The repository of a reference: without `@digest` and without `:tag` (a `:` after the last `/` is a tag, before it a port). */
function repository(ref: string): string {
  const at = ref.indexOf('@')
  const name = at >= 0 ? ref.slice(0, at) : ref
  const colon = name.lastIndexOf(':')
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name
}

/** `kind.group/name` as `kubectl apply -o name` prints it (the core group has no suffix). */
export function kubeName(o: {kind: string; name: string; apiVersion?: string | undefined}): string {
  const group = o.apiVersion?.includes('/') ? '.' + o.apiVersion.split('/')[0] : ''
  return `${o.kind.toLowerCase()}${group}/${o.name}`
}

/** apply -o name: each object sent, as kubectl prints it. */
export function applyNames(r: {objects: ReadonlyArray<{kind: string; name: string; apiVersion?: string | undefined}>}): string {
  return lines(r.objects.map(kubeName))
}

/** run deploy|replace -o name: the Knative service and, when one was made, its revision. */
export function runNames(r: {service: string; revision?: string | undefined}): string {
  return lines([`service.serving.knative.dev/${r.service}`, ...(r.revision ? [`revision.serving.knative.dev/${r.revision}`] : [])])
}

/** A left-aligned table: a header row, columns two spaces apart (kubectl's layout). */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)))
  const line = (r: readonly string[]): string =>
    r
      .map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

/** pin -o wide: one row per image site (the summary line stays as it is). */
export function renderPinWide(r: Pick<PinJson, 'sites'>): string {
  return table(
    ['WHERE', 'OBJECT', 'PATH', 'IMAGE', 'PINNED', 'STATUS'],
    r.sites.map((s) => [`${s.file}:${s.line}`, `${s.kind}/${s.name}`, s.path, s.original, s.pinned, s.status]),
  )
}
