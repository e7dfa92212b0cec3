/** Helpers both appliers share. The objects themselves come from core (manifestObjects). */
export type {ManifestObject} from '../../core/manifest/objects.js'

/** The API group of an apiVersion: 'apps/v1' → 'apps', 'v1' → ''. */
export function apiGroup(apiVersion: string): string {
  const i = apiVersion.indexOf('/')
  return i < 0 ? '' : apiVersion.slice(0, i)
}

/** Built-in cluster-scoped kinds (kubectl's output does not say; used only to leave `namespace` out of results). */
export {CLUSTER_SCOPED_KINDS} from '../../core/manifest/whole-input.js'
