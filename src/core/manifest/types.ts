/** An image field found in a manifest document. */
export interface ImageSite {
  /** File path as given, or '-' for stdin. */
  file: string
  /** 0-based index of the YAML document in its file (items of a `kind: List` share their document's index). */
  document: number
  apiVersion: string
  kind: string
  name: string
  /** metadata.namespace of the object, when written. */
  namespace?: string
  /** Pod spec serviceAccountName (or Knative/Cloud Run serviceAccountName), when written. */
  serviceAccount?: string
  /** Container name, when written. */
  container?: string
  /** Key path from the document root to the image scalar. */
  path: Array<string | number>
  /** Dotted form: spec.template.spec.containers[0].image */
  pathString: string
  /** 1-based line of the image scalar. */
  line: number
  /** The value as written. */
  image: string
  /** 'container' | 'initContainer' | 'ephemeralContainer' | 'volume' | 'custom' */
  role: 'container' | 'initContainer' | 'ephemeralContainer' | 'volume' | 'custom'
}

/** A custom resource rule from the config file: where images live in a CRD. */
export interface CustomImageRule {
  apiVersion?: string
  kind: string
  /** Dotted path with [*] for every list item, e.g. spec.components[*].image */
  path: string
}
