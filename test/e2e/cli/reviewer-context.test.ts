/**
 * Reviewer context in preflight: Artifact Registry repository facts and, with --vulnerabilities,
 * Container Analysis vulnerability counts — through the real client libraries against local gRPC
 * servers. Context never changes the verdict, and a context failure is a note, not an error.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {join} from 'node:path'
import type {TestRegistry} from '../../support/registry.js'
import {runCli, isolatedEnv} from '../../support/cli.js'
import {startTrustSetup} from '../../support/fixtures.js'
import {startGcpServer, type GrpcServerHandle, type GcpState} from '../../support/gcp/grpc-servers.js'

let reg: TestRegistry
let gcp: GrpcServerHandle<GcpState>
let dir: string
let digest: string
const IMAGE = 'us-docker.pkg.dev/acme/shop/app:1.0'
const REPO = 'projects/acme/locations/us/repositories/shop'

beforeAll(async () => {
  ;({reg, dir} = await startTrustSetup({prefix: 'sd-ctx-', project: 'acme'}))
  gcp = await startGcpServer()
  digest = (await reg.pushImage('acme/shop/app', '1.0')).digest
  gcp.state.artifactRegistry.repositories.set(REPO, {dockerConfig: {immutableTags: false}})
  gcp.state.artifactRegistry.dockerImages.set(`${REPO}/dockerImages/app@${digest}`, {uploadTime: {seconds: 1764000000, nanos: 0}, tags: ['1.0', 'latest']})
  for (const [severity, fix] of [
    ['CRITICAL', true],
    ['HIGH', false],
    ['HIGH', true],
  ] as const) {
    gcp.state.grafeas.addOccurrence(
      {
        resourceUri: `https://us-docker.pkg.dev/acme/shop/app@${digest}`,
        noteName: 'projects/goog-vulnz/notes/CVE-2026-0001',
        kind: 'VULNERABILITY',
        vulnerability: {severity, effectiveSeverity: severity, fixAvailable: fix},
      },
      'acme',
    )
  }
}, 60_000)
afterAll(async () => {
  await reg?.stop()
  await gcp?.stop()
})

const args = () => [
  'preflight',
  '--image',
  IMAGE,
  '--policy',
  join(dir, 'policy.yaml'),
  '--attestors',
  join(dir, 'attestors'),
  '--attestations',
  join(dir, 'atts'),
  '--project',
  'acme',
  '--artifactregistry-endpoint',
  gcp.endpoint,
  '--containeranalysis-endpoint',
  gcp.endpoint,
  '--api-insecure',
  '--insecure-registry',
  reg.host,
  '--registry-mirror',
  `us-docker.pkg.dev=${reg.host}`,
]

describe('preflight reviewer context', () => {
  it('adds repository facts and vulnerability counts without changing the verdict', async () => {
    const r = await runCli([...args(), '--vulnerabilities', '--json'], {env: isolatedEnv()})
    expect(r.code).toBe(5) // unattested: the context does not change that
    const img = JSON.parse(r.stdout).images[0]
    expect(img.verdict).toBe('DENY')
    expect(img.context.artifactRegistry).toMatchObject({repository: REPO, immutableTags: false, tags: ['1.0', 'latest']})
    expect(img.context.vulnerabilities).toEqual({total: 3, bySeverity: expect.objectContaining({CRITICAL: 1, HIGH: 2}), fixable: 2})
    expect(img.notes.join('\n')).toMatch(/immutable tags off/)
    const text = await runCli([...args(), '--vulnerabilities'], {env: isolatedEnv()})
    expect(text.stderr).toMatch(/context: shop: tags MUTABLE.*vulnerabilities 3 \(CRITICAL 1, HIGH 2\), 2 fixable/)
  })

  it('a context failure is a note, never an error or a different verdict', async () => {
    gcp.failNext('GetRepository', 14 /* UNAVAILABLE */, {times: 10})
    const r = await runCli([...args(), '--json'], {env: isolatedEnv()})
    gcp.clearFaults()
    expect(r.code).toBe(5)
    const img = JSON.parse(r.stdout).images[0]
    expect(img.context).toBeUndefined()
    expect(img.notes.join('\n')).toMatch(/Artifact Registry facts unavailable/)
  })
})
