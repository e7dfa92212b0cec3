/** GKE cluster Binary Authorization settings (container v1 `Cluster.binaryAuthorization`). */
import {SafeDeployError} from '../../core/errors.js'
import {callOptions, closeGaxClient, grpcError, obj, openGaxClient, withRetries, type GaxClient, type GcpOptions} from './common.js'
import {parseClusterName} from '../../core/resource-names.js'

export type BinauthzEvaluationMode =
  | 'DISABLED'
  | 'PROJECT_SINGLETON_POLICY_ENFORCE'
  | 'POLICY_BINDINGS'
  | 'POLICY_BINDINGS_AND_PROJECT_SINGLETON_POLICY_ENFORCE'
  | 'UNSPECIFIED'

export interface ClusterBinauthz {
  /** projects/P/locations/L/clusters/C */
  cluster: string
  /** binaryAuthorization.evaluationMode as the API reports it (EVALUATION_MODE_UNSPECIFIED → UNSPECIFIED). */
  binauthzEvaluationMode: BinauthzEvaluationMode
  /** The deprecated binaryAuthorization.enabled bool, when the cluster carries it. */
  enabledLegacy?: boolean
  /** Whether admission enforces the project singleton policy (the mode, or the legacy bool when the mode is unspecified). */
  enforcesProjectPolicy: boolean
}

interface ClusterManagerLike extends GaxClient {
  getCluster(req: {name: string}, opts: ReturnType<typeof callOptions>): Promise<[unknown, ...unknown[]]>
}

const MODES: readonly BinauthzEvaluationMode[] = [
  'DISABLED',
  'PROJECT_SINGLETON_POLICY_ENFORCE',
  'POLICY_BINDINGS',
  'POLICY_BINDINGS_AND_PROJECT_SINGLETON_POLICY_ENFORCE',
]
/**
 * Enum numbers (container v1beta1 proto). The v1 proto bundled with @google-cloud/container 7.2
 * stops at 2, so POLICY_BINDINGS (5) and POLICY_BINDINGS_AND_… (6) arrive as bare numbers.
 */
const MODE_NUMBERS: Readonly<Record<number, BinauthzEvaluationMode>> = {
  0: 'UNSPECIFIED',
  1: 'DISABLED',
  2: 'PROJECT_SINGLETON_POLICY_ENFORCE',
  5: 'POLICY_BINDINGS',
  6: 'POLICY_BINDINGS_AND_PROJECT_SINGLETON_POLICY_ENFORCE',
}

function evaluationMode(raw: unknown): BinauthzEvaluationMode {
  if (typeof raw === 'number') return MODE_NUMBERS[raw] ?? 'UNSPECIFIED'
  if (typeof raw === 'string' && /^\d+$/.test(raw)) return MODE_NUMBERS[Number(raw)] ?? 'UNSPECIFIED'
  return MODES.includes(raw as BinauthzEvaluationMode) ? (raw as BinauthzEvaluationMode) : 'UNSPECIFIED'
}

export function clusterName(project: string, location: string, cluster: string): string {
  for (const [what, v] of [
    ['project', project],
    ['location', location],
    ['cluster', cluster],
  ] as const) {
    if (!/^[A-Za-z0-9._:-]+$/.test(v)) throw new SafeDeployError('USAGE', `invalid GKE ${what} "${v}"`)
  }
  return `projects/${project}/locations/${location}/clusters/${cluster}`
}

export interface ClusterRef {
  project: string
  /** Zone or region. */
  location: string
  cluster: string
}

/** One-shot form of GkeApi.clusterBinauthz (opens and closes a client). */
export async function clusterBinauthz(target: string | ClusterRef, opts: GcpOptions = {}): Promise<ClusterBinauthz> {
  const api = new GkeApi(opts)
  try {
    return await api.clusterBinauthz(target)
  } finally {
    await api.close()
  }
}

export class GkeApi {
  private readonly opts: GcpOptions
  private client: Promise<ClusterManagerLike> | undefined

  constructor(opts: GcpOptions = {}) {
    this.opts = opts
  }

  /** Binary Authorization settings of a cluster (`projects/P/locations/L/clusters/C` or its parts). */
  async clusterBinauthz(target: string | ClusterRef): Promise<ClusterBinauthz> {
    const name = typeof target === 'string' ? target : clusterName(target.project, target.location, target.cluster)
    const m = parseClusterName(name)
    if (!m) throw new SafeDeployError('USAGE', `invalid cluster "${name}": expected projects/PROJECT/locations/LOCATION/clusters/NAME`)
    const client = await this.getClient()
    let cluster: unknown
    try {
      ;[cluster] = await withRetries(this.opts, () => client.getCluster({name}, callOptions(this.opts)))
    } catch (err) {
      throw grpcError(err, {
        action: `reading GKE cluster ${name}`,
        permission: 'container.clusters.get (roles/container.clusterViewer)',
        project: m.project,
        notFoundHint: 'check the cluster name and location (gcloud container clusters list)',
      })
    }
    const ba = obj(obj(cluster)?.['binaryAuthorization'])
    const mode = evaluationMode(ba?.['evaluationMode'])
    const enabled = ba?.['enabled']
    const enabledLegacy = typeof enabled === 'boolean' ? enabled : undefined
    const enforcesProjectPolicy =
      mode === 'UNSPECIFIED'
        ? enabledLegacy === true
        : mode === 'PROJECT_SINGLETON_POLICY_ENFORCE' || mode === 'POLICY_BINDINGS_AND_PROJECT_SINGLETON_POLICY_ENFORCE'
    return {cluster: name, binauthzEvaluationMode: mode, ...(enabledLegacy === undefined ? {} : {enabledLegacy}), enforcesProjectPolicy}
  }

  async close(): Promise<void> {
    const opened = this.client
    this.client = undefined
    await closeGaxClient(opened)
  }

  private getClient(): Promise<ClusterManagerLike> {
    this.client ??= (async () => {
      const {ClusterManagerClient} = await import('@google-cloud/container')
      return openGaxClient(
        (options) => new ClusterManagerClient(options as ConstructorParameters<typeof ClusterManagerClient>[0]) as unknown as ClusterManagerLike,
        this.opts,
        {action: 'connecting to the GKE API', permission: 'container.clusters.get (roles/container.clusterViewer)'},
      )
    })()
    return this.client
  }
}

/** Does the cluster enforce a Binary Authorization policy? (the project singleton policy, or the legacy flag). */
export async function clusterEnforcement(target: ClusterRef, opts: GcpOptions = {}): Promise<{mode: string; enforced: boolean}> {
  const r = await clusterBinauthz(target, opts)
  const mode = r.binauthzEvaluationMode
  const enforced =
    mode === 'PROJECT_SINGLETON_POLICY_ENFORCE' ||
    mode === 'POLICY_BINDINGS_AND_PROJECT_SINGLETON_POLICY_ENFORCE' ||
    (mode === 'UNSPECIFIED' && r.enabledLegacy === true)
  return {mode, enforced}
}
