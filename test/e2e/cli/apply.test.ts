/**
 * `safe-deploy apply` end to end: the built CLI as a child process, the real registry, the real
 * kubectl (and client-node for --applier api) against the Kubernetes API test double, and the GKE
 * container API over gRPC. What is asserted is what reached the double: pinned bodies, and no write
 * at all (often no request at all) when the input is denied or cannot be pinned.
 */
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {execFileSync} from 'node:child_process'
import {parse as parseYaml, stringify as stringifyYaml} from 'yaml'
import type {TestRegistry} from '../../support/registry.js'
import {runCli, type CliResult} from '../../support/cli.js'
import {schemaErrors} from '../../support/schemas.js'
import {drivePty} from '../../support/pty.js'
import {deployment, startTrustSetup} from '../../support/fixtures.js'
import {startKubeApiServer, type KubeApiServer, type RecordedRequest} from '../../support/kube-apiserver.js'
import {startContainerServer, type GrpcServerHandle} from '../../support/gcp/grpc-servers.js'
import type {ContainerState} from '../../support/gcp/grpc-servers.js'
import {startMetadataTrap, type MetadataTrap} from '../../support/metadata-trap.js'

let reg: TestRegistry
let kube: KubeApiServer
let container: GrpcServerHandle<ContainerState>
let dir: string
let attestors: string
let atts: string
let kubeconfig: string
let gkeKubeconfig: string
let appDigest: string
let badDigest: string
let enforcePolicy: string
let dryrunPolicy: string
/** Anything that reaches it would be an ADC / metadata-server lookup: tests must never make one. */
let metadata: MetadataTrap

const GKE_CONTEXT = 'gke_test-proj_us-central1_prod'
const BREAK_GLASS = 'alpha.image-policy.k8s.io/break-glass'

beforeAll(async () => {
  metadata = await startMetadataTrap()
  const trust = await startTrustSetup({prefix: 'sd-apply-'})
  ;({reg, dir, attestors, atts, policy: enforcePolicy, dryrunPolicy} = trust)
  kube = await startKubeApiServer()
  container = await startContainerServer()
  appDigest = (await reg.pushImage('team/app', '1.4')).digest
  badDigest = (await reg.pushImage('team/bad', '2.0')).digest
  kubeconfig = kube.writeKubeconfig(join(dir, 'kube'), {context: 'test', namespace: 'prod'})
  gkeKubeconfig = kube.writeKubeconfig(join(dir, 'kube'), {context: GKE_CONTEXT, namespace: 'prod'})
  container.state.clusters.set('projects/test-proj/locations/us-central1/clusters/prod', {binaryAuthorization: {evaluationMode: 'DISABLED'}})
  // team/app:1.4 is attested by the CI attestor; team/bad:2.0 is not.
  await trust.attestOk(`${reg.host}/team/app:1.4`)
}, 90_000)

afterAll(async () => {
  await reg?.stop()
  await kube?.stop()
  await container?.stop()
  await metadata?.stop()
})

beforeEach(() => {
  kube.clearRequests()
  container.clearFaults()
})

afterEach(() => {
  expect(metadata.hits).toEqual([])
})

let n = 0
/** The Deployment written to a file of its own; returns the path. */
function deploymentFile(name: string, image: string): string {
  const file = join(dir, `${name}-${++n}.yaml`)
  writeFileSync(file, deployment(name, image, {namespace: 'prod', serviceAccountName: 'deployer', container: 'app'}))
  return file
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return metadata.env(dir, extra)
}

interface ApplyRun extends CliResult {
  log: string
  records: () => any[]
}

async function apply(
  file: string,
  args: string[],
  opts: {policy?: string; context?: string; kubeconfig?: string; env?: Record<string, string>} = {},
): Promise<ApplyRun> {
  const log = join(dir, `audit-${++n}.jsonl`)
  const r = await runCli(
    [
      'apply',
      '-f',
      file,
      '--kubeconfig',
      opts.kubeconfig ?? kubeconfig,
      '--context',
      opts.context ?? 'test',
      '--policy',
      opts.policy ?? enforcePolicy,
      '--attestors',
      attestors,
      '--attestations',
      atts,
      '--insecure-registry',
      reg.host,
      '--audit-log',
      log,
      ...args,
    ],
    {env: opts.env ?? env()},
  )
  return {
    ...r,
    log,
    records: () =>
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
  }
}

const isWrite = (r: RecordedRequest): boolean => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method)
const sentDeployment = (r: RecordedRequest): any => (r.contentType?.includes('yaml') ? parseYaml(r.body) : JSON.parse(r.body))

describe('safe-deploy apply (kubectl applier)', () => {
  it('applies the pinned YAML: the digest is in the body the double received; audit has started + applied', async () => {
    const file = deploymentFile('web', `${reg.host}/team/app:1.4`)
    const r = await apply(file, ['--yes'])
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/deployment\/web created/)
    const writes = kube.writes()
    expect(writes.map((w) => `${w.method} ${w.path}`)).toEqual(['POST /apis/apps/v1/namespaces/prod/deployments'])
    const body = sentDeployment(writes[0]!)
    expect(body.spec.template.spec.containers[0].image).toBe(`${reg.host}/team/app:1.4@${appDigest}`)
    expect((kube.objects.get('deployments/prod/web') as any).spec.template.spec.containers[0].image).toContain(appDigest)
    // The user's file is untouched.
    expect(readFileSync(file, 'utf8')).toContain(`image: ${reg.host}/team/app:1.4\n`)

    const recs = r.records()
    expect(recs.map((x) => x.outcome)).toEqual(['started', 'applied'])
    expect(recs[0].id).toBe(recs[1].id)
    for (const rec of recs) {
      expect(rec).toMatchObject({
        command: 'apply',
        verdict: 'ALLOW',
        mode: 'none',
        breakGlass: false,
        target: expect.objectContaining({context: 'test', platform: 'gke'}),
      })
      expect(rec.images).toEqual([
        expect.objectContaining({image: `${reg.host}/team/app:1.4@${appDigest}`, digest: appDigest, verdict: 'ALLOW', workload: 'Deployment/web'}),
      ])
      expect(typeof rec.actor).toBe('string')
      expect(Number.isNaN(Date.parse(rec.time))).toBe(false)
    }
  })

  it('DENY: exit 5, not one request at the double, audit "blocked"', async () => {
    const file = deploymentFile('denied', `${reg.host}/team/bad:2.0`)
    const r = await apply(file, ['--yes'])
    expect(r.code).toBe(5)
    expect(r.stdout + r.stderr).toMatch(/BLOCKED: nothing was applied/)
    expect(kube.writes()).toEqual([])
    expect(kube.requests.filter(isWrite)).toEqual([])
    expect(kube.requests).toEqual([])
    expect(kube.objects.has('deployments/prod/denied')).toBe(false)
    const recs = r.records()
    expect(recs.map((x) => x.outcome)).toEqual(['blocked'])
    expect(recs[0]).toMatchObject({verdict: 'DENY', images: [expect.objectContaining({digest: badDigest, verdict: 'DENY'})]})
  })

  it('an unpinnable input (tag missing in the registry): exit 4 and zero requests to the double', async () => {
    const file = deploymentFile('unpinnable', `${reg.host}/team/app:no-such-tag`)
    const r = await apply(file, ['--yes'])
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/REGISTRY_NOT_FOUND|not found/i)
    expect(kube.requests).toEqual([])
    // "Could not check" is a decision too: recorded as blocked, with the cause.
    const recs = r.records()
    expect(recs.map((x) => x.outcome)).toEqual(['blocked'])
    expect(recs[0].detail).toMatch(/not deployed: REGISTRY_NOT_FOUND/)
  })

  it('--dry-run=server: only dryRun=All writes reach the double; audit "dry-run"', async () => {
    const file = deploymentFile('dry', `${reg.host}/team/app:1.4`)
    const r = await apply(file, ['--dry-run=server'])
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    expect(kube.writes()).toEqual([])
    const dryWrites = kube.requests.filter(isWrite)
    expect(dryWrites.length).toBeGreaterThan(0)
    for (const w of dryWrites) expect(w.query.dryRun).toBe('All')
    expect(sentDeployment(dryWrites[0]!).spec.template.spec.containers[0].image).toContain(appDigest)
    expect(kube.objects.has('deployments/prod/dry')).toBe(false)
    expect(r.records().map((x) => x.outcome)).toEqual(['started', 'dry-run'])
  })

  it('a dry-run denial (DRYRUN_AUDIT_LOG_ONLY) deploys with a loud warning and is recorded', async () => {
    const file = deploymentFile('dryrun-denied', `${reg.host}/team/bad:2.0`)
    const r = await apply(file, ['--yes'], {policy: dryrunPolicy})
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/warning: DRY-RUN DENIAL/)
    expect(kube.writes()).toHaveLength(1)
    expect(sentDeployment(kube.writes()[0]!).spec.template.spec.containers[0].image).toBe(`${reg.host}/team/bad:2.0@${badDigest}`)
    const recs = r.records()
    expect(recs.map((x) => x.outcome)).toEqual(['started', 'applied'])
    expect(recs[1]).toMatchObject({verdict: 'DRYRUN_DENY'})
  })

  it('--break-glass "INC-1: why" deploys a denied image with the annotation on the pod template; the justification is audited', async () => {
    const file = deploymentFile('glass', `${reg.host}/team/bad:2.0`)
    const r = await apply(file, ['--yes', '--break-glass', 'INC-1: why'])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/BREAK-GLASS/)
    const writes = kube.writes()
    expect(writes).toHaveLength(1)
    const body = sentDeployment(writes[0]!)
    expect(body.spec.template.metadata.annotations[BREAK_GLASS]).toBe('true')
    expect(body.spec.template.spec.containers[0].image).toContain(badDigest)
    const recs = r.records()
    expect(recs.map((x) => x.outcome)).toEqual(['started', 'applied'])
    for (const rec of recs) expect(rec).toMatchObject({breakGlass: true, justification: 'INC-1: why', verdict: 'ALLOW_BREAKGLASS'})
    expect(recs[1].images[0]).toMatchObject({verdict: 'ALLOW_BREAKGLASS', wouldBe: 'DENY'})
    // The file on disk does not get the annotation.
    expect(readFileSync(file, 'utf8')).not.toContain(BREAK_GLASS)
  })

  it('--break-glass without a justification: usage error, nothing sent', async () => {
    const file = deploymentFile('glass2', `${reg.host}/team/bad:2.0`)
    const empty = await apply(file, ['--yes', '--break-glass', ''])
    expect(empty.code).toBe(2)
    expect(empty.stderr).toMatch(/justification/)
    const missing = await apply(file, ['--yes', '--break-glass'])
    expect(missing.code).toBe(2)
    expect(kube.requests).toEqual([])
  })

  it('confirmation: with CI set and no --yes, exit 9, nothing written, audit "aborted"', async () => {
    const file = deploymentFile('confirm', `${reg.host}/team/app:1.4`)
    const r = await apply(file, [], {env: env({CI: 'true'})})
    expect(r.code).toBe(9)
    expect(r.stderr).toMatch(/CONFIRMATION_REQUIRED/)
    expect(r.stderr).toMatch(/CI is set.*--yes/)
    expect(r.records().map((x) => x.outcome)).toEqual(['aborted'])
    expect(kube.writes()).toEqual([])
    expect(kube.requests.filter(isWrite)).toEqual([])
  })

  it('--server-side --field-manager X: an apply-patch with fieldManager X', async () => {
    const file = deploymentFile('ssa', `${reg.host}/team/app:1.4`)
    const r = await apply(file, ['--yes', '--server-side', '--field-manager', 'ci-deployer'])
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    const writes = kube.writes()
    expect(writes).toHaveLength(1)
    expect(writes[0]).toMatchObject({
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/prod/deployments/ssa',
      query: expect.objectContaining({fieldManager: 'ci-deployer'}),
    })
    expect(writes[0]!.contentType).toMatch(/^application\/apply-patch\+yaml/)
    expect(sentDeployment(writes[0]!).spec.template.spec.containers[0].image).toContain(appDigest)
  })

  it('extra kubectl arguments after -- are passed to kubectl', async () => {
    const file = deploymentFile('extra', `${reg.host}/team/app:1.4`)
    const r = await apply(file, ['--yes', '--', '--request-timeout=42s'])
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    const writes = kube.writes()
    expect(writes).toHaveLength(1)
    expect(writes[0]!.query.timeout).toBe('42s')
  })

  it('a stray positional argument (not after --) is refused', async () => {
    const file = deploymentFile('stray', `${reg.host}/team/app:1.4`)
    const r = await apply(file, ['--yes', 'oops'])
    expect(r.code).toBe(2)
    expect(kube.requests).toEqual([])
  })

  it('a kubectl failure at the server: exit 8, audit "failed"', async () => {
    const file = deploymentFile('fails', `${reg.host}/team/app:1.4`)
    kube.failNext({status: 403, method: 'POST', reason: 'Forbidden', message: 'deployments.apps is forbidden: denied by the test'})
    const r = await apply(file, ['--yes'])
    expect(r.code).toBe(8)
    expect(r.stderr).toMatch(/forbidden/)
    expect(r.records().map((x) => x.outcome)).toEqual(['started', 'failed'])
  })
})

describe('safe-deploy apply --applier api (client-node server-side apply)', () => {
  it('applies the pinned object as apply-patch with the field manager', async () => {
    const file = deploymentFile('api-web', `${reg.host}/team/app:1.4`)
    const r = await apply(file, ['--yes', '--applier', 'api', '--field-manager', 'sd-test'])
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    const writes = kube.writes()
    expect(writes.length).toBeGreaterThan(0)
    for (const w of writes) {
      expect(w.method).toBe('PATCH')
      expect(w.contentType).toMatch(/^application\/apply-patch\+yaml/)
      expect(w.query.fieldManager).toBe('sd-test')
    }
    expect(sentDeployment(writes[0]!).spec.template.spec.containers[0].image).toBe(`${reg.host}/team/app:1.4@${appDigest}`)
    expect((kube.objects.get('deployments/prod/api-web') as any).spec.template.spec.containers[0].image).toContain(appDigest)
    expect(r.records().map((x) => x.outcome)).toEqual(['started', 'applied'])
  })

  it('--break-glass: the annotation reaches the server through client-node too', async () => {
    const file = deploymentFile('api-glass', `${reg.host}/team/bad:2.0`)
    const r = await apply(file, ['--yes', '--applier', 'api', '--break-glass', 'INC-2: api path'])
    expect(r.code).toBe(0)
    const writes = kube.writes()
    expect(writes.length).toBeGreaterThan(0)
    const body = sentDeployment(writes[0]!)
    expect(body.spec.template.metadata.annotations[BREAK_GLASS]).toBe('true')
    expect(body.spec.template.spec.containers[0].image).toBe(`${reg.host}/team/bad:2.0@${badDigest}`)
    expect(r.records()[1]).toMatchObject({outcome: 'applied', breakGlass: true, justification: 'INC-2: api path'})
  })

  it('extra kubectl arguments with the api applier: usage error up front, no request, no audit record', async () => {
    const file = deploymentFile('api-extra', `${reg.host}/team/app:1.4`)
    const r = await apply(file, ['--yes', '--applier', 'api', '--', '--request-timeout=5s'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/need the kubectl applier/)
    expect(kube.requests).toEqual([])
    expect(existsSync(r.log)).toBe(false)
  })

  it('DENY: exit 5 and nothing at the double', async () => {
    const file = deploymentFile('api-denied', `${reg.host}/team/bad:2.0`)
    const r = await apply(file, ['--yes', '--applier', 'api'])
    expect(r.code).toBe(5)
    expect(kube.requests).toEqual([])
  })

  it('--dry-run=server: only dryRun writes', async () => {
    const file = deploymentFile('api-dry', `${reg.host}/team/app:1.4`)
    const r = await apply(file, ['--applier', 'api', '--dry-run=server'])
    expect(r.code).toBe(0)
    expect(kube.writes()).toEqual([])
    expect(kube.requests.filter(isWrite).length).toBeGreaterThan(0)
    expect(kube.objects.has('deployments/prod/api-dry')).toBe(false)
  })
})

/** apply --json is a contract (src/schemas/apply.schema.json): checked against what the CLI really prints. */
describe('apply --json (and -o yaml) against the published schema', () => {
  it('applied (kubectl and api appliers), dry-run and blocked documents conform, and -o yaml is the same document', async () => {
    const runs = [
      await apply(deploymentFile('schema-kubectl', `${reg.host}/team/app:1.4`), ['--yes', '--json']),
      await apply(deploymentFile('schema-api', `${reg.host}/team/app:1.4`), ['--yes', '--applier', 'api', '--json']),
      await apply(deploymentFile('schema-dry', `${reg.host}/team/app:1.4`), ['--dry-run=server', '--json']),
      await apply(deploymentFile('schema-denied', `${reg.host}/team/bad:2.0`), ['--yes', '--json']),
    ]
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 5])
    const docs = runs.map((r) => JSON.parse(r.stdout) as {outcome: string; applier?: string; objects: unknown[]})
    expect(docs.map((d) => [d.outcome, d.applier])).toEqual([
      ['applied', 'kubectl'],
      ['applied', 'api'],
      ['dry-run', 'kubectl'],
      ['blocked', undefined],
    ])
    for (const d of docs) expect(schemaErrors('apply', d)).toEqual([])
    expect(docs[0]?.objects).toEqual([expect.objectContaining({kind: 'Deployment', name: 'schema-kubectl', action: 'created'})])

    const yaml = await apply(deploymentFile('schema-yaml', `${reg.host}/team/app:1.4`), ['--yes', '-o', 'yaml'])
    expect(yaml.code).toBe(0)
    const doc = parseYaml(yaml.stdout) as Record<string, unknown>
    expect(schemaErrors('apply', doc)).toEqual([])
    expect(Object.keys(doc)).toEqual(Object.keys(docs[0] as object))
  })

  it('-o name: each object sent as kind/name on stdout, the report on stderr', async () => {
    const r = await apply(deploymentFile('name-web', `${reg.host}/team/app:1.4`), ['--yes', '-o', 'name'])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('deployment/name-web\n')
    expect(r.stderr).toMatch(/applied: 1 object\(s\)/)
  })
})

/** Issue #12 item 12: the deploy-side wait is drawn on a terminal (the Progress port), never into a pipe. */
describe('apply on a terminal: progress and colour; none when piped', () => {
  // eslint-disable-next-line no-control-regex
  const ESC = /\u001b\[/

  it('shows the kubectl apply wait and colours the verdict and outcome; a piped run has no escape sequences and no progress', async () => {
    // A kubectl that takes a second, so the wait outlasts the delay before progress shows (400 ms).
    const real = execFileSync('sh', ['-c', 'command -v kubectl'], {encoding: 'utf8'}).trim()
    const bin = mkdtempSync(join(dir, 'slow-kubectl-'))
    writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\nsleep 1\nexec ${real} "$@"\n`, {mode: 0o755})
    const e = env({PATH: `${bin}:${process.env.PATH ?? ''}`, TERM: 'xterm'})
    delete e.NO_COLOR
    const args = (name: string): string[] => [
      'apply',
      '-f',
      deploymentFile(name, `${reg.host}/team/app:1.4`),
      '--kubeconfig',
      kubeconfig,
      '--context',
      'test',
      '--policy',
      enforcePolicy,
      '--attestors',
      attestors,
      '--attestations',
      atts,
      '--insecure-registry',
      reg.host,
      '--audit-log',
      join(dir, `audit-${++n}.jsonl`),
      '--yes',
    ]
    const tty = await drivePty(args('tty-web'), e, [])
    expect({exitCode: tty.exitCode, tail: tty.output.slice(-1500)}).toEqual({exitCode: 0, tail: expect.stringMatching(/applied: 1 object/)})
    expect(tty.output).toMatch(/applying 1 object\(s\) to test\.\.\. done in \d+\.\ds/)
    expect(tty.raw).toContain('\u001b[32mapplied') // the outcome, green
    expect(tty.raw).toContain('verdict \u001b[32mALLOW') // the verdict on the last line, green as in the pre-flight text

    const piped = await runCli(args('piped-web'), {env: e})
    expect(piped.code).toBe(0)
    expect(piped.stderr).toMatch(/applied: 1 object\(s\) via kubectl; verdict ALLOW/)
    expect(piped.stderr).not.toMatch(ESC)
    expect(piped.stderr).not.toMatch(/applying 1 object/)
  })
})

describe('audit log', () => {
  it('safe-deploy audit --since 1h --verdict ALLOW --json filters the records', async () => {
    const log = join(dir, 'shared-audit.jsonl')
    const e = env()
    const base = [
      '--kubeconfig',
      kubeconfig,
      '--context',
      'test',
      '--policy',
      enforcePolicy,
      '--attestors',
      attestors,
      '--attestations',
      atts,
      '--insecure-registry',
      reg.host,
      '--audit-log',
      log,
      '--yes',
    ]
    expect((await runCli(['apply', '-f', deploymentFile('aud-ok', `${reg.host}/team/app:1.4`), ...base], {env: e})).code).toBe(0)
    expect((await runCli(['apply', '-f', deploymentFile('aud-deny', `${reg.host}/team/bad:2.0`), ...base], {env: e})).code).toBe(5)
    // An old record (two hours ago) that --since 1h must drop.
    const old = {
      time: new Date(Date.now() - 2 * 3600_000).toISOString(),
      id: 'old',
      command: 'apply',
      actor: 'x',
      target: {},
      verdict: 'ALLOW',
      mode: 'none',
      breakGlass: false,
      images: [],
      outcome: 'applied',
    }
    writeFileSync(log, JSON.stringify(old) + '\n' + readFileSync(log, 'utf8'))

    const r = await runCli(['audit', '--since', '1h', '--verdict', 'ALLOW', '--json', '--audit-log', log], {env: e})
    expect(r.code).toBe(0)
    const listing = JSON.parse(r.stdout)
    expect(listing).toMatchObject({apiVersion: 'safe-deploy.dev/v1', kind: 'AuditList'})
    expect(schemaErrors('audit', listing)).toEqual([])
    expect(listing.records.map((x: any) => x.outcome)).toEqual(['started', 'applied'])
    for (const rec of listing.records) {
      expect(rec.verdict).toBe('ALLOW')
      expect(rec.images[0].digest).toBe(appDigest)
    }
    const all = await runCli(['audit', '--json', '--audit-log', log], {env: e})
    expect(JSON.parse(all.stdout).records.map((x: any) => `${x.verdict}/${x.outcome}`)).toEqual([
      'ALLOW/applied',
      'ALLOW/started',
      'ALLOW/applied',
      'DENY/blocked',
    ])
    const denied = await runCli(['audit', '--verdict', 'DENY', '--json', '--audit-log', log], {env: e})
    expect(JSON.parse(denied.stdout).records).toEqual([expect.objectContaining({outcome: 'blocked', images: [expect.objectContaining({digest: badDigest})]})])
  })
})

describe('GKE enforcement check (container API over gRPC)', () => {
  const gke = (extra: string[] = []): string[] => ['--yes', '--container-endpoint', container.endpoint, '--api-insecure', ...extra]

  it('enforcement DISABLED on the cluster: a warning, and the deploy proceeds', async () => {
    const file = deploymentFile('gke-warn', `${reg.host}/team/app:1.4`)
    const r = await apply(file, gke(), {context: GKE_CONTEXT, kubeconfig: gkeKubeconfig})
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/warning: Binary Authorization enforcement is OFF on cluster .*prod.*DISABLED/)
    expect(container.calls('GetCluster').map((c) => c.request.name)).toContain('projects/test-proj/locations/us-central1/clusters/prod')
    expect(kube.writes()).toHaveLength(1)
  })

  it('--require-enforcement with DISABLED: refused (exit 5), zero writes', async () => {
    const file = deploymentFile('gke-refused', `${reg.host}/team/app:1.4`)
    const r = await apply(file, gke(['--require-enforcement']), {context: GKE_CONTEXT, kubeconfig: gkeKubeconfig})
    expect(r.code).toBe(5)
    expect(r.stderr).toMatch(/enforcement is OFF/)
    expect(kube.writes()).toEqual([])
    expect(kube.requests.filter(isWrite)).toEqual([])
    expect(r.records().map((x) => x.outcome)).toEqual(['blocked'])
  })

  it('PROJECT_SINGLETON_POLICY_ENFORCE: proceeds with --require-enforcement, no warning', async () => {
    container.state.clusters.set('projects/test-proj/locations/us-central1/clusters/prod', {
      binaryAuthorization: {evaluationMode: 'PROJECT_SINGLETON_POLICY_ENFORCE'},
    })
    try {
      const file = deploymentFile('gke-ok', `${reg.host}/team/app:1.4`)
      const r = await apply(file, gke(['--require-enforcement']), {context: GKE_CONTEXT, kubeconfig: gkeKubeconfig})
      expect(r.stderr).not.toMatch(/Error/)
      expect(r.code).toBe(0)
      expect(r.stderr).not.toMatch(/enforcement is OFF/)
      expect(kube.writes()).toHaveLength(1)
    } finally {
      container.state.clusters.set('projects/test-proj/locations/us-central1/clusters/prod', {binaryAuthorization: {evaluationMode: 'DISABLED'}})
    }
  })

  it('--require-enforcement when the GKE API is unavailable: exit 4, zero writes (never assumed enforced)', async () => {
    const file = deploymentFile('gke-unavail', `${reg.host}/team/app:1.4`)
    container.failNext('GetCluster', 14, {times: 10, message: 'backend down'})
    const r = await apply(file, gke(['--require-enforcement']), {context: GKE_CONTEXT, kubeconfig: gkeKubeconfig})
    expect(r.code).toBe(4)
    expect(kube.requests.filter(isWrite)).toEqual([])
  })
})

describe('--require-enforcement on a cluster that is not identified by its context (issue #12, item 4)', () => {
  const CLUSTER = 'projects/test-proj/locations/us-central1/clusters/prod'
  const gke = (extra: string[] = []): string[] => ['--yes', '--container-endpoint', container.endpoint, '--api-insecure', ...extra]
  const setMode = (evaluationMode: string) => container.state.clusters.set(CLUSTER, {binaryAuthorization: {evaluationMode}})
  beforeEach(() => {
    container.requests.length = 0
  })
  afterEach(() => {
    setMode('DISABLED')
  })

  it('a context not named gke_… and no --cluster/--project: refused (exit 4), nothing applied, audit "blocked", the fix named', async () => {
    const file = deploymentFile('enf-unidentified', `${reg.host}/team/app:1.4`)
    const r = await apply(file, gke(['--require-enforcement']))
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/cannot verify that Binary Authorization is enforced: the kube context "test" is not named gke_PROJECT_LOCATION_NAME/)
    expect(r.stderr).toMatch(/--cluster LOCATION\.NAME with --project PROJECT/)
    expect(kube.requests.filter(isWrite)).toEqual([])
    expect(container.calls('GetCluster')).toEqual([])
    const recs = r.records()
    expect(recs.map((x) => x.outcome)).toEqual(['blocked'])
    expect(recs[0].detail).toMatch(/could not verify enforcement: the kube context "test"/)
  })

  it('--cluster without --project is not enough: refused (exit 4), nothing applied', async () => {
    const file = deploymentFile('enf-noproject', `${reg.host}/team/app:1.4`)
    const r = await apply(file, gke(['--require-enforcement', '--cluster', 'us-central1.prod']))
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/--cluster us-central1\.prod needs --project PROJECT/)
    expect(kube.requests.filter(isWrite)).toEqual([])
  })

  it('--cluster and --project name it: the GKE API is asked for that cluster; DISABLED → refused (exit 5), nothing applied', async () => {
    const file = deploymentFile('enf-flags-off', `${reg.host}/team/app:1.4`)
    const r = await apply(file, gke(['--require-enforcement', '--cluster', 'us-central1.prod', '--project', 'test-proj']))
    expect(r.code).toBe(5)
    expect(r.stderr).toMatch(/enforcement is OFF on cluster us-central1\.prod/)
    expect(container.calls('GetCluster').map((c) => c.request.name)).toContain(CLUSTER)
    expect(kube.requests.filter(isWrite)).toEqual([])
    expect(r.records().map((x) => x.outcome)).toEqual(['blocked'])
  })

  it('--cluster and --project name it, enforcement on: applied (exit 0), no warning', async () => {
    setMode('PROJECT_SINGLETON_POLICY_ENFORCE')
    const file = deploymentFile('enf-flags-on', `${reg.host}/team/app:1.4`)
    const r = await apply(file, gke(['--require-enforcement', '--cluster', 'us-central1.prod', '--project', 'test-proj']))
    expect(r.stderr).not.toMatch(/Error|warning/)
    expect(r.code).toBe(0)
    expect(kube.writes()).toHaveLength(1)
    const doc = JSON.parse(
      (
        await apply(
          deploymentFile('enf-json', `${reg.host}/team/app:1.4`),
          gke(['--require-enforcement', '--cluster', 'us-central1.prod', '--project', 'test-proj', '--json']),
        )
      ).stdout,
    )
    expect(schemaErrors('apply', doc)).toEqual([])
    expect(doc.enforcement).toEqual({
      mode: 'PROJECT_SINGLETON_POLICY_ENFORCE',
      enforced: true,
      cluster: 'us-central1.prod',
    })
  })

  it('cluster, project and requireEnforcement from the profile: checked through the GKE API', async () => {
    const cfgDir = mkdtempSync(join(dir, 'profile-enf-'))
    writeFileSync(
      join(cfgDir, '.safe-deploy.yaml'),
      stringifyYaml({
        apiVersion: 'safe-deploy.dev/v1',
        kind: 'Config',
        defaultProfile: 'prod',
        profiles: {
          prod: {
            platform: 'gke',
            kubeconfig,
            context: 'test',
            cluster: 'us-central1.prod',
            project: 'test-proj',
            policy: enforcePolicy,
            attestors,
            attestations: atts,
            requireEnforcement: true,
          },
        },
      }),
    )
    const file = deploymentFile('enf-profile', `${reg.host}/team/app:1.4`)
    const log = join(cfgDir, 'audit.jsonl')
    const args = [
      'apply',
      '-f',
      file,
      '--insecure-registry',
      reg.host,
      '--audit-log',
      log,
      '--yes',
      '--container-endpoint',
      container.endpoint,
      '--api-insecure',
    ]
    const off = await runCli(args, {env: env(), cwd: cfgDir})
    expect(off.code).toBe(5)
    expect(off.stderr).toMatch(/enforcement is OFF on cluster us-central1\.prod/)
    expect(kube.requests.filter(isWrite)).toEqual([])
    setMode('PROJECT_SINGLETON_POLICY_ENFORCE')
    const on = await runCli(args, {env: env(), cwd: cfgDir})
    expect(on.stderr).not.toMatch(/Error/)
    expect(on.code).toBe(0)
    expect(kube.writes()).toHaveLength(1)
  })
})

describe('apply writes the pre-flight reports it is asked for (--report-md, --report-junit, $GITHUB_STEP_SUMMARY)', () => {
  it('allowed: the Markdown and JUnit reports and the step summary are written before the deploy', async () => {
    const out = mkdtempSync(join(dir, 'reports-'))
    const summary = join(out, 'summary.md')
    const file = deploymentFile('reported', `${reg.host}/team/app:1.4`)
    const r = await apply(file, ['--yes', '--report-md', join(out, 'preflight.md'), '--report-junit', join(out, 'preflight.xml')], {
      env: env({GITHUB_STEP_SUMMARY: summary}),
    })
    expect(r.code).toBe(0)
    expect(readFileSync(join(out, 'preflight.md'), 'utf8')).toMatch(/ALLOW/)
    expect(readFileSync(join(out, 'preflight.xml'), 'utf8')).toMatch(/<testsuite/)
    expect(readFileSync(summary, 'utf8')).toBe(readFileSync(join(out, 'preflight.md'), 'utf8') + '\n')
    expect(r.stderr).toContain(`report written: ${join(out, 'preflight.md')}`)
  })

  it('denied: the report says why, and nothing is applied (exit 5)', async () => {
    const out = mkdtempSync(join(dir, 'reports-'))
    const file = deploymentFile('reported-deny', `${reg.host}/team/bad:2.0`)
    const r = await apply(file, ['--yes', '--report-md', join(out, 'preflight.md')])
    expect(r.code).toBe(5)
    expect(readFileSync(join(out, 'preflight.md'), 'utf8')).toMatch(/DENY/)
    expect(kube.requests.filter(isWrite)).toEqual([])
  })
})

describe('apply with a profile from .safe-deploy.yaml', () => {
  it('takes the kube context, kubeconfig, namespace, policy and trust sources from the profile (flags would override)', async () => {
    const cfgDir = mkdtempSync(join(dir, 'profile-'))
    writeFileSync(
      join(cfgDir, '.safe-deploy.yaml'),
      stringifyYaml({
        apiVersion: 'safe-deploy.dev/v1',
        kind: 'Config',
        defaultProfile: 'prod',
        profiles: {
          prod: {platform: 'gke', kubeconfig, context: 'test', namespace: 'prod', policy: enforcePolicy, attestors, attestations: atts, applier: 'kubectl'},
        },
      }),
    )
    const file = deploymentFile('from-profile', `${reg.host}/team/app:1.4`)
    const log = join(cfgDir, 'audit.jsonl')
    const r = await runCli(['apply', '-f', file, '--insecure-registry', reg.host, '--audit-log', log, '--yes'], {env: env(), cwd: cfgDir})
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    const writes = kube.writes()
    expect(writes.length).toBeGreaterThan(0)
    expect(writes.some((w) => w.path.includes('/namespaces/prod/deployments'))).toBe(true)
  })
})

describe('parser differentials (security): what kubectl receives is what was evaluated', () => {
  /** A Deployment whose container is written by `container` (indented for the containers list). */
  function hostile(name: string, container: string, extra = ''): string {
    const file = join(dir, `${name}-${++n}.yaml`)
    writeFileSync(
      file,
      `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: prod
spec:
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      serviceAccountName: deployer
      containers:
${container}${extra}`,
    )
    return file
  }
  const good = (): string => `${reg.host}/team/app:1.4`
  const evil = (): string => `${reg.host}/team/bad:2.0`

  it.each([
    ['1: a U+2028 line break hides a second image key', () => `      - name: app\n        image: ${good()} # x\u2028        image: ${evil()}\n`, /U\+2028/],
    ['2: an alias key repeats image', () => `      - name: app\n        &k image: ${good()}\n        *k : ${evil()}\n`, /anchor|alias/],
    ['4: a merge key overrides image', () => `      - name: app\n        image: ${good()}\n        <<: {image: ${evil()}}\n`, /merge key/],
  ])('class %s: refused (exit 3), nothing reaches the API, the audit log says blocked', async (_name, container, why) => {
    const r = await apply(hostile('hostile', container()), ['--yes'], {policy: dryrunPolicy})
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/refused: kubectl could read this differently/)
    expect(r.stderr).toMatch(why)
    expect(r.stderr).toMatch(/hostile-\d+\.yaml: document 1: line \d+/)
    expect(kube.requests.filter(isWrite)).toEqual([])
    expect(r.records().map((x) => x.outcome)).toEqual(['blocked'])
  })

  it('class 6: a Deployment carrying items: kubectl would apply the items only; safe-deploy pins and evaluates those, sends them, and records them', async () => {
    const file = hostile(
      'carrier',
      `      - name: app\n        image: ${good()}\n`,
      `items:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: hidden, namespace: prod}\n  spec:\n    selector: {matchLabels: {app: hidden}}\n    template:\n      metadata: {labels: {app: hidden}}\n      spec:\n        containers:\n        - name: app\n          image: ${evil()}\n`,
    )
    const r = await apply(file, ['--yes'], {policy: dryrunPolicy})
    // The evaluated image is the hidden one (no attestation → a dry-run denial), not the carrier's.
    expect(r.code).toBe(0)
    // The pre-flight line names it with a short digest; the full one is in the command that would fix it.
    expect(r.stderr).toContain(`team/bad:2.0@${badDigest.slice(0, 'sha256:'.length + 8)}…`)
    expect(r.stderr).toContain(`safe-deploy attest --image ${reg.host}/team/bad@${badDigest}`)
    expect(r.stderr).not.toMatch(/team\/app:1\.4@/)
    const writes = kube.requests.filter(isWrite)
    expect(writes.map((w) => `${w.method} ${w.path}`)).toEqual(['POST /apis/apps/v1/namespaces/prod/deployments'])
    const body = sentDeployment(writes[0] as RecordedRequest)
    expect(body.metadata.name).toBe('hidden')
    expect(body.spec.template.spec.containers[0].image).toBe(`${reg.host}/team/bad:2.0@${badDigest}`)
    const applied = r.records().find((x) => x.outcome === 'applied')
    expect(applied.sent).toEqual([{object: 'Deployment/prod/hidden', images: [`${reg.host}/team/bad:2.0@${badDigest}`]}])
  })

  it('class 6: PodList items without kind become Pods; the Pod that reaches the API is pinned', async () => {
    const file = join(dir, `podlist-${++n}.yaml`)
    writeFileSync(
      file,
      `apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: listed, namespace: prod}\n  spec:\n    containers:\n    - name: app\n      image: ${good()}\n`,
    )
    const r = await apply(file, ['--yes'])
    expect(r.code).toBe(0)
    const writes = kube.requests.filter(isWrite)
    expect(writes.map((w) => `${w.method} ${w.path}`)).toEqual(['POST /api/v1/namespaces/prod/pods'])
    const body = JSON.parse((writes[0] as RecordedRequest).body)
    expect(body.kind).toBe('Pod')
    expect(body.spec.containers[0].image).toBe(`${reg.host}/team/app:1.4@${appDigest}`)
    expect(r.records().find((x) => x.outcome === 'applied').sent).toEqual([{object: 'Pod/prod/listed', images: [`${reg.host}/team/app:1.4@${appDigest}`]}])
  })

  it('stdin that is not UTF-8 is refused like a file (exit 3), nothing applied', async () => {
    const log = join(dir, `audit-${++n}.jsonl`)
    const r = await runCli(
      [
        'apply',
        '-f',
        '-',
        '--kubeconfig',
        kubeconfig,
        '--context',
        'test',
        '--policy',
        enforcePolicy,
        '--attestors',
        attestors,
        '--attestations',
        atts,
        '--insecure-registry',
        reg.host,
        '--audit-log',
        log,
        '--yes',
      ],
      {env: env(), stdin: Buffer.from('\xff\xfea\x00p\x00i\x00', 'latin1')},
    )
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/expected UTF-8 text, got UTF-16/)
    expect(kube.requests.filter(isWrite)).toEqual([])
  })

  it.each([['pin'], ['preflight']])('%s -f - refuses UTF-16 and invalid UTF-8 on stdin (exit 3), as for files; it never says ALLOW', async (cmd) => {
    const utf16 = Buffer.from('\ufeffapiVersion: v1\nkind: Pod\n', 'utf16le')
    const latin1 = Buffer.from('apiVersion: v1\nkind: Pod\nmetadata: {name: caf\xe9}\n', 'latin1')
    for (const [input, why] of [
      [utf16, /got UTF-16/],
      [latin1, /invalid UTF-8 byte sequence at byte offset 45/],
    ] as const) {
      const extra = cmd === 'preflight' ? ['--policy', enforcePolicy, '--attestors', attestors, '--attestations', atts] : []
      const r = await runCli([cmd, '-f', '-', ...extra], {env: env(), stdin: input})
      expect(r.code).toBe(3)
      expect(r.stderr).toMatch(why)
      expect(r.stdout + r.stderr).not.toMatch(/ALLOW/)
    }
  })
})

describe('kubectl arguments after -- cannot add inputs or change the target', () => {
  it.each([
    [['-f', 'EVIL'], /-f/],
    [['--filename=EVIL'], /--filename/],
    [['-Rf', 'EVIL'], /-Rf/],
    [['-k', '.'], /-k/],
    [['--kustomize', '.'], /--kustomize/],
    [['--context', 'other'], /--context/],
    [['--kubeconfig=/x'], /--kubeconfig/],
    [['-n', 'other'], /-n/],
    [['--namespace=other'], /--namespace/],
    [['-s', 'https://elsewhere'], /-s/],
    [['--server=https://elsewhere'], /--server/],
    [['--cluster', 'c'], /--cluster/],
  ])('%j is refused (exit 2) before anything is pinned or sent', async (extra, why) => {
    const evil = deploymentFile('evil', `${reg.host}/team/bad:2.0`)
    const file = deploymentFile('safe', `${reg.host}/team/app:1.4`)
    const r = await apply(file, ['--yes', '--', ...extra.map((a) => a.replace('EVIL', evil))])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(why)
    expect(r.stderr).toMatch(/after --/)
    expect(kube.requests.filter(isWrite)).toEqual([])
  })
})

describe('the confirmation prompt in a pseudo-terminal', () => {
  it.each([
    ['Ctrl-C', '\u0003', /aborted \(Ctrl-C\): nothing was deployed/],
    ['"n"', 'n\r', /aborted: nothing was deployed/],
  ])('%s at "apply …?" is an abort: exit 9, "aborted" in the audit log, nothing sent', async (_name, keys, message) => {
    const file = deploymentFile('prompted', `${reg.host}/team/app:1.4`)
    const log = join(dir, `audit-${++n}.jsonl`)
    const r = await drivePty(
      [
        'apply',
        '-f',
        file,
        '--kubeconfig',
        kubeconfig,
        '--context',
        'test',
        '--policy',
        enforcePolicy,
        '--attestors',
        attestors,
        '--attestations',
        atts,
        '--insecure-registry',
        reg.host,
        '--audit-log',
        log,
      ],
      env(),
      [['apply 1 file(s)', keys]],
    )
    expect({ok: r.ok, exitCode: r.exitCode, tail: r.exitCode === 9 ? '' : r.output.slice(-2000)}).toEqual({ok: true, exitCode: 9, tail: ''})
    expect(r.output).toMatch(message)
    expect(r.output).not.toMatch(/INTERNAL|this is a bug/)
    expect(kube.requests.filter(isWrite)).toEqual([])
    const records = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(records.map((x) => x.outcome)).toEqual(['aborted'])
  })
})

describe('apply: image-like values no image rule examined (issue #12)', () => {
  it('an image in a kind without rules: refused (exit 3), not one request at the double, audit "blocked"', async () => {
    const file = deploymentFile('with-myapp', `${reg.host}/team/app:1.4`)
    writeFileSync(
      file,
      readFileSync(file, 'utf8') +
        `---\napiVersion: example.com/v1\nkind: MyApp\nmetadata: {name: shop, namespace: prod}\nspec:\n  image: ${reg.host}/team/bad:2.0\n`,
    )
    const r = await apply(file, ['--yes'])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('Error [INVALID_INPUT]: 1 image-like value(s) that no image rule examined; nothing was written or deployed:')
    expect(r.stderr).toContain(
      `${file}: document 2: spec.image (line 22): "${reg.host}/team/bad:2.0" was not examined: safe-deploy has no image rule for example.com/v1 MyApp`,
    )
    expect(r.stderr).toContain('  - {apiVersion: example.com/v1, kind: MyApp, path: spec.image}')
    expect(r.stderr).toMatch(/--allow-unexamined-images/)
    expect(kube.requests).toEqual([])
    const recs = r.records()
    expect(recs.map((x) => x.outcome)).toEqual(['blocked'])
    expect(recs[0].detail).toMatch(/not deployed: INVALID_INPUT: 1 image-like value/)
  })

  it('--allow-unexamined-images: deployed as written with a loud warning; the values are in the audit records', async () => {
    const file = deploymentFile('with-annotated-service', `${reg.host}/team/app:1.4`)
    writeFileSync(
      file,
      readFileSync(file, 'utf8') +
        `---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: prod\n  annotations:\n    image: tools/debug:1\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n`,
    )
    const refused = await apply(file, ['--yes'])
    expect(refused.code).toBe(3)
    expect(kube.requests).toEqual([])
    const r = await apply(file, ['--yes', '--allow-unexamined-images'])
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    expect(r.stderr).toContain(
      `warning: ${file}:24: Service/web: metadata.annotations.image: "tools/debug:1" was not examined (safe-deploy has no image rule for v1 Service)`,
    )
    expect(r.stderr).toMatch(
      /warning: UNEXAMINED IMAGES: --allow-unexamined-images: deploying 1 image-like value\(s\) that were neither pinned nor pre-flighted/,
    )
    const writes = kube.writes()
    expect(writes.map((w) => `${w.method} ${w.path}`)).toEqual(['POST /apis/apps/v1/namespaces/prod/deployments', 'POST /api/v1/namespaces/prod/services'])
    expect(sentDeployment(writes[1] as RecordedRequest).metadata.annotations.image).toBe('tools/debug:1')
    const recs = r.records()
    expect(recs.map((x) => x.outcome)).toEqual(['started', 'applied'])
    for (const rec of recs)
      expect(rec.unexamined).toEqual([{file, line: 24, object: 'Service/web', path: 'metadata.annotations.image', value: 'tools/debug:1'}])
  })
})
