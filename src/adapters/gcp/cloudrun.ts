/**
 * Cloud Run Admin API v2 (docs/google-apis.md#cloud-run-admin-api-v2, docs/binauthz.md#cloud-run): deploy a service by digest
 * with Binary Authorization enforcement on (`binaryAuthorization.useDefault: true`), optionally
 * with a break-glass justification, and wait for the long-running operation.
 */
import {SafeDeployError} from '../../core/errors.js'
import {callOptions, closeGaxClient, grpcError, grpcStatusOf, obj, openGaxClient, str, withRetries, type GaxClient, type GcpOptions} from './common.js'
import {parseServiceName} from '../../core/resource-names.js'

/** The subset of a v2 `google.cloud.run.v2.Service` we read or write; other fields pass through. */
export interface RunServiceV2 {
  name?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  template?: RunRevisionTemplateV2
  binaryAuthorization?: {useDefault?: boolean; policy?: string; breakglassJustification?: string}
  latestCreatedRevision?: string
  uri?: string
  etag?: string
  [field: string]: unknown
}

export interface RunRevisionTemplateV2 {
  revision?: string
  serviceAccount?: string
  containers?: Array<{image?: string; [field: string]: unknown}>
  [field: string]: unknown
}

/** Placeholder for the Knative (run v1) Service YAML → v2 translation, which lives elsewhere. */
export type KnativeToV2 = (knativeService: unknown) => RunServiceV2

export interface DeployServiceRequest {
  project: string
  region: string
  service: string
  /** Must be by digest (…@sha256:…): enforcement evaluates what was attested. */
  image: string
  serviceAccount?: string
  /** One-shot break-glass; omitted means cleared (like gcloud deploy). */
  breakglassJustification?: string
  /** Merged into the service's labels. */
  labels?: Record<string, string>
  /** Ask the API to validate the change without applying it (no revision is created). */
  validateOnly?: boolean
}

export interface ReplaceServiceRequest {
  project: string
  region: string
  /** The service ID; defaults to the last segment of service.name. */
  serviceId?: string
  /** An already translated v2 Service object (authoritative). */
  service: RunServiceV2 | Record<string, unknown>
  validateOnly?: boolean
}

export interface DeployResult {
  /** Full service name projects/P/locations/R/services/S */
  service: string
  /** latestCreatedRevision (full name); absent for validateOnly. */
  revision?: string
  /** Service URL; absent for validateOnly of a new service. */
  uri?: string
  created: boolean
  /** True when the change was only validated. */
  validateOnly: boolean
}

export interface CloudRunOptions extends GcpOptions {
  /** How long to wait for the deploy operation (default 15 minutes). */
  deployTimeoutMs?: number
}

interface Operation {
  name?: string
  promise(): Promise<[unknown, ...unknown[]]>
  /** gax polls while a 'complete' listener exists; removing them stops polling (not the deploy). */
  removeAllListeners(event?: string): unknown
}

interface ServicesClientLike extends GaxClient {
  getService(req: {name: string}, opts: ReturnType<typeof callOptions>): Promise<[unknown, ...unknown[]]>
  createService(
    req: {parent: string; serviceId: string; service: RunServiceV2; validateOnly: boolean},
    opts: ReturnType<typeof callOptions>,
  ): Promise<[Operation, ...unknown[]]>
  updateService(req: {service: RunServiceV2; validateOnly: boolean}, opts: ReturnType<typeof callOptions>): Promise<[Operation, ...unknown[]]>
}

const SEGMENT_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/
const PROJECT_RE = /^[A-Za-z0-9.:-]+$/
const OUTPUT_ONLY = [
  'uid',
  'generation',
  'createTime',
  'updateTime',
  'deleteTime',
  'expireTime',
  'creator',
  'lastModifier',
  'observedGeneration',
  'terminalCondition',
  'conditions',
  'latestReadyRevision',
  'latestCreatedRevision',
  'trafficStatuses',
  'uri',
  'urls',
  'reconciling',
  'satisfiesPzs',
] as const

function requireDigest(image: string): void {
  if (!/@sha256:[a-f0-9]{64}$/.test(image)) {
    throw new SafeDeployError('UNPINNABLE_VALUE', `Cloud Run deploys need an image by digest, got "${image}"`, {
      hint: 'pin it first (`safe-deploy pin`) so the deployed digest is the one that was checked',
    })
  }
}

function serviceName(project: string, region: string, service: string): string {
  if (!PROJECT_RE.test(project)) throw new SafeDeployError('USAGE', `invalid project "${project}"`)
  if (!SEGMENT_RE.test(region)) throw new SafeDeployError('USAGE', `invalid region "${region}"`)
  if (!SEGMENT_RE.test(service) || service.length > 49) {
    throw new SafeDeployError('USAGE', `invalid Cloud Run service name "${service}": lowercase letters, digits and hyphens, at most 49 characters`)
  }
  return `projects/${project}/locations/${region}/services/${service}`
}

function clone<T>(v: T): T {
  return structuredClone(v)
}

/** Drop output-only fields before writing an object read from the API back. */
function forWrite(service: RunServiceV2): RunServiceV2 {
  const s: RunServiceV2 = clone(service)
  for (const f of OUTPUT_ONLY) delete s[f]
  return s
}

/** One-shot form of CloudRunApi.deployService (opens and closes a client). */
export async function deployService(req: DeployServiceRequest, opts: CloudRunOptions = {}): Promise<DeployResult> {
  const api = new CloudRunApi(opts)
  try {
    return await api.deployService(req)
  } finally {
    await api.close()
  }
}

/** One-shot form of CloudRunApi.replaceService (opens and closes a client). */
export async function replaceService(req: ReplaceServiceRequest, opts: CloudRunOptions = {}): Promise<DeployResult> {
  const api = new CloudRunApi(opts)
  try {
    return await api.replaceService(req)
  } finally {
    await api.close()
  }
}

export class CloudRunApi {
  private readonly opts: CloudRunOptions
  private client: Promise<ServicesClientLike> | undefined

  constructor(opts: CloudRunOptions = {}) {
    this.opts = opts
  }

  /**
   * Create the service when it does not exist, else update it keeping its other fields; in both
   * cases the first container's image is the digest image and Binary Authorization uses the
   * project's default policy.
   */
  async deployService(req: DeployServiceRequest): Promise<DeployResult> {
    requireDigest(req.image)
    const name = serviceName(req.project, req.region, req.service)
    const existing = await this.getService(name)
    const base: RunServiceV2 = existing ? forWrite(existing) : {}
    const template: RunRevisionTemplateV2 = {...(base.template ?? {})}
    // A fixed revision name from an earlier deploy would collide with the new revision.
    delete template.revision
    const containers = [...(template.containers ?? [])]
    containers[0] = {...(containers[0] ?? {}), image: req.image}
    template.containers = containers
    if (req.serviceAccount !== undefined) template.serviceAccount = req.serviceAccount
    const service: RunServiceV2 = {
      ...base,
      template,
      labels: {...(base.labels ?? {}), ...(req.labels ?? {})},
      binaryAuthorization: {
        useDefault: true,
        ...(req.breakglassJustification === undefined ? {} : {breakglassJustification: req.breakglassJustification}),
      },
    }
    return this.write(name, service, existing, req.validateOnly === true)
  }

  /**
   * Replace a service with an already translated v2 object (authoritative, like `gcloud run
   * services replace`). Every container image must be by digest. When the object says nothing about
   * Binary Authorization, enforcement with the default policy is switched on.
   */
  async replaceService(req: ReplaceServiceRequest): Promise<DeployResult> {
    const given = req.service as RunServiceV2
    const id = req.serviceId ?? (typeof given.name === 'string' ? (parseServiceName(given.name)?.service ?? given.name) : undefined)
    if (id === undefined) throw new SafeDeployError('USAGE', 'replaceService needs a service ID (serviceId or service.name)')
    const name = serviceName(req.project, req.region, id)
    const containers = Array.isArray(given.template?.containers) ? given.template.containers : []
    if (containers.length === 0) throw new SafeDeployError('INVALID_INPUT', `service ${name} has no containers (template.containers is empty)`)
    for (const c of containers) requireDigest(typeof c.image === 'string' ? c.image : '')
    const existing = await this.getService(name)
    const body: RunServiceV2 = forWrite(given)
    if (body.binaryAuthorization === undefined) body.binaryAuthorization = {useDefault: true}
    if (existing !== undefined && body.etag === undefined && existing.etag !== undefined && existing.etag !== '') body.etag = existing.etag
    return this.write(name, body, existing, req.validateOnly === true)
  }

  /** The service, or undefined when it does not exist. */
  async getService(name: string): Promise<RunServiceV2 | undefined> {
    const client = await this.getClient()
    try {
      const [svc] = await withRetries(this.opts, () => client.getService({name}, callOptions(this.opts)))
      return (obj(svc) ?? {}) as RunServiceV2
    } catch (err) {
      if (grpcStatusOf(err) === 'NOT_FOUND') return undefined
      throw grpcError(err, {
        action: `reading Cloud Run service ${name}`,
        permission: 'run.services.get (roles/run.viewer)',
        project: parseServiceName(name)?.project,
      })
    }
  }

  async close(): Promise<void> {
    const opened = this.client
    this.client = undefined
    await closeGaxClient(opened)
  }

  private async write(name: string, service: RunServiceV2, existing: RunServiceV2 | undefined, validateOnly: boolean): Promise<DeployResult> {
    const {project = '', location: region = '', service: id = ''} = parseServiceName(name) ?? {}
    const exists = existing !== undefined
    const client = await this.getClient()
    let op: Operation
    try {
      if (exists) {
        ;[op] = await client.updateService({service: {...service, name}, validateOnly}, callOptions(this.opts))
      } else {
        const {name: _ignored, ...body} = service
        ;[op] = await client.createService(
          {parent: `projects/${project}/locations/${region}`, serviceId: id, service: body, validateOnly},
          callOptions(this.opts),
        )
      }
    } catch (err) {
      throw grpcError(err, {
        action: `${validateOnly ? 'validating the ' : ''}${exists ? 'update of' : 'creation of'} Cloud Run service ${name}`,
        permission: `${exists ? 'run.services.update' : 'run.services.create'} (roles/run.developer) and iam.serviceAccounts.actAs on the runtime service account`,
        project,
        otherwise: 'DEPLOY_FAILED',
      })
    }
    if (validateOnly) {
      const uri = str(existing?.uri)
      return {service: name, created: !exists, validateOnly, ...(uri === undefined ? {} : {uri})}
    }
    const done = await this.waitFor(op, name)
    const revision = str(done['latestCreatedRevision'])
    const uri = str(done['uri'])
    return {service: name, created: !exists, validateOnly, ...(revision === undefined ? {} : {revision}), ...(uri === undefined ? {} : {uri})}
  }

  private async waitFor(op: Operation, name: string): Promise<Record<string, unknown>> {
    const timeoutMs = this.opts.deployTimeoutMs ?? 15 * 60_000
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SafeDeployError(
              'DEPLOY_FAILED',
              `Cloud Run deploy of ${name} did not finish within ${Math.round(timeoutMs / 1000)} s (operation ${op.name ?? 'unknown'})`,
              {
                hint: `check it with \`gcloud run services describe ${parseServiceName(name)?.service ?? name}\``,
              },
            ),
          ),
        timeoutMs,
      )
    })
    try {
      const [result] = await Promise.race([op.promise(), timeout])
      return obj(result) ?? {}
    } catch (err) {
      if (err instanceof SafeDeployError) throw err
      throw grpcError(err, {
        action: `deploying Cloud Run service ${name}`,
        permission: 'run.services.update (roles/run.developer)',
        project: parseServiceName(name)?.project,
        otherwise: 'DEPLOY_FAILED',
      })
    } finally {
      clearTimeout(timer)
      // Keep the 'error' listener promise() added: an in-flight poll may still report.
      op.removeAllListeners('complete')
    }
  }

  private getClient(): Promise<ServicesClientLike> {
    this.client ??= (async () => {
      const {ServicesClient} = await import('@google-cloud/run')
      return openGaxClient(
        (options) => new ServicesClient(options as ConstructorParameters<typeof ServicesClient>[0]) as unknown as ServicesClientLike,
        this.opts,
        {action: 'connecting to the Cloud Run API', permission: 'run.services.get (roles/run.viewer)'},
      )
    })()
    return this.client
  }
}
