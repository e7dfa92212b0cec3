/** The appliers behind apply's port: kubectl (the default when on PATH) or server-side apply through the API. */
import type {ManifestObject} from './objects.js'
import type {AppliedObject, DryRunMode} from './types.js'
import {KubectlApplier, kubectlAvailable} from './kubectl.js'

/** kubectl (the default when on PATH) or server-side apply through the Kubernetes API. */
export function kubeApplier(
  kube: {kubeconfig?: string; context?: string; namespace?: string},
  mode: DryRunMode,
  o: {serverSide: boolean; fieldManager?: string | undefined},
) {
  return async (
    choice: 'kubectl' | 'api' | undefined,
    objects: ManifestObject[],
    extra: {extraArgs: string[]; prune?: {selector: string} | undefined},
  ): Promise<{applier: 'kubectl' | 'api'; objects: AppliedObject[]}> => {
    const applier: 'kubectl' | 'api' = choice === 'api' || (choice === undefined && !(await kubectlAvailable())) ? 'api' : 'kubectl'
    const common = {
      ...(kube.kubeconfig ? {kubeconfig: kube.kubeconfig} : {}),
      ...(kube.context ? {context: kube.context} : {}),
      ...(kube.namespace ? {namespace: kube.namespace} : {}),
      dryRun: mode,
      serverSide: o.serverSide,
      ...(o.fieldManager ? {fieldManager: o.fieldManager} : {}),
    }
    if (applier === 'kubectl') {
      return {
        applier,
        objects: (await new KubectlApplier().apply(objects, {...common, ...(extra.prune ? {prune: extra.prune} : {}), extraArgs: extra.extraArgs})).objects,
      }
    }
    const {ApiApplier} = await import('./api.js')
    return {applier, objects: (await new ApiApplier().apply(objects, common)).objects}
  }
}
