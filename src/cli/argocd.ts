/**
 * What `safe-deploy argocd generate` takes from Argo CD (README "Argo CD plugin"; Argo CD's CMP v2 contract): the
 * Application's plugin parameters (PARAM_<NAME>, only those set in the Application: announced defaults
 * are not sent) over its plugin env (ARGOCD_ENV_SAFE_DEPLOY_<NAME>), and the app directory's inputs.
 */
import {resolve, sep} from 'node:path'
import type {InputReader, ManifestInputs} from '../core/ports.js'
import {fileExists} from '../adapters/fs/files.js'

/** The parameters plugin.yaml announces, each also settable as ARGOCD_ENV_SAFE_DEPLOY_<NAME>. */
export const ARGOCD_PARAMETERS = ['profile', 'policy', 'cluster', 'project', 'manifests'] as const
export type ArgocdParameter = (typeof ARGOCD_PARAMETERS)[number]

/** A parameter set in the Application wins over its env entry; an empty value counts as unset. */
export function argocdParameters(env: NodeJS.ProcessEnv): Partial<Record<ArgocdParameter, string>> {
  const out: Partial<Record<ArgocdParameter, string>> = {}
  for (const name of ARGOCD_PARAMETERS) {
    const upper = name.toUpperCase()
    const value = env[`PARAM_${upper}`] || env[`ARGOCD_ENV_SAFE_DEPLOY_${upper}`]
    if (value) out[name] = value
  }
  return out
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']

/**
 * The manifests of the app: the `manifests` parameter (a directory or file, read recursively), else
 * the app directory built with kustomize when it has a kustomization, else the app directory.
 */
export function argocdInputs(manifests: string | undefined, cwd = process.cwd()): ManifestInputs {
  const dir = manifests ?? '.'
  const kustomization = KUSTOMIZATION_FILES.some((f) => fileExists(resolve(cwd, dir, f)))
  return kustomization ? {files: [], recursive: false, kustomizeDirs: [dir]} : {files: [dir], recursive: true, kustomizeDirs: []}
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
  return {read: async (inputs) => (await reader.read(inputs)).filter((f) => f.file === '-' || f.file.startsWith('kustomize:') || !inside(f.file))}
}
