/**
 * The result shape shared by both appliers (kubectl and client-node server-side apply), so the
 * composition root can swap one for the other.
 */

/** What happened to one object. kubectl's own words where it reports them; `pruned` for --prune. */
export type ApplyAction = 'created' | 'configured' | 'unchanged' | 'serverside-applied' | 'pruned' | (string & Record<never, never>)

export type DryRunMode = 'none' | 'client' | 'server'

export interface AppliedObject {
  /** The manifest's kind, e.g. Deployment (for objects not in the input, e.g. pruned ones: kubectl's `deployment.apps`). */
  kind: string
  name: string
  /** Absent for cluster-scoped objects (and when it could not be known). */
  namespace?: string
  action: ApplyAction
}

export interface ApplierResult {
  /** One entry per object reported, in the order they were applied. */
  objects: AppliedObject[]
  /** Echo of the dry-run mode: when not 'none', nothing was stored. */
  dryRun: DryRunMode
  /** kubectl's stdout/stderr (the API applier puts its human summary in stdout, warnings in stderr). */
  stdout: string
  stderr: string
}

/** Environment lookups (KUBECONFIG, HOME); defaults to process.env. */
export type Env = Readonly<Record<string, string | undefined>>
