/**
 * The scan's PodLister over @kubernetes/client-node (imported lazily, like the API applier): Pods,
 * ReplicaSets and Jobs read with list calls only, page by page (`limit`/`continue`), never a get per
 * Pod and never a write. A failed list is "could not check" (exit 4): a partial list is never scanned
 * as if it were the whole cluster.
 */
import type {V1ObjectMeta, V1OwnerReference, V1Pod, V1ContainerStatus} from '@kubernetes/client-node'
import {SafeDeployError} from '../../core/errors.js'
import {redact} from '../../core/redact.js'
import type {PodLister, PodWatcher} from '../../core/ports.js'
import type {PodEvent} from '../../core/scan-watch.js'
import type {ContainerKind, ListedPod, OwnerObject, RunningContainer, WorkloadRef} from '../../core/scan.js'
import {describe} from './api.js'
import {clientKubeConfig, type ClientConfigOptions} from './client-config.js'

/** Items per list page: large enough for few round trips, small enough for a bounded response. */
export const DEFAULT_PAGE_SIZE = 500

interface ListPage<T> {
  items: T[]
  metadata?: {_continue?: string | undefined; resourceVersion?: string | undefined} | undefined
}

/** Every page of one list, and the resourceVersion of the list (where a watch starts); `what` names it in errors. */
async function listAll<T>(
  what: string,
  limit: number,
  debug: (line: string) => void,
  page: (cont: string | undefined, limit: number) => Promise<ListPage<T>>,
): Promise<{items: T[]; resourceVersion: string | undefined}> {
  const out: T[] = []
  let cont: string | undefined
  let pages = 0
  let resourceVersion: string | undefined
  do {
    let list: ListPage<T>
    try {
      list = await page(cont, limit)
    } catch (err) {
      throw listError(what, pages, err)
    }
    out.push(...list.items)
    pages++
    cont = list.metadata?._continue || undefined
    resourceVersion = list.metadata?.resourceVersion || resourceVersion
  } while (cont !== undefined)
  debug(`listed ${out.length} ${what} in ${pages} page(s) of up to ${limit}`)
  return {items: out, resourceVersion}
}

function controllerOf(meta: V1ObjectMeta | undefined): WorkloadRef | undefined {
  const refs: V1OwnerReference[] = meta?.ownerReferences ?? []
  const ref = refs.find((r) => r.controller === true) ?? refs[0]
  return ref ? {kind: ref.kind, name: ref.name} : undefined
}

function timestamp(v: unknown): string | undefined {
  if (v instanceof Date) return v.toISOString()
  return typeof v === 'string' ? v : undefined
}

/** Containers of one list with the imageID the kubelet reported for each (by name). */
function containers(
  kind: ContainerKind,
  specs: ReadonlyArray<{name: string; image?: string | undefined}> | undefined,
  statuses: readonly V1ContainerStatus[] | undefined,
): RunningContainer[] {
  const byName = new Map((statuses ?? []).map((s) => [s.name, s.imageID]))
  return (specs ?? []).map((c) => {
    const imageID = byName.get(c.name)
    return {name: c.name, kind, image: c.image ?? '', ...(imageID ? {imageID} : {})}
  })
}

export function listedPod(p: V1Pod): ListedPod {
  const meta = p.metadata
  const controller = controllerOf(meta)
  const createdAt = timestamp(meta?.creationTimestamp)
  return {
    namespace: meta?.namespace ?? '',
    name: meta?.name ?? '',
    annotations: meta?.annotations ?? {},
    serviceAccount: p.spec?.serviceAccountName ?? 'default',
    ...(controller ? {controller} : {}),
    ...(createdAt ? {createdAt} : {}),
    containers: [
      ...containers('initContainer', p.spec?.initContainers, p.status?.initContainerStatuses),
      ...containers('container', p.spec?.containers, p.status?.containerStatuses),
      ...containers('ephemeralContainer', p.spec?.ephemeralContainers, p.status?.ephemeralContainerStatuses),
    ],
  }
}

export class KubePodLister implements PodLister {
  constructor(
    private readonly opts: ClientConfigOptions & {pageSize?: number},
    private readonly debug: (line: string) => void = () => {},
  ) {}

  private async apis() {
    const k8s = await import('./client-node.js')
    const kc = clientKubeConfig(k8s, this.opts)
    return {core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api), batch: kc.makeApiClient(k8s.BatchV1Api)}
  }

  /** Every page of one list; `what` names it in errors. */
  private async all<T>(what: string, page: (cont: string | undefined, limit: number) => Promise<ListPage<T>>): Promise<T[]> {
    return (await listAll(what, this.opts.pageSize ?? DEFAULT_PAGE_SIZE, this.debug, page)).items
  }

  async listPods(scope: {namespace?: string | undefined; selector?: string | undefined}): Promise<ListedPod[]> {
    const {core} = await this.apis()
    const sel = scope.selector ? {labelSelector: scope.selector} : {}
    const ns = scope.namespace
    const pods = await this.all<V1Pod>(ns ? `Pods in namespace ${ns}` : 'Pods in every namespace', (cont, limit) =>
      ns
        ? core.listNamespacedPod({namespace: ns, limit, ...sel, ...(cont ? {_continue: cont} : {})})
        : core.listPodForAllNamespaces({limit, ...sel, ...(cont ? {_continue: cont} : {})}),
    )
    return pods.map(listedPod)
  }

  async listOwners(kind: 'ReplicaSet' | 'Job', namespaces: readonly string[] | undefined): Promise<OwnerObject[]> {
    const {apps, batch} = await this.apis()
    type Item = {metadata?: V1ObjectMeta | undefined}
    const list = (ns: string | undefined) =>
      this.all<Item>(`${kind}s ${ns ? `in namespace ${ns}` : 'in every namespace'}`, (cont, limit) => {
        const c = cont ? {_continue: cont} : {}
        if (kind === 'ReplicaSet') return ns ? apps.listNamespacedReplicaSet({namespace: ns, limit, ...c}) : apps.listReplicaSetForAllNamespaces({limit, ...c})
        return ns ? batch.listNamespacedJob({namespace: ns, limit, ...c}) : batch.listJobForAllNamespaces({limit, ...c})
      })
    const items = namespaces === undefined ? await list(undefined) : (await Promise.all(namespaces.map((ns) => list(ns)))).flat()
    return items.map((o) => {
      const owner = controllerOf(o.metadata)
      return {kind, namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '', ...(owner ? {owner} : {})}
    })
  }
}

function listError(what: string, pages: number, err: unknown): SafeDeployError {
  const text = redact(describe(err))
  const forbidden = /^HTTP 403/.test(text)
  const partial = pages > 0 ? ` after ${pages} page(s)` : ''
  return new SafeDeployError(forbidden ? 'API_AUTH' : 'API_ERROR', `could not list ${what}${partial}: ${text}; nothing was scanned as clean`, {
    hint: forbidden
      ? 'grant the read-only role `safe-deploy scan --print-rbac` prints (or scan a namespace you can read with -n)'
      : 'check the cluster is reachable (kubectl get pods) and run again',
    cause: err,
  })
}

/** How many times in a row a watch may fail to connect before the watch ends as "could not check" (exit 4). */
const WATCH_ATTEMPTS = 5

interface WatchLine {
  type: string
  object: unknown
}

function statusCode(v: unknown): number | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const r = v as {statusCode?: unknown; code?: unknown}
  return typeof r.statusCode === 'number' ? r.statusCode : typeof r.code === 'number' ? r.code : undefined
}

/**
 * `scan --watch`'s PodWatcher: one list (paginated, as `scan` lists), then a watch from that list's
 * resourceVersion through client-node's Watch (one long GET with `watch`, never polling). A dropped
 * watch (the server closed it, the inactivity timeout) resumes from the last resourceVersion seen, so
 * no event is missed; an expired one (410 Gone) lists again, the only way to a consistent state.
 */
export class KubePodWatcher implements PodWatcher {
  constructor(
    private readonly opts: ClientConfigOptions & {pageSize?: number; retryDelayMs?: number},
    private readonly debug: (line: string) => void = () => {},
  ) {}

  async *watchPods(scope: {namespace?: string | undefined; selector?: string | undefined}, signal: AbortSignal): AsyncGenerator<PodEvent> {
    const k8s = await import('./client-node.js')
    const kc = clientKubeConfig(k8s, this.opts)
    const core = kc.makeApiClient(k8s.CoreV1Api)
    const watch = new k8s.Watch(kc)
    const ns = scope.namespace
    const sel = scope.selector ? {labelSelector: scope.selector} : {}
    const what = ns ? `Pods in namespace ${ns}` : 'Pods in every namespace'
    const path = ns ? `/api/v1/namespaces/${encodeURIComponent(ns)}/pods` : '/api/v1/pods'
    let resourceVersion: string | undefined
    let failures = 0
    while (!signal.aborted) {
      if (resourceVersion === undefined) {
        const list = await listAll<V1Pod>(what, this.opts.pageSize ?? DEFAULT_PAGE_SIZE, this.debug, (cont, limit) =>
          ns
            ? core.listNamespacedPod({namespace: ns, limit, ...sel, ...(cont ? {_continue: cont} : {})})
            : core.listPodForAllNamespaces({limit, ...sel, ...(cont ? {_continue: cont} : {})}),
        )
        // A list without a resourceVersion cannot be watched from; "0" would replay an arbitrary state.
        if (list.resourceVersion === undefined) throw watchError(what, new Error('the list answered without a resourceVersion'))
        resourceVersion = list.resourceVersion
        yield {type: 'listed', pods: list.items.map(listedPod)}
        continue
      }
      const lines: WatchLine[] = []
      let ended: {err: unknown} | undefined
      let wake: (() => void) | undefined
      const from: string = resourceVersion
      this.debug(`watching ${what} from resourceVersion ${from}`)
      const controller = await watch.watch(
        path,
        {resourceVersion: from, allowWatchBookmarks: true, ...sel},
        (type: string, object: unknown) => {
          lines.push({type, object})
          wake?.()
        },
        (err: unknown) => {
          ended = {err}
          wake?.()
        },
      )
      // Connected (done was not called while connecting): the failures in a row start again.
      const connected = ended === undefined
      if (connected) failures = 0
      const onAbort = (): void => {
        controller.abort()
        wake?.()
      }
      signal.addEventListener('abort', onAbort, {once: true})
      let gone = false
      let serverError = false
      try {
        while (!signal.aborted) {
          const line = lines.shift()
          if (line === undefined) {
            if (ended !== undefined) break
            await new Promise<void>((resolve) => (wake = resolve))
            wake = undefined
            continue
          }
          const meta = (line.object as {metadata?: {resourceVersion?: string}} | undefined)?.metadata
          if (line.type === 'ERROR') {
            // The server's Status in the stream: 410 Gone is an expired resourceVersion (list again); anything else drops the watch.
            gone = statusCode(line.object) === 410
            serverError = !gone
            this.debug(`watch of ${what} ended by the server: ${redact(JSON.stringify(line.object))}`)
            break
          }
          if (meta?.resourceVersion) resourceVersion = meta.resourceVersion
          if (line.type === 'ADDED' || line.type === 'MODIFIED' || line.type === 'DELETED')
            yield {type: line.type === 'ADDED' ? 'added' : line.type === 'MODIFIED' ? 'modified' : 'deleted', pod: listedPod(line.object as V1Pod)}
        }
      } finally {
        signal.removeEventListener('abort', onAbort)
        controller.abort()
      }
      if (signal.aborted) return
      const err = ended?.err
      if (gone || statusCode(err) === 410) {
        this.debug(`resourceVersion ${resourceVersion} of ${what} expired (410 Gone): listing again`)
        resourceVersion = undefined
      } else if (statusCode(err) === 403 || statusCode(err) === 401) {
        // Not allowed to watch (a role without the watch verb): no retry changes that.
        throw watchError(what, err)
      } else if (!connected || serverError) {
        // Could not connect, or the server refused the watch: retried a few times, apart, then "could not check"
        // (never a watch that silently sees nothing).
        failures++
        if (failures >= WATCH_ATTEMPTS) throw watchError(what, err)
        this.debug(`could not watch ${what} (${redact(describe(err))}); attempt ${failures + 1} of ${WATCH_ATTEMPTS}`)
        await pause((this.opts.retryDelayMs ?? 1000) * failures, signal)
      } else {
        this.debug(`watch of ${what} dropped${err ? ` (${redact(describe(err))})` : ''}; resuming from resourceVersion ${resourceVersion}`)
      }
    }
  }
}

/** Resolves after ms, or as soon as the watch is interrupted. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, {once: true})
  })
}

function watchError(what: string, err: unknown): SafeDeployError {
  const code = statusCode(err)
  const forbidden = code === 403 || code === 401
  const text = `${code !== undefined && !describe(err).startsWith('HTTP') ? `HTTP ${code} ` : ''}${describe(err)}`
  return new SafeDeployError(forbidden ? 'API_AUTH' : 'API_ERROR', `could not watch ${what}: ${redact(text)}; the watch ended`, {
    hint: forbidden
      ? 'grant the read-only role `safe-deploy scan --print-rbac` prints (it includes watch on Pods)'
      : 'check the cluster is reachable (kubectl get pods --watch) and run again',
    cause: err,
  })
}
