/**
 * imageFreshnessCheck end to end: the upload time comes from a local Artifact Registry gRPC server (GetDockerImage,
 * reached by the real client library with --api-insecure), and the check is evaluated at --at when given.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCli} from '../../support/cli.js'
import {startGcpServer, type GcpState, type GrpcServerHandle} from '../../support/gcp/grpc-servers.js'
import {startMetadataTrap, type MetadataTrap} from '../../support/metadata-trap.js'
import {schemaErrors} from '../../support/schemas.js'

const DIGEST = 'sha256:' + '7'.repeat(64)
const REPO = 'projects/acme/locations/us/repositories/shop'
const IMAGE = `us-docker.pkg.dev/acme/shop/app@${DIGEST}`

let gcp: GrpcServerHandle<GcpState>
let metadata: MetadataTrap
let dir: string
let policy: string

beforeAll(async () => {
  metadata = await startMetadataTrap()
  gcp = await startGcpServer()
  dir = mkdtempSync(join(tmpdir(), 'sd-platform-ar-'))
  policy = join(dir, 'fresh.yaml')
  writeFileSync(policy, 'gkePolicy:\n  checkSets:\n  - checks:\n    - displayName: Fresh\n      imageFreshnessCheck: {maxUploadAgeDays: 30}\n')
  gcp.state.artifactRegistry.repositories.set(REPO, {dockerConfig: {immutableTags: true}})
  // Uploaded 2025-11-24T16:00:00Z.
  gcp.state.artifactRegistry.dockerImages.set(`${REPO}/dockerImages/app@${DIGEST}`, {uploadTime: {seconds: 1764000000, nanos: 0}, tags: ['1.0']})
}, 60_000)

afterAll(async () => {
  await gcp?.stop()
  await metadata?.stop()
})

const preflight = (image: string, at: string) =>
  runCli(
    [
      'preflight',
      '--image',
      image,
      '--no-resolve',
      '--platform-policy',
      policy,
      '--at',
      at,
      '--artifactregistry-endpoint',
      gcp.endpoint,
      '--api-insecure',
      '--json',
    ],
    {env: metadata.env(dir)},
  )

type Doc = {platformPolicy: {pods: Array<{images: Array<{checks: Array<{verdict: string; explanation: string}>}>}>}}
const checkOf = (stdout: string) => {
  const doc = JSON.parse(stdout) as Doc
  expect(schemaErrors('preflight', doc)).toEqual([])
  return doc.platformPolicy.pods[0]?.images[0]?.checks[0]
}

describe('imageFreshnessCheck through Artifact Registry, at --at', () => {
  it('uploaded 7 days before --at: CONFORMANT (exit 0); a year later: NON_CONFORMANT (exit 5)', async () => {
    const fresh = await preflight(IMAGE, '2025-12-01T16:00:00Z')
    expect(fresh.code).toBe(0)
    expect(checkOf(fresh.stdout)?.verdict).toBe('CONFORMANT')
    const stale = await preflight(IMAGE, '2026-11-27T12:00:00+01:00')
    expect(stale.code).toBe(5)
    expect(checkOf(stale.stdout)).toMatchObject({
      verdict: 'NON_CONFORMANT',
      explanation: expect.stringContaining('ImageFreshnessCheck at index 0 with display name "Fresh"'),
    })
  })

  it('a digest Artifact Registry does not know: ERROR (exit 4), never CONFORMANT', async () => {
    const r = await preflight(`us-docker.pkg.dev/acme/shop/app@sha256:${'8'.repeat(64)}`, '2025-12-01T16:00:00Z')
    expect(r.code).toBe(4)
    expect(checkOf(r.stdout)?.verdict).toBe('ERROR')
  })

  it('--at must be RFC 3339 with an offset (exit 2)', async () => {
    const r = await preflight(IMAGE, '2025-12-01 16:00')
    expect(r.code).toBe(2)
  })
})
