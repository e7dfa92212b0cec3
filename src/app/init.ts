/**
 * `safe-deploy init`: the answers (the flags, the wizard for what they leave open) → the files of
 * core/init-plan.ts → written under the target directory. Every question, including each overwrite
 * question, is asked before the first write, and the files are then written all or none: an abort
 * (declining, Ctrl-C) at any prompt leaves the directory as it was. Existing files are kept unless
 * --force or confirmed; identical ones are never asked about (`unchanged`).
 */
import {SafeDeployError} from '../core/errors.js'
import {commaList} from '../core/lists.js'
import {
  envKind,
  isEnvironmentName,
  isProjectId,
  parseEnv,
  planInitFiles,
  type CiSystem,
  type GeneratedFile,
  type InitAnswers,
  type InitEnvironment,
  type Platform,
  type TemplateReader,
} from '../core/init-plan.js'

export type {CiSystem, GeneratedFile, InitAnswers, InitEnvironment, Platform} from '../core/init-plan.js'

/** The message of every abort in init: true because nothing is written before the last question. */
export const INIT_ABORTED = 'aborted: nothing was written'

export interface Choice<T extends string> {
  name: string
  value: T
}

/** The wizard's questions in a terminal. Ctrl-C rejects with SafeDeployError ABORTED (INIT_ABORTED). */
export interface InitQuestions {
  select<T extends string>(message: string, choices: ReadonlyArray<Choice<T>>): Promise<T>
  /** validate: true, or the reason shown under the prompt until the answer is corrected. */
  input(message: string, opts?: {default?: string; validate?: (value: string) => true | string}): Promise<string>
  checkbox<T extends string>(message: string, choices: ReadonlyArray<Choice<T>>): Promise<T[]>
  confirm(message: string, defaultAnswer: boolean): Promise<boolean>
}

export interface InitPorts {
  /** A template's text by its path under templates/. */
  readTemplate: TemplateReader
  /** The text of the file at PATH (relative to the target directory), or undefined when there is none. */
  readExisting(path: string): string | undefined
  /** Write the files under the target directory, all or none, creating parent directories. */
  writeFiles(files: readonly GeneratedFile[]): Promise<void>
  /** Only used when interactive. */
  ask: InitQuestions
  /** Replace PATH, which exists with other content? Only used when interactive and not --force. */
  confirmOverwrite(path: string): Promise<boolean>
}

export interface InitOptions {
  /** The answers given as flags; the wizard asks only for what they leave open. */
  platform?: Platform | undefined
  project?: string | undefined
  /** --env values: NAME=CONTEXT|REGION[@PROJECT]. */
  env?: readonly string[] | undefined
  attestors?: readonly string[] | undefined
  ci?: readonly CiSystem[] | undefined
  kmsKey?: string | undefined
  image?: string | undefined
  /** The safe-deploy GitHub Action the generated workflows use (OWNER/REPO@REF); the command gives its default. */
  actionRef?: string | undefined
  /** The wizard, the final confirmation and the overwrite questions; false with --yes, without a terminal, under CI. */
  interactive: boolean
  /** Overwrite changed files without asking. */
  force: boolean
}

export interface InitResult {
  answers: InitAnswers
  written: string[]
  /** Existing files left as they were: the unchanged ones and the changed ones not overwritten. */
  skipped: string[]
  unchanged: string[]
}

export async function runInit(options: InitOptions, ports: InitPorts): Promise<InitResult> {
  const answers = options.interactive ? await askAnswers(options, ports.ask) : answersFromFlags(options)
  const files = planInitFiles(answers, ports.readTemplate)
  if (options.interactive) {
    const n = answers.environments.length
    const go = await ports.ask.confirm(`Write .safe-deploy.yaml, ${n} polic${n === 1 ? 'y' : 'ies'} and ${answers.ci.length} CI template set(s)?`, true)
    if (!go) throw new SafeDeployError('ABORTED', INIT_ABORTED)
  }
  const toWrite: GeneratedFile[] = []
  const skipped: string[] = []
  const unchanged: string[] = []
  for (const f of files) {
    const existing = ports.readExisting(f.path)
    if (existing === f.text) {
      skipped.push(f.path)
      unchanged.push(f.path)
    } else if (existing === undefined || options.force || (options.interactive && (await ports.confirmOverwrite(f.path)))) {
      toWrite.push(f)
    } else {
      skipped.push(f.path)
    }
  }
  if (toWrite.length > 0) await ports.writeFiles(toWrite)
  return {answers, written: toWrite.map((f) => f.path), skipped, unchanged}
}

function optionalAnswers(o: InitOptions): Pick<InitAnswers, 'kmsKey' | 'image' | 'actionRef'> {
  return {...(o.kmsKey ? {kmsKey: o.kmsKey} : {}), ...(o.image ? {image: o.image} : {}), ...(o.actionRef ? {actionRef: o.actionRef} : {})}
}

/** Without a terminal (or with --yes) the flags are the whole answer. */
export function answersFromFlags(o: InitOptions): InitAnswers {
  const {platform, project, env = []} = o
  if (!platform || !project || env.length === 0) {
    const missing = [!platform && '--target', !project && '--project', env.length === 0 && '--env'].filter(Boolean)
    throw new SafeDeployError('USAGE', `non-interactive init needs ${missing.join(', ')}`, {
      hint: 'run `safe-deploy init` in a terminal for the wizard, or see `safe-deploy init --help`',
    })
  }
  return {
    platform,
    project,
    environments: env.map((e) => parseEnv(e, platform, project)),
    attestors: [...(o.attestors ?? [])],
    ci: [...(o.ci ?? [])],
    ...optionalAnswers(o),
  }
}

/** The wizard: asks what the flags leave open. --env values given with it are kept (context, region, @PROJECT). */
async function askAnswers(o: InitOptions, ask: InitQuestions): Promise<InitAnswers> {
  const platform =
    o.platform ??
    (await ask.select<Platform>('Where do you deploy?', [
      {name: 'GKE (Kubernetes)', value: 'gke'},
      {name: 'Cloud Run', value: 'cloudrun'},
      {name: 'Both', value: 'both'},
    ]))
  const project =
    o.project ??
    (await ask.input('Google Cloud project id:', {validate: (v) => isProjectId(v) || 'a project id is 6-30 lowercase letters, digits and hyphens'}))
  const given = (o.env ?? []).map((e) => parseEnv(e, platform, project))
  const names = given.length
    ? []
    : commaList(
        await ask.input('Environments (comma-separated, in promotion order):', {
          default: 'dev,staging,prod',
          validate: (v) => commaList(v).every(isEnvironmentName) || 'environment names are lowercase letters, digits and hyphens',
        }),
      )
  const environments: InitEnvironment[] = []
  for (const env of [...given, ...names.map((name): InitEnvironment => ({name, kind: envKind(name), project}))]) {
    if (platform !== 'cloudrun' && !env.context)
      env.context = await ask.input(`${env.name}: kube context (gke_PROJECT_LOCATION_NAME):`, {default: `gke_${env.project}_us-central1_${env.name}`})
    if (platform !== 'gke' && !env.region) env.region = await ask.input(`${env.name}: Cloud Run region:`, {default: 'us-central1'})
    environments.push(env)
  }
  const attestors = o.attestors?.length
    ? [...o.attestors]
    : commaList(await ask.input('Attestors required in staging/prod (comma-separated names):', {default: 'built-by-ci'}))
  const ci = o.ci?.length
    ? [...o.ci]
    : await ask.checkbox<CiSystem>('CI templates to write:', [
        {name: 'GitHub Actions', value: 'github'},
        {name: 'GitLab CI', value: 'gitlab'},
        {name: 'Cloud Build', value: 'cloudbuild'},
      ])
  return {platform, project, environments, attestors, ci, ...optionalAnswers(o)}
}
