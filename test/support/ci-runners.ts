/**
 * Run generated CI files as their runners would, on this machine: GitHub Actions jobs (`run:` steps
 * through `bash -e`, `if:` conditions, $GITHUB_ENV between steps), GitLab CI pipelines (jobs by
 * stage, `rules:`, `extends:`, before_script + script in one `set -eo pipefail` shell) and Cloud
 * Build (each step's entrypoint and args after substitution). What cannot run here is replaced by a
 * stand-in the caller gives: GitHub `uses:` actions by name (safe-deploy's own action runs for real,
 * through compositeAction); commands (gcloud, curl, apt-get) by executables earlier on PATH. Nothing else is interpreted: an expression, an action or a
 * substitution the runner does not know fails the run, so a template cannot pass by being skipped.
 */
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {parse as parseYaml} from 'yaml'

export interface StepRun {
  name: string
  /** false when its condition (GitHub `if:`, a failed earlier step) skipped it. */
  ran: boolean
  code: number
  output: string
}

export interface JobRun {
  ok: boolean
  steps: StepRun[]
  /** Each step's outputs by its id ($GITHUB_OUTPUT of a run step, what an action stand-in returned). */
  outputs: Record<string, Record<string, string>>
}

/** Run a command line and capture its exit status and merged output. */
export function exec(
  file: string,
  args: string[],
  opts: {cwd: string; env: Record<string, string>; timeoutMs?: number},
): Promise<{code: number; output: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`timed out: ${file} ${args.join(' ')}\n${output}`))
    }, opts.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code: code ?? -1, output})
    })
  })
}

// ───────────────────────────── GitHub Actions ─────────────────────────────

export interface GithubStep {
  id?: string
  name?: string
  uses?: string
  run?: string
  if?: string
  with?: Record<string, unknown>
  env?: Record<string, string>
}

/** What an action stand-in reports: its exit status, or that with its output and outputs. */
export type ActionResult = number | {code: number; output: string; outputs?: Record<string, string>}

/**
 * A stand-in for an action: `step.with` arrives with its expressions evaluated; may add to $GITHUB_ENV
 * through ctx.exportEnv.
 */
export type ActionStandIn = (
  step: GithubStep,
  ctx: {cwd: string; env: Record<string, string>; exportEnv(name: string, value: string): void},
) => ActionResult | Promise<ActionResult>

/**
 * A `${{ … }}` expression's value: `secrets.NAME`, `env.NAME`, `github.sha` and
 * `steps.ID.outputs.NAME`, what the templates use. Anything else (an unknown secret too) fails the run.
 */
function githubValue(expr: string, c: {env: Record<string, string>; secrets: Record<string, string>; outputs: JobRun['outputs']}): string {
  const t = expr.trim()
  let m: RegExpExecArray | null
  if ((m = /^secrets\.(\w+)$/.exec(t))) {
    const v = c.secrets[m[1] as string]
    if (v === undefined) throw new Error(`GitHub runner stand-in: no secret ${m[1]} given`)
    return v
  }
  if ((m = /^env\.(\w+)$/.exec(t))) return c.env[m[1] as string] ?? ''
  if (t === 'github.sha') {
    if (c.env.GITHUB_SHA === undefined) throw new Error('GitHub runner stand-in: github.sha without GITHUB_SHA')
    return c.env.GITHUB_SHA
  }
  if ((m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(t))) return c.outputs[m[1] as string]?.[m[2] as string] ?? ''
  throw new Error(`GitHub runner stand-in: unsupported expression ${t}`)
}

const expandGithub = (text: string, c: Parameters<typeof githubValue>[1]): string =>
  text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, expr: string) => githubValue(expr, c))

/**
 * `always()`, `success()`, `failure()`, `hashFiles('f') != ''`, `steps.ID.outputs.NAME != ''` and `&&`
 * of them: what the templates use.
 */
function githubCondition(expr: string | undefined, failed: boolean, cwd: string, outputs: JobRun['outputs'] = {}): boolean {
  if (expr === undefined) return !failed
  const body = expr.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1')
  return body.split('&&').every((part) => {
    const t = part.trim()
    if (t === 'always()') return true
    if (t === 'success()') return !failed
    if (t === 'failure()') return failed
    const h = /^hashFiles\('([^']+)'\)\s*!=\s*''$/.exec(t)
    if (h) return existsSync(join(cwd, h[1] as string))
    const o = /^steps\.([\w-]+)\.outputs\.([\w-]+)\s*(==|!=)\s*''$/.exec(t)
    if (o) return ((outputs[o[1] as string]?.[o[2] as string] ?? '') === '') === (o[3] === '==')
    throw new Error(`GitHub runner stand-in: unsupported condition "${t}"`)
  })
}

/** Parse KEY=VALUE lines (and KEY<<EOF blocks) of a $GITHUB_ENV file. */
function readGithubEnv(file: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = readFileSync(file, 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const value: string[] = []
      while (++i < lines.length && lines[i] !== heredoc[2]) value.push(lines[i] as string)
      out[heredoc[1] as string] = value.join('\n')
    } else if (line.includes('=')) out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
  }
  return out
}

/**
 * One job of a workflow file: its steps in order, `run:` through `bash -e -c` (GitHub's default shell
 * on Linux) with the workflow, job and step `env:`, $GITHUB_ENV applied between steps and a fresh
 * $GITHUB_OUTPUT per step, `uses:` through `actions` (by name without @version) with the expressions
 * of `with:` evaluated (githubValue). A `${{ }}` expression inside a `run:` fails the run.
 */
export async function runGithubJob(
  workflowFile: string,
  job: string,
  o: {cwd: string; env: Record<string, string>; actions: Record<string, ActionStandIn>; secrets?: Record<string, string>},
): Promise<JobRun> {
  const wf = parseYaml(readFileSync(workflowFile, 'utf8')) as {
    env?: Record<string, string>
    jobs: Record<string, {env?: Record<string, string>; steps: GithubStep[]}>
  }
  const j = wf.jobs[job]
  if (!j) throw new Error(`no job ${job} in ${workflowFile}`)
  const envFile = join(o.env.RUNNER_TEMP ?? o.cwd, `github-env-${job}`)
  writeFileSync(envFile, '')
  const steps: StepRun[] = []
  const outputs: JobRun['outputs'] = {}
  let failed = false
  for (const [i, step] of j.steps.entries()) {
    const name = step.name ?? step.uses ?? step.run ?? `step ${i + 1}`
    if (!githubCondition(step.if, failed, o.cwd, outputs)) {
      steps.push({name, ran: false, code: 0, output: ''})
      continue
    }
    const outputFile = join(o.env.RUNNER_TEMP ?? o.cwd, `github-output-${job}-${i}`)
    writeFileSync(outputFile, '')
    const env = {...o.env, ...wf.env, ...j.env, ...readGithubEnv(envFile), ...step.env, GITHUB_ENV: envFile, GITHUB_OUTPUT: outputFile}
    let result: {code: number; output: string}
    let stepOutputs: Record<string, string>
    if (step.uses !== undefined) {
      const action = o.actions[step.uses.split('@')[0] as string]
      if (!action) throw new Error(`GitHub runner stand-in: no stand-in for action ${step.uses}`)
      const c = {env, secrets: o.secrets ?? {}, outputs}
      const evaluated: GithubStep = {
        ...step,
        ...(step.with ? {with: Object.fromEntries(Object.entries(step.with).map(([k, v]) => [k, typeof v === 'string' ? expandGithub(v, c) : v]))} : {}),
      }
      const r = await action(evaluated, {cwd: o.cwd, env, exportEnv: (k, v) => writeFileSync(envFile, `${readFileSync(envFile, 'utf8')}${k}=${v}\n`)})
      result = typeof r === 'number' ? {code: r, output: ''} : {code: r.code, output: r.output}
      stepOutputs = typeof r === 'number' ? {} : (r.outputs ?? {})
    } else if (step.run !== undefined) {
      if (step.run.includes('${{')) throw new Error(`GitHub runner stand-in: expression in run: ${step.run}`)
      result = await exec('bash', ['-e', '-c', step.run], {cwd: o.cwd, env})
      stepOutputs = readGithubEnv(outputFile)
    } else throw new Error(`step ${name} has neither uses nor run`)
    if (step.id !== undefined) outputs[step.id] = stepOutputs
    steps.push({name, ran: true, ...result})
    if (result.code !== 0) failed = true
  }
  return {ok: !failed, steps, outputs}
}

/**
 * A stand-in that is no stand-in: a composite action (safe-deploy's action.yml) run by
 * runCompositeAction with the step's `with:` as its inputs, in the job's workspace and environment;
 * what its steps append to their summaries goes to the job's $GITHUB_STEP_SUMMARY, as the runner
 * shows every step's summary on the job's page.
 */
export function compositeAction(actionFile: string, tmp: () => string): ActionStandIn {
  return async (step, ctx) => {
    const inputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, String(v)]))
    const run = await runCompositeAction(actionFile, {inputs, cwd: ctx.cwd, env: ctx.env, tmp: tmp()})
    const summaryFile = ctx.env.GITHUB_STEP_SUMMARY
    if (summaryFile !== undefined) writeFileSync(summaryFile, readFileSync(summaryFile, 'utf8') + run.summary)
    const failed = run.steps.find((s) => s.ran && s.code !== 0)
    return {code: failed?.code ?? 0, output: run.steps.map((s) => s.output).join(''), outputs: run.outputs}
  }
}

// ───────────────────────────── GitLab CI ─────────────────────────────

interface GitlabJob {
  stage?: string
  image?: string
  extends?: string | string[]
  variables?: Record<string, string>
  id_tokens?: Record<string, unknown>
  before_script?: string[]
  script?: string[]
  rules?: Array<{if?: string; when?: string}>
  artifacts?: {when?: string; paths?: string[]; reports?: Record<string, string>}
}

const GITLAB_KEYWORDS = new Set(['stages', 'variables', 'default', 'include', 'workflow', 'image', 'services', 'cache', 'before_script', 'after_script'])

/** `$A == $B`, `$A == "x"`, `$A != …`: what the templates' rules use. */
function gitlabRule(expr: string, vars: Record<string, string>): boolean {
  const m = /^\s*(\$\w+|"[^"]*")\s*(==|!=)\s*(\$\w+|"[^"]*")\s*$/.exec(expr)
  if (!m) throw new Error(`GitLab runner stand-in: unsupported rule "${expr}"`)
  const value = (t: string): string | undefined => (t.startsWith('$') ? vars[t.slice(1)] : t.slice(1, -1))
  const a = value(m[1] as string)
  const b = value(m[3] as string)
  const eq = a !== undefined && a === b
  return m[2] === '==' ? eq : !eq
}

export interface GitlabJobRun extends StepRun {
  job: GitlabJob
}

/**
 * A pipeline: the jobs whose rules match `vars`, stage by stage; each job's before_script and script
 * in one bash with `set -eo pipefail` (as the runner's generated script), its id_tokens set to a fake
 * token. A failed job stops the later stages.
 */
export async function runGitlabPipeline(
  file: string,
  o: {cwd: string; env: Record<string, string>; vars: Record<string, string>},
): Promise<{ok: boolean; jobs: GitlabJobRun[]}> {
  const doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown> & {stages?: string[]; variables?: Record<string, string>}
  const resolve = (name: string): GitlabJob => {
    const job = doc[name] as GitlabJob
    const parents = job.extends === undefined ? [] : [job.extends].flat()
    return Object.assign({}, ...parents.map(resolve), job, {extends: undefined}) as GitlabJob
  }
  const names = Object.keys(doc).filter((k) => !GITLAB_KEYWORDS.has(k) && !k.startsWith('.'))
  const stages = doc.stages ?? ['build', 'test', 'deploy']
  const vars = {...o.vars}
  const jobs: GitlabJobRun[] = []
  let ok = true
  for (const stage of stages) {
    for (const name of names) {
      const job = resolve(name)
      if ((job.stage ?? 'test') !== stage) continue
      const runs = job.rules === undefined || job.rules.some((r) => (r.if === undefined || gitlabRule(r.if, vars)) && r.when !== 'never')
      if (!runs) continue
      if (!ok) {
        jobs.push({name, job, ran: false, code: 0, output: ''})
        continue
      }
      const tokens = Object.fromEntries(Object.keys(job.id_tokens ?? {}).map((k) => [k, 'fake-gitlab-id-token']))
      const env = {...o.env, ...doc.variables, ...job.variables, ...vars, ...tokens}
      const script = ['set -eo pipefail', ...(job.before_script ?? []), ...(job.script ?? [])].join('\n')
      const r = await exec('bash', ['-c', script], {cwd: o.cwd, env})
      jobs.push({name, job, ran: true, ...r})
      if (r.code !== 0) ok = false
    }
  }
  return {ok, jobs}
}

// ───────────────────────────── Cloud Build ─────────────────────────────

export interface CloudBuildStep {
  id?: string
  name: string
  entrypoint?: string
  args?: string[]
  env?: string[]
}

/** Cloud Build's substitutions in args: `$$` is a dollar; any `$VAR`/`${VAR}` must be one it knows (else the build is rejected). */
function substitute(arg: string, subs: Record<string, string>): string {
  return arg.replace(/\$\$|\$\{(\w+)\}|\$(\w+)/g, (m, braced: string | undefined, bare: string | undefined) => {
    if (m === '$$') return '$'
    const key = (braced ?? bare) as string
    const v = subs[key]
    if (v === undefined) throw new Error(`Cloud Build would reject the build: unknown substitution ${m}`)
    return v
  })
}

/** A builder image's ENTRYPOINT: the command line a step with `args` and no `entrypoint` runs. */
export type ImageEntrypoint = (args: string[]) => {file: string; args: string[]}

/**
 * The steps in order, each its entrypoint (or, without one, its image's: `images`, by the substituted
 * image name) with the substituted args; a failed step ends the build. The file's `substitutions:` are
 * defaults under the given ones. The workspace is mounted at /workspace: a `/workspace` prefix in args
 * and env values is the checkout (`cwd`). `standIns` replaces a step by its id (what needs Google).
 */
export async function runCloudBuild(
  file: string,
  o: {
    cwd: string
    env: Record<string, string>
    substitutions: Record<string, string>
    images?: Record<string, ImageEntrypoint>
    standIns?: Record<string, (ctx: {cwd: string; env: Record<string, string>; args: string[]}) => number>
  },
): Promise<{ok: boolean; steps: Array<StepRun & {step: CloudBuildStep}>}> {
  const doc = parseYaml(readFileSync(file, 'utf8')) as {steps: CloudBuildStep[]; substitutions?: Record<string, string>}
  const subs = {...doc.substitutions, ...o.substitutions}
  const mount = (v: string): string => (v === '/workspace' || v.startsWith('/workspace/') ? o.cwd + v.slice('/workspace'.length) : v)
  const steps: Array<StepRun & {step: CloudBuildStep}> = []
  let ok = true
  for (const step of doc.steps) {
    const name = step.id ?? step.name
    if (!ok) {
      steps.push({name, step, ran: false, code: 0, output: ''})
      continue
    }
    const args = (step.args ?? []).map((a) => mount(substitute(a, subs)))
    const env = {
      ...o.env,
      ...Object.fromEntries((step.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), mount(substitute(e.slice(e.indexOf('=') + 1), subs))])),
    }
    const standIn = step.id === undefined ? undefined : o.standIns?.[step.id]
    let r: {code: number; output: string}
    if (standIn) r = {code: standIn({cwd: o.cwd, env, args}), output: ''}
    else if (step.entrypoint !== undefined) r = await exec(step.entrypoint, args, {cwd: o.cwd, env})
    else {
      const image = substitute(step.name, subs)
      const entry = o.images?.[image]
      if (!entry) throw new Error(`Cloud Build stand-in: step ${name} uses the entrypoint of image ${image}, which was not given`)
      const cmd = entry(args)
      r = await exec(cmd.file, cmd.args, {cwd: o.cwd, env})
    }
    steps.push({name, step, ran: true, ...r})
    if (r.code !== 0) ok = false
  }
  return {ok, steps}
}

// ───────────────────────────── GitHub composite action ─────────────────────────────

export interface CompositeRun {
  ok: boolean
  /** Each step with its wall time in milliseconds (the action's start time is the install step's). */
  steps: Array<StepRun & {ms: number}>
  /** The action's outputs, from each `value: ${{ steps.ID.outputs.NAME }}`. */
  outputs: Record<string, string>
  /** Everything the steps appended to their $GITHUB_STEP_SUMMARY, in order. */
  summary: string
  /** The workflow-command annotations the steps printed (stdout or stderr: the runner reads both). */
  annotations: Array<{level: string; props: Record<string, string>; message: string}>
}

/** The runner's unescaping of a workflow command (the inverse of @actions/core's escaping). */
function unescapeCommand(s: string, property: boolean): string {
  let out = s.replaceAll('%0D', '\r').replaceAll('%0A', '\n')
  if (property) out = out.replaceAll('%3A', ':').replaceAll('%2C', ',')
  return out.replaceAll('%25', '%')
}

export function parseAnnotations(output: string): CompositeRun['annotations'] {
  const found: CompositeRun['annotations'] = []
  for (const line of output.split('\n')) {
    const m = /^::(error|warning|notice)(?: ([^:]*))?::(.*)$/.exec(line)
    if (!m) continue
    const props = Object.fromEntries(
      (m[2] ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), unescapeCommand(kv.slice(kv.indexOf('=') + 1), true)]),
    )
    found.push({level: m[1] as string, props, message: unescapeCommand(m[3] as string, false)})
  }
  return found
}

/**
 * Run a composite action (`action.yml`) the way the runner does: each step's `run` through GitHub's
 * bash (`bash --noprofile --norc -eo pipefail`) in the workspace, `${{ inputs.NAME }}` substituted
 * (in `run` and `env`) from the given inputs over the declared defaults, GITHUB_ACTION_PATH set to
 * the action's directory, and a fresh $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY per step; then the
 * action's outputs from its steps' outputs. Any other expression fails the run, so nothing passes by
 * being skipped. A failed step skips the rest (composite steps have no `if:` here).
 */
export async function runCompositeAction(
  actionFile: string,
  o: {inputs: Record<string, string>; cwd: string; env: Record<string, string>; tmp: string},
): Promise<CompositeRun> {
  const action = parseYaml(readFileSync(actionFile, 'utf8')) as {
    inputs?: Record<string, {default?: string}>
    outputs?: Record<string, {value: string}>
    runs: {using: string; steps: Array<GithubStep & {id?: string; shell?: string}>}
  }
  if (action.runs.using !== 'composite') throw new Error(`not a composite action: ${action.runs.using}`)
  const inputs: Record<string, string> = {}
  for (const [name, spec] of Object.entries(action.inputs ?? {})) inputs[name] = o.inputs[name] ?? spec.default ?? ''
  for (const name of Object.keys(o.inputs)) if (!(name in inputs)) throw new Error(`the action declares no input ${name}`)
  const expand = (text: string): string =>
    text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_m, expr: string) => {
      const input = /^inputs\.([\w-]+)$/.exec(expr)
      if (!input || !((input[1] as string) in inputs)) throw new Error(`composite runner stand-in: unsupported expression ${expr}`)
      return inputs[input[1] as string] as string
    })
  const stepOutputs: Record<string, Record<string, string>> = {}
  const steps: CompositeRun['steps'] = []
  let summary = ''
  let failed = false
  for (const [i, step] of action.runs.steps.entries()) {
    const name = step.name ?? step.id ?? `step ${i + 1}`
    if (failed) {
      steps.push({name, ran: false, code: 0, output: '', ms: 0})
      continue
    }
    if (step.run === undefined) throw new Error(`composite runner stand-in: step ${name} is not a run step`)
    if (step.shell !== 'bash') throw new Error(`composite runner stand-in: step ${name} needs shell: bash (got ${String(step.shell)})`)
    const outputFile = join(o.tmp, `output-${i}`)
    const summaryFile = join(o.tmp, `summary-${i}`)
    writeFileSync(outputFile, '')
    writeFileSync(summaryFile, '')
    const env = {
      ...o.env,
      ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(String(v))])),
      GITHUB_ACTIONS: 'true',
      GITHUB_ACTION_PATH: dirname(actionFile),
      GITHUB_WORKSPACE: o.cwd,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
    }
    const started = Date.now()
    const r = await exec('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', expand(step.run)], {cwd: o.cwd, env})
    steps.push({name, ran: true, ...r, ms: Date.now() - started})
    if (step.id !== undefined) stepOutputs[step.id] = readGithubEnv(outputFile)
    summary += readFileSync(summaryFile, 'utf8')
    if (r.code !== 0) failed = true
  }
  const outputs: Record<string, string> = {}
  for (const [name, spec] of Object.entries(action.outputs ?? {})) {
    const m = /^\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}$/.exec(spec.value.trim())
    if (!m) throw new Error(`composite runner stand-in: unsupported output value ${spec.value}`)
    outputs[name] = stepOutputs[m[1] as string]?.[m[2] as string] ?? ''
  }
  return {ok: !failed, steps, outputs, summary, annotations: steps.flatMap((s) => parseAnnotations(s.output))}
}
