/**
 * Server-side apply through @kubernetes/client-node's KubernetesObjectApi (no kubectl needed).
 * client-node is imported lazily (./client-node.js): even bundled it is the largest chunk of the CLI, which
 * commands that never deploy should not load.
 *
 * Per object: GET (to know whether it exists and its resourceVersion), then PATCH with
 * `application/apply-patch+yaml`, fieldManager `safe-deploy` (overridable), `force` when asked.
 * created = it did not exist; unchanged = resourceVersion did not move (the API server does not
 * bump it for a no-op apply); configured = it moved. In a server dry run the "after" is the
 * dry-run answer, so the same rule reports what *would* happen.
 *
 * All or nothing, as far as the API allows: with `dryRun: 'none'`, every object is first applied
 * with `dryRun=All`; only when all of them pass is anything written (`verifyFirst: false` skips
 * that pass). A failure during the real pass still leaves the earlier objects applied; the error
 * says which.
 */
import type {KubernetesObject} from '@kubernetes/client-node'
import {SafeDeployError} from '../../core/errors.js'
import {redact} from '../../core/redact.js'
import {clientKubeConfig} from './client-config.js'
import {type ManifestObject} from './objects.js'
import type {AppliedObject, ApplierResult, DryRunMode, Env} from './types.js'

export interface ApiApplyOptions {
  kubeconfig?: string
  context?: string
  /** Namespace for objects that name none (like kubectl --namespace); default: the context's. */
  namespace?: string
  /** 'client': only reads (created when missing, configured otherwise); 'server': dryRun=All. */
  dryRun: DryRunMode
  /** Default 'safe-deploy'. */
  fieldManager?: string
  /** Take ownership of conflicting fields (force=true). */
  force?: boolean
  /** With dryRun 'none': dry-run every object before writing any. Default true. */
  verifyFirst?: boolean
  env?: Env
}

type ClientNode = typeof import('./client-node.js')
type ObjectApi = InstanceType<ClientNode['KubernetesObjectApi']>

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** "Forbidden: deployments.apps is forbidden: …" from a client-node error (ApiException or network error). */
export function describe(err: unknown): string {
  if (isRecord(err) && typeof err.code === 'number' && 'body' in err) {
    let body: unknown = err.body
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body)
      } catch {
        // keep the text
      }
    }
    if (isRecord(body) && typeof body.message === 'string') {
      return `HTTP ${err.code}${typeof body.reason === 'string' ? ` ${body.reason}` : ''}: ${body.message}`
    }
    return `HTTP ${err.code}${typeof body === 'string' && body !== '' ? `: ${body.slice(0, 500)}` : ''}`
  }
  return err instanceof Error ? err.message : String(err)
}

function isNotFound(err: unknown): boolean {
  return isRecord(err) && err.code === 404 && 'body' in err
}

function resourceVersion(obj: unknown): string | undefined {
  if (!isRecord(obj) || !isRecord(obj.metadata)) return undefined
  const rv = obj.metadata.resourceVersion
  return typeof rv === 'string' ? rv : undefined
}

function namespaceOf(obj: unknown): string | undefined {
  if (!isRecord(obj) || !isRecord(obj.metadata)) return undefined
  const ns = obj.metadata.namespace
  return typeof ns === 'string' && ns !== '' ? ns : undefined
}

function label(o: ManifestObject, ns: string | undefined): string {
  return `${o.kind}/${o.name}${ns === undefined ? '' : ` in namespace ${ns}`}`
}

export class ApiApplier {
  /** Server-side apply every object in the stream; see the module comment for created/configured/unchanged. */
  async apply(inputs: readonly ManifestObject[], opts: ApiApplyOptions): Promise<ApplierResult> {
    const fieldManager = opts.fieldManager ?? 'safe-deploy'
    const client = await this.client(opts)
    const results: AppliedObject[] = []
    const warnings: string[] = []

    if (opts.dryRun === 'none' && opts.verifyFirst !== false) {
      for (const o of inputs) await this.applyOne(client, o, 'All', fieldManager, opts.force, [], 'verify (server dry run)')
    }
    for (const o of inputs) {
      if (opts.dryRun === 'client') {
        const {obj, namespace: ns} = await this.read(client, o, results)
        results.push({kind: o.kind, name: o.name, ...(ns === undefined ? {} : {namespace: ns}), action: obj === undefined ? 'created' : 'configured'})
        continue
      }
      results.push(await this.applyOne(client, o, opts.dryRun === 'server' ? 'All' : undefined, fieldManager, opts.force, results, 'apply'))
    }
    const suffix = opts.dryRun === 'none' ? '' : opts.dryRun === 'server' ? ' (server dry run)' : ' (dry run)'
    const stdout = results.map((r) => `${r.kind}/${r.name} ${r.action}${suffix}\n`).join('')
    return {objects: results, dryRun: opts.dryRun, stdout, stderr: warnings.join('\n')}
  }

  private async client(opts: ApiApplyOptions): Promise<ObjectApi> {
    const k8s = await import('./client-node.js')
    const kc = clientKubeConfig(k8s, opts)
    return k8s.KubernetesObjectApi.makeApiClient(kc)
  }

  /** The object as the server has it (undefined when missing), and the namespace client-node used. */
  private async read(
    client: ObjectApi,
    o: ManifestObject,
    done: readonly AppliedObject[],
  ): Promise<{obj: KubernetesObject | undefined; namespace: string | undefined}> {
    // client-node fills metadata.namespace in place, for namespaced kinds only (from discovery).
    const header = {apiVersion: o.apiVersion, kind: o.kind, metadata: {name: o.name, ...(o.namespace === undefined ? {} : {namespace: o.namespace})}}
    try {
      const obj = await client.read(header)
      return {obj, namespace: namespaceOf(obj) ?? namespaceOf(header)}
    } catch (err) {
      if (isNotFound(err)) return {obj: undefined, namespace: namespaceOf(header)}
      throw this.failure('read', o, namespaceOf(header), err, done)
    }
  }

  private async applyOne(
    client: ObjectApi,
    o: ManifestObject,
    dryRun: 'All' | undefined,
    fieldManager: string,
    force: boolean | undefined,
    done: readonly AppliedObject[],
    stage: string,
  ): Promise<AppliedObject> {
    const {obj: before, namespace: readNs} = await this.read(client, o, done)
    const spec = structuredClone(o.body) as KubernetesObject
    let after: KubernetesObject
    try {
      const k8s = await import('./client-node.js')
      after = await client.patch(spec, undefined, dryRun, fieldManager, force, k8s.PatchStrategy.ServerSideApply)
    } catch (err) {
      throw this.failure(stage, o, namespaceOf(spec) ?? o.namespace, err, done)
    }
    const ns = namespaceOf(after) ?? readNs
    const action = before === undefined ? 'created' : resourceVersion(before) === resourceVersion(after) ? 'unchanged' : 'configured'
    return {kind: o.kind, name: o.name, ...(ns === undefined ? {} : {namespace: ns}), action}
  }

  private failure(stage: string, o: ManifestObject, ns: string | undefined, err: unknown, done: readonly AppliedObject[]): SafeDeployError {
    const applied = done.length > 0 ? ` Applied before the failure: ${done.map((d) => `${d.kind}/${d.name} ${d.action}`).join(', ')}.` : ''
    return new SafeDeployError('DEPLOY_FAILED', `${stage} ${label(o, ns)} failed: ${redact(describe(err))}.${applied}`, {
      cause: err,
      hint: /HTTP protocol is not allowed/.test(describe(err))
        ? 'client-node talks plain http only when the kubeconfig cluster sets insecure-skip-tls-verify: true; use an https server or the kubectl applier'
        : 'check permissions, admission (Binary Authorization) and connectivity for this cluster; nothing is rolled back automatically',
    })
  }
}
