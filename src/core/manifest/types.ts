import type {Document, LineCounter} from 'yaml'

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
  /**
   * [start, end) character offsets of the scalar's source in the file text (after any tag or
   * anchor, quotes included): what a rewrite splices, so no parsed document has to be kept.
   */
  valueRange: readonly [number, number]
  /** How the scalar is written; a rewrite keeps the style. */
  scalarType: ScalarType
  /**
   * The pod (template) metadata of this site carries `alpha.image-policy.k8s.io/break-glass: "true"`
   * (always false for custom rules).
   */
  breakGlass: boolean
}

/** The source style of a scalar (the `yaml` library's Scalar.Type names). */
export type ScalarType = 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE' | 'BLOCK_LITERAL' | 'BLOCK_FOLDED'

/** A custom resource rule from the config file: where images live in a CRD. */
export interface CustomImageRule {
  apiVersion?: string
  kind: string
  /** Dotted path with [*] for every list item, e.g. spec.components[*].image */
  path: string
}

/**
 * A string under a key named `image` (or in a list under a key named `images`) that no image rule
 * examined: in a kind safe-deploy has no rule for, or in a third-party kind whose built-in rules do
 * not cover that field. It is neither pinned nor pre-flighted (docs/image-rules.md#unexamined-image-like-values).
 */
export interface UnexaminedValue {
  /** File path as given, or '-' for stdin. */
  file: string
  /** 0-based index of the YAML document in its file. */
  document: number
  /** 1-based line of the value. */
  line: number
  apiVersion: string
  kind: string
  name: string
  namespace?: string
  /** Dotted path from the document root: spec.components[0].image */
  path: string
  /** The value as written. */
  value: string
  /** `no-rule`: the kind has no image rule; `not-covered`: a built-in rule for this kind does not cover the field. */
  reason: 'no-rule' | 'not-covered'
  /** The `.safe-deploy.yaml` imageRules entry that would cover it; absent when no rule path can name the field. */
  rule?: CustomImageRule
}

/** One document of a multi-document stream. */
export interface ManifestDocument {
  /** 0-based index in the stream (empty and comment-only documents count too). */
  index: number
  /** The parsed document (kept so that locate reads nodes and rewrite splices their source ranges). */
  document: Document.Parsed
  /** [start, end) character offsets of the document in ManifestFile.text. */
  range: readonly [number, number]
  /** True when the document has no content (empty, or comments only). */
  empty: boolean
}

/** A parsed manifest file: the original text, its documents and a line index. */
export interface ManifestFile {
  /** File path as given, '-' for stdin, `kustomize:DIR` for kustomize output. */
  file: string
  /** The original text, byte-for-byte what was read (rewrites splice into it). */
  text: string
  documents: ManifestDocument[]
  /** 1-based line lookup for character offsets in text. */
  lineCounter: LineCounter
}

/** What an image field holds: a reference to pin, or a value that must be rendered first. */
export type ImageValueClass = {kind: 'reference'} | {kind: 'template'; why: string} | {kind: 'ko'; why: string}
