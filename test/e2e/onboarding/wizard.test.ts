/**
 * The `safe-deploy init` wizard driven through its prompts in a pseudo-terminal (test/e2e/onboarding/pty-drive.py:
 * python3's pty module forks the CLI under a pty, waits for each prompt, types the answer or keys).
 * Needs dist/ and python3. CI must not be set in the child: with CI set safe-deploy never prompts.
 */
import {describe, expect, it} from '@jest/globals'
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {isolatedEnv} from '../../support/cli.js'
import {drivePty, type Driven} from '../../support/pty.js'
import {listFiles, tmp} from './helpers.js'

const ENTER = '\r'
const DOWN = '\u001b[B'
const SPACE = ' '
const BACKSPACE = '\u007f'
const CTRL_C = '\u0003'

/** Run `safe-deploy ARGS` under a pty, answering [expect, send] steps. */
function drive(args: string[], steps: Array<[string, string]>, extraEnv: Record<string, string> = {}): Promise<Driven> {
  return drivePty(args, isolatedEnv({TERM: 'xterm', ...extraEnv}), steps, 'CI' in extraEnv)
}

const expectDriven = (r: Driven, code = 0) => {
  // On failure, show the transcript.
  expect({ok: r.ok, exitCode: r.exitCode, failedStep: r.failedStep, tail: r.ok && r.exitCode === code ? '' : r.output.slice(-3000)}).toEqual({
    ok: true,
    exitCode: code,
    failedStep: null,
    tail: '',
  })
}

describe('init wizard in a pseudo-terminal', () => {
  it('Cloud Run: arrow keys pick the platform, typed answers replace defaults, space ticks a CI template', async () => {
    const d = tmp('wiz-run')
    const r = await drive(
      ['init', '--dir', d],
      [
        ['Where do you deploy?', DOWN],
        ['❯ Cloud Run', ENTER],
        ['Google Cloud project id:', 'wiz-run-proj' + ENTER],
        ['Environments (comma-separated, in promotion order):', 'staging,prod' + ENTER],
        ['staging: Cloud Run region:', 'europe-west2' + ENTER],
        ['prod: Cloud Run region:', ENTER],
        ['Attestors required in staging/prod', ENTER],
        ['CI templates to write:', DOWN],
        ['❯◯ GitLab CI', SPACE],
        ['❯◉ GitLab CI', ENTER],
        ['Write .safe-deploy.yaml, 2 policies and 1 CI template set(s)?', ENTER],
      ],
    )
    expectDriven(r)
    expect(r.output).toContain('wrote .safe-deploy.yaml')
    expect(listFiles(d)).toEqual(['.gitlab-ci.safe-deploy.yml', '.safe-deploy.yaml', 'policies/prod.yaml', 'policies/staging.yaml'])
    const cfg = parseYaml(readFileSync(join(d, '.safe-deploy.yaml'), 'utf8'))
    expect(cfg).toMatchObject({
      defaultProfile: 'staging',
      profiles: {
        staging: {target: 'cloudrun', project: 'wiz-run-proj', region: 'europe-west2', policy: 'policies/staging.yaml'},
        prod: {target: 'cloudrun', project: 'wiz-run-proj', region: 'us-central1', policy: 'policies/prod.yaml', requireEnforcement: true},
      },
    })
    expect(readFileSync(join(d, 'policies/prod.yaml'), 'utf8')).toContain('  - projects/wiz-run-proj/attestors/built-by-ci\n')
    expect(readFileSync(join(d, '.gitlab-ci.safe-deploy.yml'), 'utf8')).toContain('run replace service.yaml --profile prod --project wiz-run-proj --yes')
  }, 60_000)

  it('GKE with the defaults: three environments, default contexts, two attestors, "a" ticks every CI template', async () => {
    const d = tmp('wiz-gke')
    const r = await drive(
      ['init', '--dir', d],
      [
        ['Where do you deploy?', ENTER],
        ['Google Cloud project id:', 'wiz-gke-proj' + ENTER],
        ['Environments (comma-separated, in promotion order):', ENTER],
        ['dev: kube context (gke_PROJECT_LOCATION_NAME):', ENTER],
        ['staging: kube context (gke_PROJECT_LOCATION_NAME):', ENTER],
        ['prod: kube context (gke_PROJECT_LOCATION_NAME):', 'gke_wiz-gke-proj_us-east1_prod' + ENTER],
        ['Attestors required in staging/prod', 'built-by-ci,scanned' + ENTER],
        ['CI templates to write:', 'a'],
        ['◉ Cloud Build', ENTER],
        ['Write .safe-deploy.yaml, 3 policies and 3 CI template set(s)?', ENTER],
      ],
    )
    expectDriven(r)
    expect(listFiles(d)).toEqual([
      '.github/workflows/safe-deploy-preflight.yml',
      '.github/workflows/safe-deploy.yml',
      '.gitlab-ci.safe-deploy.yml',
      '.safe-deploy.yaml',
      'cloudbuild.safe-deploy.yaml',
      'policies/dev.yaml',
      'policies/prod.yaml',
      'policies/staging.yaml',
    ])
    const cfg = parseYaml(readFileSync(join(d, '.safe-deploy.yaml'), 'utf8'))
    expect(cfg.profiles.dev.context).toBe('gke_wiz-gke-proj_us-central1_dev')
    expect(cfg.profiles.staging.context).toBe('gke_wiz-gke-proj_us-central1_staging')
    expect(cfg.profiles.prod.context).toBe('gke_wiz-gke-proj_us-east1_prod')
    const prod = readFileSync(join(d, 'policies/prod.yaml'), 'utf8')
    expect(prod).toContain('enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG')
    expect(prod).toContain('  - projects/wiz-gke-proj/attestors/built-by-ci\n  - projects/wiz-gke-proj/attestors/scanned\n')
    expect(readFileSync(join(d, 'policies/dev.yaml'), 'utf8')).toContain('evaluationMode: ALWAYS_ALLOW')
  }, 60_000)

  it('answers given as flags are not asked again (--env keeps its context and @PROJECT)', async () => {
    const d = tmp('wiz-flags')
    const r = await drive(
      ['init', '--dir', d, '--platform', 'gke', '--env', 'prod=gke_other-proj_europe-west1_prod@other-proj', '--ci', 'github'],
      [
        ['Google Cloud project id:', 'wiz-flag-proj' + ENTER],
        ['Attestors required in staging/prod', ENTER],
        ['Write .safe-deploy.yaml, 1 policy and 1 CI template set(s)?', ENTER],
      ],
    )
    expectDriven(r)
    expect(r.output).not.toContain('Where do you deploy?')
    expect(r.output).not.toContain('kube context')
    expect(r.output).not.toContain('CI templates to write')
    const cfg = parseYaml(readFileSync(join(d, '.safe-deploy.yaml'), 'utf8'))
    expect(cfg.profiles.prod).toMatchObject({project: 'other-proj', context: 'gke_other-proj_europe-west1_prod'})
    expect(readFileSync(join(d, 'policies/prod.yaml'), 'utf8')).toContain('projects/other-proj/attestors/built-by-ci')
  }, 60_000)

  it('an invalid project id is refused at the prompt, with the reason, until corrected', async () => {
    const d = tmp('wiz-validate')
    const r = await drive(
      ['init', '--dir', d, '--platform', 'cloudrun', '--env', 'dev=us-central1', '--ci', 'github'],
      [
        ['Google Cloud project id:', 'Bad' + ENTER],
        ['a project id is 6-30 lowercase letters, digits and hyphens', BACKSPACE.repeat(3) + 'good-proj' + ENTER],
        ['Attestors required in staging/prod', ENTER],
        ['Write .safe-deploy.yaml', ENTER],
      ],
    )
    expectDriven(r)
    expect(parseYaml(readFileSync(join(d, '.safe-deploy.yaml'), 'utf8')).profiles.dev.project).toBe('good-proj')
  }, 60_000)

  it('declining the final confirmation writes nothing (exit 9, ABORTED)', async () => {
    const d = tmp('wiz-abort')
    const r = await drive(
      ['init', '--dir', d, '--platform', 'cloudrun', '--project', 'wiz-abort', '--env', 'dev=us-central1', '--attestor', 'a', '--ci', 'gitlab'],
      [['Write .safe-deploy.yaml, 1 policy and 1 CI template set(s)?', 'n' + ENTER]],
    )
    expectDriven(r, 9)
    expect(r.output).toContain('Error [ABORTED]: aborted: nothing was written')
    expect(listFiles(d)).toEqual([])
  }, 60_000)

  it('asks before overwriting a changed file (default no), never for identical ones', async () => {
    const d = tmp('wiz-exists')
    const args = [
      'init',
      '--dir',
      d,
      '--platform',
      'cloudrun',
      '--project',
      'wiz-exists',
      '--env',
      'dev=us-central1',
      '--env',
      'prod=us-central1',
      '--attestor',
      'ci',
      '--ci',
      'gitlab',
    ]
    expectDriven(await drive(args, [['Write .safe-deploy.yaml', ENTER]]))
    const original = readFileSync(join(d, 'policies/prod.yaml'), 'utf8')
    writeFileSync(join(d, 'policies/prod.yaml'), '# edited by hand\n')
    writeFileSync(join(d, 'policies/dev.yaml'), '# edited by hand\n')
    const r = await drive(args, [
      ['Write .safe-deploy.yaml', ENTER],
      ['policies/dev.yaml exists. Overwrite? (y/N)', ENTER],
      ['policies/prod.yaml exists. Overwrite? (y/N)', 'y' + ENTER],
    ])
    expectDriven(r)
    expect(r.output).not.toContain('.safe-deploy.yaml exists')
    expect(r.output).toContain('kept .safe-deploy.yaml (unchanged)')
    expect(r.output).toContain('kept policies/dev.yaml (exists; use --force to overwrite)')
    expect(r.output).toContain('wrote policies/prod.yaml')
    expect(readFileSync(join(d, 'policies/dev.yaml'), 'utf8')).toBe('# edited by hand\n')
    expect(readFileSync(join(d, 'policies/prod.yaml'), 'utf8')).toBe(original)
  }, 90_000)

  it('with CI set it never prompts, even in a terminal: flags are required (exit 2)', async () => {
    const d = tmp('wiz-ci')
    mkdirSync(d, {recursive: true})
    const r = await drive(['init', '--dir', d], [], {CI: 'true'})
    expectDriven(r, 2)
    expect(r.output).not.toContain('Where do you deploy?')
    expect(r.output).toContain('non-interactive init needs --target, --project, --env')
    expect(existsSync(join(d, '.safe-deploy.yaml'))).toBe(false)
  }, 60_000)
})

describe('Ctrl-C in the init wizard is an abort (exit 9), never an internal error, and writes nothing', () => {
  const expectAborted = (r: Driven) => {
    expectDriven(r, 9)
    expect(r.output).toContain('Error [ABORTED]: aborted: nothing was written')
    expect(r.output).not.toContain('INTERNAL')
    expect(r.output).not.toContain('this is a bug')
  }

  it('at the first question', async () => {
    const d = tmp('wiz-ctrlc-first')
    const r = await drive(['init', '--dir', d], [['Where do you deploy?', CTRL_C]])
    expectAborted(r)
    expect(listFiles(d)).toEqual([])
  }, 60_000)

  it('at a later question (after platform, project and environments were answered)', async () => {
    const d = tmp('wiz-ctrlc-later')
    const r = await drive(
      ['init', '--dir', d],
      [
        ['Where do you deploy?', DOWN],
        ['❯ Cloud Run', ENTER],
        ['Google Cloud project id:', 'wiz-ctrlc-proj' + ENTER],
        ['Environments (comma-separated, in promotion order):', 'staging,prod' + ENTER],
        ['staging: Cloud Run region:', ENTER],
        ['prod: Cloud Run region:', CTRL_C],
      ],
    )
    expectAborted(r)
    expect(listFiles(d)).toEqual([])
  }, 60_000)

  it('at the final confirmation', async () => {
    const d = tmp('wiz-ctrlc-confirm')
    const r = await drive(
      ['init', '--dir', d, '--platform', 'cloudrun', '--project', 'wiz-ctrlc', '--env', 'dev=us-central1', '--attestor', 'a', '--ci', 'gitlab'],
      [['Write .safe-deploy.yaml, 1 policy and 1 CI template set(s)?', CTRL_C]],
    )
    expectAborted(r)
    expect(listFiles(d)).toEqual([])
  }, 60_000)

  it('at an overwrite confirmation: no file is written, not even the new ones planned before it', async () => {
    const d = tmp('wiz-ctrlc-overwrite')
    const args = [
      'init',
      '--dir',
      d,
      '--platform',
      'cloudrun',
      '--project',
      'wiz-ctrlc',
      '--env',
      'dev=us-central1',
      '--env',
      'prod=us-central1',
      '--attestor',
      'ci',
      '--ci',
      'gitlab',
    ]
    expectDriven(await drive(args, [['Write .safe-deploy.yaml', ENTER]]))
    // .safe-deploy.yaml comes first in the plan: missing, it would be written before policies/dev.yaml is asked about.
    rmSync(join(d, '.safe-deploy.yaml'))
    writeFileSync(join(d, 'policies/dev.yaml'), '# edited by hand\n')
    const before = Object.fromEntries(listFiles(d).map((f) => [f, readFileSync(join(d, f), 'utf8')]))
    const r = await drive(args, [
      ['Write .safe-deploy.yaml', ENTER],
      ['policies/dev.yaml exists. Overwrite? (y/N)', CTRL_C],
    ])
    expectAborted(r)
    expect(Object.fromEntries(listFiles(d).map((f) => [f, readFileSync(join(d, f), 'utf8')]))).toEqual(before)
  }, 90_000)
})
