/**
 * Paths that do not exist, through the built CLI: each is an input error (exit 3) that names the
 * flag and the path, reported before anything is resolved, signed or sent — never a raw
 * `ENOENT … stat` with exit 7. No registry and no Google API: images come pinned or from a lock
 * file, trust material from files, the cluster is the Kubernetes API test double (what reached it
 * is asserted).
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {existsSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {isolatedEnv, runCli, type CliResult} from '../../support/cli.js'
import {deployment} from '../../support/fixtures.js'
import {makeAttestor, requireAttestationPolicy, type TestAttestor} from '../../support/trust.js'
import {startKubeApiServer, type KubeApiServer} from '../../support/kube-apiserver.js'

const DIGEST = `sha256:${'a'.repeat(64)}`
const PINNED = `registry.example/team/app@${DIGEST}`
const ALLOW = `defaultAdmissionRule:
  evaluationMode: ALWAYS_ALLOW
  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG
globalPolicyEvaluationMode: ENABLE
`

let dir: string
let kube: KubeApiServer
let kubeconfig: string
let attestor: TestAttestor

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sd-missing-'))
  kube = await startKubeApiServer()
  kubeconfig = kube.writeKubeconfig(dir, {context: 'test'})
  attestor = makeAttestor(join(dir, 'attestors'), join(dir, 'keys'), 'test-proj', 'built-by-ci')
  mkdirSync(join(dir, 'atts'))
  writeFileSync(join(dir, 'allow.yaml'), ALLOW)
  writeFileSync(join(dir, 'require.yaml'), requireAttestationPolicy([attestor.name]))
  writeFileSync(join(dir, 'app.yaml'), deployment('web', 'registry.example/team/app:1.4', {namespace: 'shop'}))
  writeFileSync(
    join(dir, 'images.lock.yaml'),
    `apiVersion: safe-deploy.dev/v1
kind: ImageLock
images:
  - image: registry.example/team/app:1.4
    registry: registry.example
    repository: team/app
    tag: "1.4"
    digest: ${DIGEST}
    resolvedAt: "2026-11-01T00:00:00Z"
`,
  )
  writeFileSync(join(dir, 'not-a-dir'), 'x\n')
}, 60_000)

afterAll(async () => {
  await kube?.stop()
})

/** The CLI run in the work directory, so that relative paths are shown as given. */
function cli(args: string[], opts: {env?: Record<string, string>} = {}): Promise<CliResult> {
  return runCli(args, {cwd: dir, env: opts.env ?? isolatedEnv()})
}

/** Exit 3, INVALID_INPUT, and the flag and the path in one line; no ENOENT/stat noise. */
function expectMissing(r: CliResult, flag: string, path: string, what: 'file' | 'directory'): void {
  expect({code: r.code, stderr: r.stderr}).toEqual({code: 3, stderr: expect.stringContaining(`Error [INVALID_INPUT]: ${flag} ${path}: no such ${what}`)})
  expect(r.stderr).toMatch(/\nHint: \S/)
  expect(r.stderr).not.toMatch(/ENOENT|stat '/)
}

const preflightArgs = ['preflight', '--image', PINNED, '--no-resolve']
const trust = ['--policy', 'require.yaml', '--attestors', 'attestors', '--attestations', 'atts']

describe('a missing trust file or directory is an input error naming the flag and the path', () => {
  it('preflight --policy nope.yaml (attestors and attestations missing too): the policy is named, exit 3', async () => {
    expectMissing(await cli([...preflightArgs, '--policy', 'nope.yaml', '--attestors', 'nope/', '--attestations', 'nope/']), '--policy', 'nope.yaml', 'file')
  })

  it('preflight --attestors nope/: exit 3 even when the policy never asks for an attestor', async () => {
    expectMissing(
      await cli([...preflightArgs, '--policy', 'require.yaml', '--attestors', 'nope/', '--attestations', 'atts']),
      '--attestors',
      'nope/',
      'directory',
    )
    expectMissing(
      await cli([...preflightArgs, '--policy', 'allow.yaml', '--attestors', 'nope/', '--attestations', 'atts']),
      '--attestors',
      'nope/',
      'directory',
    )
  })

  it('preflight --attestations nope/: exit 3, also under ALWAYS_ALLOW', async () => {
    expectMissing(
      await cli([...preflightArgs, '--policy', 'require.yaml', '--attestors', 'attestors', '--attestations', 'nope/']),
      '--attestations',
      'nope/',
      'directory',
    )
    expectMissing(
      await cli([...preflightArgs, '--policy', 'allow.yaml', '--attestors', 'attestors', '--attestations', 'nope/']),
      '--attestations',
      'nope/',
      'directory',
    )
  })

  it('a file where a directory is expected (and the reverse) names the flag too', async () => {
    const r = await cli([...preflightArgs, '--policy', 'require.yaml', '--attestors', 'not-a-dir', '--attestations', 'atts'])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('Error [INVALID_INPUT]: --attestors not-a-dir: not a directory')
    const d = await cli([...preflightArgs, '--policy', 'atts', '--attestors', 'attestors', '--attestations', 'atts'])
    expect(d.code).toBe(3)
    expect(d.stderr).toContain('Error [INVALID_INPUT]: --policy atts: is a directory, not a file')
  })

  it('preflight --system-policy nope.yaml: exit 3 (was a usage error, exit 2)', async () => {
    expectMissing(await cli([...preflightArgs, ...trust, '--system-policy', 'nope.yaml']), '--system-policy', 'nope.yaml', 'file')
  })

  it('a profile path that does not exist is named as the profile key', async () => {
    writeFileSync(join(dir, 'profile.yaml'), 'apiVersion: safe-deploy.dev/v1\nkind: Config\nprofiles:\n  prod:\n    policy: policies/prod.yaml\n')
    const r = await cli([...preflightArgs, '--config', 'profile.yaml', '--profile', 'prod', '--attestors', 'attestors', '--attestations', 'atts'])
    expectMissing(r, 'policy (from the profile)', join(dir, 'policies/prod.yaml'), 'file')
  })

  it('--config nope.yaml and --registry-ca-cert nope.pem: exit 3 naming the flag', async () => {
    expectMissing(await cli([...preflightArgs, ...trust, '--config', 'nope.yaml']), '--config', 'nope.yaml', 'file')
    expectMissing(await cli(['pin', '-f', 'app.yaml', '--registry-ca-cert', 'nope.pem']), '--registry-ca-cert', 'nope.pem', 'file')
  })

  it('pin / preflight / apply --lock nope.lock: exit 3 naming --lock, nothing sent', async () => {
    expectMissing(await cli(['pin', '-f', 'app.yaml', '--lock', 'nope.lock']), '--lock', 'nope.lock', 'file')
    expectMissing(await cli(['preflight', '-f', 'app.yaml', ...trust, '--lock', 'nope.lock']), '--lock', 'nope.lock', 'file')
    kube.clearRequests()
    const r = await cli([
      'apply',
      '-f',
      'app.yaml',
      ...trust,
      '--lock',
      'nope.lock',
      '--kubeconfig',
      kubeconfig,
      '--context',
      'test',
      '--yes',
      '--audit-log',
      'audit-lock.jsonl',
    ])
    expectMissing(r, '--lock', 'nope.lock', 'file')
    expect(kube.requests).toEqual([])
  })

  it('apply and run deploy --policy nope.yaml: exit 3 before anything is resolved or sent', async () => {
    kube.clearRequests()
    const a = await cli([
      'apply',
      '-f',
      'app.yaml',
      '--policy',
      'nope.yaml',
      '--attestors',
      'attestors',
      '--attestations',
      'atts',
      '--lock',
      'images.lock.yaml',
      '--kubeconfig',
      kubeconfig,
      '--context',
      'test',
      '--yes',
      '--audit-log',
      'audit-policy.jsonl',
    ])
    expectMissing(a, '--policy', 'nope.yaml', 'file')
    expect(kube.requests).toEqual([])
    const run = await cli([
      'run',
      'deploy',
      'svc',
      '--image',
      PINNED,
      '--policy',
      'nope.yaml',
      '--attestors',
      'attestors',
      '--attestations',
      'atts',
      '--project',
      'p',
      '--region',
      'europe-west2',
      '--yes',
    ])
    expectMissing(run, '--policy', 'nope.yaml', 'file')
  })
})

describe('attest: a missing key, signature or attestors directory is an input error, nothing signed or stored', () => {
  const base = () => ['attest', '--image-digest', PINNED, '--attestor', attestor.name, '--attestors', 'attestors', '--output-dir', 'out']
  it.each([
    ['--private-key', ['--private-key', 'nope.pem']],
    ['--pgp-key', ['--pgp-key', 'nope.asc']],
    ['--signature-file', ['--signature-file', 'nope.sig', '--public-key-id', 'k1']],
  ])('%s nope: exit 3', async (flag, extra) => {
    const path = extra[1] as string
    expectMissing(await cli([...base(), ...extra]), flag, path, 'file')
    expect(existsSync(join(dir, 'out'))).toBe(false)
  })

  it('--pgp-passphrase-file nope.txt (with an existing --pgp-key) and --attestors nope/: exit 3', async () => {
    writeFileSync(join(dir, 'key.asc'), 'not read: the passphrase file is checked first\n')
    expectMissing(await cli([...base(), '--pgp-key', 'key.asc', '--pgp-passphrase-file', 'nope.txt']), '--pgp-passphrase-file', 'nope.txt', 'file')
    const r = await cli([
      'attest',
      '--image-digest',
      PINNED,
      '--attestor',
      attestor.name,
      '--attestors',
      'nope/',
      '--private-key',
      attestor.privateKeyFile,
      '--output-dir',
      'out',
    ])
    expectMissing(r, '--attestors', 'nope/', 'directory')
  })
})

describe('policy lint / explain and audit', () => {
  it('policy lint nope.yaml, --attestors nope/, --audit-log nope.jsonl: exit 3 naming each', async () => {
    expectMissing(await cli(['policy', 'lint', 'nope.yaml']), 'policy file', 'nope.yaml', 'file')
    expectMissing(await cli(['policy', 'lint', 'allow.yaml', '--attestors', 'nope/']), '--attestors', 'nope/', 'directory')
    const a = await cli(['policy', 'lint', 'allow.yaml', '--audit-log', 'nope.jsonl'])
    expect(a.code).toBe(3)
    expect(a.stderr).toContain('Error [INVALID_INPUT]: --audit-log nope.jsonl does not exist')
  })

  it('policy explain nope.yaml and --system-policy nope.yaml: exit 3', async () => {
    expectMissing(await cli(['policy', 'explain', 'nope.yaml']), 'policy file', 'nope.yaml', 'file')
    expectMissing(await cli(['policy', 'explain', 'allow.yaml', '--system-policy', 'nope.yaml']), '--system-policy', 'nope.yaml', 'file')
  })

  it('audit --audit-log nope.jsonl: exit 3, the log does not exist; no log at the default path is still "0 record(s)"', async () => {
    const r = await cli(['audit', '--audit-log', 'nope.jsonl'])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('Error [INVALID_INPUT]: --audit-log nope.jsonl does not exist')
    expect(r.stderr).not.toMatch(/record\(s\)/)
    const env = isolatedEnv()
    const d = await cli(['audit'], {env})
    expect(d.code).toBe(0)
    expect(d.stderr).toContain(`0 record(s) from ${join(env.XDG_STATE_HOME as string, 'safe-deploy', 'audit.jsonl')}`)
  })
})
