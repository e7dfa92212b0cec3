/**
 * Find every image field in parsed manifest documents: pod specs of the workload kinds (core,
 * apps, batch, Knative / Cloud Run services and jobs), the built-in rules for common third-party
 * kinds (Argo Rollouts and Workflows, KEDA, Tekton), items of a `kind: List`, and custom rules for
 * CRDs. Only the known paths are read (direct map lookups), so CRD schemas full of the word "image"
 * are never reported as images.
 *
 * What no rule examined is not silently passed over: in a kind without any rule (and in the
 * third-party kinds above, beyond their built-in paths), every string under a key named `image`, or
 * in a list under a key named `images`, is reported as an unexamined image-like value
 * (docs/image-rules.md#unexamined-image-like-values).
 */
import {isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Scalar, type YAMLMap} from 'yaml'
import {BREAK_GLASS_ANNOTATION, podMetadataPath} from './breakglass.js'
import {SafeDeployError, formatLocation, type ErrorLocation} from '../errors.js'
import {unpinnableError} from './classify.js'
import {plainStringDisagreement} from './kubectl-reading.js'
import {WHOLE_FILE, type TextOrigin} from './parse.js'
import type {CustomImageRule, ImageSite, ManifestDocument, ManifestFile, ScalarType, UnexaminedValue} from './types.js'

export {classifyImageValue, unpinnableError} from './classify.js'

type PathKey = string | number
type Role = ImageSite['role']

/** Where the pod spec lives, per kind, and which API groups that kind is recognized in. */
interface PodSpecLocation {
  groups: readonly string[]
  path: readonly string[]
}

const TEMPLATE_SPEC = ['spec', 'template', 'spec'] as const
const APPS_GROUPS = ['apps', 'extensions'] as const
const KNATIVE_GROUPS = ['serving.knative.dev'] as const
const RUN_GROUPS = ['run.googleapis.com'] as const

const POD_SPECS: ReadonlyMap<string, readonly PodSpecLocation[]> = new Map<string, readonly PodSpecLocation[]>([
  ['Pod', [{groups: [''], path: ['spec']}]],
  ['PodTemplate', [{groups: [''], path: ['template', 'spec']}]],
  ['ReplicationController', [{groups: [''], path: TEMPLATE_SPEC}]],
  ['Deployment', [{groups: APPS_GROUPS, path: TEMPLATE_SPEC}]],
  ['ReplicaSet', [{groups: APPS_GROUPS, path: TEMPLATE_SPEC}]],
  ['StatefulSet', [{groups: APPS_GROUPS, path: TEMPLATE_SPEC}]],
  ['DaemonSet', [{groups: APPS_GROUPS, path: TEMPLATE_SPEC}]],
  [
    'Job',
    [
      {groups: ['batch'], path: TEMPLATE_SPEC},
      // Cloud Run job: Job → ExecutionTemplate → TaskTemplate → spec
      {groups: RUN_GROUPS, path: ['spec', 'template', 'spec', 'template', 'spec']},
    ],
  ],
  ['CronJob', [{groups: ['batch'], path: ['spec', 'jobTemplate', 'spec', 'template', 'spec']}]],
  // Knative Serving; Cloud Run service YAML uses serving.knative.dev/v1 too.
  ['Service', [{groups: [...KNATIVE_GROUPS, ...RUN_GROUPS], path: TEMPLATE_SPEC}]],
  ['Configuration', [{groups: KNATIVE_GROUPS, path: TEMPLATE_SPEC}]],
  ['Revision', [{groups: KNATIVE_GROUPS, path: ['spec']}]],
  ['WorkerPool', [{groups: RUN_GROUPS, path: TEMPLATE_SPEC}]],
])

/**
 * Built-in rules for third-party kinds (docs/image-rules.md#built-in-rules), in the custom rules'
 * path syntax: pod specs (`podSpecs`: containers, initContainers, ephemeralContainers, image
 * volumes, service account and break-glass read as for a Deployment) and single image fields
 * (`images`). These schemas are not Kubernetes' own and change between versions, so image-like
 * values outside these paths are still reported as unexamined.
 */
interface ThirdPartyRule {
  groups: readonly string[]
  podSpecs?: readonly string[]
  images?: readonly string[]
}

const ARGO_GROUPS = ['argoproj.io'] as const
const TEKTON_GROUPS = ['tekton.dev'] as const

/** The image fields of an Argo Workflows template (container, script, containerSet, initContainers, sidecars). */
const argoTemplates = (prefix: string): string[] =>
  ['container.image', 'script.image', 'containerSet.containers[*].image', 'initContainers[*].image', 'sidecars[*].image'].map(
    (p) => `${prefix}.templates[*].${p}`,
  )

/** The image fields of a Tekton TaskSpec (steps, sidecars, stepTemplate). */
const tektonTaskSpec = (prefix: string): string[] => ['steps[*].image', 'sidecars[*].image', 'stepTemplate.image'].map((p) => `${prefix}.${p}`)

/** The embedded task specs of a Tekton PipelineSpec (tasks and finally). */
const tektonPipelineSpec = (prefix: string): string[] => [...tektonTaskSpec(`${prefix}.tasks[*].taskSpec`), ...tektonTaskSpec(`${prefix}.finally[*].taskSpec`)]

const ANALYSIS_JOB = {groups: ARGO_GROUPS, podSpecs: ['spec.metrics[*].provider.job.spec.template.spec']}

const THIRD_PARTY: ReadonlyMap<string, ThirdPartyRule> = new Map<string, ThirdPartyRule>([
  // Argo Rollouts: a Rollout's spec.template is a pod template, as a Deployment's; job metrics run a Job.
  ['Rollout', {groups: ARGO_GROUPS, podSpecs: ['spec.template.spec']}],
  ['AnalysisTemplate', ANALYSIS_JOB],
  ['ClusterAnalysisTemplate', ANALYSIS_JOB],
  ['AnalysisRun', ANALYSIS_JOB],
  // Argo Workflows: templates[] run containers; a CronWorkflow holds a WorkflowSpec.
  ['Workflow', {groups: ARGO_GROUPS, images: argoTemplates('spec')}],
  ['WorkflowTemplate', {groups: ARGO_GROUPS, images: argoTemplates('spec')}],
  ['ClusterWorkflowTemplate', {groups: ARGO_GROUPS, images: argoTemplates('spec')}],
  ['CronWorkflow', {groups: ARGO_GROUPS, images: argoTemplates('spec.workflowSpec')}],
  // KEDA: a ScaledJob's jobTargetRef is a batch JobSpec.
  ['ScaledJob', {groups: ['keda.sh'], podSpecs: ['spec.jobTargetRef.template.spec']}],
  // Tekton Pipelines: steps and sidecars are containers of the TaskRun's pod.
  ['Task', {groups: TEKTON_GROUPS, images: tektonTaskSpec('spec')}],
  ['ClusterTask', {groups: TEKTON_GROUPS, images: tektonTaskSpec('spec')}],
  ['TaskRun', {groups: TEKTON_GROUPS, images: tektonTaskSpec('spec.taskSpec')}],
  ['Pipeline', {groups: TEKTON_GROUPS, images: tektonPipelineSpec('spec')}],
  ['PipelineRun', {groups: TEKTON_GROUPS, images: tektonPipelineSpec('spec.pipelineSpec')}],
])

/**
 * Kinds whose `image` keys are not image uses, so they are never reported as unexamined: ConfigMap
 * and Secret data are opaque strings for an application, a CRD's schema describes fields (its
 * defaults and examples run nothing), and Flux's image automation objects name repositories to scan.
 * Keyed by API group; `*` is every kind of the group.
 */
const NO_IMAGE_KINDS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['', new Set(['ConfigMap', 'Secret'])],
  ['apiextensions.k8s.io', new Set(['CustomResourceDefinition'])],
  ['image.toolkit.fluxcd.io', new Set(['*'])],
])

/** Keys named so are image-like (a string under `image`, the strings of a list under `images`). */
const IMAGE_KEY = 'image'
const IMAGES_KEY = 'images'

/** At most this many nodes of one object are walked looking for image-like values (aliases expand). */
const MAX_WALK = 1_000_000

const CONTAINER_LISTS: ReadonlyArray<readonly [string, Role]> = [
  ['containers', 'container'],
  ['initContainers', 'initContainer'],
  ['ephemeralContainers', 'ephemeralContainer'],
]

/**
 * Keys that older kubectl versions (encoding/json, case-insensitive) read as `items`: refused at an
 * object's top level so that no version flattens a list we did not.
 */
const ITEMS_LOOKALIKE = /^[iI][tT][eE][mM][sS\u017F]$/

/** The API group of an apiVersion: '' for the core group (`v1`). */
export function apiGroup(apiVersion: string): string {
  const i = apiVersion.indexOf('/')
  return i < 0 ? '' : apiVersion.slice(0, i)
}

/** Dotted path form: spec.template.spec.containers[0].image (odd keys as ["a.b/c"]). */
export function formatPath(path: ReadonlyArray<PathKey>): string {
  let out = ''
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`
    else if (/^[A-Za-z_$][\w$-]*$/.test(k)) out += out === '' ? k : `.${k}`
    else out += `[${JSON.stringify(k)}]`
  }
  return out
}

/** A parsed custom-rule path segment: a key, optionally followed by list selectors. */
type RuleStep = {key: string} | {index: number} | {every: true}

/** Parse `spec.components[*].image` into steps. Throws CONFIG_INVALID on bad syntax. */
export function parseRulePath(path: string): RuleStep[] {
  const steps: RuleStep[] = []
  const re = /^([^.[\]]+)((?:\[(?:\*|\d+)\])*)$/
  if (path.trim() === '') throw badRule(path, 'the path is empty')
  for (const part of path.split('.')) {
    const m = re.exec(part)
    if (!m) throw badRule(path, `cannot read the segment "${part}"`)
    steps.push({key: m[1] as string})
    for (const sel of (m[2] ?? '').match(/\[(\*|\d+)\]/g) ?? []) {
      const inner = sel.slice(1, -1)
      steps.push(inner === '*' ? {every: true} : {index: Number(inner)})
    }
  }
  return steps
}

function badRule(path: string, why: string): SafeDeployError {
  return new SafeDeployError('CONFIG_INVALID', `invalid custom image rule path "${path}": ${why}`, {
    hint: 'write a dotted key path with [*] for every list item, e.g. spec.components[*].image',
  })
}

/**
 * The custom rule path that names `path` (relative to the object) with every list index as [*], or
 * undefined when a key cannot be written in the path syntax (empty, or holding ".", "[" or "]").
 */
export function rulePathFor(path: ReadonlyArray<PathKey>): string | undefined {
  let out = ''
  for (const k of path) {
    if (typeof k === 'number') {
      if (out === '') return undefined
      out += '[*]'
    } else {
      if (k === '' || /[.[\]]/.test(k)) return undefined
      out += out === '' ? k : `.${k}`
    }
  }
  return out === '' ? undefined : out
}

function ruleMatches(rule: CustomImageRule, apiVersion: string, kind: string): boolean {
  if (rule.kind !== kind) return false
  if (rule.apiVersion === undefined || rule.apiVersion === '' || rule.apiVersion === '*') return true
  if (rule.apiVersion === apiVersion) return true
  // "group" or "group/*" matches every version of the group.
  const group = rule.apiVersion.endsWith('/*') ? rule.apiVersion.slice(0, -2) : rule.apiVersion.includes('/') ? undefined : rule.apiVersion
  return group !== undefined && group === apiGroup(apiVersion) && apiVersion.includes('/')
}

interface ObjectMeta {
  apiVersion: string
  kind: string
  name: string
  namespace: string | undefined
}

const SCALAR_TYPES: ReadonlySet<string> = new Set<ScalarType>(['PLAIN', 'QUOTE_SINGLE', 'QUOTE_DOUBLE', 'BLOCK_LITERAL', 'BLOCK_FOLDED'])

/** The parsed text that sites are located in: a whole file, or a piece of it starting at `origin`. */
export interface LocateSource {
  file: string
  /** The text that was parsed (the piece: node ranges are offsets into it). */
  text: string
  lineCounter: LineCounter
  origin: TextOrigin
}

class Locator {
  readonly sites: Array<{offset: number; site: ImageSite}> = []
  readonly unexamined: Array<{offset: number; value: UnexaminedValue}> = []
  /**
   * Fields already reported, by offset and path: the same field reached twice (a custom rule that
   * repeats a built-in path) is one site, while one scalar used at two paths through an alias is
   * two sites, as kubectl sends it twice (a rewrite splices the shared range once).
   */
  private readonly seen = new Set<string>()
  private readonly rules: ReadonlyArray<{rule: CustomImageRule; steps: RuleStep[]}>
  private current: Document.Parsed | undefined
  private walked = 0

  constructor(
    private readonly m: LocateSource,
    rules: readonly CustomImageRule[],
  ) {
    this.rules = rules.map((rule) => ({rule, steps: parseRulePath(rule.path)}))
  }

  /** Visit one document; `index` is its index in the parsed text (the origin's document index is added). */
  document(doc: Document.Parsed, index: number): void {
    this.seen.clear()
    this.walked = 0
    this.current = doc
    this.object(doc, this.m.origin.document + index, doc.contents, [])
  }

  private deref(doc: Document.Parsed, node: unknown): unknown {
    return isAlias(node) ? node.resolve(doc) : node
  }

  /** Direct lookup of a string key in a map node (aliases followed). */
  private get(doc: Document.Parsed, node: unknown, key: string): unknown {
    const map = this.deref(doc, node)
    if (!isMap(map)) return undefined
    for (const pair of (map as YAMLMap<unknown, unknown>).items) {
      const k = this.deref(doc, pair.key)
      if (isScalar(k) && k.value === key) return pair.value
    }
    return undefined
  }

  private str(doc: Document.Parsed, node: unknown, key: string): string | undefined {
    const v = this.deref(doc, this.get(doc, node, key))
    return isScalar(v) && typeof v.value === 'string' ? v.value : undefined
  }

  /**
   * One object as kubectl's builder sees it (docs/kubectl-reading.md#lists): any object with an
   * `items` key is a list, whatever its kind; kubectl applies the items and drops the outer object;
   * an item with neither kind nor apiVersion takes the list's apiVersion and its kind minus "List"
   * (a PodList's items are Pods); a list inside a list makes kubectl 1.32 fail the whole document.
   */
  private object(doc: Document.Parsed, index: number, node: unknown, base: PathKey[], listOf?: {apiVersion: string; kind: string}): void {
    const obj = this.deref(doc, node)
    if (!isMap(obj)) return
    this.refuseItemsLookalikes(doc, index, obj, base)
    let apiVersion = this.identity(doc, index, obj, 'apiVersion', base) ?? ''
    let kind = this.identity(doc, index, obj, 'kind', base) ?? ''
    if (listOf && this.get(doc, obj, 'kind') === undefined && this.get(doc, obj, 'apiVersion') === undefined) {
      apiVersion = listOf.apiVersion
      kind = listOf.kind
    }
    const itemsNode = this.get(doc, obj, 'items')
    if (itemsNode !== undefined) {
      const items = this.deref(doc, itemsNode)
      if (listOf) {
        throw this.invalid(
          index,
          formatPath([...base, 'items']),
          this.nodeLine(itemsNode),
          'a list inside a list: kubectl cannot apply it (it fails the whole document with "is not a list")',
          "move the inner list's items into the outer list",
        )
      }
      // `items: null` is an empty list for kubectl: the object is dropped and nothing is applied.
      if (isScalar(items) && items.value === null) return
      if (!isSeq(items)) {
        throw this.invalid(
          index,
          formatPath([...base, 'items']),
          this.nodeLine(itemsNode),
          `kubectl treats every object with an "items" key as a list, and this "items" is ${describe(items)}`,
          'rename the field, or make the object a List whose items are objects',
        )
      }
      const itemKind = kind.endsWith('List') ? kind.slice(0, -'List'.length) : kind
      items.items.forEach((item, i) => this.object(doc, index, item, [...base, 'items', i], {apiVersion, kind: itemKind}))
      return
    }
    const metadata = this.get(doc, obj, 'metadata')
    const meta: ObjectMeta = {
      apiVersion,
      kind,
      name:
        this.identity(doc, index, metadata, 'name', [...base, 'metadata']) ?? this.identity(doc, index, metadata, 'generateName', [...base, 'metadata']) ?? '',
      namespace: this.identity(doc, index, metadata, 'namespace', [...base, 'metadata']),
    }
    const group = apiGroup(apiVersion)
    const first = this.sites.length
    let kubernetesKind = false
    for (const loc of POD_SPECS.get(kind) ?? []) {
      if (apiVersion === '' || !loc.groups.includes(group)) continue
      kubernetesKind = true
      let spec: unknown = obj
      for (const key of loc.path) spec = this.get(doc, spec, key)
      if (spec !== undefined) this.podSpec(doc, index, meta, spec, [...base, ...loc.path])
    }
    const thirdParty = apiVersion === '' ? undefined : THIRD_PARTY.get(kind)
    const builtIn = thirdParty !== undefined && thirdParty.groups.includes(group) ? thirdParty : undefined
    for (const path of builtIn?.podSpecs ?? []) {
      this.follow(doc, obj, builtInSteps(path), 0, [...base], undefined, (spec, at) => this.podSpec(doc, index, meta, spec, at))
    }
    for (const path of builtIn?.images ?? []) this.custom(doc, index, meta, obj, builtInSteps(path), 0, [...base], undefined)
    let customKind = false
    for (const {rule, steps} of this.rules) {
      if (!ruleMatches(rule, apiVersion, kind)) continue
      customKind = true
      this.custom(doc, index, meta, obj, steps, 0, [...base], undefined)
    }
    // Kubernetes' own kinds are fully covered (the API server refuses unknown fields); a custom rule
    // is the user's statement of where the kind's images are. Anything else is looked through.
    if (kubernetesKind || customKind || kind === '' || noImageKind(group, kind)) return
    const found = new Set(this.sites.slice(first).map((s) => s.site.pathString))
    this.imageLike(doc, index, meta, obj, base, [], true, found, builtIn ? 'not-covered' : 'no-rule', new Set())
  }

  /**
   * Every string under a key named `image`, and in a list under a key named `images`, below `node`
   * (aliases followed), that is not one of the object's sites: an unexamined image-like value.
   */
  private imageLike(
    doc: Document.Parsed,
    index: number,
    meta: ObjectMeta,
    node: unknown,
    base: PathKey[],
    rel: PathKey[],
    nameable: boolean,
    found: ReadonlySet<string>,
    reason: UnexaminedValue['reason'],
    ancestors: Set<unknown>,
  ): void {
    const cur = this.deref(doc, node)
    if (!isMap(cur) && !isSeq(cur)) return
    if (ancestors.has(cur)) return
    if (++this.walked > MAX_WALK) {
      throw this.invalid(
        index,
        formatPath([...base, ...rel]),
        this.nodeLine(node),
        `the object is too large to look through for image-like values (over ${MAX_WALK} nodes)`,
        'split the object, or write fewer aliases',
      )
    }
    ancestors.add(cur)
    const report = (valueNode: unknown, at: PathKey[], canName: boolean): void => {
      const v = this.deref(doc, valueNode)
      if (!isScalar(v) || typeof v.value !== 'string' || v.value.trim() === '') return
      const pathString = formatPath([...base, ...at])
      if (found.has(pathString)) return
      const rulePath = canName ? rulePathFor(at) : undefined
      const offset = (valueNode as Node | null)?.range?.[0] ?? 0
      this.unexamined.push({
        offset,
        value: {
          file: this.m.file,
          document: index,
          line: this.line(offset),
          apiVersion: meta.apiVersion,
          kind: meta.kind,
          name: meta.name,
          ...(meta.namespace === undefined ? {} : {namespace: meta.namespace}),
          path: pathString,
          value: v.value,
          reason,
          ...(rulePath === undefined ? {} : {rule: {...(meta.apiVersion === '' ? {} : {apiVersion: meta.apiVersion}), kind: meta.kind, path: rulePath}}),
        },
      })
    }
    if (isSeq(cur)) {
      cur.items.forEach((item, i) => this.imageLike(doc, index, meta, item, base, [...rel, i], nameable, found, reason, ancestors))
    } else {
      for (const pair of (cur as YAMLMap<unknown, unknown>).items) {
        const k = this.deref(doc, pair.key)
        const key = isScalar(k) ? k.value : undefined
        const at = [...rel, typeof key === 'string' ? key : String(key)]
        const canName = nameable && typeof key === 'string'
        if (key === IMAGE_KEY) report(pair.value, at, canName)
        const value = this.deref(doc, pair.value)
        if (key === IMAGES_KEY && isSeq(value)) value.items.forEach((item, i) => report(item, [...at, i], canName))
        this.imageLike(doc, index, meta, pair.value, base, at, canName, found, reason, ancestors)
      }
    }
    ancestors.delete(cur)
  }

  /** Follow a rule path to the nodes it names, calling `at` with each node and its path. */
  private follow(
    doc: Document.Parsed,
    node: unknown,
    steps: RuleStep[],
    at: number,
    path: PathKey[],
    parent: unknown,
    end: (node: unknown, path: PathKey[], parent: unknown) => void,
  ): void {
    const step = steps[at]
    if (step === undefined) {
      end(node, path, parent)
      return
    }
    const cur = this.deref(doc, node)
    if ('key' in step) {
      const next = this.get(doc, cur, step.key)
      if (next !== undefined) this.follow(doc, next, steps, at + 1, [...path, step.key], cur, end)
    } else if (isSeq(cur)) {
      if ('index' in step) {
        const next = cur.items[step.index]
        if (next !== undefined) this.follow(doc, next, steps, at + 1, [...path, step.index], parent, end)
      } else {
        cur.items.forEach((item, i) => this.follow(doc, item, steps, at + 1, [...path, i], parent, end))
      }
    }
  }

  private refuseItemsLookalikes(doc: Document.Parsed, index: number, obj: YAMLMap<unknown, unknown>, base: PathKey[]): void {
    for (const pair of obj.items) {
      const k = this.deref(doc, pair.key)
      if (isScalar(k) && typeof k.value === 'string' && k.value !== 'items' && ITEMS_LOOKALIKE.test(k.value)) {
        throw this.invalid(
          index,
          formatPath([...base, k.value]),
          this.nodeLine(k),
          `the key "${k.value}" is read as "items" by kubectl versions that match JSON keys case-insensitively, which would turn the object into a list`,
          'rename the key (Kubernetes objects have no such top-level field)',
        )
      }
    }
  }

  /**
   * A string field that selects what is deployed or which policy rule applies (kind, apiVersion,
   * name, namespace, service account): refused when kubectl's YAML 1.1 reading is not the same string.
   */
  private identity(doc: Document.Parsed, index: number, node: unknown, key: string, base: PathKey[]): string | undefined {
    const v = this.deref(doc, this.get(doc, node, key))
    if (!isScalar(v) || typeof v.value !== 'string') return undefined
    this.refusePlainDisagreement(index, v, formatPath([...base, key]))
    return v.value
  }

  private refusePlainDisagreement(index: number, v: Scalar, pathString: string): void {
    if (v.type !== 'PLAIN' || typeof v.source !== 'string') return
    const why = plainStringDisagreement(v.source)
    if (why) throw this.invalid(index, pathString, this.nodeLine(v), why, `quote the value: "${v.source}"`)
  }

  private nodeLine(node: unknown): number {
    return this.line((node as Node | null)?.range?.[0] ?? 0)
  }

  private podSpec(doc: Document.Parsed, index: number, meta: ObjectMeta, node: unknown, path: PathKey[]): void {
    const spec = this.deref(doc, node)
    if (!isMap(spec)) return
    const serviceAccount = this.identity(doc, index, spec, 'serviceAccountName', path) ?? this.identity(doc, index, spec, 'serviceAccount', path)
    for (const [key, role] of CONTAINER_LISTS) {
      const list = this.deref(doc, this.get(doc, spec, key))
      if (!isSeq(list)) continue
      list.items.forEach((item, i) => {
        const image = this.get(doc, item, 'image')
        if (image === undefined) return
        const container = this.str(doc, item, 'name')
        this.site(index, meta, image, [...path, key, i, 'image'], role, container, serviceAccount)
      })
    }
    const volumes = this.deref(doc, this.get(doc, spec, 'volumes'))
    if (isSeq(volumes)) {
      volumes.items.forEach((item, i) => {
        const ref = this.get(doc, this.get(doc, item, 'image'), 'reference')
        if (ref === undefined) return
        this.site(index, meta, ref, [...path, 'volumes', i, 'image', 'reference'], 'volume', undefined, serviceAccount)
      })
    }
  }

  private custom(doc: Document.Parsed, index: number, meta: ObjectMeta, node: unknown, steps: RuleStep[], at: number, path: PathKey[], parent: unknown): void {
    this.follow(doc, node, steps, at, path, parent, (value, valuePath, holder) =>
      this.site(index, meta, value, valuePath, 'custom', this.str(doc, holder, 'name'), undefined),
    )
  }

  private site(
    index: number,
    meta: ObjectMeta,
    value: unknown,
    path: PathKey[],
    role: Role,
    container: string | undefined,
    serviceAccount: string | undefined,
  ): void {
    const pathString = formatPath(path)
    const node = value as Node | null
    if (isAlias(value)) {
      const line = this.line(value.range?.[0] ?? 0)
      throw this.invalid(
        index,
        pathString,
        line,
        `the image is a YAML alias (*${value.source}), which cannot be pinned in place`,
        `write the image reference in this field instead of an alias`,
      )
    }
    const offset = node?.range?.[0] ?? 0
    const line = this.line(offset)
    if (!isScalar(value) || typeof value.value !== 'string') {
      const source = node?.range ? this.m.text.slice(node.range[0], node.range[1]) : ''
      if (source.includes('{{')) {
        throw unpinnableError({file: this.m.file, document: index, pathString, line, image: source.trim()}, 'is a Helm template, not an image reference')
      }
      throw this.invalid(
        index,
        pathString,
        line,
        `expected an image reference string, got ${describe(value)}`,
        'write the image as a string, e.g. image: gcr.io/my-project/app:1.0',
      )
    }
    this.refusePlainDisagreement(index, value as Scalar, pathString)
    const seenKey = `${offset} ${pathString}`
    if (this.seen.has(seenKey)) return
    this.seen.add(seenKey)
    const end = node?.range?.[1] ?? offset
    const scalarType = (value as Scalar).type
    const site: ImageSite = {
      file: this.m.file,
      document: index,
      apiVersion: meta.apiVersion,
      kind: meta.kind,
      name: meta.name,
      ...(meta.namespace === undefined ? {} : {namespace: meta.namespace}),
      ...(serviceAccount === undefined ? {} : {serviceAccount}),
      ...(container === undefined ? {} : {container}),
      path,
      pathString,
      line,
      image: (value as Scalar<string>).value,
      role,
      valueRange: [this.m.origin.offset + offset, this.m.origin.offset + end],
      // An unknown style is rewritten as a double-quoted string, as a rewrite always did.
      scalarType: scalarType !== undefined && SCALAR_TYPES.has(scalarType) ? (scalarType as ScalarType) : 'QUOTE_DOUBLE',
      breakGlass: this.breakGlass(path, role),
    }
    this.sites.push({offset, site})
  }

  /** Same reading as core/manifest/breakglass siteHasBreakGlass: the annotation on the pod (template) metadata. */
  private breakGlass(path: PathKey[], role: Role): boolean {
    const meta = podMetadataPath({path, role})
    if (!meta || !this.current) return false
    const v: unknown = this.current.getIn([...meta, 'annotations', BREAK_GLASS_ANNOTATION])
    return v === 'true' || v === true
  }

  private line(offset: number): number {
    return this.m.lineCounter.linePos(offset).line + this.m.origin.line - 1
  }

  private invalid(document: number, path: string, line: number, why: string, hint: string): SafeDeployError {
    const location: ErrorLocation = {file: this.m.file, document, path, line}
    return new SafeDeployError('INVALID_INPUT', `${formatLocation(location)}${why}`, {hint, location})
  }
}

const BUILT_IN_STEPS = new Map<string, RuleStep[]>()
function builtInSteps(path: string): RuleStep[] {
  let steps = BUILT_IN_STEPS.get(path)
  if (steps === undefined) BUILT_IN_STEPS.set(path, (steps = parseRulePath(path)))
  return steps
}

function noImageKind(group: string, kind: string): boolean {
  const kinds = NO_IMAGE_KINDS.get(group)
  return kinds !== undefined && (kinds.has('*') || kinds.has(kind))
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return 'nothing (the field is empty)'
  if (isScalar(value)) {
    const v = value.value
    if (v === null) return 'null (the field is empty)'
    return `${typeof v} ${JSON.stringify(v)}`
  }
  if (isMap(value)) return 'a mapping'
  if (isSeq(value)) return 'a list'
  return 'a non-string value'
}

/** What the locator found: the image sites, and the image-like values no rule examined. */
export interface Located {
  sites: ImageSite[]
  unexamined: UnexaminedValue[]
}

/**
 * Every image field of the manifest, in file order. Throws INVALID_INPUT for a non-string image
 * value (naming path and line), UNPINNABLE_VALUE for a template that YAML read as a mapping, and
 * CONFIG_INVALID for a custom rule whose path cannot be read.
 */
export function locateImages(m: ManifestFile, rules: readonly CustomImageRule[] = []): ImageSite[] {
  return locateAll(m, rules).sites
}

/** locateImages, with the unexamined image-like values (in file order). */
export function locateAll(m: ManifestFile, rules: readonly CustomImageRule[] = []): Located {
  return locateInAll({file: m.file, text: m.text, lineCounter: m.lineCounter, origin: WHOLE_FILE}, m.documents, rules)
}

/**
 * locateImages for documents parsed from a piece of a file: offsets, lines and document indexes of
 * the sites (and of errors) are whole-file ones (the piece's origin is added).
 */
export function locateIn(source: LocateSource, documents: readonly ManifestDocument[], rules: readonly CustomImageRule[] = []): ImageSite[] {
  return locateInAll(source, documents, rules).sites
}

/** locateIn, with the unexamined image-like values. */
export function locateInAll(source: LocateSource, documents: readonly ManifestDocument[], rules: readonly CustomImageRule[] = []): Located {
  const locator = new Locator(source, rules)
  for (const d of documents) {
    if (!d.empty) locator.document(d.document, d.index)
  }
  // Documents are visited in order; within one, container lists may be written in any order.
  return {sites: inFileOrder(locator.sites).map((s) => s.site), unexamined: inFileOrder(locator.unexamined).map((u) => u.value)}
}

function inFileOrder<T extends {offset: number}>(found: T[]): T[] {
  for (let i = 1; i < found.length; i++) {
    if ((found[i] as T).offset < (found[i - 1] as T).offset) return found.sort((a, b) => a.offset - b.offset)
  }
  return found
}
