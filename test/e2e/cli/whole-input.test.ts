/**
 * What kubectl refuses about a whole input, through the built CLI: no object at all (an empty
 * stdin: "no objects passed to apply") and objects in another namespace than -n ("the namespace from
 * the provided object … does not match the namespace …"). Each is an input error (exit 3) reported
 * before anything is pinned or sent; an empty directory suggests -R only when it has subdirectories.
 * No registry: images come pinned or from a lock file; the cluster is the Kubernetes API test double.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {isolatedEnv, runCli, type CliResult} from '../../support/cli.js'
import {deployment} from '../../support/fixtures.js'
import {startKubeApiServer, type KubeApiServer} from '../../support/kube-apiserver.js'

const DIGEST = `sha256:${'a'.repeat(64)}`
const PINNED = `registry.example/team/app@${DIGEST}`

let dir: string
let kube: KubeApiServer
let kubeconfig: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sd-whole-input-'))
  kube = await startKubeApiServer()
  kubeconfig = kube.writeKubeconfig(dir, {context: 'test'})
  mkdirSync(join(dir, 'attestors'))
  mkdirSync(join(dir, 'atts'))
  writeFileSync(join(dir, 'allow.yaml'), 'defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n')
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
  mkdirSync(join(dir, 'empty'))
  mkdirSync(join(dir, 'nested/sub'), {recursive: true})
  writeFileSync(join(dir, 'nested/sub/app.yaml'), deployment('nested', PINNED))
}, 60_000)

afterAll(async () => {
  await kube?.stop()
})

/** The CLI run in the work directory, so that relative paths are shown as given. */
function cli(args: string[], opts: {stdin?: string} = {}): Promise<CliResult> {
  return runCli(args, {cwd: dir, env: isolatedEnv(), ...(opts.stdin === undefined ? {} : {stdin: opts.stdin})})
}

const trust = ['--policy', 'allow.yaml', '--attestors', 'attestors', '--attestations', 'atts']

describe('empty inputs', () => {
  it('-f on an empty directory does not suggest -R; on one with only subdirectories it does', async () => {
    const e = await cli(['pin', '-f', 'empty'])
    expect(e.code).toBe(3)
    expect(e.stderr).toContain('empty: no *.yaml, *.yml or *.json files in this directory')
    expect(e.stderr).not.toMatch(/-R/)
    const n = await cli(['pin', '-f', 'nested'])
    expect(n.code).toBe(3)
    expect(n.stderr).toMatch(/Hint: use -R to include its subdirectories \(sub\)/)
  })

  it.each([
    ['nothing', '', 'is empty'],
    ['comments and empty documents', '# rendered nothing\n---\n---\n', 'holds only comments or empty documents'],
  ])('-f - with %s on stdin: pin, preflight and apply refuse it (exit 3, "no objects passed"), nothing sent', async (_what, stdin, why) => {
    for (const args of [
      ['pin', '-f', '-'],
      ['preflight', '-f', '-', '--no-resolve', ...trust],
    ]) {
      const r = await cli(args, {stdin})
      expect({args, code: r.code}).toEqual({args, code: 3})
      expect(r.stderr).toContain(`Error [INVALID_INPUT]: no objects passed: <stdin> ${why}`)
      expect(r.stdout + r.stderr).not.toMatch(/ALLOW/)
    }
    kube.clearRequests()
    const a = await cli(['apply', '-f', '-', ...trust, '--kubeconfig', kubeconfig, '--context', 'test', '--yes', '--audit-log', 'audit-empty.jsonl'], {stdin})
    expect(a.code).toBe(3)
    expect(a.stderr).toContain(`no objects passed: <stdin> ${why}`)
    expect(kube.requests).toEqual([])
  })
})

describe('-n NAMESPACE against documents that name another namespace (kubectl refuses it)', () => {
  const shop = (name: string): string => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: shop
data: {a: b}
`
  beforeAll(() => {
    writeFileSync(join(dir, 'shop.yaml'), deployment('cart', 'registry.example/team/app:1.4', {namespace: 'shop'}) + '---\n' + shop('settings'))
    // A cluster-scoped object with a namespace written on it is not refused (kubectl skips the check for it).
    writeFileSync(join(dir, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  namespace: elsewhere\n')
  })
  const applyArgs = (ns: string, file = 'shop.yaml') => [
    'apply',
    '-f',
    file,
    '-n',
    ns,
    '--policy',
    'allow.yaml',
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
    `audit-ns-${ns}.jsonl`,
  ]

  it('apply -n payments: one message in kubectl words naming every object, exit 3, nothing sent', async () => {
    kube.clearRequests()
    const r = await cli(applyArgs('payments'))
    expect(r.code).toBe(3)
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('Error'))
    expect(errors).toEqual([
      'Error [INVALID_INPUT]: the namespace from the provided objects "shop" does not match the namespace "payments": ' +
        'shop.yaml: document 1: Deployment/cart (namespace shop); shop.yaml: document 2: ConfigMap/settings (namespace shop)',
    ])
    expect(r.stderr).toContain("Hint: You must pass '--namespace=shop' to perform this operation")
    expect(kube.requests).toEqual([])
    expect(kube.writes()).toEqual([])
    // Recorded as a decision that blocked the deploy, like any other input refused by the pre-flight.
    const audit = readFileSync(join(dir, 'audit-ns-payments.jsonl'), 'utf8').trim().split('\n')
    expect(audit.map((l) => (JSON.parse(l) as {outcome: string}).outcome)).toEqual(['blocked'])
  })

  it('preflight -n payments is refused the same way; -n shop goes through (apply creates both objects in shop)', async () => {
    const p = await cli([
      'preflight',
      '-f',
      'shop.yaml',
      '-n',
      'payments',
      '--policy',
      'allow.yaml',
      '--attestors',
      'attestors',
      '--attestations',
      'atts',
      '--lock',
      'images.lock.yaml',
    ])
    expect(p.code).toBe(3)
    expect(p.stderr).toContain('the namespace from the provided objects "shop" does not match the namespace "payments"')
    kube.clearRequests()
    const ok = await cli(applyArgs('shop'))
    expect({code: ok.code, stderr: ok.code === 0 ? '' : ok.stderr}).toEqual({code: 0, stderr: ''})
    expect(kube.objects.has('deployments/shop/cart')).toBe(true)
    expect(kube.objects.has('configmaps/shop/settings')).toBe(true)
  })

  it('a cluster-scoped object is not compared (kubectl does not either)', async () => {
    const r = await cli(['preflight', '-f', 'ns.yaml', '-n', 'payments', '--policy', 'allow.yaml', '--attestors', 'attestors', '--attestations', 'atts'])
    expect({code: r.code, stderr: r.stderr}).toEqual({code: 0, stderr: expect.not.stringContaining('does not match')})
  })
})
