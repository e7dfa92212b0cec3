import {Flags} from '@oclif/core'
import {BaseCommand, withExitCodes} from '../cli/base.js'
import {SafeDeployError} from '../core/errors.js'
import {canPrompt} from '../cli/prompt.js'
import {envKind, generate, writeGenerated, type CiSystem, type InitAnswers, type InitEnvironment} from '../cli/init.js'

export interface InitResult {
  answers: InitAnswers
  written: string[]
  skipped: string[]
  unchanged: string[]
}

export default class Init extends BaseCommand {
  static override summary = 'Set up safe-deploy: profiles per environment, policies, CI templates'
  static override description = withExitCodes(
    'An interactive wizard (or the same through flags) that writes .safe-deploy.yaml with a profile per environment, a Binary Authorization ' +
      'policy per environment (dev: ALWAYS_ALLOW in dry-run; staging: REQUIRE_ATTESTATION in dry-run; prod: REQUIRE_ATTESTATION enforced with ' +
      'the system policy enabled) and CI templates that attest after the checks pass and pre-flight every change. Existing files are never ' +
      'overwritten without asking (or --force).',
  )
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --yes --platform gke --project my-proj --env dev=gke_my-proj_us-central1_dev --env prod=gke_my-proj_us-central1_prod --attestor built-by-ci --ci github',
    '<%= config.bin %> init --yes --platform cloudrun --project my-proj --env staging=europe-west2 --env prod=europe-west2 --attestor built-by-ci --ci gitlab',
  ]
  static override enableJsonFlag = true
  static override flags = {
    platform: Flags.string({options: ['gke', 'cloudrun', 'both'], description: 'where you deploy'}),
    project: Flags.string({description: 'Google Cloud project id (default for every environment)'}),
    env: Flags.string({multiple: true, description: 'NAME=CONTEXT (gke), NAME=REGION (cloudrun), NAME=CONTEXT,REGION (both); optional @PROJECT suffix'}),
    attestor: Flags.string({multiple: true, description: 'attestor NAME or projects/P/attestors/NAME (repeatable)'}),
    ci: Flags.string({multiple: true, options: ['github', 'gitlab', 'cloudbuild'], description: 'CI templates to write'}),
    'kms-key': Flags.string({description: 'KMS key version the CI uses to sign'}),
    image: Flags.string({description: 'image repository the CI builds (without tag)'}),
    dir: Flags.string({default: '.', description: 'directory to write into'}),
    force: Flags.boolean({description: 'overwrite existing files without asking'}),
    yes: Flags.boolean({char: 'y', description: 'non-interactive: take the answers from flags only'}),
  }

  async run(): Promise<InitResult> {
    const {flags} = await this.parse(Init)
    const interactive = !flags.yes && canPrompt()
    const answers = interactive ? await wizard(flags) : fromFlags(flags)
    const files = generate(answers)
    let ask = async (_p: string) => flags.force
    if (interactive && !flags.force) {
      const {confirm} = await import('@inquirer/prompts')
      ask = async (p: string) => confirm({message: `${p} exists. Overwrite?`, default: false}, {output: process.stderr})
    }
    const {written, skipped, unchanged} = await writeGenerated(flags.dir, files, ask)
    for (const w of written) this.say(`wrote ${w}`)
    for (const s of skipped) this.say(`kept ${s} (${unchanged.includes(s) ? 'unchanged' : 'exists; use --force to overwrite'})`)
    this.say('next: review policies/, then `safe-deploy policy lint policies/<env>.yaml` and `safe-deploy preflight --profile <env> -f k8s/`')
    return {answers, written, skipped, unchanged}
  }
}

type InitFlags = {platform?: string | undefined; project?: string | undefined; env?: string[] | undefined; attestor?: string[] | undefined; ci?: string[] | undefined; 'kms-key'?: string | undefined; image?: string | undefined}

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
