/**
 * --json documents count YAML documents from 1, as every message does ("a.yaml: document 2: …");
 * inside safe-deploy they are 0-based indexes. The one place the two meet: every `document` number
 * at a known place in a --json document (pin sites, pre-flight images, unexamined values, error
 * locations, also nested under `preflight` in apply and run, and under each of apply's `clusters`) is shifted by one. Nothing else changes.
 */
export function jsonDocumentNumbers(doc: unknown): unknown {
  if (!isObject(doc)) return doc
  const out: Record<string, unknown> = {...doc}
  for (const key of ['sites', 'images', 'unexamined'] as const) {
    if (Array.isArray(out[key])) out[key] = (out[key] as unknown[]).map(shiftDocument)
  }
  if (Array.isArray(out.images)) out.images = out.images.map(withoutRepeatedAttestorFields)
  if (isObject(out.preflight)) out.preflight = jsonDocumentNumbers(out.preflight)
  // apply to several clusters: each cluster's own pre-flight.
  if (Array.isArray(out.clusters)) out.clusters = out.clusters.map(jsonDocumentNumbers)
  if (isObject(out.location)) out.location = shiftDocument(out.location)
  if (Array.isArray(out.errors)) out.errors = out.errors.map(jsonDocumentNumbers)
  return out
}

/**
 * An attestor check's `details` (the verifier's own result) repeats `attestor`, `satisfied` and `reason`
 * of the check it belongs to: in --json each is said once, on the check; `details` keeps what only it has
 * (checks, warnings, cause).
 */
function withoutRepeatedAttestorFields(image: unknown): unknown {
  if (!isObject(image) || !Array.isArray(image.attestors)) return image
  const attestors = image.attestors.map((a: unknown) => {
    if (!isObject(a) || !isObject(a.details)) return a
    const details = Object.fromEntries(Object.entries(a.details).filter(([k, v]) => !(k in a && k !== 'details' && a[k] === v)))
    return {...a, details}
  })
  return {...image, attestors}
}

function shiftDocument(entry: unknown): unknown {
  return isObject(entry) && typeof entry.document === 'number' ? {...entry, document: entry.document + 1} : entry
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
