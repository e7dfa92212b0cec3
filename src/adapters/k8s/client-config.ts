/**
 * The client-node KubeConfig of one invocation, built from the same merged kubeconfig view safe-deploy
 * resolved itself (client-node reads KUBECONFIG only from process.env), with the chosen context's
 * namespace overridden by --namespace. Shared by the API applier and the scan's Pod lister.
 */
import {stringify as stringifyYaml} from 'yaml'
import {SafeDeployError} from '../../core/errors.js'
import {loadKubeconfig, resolveKubeContext} from './kubeconfig.js'
import type {Env} from './types.js'

type ClientNode = typeof import('./client-node.js')

export interface ClientConfigOptions {
  kubeconfig?: string | undefined
  context?: string | undefined
  namespace?: string | undefined
  env?: Env | undefined
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function clientKubeConfig(k8s: ClientNode, opts: ClientConfigOptions): InstanceType<ClientNode['KubeConfig']> {
  const ctxOpts = {
    ...(opts.kubeconfig === undefined ? {} : {kubeconfig: opts.kubeconfig}),
    ...(opts.context === undefined ? {} : {context: opts.context}),
    ...(opts.env === undefined ? {} : {env: opts.env}),
  }
  const ctx = resolveKubeContext(ctxOpts)
  const merged = loadKubeconfig(ctxOpts)
  const contexts = merged.contexts.map((c) =>
    c.name === ctx.context && opts.namespace !== undefined ? {...c, context: {...(isRecord(c.context) ? c.context : {}), namespace: opts.namespace}} : c,
  )
  const kc = new k8s.KubeConfig()
  try {
    kc.loadFromString(
      stringifyYaml({apiVersion: 'v1', kind: 'Config', clusters: merged.clusters, users: merged.users, contexts, 'current-context': ctx.context}),
    )
    kc.setCurrentContext(ctx.context)
  } catch (err) {
    throw new SafeDeployError('USAGE', `kubeconfig ${merged.files.join(', ')}: ${(err as Error).message}`, {cause: err})
  }
  return kc
}
