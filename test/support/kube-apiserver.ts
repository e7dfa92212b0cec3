/**
 * Kubernetes API **test double** — NOT a real kube-apiserver (none can run on these machines; see
 * docs/testing.md#kubernetes-api-test-double: this is the one hand-made server). Real `kubectl` and real `@kubernetes/client-node` talk to it over HTTP on
 * 127.0.0.1, so tests see exactly what they send.
 *
 * What it speaks (enough for `kubectl apply`, `kubectl apply --server-side`, dry runs and
 * client-node's KubernetesObjectApi):
 *  - `/version` (v1.32.4), legacy discovery `/api`, `/api/v1`, `/apis`, `/apis/apps/v1`,
 *    `/apis/batch/v1`. kubectl 1.32 first asks `/api` and `/apis` for *aggregated* discovery
 *    (`Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,…,application/json`);
 *    the double answers with plain `application/json` (legacy lists), which is the correct
 *    content negotiation for a server without aggregated discovery, and kubectl falls back to
 *    fetching each group-version.
 *  - A minimal `/openapi/v3` (root + one document per group-version) whose only content is one
 *    PATCH operation per kind, tagged with `x-kubernetes-group-version-kind` and declaring the
 *    `fieldValidation` query parameter. kubectl's default `--validate=strict` then concludes the
 *    server validates fields itself (it sends `fieldValidation=Strict`) and needs no client-side
 *    schema, so `--validate=false` is NOT needed. The PATCH operations do not list
 *    `application/strategic-merge-patch+json`, so client-side apply computes its patch from
 *    kubectl's compiled-in types (exactly as with a real server for built-in kinds).
 *    `/openapi/v2` is 404.
 *  - GET (item and list, `labelSelector` with `k=v` / `k` terms, `limit`/`continue` pagination in key order), POST, PUT, PATCH, DELETE for
 *    namespaces (cluster scoped) and namespaced pods, services, configmaps, secrets,
 *    serviceaccounts, deployments, statefulsets, daemonsets, replicasets, jobs, cronjobs.
 *  - PATCH content types: `application/apply-patch+yaml` (server-side apply: creates when missing,
 *    needs `fieldManager`), `application/merge-patch+json` (RFC 7386),
 *    `application/strategic-merge-patch+json` (approximation: RFC 7386 plus merge-by-key for the
 *    common keyed lists such as containers/env/ports/volumes, `$patch: delete|replace`, other
 *    `$` directives dropped). `application/json-patch+json` → 415.
 *  - `dryRun=All` on every write: the answer is computed, nothing is stored. Any other `dryRun`
 *    value → 400, like the real server.
 *  - Status objects (kind: Status) for 404 NotFound, 409 AlreadyExists, 400, 415, and whatever
 *    `failNext` injects (e.g. 403 Forbidden, 500).
 *  - resourceVersion bumps only when the stored object actually changes (a no-op write keeps it),
 *    which lets callers tell "configured" from "unchanged".
 *  - Watches of a collection (`?watch=1` or `watch=true`, with `resourceVersion`, `labelSelector`): a chunked
 *    response of JSON lines `{type, object}`, held open. Only what the test pushes with `watchEvent` is sent
 *    (ordinary writes are not turned into events); events after the requested resourceVersion are replayed
 *    first, as the real server does. `dropWatches()` closes every open watch (the client must resume), and
 *    `{expire: true}` also forgets the history, so resuming from an older resourceVersion gets the real
 *    server's `ERROR` event with a 410 Gone Status.
 *
 * What it does NOT do: authentication/authorization (tokens are recorded, never checked), schema
 * or field validation (`fieldValidation` is ignored), defaulting, real strategic-merge or
 * server-side-apply merge semantics, field ownership/managedFields and conflicts, events for ordinary writes, bookmarks, expiry of `continue` tokens,
 * subresources, garbage collection, admission. Never treat a pass here as proof of behaviour on
 * a real cluster; it proves what the client sent.
 */
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {randomUUID} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse as parseYaml, stringify as stringifyYaml} from 'yaml'

export interface RecordedRequest {
  method: string
  /** Path without the query string. */
  path: string
  query: Record<string, string>
  contentType: string | undefined
  accept: string | undefined
  authorization: string | undefined
  body: string
  /** The status the double answered with. */
  status: number
}

export type KubeObject = Record<string, unknown> & {
  apiVersion?: string
  kind?: string
  metadata?: Record<string, unknown> & {name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>}
}

export interface FailureSpec {
  status: number
  /** Only requests with this method (default: any). */
  method?: string
  /** Only requests whose path contains this string / matches this pattern (default: any). */
  path?: string | RegExp
  /** Only requests whose query string has this parameter, e.g. `continue`: a list that dies after its first page. */
  withQuery?: string
  /** Status reason, e.g. Forbidden (default from the status code). */
  reason?: string
  message?: string
  /** How many matching requests fail (default 1). */
  times?: number
}

export interface KubeconfigOptions {
  /** Context (and cluster and user) name; default "test". */
  context?: string
  /** Default namespace of the context (omitted from the file when not given). */
  namespace?: string
  /** Bearer token written for the user; default "test-token". */
  token?: string
  /** File name inside dir; default "kubeconfig-<context>.yaml". */
  fileName?: string
}

export interface KubeApiServer {
  url: string
  port: number
  /** Every request, in order (discovery included). */
  requests: RecordedRequest[]
  /** Stored objects keyed by objectKey(): "deployments/default/web", "namespaces/prod". */
  objects: Map<string, KubeObject>
  /** Requests that would change state: POST/PUT/PATCH/DELETE without dryRun. */
  writes(): RecordedRequest[]
  /** Writes a kubeconfig pointing at the double; returns its path. */
  writeKubeconfig(dir: string, opts?: KubeconfigOptions): string
  /** The next matching request(s) get an error Status instead of being served. */
  failNext(spec: FailureSpec): void
  /** Forget recorded requests (objects stay). */
  clearRequests(): void
  /**
   * Store (ADDED, MODIFIED) or remove (DELETED) an object of `resource` (e.g. "pods") with a new
   * resourceVersion, and send the event to every open watch it matches.
   */
  watchEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', resource: string, obj: KubeObject): void
  /** Close every open watch; `expire`: also forget the history (resuming from before now: 410 Gone). */
  dropWatches(opts?: {expire?: boolean}): void
  /** Watches open now. */
  openWatches(): number
  stop(): Promise<void>
}

interface ResourceDef {
  /** '' for the core group. */
  group: string
  version: string
  name: string
  singularName: string
  kind: string
  namespaced: boolean
  shortNames?: string[]
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

const RESOURCES: ResourceDef[] = [
  {group: '', version: 'v1', name: 'namespaces', singularName: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns']},
  {group: '', version: 'v1', name: 'pods', singularName: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po']},
  {group: '', version: 'v1', name: 'services', singularName: 'service', kind: 'Service', namespaced: true, shortNames: ['svc']},
  {group: '', version: 'v1', name: 'configmaps', singularName: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm']},
  {group: '', version: 'v1', name: 'secrets', singularName: 'secret', kind: 'Secret', namespaced: true},
  {group: '', version: 'v1', name: 'serviceaccounts', singularName: 'serviceaccount', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa']},
  {group: 'apps', version: 'v1', name: 'deployments', singularName: 'deployment', kind: 'Deployment', namespaced: true, shortNames: ['deploy']},
  {group: 'apps', version: 'v1', name: 'statefulsets', singularName: 'statefulset', kind: 'StatefulSet', namespaced: true, shortNames: ['sts']},
  {group: 'apps', version: 'v1', name: 'daemonsets', singularName: 'daemonset', kind: 'DaemonSet', namespaced: true, shortNames: ['ds']},
  {group: 'apps', version: 'v1', name: 'replicasets', singularName: 'replicaset', kind: 'ReplicaSet', namespaced: true, shortNames: ['rs']},
  {group: 'batch', version: 'v1', name: 'jobs', singularName: 'job', kind: 'Job', namespaced: true},
  {group: 'batch', version: 'v1', name: 'cronjobs', singularName: 'cronjob', kind: 'CronJob', namespaced: true, shortNames: ['cj']},
]

const GROUP_VERSIONS = [
  {group: '', version: 'v1', path: '/api/v1'},
  {group: 'apps', version: 'v1', path: '/apis/apps/v1'},
  {group: 'batch', version: 'v1', path: '/apis/batch/v1'},
]

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
}

/** The key of an object in `objects`: "deployments/default/web" (namespaced) or "namespaces/prod". */
export function objectKey(resource: string, namespace: string | undefined, name: string): string {
  return namespace === undefined ? `${resource}/${name}` : `${resource}/${namespace}/${name}`
}

type Json = null | boolean | number | string | Json[] | {[k: string]: Json}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return structuredClone(patch)
  const out: Record<string, unknown> = isObj(target) ? {...target} : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

/** Merge keys of the keyed lists a strategic merge patch most often touches (approximation). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  imagePullSecrets: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  hostAliases: 'ip',
  tolerations: 'key',
  topologySpreadConstraints: 'topologyKey',
}

/** Approximate strategic merge patch: merge-by-key for known lists, `$patch` directives, other `$` keys dropped. */
export function strategicMergePatch(target: unknown, patch: unknown, field = ''): unknown {
  if (Array.isArray(patch)) {
    const key = field === 'ports' ? portKey(patch) : MERGE_KEYS[field]
    if (key === undefined || !Array.isArray(target)) return patch.filter((p) => !(isObj(p) && '$patch' in p)).map((p) => strip(p))
    if (patch.some((p) => isObj(p) && p.$patch === 'replace')) return patch.filter((p) => !(isObj(p) && '$patch' in p)).map((p) => strip(p))
    const out = [...target]
    for (const item of patch) {
      if (!isObj(item)) continue
      const idx = out.findIndex((t) => isObj(t) && t[key] === item[key])
      if (item.$patch === 'delete') {
        if (idx >= 0) out.splice(idx, 1)
      } else if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item)
      else out.push(strip(item))
    }
    return out
  }
  if (!isObj(patch)) return structuredClone(patch)
  if (patch.$patch === 'replace') return strip(patch)
  if (patch.$patch === 'delete') return undefined
  const out: Record<string, unknown> = isObj(target) ? {...target} : {}
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue
    if (v === null) delete out[k]
    else {
      const merged = strategicMergePatch(out[k], v, k)
      if (merged === undefined) delete out[k]
      else out[k] = merged
    }
  }
  return out
}

function portKey(list: unknown[]): string {
  const first = list.find(isObj)
  return first !== undefined && 'containerPort' in first ? 'containerPort' : 'port'
}

function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip)
  if (!isObj(v)) return v
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = strip(x)
  return out
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(stableStringify).join(',') + ']'
  if (isObj(v))
    return (
      '{' +
      Object.keys(v)
        .sort()
        .map((k) => JSON.stringify(k) + ':' + stableStringify(v[k]))
        .join(',') +
      '}'
    )
  return JSON.stringify(v) ?? 'null'
}

/** Equal apart from server-owned metadata. */
function sameContent(a: KubeObject, b: KubeObject): boolean {
  const norm = (o: KubeObject): unknown => {
    const c = structuredClone(o)
    if (c.metadata) {
      delete c.metadata.resourceVersion
      delete c.metadata.managedFields
      delete c.metadata.generation
    }
    return c
  }
  return stableStringify(norm(a)) === stableStringify(norm(b))
}

function statusBody(code: number, message: string, reason?: string, details?: Record<string, unknown>): Json {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: reason ?? REASONS[code] ?? 'Unknown',
    ...(details ? {details: details as Json} : {}),
    code,
  }
}

class HttpError extends Error {
  readonly status: number
  readonly reason: string | undefined
  readonly details: Record<string, unknown> | undefined
  constructor(status: number, message: string, reason?: string, details?: Record<string, unknown>) {
    super(message)
    this.status = status
    this.reason = reason
    this.details = details
  }
}

function matchesSelector(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (selector === undefined || selector === '') return true
  for (const term of selector.split(',')) {
    const t = term.trim()
    const neq = t.split('!=')
    if (neq.length === 2) {
      if (labels?.[neq[0]!.trim()] === neq[1]!.trim()) return false
      continue
    }
    const eq = t.split(/==?/)
    if (eq.length === 2) {
      if (labels?.[eq[0]!.trim()] !== eq[1]!.trim()) return false
    } else if (t.startsWith('!')) {
      if (labels?.[t.slice(1)] !== undefined) return false
    } else if (labels?.[t] === undefined) return false
  }
  return true
}

function openApiRoot(): Json {
  const paths: Record<string, Json> = {}
  for (const gv of GROUP_VERSIONS) {
    const rel = gv.path.slice(1)
    paths[rel] = {serverRelativeURL: `/openapi/v3/${rel}?hash=DOUBLE${gv.group || 'core'}`}
  }
  return {paths}
}

function openApiDoc(gvPath: string): Json | undefined {
  const gv = GROUP_VERSIONS.find((g) => g.path === gvPath)
  if (!gv) return undefined
  const paths: Record<string, Json> = {}
  for (const r of RESOURCES.filter((x) => x.group === gv.group && x.version === gv.version)) {
    const p = r.namespaced ? `${gv.path}/namespaces/{namespace}/${r.name}/{name}` : `${gv.path}/${r.name}/{name}`
    paths[p] = {
      patch: {
        operationId: `patch${r.kind}`,
        parameters: [
          {name: 'dryRun', in: 'query', schema: {type: 'string'}},
          {name: 'fieldManager', in: 'query', schema: {type: 'string'}},
          {name: 'fieldValidation', in: 'query', schema: {type: 'string'}},
          {name: 'force', in: 'query', schema: {type: 'boolean'}},
        ],
        requestBody: {
          content: {
            'application/apply-patch+yaml': {schema: {type: 'object'}},
            'application/merge-patch+json': {schema: {type: 'object'}},
          },
        },
        responses: {'200': {description: 'OK'}},
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': {group: gv.group, version: gv.version, kind: r.kind},
      },
    }
  }
  return {openapi: '3.0.0', info: {title: 'Kubernetes API test double', version: 'v1.32.4'}, paths, components: {schemas: {}}}
}

function discovery(path: string, host: string): Json | undefined {
  if (path === '/version') {
    return {
      major: '1',
      minor: '32',
      gitVersion: 'v1.32.4',
      gitCommit: 'test-double',
      gitTreeState: 'clean',
      buildDate: '2025-01-01T00:00:00Z',
      goVersion: 'go1.23.0',
      compiler: 'gc',
      platform: 'linux/amd64',
    }
  }
  if (path === '/api') {
    return {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress: host}]}
  }
  if (path === '/apis') {
    const groups = ['apps', 'batch'].map((name) => ({
      name,
      versions: [{groupVersion: `${name}/v1`, version: 'v1'}],
      preferredVersion: {groupVersion: `${name}/v1`, version: 'v1'},
    }))
    return {kind: 'APIGroupList', apiVersion: 'v1', groups}
  }
  const m = /^\/apis\/([^/]+)$/.exec(path)
  if (m && (m[1] === 'apps' || m[1] === 'batch')) {
    return {
      kind: 'APIGroup',
      apiVersion: 'v1',
      name: m[1],
      versions: [{groupVersion: `${m[1]}/v1`, version: 'v1'}],
      preferredVersion: {groupVersion: `${m[1]}/v1`, version: 'v1'},
    }
  }
  const gv = GROUP_VERSIONS.find((g) => g.path === path)
  if (gv) {
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: gv.group ? `${gv.group}/${gv.version}` : gv.version,
      resources: RESOURCES.filter((r) => r.group === gv.group && r.version === gv.version).map((r) => ({
        name: r.name,
        singularName: r.singularName,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: VERBS,
        ...(r.shortNames ? {shortNames: r.shortNames} : {}),
      })),
    }
  }
  return undefined
}

interface Target {
  def: ResourceDef
  namespace: string | undefined
  name: string | undefined
}

function parseTarget(path: string): Target | undefined {
  for (const gv of GROUP_VERSIONS) {
    if (!path.startsWith(gv.path + '/')) continue
    const segs = path
      .slice(gv.path.length + 1)
      .split('/')
      .map(decodeURIComponent)
    let namespace: string | undefined
    if (segs[0] === 'namespaces' && segs.length >= 3) {
      namespace = segs[1]
      segs.splice(0, 2)
    }
    if (segs.length < 1 || segs.length > 2) return undefined
    const def = RESOURCES.find((r) => r.group === gv.group && r.version === gv.version && r.name === segs[0])
    if (!def) return undefined
    if (!def.namespaced && namespace !== undefined) return undefined
    if (def.namespaced && namespace === undefined && segs.length === 2) return undefined
    return {def, namespace, name: segs[1]}
  }
  return undefined
}

function groupResource(def: ResourceDef): string {
  return def.group ? `${def.name}.${def.group}` : def.name
}

export async function startKubeApiServer(): Promise<KubeApiServer> {
  const requests: RecordedRequest[] = []
  const objects = new Map<string, KubeObject>()
  const failures: Array<FailureSpec & {left: number}> = []
  let rv = 1000
  interface WatchEventRecord {
    rv: number
    resource: string
    namespace: string | undefined
    type: string
    object: KubeObject
  }
  interface OpenWatch {
    resource: string
    namespace: string | undefined
    selector: string | undefined
    res: ServerResponse
  }
  const history: WatchEventRecord[] = []
  const watches = new Set<OpenWatch>()
  /** Resuming from a resourceVersion older than this is 410 Gone (the history before it was compacted). */
  let compacted = 0

  function watchMatches(w: OpenWatch, e: WatchEventRecord): boolean {
    return w.resource === e.resource && (w.namespace === undefined || w.namespace === e.namespace) && matchesSelector(e.object.metadata?.labels, w.selector)
  }

  function sendEvent(w: OpenWatch, e: {type: string; object: unknown}): void {
    w.res.write(JSON.stringify({type: e.type, object: e.object}) + '\n')
  }

  /** A collection watch: 410 when the history is gone, else the events after resourceVersion, then held open. */
  function openWatch(t: Target, query: Record<string, string>, res: ServerResponse): void {
    const from = query.resourceVersion ? Number(query.resourceVersion) : undefined
    res.writeHead(200, {'Content-Type': 'application/json'})
    if (from !== undefined && from < compacted) {
      const gone = statusBody(410, `too old resource version: ${from} (${compacted})`, 'Expired')
      res.end(JSON.stringify({type: 'ERROR', object: gone}) + '\n')
      return
    }
    const w: OpenWatch = {resource: t.def.name, namespace: t.namespace, selector: query.labelSelector, res}
    for (const e of history) if ((from === undefined || e.rv > from) && watchMatches(w, e)) sendEvent(w, e)
    watches.add(w)
    res.on('close', () => watches.delete(w))
  }

  function takeFailure(method: string, path: string, query: Record<string, string>): FailureSpec | undefined {
    const idx = failures.findIndex(
      (f) =>
        (f.method === undefined || f.method.toUpperCase() === method) &&
        (f.withQuery === undefined || f.withQuery in query) &&
        (f.path === undefined || (typeof f.path === 'string' ? path.includes(f.path) : f.path.test(path))),
    )
    if (idx < 0) return undefined
    const f = failures[idx]!
    f.left -= 1
    if (f.left <= 0) failures.splice(idx, 1)
    return f
  }

  function parseBody(body: string, contentType: string | undefined): KubeObject {
    try {
      const v: unknown = contentType?.includes('yaml') ? parseYaml(body) : JSON.parse(body)
      if (!isObj(v)) throw new Error('body is not an object')
      return v as KubeObject
    } catch (e) {
      throw new HttpError(400, `the body of the request was in an unknown format: ${(e as Error).message}`)
    }
  }

  function notFound(t: Target, name: string): HttpError {
    return new HttpError(404, `${groupResource(t.def)} "${name}" not found`, 'NotFound', {name, group: t.def.group, kind: t.def.name})
  }

  /** Complete server-owned metadata; bump resourceVersion only when the content changed. */
  function finish(t: Target, name: string, next: KubeObject, prev: KubeObject | undefined): KubeObject {
    const obj = structuredClone(next)
    obj.apiVersion = t.def.group ? `${t.def.group}/${t.def.version}` : t.def.version
    obj.kind = t.def.kind
    const meta = (obj.metadata ??= {})
    meta.name = name
    if (t.namespace !== undefined) meta.namespace = t.namespace
    else delete meta.namespace
    if (prev) {
      meta.uid = prev.metadata?.uid
      meta.creationTimestamp = prev.metadata?.creationTimestamp
      meta.resourceVersion = prev.metadata?.resourceVersion ?? String(++rv)
      meta.generation = prev.metadata?.generation
      if (!sameContent(obj, prev)) {
        meta.resourceVersion = String(++rv)
        meta.generation = Number(prev.metadata?.generation ?? 1) + 1
      }
    } else {
      meta.uid = randomUUID()
      meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
      meta.resourceVersion = String(++rv)
      meta.generation = 1
    }
    return obj
  }

  function handle(
    method: string,
    path: string,
    query: Record<string, string>,
    contentType: string | undefined,
    body: string,
    host: string,
  ): {status: number; body: Json} {
    const failure = takeFailure(method, path, query)
    if (failure) {
      throw new HttpError(failure.status, failure.message ?? `injected failure ${failure.status} for ${method} ${path}`, failure.reason)
    }
    if (method === 'GET') {
      const d = discovery(path, host)
      if (d !== undefined) return {status: 200, body: d}
      if (path === '/openapi/v3') return {status: 200, body: openApiRoot()}
      if (path.startsWith('/openapi/v3/')) {
        const doc = openApiDoc(path.slice('/openapi/v3'.length))
        if (doc !== undefined) return {status: 200, body: doc}
      }
    }
    const t = parseTarget(path)
    if (!t) throw new HttpError(404, `the server could not find the requested resource (${method} ${path})`, 'NotFound')
    const dryRun = query.dryRun
    if (dryRun !== undefined && dryRun !== 'All') {
      throw new HttpError(400, `dryRun: Unsupported value: "${dryRun}": supported values: "All"`, 'BadRequest')
    }
    const store = dryRun === undefined
    const key = (name: string): string => objectKey(t.def.name, t.namespace, name)

    if (t.name === undefined) {
      if (method === 'GET') {
        const prefix = t.namespace === undefined ? `${t.def.name}/` : `${t.def.name}/${t.namespace}/`
        const all = [...objects.entries()]
          .filter(([k, o]) => k.startsWith(prefix) && matchesSelector(o.metadata?.labels, query.labelSelector))
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        // Pagination as the real server does it: `limit` items, then an opaque `continue` token (here: the last key, base64).
        const after = query.continue ? Buffer.from(query.continue, 'base64').toString('utf8') : undefined
        const from = after === undefined ? all : all.filter(([k]) => k > after)
        const limit = query.limit ? Number(query.limit) : 0
        const page = limit > 0 ? from.slice(0, limit) : from
        const more = limit > 0 && from.length > limit
        const last = page.at(-1)?.[0]
        const metadata = {
          resourceVersion: String(rv),
          ...(more && last ? {continue: Buffer.from(last).toString('base64'), remainingItemCount: from.length - limit} : {}),
        }
        const apiVersion = t.def.group ? `${t.def.group}/${t.def.version}` : t.def.version
        return {status: 200, body: {kind: `${t.def.kind}List`, apiVersion, metadata, items: page.map(([, o]) => o)} as Json}
      }
      if (method === 'POST') {
        const obj = parseBody(body, contentType)
        const name = obj.metadata?.name
        if (typeof name !== 'string' || name === '')
          throw new HttpError(422, `${t.def.kind} "" is invalid: metadata.name: Required value: name is required`, 'Invalid')
        if (t.def.namespaced && obj.metadata?.namespace !== undefined && obj.metadata.namespace !== t.namespace) {
          throw new HttpError(400, 'the namespace of the provided object does not match the namespace sent on the request', 'BadRequest')
        }
        if (objects.has(key(name))) {
          throw new HttpError(409, `${groupResource(t.def)} "${name}" already exists`, 'AlreadyExists', {name, group: t.def.group, kind: t.def.name})
        }
        const created = finish(t, name, obj, undefined)
        if (store) objects.set(key(name), created)
        return {status: 201, body: created as Json}
      }
      throw new HttpError(405, `method ${method} not allowed on a collection`)
    }

    const name = t.name
    const existing = objects.get(key(name))
    switch (method) {
      case 'GET':
        if (!existing) throw notFound(t, name)
        return {status: 200, body: existing as Json}
      case 'PUT': {
        if (!existing) throw notFound(t, name)
        const obj = parseBody(body, contentType)
        const sent = obj.metadata?.resourceVersion
        if (sent !== undefined && sent !== existing.metadata?.resourceVersion) {
          throw new HttpError(
            409,
            `Operation cannot be fulfilled on ${groupResource(t.def)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
            'Conflict',
          )
        }
        const updated = finish(t, name, obj, existing)
        if (store) objects.set(key(name), updated)
        return {status: 200, body: updated as Json}
      }
      case 'DELETE': {
        if (!existing) throw notFound(t, name)
        if (store) objects.delete(key(name))
        return {status: 200, body: existing as Json}
      }
      case 'PATCH': {
        const ct = (contentType ?? '').split(';')[0]!.trim()
        let next: unknown
        let status = 200
        if (ct === 'application/apply-patch+yaml') {
          if (!query.fieldManager) {
            throw new HttpError(400, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', 'BadRequest')
          }
          const applied = parseBody(body, 'yaml')
          if (applied.metadata?.name !== undefined && applied.metadata.name !== name) {
            throw new HttpError(400, 'the name of the object (in the body) does not match the name on the URL', 'BadRequest')
          }
          next = existing ? mergePatch(existing, applied) : applied
          if (!existing) status = 201
        } else if (ct === 'application/merge-patch+json') {
          if (!existing) throw notFound(t, name)
          next = mergePatch(existing, parseBody(body, ct))
        } else if (ct === 'application/strategic-merge-patch+json') {
          if (!existing) throw notFound(t, name)
          next = strategicMergePatch(existing, parseBody(body, ct))
        } else {
          throw new HttpError(
            415,
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (the double does not implement ${ct || 'no content type'})`,
          )
        }
        const patched = finish(t, name, next as KubeObject, existing)
        if (store) objects.set(key(name), patched)
        return {status, body: patched as Json}
      }
      default:
        throw new HttpError(405, `method ${method} not allowed`)
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://double')
      const query: Record<string, string> = {}
      for (const [k, v] of url.searchParams) query[k] = v
      const body = Buffer.concat(chunks).toString('utf8')
      const method = (req.method ?? 'GET').toUpperCase()
      const contentType = req.headers['content-type']
      const watchTarget = method === 'GET' && (query.watch === '1' || query.watch === 'true') ? parseTarget(url.pathname) : undefined
      if (watchTarget !== undefined && watchTarget.name === undefined) {
        const f = takeFailure(method, url.pathname, query)
        const status = f?.status ?? 200
        requests.push({method, path: url.pathname, query, contentType, accept: req.headers.accept, authorization: req.headers.authorization, body, status})
        if (f === undefined) openWatch(watchTarget, query, res)
        else
          res
            .writeHead(status, {'Content-Type': 'application/json'})
            .end(JSON.stringify(statusBody(status, f.message ?? `injected failure ${status} for watch ${url.pathname}`, f.reason)))
        return
      }
      let status: number
      let out: Json
      try {
        ;({status, body: out} = handle(method, url.pathname, query, contentType, body, req.headers.host ?? '127.0.0.1'))
      } catch (e) {
        if (e instanceof HttpError) {
          status = e.status
          out = statusBody(e.status, e.message, e.reason, e.details)
        } else {
          status = 500
          out = statusBody(500, `test double bug: ${(e as Error).stack ?? String(e)}`)
        }
      }
      requests.push({method, path: url.pathname, query, contentType, accept: req.headers.accept, authorization: req.headers.authorization, body, status})
      const text = JSON.stringify(out)
      res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text)})
      res.end(text)
    })
  })
  server.keepAliveTimeout = 500
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`

  return {
    url,
    port,
    requests,
    objects,
    writes: () => requests.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) && r.query.dryRun === undefined),
    writeKubeconfig(dir: string, opts: KubeconfigOptions = {}): string {
      const context = opts.context ?? 'test'
      const file = join(dir, opts.fileName ?? `kubeconfig-${context}.yaml`)
      mkdirSync(dir, {recursive: true})
      const doc = {
        apiVersion: 'v1',
        kind: 'Config',
        preferences: {},
        // client-node 2.x refuses a plain-http server unless insecure-skip-tls-verify is set
        // ("HTTP protocol is not allowed when skipTLSVerify is not set or false"); kubectl does not mind.
        clusters: [{name: context, cluster: {server: url, 'insecure-skip-tls-verify': true}}],
        users: [{name: context, user: {token: opts.token ?? 'test-token'}}],
        contexts: [{name: context, context: {cluster: context, user: context, ...(opts.namespace === undefined ? {} : {namespace: opts.namespace})}}],
        'current-context': context,
      }
      writeFileSync(file, stringifyYaml(doc))
      return file
    },
    failNext(spec: FailureSpec): void {
      failures.push({...spec, left: spec.times ?? 1})
    },
    clearRequests(): void {
      requests.length = 0
    },
    watchEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', resource: string, obj: KubeObject): void {
      const namespace = obj.metadata?.namespace
      const name = obj.metadata?.name ?? ''
      const object = structuredClone(obj)
      object.metadata = {...object.metadata, resourceVersion: String(++rv)}
      if (type === 'DELETED') objects.delete(objectKey(resource, namespace, name))
      else objects.set(objectKey(resource, namespace, name), object)
      const e: WatchEventRecord = {rv, resource, namespace, type, object}
      history.push(e)
      for (const w of watches) if (watchMatches(w, e)) sendEvent(w, e)
    },
    dropWatches(opts: {expire?: boolean} = {}): void {
      if (opts.expire) {
        compacted = ++rv
        history.length = 0
      }
      for (const w of [...watches]) w.res.end()
      watches.clear()
    },
    openWatches: () => watches.size,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      }),
  }
}
