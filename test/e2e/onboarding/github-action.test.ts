/**
 * The GitHub Action (action.yml, issue #16) run the way the runner runs a composite action
 * (test/support/ci-runners.ts runCompositeAction): each step's `run` through GitHub's bash with
 * `${{ inputs.* }}` substituted, GITHUB_ACTION_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and
 * GITHUB_WORKSPACE set, on the bundled example (templates/example) against the local registry.
 * The action's checkout is a copy of what a release tag carries (action.yml, bin, dist, package
 * files, the oclif manifest); its install step is the real `npm ci --omit=dev`, from npm's cache
 * (npm_config_offline: these machines have no registry access) on the first run, and on the second
 * finds the node_modules it made, as a release tag vendors them. Asserted for DENY and ALLOW: the
 * annotations (file, line), the outputs and the step summary.
 * Needs dist/ (npm run build:dist).
 */
import {afterAll, beforeAll, describe, expect, it, jest} from '@jest/globals'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {execFileSync} from 'node:child_process'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ROOT, isolatedEnv, runCli} from '../../support/cli.js'
import {startRegistry, type TestRegistry} from '../../support/registry.js'
import {makeAttestor, type TestAttestor} from '../../support/trust.js'
import {runCompositeAction, type CompositeRun} from '../../support/ci-runners.js'

jest.setTimeout(180_000)

const FRONTEND = 'us-docker.pkg.dev/acme-prod/shop/frontend:1.4.2'
const WORKER = 'us-docker.pkg.dev/acme-prod/shop/worker:1.4.2'

let reg: TestRegistry
let base: string
let actionDir: string
let ws: string
let ci: TestAttestor
let registry: string[]
let npmCache: string

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'sd-action-'))
  // The action's checkout at a release tag: what `uses: ORG/safe-deploy@v1` downloads.
  actionDir = join(base, 'action')
  mkdirSync(actionDir)
  for (const f of ['action.yml', 'bin', 'dist', 'package.json', 'package-lock.json', 'oclif.manifest.json'])
    cpSync(join(ROOT, f), join(actionDir, f), {recursive: true})
  // The repository the workflow checked out: the bundled example.
  ws = join(base, 'repo')
  cpSync(join(ROOT, 'templates/example'), ws, {recursive: true})
  mkdirSync(join(ws, 'attestations'))
  reg = await startRegistry()
  await reg.pushImage('acme-prod/shop/frontend', '1.4.2')
  await reg.pushImage('acme-prod/shop/worker', '1.4.2')
  await reg.pushImage('library/redis', '7.2')
  ci = makeAttestor(join(ws, 'attestors'), join(base, 'keys'), 'acme-prod', 'built-by-ci')
  registry = ['--insecure-registry', reg.host, '--registry-mirror', `us-docker.pkg.dev=${reg.host}`, '--registry-mirror', `docker.io=${reg.host}`]
  npmCache = execFileSync('npm', ['config', 'get', 'cache'], {encoding: 'utf8'}).trim()
}, 60_000)

afterAll(async () => {
  await reg?.stop()
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

/** SAFE_DEPLOY_TEST_TIMINGS=1 prints each step's wall time (the figures in README "GitHub Action"). */
async function runAction(
  inputs: Record<string, string> = {
    files: 'k8s/',
    policy: 'policy.yaml',
    cluster: 'us-central1.prod',
    // One argument per line: the form for values with spaces; here the local trust files and registry.
    args: ['--attestors', 'attestors', '--attestations', 'attestations', ...registry].join('\n') + '\n',
  },
): Promise<CompositeRun> {
  const tmp = mkdtempSync(join(base, 'runner-'))
  const run = await runCompositeAction(join(actionDir, 'action.yml'), {
    inputs,
    cwd: ws,
    tmp,
    env: isolatedEnv({RUNNER_TEMP: tmp, npm_config_cache: npmCache, npm_config_offline: 'true', npm_config_update_notifier: 'false'}),
  })
  if (process.env.SAFE_DEPLOY_TEST_TIMINGS === '1') process.stderr.write(`action steps: ${run.steps.map((s) => `${s.name} ${s.ms} ms`).join(', ')}\n`)
  return run
}

const lineOf = (image: string, nth = 0): number => {
  const lines = readFileSync(join(ws, 'k8s/shop.yaml'), 'utf8').split('\n')
  const at = lines.flatMap((l, i) => (l.includes(image) ? [i + 1] : []))
  return at[nth] as number
}

describe('the GitHub Action on the bundled example', () => {
  it('DENY: the step fails with exit 5; each denied image annotated at its line; outputs and summary written', async () => {
    await attest(FRONTEND)
    const run = await runAction()
    const [install, step] = run.steps
    expect(install?.code).toBe(0)
    expect(existsSync(join(actionDir, 'node_modules/@oclif/core'))).toBe(true)
    // Production dependencies only: no TypeScript, no jest in the action's checkout.
    expect(existsSync(join(actionDir, 'node_modules/typescript'))).toBe(false)
    expect(step?.code).toBe(5)
    expect(run.ok).toBe(false)
    const errors = run.annotations.filter((a) => a.level === 'error')
    expect(errors.map((a) => [a.props.file, Number(a.props.line)])).toEqual([
      ['k8s/shop.yaml', lineOf(WORKER, 0)],
      ['k8s/shop.yaml', lineOf(WORKER, 1)],
    ])
    expect(errors[0]?.props.title).toBe('Binary Authorization would deny this image')
    expect(errors[0]?.message).toContain(`${WORKER} (Deployment/worker container migrate): requires attestor ${ci.name}`)
    expect(errors[0]?.message).toMatch(/\nnext: safe-deploy attest/)
    expect(run.outputs.verdict).toBe('DENY')
    expect(run.outputs['denied-count']).toBe('2')
    expect(run.outputs['report-path']).toMatch(/safe-deploy-report\.md$/)
    expect(existsSync(run.outputs['report-path'] as string)).toBe(true)
    const digests = JSON.parse(run.outputs.digests as string) as Record<string, string>
    expect(Object.keys(digests).sort()).toEqual([FRONTEND, WORKER, 'redis:7.2'].sort())
    expect(Object.values(digests).every((d) => /^sha256:[0-9a-f]{64}$/.test(d))).toBe(true)
    expect(run.summary).toContain('DENY')
    expect(run.summary).toContain('k8s/shop.yaml')
  })

  it('ALLOW: the step passes; no error annotation; verdict ALLOW and no denial', async () => {
    await attest(WORKER)
    const run = await runAction()
    expect(run.steps.map((s) => s.code)).toEqual([0, 0])
    // The first run's install is what a release tag vendors: no second install.
    expect(run.steps[0]?.output).toContain('using the vendored node_modules')
    expect(run.ok).toBe(true)
    expect(run.annotations.filter((a) => a.level === 'error')).toEqual([])
    expect(run.outputs).toMatchObject({verdict: 'ALLOW', 'denied-count': '0'})
    expect(Object.keys(JSON.parse(run.outputs.digests as string) as object)).toHaveLength(3)
    expect(run.summary).toContain('ALLOW')
  })

  it('command "policy lint" with one-line args: findings annotated at the policy lines, the step failing with exit 7', async () => {
    writeFileSync(join(ws, 'policy-draft.yaml'), 'defaultAdmissionRule:\n  evaluationMode: SOMETIMES\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n')
    const run = await runAction({command: 'policy lint', policy: 'policy-draft.yaml', args: '--target gke --strict'})
    expect(run.steps[1]?.code).toBe(7)
    const errors = run.annotations.filter((a) => a.level === 'error')
    expect(errors.length).toBeGreaterThan(0)
    expect(errors[0]?.props).toMatchObject({file: 'policy-draft.yaml', line: '2'})
    expect(run.summary).toContain('safe-deploy policy lint policy-draft.yaml')
  })
})
