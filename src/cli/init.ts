/**
 * `safe-deploy init`: the answers (from the wizard or from flags) → .safe-deploy.yaml, one policy per
 * environment from templates/, and CI templates. Never overwrites an existing file unless asked.
 */
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {stringify} from 'yaml'
import {SafeDeployError} from '../core/errors.js'
import {writeFileAtomic} from '../adapters/fs/atomic.js'
import {fileExists, makeDirectory, readTextFile} from '../adapters/fs/files.js'
import {parseAttestorName, parseKmsKeyVersionName} from '../core/resource-names.js'
import {canPrompt} from './prompt.js'

export type EnvKind = 'dev' | 'staging' | 'prod'
export type CiSystem = 'github' | 'gitlab' | 'cloudbuild'

export interface InitEnvironment {
  name: string
  kind: EnvKind
  project: string
  /** GKE kube context (gke_PROJECT_LOCATION_NAME). */
  context?: string
  /** Cloud Run region. */
  region?: string
}

export interface InitAnswers {
  platform: 'gke' | 'cloudrun' | 'both'
  project: string
  environments: InitEnvironment[]
  attestors: string[]
  ci: CiSystem[]
  kmsKey?: string
  image?: string
}

export interface GeneratedFile {
  path: string
  text: string
}

export function templatesDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../templates')
}

export function envKind(name: string): EnvKind {
  if (/prod|prd|live/i.test(name)) return 'prod'
  if (/dev|sandbox|local/i.test(name)) return 'dev'
  return 'staging'
}

export function fullAttestorName(a: string, project: string): string {
  return a.includes('/') ? a : `projects/${project}/attestors/${a}`
}

function render(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_m, k: string) => {
    const v = vars[k]
    if (v === undefined) throw new SafeDeployError('INTERNAL', `template variable ${k} has no value`)
    return v
  })
}

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/
const ATTESTOR_ID = /^[A-Za-z0-9_-]+$/

/** NAME, or projects/P/attestors/NAME: what goes verbatim into the generated policies. */
function initAttestorName(at: string): boolean {
  const full = parseAttestorName(at)
  return full ? /^[a-z][a-z0-9-]+$/.test(full.project) && ATTESTOR_ID.test(full.attestor) : ATTESTOR_ID.test(at)
}

export function validateAnswers(a: InitAnswers): void {
  const problems: string[] = []
  if (!PROJECT_ID.test(a.project)) problems.push(`project "${a.project}" is not a valid project id (6-30 lowercase letters, digits, hyphens)`)
  if (a.environments.length === 0) problems.push('at least one environment is required')
  const seen = new Set<string>()
  for (const e of a.environments) {
    if (e.project !== a.project && !PROJECT_ID.test(e.project)) problems.push(`environment "${e.name}": project "${e.project}" is not a valid project id (6-30 lowercase letters, digits, hyphens)`)
    if (!/^[a-z0-9][a-z0-9-]*$/.test(e.name)) problems.push(`environment name "${e.name}" must be lowercase letters, digits and hyphens`)
    if (seen.has(e.name)) problems.push(`environment "${e.name}" is listed twice`)
    seen.add(e.name)
    if (a.platform !== 'cloudrun' && !e.context) problems.push(`environment "${e.name}" needs a kube context (gke_PROJECT_LOCATION_NAME)`)
    if (a.platform !== 'gke' && !e.region) problems.push(`environment "${e.name}" needs a Cloud Run region`)
  }
  for (const at of a.attestors) if (!initAttestorName(at)) problems.push(`attestor "${at}" must be NAME or projects/P/attestors/NAME`)
  // Both end up verbatim in the CI YAML templates: reject what would break (or inject into) them.
  if (a.image !== undefined && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/.test(a.image)) problems.push(`image "${a.image}" must be a repository without tag or digest (e.g. us-docker.pkg.dev/my-proj/app/app)`)
  if (a.kmsKey !== undefined && !/^\d+$/.test(parseKmsKeyVersionName(a.kmsKey, {noSpace: true})?.version ?? '')) problems.push(`kms-key "${a.kmsKey}" must be projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N`)
  if (a.environments.some((e) => e.kind !== 'dev') && a.attestors.length === 0) problems.push('staging and production policies require at least one attestor')
  if (problems.length) throw new SafeDeployError('USAGE', `cannot initialise:\n${problems.map((p) => '  ' + p).join('\n')}`)
}

export function generate(a: InitAnswers, tdir = templatesDir()): GeneratedFile[] {
  validateAnswers(a)
  const read = (rel: string) => readTextFile(join(tdir, rel), 'template', {code: 'INTERNAL'})
  const files: GeneratedFile[] = []
  const profiles: Record<string, Record<string, unknown>> = {}
  for (const e of a.environments) {
    const attestors = a.attestors.map((x) => fullAttestorName(x, e.project))
    files.push({
      path: `policies/${e.name}.yaml`,
      text: render(read(`policies/${e.kind}.yaml`), {env: e.name, project: e.project, attestorList: attestors.map((x) => `  - ${x}`).join('\n')}),
    })
    profiles[e.name] = {
      platform: a.platform === 'cloudrun' ? 'cloudrun' : 'gke',
      project: e.project,
      ...(e.context ? {context: e.context} : {}),
      ...(e.region ? {region: e.region} : {}),
      policy: `policies/${e.name}.yaml`,
      reportMd: 'preflight.md',
      ...(e.kind === 'prod' ? {requireEnforcement: true} : {}),
    }
  }
  const config = {apiVersion: 'safe-deploy.dev/v1', kind: 'Config', defaultProfile: a.environments[0]?.name, profiles}
  files.unshift({path: '.safe-deploy.yaml', text: '# safe-deploy configuration, generated by `safe-deploy init`.\n# Precedence: flags > environment variables > this file > defaults.\n' + stringify(config)})
  const prod = a.environments.find((e) => e.kind === 'prod') ?? a.environments[a.environments.length - 1] as InitEnvironment
  const vars = {
    env: prod.name,
    image: a.image ?? `us-docker.pkg.dev/${prod.project}/app/app`,
    attestor: fullAttestorName(a.attestors[0] ?? 'built-by-ci', prod.project),
    kmsKey: a.kmsKey ?? `projects/${prod.project}/locations/global/keyRings/binauthz/cryptoKeys/attestor/cryptoKeyVersions/1`,
    manifests: a.platform === 'cloudrun' ? '-f service.yaml' : '-f k8s/',
    // `run replace` has no --report-md (its pre-flight is printed); `apply` writes the report.
    deployCommand: a.platform === 'cloudrun' ? 'run replace service.yaml' : 'apply -f k8s/ --report-md preflight.md',
  }
  for (const ci of a.ci) {
    switch (ci) {
      case 'github':
        files.push({path: '.github/workflows/safe-deploy.yml', text: render(read('ci/github-actions.yml'), vars)})
        files.push({path: '.github/workflows/safe-deploy-preflight.yml', text: render(read('ci/github-pr-preflight.yml'), vars)})
        break
      case 'gitlab':
        files.push({path: '.gitlab-ci.safe-deploy.yml', text: render(read('ci/gitlab-ci.yml'), vars)})
        break
      case 'cloudbuild':
        files.push({path: 'cloudbuild.safe-deploy.yaml', text: render(read('ci/cloudbuild.yaml'), vars)})
        break
    }
  }
  return files
}

/** Write the files under dir; existing files are kept unless overwrite(path) says yes (never asked when identical: `unchanged`). */
export async function writeGenerated(dir: string, files: GeneratedFile[], overwrite: (path: string) => Promise<boolean>): Promise<{written: string[]; skipped: string[]; unchanged: string[]}> {
  const written: string[] = []
  const skipped: string[] = []
  const unchanged: string[] = []
  for (const f of files) {
    const target = join(dir, f.path)
    if (fileExists(target)) {
      if (readTextFile(target, 'existing file') === f.text) { skipped.push(f.path); unchanged.push(f.path); continue }
      if (!(await overwrite(f.path))) { skipped.push(f.path); continue }
    }
    makeDirectory(dirname(target))
    await writeFileAtomic(target, f.text)
    written.push(f.path)
  }
  return {written, skipped, unchanged}
}

export interface InitResult {
  answers: InitAnswers
  written: string[]
  skipped: string[]
  unchanged: string[]
}

export type InitFlags = {
  platform?: string | undefined; project?: string | undefined; env?: string[] | undefined; attestor?: string[] | undefined; ci?: string[] | undefined
  'kms-key'?: string | undefined; image?: string | undefined; dir: string; force?: boolean | undefined; yes?: boolean | undefined
}

/** The wizard in a terminal (unless --yes), else the answers from flags; then the files, asking before overwriting. */
export async function runInit(flags: InitFlags): Promise<InitResult> {
  const interactive = !flags.yes && canPrompt()
  const answers = interactive ? await wizard(flags) : fromFlags(flags)
  const files = generate(answers)
  let ask = async (_p: string) => flags.force === true
  if (interactive && !flags.force) {
    const {confirm} = await import('@inquirer/prompts')
    ask = async (p: string) => confirm({message: `${p} exists. Overwrite?`, default: false}, {output: process.stderr})
  }
  const {written, skipped, unchanged} = await writeGenerated(flags.dir, files, ask)
  return {answers, written, skipped, unchanged}
}


function parseEnv(spec: string, platform: InitAnswers['platform'], project: string): InitEnvironment {
  const m = /^([^=@]+)(?:=([^@]*))?(?:@(.+))?$/.exec(spec)
  if (!m) throw new SafeDeployError('USAGE', `--env expects NAME=CONTEXT|REGION[@PROJECT], got "${spec}"`)
  const name = m[1] as string
  const value = m[2] ?? ''
  const envProject = m[3] ?? project
  const [a, b] = value.split(',')
  const env: InitEnvironment = {name, kind: envKind(name), project: envProject}
  if (platform === 'gke' && a) env.context = a
  if (platform === 'cloudrun' && a) env.region = a
  if (platform === 'both') { if (a) env.context = a; if (b) env.region = b }
  return env
}

function fromFlags(flags: InitFlags): InitAnswers {
  const missing = [!flags.platform && '--platform', !flags.project && '--project', !(flags.env ?? []).length && '--env'].filter(Boolean)
  if (missing.length) {
    throw new SafeDeployError('USAGE', `non-interactive init needs ${missing.join(', ')}`, {hint: 'run `safe-deploy init` in a terminal for the wizard, or see `safe-deploy init --help`'})
  }
  const platform = flags.platform as InitAnswers['platform']
  const project = flags.project as string
  return {
    platform, project,
    environments: (flags.env ?? []).map((e) => parseEnv(e, platform, project)),
    attestors: flags.attestor ?? [],
    ci: (flags.ci ?? []) as CiSystem[],
    ...(flags['kms-key'] ? {kmsKey: flags['kms-key']} : {}),
    ...(flags.image ? {image: flags.image} : {}),
  }
}

async function wizard(flags: InitFlags): Promise<InitAnswers> {
  const {select, input, checkbox, confirm} = await import('@inquirer/prompts')
  const out = {output: process.stderr}
  const platform = (flags.platform ?? await select({
    message: 'Where do you deploy?',
    choices: [{name: 'GKE (Kubernetes)', value: 'gke'}, {name: 'Cloud Run', value: 'cloudrun'}, {name: 'Both', value: 'both'}],
  }, out)) as InitAnswers['platform']
  const project = flags.project ?? await input({message: 'Google Cloud project id:', validate: (v) => /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(v) || 'a project id is 6-30 lowercase letters, digits and hyphens'}, out)
  // --env values given with the wizard are kept (context, region, @PROJECT); only what is missing is asked.
  const given = (flags.env ?? []).map((e) => parseEnv(e, platform, project))
  const names = given.length ? [] :
    (await input({message: 'Environments (comma-separated, in promotion order):', default: 'dev,staging,prod',
      validate: (v) => v.split(',').map((s) => s.trim()).filter(Boolean).every((n) => /^[a-z0-9][a-z0-9-]*$/.test(n)) || 'environment names are lowercase letters, digits and hyphens'}, out))
      .split(',').map((s) => s.trim()).filter(Boolean)
  const environments: InitEnvironment[] = []
  for (const env of [...given, ...names.map((name): InitEnvironment => ({name, kind: envKind(name), project}))]) {
    const {name} = env
    if (platform !== 'cloudrun' && !env.context) env.context = await input({message: `${name}: kube context (gke_PROJECT_LOCATION_NAME):`, default: `gke_${env.project}_us-central1_${name}`}, out)
    if (platform !== 'gke' && !env.region) env.region = await input({message: `${name}: Cloud Run region:`, default: 'us-central1'}, out)
    environments.push(env)
  }
  const attestors = (flags.attestor ?? []).length ? flags.attestor ?? [] :
    (await input({message: 'Attestors required in staging/prod (comma-separated names):', default: 'built-by-ci'}, out)).split(',').map((s) => s.trim()).filter(Boolean)
  const ci = ((flags.ci ?? []).length ? flags.ci : await checkbox({
    message: 'CI templates to write:', choices: [{name: 'GitHub Actions', value: 'github'}, {name: 'GitLab CI', value: 'gitlab'}, {name: 'Cloud Build', value: 'cloudbuild'}],
  }, out)) as CiSystem[]
  const answers: InitAnswers = {platform, project, environments, attestors, ci, ...(flags['kms-key'] ? {kmsKey: flags['kms-key']} : {}), ...(flags.image ? {image: flags.image} : {})}
  const ok = await confirm({message: `Write .safe-deploy.yaml, ${environments.length} polic${environments.length === 1 ? 'y' : 'ies'} and ${ci.length} CI template set(s)?`, default: true}, out)
  if (!ok) throw new SafeDeployError('ABORTED', 'aborted: nothing was written')
  return answers
}
