/**
 * One meaning per flag name (#12 item 11): --target gke|cloudrun[|both] is where it deploys, --platform
 * os/arch[/variant] the image platform, as docker and crane take it. The old spellings (--platform gke|cloudrun,
 * --image-platform, a profile's `platform:`) keep working for one release, each with a warning on stderr.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startRegistry, type TestRegistry} from '../../support/registry.js'
import {runCli} from '../../support/cli.js'
import {deployment} from '../../support/fixtures.js'

const ALLOW = `name: projects/acme/policy
globalPolicyEvaluationMode: ENABLE
defaultAdmissionRule:
  evaluationMode: ALWAYS_ALLOW
  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG
`
const DEPRECATED = /deprecated/

let reg: TestRegistry
let dir: string
let multi: {digest: string; children?: Record<string, string>}
let file: string
let policy: string
let attestors: string

beforeAll(async () => {
  reg = await startRegistry()
  dir = mkdtempSync(join(tmpdir(), 'sd-spell-'))
  multi = await reg.pushImage('team/multi', 'v1', {platforms: ['linux/amd64', 'linux/arm64']})
  file = join(dir, 'deploy.yaml')
  writeFileSync(file, deployment('web', `${reg.host}/team/multi:v1`, {selector: false, container: 'app'}))
  policy = join(dir, 'policy.yaml')
  writeFileSync(policy, ALLOW)
  attestors = join(dir, 'attestors')
  mkdirSync(attestors)
}, 60_000)
afterAll(async () => {
  await reg?.stop()
})

const preflight = (...extra: string[]) =>
  runCli([
    'preflight',
    '-f',
    file,
    '--policy',
    policy,
    '--attestors',
    attestors,
    '--attestations',
    attestors,
    '--insecure-registry',
    reg.host,
    '--json',
    ...extra,
  ])
const json = (stdout: string) => JSON.parse(stdout) as {target: {platform: string}; images: Array<{digest: string}>}

describe('the new spellings', () => {
  it('pin --platform linux/arm64 pins the child manifest, as before, without a warning', async () => {
    const r = await runCli(['pin', '-f', file, '--insecure-registry', reg.host, '--json', '--platform', 'linux/arm64'])
    expect(r.code).toBe(0)
    expect((JSON.parse(r.stdout) as {sites: Array<{digest: string}>}).sites[0]!.digest).toBe(multi.children?.['linux/arm64'])
    expect(r.stderr).not.toMatch(DEPRECATED)
  })
  it('preflight --platform linux/arm64 selects the image platform (the target stays gke)', async () => {
    const r = await preflight('--platform', 'linux/arm64')
    expect({code: r.code, stderr: r.stderr}).toEqual({code: 0, stderr: ''})
    expect(json(r.stdout).images[0]!.digest).toBe(multi.children?.['linux/arm64'])
    expect(json(r.stdout).target.platform).toBe('gke')
  })
  it('preflight --target cloudrun --platform linux/amd64: both at once, no warning', async () => {
    const r = await preflight('--target', 'cloudrun', '--platform', 'linux/amd64')
    expect({code: r.code, stderr: r.stderr}).toEqual({code: 0, stderr: ''})
    expect(json(r.stdout).target.platform).toBe('cloudrun')
    expect(json(r.stdout).images[0]!.digest).toBe(multi.children?.['linux/amd64'])
  })
  it('policy explain --target cloudrun and policy lint --target gke', async () => {
    const explain = await runCli(['policy', 'explain', policy, '--target', 'cloudrun', '--json'])
    expect(explain.code).toBe(0)
    expect(explain.stdout).toMatch(/cloudrun|Cloud Run/)
    expect(explain.stderr).not.toMatch(DEPRECATED)
    const lint = await runCli(['policy', 'lint', policy, '--target', 'gke'])
    expect(lint.code).toBe(0)
    expect(lint.stderr).not.toMatch(DEPRECATED)
  })
  it('init --target writes profiles with target:', async () => {
    const d = mkdtempSync(join(dir, 'init-'))
    const r = await runCli(['init', '--yes', '--target', 'cloudrun', '--project', 'acme-run', '--env', 'dev=us-central1', '--dir', d])
    expect(r.code).toBe(0)
    expect(r.stderr).not.toMatch(DEPRECATED)
    expect(readFileSync(join(d, '.safe-deploy.yaml'), 'utf8')).toMatch(/^ {4}target: cloudrun$/m)
  })
  it('a profile with target: cloudrun, without a warning', async () => {
    const d = mkdtempSync(join(dir, 'prof-'))
    writeFileSync(
      join(d, '.safe-deploy.yaml'),
      `profiles:\n  run:\n    target: cloudrun\n    policy: ${policy}\n    attestors: ${attestors}\n    attestations: ${attestors}\n`,
    )
    const r = await runCli(['preflight', '-f', file, '--profile', 'run', '--insecure-registry', reg.host, '--json'], {cwd: d})
    expect({code: r.code, stderr: r.stderr}).toEqual({code: 0, stderr: ''})
    expect(json(r.stdout).target.platform).toBe('cloudrun')
  })
})

describe('the old spellings, for one release, with a warning on stderr', () => {
  it('preflight --platform cloudrun means --target cloudrun', async () => {
    const r = await preflight('--platform', 'cloudrun')
    expect(r.code).toBe(0)
    expect(json(r.stdout).target.platform).toBe('cloudrun')
    expect(r.stderr).toBe('warning: --platform cloudrun is deprecated: use --target cloudrun\n')
  })
  it('preflight --image-platform linux/arm64 means --platform linux/arm64', async () => {
    const r = await preflight('--image-platform', 'linux/arm64', '--platform', 'gke')
    expect(r.code).toBe(0)
    expect(json(r.stdout).images[0]!.digest).toBe(multi.children?.['linux/arm64'])
    expect(r.stderr).toContain('warning: --image-platform linux/arm64 is deprecated: use --platform linux/arm64\n')
    expect(r.stderr).toContain('warning: --platform gke is deprecated: use --target gke\n')
  })
  it('policy explain --platform cloudrun, policy lint --platform gke, init --platform gke', async () => {
    const explain = await runCli(['policy', 'explain', policy, '--platform', 'cloudrun'])
    expect(explain.code).toBe(0)
    expect(explain.stderr).toContain('warning: --platform cloudrun is deprecated: use --target cloudrun')
    const lint = await runCli(['policy', 'lint', policy, '--platform', 'gke'])
    expect(lint.code).toBe(0)
    expect(lint.stderr).toContain('warning: --platform gke is deprecated: use --target gke')
    const d = mkdtempSync(join(dir, 'init-old-'))
    const init = await runCli(['init', '--yes', '--platform', 'gke', '--project', 'acme-shop', '--env', 'dev=gke_acme-shop_us-central1_dev', '--dir', d])
    expect(init.code).toBe(0)
    expect(init.stderr).toContain('warning: --platform gke is deprecated: use --target gke')
    expect(readFileSync(join(d, '.safe-deploy.yaml'), 'utf8')).toMatch(/^ {4}target: gke$/m)
  })
  it("a profile's platform: cloudrun means target: cloudrun, with file:line", async () => {
    const d = mkdtempSync(join(dir, 'prof-old-'))
    writeFileSync(
      join(d, '.safe-deploy.yaml'),
      `profiles:\n  run:\n    platform: cloudrun\n    policy: ${policy}\n    attestors: ${attestors}\n    attestations: ${attestors}\n`,
    )
    const r = await runCli(['preflight', '-f', file, '--profile', 'run', '--insecure-registry', reg.host, '--json'], {cwd: d})
    expect(r.code).toBe(0)
    expect(json(r.stdout).target.platform).toBe('cloudrun')
    expect(r.stderr).toMatch(/^warning: .*\.safe-deploy\.yaml:3: profiles\.run\.platform is deprecated: use target: cloudrun\n$/)
  })
  it('contradictions are refused (exit 2)', async () => {
    const r = await preflight('--platform', 'gke', '--target', 'cloudrun')
    expect(r.code).toBe(2)
    expect(r.stdout + r.stderr).toMatch(/--platform gke \(deprecated: the target\) contradicts --target cloudrun/)
    const bad = await preflight('--platform', 'mars')
    expect(bad.code).toBe(2)
    expect(bad.stdout + bad.stderr).toMatch(/--platform expects an image platform os\/arch\[\/variant\]/)
  })
})

describe('flags that meant nothing are gone', () => {
  it('apply --image and apply --service-account are not flags of apply', async () => {
    const help = await runCli(['apply', '--help'])
    expect(help.stdout).not.toMatch(/--image\b(?!-)|--service-account/)
  })
  it('run deploy and run replace take no --system-policy (the system policy is GKE only)', async () => {
    for (const cmd of [
      ['run', 'deploy'],
      ['run', 'replace'],
    ]) {
      const help = await runCli([...cmd, '--help'])
      expect(help.stdout).not.toMatch(/--system-policy/)
    }
  })
})
