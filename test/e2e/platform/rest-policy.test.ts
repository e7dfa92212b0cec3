/**
 * `--platform-policy projects/P/platforms/gke/policies/NAME`: the policy read from a local Binary Authorization REST
 * server (the real google-auth-library client, --api-insecure) by lint, explain and preflight, with the same verdicts
 * as the file; a policy that does not exist is "could not check" (exit 4).
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCli} from '../../support/cli.js'
import {startBinauthzRestServer, type BinauthzRestServer} from '../../support/gcp/binauthz-rest-server.js'
import {startMetadataTrap, type MetadataTrap} from '../../support/metadata-trap.js'
import {schemaErrors} from '../../support/schemas.js'

const NAME = 'projects/acme/platforms/gke/policies/prod'
const D1 = 'sha256:' + '1'.repeat(64)

let rest: BinauthzRestServer
let metadata: MetadataTrap
let dir: string

beforeAll(async () => {
  metadata = await startMetadataTrap()
  rest = await startBinauthzRestServer()
  dir = mkdtempSync(join(tmpdir(), 'sd-platform-rest-'))
  // What GET v1/projects/acme/platforms/gke/policies/prod returns.
  rest.state.platformPolicies.set(NAME, {
    name: NAME,
    gkePolicy: {
      checkSets: [
        {displayName: 'Prod', scope: {kubernetesNamespace: 'prod'}, checks: [{trustedDirectoryCheck: {trustedDirPatterns: ['gcr.io/acme/prod']}}]},
        {displayName: 'Default', checks: [{alwaysDeny: true}]},
      ],
    },
    updateTime: '2026-11-01T00:00:00Z',
  })
}, 60_000)

afterAll(async () => {
  await rest?.stop()
  await metadata?.stop()
})

const api = () => ['--binauthz-endpoint', rest.endpoint, '--api-insecure']
const cli = (args: string[]) => runCli(args, {env: metadata.env(dir)})

describe('--platform-policy as a resource name', () => {
  it('lint and explain read it from the API', async () => {
    const lint = await cli(['policy', 'lint', '--platform-policy', NAME, ...api(), '--json'])
    expect(lint.code).toBe(0)
    const doc = JSON.parse(lint.stdout)
    expect(schemaErrors('lint', doc)).toEqual([])
    expect(doc.file).toBe(`${NAME} (as YAML)`)
    const explain = await cli(['policy', 'explain', '--platform-policy', NAME, ...api(), '-n', 'prod', '--json'])
    expect(explain.code).toBe(0)
    expect(JSON.parse(explain.stdout)).toMatchObject({checkSetIndex: 0, checkSetDisplayName: 'Prod'})
  })

  it('preflight: the default set denies an image without a namespace (exit 5); the policy is named', async () => {
    const r = await cli(['preflight', '--image', `gcr.io/acme/prod/app@${D1}`, '--no-resolve', '--platform-policy', NAME, ...api(), '--json'])
    expect(r.code).toBe(5)
    const doc = JSON.parse(r.stdout)
    expect(schemaErrors('preflight', doc)).toEqual([])
    expect(doc.platformPolicy).toMatchObject({source: `${NAME} (as YAML)`, verdict: 'NON_CONFORMANT'})
    expect(rest.requests.some((q) => q.path === `/v1/${NAME}`)).toBe(true)
  })

  it('a policy that does not exist: could not check (exit 4)', async () => {
    const r = await cli(['preflight', '--image', `gcr.io/acme/prod/app@${D1}`, '--no-resolve', '--platform-policy', `${NAME}-missing`, ...api()])
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/platform policy projects\/acme\/platforms\/gke\/policies\/prod-missing was not found/)
  })
})
