/**
 * The scan's PodLister over @kubernetes/client-node (imported lazily, like the API applier): Pods,
 * ReplicaSets and Jobs read with list calls only, page by page (`limit`/`continue`), never a get per
 * Pod and never a write. A failed list is "could not check" (exit 4): a partial list is never scanned
 * as if it were the whole cluster.
 */
import type {V1ObjectMeta, V1OwnerReference, V1Pod, V1ContainerStatus} from '@kubernetes/client-node'
import {SafeDeployError} from '../../core/errors.js'
import {redact} from '../../core/redact.js'
import type {PodLister} from '../../core/ports.js'
import type {ContainerKind, ListedPod, OwnerObject, RunningContainer, WorkloadRef} from '../../core/scan.js'
import {describe} from './api.js'
import {clientKubeConfig, type ClientConfigOptions} from './client-config.js'

/** Items per list page: large enough for few round trips, small enough for a bounded response. */
export const DEFAULT_PAGE_SIZE = 500

interface ListPage<T> {
  items: T[]
  metadata?: {_continue?: string | undefined} | undefined
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
    const k8s = await import('@kubernetes/client-node')
    const kc = clientKubeConfig(k8s, this.opts)
    return {core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api), batch: kc.makeApiClient(k8s.BatchV1Api)}
  }

  /** Every page of one list; `what` names it in errors. */
  private async all<T>(what: string, page: (cont: string | undefined, limit: number) => Promise<ListPage<T>>): Promise<T[]> {
    const limit = this.opts.pageSize ?? DEFAULT_PAGE_SIZE
    const out: T[] = []
    let cont: string | undefined
    let pages = 0
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
    } while (cont !== undefined)
    this.debug(`listed ${out.length} ${what} in ${pages} page(s) of up to ${limit}`)
    return out
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
