/**
 * `safe-deploy run deploy` and `run replace` end to end: the built CLI as a child process, the real
 * registry, and the real @google-cloud/run client against a local Cloud Run v2 gRPC server
 * (test/support/gcp/grpc-servers.ts). What is asserted is the request the server received: the
 * digest image and binaryAuthorization.useDefault = true, and no write at all on DENY.
 */
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {copyFileSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse as parseYaml} from 'yaml'
import type {TestRegistry} from '../../support/registry.js'
import {runCli, type CliResult} from '../../support/cli.js'
import {schemaErrors} from '../../support/schemas.js'
import {drivePty} from '../../support/pty.js'
import {startTrustSetup} from '../../support/fixtures.js'
import {startRunServer, type GrpcServerHandle, type RunState, type LoggedRequest} from '../../support/gcp/grpc-servers.js'
import {CORPUS, describeCorpus} from '../../support/corpus.js'
import {startMetadataTrap, type MetadataTrap} from '../../support/metadata-trap.js'

const SAMPLE = join(CORPUS, 'GoogleCloudPlatform__cloud-run-samples__multicontainer-hello__service.yaml')
const HELLO = 'us-east1-docker.pkg.dev/engelke-multicontainer/multicontainers/helloworld'
const PROJECT = 'run-proj'
const REGION = 'us-central1'

let reg: TestRegistry
let run: GrpcServerHandle<RunState>
let dir: string
let attestors: string
let atts: string
let appDigest: string
let badDigest: string
let nginxDigest: string
let helloDigest: string
let policy: string
let dryrunPolicy: string
let metadata: MetadataTrap

const WRITES = ['CreateService', 'UpdateService', 'DeleteService']
const writes = (): LoggedRequest[] => run.requests.filter((r) => WRITES.includes(r.method))
const mirrors = (): string[] => ['--registry-mirror', `docker.io=${reg.host}`, '--registry-mirror', `us-east1-docker.pkg.dev=${reg.host}`]

function env(extra: Record<string, string> = {}): Record<string, string> {
  return metadata.env(dir, extra)
}

beforeAll(async () => {
  metadata = await startMetadataTrap()
  const trust = await startTrustSetup({prefix: 'sd-run-'})
  ;({reg, dir, attestors, atts, policy, dryrunPolicy} = trust)
  run = await startRunServer()
  appDigest = (await reg.pushImage('team/app', '1.4')).digest
  badDigest = (await reg.pushImage('team/bad', '2.0')).digest
  nginxDigest = (await reg.pushImage('library/nginx', 'latest')).digest
  helloDigest = (await reg.pushImage('engelke-multicontainer/multicontainers/helloworld', 'latest')).digest
  const attest = (image: string, extra: string[] = []): Promise<void> => trust.attestOk(image, {extra, env: env()})
  await attest(`${reg.host}/team/app:1.4`)
  await attest('nginx', mirrors())
  await attest(HELLO, mirrors())
}, 90_000)

afterAll(async () => {
  await reg?.stop()
  await run?.stop()
  await metadata?.stop()
})

beforeEach(() => {
  run.requests.length = 0
  run.clearFaults()
  run.state.failNextDeploy = undefined
})

afterEach(() => {
  expect(metadata.hits).toEqual([])
})

interface Run extends CliResult {
  records: () => any[]
}

let n = 0
async function cli(args: string[], opts: {env?: Record<string, string>; policy?: string} = {}): Promise<Run> {
  const log = join(dir, `audit-${++n}.jsonl`)
  const r = await runCli(
    [
      ...args,
      '--run-endpoint',
      run.endpoint,
      '--api-insecure',
      '--policy',
      opts.policy ?? policy,
      '--attestors',
      attestors,
      '--attestations',
      atts,
      '--insecure-registry',
      reg.host,
      '--audit-log',
      log,
    ],
    {env: opts.env ?? env()},
  )
  return {
    ...r,
    records: () =>
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
  }
}

const deploy = (service: string, image: string, extra: string[] = [], opts: {env?: Record<string, string>; policy?: string} = {}): Promise<Run> =>
  cli(['run', 'deploy', service, '--image', image, '--region', REGION, '--project', PROJECT, ...extra], opts)

const svcName = (id: string): string => `projects/${PROJECT}/locations/${REGION}/services/${id}`

describe('safe-deploy run deploy', () => {
  it('creates the service with the digest image and binaryAuthorization.useDefault = true, then updates it', async () => {
    const r = await deploy('web', `${reg.host}/team/app:1.4`, ['--yes'])
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/created web revision .*web-00001/)
    const creates = run.calls('CreateService')
    expect(creates).toHaveLength(1)
    const req = creates[0]!.request
    expect(req.parent).toBe(`projects/${PROJECT}/locations/${REGION}`)
    expect(req.serviceId).toBe('web')
    expect(req.validateOnly).toBe(false)
    expect(req.service.template.containers[0].image).toBe(`${reg.host}/team/app:1.4@${appDigest}`)
    expect(req.service.binaryAuthorization.useDefault).toBe(true)
    expect(req.service.binaryAuthorization.breakglassJustification).toBe('')
    expect(run.state.services.get(svcName('web')).template.containers[0].image).toContain(appDigest)
    const recs = r.records()
    expect(recs.map((x) => x.outcome)).toEqual(['started', 'applied'])
    expect(recs[1]).toMatchObject({
      command: 'run deploy',
      verdict: 'ALLOW',
      target: {platform: 'cloudrun', project: PROJECT, region: REGION, service: 'web'},
      images: [expect.objectContaining({digest: appDigest, verdict: 'ALLOW'})],
    })

    // Second deploy: an update of the existing service, still by digest with useDefault.
    run.requests.length = 0
    const again = await deploy('web', `${reg.host}/team/app:1.4`, ['--yes'])
    expect(again.code).toBe(0)
    expect(again.stderr).toMatch(/updated web revision .*web-00002/)
    expect(run.calls('CreateService')).toHaveLength(0)
    const [update] = run.calls('UpdateService')
    expect(update!.request.service.name).toBe(svcName('web'))
    expect(update!.request.service.template.containers[0].image).toBe(`${reg.host}/team/app:1.4@${appDigest}`)
    expect(update!.request.service.binaryAuthorization.useDefault).toBe(true)
    expect(run.state.services.get(svcName('web')).generation).toBe('2')
  })

  it('--break-glass J deploys a denied image with breakglassJustification J; audited', async () => {
    const r = await deploy('glass', `${reg.host}/team/bad:2.0`, ['--yes', '--break-glass', 'INC-7: hotfix'])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/BREAK-GLASS/)
    const [create] = run.calls('CreateService')
    expect(create!.request.service.binaryAuthorization).toMatchObject({useDefault: true, breakglassJustification: 'INC-7: hotfix'})
    expect(create!.request.service.template.containers[0].image).toBe(`${reg.host}/team/bad:2.0@${badDigest}`)
    const recs = r.records()
    for (const rec of recs) expect(rec).toMatchObject({breakGlass: true, justification: 'INC-7: hotfix', verdict: 'ALLOW_BREAKGLASS'})
    expect(recs.map((x) => x.outcome)).toEqual(['started', 'applied'])
  })

  it('a dry-run denial (DRYRUN_AUDIT_LOG_ONLY) deploys, loudly reported and audited as DRYRUN_DENY', async () => {
    const r = await deploy('dryrun-denied', `${reg.host}/team/bad:2.0`, ['--yes'], {policy: dryrunPolicy})
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/warning: DRY-RUN DENIAL/)
    const [create] = run.calls('CreateService')
    expect(create!.request.service.template.containers[0].image).toBe(`${reg.host}/team/bad:2.0@${badDigest}`)
    expect(create!.request.service.binaryAuthorization.useDefault).toBe(true)
    expect(r.records().map((x) => `${x.verdict}/${x.outcome}`)).toEqual(['DRYRUN_DENY/started', 'DRYRUN_DENY/applied'])
  })

  it('--break-glass without a justification: usage error, no request', async () => {
    const r = await deploy('glass2', `${reg.host}/team/bad:2.0`, ['--yes', '--break-glass', ' '])
    expect(r.code).toBe(2)
    expect(run.requests).toEqual([])
  })

  it('DENY: exit 5 and no Run request that writes (no request at all)', async () => {
    const r = await deploy('denied', `${reg.host}/team/bad:2.0`, ['--yes'])
    expect(r.code).toBe(5)
    expect(r.stderr).toMatch(/BLOCKED: nothing was deployed/)
    expect(writes()).toEqual([])
    expect(run.requests).toEqual([])
    expect(run.state.services.has(svcName('denied'))).toBe(false)
    expect(r.records()).toEqual([expect.objectContaining({outcome: 'blocked', verdict: 'DENY', images: [expect.objectContaining({digest: badDigest})]})])
  })

  it('an unpinnable image (tag missing): exit 4, no Run request', async () => {
    const r = await deploy('missing', `${reg.host}/team/app:nope`, ['--yes'])
    expect(r.code).toBe(4)
    expect(run.requests).toEqual([])
  })

  it('--dry-run sends validateOnly: nothing is created', async () => {
    const r = await deploy('dry', `${reg.host}/team/app:1.4`, ['--dry-run'])
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/validated \(dry run\) dry/)
    const [create] = run.calls('CreateService')
    expect(create!.request.validateOnly).toBe(true)
    expect(create!.request.service.template.containers[0].image).toContain(appDigest)
    expect(create!.request.service.binaryAuthorization.useDefault).toBe(true)
    expect(run.state.services.has(svcName('dry'))).toBe(false)
    expect(r.records().map((x) => x.outcome)).toEqual(['started', 'dry-run'])
  })

  it('confirmation: CI set and no --yes → exit 9, no write, audit "aborted"', async () => {
    const r = await deploy('confirm', `${reg.host}/team/app:1.4`, [], {env: env({CI: '1'})})
    expect(r.code).toBe(9)
    expect(writes()).toEqual([])
    expect(r.records().map((x) => x.outcome)).toEqual(['aborted'])
  })

  it('the deploy operation fails (e.g. admission denial at Cloud Run): exit 8, audit "failed"', async () => {
    run.state.failNextDeploy = {code: 9, message: 'Revision denied by Binary Authorization'}
    const r = await deploy('opfail', `${reg.host}/team/app:1.4`, ['--yes'])
    expect(r.code).toBe(8)
    expect(r.stderr).toMatch(/denied by Binary Authorization/)
    expect(r.records().map((x) => x.outcome)).toEqual(['started', 'failed'])
  })
})

/** run deploy --json is a contract (src/schemas/run.schema.json): checked against what the CLI really prints. */
describe('run deploy --json (and -o yaml|name) against the published schema', () => {
  it('deployed (created, then updated), dry-run and blocked documents conform', async () => {
    const runs = [
      await deploy('schema', `${reg.host}/team/app:1.4`, ['--yes', '--json']),
      await deploy('schema', `${reg.host}/team/app:1.4`, ['--yes', '--json']),
      await deploy('schema-dry', `${reg.host}/team/app:1.4`, ['--dry-run', '--json']),
      await deploy('schema-denied', `${reg.host}/team/bad:2.0`, ['--yes', '--json']),
    ]
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 5])
    const docs = runs.map((r) => JSON.parse(r.stdout) as {kind: string; outcome: string; created?: boolean; revision?: string})
    expect(docs.map((d) => [d.kind, d.outcome, d.created])).toEqual([
      ['RunResult', 'deployed', true],
      ['RunResult', 'deployed', false],
      ['RunResult', 'dry-run', true],
      ['RunResult', 'blocked', undefined],
    ])
    for (const d of docs) expect(schemaErrors('run', d)).toEqual([])
    expect(docs[0]?.revision).toMatch(/schema-00001/)
  })

  it('-o yaml is the same document; -o name the service and its revision', async () => {
    const y = await deploy('schema-yaml', `${reg.host}/team/app:1.4`, ['--yes', '-o', 'yaml'])
    expect(y.code).toBe(0)
    const doc = parseYaml(y.stdout) as {revision: string}
    expect(schemaErrors('run', doc)).toEqual([])
    const n = await deploy('schema-yaml', `${reg.host}/team/app:1.4`, ['--yes', '-o', 'name'])
    expect(n.code).toBe(0)
    expect(n.stdout).toMatch(/^service\.serving\.knative\.dev\/schema-yaml\nrevision\.serving\.knative\.dev\/\S*schema-yaml-00002\S*\n$/)
  })
})

/** run replace --json is the same contract (kind RunResult), with the v2 request sent; checked without the corpus. */
describe('run replace --json against the published schema', () => {
  it('deployed and blocked documents conform; the deployed one carries the request', async () => {
    const file = (name: string, image: string): string => {
      const f = join(dir, `${name}.yaml`)
      writeFileSync(
        f,
        `apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  template:\n    spec:\n      containers:\n      - image: ${image}\n`,
      )
      return f
    }
    const replace = (f: string, extra: string[]) => cli(['run', 'replace', f, '--region', REGION, '--project', PROJECT, '--yes', ...extra])
    const ok = await replace(file('replace-schema', `${reg.host}/team/app:1.4`), ['--json'])
    const denied = await replace(file('replace-denied', `${reg.host}/team/bad:2.0`), ['--json'])
    expect([ok.code, denied.code]).toEqual([0, 5])
    const docs = [JSON.parse(ok.stdout), JSON.parse(denied.stdout)] as Array<{outcome: string; service: string; request?: unknown}>
    for (const d of docs) expect(schemaErrors('run', d)).toEqual([])
    expect(docs.map((d) => [d.outcome, d.service, d.request !== undefined])).toEqual([
      ['deployed', 'replace-schema', true],
      ['blocked', 'replace-denied', false],
    ])
  })
})

/** Issue #12 item 12: the wait for the Cloud Run operation is drawn on a terminal, never into a pipe. */
describe('run deploy on a terminal: progress and colour; none when piped', () => {
  // eslint-disable-next-line no-control-regex
  const ESC = /\u001b\[/

  it('shows what it waits for while the operation runs and colours the result; a piped run has no escape sequences and no progress', async () => {
    // The operation reports done only after several polls: long enough for progress to show (400 ms).
    run.state.pollsBeforeDone = 4
    try {
      const e = env({TERM: 'xterm'})
      delete e.NO_COLOR
      const args = (service: string): string[] => [
        'run',
        'deploy',
        service,
        '--image',
        `${reg.host}/team/app:1.4`,
        '--region',
        REGION,
        '--project',
        PROJECT,
        '--yes',
        '--run-endpoint',
        run.endpoint,
        '--api-insecure',
        '--policy',
        policy,
        '--attestors',
        attestors,
        '--attestations',
        atts,
        '--insecure-registry',
        reg.host,
        '--audit-log',
        join(dir, `audit-${++n}.jsonl`),
      ]
      const tty = await drivePty(args('tty'), e, [])
      expect({exitCode: tty.exitCode, tail: tty.output.slice(-1500)}).toEqual({exitCode: 0, tail: expect.stringMatching(/created tty revision/)})
      expect(tty.output).toMatch(new RegExp(`waiting for the new revision of tty to become ready \\(${PROJECT}/${REGION}\\)\\.\\.\\. done in \\d+\\.\\ds`))
      expect(tty.raw).toContain('\u001b[32mcreated')
      expect(tty.raw).toContain('verdict \u001b[32mALLOW')

      const piped = await runCli(args('piped'), {env: e})
      expect(piped.code).toBe(0)
      expect(piped.stderr).toMatch(/created piped revision .*; verdict ALLOW/)
      expect(piped.stderr).not.toMatch(ESC)
      expect(piped.stderr).not.toMatch(/waiting for/)
    } finally {
      run.state.pollsBeforeDone = 1
    }
  })
})

// The run replace tests use a Cloud Run sample service from the corpus (docs/testing.md#corpus).
describeCorpus(CORPUS, 'safe-deploy run replace', () => {
  it('translates the sample multicontainer Service to v2 with pinned images and useDefault', async () => {
    const file = join(dir, 'service.yaml')
    copyFileSync(SAMPLE, file)
    const r = await cli(['run', 'replace', file, '--region', REGION, '--project', PROJECT, '--yes', ...mirrors()])
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    const [create] = run.calls('CreateService')
    expect(create!.request.serviceId).toBe('hellonginx')
    const svc = create!.request.service
    expect(svc.binaryAuthorization.useDefault).toBe(true)
    expect(svc.launchStage).toBe('BETA')
    expect(svc.template.executionEnvironment).toBe('EXECUTION_ENVIRONMENT_GEN2')
    expect(svc.template.containers.map((c: any) => c.image)).toEqual([`nginx@${nginxDigest}`, `${HELLO}@${helloDigest}`])
    expect(svc.template.containers[0].ports).toEqual([expect.objectContaining({containerPort: 8080})])
    expect(svc.template.containers[0].volumeMounts).toEqual([expect.objectContaining({name: 'nginx-conf', mountPath: '/etc/nginx/conf.d'})])
    expect(svc.template.volumes).toEqual([
      expect.objectContaining({
        name: 'nginx-conf',
        secret: expect.objectContaining({secret: 'nginx-conf', items: [expect.objectContaining({path: 'default.conf', version: 'latest'})]}),
      }),
    ])
    // The user's file is untouched.
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(SAMPLE, 'utf8'))
    expect(r.records().map((x) => x.outcome)).toEqual(['started', 'applied'])
  })

  it('an untranslatable field: exit 3 naming the field path, nothing sent', async () => {
    const file = join(dir, 'service-probe.yaml')
    writeFileSync(
      file,
      readFileSync(SAMPLE, 'utf8').replace('        ports:\n', '        livenessProbe:\n          httpGet: {path: /healthz}\n        ports:\n'),
    )
    expect(readFileSync(file, 'utf8')).toContain('livenessProbe')
    const r = await cli(['run', 'replace', file, '--region', REGION, '--project', PROJECT, '--yes', ...mirrors()])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('spec.template.spec.containers[0].livenessProbe')
    expect(run.requests).toEqual([])
  })

  it('DENY (an unattested image in the Service): exit 5, no request', async () => {
    const file = join(dir, 'service-denied.yaml')
    writeFileSync(file, readFileSync(SAMPLE, 'utf8').replace(`image: ${HELLO}`, `image: ${reg.host}/team/bad:2.0`))
    const r = await cli(['run', 'replace', file, '--region', REGION, '--project', PROJECT, '--yes', ...mirrors()])
    expect(r.code).toBe(5)
    expect(run.requests).toEqual([])
  })
})
