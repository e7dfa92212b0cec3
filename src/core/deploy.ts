/**
 * Every outcome of a deploy, decided in one place: `apply` (kubectl or the API) and Cloud Run's
 * `run deploy` / `run replace` gather the facts (the pre-flight verdict, the dry-run mode,
 * break-glass, the cluster's enforcement, then the confirmation and the applier's result as they
 * happen) and ask decideDeploy what comes next and what the audit log records. The app layer's
 * deploy gate (src/app/deploy-gate.ts) runs these steps; nothing here does I/O.
 *
 * The order is the safety argument: a denial blocks before anything else; an enforcement that is
 * required but off, or could not be checked (the API failed, or the cluster is not identified),
 * blocks before the confirmation; a live deploy is confirmed before the "started" record; only then
 * is anything sent.
 */
import {EXIT, type ErrorCode, type ExitCode} from './errors.js'
import type {Verdict} from './policy/evaluate.js'

export type AuditOutcome = 'started' | 'applied' | 'blocked' | 'failed' | 'dry-run' | 'aborted'

/** What is known of the cluster's Binary Authorization enforcement (GKE only). */
export type Enforcement =
  | {state: 'not-checked'}
  | {state: 'enforced'; cluster: string; mode: string}
  | {state: 'off'; cluster: string; mode: string}
  | {state: 'unknown'; detail: string}
  /** The cluster the deploy goes to is not named (by a gke_… context, or --cluster with --project): nothing to ask. */
  | {state: 'unidentified'; reason: string}

/** A GKE cluster, as the enforcement check reads it through the GKE API. */
export interface GkeClusterRef {
  project: string
  /** Zone or region. */
  location: string
  name: string
}

/** Which cluster's enforcement to read: named by the kube context or by --cluster/--project; or why none is. */
export type EnforcementTarget = {cluster: GkeClusterRef; key: string; via: 'context' | 'flags'} | {unidentified: string}

/**
 * The cluster whose enforcement a deploy must check. The kube context's own GKE cluster comes first
 * (gke_PROJECT_LOCATION_NAME: it is where the objects are sent); otherwise --cluster LOCATION.NAME
 * with --project (flags or profile) name it, e.g. for a context renamed or reached through a
 * gateway. Anything less leaves the cluster unidentified, with the reason.
 */
export function enforcementTarget(o: {
  context?: string | undefined
  contextCluster?: GkeClusterRef | undefined
  cluster?: string | undefined
  project?: string | undefined
}): EnforcementTarget {
  if (o.contextCluster) {
    const c = o.contextCluster
    return {cluster: c, key: `${c.location}.${c.name}`, via: 'context'}
  }
  const notGke = o.context === undefined ? 'no kube context' : `the kube context "${o.context}" is not named gke_PROJECT_LOCATION_NAME`
  if (o.cluster === undefined) {
    return {
      unidentified:
        o.project === undefined
          ? `${notGke}, and no --cluster/--project names the cluster`
          : `${notGke}, and --project ${o.project} needs --cluster LOCATION.NAME to name the GKE cluster`,
    }
  }
  const dot = o.cluster.indexOf('.')
  if (dot <= 0 || dot === o.cluster.length - 1) return {unidentified: `--cluster ${o.cluster} is not LOCATION.NAME`}
  if (o.project === undefined) return {unidentified: `--cluster ${o.cluster} needs --project PROJECT to name the GKE cluster`}
  const cluster = {project: o.project, location: o.cluster.slice(0, dot), name: o.cluster.slice(dot + 1)}
  return {cluster, key: o.cluster, via: 'flags'}
}

/** The confirmation, once asked: given, declined, or impossible (no terminal, CI without --yes). */
export type Confirmation = {answer: 'granted'} | {answer: 'declined'; message?: string} | {answer: 'unavailable'; message: string; hint?: string}

export interface DeployFacts {
  platform: 'gke' | 'cloudrun'
  verdict: Verdict
  /** kubectl's `none` (live) / `client` / `server`, or Cloud Run's validate-only request. */
  mode: 'none' | 'client' | 'server' | 'validate-only'
  /** The break-glass justification, when given. */
  breakGlass?: string
  requireEnforcement: boolean
  enforcement: Enforcement
  /** Known once asked (only live deploys are confirmed). */
  confirmation?: Confirmation
  /** Known once the applier returned or threw. */
  applied?: {ok: boolean; detail: string}
}

export interface AuditEntry {
  outcome: AuditOutcome
  detail: string
}

export type DeployStep =
  /** Ask for confirmation, then decide again with `confirmation`. */
  | {next: 'confirm'}
  /** Write `record` ("started"), send, then decide again with `applied`. */
  | {next: 'apply'; record: AuditEntry}
  /**
   * Stop: write `record`; end with `error` when given (thrown), or `rethrow` the applier's error;
   * otherwise return `outcome` (a denial returns "blocked" and exits by its verdict).
   */
  | {
      next: 'stop'
      outcome: 'blocked' | 'aborted' | 'applied' | 'dry-run' | 'failed'
      record: AuditEntry
      error?: {code: ErrorCode; message: string; hint?: string}
      rethrow?: true
    }

export interface DeployDecision {
  /** Said to the user before anything else happens (each once; the same on every call). */
  warnings: string[]
  step: DeployStep
}

const ENABLE_HINT = 'enable it: gcloud container clusters update CLUSTER --binauthz-evaluation-mode=PROJECT_SINGLETON_POLICY_ENFORCE'
const IDENTIFY_HINT =
  'name the cluster the context points at: --cluster LOCATION.NAME with --project PROJECT (flags, or cluster and project in the profile), ' +
  'or deploy through the gke_PROJECT_LOCATION_NAME context that `gcloud container clusters get-credentials` writes'

export function decideDeploy(f: DeployFacts): DeployDecision {
  const warnings: string[] = []
  const nothing = f.platform === 'gke' ? 'nothing applied' : 'nothing deployed'
  if (f.verdict === 'DENY') {
    return {warnings, step: {next: 'stop', outcome: 'blocked', record: {outcome: 'blocked', detail: `denied by policy; ${nothing}`}}}
  }
  if (f.verdict === 'DRYRUN_DENY') {
    warnings.push(
      f.platform === 'gke'
        ? 'DRY-RUN DENIAL: Binary Authorization would deny this deploy, but the rule is in dry-run mode; deploying anyway and recording it.'
        : 'DRY-RUN DENIAL: Binary Authorization would deny this revision, but the default rule is in dry-run mode; deploying anyway.',
    )
  }
  if (f.breakGlass !== undefined) {
    warnings.push(
      f.platform === 'gke'
        ? `BREAK-GLASS: deploying with alpha.image-policy.k8s.io/break-glass ("${f.breakGlass}")`
        : `BREAK-GLASS: deploying with breakglassJustification "${f.breakGlass}"`,
    )
  }

  const e = f.enforcement
  if (e.state === 'off') {
    const message = `Binary Authorization enforcement is OFF on cluster ${e.cluster} (evaluation mode ${e.mode}): the cluster admits any image`
    if (f.requireEnforcement) {
      return {
        warnings,
        step: {next: 'stop', outcome: 'blocked', record: {outcome: 'blocked', detail: message}, error: {code: 'DENIED', message, hint: ENABLE_HINT}},
      }
    }
    warnings.push(message)
  } else if (e.state === 'unknown') {
    if (f.requireEnforcement) {
      return {
        warnings,
        step: {
          next: 'stop',
          outcome: 'blocked',
          record: {outcome: 'blocked', detail: `could not verify enforcement: ${e.detail}`},
          error: {code: 'API_ERROR', message: `could not verify that Binary Authorization is enforced: ${e.detail}`},
        },
      }
    }
    warnings.push(`could not verify the cluster's Binary Authorization enforcement: ${e.detail}`)
  } else if (e.state === 'unidentified' && f.requireEnforcement) {
    // Not required: nothing to say (as for a cluster that is not GKE).
    return {
      warnings,
      step: {
        next: 'stop',
        outcome: 'blocked',
        record: {outcome: 'blocked', detail: `could not verify enforcement: ${e.reason}`},
        error: {code: 'API_ERROR', message: `cannot verify that Binary Authorization is enforced: ${e.reason}`, hint: IDENTIFY_HINT},
      },
    }
  }

  const live = f.mode === 'none'
  if (live && f.confirmation === undefined) return {warnings, step: {next: 'confirm'}}
  const c = f.confirmation
  if (live && c && c.answer !== 'granted') {
    const message = c.message ?? 'aborted: nothing was deployed'
    return {
      warnings,
      step: {
        next: 'stop',
        outcome: 'aborted',
        record: {outcome: 'aborted', detail: message},
        error: c.answer === 'declined' ? {code: 'ABORTED', message} : {code: 'CONFIRMATION_REQUIRED', message, ...(c.hint === undefined ? {} : {hint: c.hint})},
      },
    }
  }

  if (f.applied === undefined) {
    const detail = f.platform === 'gke' ? `applying (${live ? 'live' : 'dry-run ' + f.mode})` : live ? 'deploying' : 'validate-only request'
    return {warnings, step: {next: 'apply', record: {outcome: 'started', detail}}}
  }
  if (!f.applied.ok) return {warnings, step: {next: 'stop', outcome: 'failed', record: {outcome: 'failed', detail: f.applied.detail}, rethrow: true}}
  const outcome = live ? 'applied' : 'dry-run'
  return {warnings, step: {next: 'stop', outcome, record: {outcome, detail: f.applied.detail}}}
}

/**
 * kubectl flags that must not come after `--` on `apply`: they would add inputs safe-deploy never
 * read (`-f`, `-k`, `-R`), send to another cluster or namespace than the one evaluated (`--context`,
 * `--kubeconfig`, `--cluster`, `-s`/`--server`, `-n`/`--namespace`), or make kubectl do something
 * else than the audit record says (`--dry-run`, `-o`/`--output`, whose output safe-deploy reads).
 */
const REFUSED_LONG = ['filename', 'kustomize', 'recursive', 'context', 'kubeconfig', 'cluster', 'server', 'namespace', 'dry-run', 'output']
const REFUSED_SHORT = new Set(['f', 'k', 'R', 'n', 's', 'o'])
const SAFE_DEPLOY_FLAG: Readonly<Record<string, string>> = {
  f: '-f',
  filename: '-f',
  k: '-k',
  kustomize: '-k',
  R: '-R',
  recursive: '-R',
  context: '--context',
  kubeconfig: '--kubeconfig',
  n: '-n',
  namespace: '-n',
  'dry-run': '--dry-run',
  cluster: '--context',
  s: '--context',
  server: '--context',
  o: '--json',
  output: '--json',
}

/** The first argument after `--` that kubectl must not get, with the safe-deploy flag to use instead. */
export function refusedKubectlArg(args: readonly string[]): {arg: string; instead: string} | undefined {
  for (const arg of args) {
    const long = /^--([^=]+)/.exec(arg)
    if (long) {
      const name = long[1] as string
      if (REFUSED_LONG.includes(name)) return {arg, instead: SAFE_DEPLOY_FLAG[name] as string}
      continue
    }
    // pflag short flags: "-Rf x", "-fFILE", "-n=ns" — any refused letter before a value counts.
    const short = /^-([^-=][^=]*)/.exec(arg)
    if (short) {
      const letter = [...(short[1] as string)].find((c) => REFUSED_SHORT.has(c))
      if (letter) return {arg, instead: SAFE_DEPLOY_FLAG[letter] as string}
    }
  }
  return undefined
}

/** A pre-flight verdict as an exit code (preflight, and CD systems that read only the code). */
export function exitForVerdict(v: Verdict): ExitCode {
  switch (v) {
    case 'ALLOW':
    case 'ALLOW_BREAKGLASS':
      return EXIT.OK
    case 'DENY':
      return EXIT.DENIED
    case 'DRYRUN_DENY':
      return EXIT.DRYRUN_DENIED
  }
}
