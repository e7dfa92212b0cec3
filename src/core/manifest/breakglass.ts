/**
 * GKE break-glass: the annotation `alpha.image-policy.k8s.io/break-glass: "true"` on the Pod, or on
 * the pod template of a workload (docs/binauthz.md#break-glass). Read it from manifests, and add it to the
 * stream that is applied (never to the user's files).
 */
import {parseAllDocuments} from '../yaml-read.js'
import type {ImageSite} from './types.js'
import type {ManifestFile} from './parse.js'

export const BREAK_GLASS_ANNOTATION = 'alpha.image-policy.k8s.io/break-glass'

const POD_SPEC_FIELDS = new Set(['containers', 'initContainers', 'ephemeralContainers', 'volumes'])

/** The path of the pod (template) metadata that holds a site's pod spec, or undefined for custom rules. */
export function podMetadataPath(site: Pick<ImageSite, 'path' | 'role'>): Array<string | number> | undefined {
  if (site.role === 'custom') return undefined
  let i = -1
  site.path.forEach((k, idx) => {
    if (typeof k === 'string' && POD_SPEC_FIELDS.has(k)) i = idx
  })
  if (i < 1) return undefined
  const podSpec = site.path.slice(0, i)
  return [...podSpec.slice(0, -1), 'metadata']
}

/** Does the site's pod (template) already carry the break-glass annotation? */
export function siteHasBreakGlass(m: ManifestFile, site: ImageSite): boolean {
  const meta = podMetadataPath(site)
  const doc = m.documents[site.document]?.document
  if (!meta || !doc) return false
  const v: unknown = doc.getIn([...meta, 'annotations', BREAK_GLASS_ANNOTATION])
  return v === 'true' || v === true
}

/**
 * Add the annotation to every pod (template) that holds one of the sites, returning the new YAML
 * stream. Documents are re-serialized (this text is what gets applied, not a user file).
 */
export function addBreakGlass(text: string, sites: readonly ImageSite[]): string {
  const docs = parseAllDocuments(text)
  const touched = new Set<number>()
  for (const site of sites) {
    const meta = podMetadataPath(site)
    const doc = docs[site.document]
    if (!meta || !doc) continue
    doc.setIn([...meta, 'annotations', BREAK_GLASS_ANNOTATION], 'true')
    touched.add(site.document)
  }
  if (touched.size === 0) return text
  return docs
    .filter((d) => d.contents !== null)
    .map((d) => d.toString({lineWidth: 0}))
    .map((s) => (s.startsWith('---') ? s : '---\n' + s))
    .join('')
}
