/** kubectl and oclif habits at the command line (issue #12, conventions): help, did-you-mean, booleans, completion. */
import {describe, expect, it} from '@jest/globals'
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BIN, isolatedEnv, runCli} from '../../support/cli.js'

describe('help', () => {
  it('`help pin`, `pin -h` and `pin --help` print the same help', async () => {
    const [a, b, c] = await Promise.all([runCli(['help', 'pin']), runCli(['pin', '-h']), runCli(['pin', '--help'])])
    expect(c.code).toBe(0)
    expect(c.stdout).toContain('Rewrite every image reference from tag to digest')
    expect(a.stdout).toBe(c.stdout)
    expect(b.stdout).toBe(c.stdout)
  })
})

describe('a reader that stops early (`safe-deploy … | head`)', () => {
  it.each([
    ['--help', ['--help']],
    ['pin --help', ['pin', '--help']],
  ])('`%s`: the pipe closes after the first chunk; exit 141 as kubectl, no Node warning', async (_name, args) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: isolatedEnv({CI: '1'}), stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    // Like head: read the first chunk, then close the read end.
    child.stdout.once('data', () => child.stdout.destroy())
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(stderr).not.toContain('unsettled top-level await')
    expect(code).toBe(141)
  })
})

describe('mistakes', () => {
  it('an unknown command says so, suggests the closest one (never prompts) and exits 127', async () => {
    const r = await runCli(['preflght'])
    expect(r.code).toBe(127)
    expect(r.stderr).toContain('unknown command "preflght" for "safe-deploy"')
    expect(r.stderr).toContain('Did you mean this?\n\tpreflight')
    const far = await runCli(['xyzzy'])
    expect(far.code).toBe(127)
    expect(far.stderr).not.toContain('Did you mean')
  })

  it('a mistyped flag: exit 2, "did you mean", one error style (no second "See more help" line)', async () => {
    const r = await runCli(['pin', '--writ', '-f', 'x.yaml'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('Error [USAGE]: Nonexistent flag: --writ')
    expect(r.stderr).toContain('Hint: did you mean --write? (see `safe-deploy pin --help`)')
    expect(r.stderr).not.toContain('See more help with --help')
  })
})

describe('booleans as kubectl writes them', () => {
  it('--flag=true is --flag and --flag=false leaves it off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-bool-'))
    const file = join(dir, 'pod.yaml')
    writeFileSync(file, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx@sha256:${'a'.repeat(64)}\n`)
    const on = await runCli(['pin', '-f', file, '--strip-tag=true', '--write=false'])
    expect(on.stderr).not.toContain('Error')
    expect(on.code).toBe(0)
    expect(on.stdout).toContain(`image: nginx@sha256:${'a'.repeat(64)}`)
    const bad = await runCli(['pin', '-f', file, '--write=maybe'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--write is a boolean flag')
    expect(bad.stdout).toBe('')
  })
})

describe('shell completion', () => {
  it('`autocomplete` is available', async () => {
    const r = await runCli(['autocomplete', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('autocomplete')
  })
})

describe('gcloud habits: the project and region gcloud would use', () => {
  const D = `sha256:${'b'.repeat(64)}`
  function setup() {
    const dir = mkdtempSync(join(tmpdir(), 'sd-gcloud-'))
    mkdirSync(join(dir, 'gcloud', 'configurations'), {recursive: true})
    writeFileSync(join(dir, 'gcloud', 'active_config'), 'work\n')
    writeFileSync(join(dir, 'gcloud', 'configurations', 'config_work'), '[core]\nproject = from-gcloud\n[run]\nregion = europe-west2\n')
    writeFileSync(join(dir, 'policy.yaml'), 'defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n')
    mkdirSync(join(dir, 'empty'))
    const args = [
      'preflight',
      '--image',
      `gcr.io/p/app@${D}`,
      '--no-resolve',
      '--policy',
      'policy.yaml',
      '--attestors',
      'empty',
      '--attestations',
      'empty',
      '--json',
    ]
    return {dir, args}
  }
  it('the active gcloud configuration file, then CLOUDSDK_CORE_PROJECT over it', async () => {
    const {dir, args} = setup()
    const fromFile = await runCli(args, {cwd: dir, env: isolatedEnv({CLOUDSDK_CONFIG: join(dir, 'gcloud')})})
    expect(fromFile.stderr).toBe('')
    expect(JSON.parse(fromFile.stdout).target.project).toBe('from-gcloud')
    const fromEnv = await runCli(args, {cwd: dir, env: isolatedEnv({CLOUDSDK_CONFIG: join(dir, 'gcloud'), CLOUDSDK_CORE_PROJECT: 'from-env'})})
    expect(JSON.parse(fromEnv.stdout).target.project).toBe('from-env')
  })
  it('run deploy reports every missing required setting at once', async () => {
    const r = await runCli(['run', 'deploy', 'svc', '--image', `gcr.io/p/app@${D}`])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('Error [USAGE]: --project and --region are required')
    expect(r.stderr).toContain('CLOUDSDK_CORE_PROJECT')
  })
})
