/**
 * What `safe-deploy argocd generate` takes from Argo CD (README "Argo CD plugin"; Argo CD's CMP v2 contract): the
 * Application's plugin parameters (PARAM_<NAME>, only those set in the Application: announced defaults
 * are not sent) over its plugin env (ARGOCD_ENV_SAFE_DEPLOY_<NAME>), its build environment (ARGOCD_APP_NAME,
 * ARGOCD_APP_NAMESPACE, KUBE_VERSION, KUBE_API_VERSIONS) and the app directory's inputs.
 */
import {basename, join, resolve, sep} from 'node:path'
import type {HelmChartInput, InputReader, ManifestInputs} from '../core/ports.js'
import {SafeDeployError} from '../core/errors.js'
import {commaList} from '../core/lists.js'
import {fileExists} from '../adapters/fs/files.js'

/** The parameters plugin.yaml announces, each also settable as ARGOCD_ENV_SAFE_DEPLOY_<NAME>. */
export const ARGOCD_PARAMETERS = ['profile', 'policy', 'cluster', 'project', 'manifests', 'values'] as const
export type ArgocdParameter = (typeof ARGOCD_PARAMETERS)[number]

/**
 * A parameter set in the Application wins over its env entry; an empty value counts as unset. An array
 * parameter (`values: [a.yaml, b.yaml]`) arrives as PARAM_<NAME>_0, PARAM_<NAME>_1, …: it is joined with commas,
 * as the env spelling writes a list.
 */
export function argocdParameters(env: NodeJS.ProcessEnv): Partial<Record<ArgocdParameter, string>> {
  const out: Partial<Record<ArgocdParameter, string>> = {}
  for (const name of ARGOCD_PARAMETERS) {
    const upper = name.toUpperCase()
    const items: string[] = []
    for (let i = 0; env[`PARAM_${upper}_${i}`] !== undefined; i++) items.push(env[`PARAM_${upper}_${i}`] as string)
    const value = items.join(',') || env[`PARAM_${upper}`] || env[`ARGOCD_ENV_SAFE_DEPLOY_${upper}`]
    if (value) out[name] = value
  }
  return out
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']

/**
 * The manifests of the app, as Argo CD picks a source type: the `manifests` directory (default the app
 * directory) built with kustomize when it has a kustomization, else rendered with `helm template` when it
 * has a Chart.yaml, else every manifest in it and below it. Argo CD's own discovery puts a kustomization
 * before a chart in the same directory; so does this.
 */
export function argocdInputs(params: Partial<Record<ArgocdParameter, string>>, env: NodeJS.ProcessEnv, cwd = process.cwd()): ManifestInputs {
  const dir = params.manifests ?? '.'
  const none = {files: [], recursive: false, kustomizeDirs: []}
  if (KUSTOMIZATION_FILES.some((f) => fileExists(resolve(cwd, dir, f)))) return {...none, kustomizeDirs: [dir]}
  if (fileExists(resolve(cwd, dir, 'Chart.yaml'))) return {...none, helmCharts: [helmChart(dir, params.values, env, cwd)]}
  return {files: [dir], recursive: true, kustomizeDirs: []}
}

/**
 * The `helm template` run Argo CD would make for this app: the release is the Application's name, the
 * namespace its destination, the version and API versions the destination cluster's. Values files are
 * relative to the chart directory (as an Application's `helm.valueFiles` are); a URL is refused, since
 * helm would fetch it and what was fetched could differ from what a reviewer read.
 */
function helmChart(dir: string, values: string | undefined, env: NodeJS.ProcessEnv, cwd: string): HelmChartInput {
  const valuesFiles = commaList(values)
  for (const v of valuesFiles) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v))
      throw new SafeDeployError('INVALID_INPUT', `values file ${v}: a URL, not a file of the app`, {
        hint: 'commit the values file beside the chart and name it relative to the chart directory',
      })
  }
  return {
    dir,
    release: env.ARGOCD_APP_NAME || basename(resolve(cwd, dir)),
    namespace: env.ARGOCD_APP_NAMESPACE || undefined,
    valuesFiles: valuesFiles.map((v) => join(dir, v)),
    kubeVersion: env.KUBE_VERSION || undefined,
    apiVersions: commaList(env.KUBE_API_VERSIONS),
  }
}

/**
 * The app directory holds safe-deploy's own files beside the manifests (the config, the policy, the
 * attestor and attestation directories): read as manifests they would be printed to Argo CD, which
 * rejects an object without a kind. They are left out of the input, by resolved path.
 */
export function excludingReader(reader: InputReader, paths: ReadonlyArray<string | undefined>): InputReader {
  const excluded = paths.filter((p): p is string => p !== undefined).map((p) => resolve(p))
  const inside = (file: string): boolean => {
    const abs = resolve(file)
    return excluded.some((e) => abs === e || abs.startsWith(e + sep))
  }
  const rendered = (file: string): boolean => file.startsWith('kustomize:') || file.startsWith('helm:')
  return {read: async (inputs) => (await reader.read(inputs)).filter((f) => f.file === '-' || rendered(f.file) || !inside(f.file))}
}
