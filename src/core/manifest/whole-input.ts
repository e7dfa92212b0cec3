/**
 * What kubectl refuses about a whole input before it applies anything, checked by every manifest
 * command so that nothing is pinned, evaluated or sent for an input kubectl would refuse:
 *
 *   - no object at all (an empty stdin, files of comments or empty documents only): kubectl says
 *     "no objects passed to apply";
 *   - an object whose metadata.namespace differs from the namespace given with -n: kubectl says
 *     `the namespace from the provided object "shop" does not match the namespace "payments".
 *     You must pass '--namespace=shop' to perform this operation.` (one error per object).
 */
import {SafeDeployError, formatLocation} from '../errors.js'
import {manifestObjects, type ManifestObject} from './objects.js'

/**
 * Built-in cluster-scoped kinds: kubectl skips the namespace check for them (its builder asks
 * discovery; these are the ones it answers for every cluster). Other kinds count as namespaced.
 */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'CSIDriver',
  'CSINode',
  'VolumeAttachment',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'APIService',
  'PodSecurityPolicy',
  'ComponentStatus',
  'FlowSchema',
  'PriorityLevelConfiguration',
  'CertificateSigningRequest',
])

export interface InputFileText {
  file: string
  text: string
}

/** Does the text hold at least one object? Text the object reader refuses counts as holding one (its error is reported where it is read). */
function holdsObjects(f: InputFileText): boolean {
  if (f.text.trim() === '') return false
  try {
    return manifestObjects(f.text, f.file).length > 0
  } catch {
    return true
  }
}

/** INVALID_INPUT when no input holds an object (kubectl: "no objects passed to apply"); undefined otherwise. */
export function noObjectsProblem(files: readonly InputFileText[]): SafeDeployError | undefined {
  if (files.length === 0 || files.some(holdsObjects)) return undefined
  const names = files.map((f) => (f.file === '-' ? '<stdin>' : f.file))
  const stdin = files.some((f) => f.file === '-')
  const only = files[0] as InputFileText
  const what =
    files.length > 1
      ? `no Kubernetes object in ${names.join(', ')}`
      : `${names[0]} ${only.text.trim() === '' ? 'is empty' : 'holds only comments or empty documents'}`
  return new SafeDeployError('INVALID_INPUT', `no objects passed: ${what}`, {
    hint: stdin
      ? 'pipe the manifests in, e.g. `helm template ./chart | safe-deploy apply -f -`; an empty stdin usually means the command before the pipe failed'
      : 'check that the files hold the rendered manifests',
    location: {file: files[0]?.file ?? '-'},
  })
}

/**
 * INVALID_INPUT naming every object whose metadata.namespace is not `namespace` (the -n given), as
 * kubectl refuses them; cluster-scoped kinds and objects without a namespace are fine. One error for all.
 */
export function namespaceMismatch(objects: readonly ManifestObject[], namespace: string): SafeDeployError | undefined {
  const bad = objects.filter((o) => o.namespace !== undefined && o.namespace !== namespace && !CLUSTER_SCOPED_KINDS.has(o.kind))
  if (bad.length === 0) return undefined
  const theirs = [...new Set(bad.map((o) => o.namespace as string))]
  const which = bad.map((o) => `${formatLocation({file: o.file ?? '-', document: o.document ?? 0})}${o.kind}/${o.name} (namespace ${o.namespace})`)
  const head =
    theirs.length === 1
      ? `the namespace from the provided object${bad.length > 1 ? 's' : ''} "${theirs[0]}" does not match the namespace "${namespace}"`
      : `the namespaces from the provided objects (${theirs.map((n) => `"${n}"`).join(', ')}) do not match the namespace "${namespace}"`
  return new SafeDeployError('INVALID_INPUT', `${head}: ${which.join('; ')}`, {
    hint:
      (theirs.length === 1
        ? `You must pass '--namespace=${theirs[0]}' to perform this operation (kubectl refuses it too)`
        : 'deploy the objects of each namespace with its own --namespace (kubectl refuses the mix too)') +
      `, or remove metadata.namespace from these objects to deploy them to "${namespace}"; nothing was sent`,
    location: {file: bad[0]?.file ?? '-', document: bad[0]?.document ?? 0},
  })
}

/** namespaceMismatch over the objects of every input file (read with the reader apply sends with). */
export function inputNamespaceMismatch(files: readonly InputFileText[], namespace: string): SafeDeployError | undefined {
  const objects: ManifestObject[] = []
  for (const f of files) {
    try {
      objects.push(...manifestObjects(f.text, f.file))
    } catch {
      // Text the object reader refuses is reported where apply reads it; nothing to compare here.
    }
  }
  return namespaceMismatch(objects, namespace)
}
