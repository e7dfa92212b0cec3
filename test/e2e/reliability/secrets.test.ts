/**
 * Secrets never leak: the suites' typical commands run with credentials in play and `--debug` on
 * — pin against an htpasswd and a token registry (docker config credentials, right and wrong),
 * attest and preflight against the local Google servers (the fake OAuth token), apply against the
 * Kubernetes API double (a bearer token in the kubeconfig) — and every stdout/stderr, --json
 * document, report (Markdown, JUnit, $GITHUB_STEP_SUMMARY), lock file, attestation file and audit
 * record is grepped for the passwords, the base64 `user:password`, every registry token the token
 * server issued, the Google token and the kube token, and for any Authorization header value.
 *
 * Rerun: npm run build:dist && npm run jest -- test/e2e/reliability/secrets
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startRegistry, writeDockerConfig, basicAuthEntry, type TestRegistry} from '../../support/registry.js'
import {startKubeApiServer, type KubeApiServer} from '../../support/kube-apiserver.js'
import {startBinauthzRestServer, type BinauthzRestServer} from '../../support/gcp/binauthz-rest-server.js'
import {startGrafeasServer, status as grpcStatus, type GrafeasState, type GrpcServerHandle} from '../../support/gcp/grpc-servers.js'
import {runCli, isolatedEnv, type CliResult} from '../../support/cli.js'
import {makeAttestor, type TestAttestor} from '../../support/trust.js'
import {workload, mdTable, saveFigures} from './helpers.js'

const HT_PASSWORD = 'Ht-pa55word-SECRET-7f3a'
const TOKEN_PASSWORD = 'T0ken-user-SECRET-91c2'
const WRONG_PASSWORD = 'Wr0ng-pa55-SECRET-0b7e'
const KUBE_TOKEN = 'kube-bearer-SECRET-4d1e9a'
/** The token `--api-insecure` hands the Google clients (src/adapters/gcp/clients.ts). */
const GOOGLE_TOKEN = 'local-test-token'

let root: string
let ht: TestRegistry
let tok: TestRegistry
let kube: KubeApiServer
let binauthz: BinauthzRestServer
let grafeas: GrpcServerHandle<GrafeasState>
let attestor: TestAttestor
let attestorsDir: string
let goodDocker: string
let wrongDocker: string
let kubeconfig: string
const runs: Array<{name: string; args: string[]; result: CliResult}> = []

async function run(name: string, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const result = await runCli(args, {env: isolatedEnv({SAFE_DEPLOY_DEBUG: '1', ...env})})
  runs.push({name, args, result})
  return result
}

function secrets(): Array<{what: string; value: string}> {
  const list = [
    {what: 'htpasswd password', value: HT_PASSWORD},
    {what: 'token-registry password', value: TOKEN_PASSWORD},
    {what: 'wrong password', value: WRONG_PASSWORD},
    {what: 'base64 user:password (htpasswd)', value: basicAuthEntry(ht.user, HT_PASSWORD).auth},
    {what: 'base64 user:password (token)', value: basicAuthEntry(tok.user, TOKEN_PASSWORD).auth},
    {what: 'base64 user:wrong', value: basicAuthEntry(ht.user, WRONG_PASSWORD).auth},
    {what: 'kube bearer token', value: KUBE_TOKEN},
    {what: 'Google OAuth token', value: GOOGLE_TOKEN},
  ]
  for (const [i, t] of (tok.tokenServer?.issued ?? []).entries()) {
    list.push({what: `registry token #${i + 1}`, value: t})
    list.push({what: `registry token #${i + 1} signature`, value: t.split('.').pop() as string})
  }
  return list
}

/** Every file written under dir (reports, lock files, attestations, audit logs, summaries). */
function filesUnder(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...filesUnder(p))
    else if (e.isFile() && statSync(p).size < 5_000_000) out.push(p)
  }
  return out
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sd-secrets-'))
  ;[ht, tok, kube, binauthz, grafeas] = await Promise.all([
    startRegistry({auth: 'htpasswd', password: HT_PASSWORD}),
    startRegistry({auth: 'token', password: TOKEN_PASSWORD}),
    startKubeApiServer(),
    startBinauthzRestServer(),
    startGrafeasServer(),
  ])
  await ht.pushImage('team/app', '1.4')
  await tok.pushImage('team/app', '1.4')
  goodDocker = join(root, 'docker-good')
  wrongDocker = join(root, 'docker-wrong')
  await writeDockerConfig(goodDocker, {auths: {[ht.host]: basicAuthEntry(ht.user, HT_PASSWORD), [tok.host]: basicAuthEntry(tok.user, TOKEN_PASSWORD)}})
  await writeDockerConfig(wrongDocker, {auths: {[ht.host]: basicAuthEntry(ht.user, WRONG_PASSWORD), [tok.host]: basicAuthEntry(tok.user, WRONG_PASSWORD)}})
  kubeconfig = kube.writeKubeconfig(root, {context: 'test', token: KUBE_TOKEN})
  attestorsDir = join(root, 'attestors')
  attestor = makeAttestor(attestorsDir, join(root, 'keys'), 'test-proj', 'built-by-ci')
  binauthz.state.attestors.set(attestor.name, JSON.parse(readFileSync(join(attestorsDir, 'built-by-ci.json'), 'utf8')))
  binauthz.state.policies.set('test-proj', {
    name: 'projects/test-proj/policy',
    globalPolicyEvaluationMode: 'ENABLE',
    defaultAdmissionRule: {evaluationMode: 'REQUIRE_ATTESTATION', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG', requireAttestationsBy: [attestor.name]},
  })
  mkdirSync(join(root, 'k8s'))
  writeFileSync(join(root, 'k8s', 'ht.yaml'), workload('ht-app', `${ht.host}/team/app:1.4`))
  writeFileSync(join(root, 'k8s', 'tok.yaml'), workload('tok-app', `${tok.host}/team/app:1.4`))
}, 120_000)

afterAll(async () => {
  await Promise.all([ht?.stop(), tok?.stop(), kube?.stop(), binauthz?.stop(), grafeas?.stop()])
})

describe('secrets never appear in any output', () => {
  it('runs the typical commands (success and failure paths, --debug on)', async () => {
    const reg = ['--insecure-registry', ht.host, '--insecure-registry', tok.host]
    const api = ['--project', 'test-proj', '--binauthz-endpoint', binauthz.baseUrl, '--containeranalysis-endpoint', grafeas.endpoint, '--api-insecure']
    const good = {DOCKER_CONFIG: goodDocker}
    const wrong = {DOCKER_CONFIG: wrongDocker}
    const out = (n: string): string => join(root, 'out', n)
    mkdirSync(join(root, 'out', 'atts'), {recursive: true})

    expect(
      (await run('pin (htpasswd + token, --debug)', ['pin', '-f', join(root, 'k8s'), ...reg, '--debug', '--lock-output', out('lock.yaml')], good)).code,
    ).toBe(0)
    expect((await run('pin --json', ['pin', '-f', join(root, 'k8s'), ...reg, '--json'], good)).code).toBe(0)
    const bad = await run('pin, wrong password (--debug)', ['pin', '-f', join(root, 'k8s'), ...reg, '--debug'], wrong)
    expect(bad.code).toBe(4)
    expect(bad.stderr).toMatch(/REGISTRY_AUTH/)
    expect((await run('pin, wrong password --json', ['pin', '-f', join(root, 'k8s'), ...reg, '--json'], wrong)).code).toBe(4)

    for (const host of [ht.host, tok.host]) {
      const a = await run(
        `attest --project (${host})`,
        [
          'attest',
          '--image',
          `${host}/team/app:1.4`,
          '--attestor',
          attestor.name,
          '--attestors',
          attestorsDir,
          '--private-key',
          attestor.privateKeyFile,
          '--project',
          'test-proj',
          '--containeranalysis-endpoint',
          grafeas.endpoint,
          '--api-insecure',
          ...reg,
          '--debug',
          '--json',
        ],
        good,
      )
      expect(a.code).toBe(0)
    }
    expect(
      (
        await run(
          'attest --output-dir',
          [
            'attest',
            '--image',
            `${ht.host}/team/app:1.4`,
            '--attestor',
            attestor.name,
            '--attestors',
            attestorsDir,
            '--private-key',
            attestor.privateKeyFile,
            '--output-dir',
            out('atts'),
            ...reg,
            '--debug',
          ],
          good,
        )
      ).code,
    ).toBe(0)

    const summary = out('step-summary.md')
    const pre = await run(
      'preflight --project (--debug, reports)',
      ['preflight', '-f', join(root, 'k8s'), ...api, ...reg, '--debug', '--report-md', out('report.md'), '--report-junit', out('report.xml')],
      {...good, GITHUB_STEP_SUMMARY: summary},
    )
    expect(pre.code).toBe(0)
    expect((await run('preflight --project --json', ['preflight', '-f', join(root, 'k8s'), ...api, ...reg, '--json'], good)).code).toBe(0)
    grafeas.failNext('ListNoteOccurrences', grpcStatus.PERMISSION_DENIED, {times: 100})
    expect((await run('preflight --project, PERMISSION_DENIED (--debug)', ['preflight', '-f', join(root, 'k8s'), ...api, ...reg, '--debug'], good)).code).toBe(
      4,
    )
    grafeas.clearFaults()
    binauthz.failNext('/policy', 401, {times: 100})
    expect(
      (await run('preflight --project, binauthz 401 --json', ['preflight', '-f', join(root, 'k8s'), ...api, ...reg, '--json', '--debug'], good)).code,
    ).toBe(4)
    binauthz.clearFaults()

    const apply = [
      'apply',
      '-f',
      join(root, 'k8s'),
      ...api,
      ...reg,
      '--kubeconfig',
      kubeconfig,
      '--context',
      'test',
      '--yes',
      '--audit-log',
      out('audit.jsonl'),
    ]
    expect((await run('apply --applier kubectl (--debug)', [...apply, '--applier', 'kubectl', '--debug'], good)).code).toBe(0)
    expect((await run('apply --applier api --json', [...apply, '--applier', 'api', '--json', '--debug'], good)).code).toBe(0)
    kube.failNext({status: 403, method: 'PATCH', times: 10, message: `forbidden for token ${'x'.repeat(3)}`})
    expect((await run('apply, API 403 (--debug)', [...apply, '--applier', 'api', '--debug'], good)).code).toBe(8)
    expect((await run('apply, wrong registry password', [...apply, '--debug'], wrong)).code).toBe(4)
    expect((await run('audit', ['audit', '--audit-log', out('audit.jsonl'), '--json'], good)).code).toBe(0)

    // The servers did receive the credentials (so the grep below is meaningful).
    expect(kube.requests.some((r) => r.authorization === `Bearer ${KUBE_TOKEN}`)).toBe(true)
    expect(tok.tokenServer!.issued.length).toBeGreaterThan(0)
    // The REST client sends the fake OAuth token (grpc-js sends no call credentials over a plain-text channel).
    expect(binauthz.requests.some((r) => r.hasAuthorization)).toBe(true)
  }, 300_000)

  it('grep: no password, token, base64 credential or Authorization value in any stdout, stderr, JSON, report, lock, attestation or audit record', () => {
    const corpus: Array<{where: string; text: string}> = []
    for (const r of runs) {
      corpus.push({where: `${r.name}: stdout`, text: r.result.stdout})
      corpus.push({where: `${r.name}: stderr`, text: r.result.stderr})
    }
    const files = filesUnder(join(root, 'out'))
    for (const f of files) corpus.push({where: f.replace(root, '<root>'), text: readFileSync(f, 'utf8')})
    const leaks: string[] = []
    for (const s of secrets()) for (const c of corpus) if (c.text.includes(s.value)) leaks.push(`${s.what} in ${c.where}`)
    for (const c of corpus) {
      const m = /authorization["']?\s*[:=]\s*["']?(Basic|Bearer)\s+(?!\[?redacted|\*{3})[A-Za-z0-9._~+/=-]{6,}/i.exec(c.text)
      if (m) leaks.push(`Authorization value in ${c.where}: ${m[0].slice(0, 40)}…`)
    }
    const bytes = corpus.reduce((n, c) => n + c.text.length, 0)
    const audit = readFileSync(join(root, 'out', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n').length
    const table = mdTable(
      ['figure', 'value'],
      [
        ['CLI runs grepped', runs.length],
        ['files grepped (reports, lock, attestations, audit, summary)', files.length],
        ['audit records', audit],
        ['secret values searched', secrets().length],
        ['bytes searched', bytes.toLocaleString('en-US')],
        ['leaks', leaks.length],
      ],
    )
    saveFigures('secrets', {
      runs: runs.map((r) => ({name: r.name, exit: r.result.code})),
      files: files.length,
      audit,
      secrets: secrets().map((s) => s.what),
      bytes,
      leaks,
    })
    console.log(
      `SECRETS GREP\n\n${table}\n\n${mdTable(
        ['command', 'exit'],
        runs.map((r) => [r.name, r.result.code]),
      )}\n`,
    )
    expect(leaks).toEqual([])
    expect(runs.length).toBeGreaterThanOrEqual(15)
    expect(files.length).toBeGreaterThanOrEqual(6)
  })
})
