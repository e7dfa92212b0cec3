/**
 * `kubectl apply -f -` runner: an argument array (never a shell), the pinned YAML on stdin.
 *
 * Reporting: kubectl's default output, one line per object — `deployment.apps/web created`,
 * `… configured`, `… unchanged`, `… serverside-applied`, `… pruned`, with ` (dry run)` or
 * ` (server dry run)` appended in dry runs. `-o name` drops the action and `-o json` prints the
 * resulting objects (no action either), so the default output is the only one that says
 * created/configured/unchanged. Lines are matched back to the input documents by kind, group and
 * name to report the manifest's Kind and namespace (kubectl's line carries neither).
 *
 * What kubectl 1.32 reports (observed): client-side apply → created / configured / unchanged
 * (unchanged when the three-way patch is empty: no PATCH is sent at all); `--server-side` →
 * always serverside-applied; `--dry-run=client` → created for missing objects and *configured for
 * every existing one* (no patch is computed); `--dry-run=server` → created/configured/unchanged.
 */
import {spawn} from 'node:child_process'
import {SafeDeployError} from '../../core/errors.js'
import {redact} from '../../core/redact.js'
import {resolveKubeContext} from './kubeconfig.js'
import {kubectlInput} from '../../core/manifest/objects.js'
import {CLUSTER_SCOPED_KINDS, apiGroup, type ManifestObject} from './objects.js'
import type {AppliedObject, ApplierResult, DryRunMode, Env} from './types.js'

export interface KubectlApplyOptions {
  kubeconfig?: string
  context?: string
  /** Passed as --namespace: the namespace of objects that name none. */
  namespace?: string
  dryRun: DryRunMode
  serverSide: boolean
  /** --field-manager (kubectl's default: kubectl-client-side-apply, or kubectl with --server-side). */
  fieldManager?: string
  /** --force-conflicts (server-side apply only). */
  forceConflicts?: boolean
  /**
   * --prune -l SELECTOR. Note kubectl's semantics: `-l` also filters the input, so objects in the
   * stream that do not carry the labels are skipped, not applied.
   */
  prune?: {selector: string}
  /** Appended verbatim after our flags (e.g. --cache-dir, --prune-allowlist, --request-timeout). */
  extraArgs: string[]
  /** Default: `kubectl` on PATH. */
  kubectlPath?: string
  /** Child environment; default process.env. */
  env?: Env
  /** Kill kubectl after this long (ms). Default: no limit. */
  timeoutMs?: number
}

interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function run(file: string, args: readonly string[], input: string | undefined, env: Env, timeoutMs?: number): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, {env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe']})
    // Our own timer, cleared on every outcome (spawn's `timeout` option leaks its timer when the spawn fails).
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), timeoutMs)
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolvePromise({code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8')})
    })
    child.stdin.on('error', () => undefined) // EPIPE when kubectl exits before reading stdin
    child.stdin.end(input ?? '')
  })
}

/** The argv for `kubectl apply` (exported for tests and `--explain`-style output). */
export function kubectlApplyArgs(opts: KubectlApplyOptions): string[] {
  const args = ['apply', '-f', '-']
  if (opts.kubeconfig !== undefined) args.push('--kubeconfig', opts.kubeconfig)
  if (opts.context !== undefined) args.push('--context', opts.context)
  if (opts.namespace !== undefined) args.push('--namespace', opts.namespace)
  if (opts.dryRun !== 'none') args.push(`--dry-run=${opts.dryRun}`)
  if (opts.serverSide) args.push('--server-side')
  if (opts.fieldManager !== undefined) args.push(`--field-manager=${opts.fieldManager}`)
  if (opts.forceConflicts === true) {
    if (!opts.serverSide) throw new SafeDeployError('USAGE', 'force-conflicts needs server-side apply', {hint: 'add --server-side'})
    args.push('--force-conflicts')
  }
  if (opts.prune !== undefined) args.push('--prune', '-l', opts.prune.selector)
  args.push(...opts.extraArgs)
  return args
}

const LINE = /^(?<type>[^\s/]+)\/(?<name>\S+) (?<action>[a-z][a-z-]*)(?: \((?:server )?dry run\))?$/

/** Parse kubectl apply's default output into objects, matched back to the input documents. */
export function parseApplyOutput(stdout: string, inputs: readonly ManifestObject[], defaultNamespace: string | undefined): AppliedObject[] {
  const used = new Set<number>()
  const out: AppliedObject[] = []
  for (const raw of stdout.split('\n')) {
    const line = raw.trim()
    const m = LINE.exec(line)
    if (!m?.groups) continue
    const {type, name, action} = m.groups as {type: string; name: string; action: string}
    const dot = type.indexOf('.')
    const kindLower = dot < 0 ? type : type.slice(0, dot)
    const group = dot < 0 ? '' : type.slice(dot + 1)
    const idx = inputs.findIndex((o, i) => !used.has(i) && o.name === name && o.kind.toLowerCase() === kindLower && apiGroup(o.apiVersion) === group)
    if (idx >= 0) {
      used.add(idx)
      const o = inputs[idx]!
      const ns = CLUSTER_SCOPED_KINDS.has(o.kind) ? undefined : (o.namespace ?? defaultNamespace)
      out.push({kind: o.kind, name, ...(ns === undefined ? {} : {namespace: ns}), action})
    } else {
      out.push({kind: type, name, action})
    }
  }
  return out
}

export class KubectlApplier {
  /**
   * Run `kubectl apply -f -` with the objects on stdin, serialized by kubectlInput (a JSON List):
   * kubectl never reads the manifest text, only what was evaluated. Non-zero exit → DEPLOY_FAILED
   * carrying kubectl's stderr.
   */
  async apply(inputs: readonly ManifestObject[], opts: KubectlApplyOptions): Promise<ApplierResult> {
    const args = kubectlApplyArgs(opts)
    const env = opts.env ?? process.env
    const kubectl = opts.kubectlPath ?? 'kubectl'
    let res: RunResult
    try {
      res = await run(kubectl, args, kubectlInput(inputs), env, opts.timeoutMs)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new SafeDeployError('DEPLOY_FAILED', code === 'ENOENT' ? `kubectl not found (${kubectl})` : `could not run ${kubectl}: ${(err as Error).message}`, {
        cause: err,
        hint: 'install kubectl (or point kubectlPath at it), or deploy with the API applier',
      })
    }
    let defaultNamespace = opts.namespace
    if (defaultNamespace === undefined) {
      try {
        defaultNamespace = resolveKubeContext({
          ...(opts.kubeconfig === undefined ? {} : {kubeconfig: opts.kubeconfig}),
          ...(opts.context === undefined ? {} : {context: opts.context}),
          env,
        }).namespace
      } catch {
        defaultNamespace = undefined // in-cluster config or the like: kubectl knew, we do not
      }
    }
    const objects = parseApplyOutput(res.stdout, inputs, defaultNamespace)
    if (res.code !== 0) {
      const why = res.signal !== null ? `was killed (${res.signal})` : `exited with status ${res.code}`
      const stderr = redact(res.stderr.trim())
      const done = objects.length > 0 ? ` Applied before the failure: ${objects.map((o) => `${o.kind}/${o.name} ${o.action}`).join(', ')}.` : ''
      throw new SafeDeployError('DEPLOY_FAILED', `kubectl apply ${why}: ${stderr === '' ? '(no error output)' : stderr}${done}`, {
        hint: 'check the error above (permissions, admission/Binary Authorization, connectivity); nothing is rolled back automatically',
      })
    }
    return {objects, dryRun: opts.dryRun, stdout: res.stdout, stderr: res.stderr}
  }
}

/** Whether a kubectl binary runs (`kubectl version --client`). */
export async function kubectlAvailable(kubectlPath = 'kubectl', env: Env = process.env): Promise<boolean> {
  try {
    const res = await run(kubectlPath, ['version', '--client'], undefined, env, 15_000)
    return res.code === 0
  } catch {
    return false
  }
}
