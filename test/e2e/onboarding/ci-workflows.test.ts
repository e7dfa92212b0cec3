/**
 * The CI files `safe-deploy init` writes, run as generated (issue #12, item 2): every step of each
 * GitHub Actions workflow, every `script:` line of the GitLab CI jobs and every Cloud Build step, in
 * order, in a temporary checkout (test/support/ci-runners.ts). The workflows' safe-deploy steps are
 * `uses:` of the safe-deploy action (issue #16), run as the runner runs a composite action
 * (runCompositeAction: each step of this checkout's action.yml with the `with:` inputs substituted,
 * GITHUB_ACTION_PATH this checkout, a fresh GITHUB_OUTPUT and GITHUB_STEP_SUMMARY), under the
 * reference init wrote (--action-ref, or the default from package.json). Only what cannot run here
 * stands in: the Google login actions (no-ops; get-gke-credentials writes a kubeconfig for the
 * Kubernetes API double), the PR-comment action (records the file it posts), and the gcloud, curl and
 * apt-get commands of the image setup (the gcloud stand-in writes the same kubeconfig). safe-deploy
 * is the built CLI, installed where npx finds it (the npm global prefix), and Google is local: a
 * wrapper adds the endpoints of local servers (Binary Authorization REST, Container Analysis, KMS,
 * GKE, Cloud Run) and the local registry as the mirror of us-docker.pkg.dev; a `node` earlier on PATH
 * sends the action's `node $GITHUB_ACTION_PATH/bin/run.js` to the same wrapper. Asserted: the jobs pass when the
 * image is attested, a denial fails the step with its exit code (5) and stops the job, the pre-flight
 * report exists (and is posted) either way, and a pre-flight needs no cluster credentials.
 * Needs dist/ (npm run build:dist) and the machine's kubectl.
 */
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest} from '@jest/globals'
import {chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {BIN, ROOT, runCli} from '../../support/cli.js'
import {deployment} from '../../support/fixtures.js'
import {startRegistry, type TestRegistry} from '../../support/registry.js'
import {startKubeApiServer, type KubeApiServer} from '../../support/kube-apiserver.js'
import {startBinauthzRestServer, type BinauthzRestServer} from '../../support/gcp/binauthz-rest-server.js'
import {startGcpServer, type GcpState, type GrpcServerHandle} from '../../support/gcp/grpc-servers.js'
import {startMetadataTrap, type MetadataTrap} from '../../support/metadata-trap.js'
import {compositeAction, runCloudBuild, runGithubJob, runGitlabPipeline, type ActionStandIn, type JobRun} from '../../support/ci-runners.js'

jest.setTimeout(120_000)

const CLUSTER_CONTEXT = 'gke_acme-prod_us-east1_prod'
const CLUSTER = 'projects/acme-prod/locations/us-east1/clusters/prod'
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {version: string}

interface Setup {
  init: string[]
  /** The `uses:` init writes: gke names one with --action-ref, cloudrun takes the default (package.json repository at vVERSION). */
  actionRef: string
  /** The prod environment's project: its policy, attestor and KMS key. */
  project: string
  image: string
  kmsKey: string
}
const SETUPS: Record<'gke' | 'cloudrun', Setup> = {
  gke: {
    init: [
      '--platform',
      'gke',
      '--project',
      'acme-shop',
      '--env',
      'dev=gke_acme-shop_us-central1_dev',
      '--env',
      `prod=${CLUSTER_CONTEXT}@acme-prod`,
      '--action-ref',
      'acme-tools/safe-deploy@v2.3.4',
    ],
    actionRef: 'acme-tools/safe-deploy@v2.3.4',
    project: 'acme-prod',
    image: 'us-docker.pkg.dev/acme-shop/app/shop',
    kmsKey: 'projects/acme-prod/locations/global/keyRings/ci/cryptoKeys/attestor/cryptoKeyVersions/1',
  },
  cloudrun: {
    init: ['--platform', 'cloudrun', '--project', 'acme-run', '--env', 'dev=us-central1', '--env', 'prod=europe-west2'],
    actionRef: `safe-deploy/safe-deploy@v${PACKAGE.version}`,
    project: 'acme-run',
    image: 'us-docker.pkg.dev/acme-run/app/svc',
    kmsKey: 'projects/acme-run/locations/global/keyRings/ci/cryptoKeys/attestor/cryptoKeyVersions/1',
  },
}
type SetupName = keyof typeof SETUPS

let metadata: MetadataTrap
let reg: TestRegistry
let rest: BinauthzRestServer
let gcp: GrpcServerHandle<GcpState>
let kube: KubeApiServer
let base: string
/** Stand-ins for gcloud, curl and apt-get; the npm global prefix holding `safe-deploy`. */
let stubs: string
let prefix: string
/** Kubeconfigs of the clusters that exist, by context name (what get-credentials hands out). */
let kubeconfigs: string
const generated = {} as Record<SetupName, string>
/** Pushed, never attested: what a denial is made of. */
const UNSIGNED = {gke: '', cloudrun: ''}

/** Endpoint flags the wrapper adds to every safe-deploy command that has them: Google and the registry are local. */
function localFlags(): Array<[string, string | null]> {
  return [
    ['binauthz-endpoint', rest.endpoint],
    ['containeranalysis-endpoint', gcp.endpoint],
    ['kms-endpoint', gcp.endpoint],
    ['container-endpoint', gcp.endpoint],
    ['run-endpoint', gcp.endpoint],
    ['api-insecure', null],
    ['insecure-registry', reg.host],
    ['registry-mirror', `us-docker.pkg.dev=${reg.host}`],
  ]
}

function writeExecutable(file: string, text: string): void {
  mkdirSync(dirname(file), {recursive: true})
  writeFileSync(file, text)
  chmodSync(file, 0o755)
}

function installStandIns(): void {
  // safe-deploy as `npm install -g` would put it: the built CLI, plus this test's local endpoints.
  writeExecutable(
    join(prefix, 'bin', 'safe-deploy'),
    `#!/usr/bin/env node
// The built safe-deploy (${BIN}) with the test's local Google APIs and registry: endpoint flags are added to the commands that have them.
const {spawnSync} = require('node:child_process')
const manifest = require(${JSON.stringify(join(ROOT, 'oclif.manifest.json'))})
const add = ${JSON.stringify(localFlags())}
const argv = process.argv.slice(2)
const sep = argv.indexOf('--')
const head = sep < 0 ? argv : argv.slice(0, sep)
const tail = sep < 0 ? [] : argv.slice(sep)
const id = manifest.commands[head[0] + ':' + head[1]] ? head[0] + ':' + head[1] : head[0]
const flags = (manifest.commands[id] || {flags: {}}).flags
const extra = add.filter(([f]) => flags[f]).flatMap(([f, v]) => (v === null ? ['--' + f] : ['--' + f, v]))
const r = spawnSync(process.execPath, [${JSON.stringify(BIN)}, ...head, ...extra, ...tail], {stdio: 'inherit'})
process.exit(r.status === null ? 1 : r.status)
`,
  )
  // node: the action runs `node "$GITHUB_ACTION_PATH/bin/run.js" …`; that one goes through the wrapper above.
  writeExecutable(
    join(stubs, 'node'),
    `#!/usr/bin/env bash
if [ "$1" = ${JSON.stringify(BIN)} ]; then shift; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(prefix, 'bin', 'safe-deploy'))} "$@"; fi
exec ${JSON.stringify(process.execPath)} "$@"
`,
  )
  // gcloud: login is a no-op (the credential file must exist); get-credentials hands out the kubeconfig of a cluster that exists.
  writeExecutable(
    join(stubs, 'gcloud'),
    `#!/usr/bin/env bash
set -euo pipefail
if [ "$1 $2" = "auth login" ]; then
  for a in "$@"; do case "$a" in --cred-file=*) test -s "\${a#--cred-file=}" || { echo "gcloud stand-in: no credential file \${a#--cred-file=}" >&2; exit 1; } ;; esac; done
  exit 0
fi
if [ "$1 $2 $3" = "container clusters get-credentials" ]; then
  name=$4; shift 4; loc=; proj=
  while [ $# -gt 0 ]; do
    case "$1" in
      --location|--region|--zone) loc=$2; shift 2 ;;
      --location=*|--region=*|--zone=*) loc=\${1#*=}; shift ;;
      --project) proj=$2; shift 2 ;;
      --project=*) proj=\${1#*=}; shift ;;
      *) shift ;;
    esac
  done
  src=${JSON.stringify(kubeconfigs)}/gke_\${proj}_\${loc}_\${name}.yaml
  [ -f "$src" ] || { echo "gcloud stand-in: no cluster $name in $loc (project $proj)" >&2; exit 1; }
  dest=\${KUBECONFIG:-$HOME/.kube/config}
  mkdir -p "$(dirname "$dest")"
  cp "$src" "$dest"
  echo "kubeconfig entry generated for $name."
  exit 0
fi
echo "gcloud stand-in: unsupported: $*" >&2
exit 1
`,
  )
  // Package installation in the CI images: Node.js 22 is already here.
  writeExecutable(join(stubs, 'curl'), '#!/bin/sh\nexit 0\n')
  writeExecutable(join(stubs, 'apt-get'), '#!/bin/sh\nexit 0\n')
}

beforeAll(async () => {
  metadata = await startMetadataTrap()
  ;[reg, rest, gcp, kube] = await Promise.all([startRegistry(), startBinauthzRestServer(), startGcpServer(), startKubeApiServer()])
  base = mkdtempSync(join(tmpdir(), 'sd-ci-'))
  stubs = join(base, 'stubs')
  prefix = join(base, 'npm-global')
  kubeconfigs = join(base, 'clusters')
  kube.writeKubeconfig(kubeconfigs, {context: CLUSTER_CONTEXT, fileName: `${CLUSTER_CONTEXT}.yaml`})
  installStandIns()
  gcp.state.container.clusters.set(CLUSTER, {binaryAuthorization: {evaluationMode: 'PROJECT_SINGLETON_POLICY_ENFORCE'}})
  for (const [name, s] of Object.entries(SETUPS) as Array<[SetupName, Setup]>) {
    generated[name] = join(base, `generated-${name}`)
    const ci = ['--ci', 'github', '--ci', 'gitlab', '--ci', 'cloudbuild']
    const r = await runCli(
      ['init', '--yes', ...s.init, '--attestor', 'built-by-ci', ...ci, '--image', s.image, '--kms-key', s.kmsKey, '--dir', generated[name], '--json'],
      {
        env: metadata.env(base),
      },
    )
    // The old spelling --platform still works, with a warning (#12 item 11).
    expect({code: r.code, stderr: r.stderr}).toEqual({code: 0, stderr: `warning: --platform ${s.init[1]} is deprecated: use --target ${s.init[1]}\n`})
    // What `gcloud container binauthz policy import policies/prod.yaml` and the attestor setup would have put in the project.
    rest.state.policies.set(s.project, parseYaml(readFileSync(join(generated[name], 'policies/prod.yaml'), 'utf8')))
    const attestor = `projects/${s.project}/attestors/built-by-ci`
    const pem = gcp.state.kms.addKey(s.kmsKey, 'EC_SIGN_P256_SHA256')
    rest.state.attestors.set(attestor, {
      name: attestor,
      userOwnedGrafeasNote: {
        noteReference: `projects/${s.project}/notes/built-by-ci`,
        publicKeys: [{id: `//cloudkms.googleapis.com/v1/${s.kmsKey}`, pkixPublicKey: {publicKeyPem: pem, signatureAlgorithm: 'ECDSA_P256_SHA256'}}],
      },
    })
    UNSIGNED[name] = `${s.image}:unsigned`
    await reg.pushImage(UNSIGNED[name].slice('us-docker.pkg.dev/'.length).split(':')[0] as string, 'unsigned')
  }
}, 120_000)

afterAll(async () => {
  await Promise.all([reg?.stop(), rest?.stop(), gcp?.stop(), kube?.stop(), metadata?.stop()])
})

beforeEach(() => {
  kube.clearRequests()
  gcp.requests.length = 0
  rest.requests.length = 0
})

afterEach(() => {
  expect(metadata.hits).toEqual([])
})

/** A new commit: its image pushed under a fresh tag (the commit SHA, as CI tags it). */
async function commit(setup: SetupName, sha: string): Promise<{image: string; digest: string}> {
  const image = `${SETUPS[setup].image}:${sha}`
  const {digest} = await reg.pushImage(image.slice('us-docker.pkg.dev/'.length).split(':')[0] as string, sha)
  return {image, digest}
}

/** A checkout of the repository: what init generated, the app's manifests (naming `image`) and a package.json for the checks. */
function checkout(setup: SetupName, image: string): string {
  const dir = mkdtempSync(join(base, `checkout-${setup}-`))
  cpSync(generated[setup], dir, {recursive: true})
  writeFileSync(join(dir, 'package.json'), JSON.stringify({name: 'app', version: '1.0.0', private: true, scripts: {test: 'echo checks passed'}}) + '\n')
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: {'': {name: 'app', version: '1.0.0'}}}) + '\n',
  )
  if (setup === 'gke') {
    mkdirSync(join(dir, 'k8s'))
    writeFileSync(join(dir, 'k8s/shop.yaml'), deployment('shop', image, {namespace: 'shop', container: 'app'}))
  } else {
    writeFileSync(
      join(dir, 'service.yaml'),
      [
        'apiVersion: serving.knative.dev/v1',
        'kind: Service',
        'metadata:',
        '  name: svc',
        'spec:',
        '  template:',
        '    spec:',
        '      containers:',
        `      - image: ${image}`,
        '',
      ].join('\n'),
    )
  }
  return dir
}

/** A runner's environment: no cloud credentials, no kubeconfig, safe-deploy where npx looks, npm offline. */
function runnerEnv(extra: Record<string, string> = {}): Record<string, string> {
  const home = mkdtempSync(join(base, 'home-'))
  const env = metadata.env(home, {
    HOME: home,
    XDG_STATE_HOME: join(home, 'state'),
    PATH: [stubs, join(prefix, 'bin'), dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    RUNNER_TEMP: mkdtempSync(join(base, 'runner-')),
    npm_config_prefix: prefix,
    npm_config_cache: join(home, '.npm'),
    npm_config_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  })
  delete env.KUBECONFIG
  return env
}

// ───────────────────────────── GitHub Actions ─────────────────────────────

const posted: string[] = []
/** Each `uses:` of the safe-deploy action, as written in the workflow. */
const actionRefs: string[] = []
const noop: ActionStandIn = () => 0
const safeDeployAction = compositeAction(join(ROOT, 'action.yml'), () => mkdtempSync(join(base, 'action-')))
const recorded: ActionStandIn = (step, ctx) => {
  actionRefs.push(String(step.uses))
  return safeDeployAction(step, ctx)
}
const ACTIONS: Record<string, ActionStandIn> = {
  [SETUPS.gke.actionRef.split('@')[0] as string]: recorded,
  [SETUPS.cloudrun.actionRef.split('@')[0] as string]: recorded,
  'actions/checkout': noop,
  'actions/setup-node': noop,
  'google-github-actions/auth': (step) => (step.with?.['workload_identity_provider'] && step.with['service_account'] ? 0 : 1),
  'google-github-actions/setup-gcloud': noop,
  'google-github-actions/get-gke-credentials': (step, ctx) => {
    const w = step.with ?? {}
    const context = String(w['context_name'] ?? `gke_${String(w['project_id'])}_${String(w['location'])}_${String(w['cluster_name'])}`)
    const file = join(kubeconfigs, `${context}.yaml`)
    if (!existsSync(file)) return 1
    ctx.exportEnv('KUBECONFIG', file)
    return 0
  },
  'marocchino/sticky-pull-request-comment': (step, ctx) => {
    const file = resolve(ctx.cwd, String(step.with?.['path']))
    if (!existsSync(file)) return 1
    posted.push(readFileSync(file, 'utf8'))
    return 0
  },
}

const SECRETS = {
  WIF_PROVIDER: 'projects/123/locations/global/workloadIdentityPools/github/providers/github',
  DEPLOY_SA: 'deployer@acme.iam.gserviceaccount.com',
  PREFLIGHT_SA: 'preflight@acme.iam.gserviceaccount.com',
}

function github(file: string, job: string, cwd: string, sha: string): Promise<JobRun & {summary: string}> {
  const env = runnerEnv({CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_SHA: sha, GITHUB_WORKSPACE: cwd})
  const summary = join(env.RUNNER_TEMP as string, 'step-summary.md')
  writeFileSync(summary, '')
  actionRefs.length = 0
  return runGithubJob(join(cwd, file), job, {cwd, env: {...env, GITHUB_STEP_SUMMARY: summary}, actions: ACTIONS, secrets: SECRETS}).then((r) => ({
    ...r,
    summary,
  }))
}

const sha40 = (): string => randomBytes(20).toString('hex')
const stepRunning = (r: JobRun, what: RegExp) => r.steps.find((s) => s.ran && what.test(s.name + ' ' + s.output))

/** What reached the deploy target: the Deployment (GKE) or the Cloud Run service, with the digest. */
function deployedDigests(setup: SetupName): string[] {
  if (setup === 'gke') {
    return kube
      .writes()
      .filter((w) => w.path.includes('/namespaces/shop/deployments'))
      .map((w) => /sha256:[0-9a-f]{64}/.exec(w.body)?.[0] ?? '')
  }
  return gcp.requests
    .filter((r) => r.method === 'CreateService' || r.method === 'UpdateService')
    .map((r) => /sha256:[0-9a-f]{64}/.exec(JSON.stringify(r.request))?.[0] ?? '')
}

async function attestNow(setup: SetupName, image: string): Promise<void> {
  const s = SETUPS[setup]
  const r = await runCli(
    [
      'attest',
      '--image',
      image,
      '--attestor',
      `projects/${s.project}/attestors/built-by-ci`,
      '--kms-key',
      s.kmsKey,
      ...localFlags()
        .filter(([f]) => f !== 'container-endpoint' && f !== 'run-endpoint')
        .flatMap(([f, v]) => (v === null ? [`--${f}`] : [`--${f}`, v])),
      '--json',
    ],
    {env: metadata.env(base)},
  )
  expect({code: r.code, stderr: r.stderr}).toEqual({code: 0, stderr: ''})
}

describe.each(Object.keys(SETUPS) as SetupName[])('GitHub Actions, as generated (%s)', (setup) => {
  const deploy = '.github/workflows/safe-deploy.yml'
  const pr = '.github/workflows/safe-deploy-preflight.yml'

  it('deploy on push: checks, attest, deploy all pass; the attested digest is deployed; the report is written', async () => {
    const sha = sha40()
    const {image, digest} = await commit(setup, sha)
    const cwd = checkout(setup, image)
    const before = gcp.state.grafeas.occurrences.length
    const r = await github(deploy, 'deploy', cwd, sha)
    expect({ok: r.ok, failed: r.steps.filter((s) => s.code !== 0)}).toEqual({ok: true, failed: []})
    // Attest and deploy both ran through the action, under the reference init wrote.
    expect(actionRefs).toEqual([SETUPS[setup].actionRef, SETUPS[setup].actionRef])
    expect(gcp.state.grafeas.occurrences.length).toBe(before + 1)
    expect(deployedDigests(setup)).toEqual([digest])
    if (setup === 'gke') {
      // The prod profile requires enforcement: the cluster of the context get-gke-credentials wrote was asked.
      expect(gcp.calls('GetCluster').map((c) => c.request.name)).toEqual([CLUSTER])
      expect(r.outputs['deploy']).toMatchObject({verdict: 'ALLOW', 'denied-count': '0'})
      expect(readFileSync(r.outputs['deploy']?.['report-path'] as string, 'utf8')).toMatch(/ALLOW/)
      expect(readFileSync(r.summary, 'utf8')).toMatch(/ALLOW/)
    }
  })

  it('deploy on push, an image nobody attested: the deploy step fails with exit 5, nothing is deployed', async () => {
    const sha = sha40()
    await commit(setup, sha)
    const cwd = checkout(setup, UNSIGNED[setup])
    const r = await github(deploy, 'deploy', cwd, sha)
    expect(r.ok).toBe(false)
    const failed = r.steps.filter((s) => s.code !== 0)
    expect(failed).toHaveLength(1)
    expect(failed[0]?.code).toBe(5)
    expect(failed[0]?.output).toMatch(/DENY/)
    expect(deployedDigests(setup)).toEqual([])
    if (setup === 'gke') {
      // The denied image is annotated at its manifest line, and the action's outputs say why the step failed.
      expect(failed[0]?.output).toMatch(/^::error file=k8s\/shop\.yaml,line=\d+,title=Binary Authorization would deny this image::/m)
      expect(r.outputs['deploy']).toMatchObject({verdict: 'DENY', 'denied-count': '1'})
      expect(readFileSync(r.outputs['deploy']?.['report-path'] as string, 'utf8')).toMatch(/DENY/)
    }
  })

  it('pull request, attested image: the pre-flight passes without cluster credentials and the report is posted', async () => {
    const sha = sha40()
    const {image} = await commit(setup, sha)
    await attestNow(setup, image)
    const cwd = checkout(setup, image)
    posted.length = 0
    const r = await github(pr, 'preflight', cwd, sha)
    expect({ok: r.ok, failed: r.steps.filter((s) => s.code !== 0)}).toEqual({ok: true, failed: []})
    expect(posted).toHaveLength(1)
    expect(posted[0]).toMatch(/ALLOW/)
    expect(actionRefs).toEqual([SETUPS[setup].actionRef])
    expect(r.outputs['preflight']?.verdict).toBe('ALLOW')
    expect(readFileSync(r.summary, 'utf8')).toMatch(/ALLOW/)
    expect(gcp.calls('GetCluster')).toEqual([])
  })

  it('pull request, an image nobody attested: the pre-flight step fails (exit 5), the report is still posted, the job fails', async () => {
    const cwd = checkout(setup, UNSIGNED[setup])
    posted.length = 0
    const r = await github(pr, 'preflight', cwd, sha40())
    expect(r.ok).toBe(false)
    const pre = stepRunning(r, /safe-deploy preflight|Pre-flight/)
    expect(pre?.code).toBe(5)
    expect(r.outputs['preflight']?.verdict).toBe('DENY')
    // The comment step ran after the failure (its `if:`), and posted the report the action wrote.
    expect(r.steps.at(-1)).toMatchObject({name: 'Comment the report', ran: true, code: 0})
    expect(posted).toHaveLength(1)
    expect(posted[0]).toMatch(/DENY/)
  })
})

// ───────────────────────────── GitLab CI ─────────────────────────────

describe.each(Object.keys(SETUPS) as SetupName[])('GitLab CI, as generated (%s)', (setup) => {
  const file = '.gitlab-ci.safe-deploy.yml'
  const vars = (sha: string, kind: 'main' | 'mr'): Record<string, string> => ({
    CI: 'true',
    GITLAB_CI: 'true',
    CI_COMMIT_SHA: sha,
    CI_DEFAULT_BRANCH: 'main',
    ...(kind === 'main' ? {CI_COMMIT_BRANCH: 'main', CI_PIPELINE_SOURCE: 'push'} : {CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_IID: '7'}),
    GCP_WORKLOAD_IDENTITY_PROVIDER: 'projects/123/locations/global/workloadIdentityPools/gitlab/providers/gitlab',
    GCP_SERVICE_ACCOUNT: 'deployer@acme.iam.gserviceaccount.com',
  })

  it('main: attest then deploy; the attested digest is deployed', async () => {
    const sha = sha40()
    const {image, digest} = await commit(setup, sha)
    const cwd = checkout(setup, image)
    const r = await runGitlabPipeline(join(cwd, file), {cwd, env: runnerEnv({CI_PROJECT_DIR: cwd}), vars: vars(sha, 'main')})
    expect({ok: r.ok, jobs: r.jobs.map((j) => [j.name, j.code, j.code === 0 ? '' : j.output])}).toEqual({
      ok: true,
      jobs: [
        ['attest', 0, ''],
        ['deploy', 0, ''],
      ],
    })
    expect(deployedDigests(setup)).toEqual([digest])
  })

  it('main, an image nobody attested: the deploy job fails with exit 5, nothing is deployed', async () => {
    const sha = sha40()
    await commit(setup, sha)
    const cwd = checkout(setup, UNSIGNED[setup])
    const r = await runGitlabPipeline(join(cwd, file), {cwd, env: runnerEnv({CI_PROJECT_DIR: cwd}), vars: vars(sha, 'main')})
    expect(r.ok).toBe(false)
    expect(r.jobs.map((j) => [j.name, j.code])).toEqual([
      ['attest', 0],
      ['deploy', 5],
    ])
    expect(deployedDigests(setup)).toEqual([])
  })

  it('merge request, an image nobody attested: the pre-flight job fails (exit 5) and keeps its report as an artifact', async () => {
    const cwd = checkout(setup, UNSIGNED[setup])
    const r = await runGitlabPipeline(join(cwd, file), {cwd, env: runnerEnv({CI_PROJECT_DIR: cwd}), vars: vars(sha40(), 'mr')})
    expect(r.jobs.map((j) => [j.name, j.code])).toEqual([['preflight', 5]])
    const job = r.jobs[0]?.job
    expect(job?.artifacts?.when).toBe('always')
    for (const p of job?.artifacts?.paths ?? []) expect(existsSync(join(cwd, p))).toBe(true)
    expect(readFileSync(join(cwd, 'preflight.md'), 'utf8')).toMatch(/DENY/)
  })

  it('merge request, attested image: the pre-flight passes without cluster credentials', async () => {
    const sha = sha40()
    const {image} = await commit(setup, sha)
    await attestNow(setup, image)
    const cwd = checkout(setup, image)
    const r = await runGitlabPipeline(join(cwd, file), {cwd, env: runnerEnv({CI_PROJECT_DIR: cwd}), vars: vars(sha, 'mr')})
    expect(r.jobs.map((j) => [j.name, j.code, j.code === 0 ? '' : j.output])).toEqual([['preflight', 0, '']])
    expect(readFileSync(join(cwd, 'preflight.md'), 'utf8')).toMatch(/ALLOW/)
  })
})

// ───────────────────────────── Cloud Build ─────────────────────────────

describe.each(Object.keys(SETUPS) as SetupName[])('Cloud Build, as generated (%s)', (setup) => {
  const file = 'cloudbuild.safe-deploy.yaml'
  const build = (cwd: string, sha: string) =>
    runCloudBuild(join(cwd, file), {cwd, env: runnerEnv(), substitutions: {SHORT_SHA: sha, COMMIT_SHA: sha, PROJECT_ID: SETUPS[setup].project}})

  it('test, attest, deploy pass; the attested digest is deployed', async () => {
    const sha = randomBytes(4).toString('hex').slice(0, 7)
    const {image, digest} = await commit(setup, sha)
    const cwd = checkout(setup, image)
    const r = await build(cwd, sha)
    expect({ok: r.ok, failed: r.steps.filter((s) => s.code !== 0).map((s) => [s.name, s.code, s.output])}).toEqual({ok: true, failed: []})
    expect(deployedDigests(setup)).toEqual([digest])
  })

  it('an image nobody attested: the deploy step fails with exit 5, nothing is deployed', async () => {
    const sha = randomBytes(4).toString('hex').slice(0, 7)
    await commit(setup, sha)
    const cwd = checkout(setup, UNSIGNED[setup])
    const r = await build(cwd, sha)
    expect(r.ok).toBe(false)
    expect(r.steps.filter((s) => s.code !== 0).map((s) => [s.name, s.code])).toEqual([['deploy', 5]])
    expect(deployedDigests(setup)).toEqual([])
  })
})
