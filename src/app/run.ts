/**
 * Cloud Run deploys: `run deploy` (one image) and `run replace` (Knative Service YAML), both pinned,
 * pre-flighted with the Cloud Run rules (default rule only), then created or updated through the v2
 * API with binaryAuthorization.useDefault = true. Nothing is deployed on DENY.
 */
import {SafeDeployError} from '../core/errors.js'
import {kubectlInput, manifestObjects, secondLook, type ManifestObject} from '../core/manifest/objects.js'
import {knativeToV2, BINAUTHZ_ANNOTATION} from '../core/cloudrun.js'
import type {Confirmation} from '../core/deploy.js'
import type {PreflightResult} from '../core/preflight.js'
import type {AuditSink, Progress} from '../core/ports.js'
import {renderPreflightText, type TextOptions} from '../render/preflight.js'
import {step} from './progress.js'
import {AuditTrail} from './audit-trail.js'
import {runDeployGate} from './deploy-gate.js'
import {checkJustification} from './deploy.js'
import {preflight, type PreflightOptions, type PreflightPorts} from './preflight.js'

export interface RunOptions {
  preflight: PreflightOptions
  /** From the flags, then (run replace) the manifest, then the profile. */
  project?: string | undefined
  region?: string | undefined
  serviceAccount?: string | undefined
  breakGlass?: string | undefined
  /** validateOnly: pre-flight, then let the API validate the request (nothing deployed). */
  validateOnly: boolean
  actor: string
  /** How the pre-flight text is styled (colour on a terminal, -o wide). */
  text?: TextOptions | undefined
}

/** What the Cloud Run API answered. */
export interface RunDeployed {
  revision?: string
  uri?: string
  created: boolean
}

export interface RunPorts {
  preflight: PreflightPorts
  audit: AuditSink
  auditId: string
  confirm(question: string): Promise<Confirmation>
  say(line: string): void
  /** Progress of the Cloud Run operation (the terminal's; absent elsewhere). Pre-flight progress is preflight.progress. */
  progress?: Progress | undefined
  /** Create or update the service from one image (run deploy). */
  deployService(req: {
    project: string
    region: string
    service: string
    image: string
    serviceAccount?: string
    breakglassJustification?: string
    validateOnly?: boolean
  }): Promise<RunDeployed>
  /** Create or update the service from a v2 Service body (run replace). */
  replaceService(req: {project: string; region: string; serviceId: string; service: Record<string, unknown>; validateOnly?: boolean}): Promise<RunDeployed>
  /** The manifest text when nothing was pinned (run replace with --no-resolve). */
  readManifest(file: string): string
}

export interface RunResult {
  outcome: 'deployed' | 'blocked' | 'dry-run'
  verdict: PreflightResult['verdict']
  preflight: PreflightResult
  service: string
  revision?: string
  uri?: string
  created?: boolean
  request?: Record<string, unknown>
  auditId: string
  warnings: string[]
}

/** The project and region of a Cloud Run deploy; both reported at once when missing, with where they may come from. */
function cloudRunTarget(project: string | undefined, region: string | undefined, names: {project: string; region: string}): {project: string; region: string} {
  const missing = [project ? undefined : names.project, region ? undefined : names.region].filter((m) => m !== undefined)
  if (project && region) return {project, region}
  throw new SafeDeployError('USAGE', `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required`, {
    hint: 'or set them as gcloud does (CLOUDSDK_CORE_PROJECT, CLOUDSDK_RUN_REGION, `gcloud config set project|run/region`), or in a profile',
  })
}

function trailFor(command: string, o: RunOptions, ports: RunPorts, target: Record<string, unknown>): AuditTrail {
  const bg = o.breakGlass
  return new AuditTrail(ports.audit, ports.auditId, {
    command,
    actor: o.actor,
    mode: o.validateOnly ? 'validate-only' : 'none',
    breakGlass: bg !== undefined,
    ...(bg !== undefined ? {justification: bg} : {}),
    target: {platform: 'cloudrun', ...target},
  })
}

/** Cloud Run's pass through the deploy gate: the default rule's verdict, break-glass, confirmation, then `send`. */
async function gated(
  trail: AuditTrail,
  o: RunOptions,
  ports: RunPorts,
  result: PreflightResult,
  where: {project: string; region: string; service: string},
  send: () => Promise<RunDeployed>,
): Promise<Omit<RunResult, 'service' | 'request'>> {
  trail.retarget({platform: 'cloudrun', ...where})
  ports.say(renderPreflightText(result, o.text))
  const gate = await runDeployGate(
    {
      platform: 'cloudrun',
      verdict: result.verdict,
      mode: o.validateOnly ? 'validate-only' : 'none',
      ...(o.breakGlass === undefined ? {} : {breakGlass: o.breakGlass}),
      requireEnforcement: false,
      enforcement: {state: 'not-checked'},
    },
    `deploy ${where.service} to Cloud Run (${where.project}/${where.region})?`,
    {
      record: (e) => trail.record(e.outcome, result, e.detail),
      confirm: ports.confirm,
      say: ports.say,
    },
    {
      apply: async () => {
        // The Admin API answers with a long-running operation: polled until the new revision serves (or fails).
        const waiting = o.validateOnly
          ? `validating ${where.service} on Cloud Run (${where.project}/${where.region})`
          : `waiting for the new revision of ${where.service} to become ready (${where.project}/${where.region})`
        const r = await step(ports.progress, waiting, send)
        return {value: r, detail: `revision ${r.revision ?? '(none)'}`}
      },
    },
  )
  const base = {verdict: result.verdict, preflight: result, auditId: trail.id, warnings: gate.warnings}
  if (gate.outcome === 'blocked') return {outcome: 'blocked', ...base}
  const r = gate.value
  return {
    outcome: gate.outcome === 'applied' ? 'deployed' : 'dry-run',
    ...base,
    ...(r.revision ? {revision: r.revision} : {}),
    ...(r.uri ? {uri: r.uri} : {}),
    created: r.created,
  }
}

export async function runDeploy(service: string, o: RunOptions, ports: RunPorts): Promise<RunResult> {
  const {project, region} = cloudRunTarget(o.project, o.region, {project: '--project', region: '--region'})
  const image = o.preflight.images[0]
  if (!image || o.preflight.images.length !== 1) throw new SafeDeployError('USAGE', 'run deploy takes exactly one --image')
  checkJustification(o.breakGlass)
  const trail = trailFor('run deploy', o, ports, {project, region, service})
  const {result} = await trail.preflight(() => preflight(o.preflight, ports.preflight))
  const img = result.images[0]
  if (!img?.digest) throw new SafeDeployError('INTERNAL', 'pre-flight returned no digest for the image')
  const where = {project, region, service}
  const g = await gated(trail, o, ports, {...result, target: {...result.target, ...where}}, where, () =>
    ports.deployService({
      project,
      region,
      service,
      image: img.image,
      ...(o.serviceAccount ? {serviceAccount: o.serviceAccount} : {}),
      ...(o.breakGlass !== undefined ? {breakglassJustification: o.breakGlass} : {}),
      ...(o.validateOnly ? {validateOnly: true} : {}),
    }),
  )
  return {...g, service}
}

export async function runReplace(
  file: string,
  o: RunOptions & {flagProject?: string | undefined; flagRegion?: string | undefined},
  ports: RunPorts,
): Promise<RunResult> {
  checkJustification(o.breakGlass)
  const trail = trailFor('run replace', o, ports, {file})
  // Pin + pre-flight the file's images (Cloud Run evaluates the default rule only).
  const {result, pin} = await trail.preflight(() => preflight(o.preflight, ports.preflight))
  const pinnedText = pin?.outputs[0]?.text ?? ports.readManifest(file)
  // The object sent is the one evaluated: read with the pin's reader, then checked a second time.
  const objects = manifestObjects(pinnedText, file)
  if (objects.length !== 1) {
    throw new SafeDeployError('INVALID_INPUT', `${file}: run replace takes exactly one Knative Service, found ${objects.length} object(s)`, {
      hint: 'put each Cloud Run service in its own file',
      location: {file},
    })
  }
  if (pin)
    secondLook(
      kubectlInput(objects),
      pin.result.sites.map((s) => ({site: s.site, image: s.pinned})),
    )
  const body = structuredClone((objects[0] as ManifestObject).body)
  const metadata = (typeof body.metadata === 'object' && body.metadata !== null ? body.metadata : {}) as Record<string, unknown>
  const annotations = (typeof metadata.annotations === 'object' && metadata.annotations !== null ? metadata.annotations : {}) as Record<string, unknown>
  annotations[BINAUTHZ_ANNOTATION] = 'default'
  if (o.breakGlass !== undefined) annotations['run.googleapis.com/binary-authorization-breakglass'] = o.breakGlass
  body.metadata = {...metadata, annotations}
  const translated = knativeToV2(body, file)
  // The manifest's own project and region come between the flags and the profile.
  const {project, region} = cloudRunTarget(o.flagProject ?? translated.project ?? o.project, o.flagRegion ?? translated.region ?? o.region, {
    project: '--project (or metadata.namespace)',
    region: '--region (or the cloud.googleapis.com/location label)',
  })
  const request = translated.service as unknown as Record<string, unknown>
  const g = await gated(trail, o, ports, result, {project, region, service: translated.serviceId}, () =>
    ports.replaceService({
      project,
      region,
      serviceId: translated.serviceId,
      service: request,
      ...(o.validateOnly ? {validateOnly: true} : {}),
    }),
  )
  return {...g, service: translated.serviceId, ...(g.outcome === 'blocked' ? {} : {request})}
}
