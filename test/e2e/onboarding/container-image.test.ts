/**
 * The container image (Dockerfile) and the Cloud Build template (templates/cloudbuild/cloudbuild.yaml),
 * issue #16, without a container runtime (these machines have none): the Dockerfile's stages run as
 * shell steps. Each stage gets a directory as its root; the build stage's COPY lines copy from this
 * checkout, its RUN lines run through `sh -c` in its WORKDIR (the real `npm ci`, from npm's cache with
 * npm_config_offline: no registry access here), the runtime stage's COPY --from takes the build stage's
 * output, and the ENTRYPOINT command line runs with Node 22 standing for the distroless image's
 * /nodejs/bin/node and nothing else on PATH (the image has no kubectl, no shell). Then the Cloud Build
 * steps run as Cloud Build runs them (runCloudBuild), each safe-deploy step being that ENTRYPOINT with
 * the step's args, on the bundled example (templates/example) against the local registry: DENY stops
 * the build at the pre-flight with exit 5 and nothing applied; ALLOW applies to the Kubernetes API
 * double. Only the credentials step (gcloud) stands in: it writes the double's kubeconfig.
 * SAFE_DEPLOY_TEST_TIMINGS=1 prints the build stage's steps' times and the image's /app size.
 */
import {afterAll, beforeAll, describe, expect, it, jest} from '@jest/globals'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {execFileSync} from 'node:child_process'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {ROOT, isolatedEnv, runCli} from '../../support/cli.js'
import {startRegistry, type TestRegistry} from '../../support/registry.js'
import {startKubeApiServer, type KubeApiServer} from '../../support/kube-apiserver.js'
import {makeAttestor, type TestAttestor} from '../../support/trust.js'
import {exec, runCloudBuild} from '../../support/ci-runners.js'

jest.setTimeout(600_000)

const FRONTEND = 'us-docker.pkg.dev/acme-prod/shop/frontend:1.4.2'
const WORKER = 'us-docker.pkg.dev/acme-prod/shop/worker:1.4.2'
const IMAGE = 'us-docker.pkg.dev/acme-tools/tools/safe-deploy@sha256:' + 'a'.repeat(64)

interface Instruction {
  op: string
  args: string
}
interface Stage {
  from: string
  name: string | undefined
  instructions: Instruction[]
}

/** The Dockerfile as stages of instructions: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = []
  const lines = text.replace(/\\\n/g, ' ').split('\n')
  for (const line of lines) {
    const t = line.trim()
    if (t === '' || t.startsWith('#')) continue
    const m = /^(\w+)\s+(.*)$/.exec(t)
    if (!m) throw new Error(`Dockerfile: cannot read "${t}"`)
    const op = (m[1] as string).toUpperCase()
    const args = m[2] as string
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)
      stages.push({from: f?.[1] as string, name: f?.[2], instructions: []})
    } else {
      const stage = stages.at(-1)
      if (!stage) throw new Error(`Dockerfile: ${op} before FROM`)
      stage.instructions.push({op, args})
    }
  }
  return stages
}

let base: string
let reg: TestRegistry
let kube: KubeApiServer
let ws: string
let ci: TestAttestor
let registry: string[]
let stages: Stage[]
/** The runtime stage's root: its /app is the image's. */
let runtimeRoot: string
let entrypoint: string[]
const timings: string[] = []

/** Run one stage: WORKDIR, COPY (from the context or an earlier stage), RUN; returns its root. */
async function runStage(stage: Stage, roots: Record<string, string>, env: Record<string, string>): Promise<string> {
  const root = mkdtempSync(join(base, `stage-${stage.name ?? 'x'}-`))
  let workdir = '/'
  const inRoot = (p: string, r = root) => join(r, p.startsWith('/') ? p : join(workdir, p))
  for (const {op, args} of stage.instructions) {
    if (op === 'WORKDIR') {
      workdir = args.startsWith('/') ? args : join(workdir, args)
      mkdirSync(inRoot(workdir), {recursive: true})
    } else if (op === 'COPY') {
      const words = args.split(/\s+/)
      const from = words[0]?.startsWith('--from=') ? (words.shift() as string).slice('--from='.length) : undefined
      const dest = words.pop() as string
      const srcRoot = from === undefined ? ROOT : roots[from]
      if (srcRoot === undefined) throw new Error(`COPY --from=${from}: no such stage`)
      for (const src of words) {
        const source = from === undefined ? join(ROOT, src) : join(srcRoot, src)
        // `COPY a b ./` puts each into the directory; `COPY dir ./dir` copies the directory's contents there.
        const target = dest.endsWith('/') ? join(inRoot(dest), src.split('/').at(-1) as string) : inRoot(dest)
        mkdirSync(dirname(target), {recursive: true})
        cpSync(source, target, {recursive: true})
      }
    } else if (op === 'RUN') {
      const started = Date.now()
      const r = await exec('sh', ['-c', args], {cwd: inRoot(workdir), env, timeoutMs: 500_000})
      timings.push(`${args.slice(0, 40)}… ${Date.now() - started} ms`)
      if (r.code !== 0) throw new Error(`RUN ${args} failed (${r.code}):\n${r.output}`)
    } else if (!['USER', 'ENTRYPOINT', 'ENV', 'LABEL'].includes(op)) throw new Error(`Dockerfile: ${op} is not run here`)
  }
  return root
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'sd-image-'))
  stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
  const npmCache = execFileSync('npm', ['config', 'get', 'cache'], {encoding: 'utf8'}).trim()
  const buildEnv = isolatedEnv({
    PATH: [dirname(process.execPath), process.env.PATH ?? '/usr/bin:/bin'].join(':'),
    npm_config_cache: npmCache,
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
  })
  const roots: Record<string, string> = {}
  for (const stage of stages) {
    const root = await runStage(stage, roots, buildEnv)
    if (stage.name) roots[stage.name] = root
    runtimeRoot = root
  }
  const ep = stages.at(-1)?.instructions.find((i) => i.op === 'ENTRYPOINT')
  entrypoint = JSON.parse(ep?.args ?? 'null') as string[]

  ws = join(base, 'repo')
  cpSync(join(ROOT, 'templates/example'), ws, {recursive: true})
  mkdirSync(join(ws, 'attestations'))
  ;[reg, kube] = await Promise.all([startRegistry(), startKubeApiServer()])
  await reg.pushImage('acme-prod/shop/frontend', '1.4.2')
  await reg.pushImage('acme-prod/shop/worker', '1.4.2')
  await reg.pushImage('library/redis', '7.2')
  ci = makeAttestor(join(ws, 'attestors'), join(base, 'keys'), 'acme-prod', 'built-by-ci')
  registry = ['--insecure-registry', reg.host, '--registry-mirror', `us-docker.pkg.dev=${reg.host}`, '--registry-mirror', `docker.io=${reg.host}`]
  // The profile the Cloud Build steps name (_PROFILE): the example's policy and local trust files.
  writeFileSync(
    join(ws, '.safe-deploy.yaml'),
    [
      'apiVersion: safe-deploy.dev/v1',
      'kind: Config',
      'profiles:',
      '  prod:',
      '    target: gke',
      '    policy: policy.yaml',
      '    attestors: attestors',
      '    attestations: attestations',
      '',
    ].join('\n'),
  )
  await attest(FRONTEND)
  if (process.env.SAFE_DEPLOY_TEST_TIMINGS === '1')
    process.stderr.write(`build stage: ${timings.join(', ')}; /app: ${execFileSync('du', ['-sh', join(runtimeRoot, 'app')], {encoding: 'utf8'})}`)
}, 600_000)

afterAll(async () => {
  await Promise.all([reg?.stop(), kube?.stop()])
  if (base) rmSync(base, {recursive: true, force: true})
})

async function attest(image: string): Promise<void> {
  const r = await runCli(
    [
      'attest',
      '--image',
      image,
      '--attestor',
      ci.name,
      '--attestors',
      'attestors',
      '--private-key',
      ci.privateKeyFile,
      '--output-dir',
      'attestations',
      ...registry,
    ],
    {cwd: ws},
  )
  expect(r.stderr).toContain('attested: ')
  expect(r.code).toBe(0)
}

/** The image's ENTRYPOINT with ARGS: /nodejs/bin/node is this Node 22, /app the runtime stage's; PATH has no kubectl. */
function imageCommand(args: string[]): {file: string; args: string[]} {
  const [node, script, ...rest] = entrypoint
  expect(node).toBe('/nodejs/bin/node')
  return {file: process.execPath, args: [join(runtimeRoot, script as string), ...rest, ...args]}
}
const imageEnv = () => isolatedEnv({PATH: mkdtempSync(join(base, 'empty-path-'))})

describe('Dockerfile', () => {
  it('two stages: node:22 build, distroless Node 22 runtime, non-root, the CLI as exec-form ENTRYPOINT', () => {
    expect(stages.map((s) => s.from)).toEqual(['node:22-bookworm', 'gcr.io/distroless/nodejs22-debian12:nonroot'])
    const runtime = stages[1] as Stage
    const user = runtime.instructions.filter((i) => i.op === 'USER').at(-1)?.args ?? ''
    expect(user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/)
    expect(entrypoint).toEqual(['/nodejs/bin/node', '/app/bin/run.js'])
    // The runtime holds the package's files and production dependencies only.
    const app = join(runtimeRoot, 'app')
    for (const f of [
      'package.json',
      'oclif.manifest.json',
      'bin/run.js',
      'dist/index.js',
      'templates/example/policy.yaml',
      'src/schemas',
      'node_modules/@oclif/core',
    ])
      expect({f, present: existsSync(join(app, f))}).toEqual({f, present: true})
    for (const f of ['node_modules/typescript', 'node_modules/jest', 'src/core', 'test'])
      expect({f, present: existsSync(join(app, f))}).toEqual({f, present: false})
  })

  it('.dockerignore keeps local dependencies, build output, tests, git history and key files out of the context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')
    for (const p of ['node_modules', 'dist', 'test', '.git', '**/*.pem', '**/*.key']) expect(ignored).toContain(p)
  })

  it('the ENTRYPOINT on the bundled example: DENY (exit 5) with the worker unattested; --version', async () => {
    const r = await exec(
      imageCommand(['preflight', '-f', 'k8s/', '--policy', 'policy.yaml', '--attestors', 'attestors', '--attestations', 'attestations', ...registry]).file,
      imageCommand(['preflight', '-f', 'k8s/', '--policy', 'policy.yaml', '--attestors', 'attestors', '--attestations', 'attestations', ...registry]).args,
      {cwd: ws, env: imageEnv()},
    )
    expect(r.output).toMatch(/DENY/)
    expect(r.code).toBe(5)
    const v = await exec(imageCommand(['--version']).file, imageCommand(['--version']).args, {cwd: ws, env: imageEnv()})
    expect(v.code).toBe(0)
    expect(v.output).toContain(`safe-deploy/${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {version: string}).version}`)
  })
})

describe('templates/cloudbuild/cloudbuild.yaml, each step run as Cloud Build runs it, the safe-deploy steps being the image', () => {
  const build = () =>
    runCloudBuild(join(ROOT, 'templates/cloudbuild/cloudbuild.yaml'), {
      cwd: ws,
      env: imageEnv(),
      substitutions: {_SAFE_DEPLOY_IMAGE: IMAGE, _CLUSTER: 'prod', _LOCATION: 'us-central1', PROJECT_ID: 'acme-prod'},
      // The local registry stands for Google's: the same flags added to every safe-deploy step.
      images: {[IMAGE]: (args) => imageCommand([...args, ...registry])},
      standIns: {
        // What its script writes (a kubeconfig at /workspace/.kube/config, the workspace mounted): the double's.
        credentials: ({cwd, args}) => {
          expect(args.join(' ')).toContain('> /workspace/.kube/config')
          kube.writeKubeconfig(join(cwd, '.kube'), {fileName: 'config'})
          return 0
        },
      },
    })

  it('DENY: the pre-flight step fails with exit 5; no credentials fetched, nothing applied', async () => {
    kube.clearRequests()
    rmSync(join(ws, '.kube'), {recursive: true, force: true})
    const r = await build()
    expect(r.steps.map((s) => [s.name, s.ran, s.code])).toEqual([
      ['preflight', true, 5],
      ['credentials', false, 0],
      ['apply', false, 0],
    ])
    expect(r.steps[0]?.output).toMatch(/DENY/)
    expect(kube.writes()).toEqual([])
  })

  it('ALLOW: pre-flight, credentials, apply pass; the Deployments reach the cluster pinned to digests', async () => {
    await attest(WORKER)
    kube.clearRequests()
    const r = await build()
    expect(r.steps.map((s) => [s.name, s.code, s.code === 0 ? '' : s.output])).toEqual([
      ['preflight', 0, ''],
      ['credentials', 0, ''],
      ['apply', 0, ''],
    ])
    const deployments = kube.writes().filter((w) => w.path.includes('/deployments'))
    expect(deployments.length).toBeGreaterThan(0)
    for (const w of deployments) expect(w.body).toMatch(/@sha256:[0-9a-f]{64}/)
  })
})
