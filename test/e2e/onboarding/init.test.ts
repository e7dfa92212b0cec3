/**
 * `safe-deploy init` through flags: golden files for a GKE and a Cloud Run setup, every generated policy
 * passes `policy lint` and loads in `preflight`, the generated .safe-deploy.yaml drives `preflight --profile`,
 * nothing is overwritten without --force, invalid answers are usage errors naming the problem.
 * Needs dist/ (npm run build:dist). UPDATE_GOLDEN=1 rewrites test/e2e/onboarding/golden/.
 */
import {beforeAll, describe, expect, it} from '@jest/globals'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {runCli, isolatedEnv, ROOT} from '../../support/cli.js'
import {schemaErrors} from '../../support/schemas.js'
import {makeAttestor} from '../../support/trust.js'
import {DIGEST, expectGolden, listFiles, tmp, writeKubeconfig} from './helpers.js'
import type {GithubStep} from '../../support/ci-runners.js'

/** No --action-ref below: the default, the package's repository at its version tag. */
const DEFAULT_ACTION_REF = `safe-deploy/safe-deploy@v${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {version: string}).version}`

const CI_FILES = [
  '.github/workflows/safe-deploy-preflight.yml',
  '.github/workflows/safe-deploy.yml',
  '.gitlab-ci.safe-deploy.yml',
  'cloudbuild.safe-deploy.yaml',
]
const ALL_FILES = ['.safe-deploy.yaml', 'policies/dev.yaml', 'policies/prod.yaml', 'policies/staging.yaml', ...CI_FILES].sort()

const SETUPS = {
  gke: [
    '--platform',
    'gke',
    '--project',
    'acme-shop',
    '--env',
    'dev=gke_acme-shop_us-central1_dev',
    '--env',
    'staging=gke_acme-shop_us-central1_staging',
    '--env',
    'prod=gke_acme-prod_us-east1_prod@acme-prod',
    '--attestor',
    'built-by-ci',
    '--attestor',
    'projects/acme-sec/attestors/scanned',
    '--ci',
    'github',
    '--ci',
    'gitlab',
    '--ci',
    'cloudbuild',
    '--image',
    'us-docker.pkg.dev/acme-shop/app/shop',
  ],
  cloudrun: [
    '--platform',
    'cloudrun',
    '--project',
    'acme-run',
    '--env',
    'dev=us-central1',
    '--env',
    'staging=europe-west2',
    '--env',
    'prod=europe-west2',
    '--attestor',
    'built-by-ci',
    '--ci',
    'github',
    '--ci',
    'gitlab',
    '--ci',
    'cloudbuild',
    '--kms-key',
    'projects/acme-run/locations/europe-west2/keyRings/ci/cryptoKeys/attestor/cryptoKeyVersions/3',
  ],
} as const
type Setup = keyof typeof SETUPS

const dirs = {} as Record<Setup, string>
let kubeconfig: string
let attestors: string
let attestations: string

/** The environment for a CLI run inside a generated directory: kube contexts exist, no user state. */
const env = (extra: Record<string, string> = {}) => isolatedEnv({KUBECONFIG: kubeconfig, ...extra})

beforeAll(async () => {
  const base = tmp('init')
  kubeconfig = writeKubeconfig(join(base, 'kubeconfig'), ['gke_acme-shop_us-central1_dev', 'gke_acme-shop_us-central1_staging', 'gke_acme-prod_us-east1_prod'])
  attestors = join(base, 'attestors')
  attestations = join(base, 'attestations')
  mkdirSync(attestations, {recursive: true})
  // makeAttestor writes NAME.json: one directory per project, then one flat directory for --attestors.
  mkdirSync(attestors)
  for (const [project, name] of [
    ['acme-shop', 'built-by-ci'],
    ['acme-prod', 'built-by-ci'],
    ['acme-sec', 'scanned'],
    ['acme-run', 'built-by-ci'],
  ] as const) {
    const pdir = join(base, 'by-project', project)
    makeAttestor(pdir, join(base, 'keys', project), project, name)
    writeFileSync(join(attestors, `${project}-${name}.json`), readFileSync(join(pdir, `${name}.json`)))
  }
  await Promise.all(
    (Object.keys(SETUPS) as Setup[]).map(async (s) => {
      dirs[s] = join(base, s)
      const r = await runCli(['init', '--yes', ...SETUPS[s], '--dir', dirs[s], '--json'], {env: env()})
      // The old spelling --platform still works, with a warning (#12 item 11).
      expect({code: r.code, stderr: r.stderr}).toEqual({code: 0, stderr: `warning: --platform ${s} is deprecated: use --target ${s}\n`})
      const out = JSON.parse(r.stdout)
      expect(out).toMatchObject({apiVersion: 'safe-deploy.dev/v1', kind: 'InitResult'})
      expect(schemaErrors('init', out)).toEqual([])
      expect(out.written.slice().sort()).toEqual(ALL_FILES)
      expect(out.skipped).toEqual([])
    }),
  )
}, 60_000)

describe.each(Object.keys(SETUPS) as Setup[])('init --yes (%s)', (setup) => {
  it('writes .safe-deploy.yaml, three policies and the CI templates, equal to the golden files byte for byte', () => {
    expect(listFiles(dirs[setup])).toEqual(ALL_FILES)
    expectGolden(setup, dirs[setup], ALL_FILES)
  })

  it('writes CI templates that are valid YAML, attest after the checks and pre-flight with the prod profile', () => {
    for (const f of CI_FILES) {
      const text = readFileSync(join(dirs[setup], f), 'utf8')
      expect(() => parseYaml(text)).not.toThrow()
      expect(text).not.toMatch(/\{\{\w+\}\}/)
      // GitHub: the action's profile input; the others: the flag.
      expect(text).toMatch(f.startsWith('.github/') ? /^ +profile: prod$/m : /--profile prod/)
      // The GitHub workflows run no safe-deploy by hand: every call goes through the action.
      if (f.startsWith('.github/')) expect(text).not.toMatch(/npx|safe-deploy (preflight|apply|attest|run)/)
    }
    const gh = parseYaml(readFileSync(join(dirs[setup], '.github/workflows/safe-deploy.yml'), 'utf8'))
    const steps = gh.jobs.deploy.steps as GithubStep[]
    const checks = steps.findIndex((s) => s.run?.includes('npm test'))
    const attest = steps.findIndex((s) => s.uses === DEFAULT_ACTION_REF && s.with?.['command'] === 'attest')
    expect(checks).toBeGreaterThanOrEqual(0)
    expect(attest).toBeGreaterThan(checks)
    const pr = parseYaml(readFileSync(join(dirs[setup], '.github/workflows/safe-deploy-preflight.yml'), 'utf8'))
    expect(pr.on).toBe('pull_request')
    // The comment posts the report the action names.
    expect(pr.jobs.preflight.steps.at(-1).with.path).toBe('${{ steps.preflight.outputs.report-path }}')
    const gl = parseYaml(readFileSync(join(dirs[setup], '.gitlab-ci.safe-deploy.yml'), 'utf8'))
    expect(gl.stages).toEqual(['test', 'attest', 'preflight', 'deploy'])
    const cb = parseYaml(readFileSync(join(dirs[setup], 'cloudbuild.safe-deploy.yaml'), 'utf8'))
    expect(cb.steps.map((s: {id: string}) => s.id)).toEqual(['test', 'attest', 'deploy'])
    expect(readFileSync(join(dirs[setup], 'cloudbuild.safe-deploy.yaml'), 'utf8')).toContain(setup === 'gke' ? 'apply -f k8s/' : 'run replace service.yaml')
  })

  it('CI templates only call existing commands with existing flags, and give preflight/apply their manifests', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, {char?: string}>}>}
    const calls: string[] = []
    const action = parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {inputs: Record<string, unknown>}
    for (const f of CI_FILES.filter((x) => x.startsWith('.github/'))) {
      // A step using the action → the command line action.yml makes of its inputs (files → -f, profile → --profile, …).
      const wf = parseYaml(readFileSync(join(dirs[setup], f), 'utf8')) as {jobs: Record<string, {steps: GithubStep[]}>}
      for (const step of Object.values(wf.jobs).flatMap((j) => j.steps)) {
        if (!step.uses?.startsWith(DEFAULT_ACTION_REF.split('@')[0] as string)) continue
        expect(step.uses).toBe(DEFAULT_ACTION_REF)
        const w = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, String(v)]))
        for (const k of Object.keys(w)) expect({input: k, declared: k in action.inputs}).toEqual({input: k, declared: true})
        const flag = (name: string, value: string | undefined) => (value ? ` --${name} ${value}` : '')
        calls.push(
          `${w['command'] ?? 'preflight'}${(w['files'] ?? '')
            .split(/\s+/)
            .filter(Boolean)
            .map((x) => ` -f ${x}`)
            .join('')}${flag('profile', w['profile'])}${flag('project', w['project'])} ${(w['args'] ?? '').replace(/\$\{\{[^}]*\}\}/g, 'X')}`.trim(),
        )
      }
    }
    for (const f of CI_FILES.filter((x) => !x.startsWith('.github/'))) {
      // Cloud Build's exec form `[safe-deploy, attest, --image, '…']` → a command line.
      const text = readFileSync(join(dirs[setup], f), 'utf8')
        .replace(/, /g, ' ')
        .replace(/['"[\]]/g, '')
      for (const m of text.matchAll(/npx safe-deploy ([^\n#]*)|\bsafe-deploy (attest [^\n#]*)/g))
        calls.push((m[1] ?? m[2] ?? '').split(/ (?:\|\||&&) /)[0]?.trim() ?? '')
    }
    expect(calls.length).toBeGreaterThanOrEqual(setup === 'gke' ? 7 : 7)
    for (const call of calls) {
      const words = call.split(/\s+/)
      const id = manifest.commands[`${words[0]}:${words[1]}`] ? `${words[0]}:${words[1]}` : (words[0] as string)
      const cmd = manifest.commands[id]
      expect({call, known: cmd !== undefined}).toEqual({call, known: true})
      const chars = new Set(
        Object.values(cmd?.flags ?? {})
          .map((fl) => fl.char)
          .filter(Boolean),
      )
      for (const w of words.filter((x) => x.startsWith('-'))) {
        const ok = w.startsWith('--') ? cmd?.flags[w.slice(2).split('=')[0] as string] !== undefined : chars.has(w.slice(1))
        expect({call, flag: w, ok}).toEqual({call, flag: w, ok: true})
      }
      if (id === 'preflight' || id === 'apply') expect(call).toMatch(/ -f /)
    }
  })

  it.each(['dev', 'staging', 'prod'])('policies/%s.yaml passes `policy lint --strict` (exit 0, no findings), attestors checked', async (e) => {
    const r = await runCli(['policy', 'lint', `policies/${e}.yaml`, '--attestors', attestors, '--strict', '--json'], {cwd: dirs[setup], env: env()})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    // A fresh setup has no audit log yet: lint says so for the enforced (prod) policy, without a finding.
    const notes = e === 'prod' ? [expect.stringMatching(/^no audit log at \S+ yet: whether the enforced rules were tried in dry-run first/)] : []
    expect(JSON.parse(r.stdout)).toEqual({
      apiVersion: 'safe-deploy.dev/v1',
      kind: 'LintResult',
      file: `policies/${e}.yaml`,
      findings: [],
      errors: 0,
      warnings: 0,
      notes,
    })
  })

  it.each([
    ['dev', 'ALLOW', 0],
    ['staging', 'DRYRUN_DENY', 6],
    ['prod', 'DENY', 5],
  ] as const)('policies/%s.yaml loads in preflight and gives a verdict (%s) for an unattested digest', async (e, verdict, code) => {
    const image = `us-docker.pkg.dev/${setup === 'gke' ? 'acme-shop' : 'acme-run'}/app/app@${DIGEST}`
    const r = await runCli(
      ['preflight', '--image', image, '--no-resolve', '--policy', `policies/${e}.yaml`, '--attestors', attestors, '--attestations', attestations, '--json'],
      {cwd: dirs[setup], env: env()},
    )
    expect(r.stderr).not.toMatch(/Error \[/)
    const out = JSON.parse(r.stdout)
    expect(out.policy.source).toBe(`policies/${e}.yaml`)
    expect(out.verdict).toBe(verdict)
    expect(r.code).toBe(code)
  })

  it('`preflight --profile prod` takes the policy, project and target from the generated profile', async () => {
    const r = await runCli(
      [
        'preflight',
        '--profile',
        'prod',
        '--image',
        `us-docker.pkg.dev/x/app/app@${DIGEST}`,
        '--no-resolve',
        '--attestors',
        attestors,
        '--attestations',
        attestations,
        '--json',
      ],
      {cwd: dirs[setup], env: env()},
    )
    const out = JSON.parse(r.stdout)
    expect(out.policy.source).toMatch(/(^|\/)policies\/prod\.yaml$/)
    expect(out.verdict).toBe('DENY')
    expect(r.code).toBe(5)
    if (setup === 'gke') {
      expect(out.target).toMatchObject({platform: 'gke', cluster: 'us-east1.prod', context: 'gke_acme-prod_us-east1_prod', project: 'acme-prod'})
      expect(out.images[0].attestors.map((a: {attestor: string}) => a.attestor)).toEqual([
        'projects/acme-prod/attestors/built-by-ci',
        'projects/acme-sec/attestors/scanned',
      ])
    } else {
      expect(out.target).toMatchObject({platform: 'cloudrun', project: 'acme-run'})
    }
    // reportMd from the profile
    expect(existsSync(join(dirs[setup], 'preflight.md'))).toBe(true)
  })
})

describe('init never overwrites without --force', () => {
  it('a second run with identical content writes nothing and reports every file as kept (unchanged)', async () => {
    const d = tmp('rerun')
    const first = await runCli(['init', '--yes', ...SETUPS.cloudrun, '--dir', d], {env: env()})
    expect(first.code).toBe(0)
    const before = Object.fromEntries(listFiles(d).map((f) => [f, readFileSync(join(d, f), 'utf8')]))
    const again = await runCli(['init', '--yes', ...SETUPS.cloudrun, '--dir', d], {env: env()})
    expect(again.code).toBe(0)
    expect(again.stderr).not.toMatch(/^wrote /m)
    for (const f of ALL_FILES) expect(again.stderr).toContain(`kept ${f} (unchanged)\n`)
    expect(Object.fromEntries(listFiles(d).map((f) => [f, readFileSync(join(d, f), 'utf8')]))).toEqual(before)
  })

  it('keeps a changed file (exit 0, says so), and overwrites it only with --force', async () => {
    const d = tmp('force')
    await runCli(['init', '--yes', ...SETUPS.gke, '--dir', d], {env: env()})
    const mine = '# my own prod policy\n'
    writeFileSync(join(d, 'policies/prod.yaml'), mine)
    const kept = await runCli(['init', '--yes', ...SETUPS.gke, '--dir', d, '--json'], {env: env()})
    expect(kept.code).toBe(0)
    const k = JSON.parse(kept.stdout)
    expect(k.written).toEqual([])
    expect(k.skipped).toContain('policies/prod.yaml')
    expect(k.unchanged).not.toContain('policies/prod.yaml')
    expect(readFileSync(join(d, 'policies/prod.yaml'), 'utf8')).toBe(mine)
    const human = await runCli(['init', '--yes', ...SETUPS.gke, '--dir', d], {env: env()})
    expect(human.stderr).toContain('kept policies/prod.yaml (exists; use --force to overwrite)')
    const forced = await runCli(['init', '--yes', ...SETUPS.gke, '--dir', d, '--force'], {env: env()})
    expect(forced.code).toBe(0)
    expect(forced.stderr).toContain('wrote policies/prod.yaml\n')
    expect(forced.stderr).toContain('kept policies/dev.yaml (unchanged)')
    expect(readFileSync(join(d, 'policies/prod.yaml'), 'utf8')).toBe(readFileSync(join(dirs.gke, 'policies/prod.yaml'), 'utf8'))
  })
})

describe('init: invalid answers are usage errors naming the problem (exit 2, nothing written)', () => {
  const ok = ['--platform', 'gke', '--project', 'acme-shop', '--env', 'dev=gke_acme-shop_us-central1_dev', '--attestor', 'built-by-ci']
  const cases: Array<[string, string[], string]> = [
    ['no TTY and missing answers', ['--project', 'acme-shop'], 'non-interactive init needs --target, --env'],
    ['an invalid project id', ['--platform', 'gke', '--project', 'Acme_Shop', '--env', 'dev=ctx'], 'project "Acme_Shop" is not a valid project id'],
    ['a GKE environment without a context', [...ok, '--env', 'prod'], 'environment "prod" needs a kube context'],
    [
      'a Cloud Run environment without a region',
      ['--platform', 'cloudrun', '--project', 'acme-shop', '--env', 'dev'],
      'environment "dev" needs a Cloud Run region',
    ],
    ['an environment listed twice', [...ok, '--env', 'dev=other'], 'environment "dev" is listed twice'],
    ['an invalid environment name', [...ok, '--env', 'Prod=ctx'], 'environment name "Prod" must be lowercase letters, digits and hyphens'],
    [
      'staging/prod without an attestor',
      ['--platform', 'gke', '--project', 'acme-shop', '--env', 'prod=ctx'],
      'staging and production policies require at least one attestor',
    ],
    ['an invalid attestor', [...ok, '--attestor', 'bad name'], 'attestor "bad name" must be NAME or projects/P/attestors/NAME'],
    ['an invalid @PROJECT', [...ok, '--env', 'prod=ctx@Other_Proj'], 'environment "prod": project "Other_Proj" is not a valid project id'],
    ['an --env without a name', [...ok, '--env', '=ctx'], '--env expects NAME=CONTEXT|REGION[@PROJECT], got "=ctx"'],
    [
      'an image with a tag (it lands in the CI YAML)',
      [...ok, '--image', 'gcr.io/p/app:latest'],
      'image "gcr.io/p/app:latest" must be a repository without tag or digest',
    ],
    ['a malformed KMS key', [...ok, '--kms-key', 'my-key'], 'kms-key "my-key" must be projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N'],
    ['an unknown platform', ['--platform', 'mars', '--project', 'acme-shop', '--env', 'dev=x'], 'Expected --platform=mars to be one of: gke, cloudrun, both'],
    ['an unknown CI system', [...ok, '--ci', 'jenkins'], 'Expected --ci=jenkins to be one of: github, gitlab, cloudbuild'],
  ]
  it.each(cases)('%s', async (_name, args, message) => {
    const d = tmp('bad')
    const r = await runCli(['init', ...(args.includes('--project') && args.length === 2 ? [] : ['--yes']), ...args, '--dir', d], {env: env()})
    expect(r.stderr).toContain('Error [USAGE]')
    expect(r.stderr).toContain(message)
    expect(r.code).toBe(2)
    expect(listFiles(d)).toEqual([])
  })

  it('--json gives the error object', async () => {
    const r = await runCli(['init', '--yes', '--platform', 'gke', '--project', 'x', '--env', 'dev=c', '--json', '--dir', tmp('badjson')], {env: env()})
    expect(r.code).toBe(2)
    const out = JSON.parse(r.stdout)
    expect(out).toMatchObject({exitCode: 2, error: {code: 'USAGE'}})
    expect(out.error.message).toContain('project "x" is not a valid project id')
  })
})
