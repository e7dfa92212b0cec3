/**
 * Knative Service YAML (what `gcloud run services replace` takes) → Cloud Run Admin API v2 Service.
 * Translates the fields Cloud Run uses; anything else is refused with its path, never dropped.
 */
import {SafeDeployError} from './errors.js'

export const BINAUTHZ_ANNOTATION = 'run.googleapis.com/binary-authorization'
export const BREAKGLASS_ANNOTATION = 'run.googleapis.com/binary-authorization-breakglass'

export interface V2Service {
  name?: string
  description?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  launchStage?: string
  ingress?: string
  binaryAuthorization: {useDefault: boolean; breakglassJustification?: string}
  template: Record<string, unknown>
  traffic?: Array<Record<string, unknown>>
}

export interface TranslatedService {
  serviceId: string
  /** metadata.namespace when given (project id or number). */
  project?: string
  /** cloud.googleapis.com/location label when given. */
  region?: string
  service: V2Service
}

type Obj = Record<string, unknown>

const INGRESS: Record<string, string> = {
  all: 'INGRESS_TRAFFIC_ALL',
  internal: 'INGRESS_TRAFFIC_INTERNAL_ONLY',
  'internal-and-cloud-load-balancing': 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER',
}
const EXEC_ENV: Record<string, string> = {gen1: 'EXECUTION_ENVIRONMENT_GEN1', gen2: 'EXECUTION_ENVIRONMENT_GEN2'}

class Translator {
  problems: string[] = []

  obj(v: unknown, path: string): Obj {
    if (v === undefined || v === null) return {}
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.problems.push(`${path}: expected a mapping`)
      return {}
    }
    return v as Obj
  }
  arr(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return []
    if (!Array.isArray(v)) {
      this.problems.push(`${path}: expected a list`)
      return []
    }
    return v
  }
  str(v: unknown, path: string): string | undefined {
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      this.problems.push(`${path}: expected a scalar`)
      return undefined
    }
    return String(v)
  }
  strMap(v: unknown, path: string): Record<string, string> {
    const o = this.obj(v, path)
    const out: Record<string, string> = {}
    for (const [k, x] of Object.entries(o)) {
      const s = this.str(x, `${path}.${k}`)
      if (s !== undefined) out[k] = s
    }
    return out
  }
  only(o: Obj, path: string, allowed: string[]): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.problems.push(`${path}.${k}: not translated to the Cloud Run v2 API by safe-deploy`)
  }
  int(v: unknown, path: string): number | undefined {
    if (v === undefined || v === null) return undefined
    const n = Number(v)
    if (!Number.isInteger(n) || n < 0) {
      this.problems.push(`${path}: expected a non-negative integer, got ${JSON.stringify(v)}`)
      return undefined
    }
    return n
  }

  container(c: Obj, path: string): Obj {
    this.only(c, path, ['name', 'image', 'command', 'args', 'env', 'ports', 'resources', 'volumeMounts', 'workingDir'])
    const out: Obj = {image: this.str(c.image, `${path}.image`)}
    if (c.name !== undefined) out.name = this.str(c.name, `${path}.name`)
    if (c.workingDir !== undefined) out.workingDir = this.str(c.workingDir, `${path}.workingDir`)
    if (c.command !== undefined) out.command = this.arr(c.command, `${path}.command`).map((x, i) => this.str(x, `${path}.command[${i}]`))
    if (c.args !== undefined) out.args = this.arr(c.args, `${path}.args`).map((x, i) => this.str(x, `${path}.args[${i}]`))
    if (c.env !== undefined) {
      out.env = this.arr(c.env, `${path}.env`).map((e, i) => {
        const p = `${path}.env[${i}]`
        const eo = this.obj(e, p)
        this.only(eo, p, ['name', 'value', 'valueFrom'])
        if (eo.valueFrom !== undefined) {
          const vf = this.obj(eo.valueFrom, `${p}.valueFrom`)
          this.only(vf, `${p}.valueFrom`, ['secretKeyRef'])
          const ref = this.obj(vf.secretKeyRef, `${p}.valueFrom.secretKeyRef`)
          this.only(ref, `${p}.valueFrom.secretKeyRef`, ['name', 'key'])
          return {
            name: this.str(eo.name, `${p}.name`),
            valueSource: {
              secretKeyRef: {
                secret: this.str(ref.name, `${p}.valueFrom.secretKeyRef.name`),
                version: this.str(ref.key, `${p}.valueFrom.secretKeyRef.key`) ?? 'latest',
              },
            },
          }
        }
        return {name: this.str(eo.name, `${p}.name`), value: this.str(eo.value, `${p}.value`) ?? ''}
      })
    }
    if (c.ports !== undefined) {
      out.ports = this.arr(c.ports, `${path}.ports`).map((x, i) => {
        const p = this.obj(x, `${path}.ports[${i}]`)
        this.only(p, `${path}.ports[${i}]`, ['name', 'containerPort', 'protocol'])
        return {
          ...(p.name ? {name: this.str(p.name, `${path}.ports[${i}].name`)} : {}),
          containerPort: this.int(p.containerPort, `${path}.ports[${i}].containerPort`),
        }
      })
    }
    if (c.resources !== undefined) {
      const r = this.obj(c.resources, `${path}.resources`)
      this.only(r, `${path}.resources`, ['limits', 'requests'])
      out.resources = {limits: this.strMap(r.limits, `${path}.resources.limits`)}
    }
    if (c.volumeMounts !== undefined) {
      out.volumeMounts = this.arr(c.volumeMounts, `${path}.volumeMounts`).map((x, i) => {
        const p = `${path}.volumeMounts[${i}]`
        const m = this.obj(x, p)
        this.only(m, p, ['name', 'mountPath', 'readOnly'])
        return {name: this.str(m.name, `${p}.name`), mountPath: this.str(m.mountPath, `${p}.mountPath`)}
      })
    }
    return out
  }

  volume(v: Obj, path: string): Obj {
    this.only(v, path, ['name', 'secret'])
    const s = this.obj(v.secret, `${path}.secret`)
    this.only(s, `${path}.secret`, ['secretName', 'items', 'defaultMode'])
    return {
      name: this.str(v.name, `${path}.name`),
      secret: {
        secret: this.str(s.secretName, `${path}.secret.secretName`),
        ...(s.defaultMode !== undefined ? {defaultMode: this.int(s.defaultMode, `${path}.secret.defaultMode`)} : {}),
        items: this.arr(s.items, `${path}.secret.items`).map((x, i) => {
          const p = `${path}.secret.items[${i}]`
          const it = this.obj(x, p)
          this.only(it, p, ['key', 'path', 'mode'])
          return {
            path: this.str(it.path, `${p}.path`),
            version: this.str(it.key, `${p}.key`),
            ...(it.mode !== undefined ? {mode: this.int(it.mode, `${p}.mode`)} : {}),
          }
        }),
      },
    }
  }
}

/** Translate a parsed Knative Service object. Throws INVALID_INPUT listing every untranslatable field. */
export function knativeToV2(doc: unknown, file: string): TranslatedService {
  const t = new Translator()
  const root = t.obj(doc, '')
  if (root.apiVersion !== 'serving.knative.dev/v1' || root.kind !== 'Service') {
    throw new SafeDeployError(
      'INVALID_INPUT',
      `${file}: expected apiVersion serving.knative.dev/v1 and kind Service, got ${String(root.apiVersion)} ${String(root.kind)}`,
      {location: {file}},
    )
  }
  t.only(root, '', ['apiVersion', 'kind', 'metadata', 'spec', 'status'])
  const meta = t.obj(root.metadata, 'metadata')
  t.only(meta, 'metadata', ['name', 'namespace', 'labels', 'annotations', 'generation', 'resourceVersion', 'uid', 'creationTimestamp', 'selfLink'])
  const name = t.str(meta.name, 'metadata.name')
  if (!name) t.problems.push('metadata.name: required (the Cloud Run service name)')
  const labels = t.strMap(meta.labels, 'metadata.labels')
  const annotations = t.strMap(meta.annotations, 'metadata.annotations')
  const svc: V2Service = {binaryAuthorization: {useDefault: false}, template: {}}
  const region = labels['cloud.googleapis.com/location']
  delete labels['cloud.googleapis.com/location']
  if (Object.keys(labels).length) svc.labels = labels
  const keptAnnotations: Record<string, string> = {}
  for (const [k, v] of Object.entries(annotations)) {
    switch (k) {
      case BINAUTHZ_ANNOTATION:
        if (v !== 'default') t.problems.push(`metadata.annotations.${k}: only "default" is supported (got "${v}")`)
        svc.binaryAuthorization.useDefault = v === 'default'
        break
      case BREAKGLASS_ANNOTATION:
        svc.binaryAuthorization.breakglassJustification = v
        break
      case 'run.googleapis.com/launch-stage':
        svc.launchStage = v
        break
      case 'run.googleapis.com/description':
        svc.description = v
        break
      case 'run.googleapis.com/ingress': {
        const ing = INGRESS[v]
        if (!ing) t.problems.push(`metadata.annotations.${k}: unknown ingress "${v}"`)
        else svc.ingress = ing
        break
      }
      case 'run.googleapis.com/ingress-status':
      case 'serving.knative.dev/creator':
      case 'serving.knative.dev/lastModifier':
      case 'run.googleapis.com/operation-id':
        break
      default:
        if (k.startsWith('run.googleapis.com/') || k.startsWith('serving.knative.dev/') || k.startsWith('autoscaling.knative.dev/')) {
          t.problems.push(`metadata.annotations.${k}: not translated to the Cloud Run v2 API by safe-deploy`)
        } else keptAnnotations[k] = v
    }
  }
  if (Object.keys(keptAnnotations).length) svc.annotations = keptAnnotations
  const spec = t.obj(root.spec, 'spec')
  t.only(spec, 'spec', ['template', 'traffic'])
  const tpl = t.obj(spec.template, 'spec.template')
  t.only(tpl, 'spec.template', ['metadata', 'spec'])
  const tmeta = t.obj(tpl.metadata, 'spec.template.metadata')
  t.only(tmeta, 'spec.template.metadata', ['name', 'labels', 'annotations'])
  const template: Obj = {}
  if (tmeta.name !== undefined) template.revision = t.str(tmeta.name, 'spec.template.metadata.name')
  const tl = t.strMap(tmeta.labels, 'spec.template.metadata.labels')
  if (Object.keys(tl).length) template.labels = tl
  const scaling: Obj = {}
  for (const [k, v] of Object.entries(t.strMap(tmeta.annotations, 'spec.template.metadata.annotations'))) {
    const p = `spec.template.metadata.annotations.${k}`
    switch (k) {
      case 'autoscaling.knative.dev/maxScale':
        scaling.maxInstanceCount = t.int(v, p)
        break
      case 'autoscaling.knative.dev/minScale':
        scaling.minInstanceCount = t.int(v, p)
        break
      case 'run.googleapis.com/execution-environment': {
        const e = EXEC_ENV[v]
        if (!e) t.problems.push(`${p}: unknown execution environment "${v}"`)
        else template.executionEnvironment = e
        break
      }
      case 'run.googleapis.com/vpc-access-connector':
        template.vpcAccess = {...(template.vpcAccess as Obj | undefined), connector: v}
        break
      case 'run.googleapis.com/vpc-access-egress':
        template.vpcAccess = {
          ...(template.vpcAccess as Obj | undefined),
          egress:
            v === 'all-traffic'
              ? 'ALL_TRAFFIC'
              : v === 'private-ranges-only'
                ? 'PRIVATE_RANGES_ONLY'
                : (t.problems.push(`${p}: unknown egress "${v}"`), undefined),
        }
        break
      case 'run.googleapis.com/session-affinity':
        template.sessionAffinity = v === 'true'
        break
      default:
        t.problems.push(`${p}: not translated to the Cloud Run v2 API by safe-deploy`)
    }
  }
  if (Object.keys(scaling).length) template.scaling = scaling
  const tspec = t.obj(tpl.spec, 'spec.template.spec')
  t.only(tspec, 'spec.template.spec', ['containers', 'volumes', 'serviceAccountName', 'containerConcurrency', 'timeoutSeconds'])
  if (tspec.serviceAccountName !== undefined) template.serviceAccount = t.str(tspec.serviceAccountName, 'spec.template.spec.serviceAccountName')
  if (tspec.containerConcurrency !== undefined)
    template.maxInstanceRequestConcurrency = t.int(tspec.containerConcurrency, 'spec.template.spec.containerConcurrency')
  if (tspec.timeoutSeconds !== undefined) template.timeout = {seconds: t.int(tspec.timeoutSeconds, 'spec.template.spec.timeoutSeconds')}
  const containers = t.arr(tspec.containers, 'spec.template.spec.containers')
  if (containers.length === 0) t.problems.push('spec.template.spec.containers: at least one container is required')
  template.containers = containers.map((c, i) => t.container(t.obj(c, `spec.template.spec.containers[${i}]`), `spec.template.spec.containers[${i}]`))
  if (tspec.volumes !== undefined)
    template.volumes = t
      .arr(tspec.volumes, 'spec.template.spec.volumes')
      .map((v, i) => t.volume(t.obj(v, `spec.template.spec.volumes[${i}]`), `spec.template.spec.volumes[${i}]`))
  svc.template = template
  if (spec.traffic !== undefined) {
    svc.traffic = t.arr(spec.traffic, 'spec.traffic').map((x, i) => {
      const p = `spec.traffic[${i}]`
      const tr = t.obj(x, p)
      t.only(tr, p, ['percent', 'latestRevision', 'revisionName', 'tag'])
      const latest = tr.latestRevision === true
      return {
        type: latest ? 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' : 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION',
        ...(latest ? {} : {revision: t.str(tr.revisionName, `${p}.revisionName`)}),
        ...(tr.percent !== undefined ? {percent: t.int(tr.percent, `${p}.percent`)} : {}),
        ...(tr.tag !== undefined ? {tag: t.str(tr.tag, `${p}.tag`)} : {}),
      }
    })
  }
  if (t.problems.length > 0) {
    throw new SafeDeployError(
      'INVALID_INPUT',
      `${file}: cannot translate this Knative Service to the Cloud Run v2 API:\n${t.problems.map((p) => '  ' + p).join('\n')}`,
      {
        location: {file},
        hint: 'remove or change the fields listed, or deploy with `gcloud run services replace` after `safe-deploy pin` and `safe-deploy preflight --platform cloudrun`',
      },
    )
  }
  const ns = meta.namespace === undefined ? undefined : String(meta.namespace)
  return {serviceId: name as string, ...(ns && ns !== 'default' ? {project: ns} : {}), ...(region ? {region} : {}), service: svc}
}
