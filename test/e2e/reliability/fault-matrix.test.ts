/**
 * Fault matrix ACROSS THE PIPELINE, through the built CLI: a fault proxy in front of a real
 * registry (docker-registry) and local Google API servers (Binary Authorization REST, Container
 * Analysis gRPC), scripted per case. For every fault:
 *
 *   - the outcome: retried and succeeded, or the named cause (error code) and exit status;
 *   - nothing applied: `apply` with an ALWAYS_ALLOW policy (so only a failure to check could
 *     block) against the Kubernetes API double → zero writes, zero requests;
 *   - no file half-written: `pin --write` on a directory of manifests → every file byte-identical
 *     and no temp file left (registry faults); a pre-existing report file untouched (API faults).
 *
 * The table printed in afterAll (and saved to tmp/reliability/fault-matrix.json) is what
 * docs/RELIABILITY.md shows. Rerun: npm run build:dist && npm run jest -- test/e2e/reliability/fault-matrix
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startRegistry, writeDockerConfig, basicAuthEntry, type TestRegistry} from '../../support/registry.js'
import {startFaultProxy, type Fault, type FaultProxy, type ProxiedRequest} from '../../support/fault-proxy.js'
import {startKubeApiServer, type KubeApiServer} from '../../support/kube-apiserver.js'
import {startBinauthzRestServer, type BinauthzRestServer} from '../../support/gcp/binauthz-rest-server.js'
import {startGrafeasServer, status as grpcStatus, type GrafeasState, type GrpcServerHandle} from '../../support/gcp/grpc-servers.js'
import {runCli, isolatedEnv, type CliResult} from '../../support/cli.js'
import {makeAttestor, type TestAttestor} from '../../support/trust.js'
import {ALLOW_ALL_POLICY, workload, diffSnapshots, jsonErrorCode, mdTable, saveFigures, snapshot, tempFiles} from './helpers.js'

const REDIRECT_PASSWORD = 'Redir3ct-pa55-NEVER-FORWARD'

let root: string
let reg: TestRegistry
let proxy: FaultProxy
// Redirect: an htpasswd registry (front) redirects authenticated manifest requests to other hosts.
let authReg: TestRegistry
let front: FaultProxy
let openReg: TestRegistry
let openTarget: FaultProxy
let authTarget: FaultProxy
let dockerDir: string
// Google APIs.
let binauthz: BinauthzRestServer
let grafeas: GrpcServerHandle<GrafeasState>
let grafeasSlow: GrpcServerHandle<GrafeasState>
let attestor: TestAttestor
let kube: KubeApiServer
let kubeconfig: string
/** A second Kubernetes API double for the long-running timeout case (runs concurrently with the rest). */
let kubeSlow: KubeApiServer
let trustDir: string
let slowRuns: Promise<{pre: CliResult; app: CliResult; ms: number; unchanged: string[]; temps: string[]; auditText: string}> | undefined

interface Row {
  case: string
  fault: string
  command: string
  exit: number
  code: string
  outcome: string
  upstreamRequests: number | string
  ms: number
  filesUnchanged: string
  tempFiles: number
  kubeWrites: number
}
const rows: Row[] = []

type Script = (req: ProxiedRequest) => Fault | undefined
const manifestsOnly =
  (f: Fault): Script =>
  (req) =>
    req.url.includes('/manifests/') ? f : undefined
/** The fault once per distinct request (method + URL): every image's first attempt fails, its retry goes through. */
const oncePerRequest = (make: () => Fault): Script => {
  const seen = new Map<string, Fault>()
  return (req) => {
    if (!req.url.includes('/manifests/')) return undefined
    const key = `${req.method} ${req.url}`
    if (!seen.has(key)) seen.set(key, {...make(), times: 1})
    return seen.get(key)
  }
}

interface RegistryCase {
  id: string
  fault: string
  /** A fresh script per CLI run (Fault objects count their own `times`). */
  script: () => Script
  /** Expected: 0 = retried/handled and succeeded; else exit status and error code. */
  exit: number
  code?: string
  message?: RegExp
  /** Which proxy serves the images: the plain registry (default) or the htpasswd front. */
  via?: 'plain' | 'front'
}

const FAIL_FAST = ['--registry-timeout', '1', '--retries', '1']
/** The CA timeout case: --api-timeout (seconds), and when the slow server answers (after it). */
const API_TIMEOUT_S = 2
const SLOW_ANSWER_MS = 3_000
/** Attempts of one call: the first and 3 retries (the shared retry policy of the Google adapters). */
const API_ATTEMPTS = 4

const REGISTRY_CASES: RegistryCase[] = [
  {id: 'baseline', fault: 'none', script: () => () => undefined, exit: 0},
  {
    id: '401',
    fault: 'HTTP 401 + WWW-Authenticate on every manifest request',
    script: () => manifestsOnly({status: 401, headers: {'WWW-Authenticate': 'Basic realm="fault"'}}),
    exit: 4,
    code: 'REGISTRY_AUTH',
    message: /HTTP 401.*credentials tried: anonymous/,
  },
  {id: '403', fault: 'HTTP 403 on every manifest request', script: () => manifestsOnly({status: 403}), exit: 4, code: 'REGISTRY_AUTH', message: /HTTP 403/},
  {
    id: '404',
    fault: 'HTTP 404 MANIFEST_UNKNOWN',
    script: () => manifestsOnly({status: 404, body: JSON.stringify({errors: [{code: 'MANIFEST_UNKNOWN', message: 'manifest unknown'}]})}),
    exit: 4,
    code: 'REGISTRY_NOT_FOUND',
    message: /not found/,
  },
  {
    id: '429+RA',
    fault: 'HTTP 429, Retry-After: 1, always',
    script: () => manifestsOnly({status: 429, headers: {'Retry-After': '1'}}),
    exit: 4,
    code: 'REGISTRY_RATE_LIMITED',
    message: /HTTP 429 after 2 attempts/,
  },
  {
    id: '429',
    fault: 'HTTP 429, no Retry-After, always',
    script: () => manifestsOnly({status: 429}),
    exit: 4,
    code: 'REGISTRY_RATE_LIMITED',
    message: /HTTP 429 after 2 attempts/,
  },
  {
    id: '429+RA once',
    fault: 'HTTP 429, Retry-After: 1, first attempt per request',
    script: () => oncePerRequest(() => ({status: 429, headers: {'Retry-After': '1'}})),
    exit: 0,
  },
  {id: '429 once', fault: 'HTTP 429, no Retry-After, first attempt per request', script: () => oncePerRequest(() => ({status: 429})), exit: 0},
  {
    id: '500',
    fault: 'HTTP 500, always',
    script: () => manifestsOnly({status: 500}),
    exit: 4,
    code: 'REGISTRY_UNAVAILABLE',
    message: /HTTP 500 after 2 attempts/,
  },
  {
    id: '502',
    fault: 'HTTP 502, always',
    script: () => manifestsOnly({status: 502}),
    exit: 4,
    code: 'REGISTRY_UNAVAILABLE',
    message: /HTTP 502 after 2 attempts/,
  },
  {
    id: '503',
    fault: 'HTTP 503, always',
    script: () => manifestsOnly({status: 503}),
    exit: 4,
    code: 'REGISTRY_UNAVAILABLE',
    message: /HTTP 503 after 2 attempts/,
  },
  {id: '500 once', fault: 'HTTP 500, first attempt per request', script: () => oncePerRequest(() => ({status: 500})), exit: 0},
  {id: '502 once', fault: 'HTTP 502, first attempt per request', script: () => oncePerRequest(() => ({status: 502})), exit: 0},
  {id: '503 once', fault: 'HTTP 503, first attempt per request', script: () => oncePerRequest(() => ({status: 503})), exit: 0},
  {
    id: 'reset',
    fault: 'connection reset, always',
    script: () => manifestsOnly({reset: true}),
    exit: 4,
    code: 'REGISTRY_NETWORK',
    message: /reset after 2 attempts/,
  },
  {id: 'reset once', fault: 'connection reset, first attempt per request', script: () => oncePerRequest(() => ({reset: true})), exit: 0},
  {
    id: 'slow headers',
    fault: 'headers after 2.5 s (timeout 1 s), always',
    script: () => manifestsOnly({delayMs: 2500}),
    exit: 4,
    code: 'REGISTRY_TIMEOUT',
    message: /did not answer within 1000 ms after 2 attempts/,
  },
  {
    id: 'slow headers once',
    fault: 'headers after 2.5 s (timeout 1 s), first attempt per request',
    script: () => oncePerRequest(() => ({delayMs: 2500})),
    exit: 0,
  },
  {
    id: 'body cut',
    fault: 'HEAD without digest → GET body cut mid-stream, always',
    script: () => {
      const cut: Fault = {truncateBody: true}
      const noDigest: Fault = {overrideHeaders: {'Docker-Content-Digest': null}}
      return (req) => (!req.url.includes('/manifests/') ? undefined : req.method === 'HEAD' ? noDigest : cut)
    },
    exit: 4,
    code: 'REGISTRY_NETWORK',
    message: /reset after 2 attempts/,
  },
  {
    id: 'body cut once',
    fault: 'HEAD without digest → GET body cut mid-stream, first GET per request',
    script: () => {
      const noDigest: Fault = {overrideHeaders: {'Docker-Content-Digest': null}}
      const once = oncePerRequest(() => ({truncateBody: true}))
      return (req) => (req.method === 'HEAD' && req.url.includes('/manifests/') ? noDigest : once(req))
    },
    exit: 0,
  },
  {
    id: 'digest mismatch',
    fault: 'Docker-Content-Digest ≠ sha256(body) (HEAD unusable, GET wrong)',
    script: () => (req) =>
      req.url.includes('/manifests/')
        ? {overrideHeaders: {'Docker-Content-Digest': req.method === 'HEAD' ? 'garbage' : 'sha256:' + '0'.repeat(64)}}
        : undefined,
    exit: 4,
    code: 'REGISTRY_PROTOCOL',
    message: /sha256:0{64}/,
  },
  {
    id: 'redirect → open host',
    fault: 'htpasswd registry redirects authenticated requests to another host (307)',
    script: () => (req) => (req.url.includes('/manifests/') && req.headers.authorization !== undefined ? {redirectTo: openTarget.url} : undefined),
    exit: 0,
    via: 'front',
  },
  {
    id: 'redirect → auth host',
    fault: 'htpasswd registry redirects to another host that needs the same credentials',
    script: () => (req) => (req.url.includes('/manifests/') && req.headers.authorization !== undefined ? {redirectTo: authTarget.url} : undefined),
    exit: 4,
    code: 'REGISTRY_AUTH',
    message: /redirected from/,
    via: 'front',
  },
]

function makeWorkDir(id: string, host: string): string {
  const slug = id
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
  const d = join(root, 'cases', slug)
  mkdirSync(join(d, 'k8s', 'sub'), {recursive: true})
  // 6 files (one nested, one without images): enough that a partial write would show.
  for (let i = 0; i < 5; i++) {
    const img = i % 2 === 0 ? `${host}/team/app:1.4` : `${host}/team/worker:2.0`
    // Workload names per case, so every successful apply creates objects (no "unchanged" no-op).
    writeFileSync(join(d, 'k8s', i === 4 ? 'sub' : '', `w${i}.yaml`), workload(`${slug}-w${i}`, img))
  }
  writeFileSync(join(d, 'k8s', 'config.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: "1"}\n')
  return d
}

const trustArgs = (): string[] => [
  '--policy',
  join(trustDir, 'allow.yaml'),
  '--attestors',
  join(trustDir, 'attestors'),
  '--attestations',
  join(trustDir, 'attestations'),
]
const applyArgs = (k8s: string, auditLog: string): string[] => [
  'apply',
  '-f',
  k8s,
  '-R',
  '--kubeconfig',
  kubeconfig,
  '--context',
  'test',
  '--yes',
  '--audit-log',
  auditLog,
  '--json',
]

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sd-faults-'))
  ;[reg, authReg, openReg, kube, binauthz, grafeas, grafeasSlow] = await Promise.all([
    startRegistry(),
    startRegistry({auth: 'htpasswd', password: REDIRECT_PASSWORD}),
    startRegistry(),
    startKubeApiServer(),
    startBinauthzRestServer(),
    startGrafeasServer(),
    startGrafeasServer(),
  ])
  kubeSlow = await startKubeApiServer()
  ;[proxy, front, openTarget, authTarget] = await Promise.all([
    startFaultProxy(reg.url),
    startFaultProxy(authReg.url),
    startFaultProxy(openReg.url),
    startFaultProxy(authReg.url),
  ])
  for (const r of [reg, authReg, openReg]) {
    await r.pushImage('team/app', '1.4')
    await r.pushImage('team/worker', '2.0')
  }
  kubeconfig = kube.writeKubeconfig(root, {context: 'test'})
  dockerDir = join(root, 'docker')
  await writeDockerConfig(dockerDir, {auths: {[front.host]: basicAuthEntry(authReg.user, REDIRECT_PASSWORD)}})

  trustDir = join(root, 'trust')
  mkdirSync(join(trustDir, 'attestors'), {recursive: true})
  mkdirSync(join(trustDir, 'attestations'), {recursive: true})
  writeFileSync(join(trustDir, 'allow.yaml'), ALLOW_ALL_POLICY)

  // Google APIs: REQUIRE_ATTESTATION policy and its attestor in the Binary Authorization server,
  // attestations (made by `safe-deploy attest`) in Container Analysis.
  attestor = makeAttestor(join(root, 'api-attestors'), join(root, 'keys'), 'test-proj', 'built-by-ci')
  binauthz.state.attestors.set(attestor.name, JSON.parse(readFileSync(join(root, 'api-attestors', 'built-by-ci.json'), 'utf8')))
  binauthz.state.policies.set('test-proj', {
    name: 'projects/test-proj/policy',
    globalPolicyEvaluationMode: 'ENABLE',
    defaultAdmissionRule: {evaluationMode: 'REQUIRE_ATTESTATION', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG', requireAttestationsBy: [attestor.name]},
  })
  for (const image of [`${reg.host}/team/app:1.4`, `${reg.host}/team/worker:2.0`]) {
    const a = await runCli([
      'attest',
      '--image',
      image,
      '--attestor',
      attestor.name,
      '--attestors',
      join(root, 'api-attestors'),
      '--private-key',
      attestor.privateKeyFile,
      '--project',
      'test-proj',
      '--containeranalysis-endpoint',
      grafeas.endpoint,
      '--api-insecure',
      '--insecure-registry',
      reg.host,
      '--json',
    ])
    if (a.code !== 0) throw new Error(`attest failed: ${a.stderr}`)
  }
  grafeasSlow.state.occurrences.push(...grafeas.state.occurrences)

  // The Container Analysis timeout case: every answer comes after the --api-timeout deadline, so
  // each of the 4 attempts waits the deadline out. Started now, on its own server, so it overlaps
  // the rest of the matrix.
  grafeasSlow.delayNext('ListNoteOccurrences', SLOW_ANSWER_MS, {times: 1000})
  const slowDir = makeWorkDir('ca-timeout', reg.host)
  writeFileSync(join(slowDir, 'report.md'), '# previous report\n')
  const before = snapshot(slowDir)
  const t0 = Date.now()
  const api = [
    '--project',
    'test-proj',
    '--binauthz-endpoint',
    binauthz.baseUrl,
    '--containeranalysis-endpoint',
    grafeasSlow.endpoint,
    '--api-insecure',
    '--api-timeout',
    String(API_TIMEOUT_S),
    '--insecure-registry',
    reg.host,
  ]
  slowRuns = Promise.all([
    runCli(['preflight', '-f', join(slowDir, 'k8s'), '-R', ...api, '--report-md', join(slowDir, 'report.md'), '--json'], {timeoutMs: 300_000}),
    runCli(
      [
        'apply',
        '-f',
        join(slowDir, 'k8s'),
        '-R',
        '--kubeconfig',
        kubeSlow.writeKubeconfig(slowDir, {context: 'test'}),
        '--context',
        'test',
        '--yes',
        '--audit-log',
        join(slowDir, 'audit.jsonl'),
        '--json',
        ...api,
      ],
      {timeoutMs: 300_000},
    ),
  ]).then(([pre, app]) => ({
    pre,
    app,
    ms: Date.now() - t0,
    unchanged: diffSnapshots(before, snapshot(slowDir)).filter((f) => !f.startsWith('kubeconfig') && f !== 'audit.jsonl'),
    temps: tempFiles(slowDir),
    auditText: readFileSync(join(slowDir, 'audit.jsonl'), 'utf8'),
  }))
}, 120_000)

afterAll(async () => {
  if (rows.length > 0) {
    const table = mdTable(
      ['case', 'fault', 'command', 'exit', 'error code', 'outcome', 'upstream requests', 'ms', 'files byte-identical', 'temp files', 'kube writes'],
      rows.map((r) => [r.case, r.fault, r.command, r.exit, r.code, r.outcome, r.upstreamRequests, r.ms, r.filesUnchanged, r.tempFiles, r.kubeWrites]),
    )
    const file = saveFigures('fault-matrix', rows)
    console.log(`FAULT MATRIX (${rows.length} rows; saved to ${file})\n\n${table}\n`)
  }
  for (const p of [proxy, front, openTarget, authTarget]) await p?.stop()
  for (const s of [reg, authReg, openReg]) await s?.stop()
  await Promise.all([kube?.stop(), kubeSlow?.stop(), binauthz?.stop(), grafeas?.stop(), grafeasSlow?.stop()])
}, 60_000)

describe('registry faults: pin --write and apply through the CLI', () => {
  it.each(REGISTRY_CASES.map((c) => [c.id, c] as const))(
    '%s',
    async (_id, c) => {
      const p = c.via === 'front' ? front : proxy
      const work = makeWorkDir(c.id, p.host)
      const k8s = join(work, 'k8s')
      const before = snapshot(k8s)
      const env = isolatedEnv({DOCKER_CONFIG: dockerDir})
      const registryArgs = [
        '--insecure-registry',
        p.host,
        ...(c.via === 'front' ? ['--insecure-registry', openTarget.host, '--insecure-registry', authTarget.host] : []),
        ...FAIL_FAST,
      ]

      // 1. pin --write on the directory.
      for (const x of [proxy, front, openTarget, authTarget]) x.requests.length = 0
      p.script(c.script())
      const t0 = Date.now()
      const pin = await runCli(['pin', '-f', k8s, '-R', '--write', ...registryArgs, '--json'], {env})
      const pinMs = Date.now() - t0
      const upstream = p.requests.filter((r) => r.url.includes('/manifests/')).length
      const redirectedWithAuth = [openTarget, authTarget].flatMap((x) => x.requests).filter((r) => r.headers.authorization !== undefined).length
      const redirected = [openTarget, authTarget].flatMap((x) => x.requests).length
      p.script(undefined)
      const after = snapshot(k8s)
      const changed = diffSnapshots(before, after)
      const temps = tempFiles(k8s)
      expect(temps).toEqual([])
      expect(redirectedWithAuth).toBe(0)
      if (c.via === 'front') expect(redirected).toBeGreaterThan(0)

      // 2. apply (ALWAYS_ALLOW policy) on an untouched copy, same fault.
      const orig = makeWorkDir(`${c.id}-apply`, p.host)
      kube.clearRequests()
      p.script(c.script())
      const t1 = Date.now()
      const app = await runCli([...applyArgs(join(orig, 'k8s'), join(work, 'audit.jsonl')), ...trustArgs(), ...registryArgs], {env})
      const appMs = Date.now() - t1
      p.script(undefined)
      const writes = kube.writes().length
      const kubeRequests = kube.requests.length
      expect([...[openTarget, authTarget].flatMap((x) => x.requests)].filter((r) => r.headers.authorization !== undefined)).toEqual([])

      const pinCode = jsonErrorCode(pin.stdout) ?? '—'
      const appCode = jsonErrorCode(app.stdout) ?? '—'
      if (c.exit === 0) {
        expect({code: pin.code, stderr: pin.stderr}).toEqual({code: 0, stderr: expect.any(String)})
        // Every file with an image rewritten (fully: each parses to the pinned value), the ConfigMap untouched.
        expect(changed.sort()).toEqual(['sub/w4.yaml', 'w0.yaml', 'w1.yaml', 'w2.yaml', 'w3.yaml'])
        for (const f of changed) expect(after.get(f)!.toString()).toMatch(/image: \S+:(1\.4|2\.0)@sha256:[0-9a-f]{64} {3}# pinned by safe-deploy\n$/)
        expect(app.code).toBe(0)
        expect(writes).toBeGreaterThan(0)
      } else {
        expect(pin.code).toBe(c.exit)
        expect(pinCode).toBe(c.code)
        if (c.message) expect(pin.stdout).toMatch(c.message)
        expect(changed).toEqual([])
        expect(app.code).toBe(c.exit)
        expect(appCode).toBe(c.code)
        expect(writes).toBe(0)
        expect(kubeRequests).toBe(0)
        expect(app.stdout).not.toMatch(/"verdict": "ALLOW"/)
      }
      const outcome =
        c.exit === 0
          ? // Two unique images: two manifest requests when nothing goes wrong; more means retries or a GET fallback.
            (redirected > 0
              ? `followed the redirect → pinned ${changed.length} files`
              : upstream > 2
                ? `retried → pinned ${changed.length} files`
                : `pinned ${changed.length} files`) + (redirected > 0 ? `; redirect target saw ${redirected} req, 0 with Authorization` : '')
          : `fail closed: ${pinCode}` + (redirected > 0 ? `; redirect target saw ${redirected} req, 0 with Authorization` : '')
      rows.push({
        case: c.id,
        fault: c.fault,
        command: 'pin --write',
        exit: pin.code,
        code: pinCode,
        outcome,
        upstreamRequests: upstream,
        ms: pinMs,
        filesUnchanged: c.exit === 0 ? `n/a (all ${changed.length} rewritten whole)` : `yes (${before.size}/${before.size})`,
        tempFiles: temps.length,
        kubeWrites: 0,
      })
      rows.push({
        case: c.id,
        fault: c.fault,
        command: 'apply',
        exit: app.code,
        code: appCode,
        outcome: c.exit === 0 ? `applied (${writes} writes)` : 'nothing applied',
        upstreamRequests: '',
        ms: appMs,
        filesUnchanged: 'yes',
        tempFiles: tempFiles(join(orig, 'k8s')).length,
        kubeWrites: writes,
      })
    },
    90_000,
  )
})

describe('Google API faults: preflight and apply with --project (local Binary Authorization + Container Analysis)', () => {
  interface ApiCase {
    id: string
    fault: string
    install: () => void
    exit: number
    code?: string
    message?: RegExp
  }
  const CASES: ApiCase[] = [
    {id: 'CA baseline', fault: 'none (attested images)', install: () => undefined, exit: 0},
    {
      id: 'CA UNAVAILABLE',
      fault: 'ListNoteOccurrences → UNAVAILABLE, always',
      install: () => grafeas.failNext('ListNoteOccurrences', grpcStatus.UNAVAILABLE, {times: 1000}),
      exit: 4,
      code: 'API_ERROR',
      message: /UNAVAILABLE/,
    },
    {
      id: 'CA UNAVAILABLE once',
      fault: 'ListNoteOccurrences → UNAVAILABLE, first call',
      install: () => grafeas.failNext('ListNoteOccurrences', grpcStatus.UNAVAILABLE, {times: 1}),
      exit: 0,
    },
    {
      id: 'CA PERMISSION_DENIED',
      fault: 'ListNoteOccurrences → PERMISSION_DENIED',
      install: () => grafeas.failNext('ListNoteOccurrences', grpcStatus.PERMISSION_DENIED, {times: 1000}),
      exit: 4,
      code: 'API_AUTH',
    },
    {
      id: 'CA INTERNAL',
      fault: 'ListNoteOccurrences → INTERNAL',
      install: () => grafeas.failNext('ListNoteOccurrences', grpcStatus.INTERNAL, {times: 1000}),
      exit: 4,
      code: 'API_ERROR',
    },
    {id: 'BinAuthz 503', fault: 'GET policy → HTTP 503, always', install: () => binauthz.failNext('/policy', 503, {times: 1000}), exit: 4, code: 'API_ERROR'},
  ]

  it.each(CASES.map((c) => [c.id, c] as const))(
    '%s',
    async (_id, c) => {
      const work = makeWorkDir(c.id, reg.host)
      writeFileSync(join(work, 'report.md'), '# previous report\n')
      const before = snapshot(work)
      const api = [
        '--project',
        'test-proj',
        '--binauthz-endpoint',
        binauthz.baseUrl,
        '--containeranalysis-endpoint',
        grafeas.endpoint,
        '--api-insecure',
        '--insecure-registry',
        reg.host,
      ]
      grafeas.clearFaults()
      binauthz.clearFaults()
      c.install()
      const t0 = Date.now()
      const pre = await runCli(['preflight', '-f', join(work, 'k8s'), '-R', ...api, '--report-md', join(work, 'report.md'), '--json'])
      const preMs = Date.now() - t0
      grafeas.clearFaults()
      binauthz.clearFaults()
      const afterPre = snapshot(work)
      kube.clearRequests()
      c.install()
      const t1 = Date.now()
      const app = await runCli([...applyArgs(join(work, 'k8s'), join(work, 'audit.jsonl')), ...api])
      const appMs = Date.now() - t1
      grafeas.clearFaults()
      binauthz.clearFaults()
      const writes = kube.writes().length
      const preCode = jsonErrorCode(pre.stdout) ?? '—'
      const appCode = jsonErrorCode(app.stdout) ?? '—'
      expect(tempFiles(work)).toEqual([])
      if (c.exit === 0) {
        expect({code: pre.code, out: pre.code === 0 ? '' : pre.stderr + pre.stdout.slice(0, 3000)}).toEqual({code: 0, out: ''})
        expect(JSON.parse(pre.stdout).verdict).toBe('ALLOW')
        expect(diffSnapshots(before, afterPre)).toEqual(['report.md'])
        expect(app.code).toBe(0)
        expect(writes).toBeGreaterThan(0)
      } else {
        expect(pre.code).toBe(c.exit)
        expect(preCode).toBe(c.code)
        if (c.message) expect(pre.stdout).toMatch(c.message)
        expect(diffSnapshots(before, afterPre)).toEqual([])
        expect(app.code).toBe(c.exit)
        expect(appCode).toBe(c.code)
        expect(writes).toBe(0)
        expect(kube.requests.length).toBe(0)
      }
      const reportNote = c.exit === 0 ? 'report rewritten whole' : 'report.md untouched'
      rows.push({
        case: c.id,
        fault: c.fault,
        command: 'preflight --project',
        exit: pre.code,
        code: preCode,
        outcome: c.exit === 0 ? `ALLOW${c.id.includes('once') ? ' (retried)' : ''}` : `fail closed: ${preCode}`,
        upstreamRequests: '',
        ms: preMs,
        filesUnchanged: reportNote,
        tempFiles: 0,
        kubeWrites: 0,
      })
      rows.push({
        case: c.id,
        fault: c.fault,
        command: 'apply --project',
        exit: app.code,
        code: appCode,
        outcome: c.exit === 0 ? `applied (${writes} writes)` : 'nothing applied',
        upstreamRequests: '',
        ms: appMs,
        filesUnchanged: 'yes',
        tempFiles: 0,
        kubeWrites: writes,
      })
    },
    90_000,
  )

  it(`CA timeout: every ListNoteOccurrences answer comes after the --api-timeout ${API_TIMEOUT_S} s deadline → DEADLINE_EXCEEDED after the retries, exit 4, nothing applied`, async () => {
    const {pre, app, ms, unchanged, temps, auditText} = await (slowRuns as NonNullable<typeof slowRuns>)
    // Each attempt waited the whole --api-timeout deadline out; none waited the 30 s default.
    expect(ms).toBeGreaterThanOrEqual(API_ATTEMPTS * API_TIMEOUT_S * 1000)
    expect(ms).toBeLessThan(30_000 + API_ATTEMPTS * API_TIMEOUT_S * 1000)
    // Only the audit log may change: the apply that could not check records a "blocked" decision.
    expect(unchanged).toEqual([])
    const audit = auditText
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {outcome: string; detail?: string})
    expect(audit.map((r) => r.outcome)).toEqual(['blocked'])
    expect(audit[0]?.detail).toMatch(/not deployed: API_ERROR/)
    expect(temps).toEqual([])
    expect(pre.code).toBe(4)
    expect(jsonErrorCode(pre.stdout)).toBe('API_ERROR')
    expect(pre.stdout).toMatch(/DEADLINE_EXCEEDED|deadline|timed out/i)
    expect(app.code).toBe(4)
    expect(jsonErrorCode(app.stdout)).toBe('API_ERROR')
    expect(kubeSlow.writes()).toEqual([])
    expect(kubeSlow.requests).toEqual([])
    rows.push({
      case: 'CA timeout',
      fault: `ListNoteOccurrences answers after ${SLOW_ANSWER_MS / 1000} s (--api-timeout ${API_TIMEOUT_S}), always`,
      command: 'preflight --project',
      exit: pre.code,
      code: jsonErrorCode(pre.stdout) ?? '—',
      outcome: `fail closed: API_ERROR (DEADLINE_EXCEEDED, ${API_ATTEMPTS} attempts)`,
      upstreamRequests: grafeasSlow.calls('ListNoteOccurrences').length,
      ms,
      filesUnchanged: 'report.md untouched',
      tempFiles: 0,
      kubeWrites: 0,
    })
    rows.push({
      case: 'CA timeout',
      fault: 'same',
      command: 'apply --project',
      exit: app.code,
      code: jsonErrorCode(app.stdout) ?? '—',
      outcome: 'nothing applied',
      upstreamRequests: '',
      ms,
      filesUnchanged: 'yes',
      tempFiles: 0,
      kubeWrites: 0,
    })
  }, 300_000)
})
