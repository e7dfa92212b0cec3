/**
 * kubeconfig reading without @kubernetes/client-node (whose import costs ~0.8 s): the files are
 * parsed with `yaml`, merged the way kubectl merges KUBECONFIG, and the chosen context is turned
 * into {context, cluster, namespace, gke}. The `gke` part gives Binary Authorization its cluster
 * key (`LOCATION.NAME`, the key of `clusterAdmissionRules`).
 */
import {existsSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {delimiter, dirname, isAbsolute, join, resolve} from 'node:path'
import {parse as parseYaml} from '../../core/yaml-read.js'
import {SafeDeployError} from '../../core/errors.js'
import type {Env} from './types.js'

export interface KubeContextOptions {
  /** Explicit kubeconfig file (like --kubeconfig); wins over KUBECONFIG. */
  kubeconfig?: string
  /** Context name (like --context); default: current-context. */
  context?: string
  /** Where KUBECONFIG and HOME are read from; default process.env. */
  env?: Env
}

export interface GkeCluster {
  project: string
  location: string
  cluster: string
  /** `LOCATION.NAME`: the key of a Binary Authorization cluster-specific rule. */
  clusterKey: string
}

export interface KubeContext {
  context: string
  /** The cluster entry the context points at. */
  cluster?: string
  /** The cluster's API server URL. */
  server?: string
  /** The context's default namespace, or 'default'. */
  namespace: string
  /** Present when the context (or its cluster) is named gke_PROJECT_LOCATION_NAME. */
  gke?: GkeCluster
  /** The kubeconfig files read, in precedence order. */
  files: string[]
}

type Entry = Record<string, unknown> & {name?: unknown}

/** A kubeconfig merged from one or more files (first file wins per entry name and for current-context). */
export interface MergedKubeconfig {
  files: string[]
  currentContext: string | undefined
  clusters: Entry[]
  users: Entry[]
  contexts: Entry[]
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The kubeconfig files to read: --kubeconfig, else KUBECONFIG (existing paths only), else ~/.kube/config. */
export function kubeconfigFiles(opts: KubeContextOptions = {}): string[] {
  const env = opts.env ?? process.env
  if (opts.kubeconfig !== undefined && opts.kubeconfig !== '') {
    const file = resolve(opts.kubeconfig)
    if (!existsSync(file)) {
      throw new SafeDeployError('USAGE', `kubeconfig ${file} does not exist`, {
        hint: 'pass an existing file with --kubeconfig, or omit it to use KUBECONFIG / ~/.kube/config',
      })
    }
    return [file]
  }
  const list = env.KUBECONFIG
  if (list !== undefined && list !== '') {
    const files = [
      ...new Set(
        list
          .split(delimiter)
          .filter((p) => p !== '')
          .map((p) => resolve(p)),
      ),
    ]
    const present = files.filter((f) => existsSync(f))
    if (present.length === 0) {
      throw new SafeDeployError('USAGE', `none of the KUBECONFIG files exist: ${files.join(', ')}`, {
        hint: 'fix KUBECONFIG, or run `gcloud container clusters get-credentials CLUSTER`',
      })
    }
    return present
  }
  const home = env.HOME ?? homedir()
  const file = join(home, '.kube', 'config')
  if (!existsSync(file)) {
    throw new SafeDeployError('USAGE', `no kubeconfig: ${file} does not exist and KUBECONFIG is not set`, {
      hint: 'run `gcloud container clusters get-credentials CLUSTER --location LOCATION`, or pass --kubeconfig',
    })
  }
  return [file]
}

const PATH_FIELDS: Record<string, readonly string[]> = {
  cluster: ['certificate-authority'],
  user: ['client-certificate', 'client-key', 'tokenFile'],
}

/** Make file references relative to the kubeconfig that holds them absolute (kubectl does the same). */
function absolutize(entry: Entry, inner: string, base: string): Entry {
  const body = entry[inner]
  if (!isRecord(body)) return entry
  const fixed: Record<string, unknown> = {...body}
  for (const field of PATH_FIELDS[inner] ?? []) {
    const v = fixed[field]
    if (typeof v === 'string' && v !== '' && !isAbsolute(v)) fixed[field] = join(base, v)
  }
  return {...entry, [inner]: fixed}
}

/** Read and merge the kubeconfig files like kubectl: the first file to define a name (or current-context) wins. */
export function loadKubeconfig(opts: KubeContextOptions = {}): MergedKubeconfig {
  const files = kubeconfigFiles(opts)
  const merged: MergedKubeconfig = {files, currentContext: undefined, clusters: [], users: [], contexts: []}
  for (const file of files) {
    let doc: unknown
    try {
      doc = parseYaml(readFileSync(file, 'utf8'))
    } catch (err) {
      throw new SafeDeployError('USAGE', `kubeconfig ${file} is not valid YAML: ${(err as Error).message}`, {
        cause: err,
        hint: 'fix or replace the kubeconfig file',
      })
    }
    if (doc === null || doc === undefined) continue
    if (!isRecord(doc)) throw new SafeDeployError('USAGE', `kubeconfig ${file}: expected a mapping, got ${Array.isArray(doc) ? 'a list' : typeof doc}`)
    const cc = doc['current-context']
    if (merged.currentContext === undefined && typeof cc === 'string' && cc !== '') merged.currentContext = cc
    const base = dirname(file)
    for (const [key, inner] of [
      ['clusters', 'cluster'],
      ['users', 'user'],
      ['contexts', 'context'],
    ] as const) {
      const list = doc[key]
      if (!Array.isArray(list)) continue
      for (const item of list) {
        if (!isRecord(item) || typeof item.name !== 'string') continue
        if (merged[key].some((e) => e.name === item.name)) continue
        merged[key].push(absolutize(item, inner, base))
      }
    }
  }
  return merged
}

/**
 * Parse a GKE context (or cluster) name `gke_PROJECT_LOCATION_NAME` (what
 * `gcloud container clusters get-credentials` writes). Project ids, locations and cluster names
 * cannot contain `_`, so the name splits from the left; anything after the location is kept as
 * the cluster name.
 */
export function parseGkeName(name: string): GkeCluster | undefined {
  const parts = name.split('_')
  if (parts.length < 4 || parts[0] !== 'gke') return undefined
  const [, project, location] = parts as [string, string, string]
  const cluster = parts.slice(3).join('_')
  if (project === '' || location === '' || cluster === '') return undefined
  return {project, location, cluster, clusterKey: `${location}.${cluster}`}
}

/** Resolve the context to deploy to: name, cluster, default namespace and, for GKE, the Binary Authorization cluster key. */
export function resolveKubeContext(opts: KubeContextOptions = {}): KubeContext {
  const cfg = loadKubeconfig(opts)
  const where = cfg.files.length === 1 ? `kubeconfig ${cfg.files[0]}` : `kubeconfig files ${cfg.files.join(', ')}`
  const name = opts.context !== undefined && opts.context !== '' ? opts.context : cfg.currentContext
  const available = cfg.contexts.map((c) => String(c.name))
  if (name === undefined) {
    throw new SafeDeployError('USAGE', `${where} sets no current-context and no --context was given`, {
      hint: available.length > 0 ? `pass --context (one of: ${available.join(', ')})` : 'run `gcloud container clusters get-credentials CLUSTER`',
    })
  }
  const entry = cfg.contexts.find((c) => c.name === name)
  if (!entry) {
    throw new SafeDeployError('USAGE', `context "${name}" not found in ${where}`, {
      hint: available.length > 0 ? `use one of: ${available.join(', ')}` : 'the kubeconfig defines no contexts',
    })
  }
  const body = isRecord(entry.context) ? entry.context : {}
  const cluster = typeof body.cluster === 'string' && body.cluster !== '' ? body.cluster : undefined
  const ns = typeof body.namespace === 'string' && body.namespace !== '' ? body.namespace : 'default'
  const clusterEntry = cluster === undefined ? undefined : cfg.clusters.find((c) => c.name === cluster)
  const server = isRecord(clusterEntry?.cluster) && typeof clusterEntry.cluster.server === 'string' ? clusterEntry.cluster.server : undefined
  const gke = parseGkeName(name) ?? (cluster === undefined ? undefined : parseGkeName(cluster))
  return {
    context: name,
    ...(cluster === undefined ? {} : {cluster}),
    ...(server === undefined ? {} : {server}),
    namespace: ns,
    ...(gke === undefined ? {} : {gke}),
    files: cfg.files,
  }
}
