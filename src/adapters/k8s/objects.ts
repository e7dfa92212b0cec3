/** Split a (pinned) multi-document YAML stream into Kubernetes objects, for both appliers. */
import {parseAllDocuments} from 'yaml'
import {SafeDeployError} from '../../core/errors.js'

export interface ManifestObject {
  apiVersion: string
  kind: string
  name: string
  /** metadata.namespace as written, if any. */
  namespace?: string
  /** The whole object (plain JSON). */
  body: Record<string, unknown>
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Every object in the stream (`kind: List` / `*List` items expanded), in order; empty documents skipped. */
export function parseObjects(yamlText: string): ManifestObject[] {
  const out: ManifestObject[] = []
  const docs = parseAllDocuments(yamlText)
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      throw new SafeDeployError('INVALID_INPUT', `document ${index + 1} is not valid YAML: ${doc.errors[0]!.message}`, {location: {document: index}})
    }
    const value: unknown = doc.toJSON()
    if (value === null || value === undefined) return
    const push = (v: unknown): void => {
      if (!isRecord(v)) throw new SafeDeployError('INVALID_INPUT', `document ${index + 1}: expected a Kubernetes object, got ${Array.isArray(v) ? 'a list' : typeof v}`, {location: {document: index}})
      if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) {
        for (const item of v.items) push(item)
        return
      }
      const meta = isRecord(v.metadata) ? v.metadata : {}
      if (typeof v.apiVersion !== 'string' || typeof v.kind !== 'string' || typeof meta.name !== 'string' || meta.name === '') {
        throw new SafeDeployError('INVALID_INPUT', `document ${index + 1}: expected apiVersion, kind and metadata.name, got ${JSON.stringify({apiVersion: v.apiVersion, kind: v.kind, name: meta.name})}`, {location: {document: index}})
      }
      out.push({
        apiVersion: v.apiVersion, kind: v.kind, name: meta.name,
        ...(typeof meta.namespace === 'string' && meta.namespace !== '' ? {namespace: meta.namespace} : {}),
        body: v,
      })
    }
    push(value)
  })
  return out
}

/** The API group of an apiVersion: 'apps/v1' → 'apps', 'v1' → ''. */
export function apiGroup(apiVersion: string): string {
  const i = apiVersion.indexOf('/')
  return i < 0 ? '' : apiVersion.slice(0, i)
}

/** Built-in cluster-scoped kinds (kubectl's output does not say; used only to leave `namespace` out of results). */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition',
  'StorageClass', 'PriorityClass', 'IngressClass', 'RuntimeClass', 'CSIDriver', 'CSINode', 'VolumeAttachment',
  'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding', 'APIService', 'PodSecurityPolicy', 'ComponentStatus', 'FlowSchema',
  'PriorityLevelConfiguration', 'CertificateSigningRequest',
])
