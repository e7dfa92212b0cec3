/**
 * What `safe-deploy init` generates from the answers: .safe-deploy.yaml with a profile per environment, one
 * policy per environment from templates/policies/<kind>.yaml, and the CI templates from templates/ci/. Pure:
 * the template texts come through a function, nothing is read or written here (src/app/init.ts does that).
 */
import {stringify} from 'yaml'
import {SafeDeployError} from './errors.js'
import {parseAttestorName, parseKmsKeyVersionName} from './resource-names.js'

export type Platform = 'gke' | 'cloudrun' | 'both'
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
  platform: Platform
  project: string
  environments: InitEnvironment[]
  attestors: string[]
  ci: CiSystem[]
  kmsKey?: string
  image?: string
  /**
   * The safe-deploy GitHub Action the generated workflows use (`uses:`), OWNER/REPO[/PATH]@REF. Needed
   * with the github CI templates; the command's default is the package's repository at its version tag.
   */
  actionRef?: string
}

/** OWNER/REPO[/PATH]@REF, what `uses:` takes for an action in another repository; it goes verbatim into the workflow YAML. */
const ACTION_REF = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\/[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*@[A-Za-z0-9][A-Za-z0-9._/-]*$/
export const isActionRef = (v: string): boolean => ACTION_REF.test(v)

export interface GeneratedFile {
  /** Relative to the directory init writes into. */
  path: string
  text: string
}

/** The text of a template, by its path under templates/ (e.g. policies/prod.yaml). */
export type TemplateReader = (path: string) => string

export function envKind(name: string): EnvKind {
  if (/prod|prd|live/i.test(name)) return 'prod'
  if (/dev|sandbox|local/i.test(name)) return 'dev'
  return 'staging'
}

export function fullAttestorName(a: string, project: string): string {
  return a.includes('/') ? a : `projects/${project}/attestors/${a}`
}

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/
const ATTESTOR_ID = /^[A-Za-z0-9_-]+$/
const ENV_NAME = /^[a-z0-9][a-z0-9-]*$/

export const isProjectId = (v: string): boolean => PROJECT_ID.test(v)
export const isEnvironmentName = (v: string): boolean => ENV_NAME.test(v)

/** NAME, or projects/P/attestors/NAME: what goes verbatim into the generated policies. */
function initAttestorName(at: string): boolean {
  const full = parseAttestorName(at)
  return full ? /^[a-z][a-z0-9-]+$/.test(full.project) && ATTESTOR_ID.test(full.attestor) : ATTESTOR_ID.test(at)
}

/** Every problem with the answers at once, as one USAGE error. */
export function validateAnswers(a: InitAnswers): void {
  const problems: string[] = []
  if (!PROJECT_ID.test(a.project)) problems.push(`project "${a.project}" is not a valid project id (6-30 lowercase letters, digits, hyphens)`)
  if (a.environments.length === 0) problems.push('at least one environment is required')
  const seen = new Set<string>()
  for (const e of a.environments) {
    if (e.project !== a.project && !PROJECT_ID.test(e.project))
      problems.push(`environment "${e.name}": project "${e.project}" is not a valid project id (6-30 lowercase letters, digits, hyphens)`)
    if (!ENV_NAME.test(e.name)) problems.push(`environment name "${e.name}" must be lowercase letters, digits and hyphens`)
    if (seen.has(e.name)) problems.push(`environment "${e.name}" is listed twice`)
    seen.add(e.name)
    if (a.platform !== 'cloudrun' && !e.context) problems.push(`environment "${e.name}" needs a kube context (gke_PROJECT_LOCATION_NAME)`)
    if (a.platform !== 'gke' && !e.region) problems.push(`environment "${e.name}" needs a Cloud Run region`)
  }
  for (const at of a.attestors) if (!initAttestorName(at)) problems.push(`attestor "${at}" must be NAME or projects/P/attestors/NAME`)
  // Both end up verbatim in the CI YAML templates: reject what would break (or inject into) them.
  if (a.image !== undefined && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/.test(a.image))
    problems.push(`image "${a.image}" must be a repository without tag or digest (e.g. us-docker.pkg.dev/my-proj/app/app)`)
  if (a.kmsKey !== undefined && !/^\d+$/.test(parseKmsKeyVersionName(a.kmsKey, {noSpace: true})?.version ?? ''))
    problems.push(`kms-key "${a.kmsKey}" must be projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N`)
  if (a.ci.includes('github')) {
    if (a.actionRef === undefined) problems.push('the GitHub workflows need the safe-deploy action: pass --action-ref OWNER/REPO@REF')
    else if (!isActionRef(a.actionRef)) problems.push(`action-ref "${a.actionRef}" must be OWNER/REPO[/PATH]@REF (e.g. acme/safe-deploy@v1.2.0)`)
  }
  if (a.environments.some((e) => e.kind !== 'dev') && a.attestors.length === 0) problems.push('staging and production policies require at least one attestor')
  if (problems.length) throw new SafeDeployError('USAGE', `cannot initialise:\n${problems.map((p) => '  ' + p).join('\n')}`)
}

/** One --env value: NAME=CONTEXT (gke), NAME=REGION (cloudrun), NAME=CONTEXT,REGION (both), each with an optional @PROJECT. */
export function parseEnv(spec: string, platform: Platform, project: string): InitEnvironment {
  const m = /^([^=@]+)(?:=([^@]*))?(?:@(.+))?$/.exec(spec)
  if (!m) throw new SafeDeployError('USAGE', `--env expects NAME=CONTEXT|REGION[@PROJECT], got "${spec}"`)
  const name = m[1] as string
  const value = m[2] ?? ''
  const envProject = m[3] ?? project
  const [a, b] = value.split(',')
  const env: InitEnvironment = {name, kind: envKind(name), project: envProject}
  if (platform === 'gke' && a) env.context = a
  if (platform === 'cloudrun' && a) env.region = a
  if (platform === 'both') {
    if (a) env.context = a
    if (b) env.region = b
  }
  return env
}

/**
 * Fill `{{name}}` with vars[name]. A line that is only a YAML comment `# {{#name}}` opens a section that
 * ends at `# {{/name}}`: its lines are kept when sections[name] is true and dropped otherwise; the two
 * marker lines are always dropped (so a template stays one file for every platform).
 */
function render(template: string, vars: Record<string, string>, sections: Record<string, boolean> = {}): string {
  const kept: string[] = []
  const open: Array<{name: string; keep: boolean}> = []
  for (const line of template.split('\n')) {
    const marker = /^\s*# \{\{([#/])(\w+)\}\}\s*$/.exec(line)
    if (marker) {
      const name = marker[2] as string
      if (marker[1] === '#') open.push({name, keep: sections[name] === true})
      else if (open.pop()?.name !== name) throw new SafeDeployError('INTERNAL', `template section ${name} is not open`)
      continue
    }
    if (open.every((o) => o.keep)) kept.push(line)
  }
  if (open.length > 0) throw new SafeDeployError('INTERNAL', `template section ${open[0]?.name} is not closed`)
  return kept.join('\n').replace(/\{\{(\w+)\}\}/g, (_m, k: string) => {
    const v = vars[k]
    if (v === undefined) throw new SafeDeployError('INTERNAL', `template variable ${k} has no value`)
    return v
  })
}

/**
 * The GKE cluster a kube context names (gke_PROJECT_LOCATION_NAME, what `gcloud container clusters
 * get-credentials` writes), for the CI step that fetches its credentials. Another context name leaves
 * CLUSTER_NAME and CLUSTER_LOCATION in the CI files, to be filled in.
 */
export function gkeClusterOfContext(context: string | undefined, project: string): {name: string; location: string; project: string} {
  const m = /^gke_([^_]+)_([^_]+)_(.+)$/.exec(context ?? '')
  return m ? {project: m[1] as string, location: m[2] as string, name: m[3] as string} : {project, location: 'CLUSTER_LOCATION', name: 'CLUSTER_NAME'}
}

/** The files to generate, in the order they are reported: .safe-deploy.yaml, the policies, the CI templates. Validates the answers first. */
export function planInitFiles(a: InitAnswers, template: TemplateReader): GeneratedFile[] {
  validateAnswers(a)
  const files: GeneratedFile[] = []
  const profiles: Record<string, Record<string, unknown>> = {}
  for (const e of a.environments) {
    const attestors = a.attestors.map((x) => fullAttestorName(x, e.project))
    files.push({
      path: `policies/${e.name}.yaml`,
      text: render(template(`policies/${e.kind}.yaml`), {env: e.name, project: e.project, attestorList: attestors.map((x) => `  - ${x}`).join('\n')}),
    })
    profiles[e.name] = {
      target: a.platform === 'cloudrun' ? 'cloudrun' : 'gke',
      project: e.project,
      ...(e.context ? {context: e.context} : {}),
      ...(e.region ? {region: e.region} : {}),
      policy: `policies/${e.name}.yaml`,
      reportMd: 'preflight.md',
      ...(e.kind === 'prod' ? {requireEnforcement: true} : {}),
    }
  }
  const config = {apiVersion: 'safe-deploy.dev/v1', kind: 'Config', defaultProfile: a.environments[0]?.name, profiles}
  files.unshift({
    path: '.safe-deploy.yaml',
    text:
      '# safe-deploy configuration, generated by `safe-deploy init`.\n# Precedence: flags > environment variables > this file > defaults.\n' +
      stringify(config),
  })
  const prod = a.environments.find((e) => e.kind === 'prod') ?? (a.environments[a.environments.length - 1] as InitEnvironment)
  const cluster = gkeClusterOfContext(prod.context, prod.project)
  const vars = {
    env: prod.name,
    // The CI commands name the project: its Binary Authorization and Container Analysis APIs hold the policy in force, the attestors
    // and the attestations (a profile's project alone does not read them while the profile names a policy file).
    project: prod.project,
    image: a.image ?? `us-docker.pkg.dev/${prod.project}/app/app`,
    attestor: fullAttestorName(a.attestors[0] ?? 'built-by-ci', prod.project),
    kmsKey: a.kmsKey ?? `projects/${prod.project}/locations/global/keyRings/binauthz/cryptoKeys/attestor/cryptoKeyVersions/1`,
    manifests: a.platform === 'cloudrun' ? '-f service.yaml' : '-f k8s/',
    // The action's `files` input: each becomes -f.
    manifestFiles: a.platform === 'cloudrun' ? 'service.yaml' : 'k8s/',
    // `run replace` has no --report-md (its pre-flight is printed); `apply` writes the report (and $GITHUB_STEP_SUMMARY).
    deployCommand: a.platform === 'cloudrun' ? 'run replace service.yaml' : 'apply -f k8s/ --report-md preflight.md',
    context: prod.context ?? '',
    clusterName: cluster.name,
    clusterLocation: cluster.location,
    clusterProject: cluster.project,
    ...(a.actionRef !== undefined ? {actionRef: a.actionRef} : {}),
  }
  // The deploy goes to GKE (it needs the cluster's credentials) unless the platform is Cloud Run only.
  const sections = {gke: a.platform !== 'cloudrun', cloudrun: a.platform === 'cloudrun'}
  for (const ci of a.ci) {
    switch (ci) {
      case 'github':
        files.push({path: '.github/workflows/safe-deploy.yml', text: render(template('ci/github-actions.yml'), vars, sections)})
        files.push({path: '.github/workflows/safe-deploy-preflight.yml', text: render(template('ci/github-pr-preflight.yml'), vars, sections)})
        break
      case 'gitlab':
        files.push({path: '.gitlab-ci.safe-deploy.yml', text: render(template('ci/gitlab-ci.yml'), vars, sections)})
        break
      case 'cloudbuild':
        files.push({path: 'cloudbuild.safe-deploy.yaml', text: render(template('ci/cloudbuild.yaml'), vars, sections)})
        break
    }
  }
  return files
}
