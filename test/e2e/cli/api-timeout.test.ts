/**
 * `--api-timeout SECONDS` reaches every Google API call of every command that makes one, through the
 * built CLI: each local API server answers only after the deadline, so each call fails after its
 * attempts (the first and 3 retries, the shared retry policy) with DEADLINE_EXCEEDED — in seconds,
 * where the 30 s default would take two minutes. Binary Authorization over REST; Container
 * Analysis, Cloud Run, KMS and GKE over gRPC (one local server for all of them).
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCli, type CliResult} from '../../support/cli.js'
import {deployment} from '../../support/fixtures.js'
import {makeAttestor, type TestAttestor} from '../../support/trust.js'
import {startBinauthzRestServer, type BinauthzRestServer} from '../../support/gcp/binauthz-rest-server.js'
import {startGcpServer, type GcpState, type GrpcServerHandle} from '../../support/gcp/grpc-servers.js'
import {startKubeApiServer, type KubeApiServer} from '../../support/kube-apiserver.js'
import {startMetadataTrap, type MetadataTrap} from '../../support/metadata-trap.js'

const API_TIMEOUT_S = 1
/** The servers answer after this: later than the deadline, so every attempt times out. */
const ANSWER_AFTER_MS = 2_500
const ATTEMPTS = 4
const DIGEST = `sha256:${'b'.repeat(64)}`
const PINNED = `registry.example/team/app@${DIGEST}`
const GKE_CONTEXT = 'gke_test-proj_us-central1_prod'
const KMS_KEY = 'projects/test-proj/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1'

let dir: string
let binauthz: BinauthzRestServer
let gcp: GrpcServerHandle<GcpState>
let kube: KubeApiServer
let metadata: MetadataTrap
let attestor: TestAttestor

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sd-api-timeout-'))
  ;[binauthz, gcp, kube, metadata] = await Promise.all([startBinauthzRestServer(), startGcpServer(), startKubeApiServer(), startMetadataTrap()])
  binauthz.delayNext(/./, ANSWER_AFTER_MS, {times: 10_000})
  for (const method of ['ListNoteOccurrences', 'GetService', 'GetPublicKey', 'GetCluster']) gcp.delayNext(method, ANSWER_AFTER_MS, {times: 10_000})
  attestor = makeAttestor(join(dir, 'attestors'), join(dir, 'keys'), 'test-proj', 'built-by-ci')
  mkdirSync(join(dir, 'atts'))
  writeFileSync(join(dir, 'allow.yaml'), 'defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n')
  writeFileSync(join(dir, 'app.yaml'), deployment('web', PINNED, {namespace: 'prod'}))
}, 60_000)

afterAll(async () => {
  await Promise.all([binauthz?.stop(), gcp?.stop(), kube?.stop(), metadata?.stop()])
})

/** The command with --api-timeout, timed. */
async function timed(args: string[]): Promise<CliResult & {ms: number}> {
  const t0 = Date.now()
  const r = await runCli([...args, '--api-timeout', String(API_TIMEOUT_S)], {cwd: dir, env: metadata.env(dir), timeoutMs: 120_000})
  return {...r, ms: Date.now() - t0}
}

/** Every attempt waited the --api-timeout deadline out, and none waited the 30 s default. */
function expectDeadline(r: {ms: number}): void {
  expect(r.ms).toBeGreaterThanOrEqual(ATTEMPTS * API_TIMEOUT_S * 1000)
  expect(r.ms).toBeLessThan(30_000)
}

const api = ['--api-insecure']
const ba = () => ['--binauthz-endpoint', binauthz.baseUrl]
const files = ['--policy', 'allow.yaml', '--attestors', 'attestors', '--attestations', 'atts']

describe('--api-timeout on every command that calls Google APIs', () => {
  it('preflight, apply, policy lint, policy explain (Binary Authorization), attest (Binary Authorization, KMS): fail closed after the retries, in seconds', async () => {
    const runs = await Promise.all([
      timed(['preflight', '--image', PINNED, '--project', 'test-proj', ...ba(), '--containeranalysis-endpoint', gcp.endpoint, ...api]),
      timed(['apply', '-f', 'app.yaml', '--project', 'test-proj', ...ba(), '--containeranalysis-endpoint', gcp.endpoint, ...api, '--yes']),
      timed(['policy', 'lint', '--project', 'test-proj', ...ba(), ...api]),
      timed(['policy', 'explain', '--project', 'test-proj', ...ba(), ...api]),
      timed([
        'attest',
        '--image-digest',
        PINNED,
        '--attestor',
        attestor.name,
        '--private-key',
        attestor.privateKeyFile,
        ...ba(),
        ...api,
        '--output-dir',
        'out',
      ]),
      timed([
        'attest',
        '--image-digest',
        PINNED,
        '--attestor',
        attestor.name,
        '--attestors',
        'attestors',
        '--kms-key',
        KMS_KEY,
        '--kms-endpoint',
        gcp.endpoint,
        ...api,
        '--output-dir',
        'out',
      ]),
    ])
    for (const r of runs) {
      expect({code: r.code, stderr: r.stderr}).toEqual({
        code: 4,
        stderr: expect.stringMatching(/Error \[API_ERROR\]: .*DEADLINE_EXCEEDED|Error \[API_ERROR\]: .*(deadline|timed out|no answer)/i),
      })
      expect(r.stderr).toMatch(new RegExp(`after ${ATTEMPTS} attempts`))
      expectDeadline(r)
    }
    expect(kube.writes()).toEqual([])
    expect(metadata.hits).toEqual([])
  }, 120_000)

  it('run deploy (Cloud Run) and apply on a GKE context (the GKE enforcement check) honour it too', async () => {
    const kubeconfig = kube.writeKubeconfig(dir, {context: GKE_CONTEXT})
    const [run, gke] = await Promise.all([
      timed([
        'run',
        'deploy',
        'svc',
        '--image',
        PINNED,
        ...files,
        '--project',
        'test-proj',
        '--region',
        'europe-west2',
        '--run-endpoint',
        gcp.endpoint,
        ...api,
        '--yes',
        '--audit-log',
        'run.jsonl',
      ]),
      timed([
        'apply',
        '-f',
        'app.yaml',
        ...files,
        '--kubeconfig',
        kubeconfig,
        '--context',
        GKE_CONTEXT,
        '--container-endpoint',
        gcp.endpoint,
        ...api,
        '--yes',
        '--json',
        '--audit-log',
        'gke.jsonl',
      ]),
    ])
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/DEADLINE_EXCEEDED/)
    expectDeadline(run)
    // The enforcement check could not read the cluster: reported as unavailable, with the deadline as the cause.
    expect(JSON.stringify(JSON.parse(gke.stdout))).toMatch(/"enforcement":\{"unavailable":"[^"]*DEADLINE_EXCEEDED/)
    expectDeadline(gke)
    expect(metadata.hits).toEqual([])
  }, 120_000)
})
