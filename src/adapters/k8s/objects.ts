/** Helpers both appliers share. The objects themselves come from core (manifestObjects). */
export type {ManifestObject} from '../../core/manifest/objects.js'

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

/** Mask bearer tokens and similar secrets that might appear in a message. */
export function redactSecrets(text: string): string {
  return text
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1<redacted>')
    .replace(/(--token[= ]\s*)\S+/g, '$1<redacted>')
    .replace(/("?(?:token|password|client-key-data|id-token|refresh-token|access-token)"?\s*[:=]\s*"?)[^\s",}]+/gi, '$1<redacted>')
}
