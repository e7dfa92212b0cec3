/**
 * The Argo CD Config Management Plugin (templates/argocd/plugin.yaml, issue #16) run as the
 * repo-server's cmp-server runs it: its `init` then `generate` command, exec'd with argument arrays
 * in the app directory (a copy of templates/example with a .safe-deploy.yaml), with Argo CD's build
 * environment, the Application's parameter as PARAM_POLICY and its plugin env as
 * ARGOCD_ENV_SAFE_DEPLOY_*. `safe-deploy` on PATH is the built CLI with the local registry added as
 * the mirror of us-docker.pkg.dev and docker.io (as the sidecar image would have it, pointed here).
 * Asserted: ALLOW prints only the pinned Kubernetes objects (the same bytes on a second run);
 * DENY and a registry outage print nothing on stdout, exit non-zero, and say one line on stderr.
 * A Helm chart app is rendered by the real helm (test/support/helm.ts) as Argo CD renders a Helm source,
 * and what is printed is helm's own output with only the image references pinned.
 * Needs dist/ (npm run build:dist).
 */
import {afterAll, beforeAll, describe, expect, it, jest} from '@jest/globals'
import {execFile} from 'node:child_process'
import {chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse as parseYaml, parseAllDocuments} from 'yaml'
import {BIN, ROOT, isolatedEnv, runCli} from '../../support/cli.js'
import {startRegistry, type TestRegistry} from '../../support/registry.js'
import {makeAttestor, type TestAttestor} from '../../support/trust.js'
import {HELM_DIR, describeWithHelm} from '../../support/helm.js'

jest.setTimeout(120_000)

const FRONTEND = 'us-docker.pkg.dev/acme-prod/shop/frontend:1.4.2'
const WORKER = 'us-docker.pkg.dev/acme-prod/shop/worker:1.4.2'

interface Plugin {
  metadata: {name: string}
  spec: {version: string; init: {command: string[]}; generate: {command: string[]}; discover: {fileName: string}; parameters: {static: Array<{name: string}>}}
}
const plugin = parseYaml(readFileSync(join(ROOT, 'templates/argocd/plugin.yaml'), 'utf8')) as Plugin

let reg: TestRegistry
let base: string
let app: string
let ci: TestAttestor
/** PATH directories holding a `safe-deploy`: the registry up, and one that refuses every connection. */
let up: string
let down: string

/** `safe-deploy` as the sidecar image has it, with the registry the test gives. */
function installSafeDeploy(dir: string, host: string): void {
  mkdirSync(dir, {recursive: true})
  const extra = ['--insecure-registry', host, '--registry-mirror', `us-docker.pkg.dev=${host}`, '--registry-mirror', `docker.io=${host}`]
  writeFileSync(
    join(dir, 'safe-deploy'),
    `#!/usr/bin/env node
// The built safe-deploy (${BIN}); argocd generate gets the test's registry as the mirror of the real ones.
const {spawnSync} = require('node:child_process')
const argv = process.argv.slice(2)
const extra = argv[0] === 'argocd' ? ${JSON.stringify(extra)} : []
const r = spawnSync(process.execPath, [${JSON.stringify(BIN)}, ...argv, ...extra], {stdio: 'inherit'})
process.exit(r.status === null ? 1 : r.status)
`,
  )
  chmodSync(join(dir, 'safe-deploy'), 0o755)
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'sd-argocd-'))
  app = join(base, 'repo/deploy/prod')
  cpSync(join(ROOT, 'templates/example'), app, {recursive: true})
  mkdirSync(join(app, 'attestations'))
  // The app's config: the prod profile names the trust files beside the manifests.
  writeFileSync(join(app, '.safe-deploy.yaml'), 'profiles:\n  prod:\n    attestors: attestors\n    attestations: attestations\n')
  reg = await startRegistry()
  await reg.pushImage('acme-prod/shop/frontend', '1.4.2')
  await reg.pushImage('acme-prod/shop/worker', '1.4.2')
  await reg.pushImage('library/redis', '7.2')
  ci = makeAttestor(join(app, 'attestors'), join(base, 'keys'), 'acme-prod', 'built-by-ci')
  up = join(base, 'up')
  down = join(base, 'down')
  installSafeDeploy(up, reg.host)
  installSafeDeploy(down, '127.0.0.1:1')
}, 60_000)

afterAll(async () => {
  await reg?.stop()
  if (base) rmSync(base, {recursive: true, force: true})
})

async function attest(image: string): Promise<void> {
  const registry = ['--insecure-registry', reg.host, '--registry-mirror', `us-docker.pkg.dev=${reg.host}`]
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
    {cwd: app},
  )
  expect(r.code).toBe(0)
}

/** The cmp-server: the command as an argument array, in the app directory, with Argo CD's environment. */
function exec(
  command: string[],
  pathDir: string,
  cwd = app,
  extra: Record<string, string> = {},
): Promise<{code: number; stdout: string; stderr: string; ms: number}> {
  const env = isolatedEnv({
    PATH: `${pathDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    ARGOCD_APP_NAME: 'shop-prod',
    ARGOCD_APP_NAMESPACE: 'argocd',
    ARGOCD_APP_PROJECT_NAME: 'default',
    ARGOCD_APP_REVISION: '0123456789abcdef0123456789abcdef01234567',
    ARGOCD_APP_REVISION_SHORT: '0123456',
    ARGOCD_APP_SOURCE_PATH: 'deploy/prod',
    ARGOCD_APP_SOURCE_REPO_URL: 'https://github.com/acme/shop.git',
    ARGOCD_APP_SOURCE_TARGET_REVISION: 'main',
    KUBE_VERSION: '1.33.0',
    // The Application: parameters: [{name: policy, string: policy.yaml}]; env: SAFE_DEPLOY_PROFILE, SAFE_DEPLOY_CLUSTER.
    ARGOCD_APP_PARAMETERS: JSON.stringify([{name: 'policy', string: 'policy.yaml'}]),
    PARAM_POLICY: 'policy.yaml',
    ARGOCD_ENV_SAFE_DEPLOY_PROFILE: 'prod',
    ARGOCD_ENV_SAFE_DEPLOY_CLUSTER: 'us-central1.prod',
    ...extra,
  })
  const started = Date.now()
  return new Promise((resolve) => {
    execFile(command[0] as string, command.slice(1), {cwd, env, encoding: 'utf8'}, (err, stdout, stderr) => {
      resolve({code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, ms: Date.now() - started})
    })
  })
}

async function generate(pathDir = up, cwd = app, extra: Record<string, string> = {}): Promise<{code: number; stdout: string; stderr: string; ms: number}> {
  const init = await exec(plugin.spec.init.command, pathDir, cwd, extra)
  expect(init.code).toBe(0)
  return exec(plugin.spec.generate.command, pathDir, cwd, extra)
}

describe('the Argo CD plugin on the bundled example', () => {
  it('plugin.yaml: CMP v2, discovered by the app config, parameters announced', () => {
    expect(plugin.metadata.name).toBe('safe-deploy')
    expect(plugin.spec.version).toBe('v1')
    expect(plugin.spec.discover.fileName).toBe('./.safe-deploy.yaml')
    expect(plugin.spec.parameters.static.map((p) => p.name).sort()).toEqual(['cluster', 'manifests', 'policy', 'profile', 'project', 'values'])
    expect(plugin.spec.generate.command[0]).toBe('safe-deploy')
  })

  it('DENY: nothing on stdout, exit 5, one line on stderr naming the image and its line', async () => {
    await attest(FRONTEND)
    const r = await generate()
    expect(r.stdout).toBe('')
    expect(r.code).toBe(5)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^safe-deploy: DENY: 2 problem\(s\), nothing generated: /)
    expect(lines[0]).toContain(`${WORKER} (Deployment/worker container migrate): requires attestor ${ci.name}`)
    expect(lines[0]).toMatch(/at k8s\/shop\.yaml:\d+/)
  })

  it('a registry outage: nothing on stdout, exit 4, one line on stderr', async () => {
    const r = await generate(down)
    expect(r.stdout).toBe('')
    expect(r.code).toBe(4)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^safe-deploy: REGISTRY_\w+: /)
    expect(lines[0]).toContain('127.0.0.1:1')
  })

  it("ALLOW: stdout is only the app's Kubernetes objects, pinned, the same bytes every time", async () => {
    await attest(WORKER)
    const r = await generate()
    expect(r.code).toBe(0)
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as {apiVersion?: string; kind?: string})
    // The manifests only: not the config, the policy, the attestors or the attestations beside them.
    expect(docs.map((d) => `${d.apiVersion}/${d.kind}`)).toEqual(['apps/v1/Deployment', 'v1/Service', 'apps/v1/Deployment'])
    const images = [...r.stdout.matchAll(/image: "?([^"\s]+)/g)].map((m) => m[1])
    expect(images).toHaveLength(4)
    for (const i of images) expect(i).toMatch(/@sha256:[0-9a-f]{64}$/)
    expect(r.stderr).toMatch(/^safe-deploy: ALLOW \(4 image\(s\)/m)
    if (process.env.SAFE_DEPLOY_TEST_TIMINGS === '1') process.stderr.write(`argocd generate: ${r.ms} ms\n`)
    const again = await generate()
    expect(again.stdout).toBe(r.stdout)
  })

  it("a 100-document app (50 Deployments, 50 Services; the registry warm) generates well inside Argo CD's 90 s", async () => {
    const big = join(base, 'repo/deploy/big')
    mkdirSync(join(big, 'k8s'), {recursive: true})
    for (const f of ['.safe-deploy.yaml', 'policy.yaml', 'attestors', 'attestations']) cpSync(join(app, f), join(big, f), {recursive: true})
    const docs: string[] = []
    for (let i = 0; i < 50; i++) {
      const image = i % 2 === 0 ? FRONTEND : WORKER
      docs.push(
        `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app-${i}, namespace: shop}\nspec:\n  selector: {matchLabels: {app: app-${i}}}\n  template:\n    metadata: {labels: {app: app-${i}}}\n    spec:\n      containers:\n        - name: c\n          image: ${image}\n`,
        `apiVersion: v1\nkind: Service\nmetadata: {name: app-${i}, namespace: shop}\nspec:\n  selector: {app: app-${i}}\n  ports: [{port: 80}]\n`,
      )
    }
    writeFileSync(join(big, 'k8s/app.yaml'), docs.join('---\n'))
    const r = await generate(up, big)
    expect(r.stderr).toMatch(/^safe-deploy: ALLOW \(50 image\(s\)/m)
    expect(r.code).toBe(0)
    expect(parseAllDocuments(r.stdout)).toHaveLength(100)
    if (process.env.SAFE_DEPLOY_TEST_TIMINGS === '1') process.stderr.write(`argocd generate, 100 documents: ${r.ms} ms\n`)
    // Generous for a shared CI machine; the figure in the README is measured with SAFE_DEPLOY_TEST_TIMINGS=1.
    expect(r.ms).toBeLessThan(30_000)
  })
})

/** A chart as an app directory: two images from values, the release name and namespace in every object. */
function writeChart(dir: string): void {
  mkdirSync(join(dir, 'templates'), {recursive: true})
  for (const f of ['.safe-deploy.yaml', 'policy.yaml', 'attestors', 'attestations']) cpSync(join(app, f), join(dir, f), {recursive: true})
  writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: shop\nversion: 0.1.0\n')
  writeFileSync(join(dir, 'values.yaml'), `frontend: {image: "${FRONTEND}"}\nworker: {image: "${WORKER}"}\n`)
  writeFileSync(join(dir, 'values-cache.yaml'), 'worker: {image: "docker.io/library/redis:7.2"}\n')
  const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-${name}
  namespace: {{ .Release.Namespace }}
  annotations:
    kube-version: {{ .Capabilities.KubeVersion.Version | quote }}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
        - name: ${name}
          image: {{ .Values.${name}.image | quote }}
`
  writeFileSync(join(dir, 'templates/frontend.yaml'), deployment('frontend'))
  writeFileSync(join(dir, 'templates/worker.yaml'), deployment('worker'))
}

/** helm itself, run in `dir`, with the arguments given. */
function helm(dir: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(join(HELM_DIR, 'helm'), args, {cwd: dir, encoding: 'utf8'}, (err, stdout) => (err ? reject(err) : resolve(stdout)))
  })
}

describeWithHelm('the Argo CD plugin on a Helm chart (the real helm 3.17.3)', () => {
  let chart: string
  let withHelm: string

  beforeAll(async () => {
    await attest(FRONTEND)
    await attest(WORKER)
    chart = join(base, 'repo/deploy/chart')
    writeChart(chart)
    withHelm = `${up}:${HELM_DIR}`
  })

  it("ALLOW: helm's own output, with only the image references pinned; release, namespace and cluster version from Argo CD's environment", async () => {
    const r = await generate(withHelm, chart)
    expect(r.stderr).toMatch(/^safe-deploy: ALLOW \(2 image\(s\)/m)
    expect(r.code).toBe(0)
    const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as {metadata: {name: string; namespace: string; annotations: Record<string, string>}})
    expect(objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['argocd/shop-prod-frontend', 'argocd/shop-prod-worker'])
    expect(objects[0]?.metadata.annotations['kube-version']).toBe('v1.33.0')
    // The same chart through helm directly, as Argo CD would run it: every line the same but the images.
    const rendered = await helm(chart, ['template', 'shop-prod', '.', '--include-crds', '--namespace', 'argocd', '--kube-version', '1.33.0'])
    const ours = r.stdout.trimEnd().split('\n')
    const theirs = rendered.trimEnd().split('\n')
    expect(ours).toHaveLength(theirs.length)
    const changed = ours.flatMap((line, i) => (line === theirs[i] ? [] : [[theirs[i], line]]))
    expect(changed).toHaveLength(2)
    // Each image keeps its reference as written, tag included, and gains the digest it resolved to.
    for (const [before, after] of changed)
      expect(after).toMatch(new RegExp(`^${(before ?? '').replace(/"$/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}@sha256:[0-9a-f]{64}"$`))
  })

  it('DENY: the values parameter swaps in an image no attestor signed; nothing on stdout, exit 5, one line', async () => {
    const r = await generate(withHelm, chart, {PARAM_VALUES_0: 'values.yaml', PARAM_VALUES_1: 'values-cache.yaml'})
    expect(r.stdout).toBe('')
    expect(r.code).toBe(5)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^safe-deploy: DENY: /)
    expect(lines[0]).toContain('docker.io/library/redis:7.2 (Deployment/shop-prod-worker container worker)')
  })

  it('a values URL is refused (helm would fetch it): nothing on stdout, exit 3', async () => {
    const r = await generate(withHelm, chart, {ARGOCD_ENV_SAFE_DEPLOY_VALUES: 'https://example.com/values.yaml'})
    expect(r.stdout).toBe('')
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/values file https:\/\/example\.com\/values\.yaml: a URL, not a file of the app/)])
  })

  it("a chart that helm cannot render: helm's reason on one line, nothing on stdout, exit 3", async () => {
    const broken = join(base, 'repo/deploy/broken-chart')
    writeChart(broken)
    writeFileSync(join(broken, 'templates/bad.yaml'), 'kind: ConfigMap\nname: {{ .Values.missing.deeper }}\n')
    const r = await generate(withHelm, broken)
    expect(r.stdout).toBe('')
    expect(r.code).toBe(3)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/helm:\.: helm template \. failed: .*nil pointer evaluating interface \{\}\.deeper/)
  })
})

describe('the Argo CD plugin on a Helm chart without helm', () => {
  it('names helm as missing: nothing on stdout, exit 3, one line', async () => {
    const chart = join(base, 'repo/deploy/chart-nohelm')
    writeChart(chart)
    // Only the safe-deploy stand-in and node on PATH: no helm, whatever the machine has.
    const r = await generate(up, chart, {PATH: `${up}:${join(process.execPath, '..')}`})
    expect(r.stdout).toBe('')
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^safe-deploy: .*helm:\.: cannot run helm: not found on PATH/)])
  })
})
