/**
 * Cloud Run deploys: `run deploy` (one image) and `run replace` (Knative Service YAML), both pinned,
 * pre-flighted with the Cloud Run rules (default rule only), then created/updated through the v2
 * API with binaryAuthorization.useDefault = true. Nothing is deployed on DENY.
 */
import {readTextFile} from '../adapters/fs/files.js'
import {kubectlInput, manifestObjects, secondLook, type ManifestObject} from '../core/manifest/objects.js'
import {SafeDeployError} from '../core/errors.js'
import {knativeToV2, BINAUTHZ_ANNOTATION} from '../core/cloudrun.js'
import type {PreflightResult} from '../core/preflight.js'
import {preparePreflight, type PreflightFlags} from './preflight.js'
import {Auditor, actor, auditedPreflight} from './audit.js'
import {askConfirmation} from './prompt.js'
import {runDeployGate} from '../app/deploy-gate.js'
import {renderPreflightText} from '../render/preflight.js'
import type {Profile} from './config.js'
import {resolveSettings} from './options.js'

export interface RunFlags extends PreflightFlags {
  region?: string | undefined
  'break-glass'?: string | undefined
  yes: boolean
  'audit-log'?: string | undefined
  'run-endpoint'?: string | undefined
  'dry-run'?: boolean | undefined
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

interface Io { say(m: string): void; debug(l: string): void }

function requireStr(v: string | undefined, flag: string): string {
  if (!v) throw new SafeDeployError('USAGE', `${flag} is required`)
  return v
}

/**
 * Cloud Run's pass through the deploy gate (src/app/deploy-gate.ts): the default rule's verdict,
 * break-glass, confirmation for a live deploy, then `send` (the v2 API call) and its audit records.
 */
async function gated<T>(
  kind: string, service: string, flags: RunFlags, auditLog: string | undefined, result: PreflightResult, io: Io, project: string, region: string,
  send: () => Promise<{value: T; detail: string}>,
): Promise<{auditId: string; warnings: string[]; outcome: 'blocked'} | {auditId: string; warnings: string[]; outcome: 'deployed' | 'dry-run'; value: T}> {
  const breakGlass = flags['break-glass']
  const auditor = new Auditor(auditLog, {
    command: kind, actor: actor(), mode: flags['dry-run'] ? 'validate-only' : 'none', breakGlass: breakGlass !== undefined,
    ...(breakGlass !== undefined ? {justification: breakGlass} : {}),
    target: {platform: 'cloudrun', project, region, service},
  })
  io.say(renderPreflightText(result))
  const gate = await runDeployGate({
    platform: 'cloudrun', verdict: result.verdict, mode: flags['dry-run'] ? 'validate-only' : 'none',
    ...(breakGlass === undefined ? {} : {breakGlass}), requireEnforcement: false, enforcement: {state: 'not-checked'},
  }, `deploy ${service} to Cloud Run (${project}/${region})?`, {
    record: (e) => auditor.record(e.outcome, result, e.detail),
    confirm: (question) => askConfirmation(question, flags.yes),
    say: io.say,
  }, {apply: send})
  if (gate.outcome === 'blocked') return {auditId: auditor.id, warnings: gate.warnings, outcome: 'blocked'}
  return {auditId: auditor.id, warnings: gate.warnings, outcome: gate.outcome === 'applied' ? 'deployed' : 'dry-run', value: gate.value}
}

export async function runDeploy(service: string, flags: RunFlags, profile: Profile | undefined, io: Io): Promise<RunResult> {
  const settings = resolveSettings(flags, profile)
  const project = requireStr(settings.project, '--project')
  const region = requireStr(settings.region, '--region')
  const image = (flags.image ?? [])[0]
  if (!image || (flags.image ?? []).length !== 1) throw new SafeDeployError('USAGE', 'run deploy takes exactly one --image')
  checkBreakGlass(flags['break-glass'])
  const {result} = await auditedPreflight(settings.auditLog, blockedBase('run deploy', flags, {project, region, service}),
    () => preparePreflight({...flags, platform: 'cloudrun'}, profile, [], io.debug, {breakGlass: flags['break-glass'] !== undefined}))
  const img = result.images[0]
  if (!img?.digest) throw new SafeDeployError('INTERNAL', 'pre-flight returned no digest for the image')
  const g = await gated('run deploy', service, flags, settings.auditLog, {...result, target: {...result.target, project, region, service}}, io, project, region, async () => {
    const {deployService} = await import('../adapters/gcp/cloudrun.js')
    const r = await deployService({
      project, region, service, image: img.image,
      ...(settings.serviceAccount ? {serviceAccount: settings.serviceAccount} : {}),
      ...(flags['break-glass'] !== undefined ? {breakglassJustification: flags['break-glass']} : {}),
      ...(flags['dry-run'] ? {validateOnly: true} : {}),
    }, gcpOpts(flags))
    return {value: r, detail: `revision ${r.revision ?? '(none)'}`}
  })
  if (g.outcome === 'blocked') return {outcome: 'blocked', verdict: result.verdict, preflight: result, service, auditId: g.auditId, warnings: g.warnings}
  const r = g.value
  return {outcome: g.outcome, verdict: result.verdict, preflight: result, service, ...(r.revision ? {revision: r.revision} : {}), ...(r.uri ? {uri: r.uri} : {}), created: r.created, auditId: g.auditId, warnings: g.warnings}
}

function blockedBase(command: string, flags: RunFlags, target: Record<string, unknown>) {
  const bg = flags['break-glass']
  return {command, actor: actor(), mode: flags['dry-run'] ? 'validate-only' : 'none', breakGlass: bg !== undefined, ...(bg !== undefined ? {justification: bg} : {}), target: {platform: 'cloudrun', ...target}}
}

function checkBreakGlass(j: string | undefined): void {
  if (j !== undefined && j.trim().length < 3) throw new SafeDeployError('USAGE', '--break-glass needs a justification, e.g. --break-glass "INC-1234: restore checkout"')
}

function gcpOpts(flags: RunFlags) {
  return {...(flags['run-endpoint'] ? {endpoint: flags['run-endpoint']} : {}), insecure: flags['api-insecure'] === true}
}

export async function runReplace(file: string, flags: RunFlags, profile: Profile | undefined, io: Io): Promise<RunResult> {
  checkBreakGlass(flags['break-glass'])
  // Pin + pre-flight the file's images (Cloud Run evaluates the default rule only).
  const settings = resolveSettings(flags, profile)
  const {result, pin} = await auditedPreflight(settings.auditLog, blockedBase('run replace', flags, {file}),
    () => preparePreflight({...flags, filename: [file], platform: 'cloudrun'}, profile, [], io.debug, {breakGlass: flags['break-glass'] !== undefined}))
  const pinnedText = pin?.outputs[0]?.text ?? readTextFile(file, 'manifest', {location: true})
  // The object sent is the one evaluated: read with the pin's reader, then checked a second time.
  const objects = manifestObjects(pinnedText, file)
  if (objects.length !== 1) {
    throw new SafeDeployError('INVALID_INPUT', `${file}: run replace takes exactly one Knative Service, found ${objects.length} object(s)`, {
      hint: 'put each Cloud Run service in its own file', location: {file},
    })
  }
  if (pin) secondLook(kubectlInput(objects), pin.result.sites.map((s) => ({site: s.site, image: s.pinned})))
  const body = structuredClone((objects[0] as ManifestObject).body)
  const metadata = (typeof body.metadata === 'object' && body.metadata !== null ? body.metadata : {}) as Record<string, unknown>
  const annotations = (typeof metadata.annotations === 'object' && metadata.annotations !== null ? metadata.annotations : {}) as Record<string, unknown>
  annotations[BINAUTHZ_ANNOTATION] = 'default'
  if (flags['break-glass'] !== undefined) annotations['run.googleapis.com/binary-authorization-breakglass'] = flags['break-glass']
  body.metadata = {...metadata, annotations}
  const translated = knativeToV2(body, file)
  // The manifest's own project and region come between the flags and the profile.
  const project = requireStr(flags.project ?? translated.project ?? settings.project, '--project (or metadata.namespace)')
  const region = requireStr(flags.region ?? translated.region ?? settings.region, '--region (or the cloud.googleapis.com/location label)')
  const g = await gated('run replace', translated.serviceId, flags, settings.auditLog, result, io, project, region, async () => {
    const {replaceService} = await import('../adapters/gcp/cloudrun.js')
    const r = await replaceService({project, region, serviceId: translated.serviceId, service: translated.service as unknown as Record<string, unknown>, ...(flags['dry-run'] ? {validateOnly: true} : {})}, gcpOpts(flags))
    return {value: r, detail: `revision ${r.revision ?? '(none)'}`}
  })
  if (g.outcome === 'blocked') return {outcome: 'blocked', verdict: result.verdict, preflight: result, service: translated.serviceId, auditId: g.auditId, warnings: g.warnings}
  const r = g.value
  return {outcome: g.outcome, verdict: result.verdict, preflight: result, service: translated.serviceId, ...(r.revision ? {revision: r.revision} : {}), ...(r.uri ? {uri: r.uri} : {}), created: r.created, request: translated.service as unknown as Record<string, unknown>, auditId: g.auditId, warnings: g.warnings}
}
