/**
 * Candidates for shell completion of --context (kube contexts) and --profile (profiles of the config
 * file), printed by the hidden `safe-deploy __complete` command. The installed @oclif/core has no
 * per-flag completion hook and @oclif/plugin-autocomplete completes flag values from static `options`
 * only, so the shell snippet in README "Shell completion" asks this command instead.
 */
import {loadKubeconfig} from '../adapters/k8s/kubeconfig.js'
import {loadConfig} from './config.js'

export const COMPLETION_KINDS = ['contexts', 'profiles'] as const
export type CompletionKind = (typeof COMPLETION_KINDS)[number]

export interface CompletionSources {
  /** --kubeconfig; else KUBECONFIG, else ~/.kube/config (the same files every command reads). */
  kubeconfig?: string | undefined
  /** --config; else ./.safe-deploy.yaml when present. */
  config?: string | undefined
  cwd?: string
  env?: NodeJS.ProcessEnv
}

/** The names, in the files' order: contexts merged as kubectl merges them (the first file wins), profiles as written. */
export function completionCandidates(kind: CompletionKind, s: CompletionSources = {}): string[] {
  if (kind === 'contexts')
    return loadKubeconfig({...(s.kubeconfig !== undefined ? {kubeconfig: s.kubeconfig} : {}), env: s.env ?? process.env})
      .contexts.map((c) => c.name)
      .filter((n): n is string => typeof n === 'string')
  return Object.keys(loadConfig(s.config, s.cwd ?? process.cwd()).profiles)
}
