/**
 * cosign / Sigstore signatures end to end, through the built CLI and the real docker-registry:
 * `attest --sigstore` signs and pushes (bundle as a referrer through the fallback tag, and the
 * legacy `.sig` tag), `preflight --sigstore-key` reads and verifies them, and every failure has its
 * exit status: 5 denied, 4 could not check, 7 bad key. Nothing here is a stub of the registry.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCli, type CliResult} from '../../support/cli.js'
import {deployment, startTrustSetup, type TrustSetup} from '../../support/fixtures.js'
import {startFaultProxy, type FaultProxy} from '../../support/fault-proxy.js'
import {testKey} from '../../support/sigstore.js'
import {schemaErrors} from '../../support/schemas.js'

const ALLOW_ALL = `defaultAdmissionRule:
  evaluationMode: ALWAYS_ALLOW
  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG
globalPolicyEvaluationMode: DISABLE
name: projects/test-proj/policy
`

let t: TrustSetup
let proxy: FaultProxy
const ci = testKey('ci')
const other = testKey('other')
let files: {ciPriv: string; ciPub: string; otherPriv: string; otherPub: string; policy: string}

beforeAll(async () => {
  t = await startTrustSetup({prefix: 'sd-sigstore-'})
  proxy = await startFaultProxy(t.reg.host)
  files = {
    ciPriv: join(t.dir, 'ci.key'),
    ciPub: join(t.dir, 'ci.pub'),
    otherPriv: join(t.dir, 'other.key'),
    otherPub: join(t.dir, 'other.pub'),
    policy: join(t.dir, 'allow.yaml'),
  }
  writeFileSync(files.ciPriv, ci.privateKeyPem)
  writeFileSync(files.ciPub, ci.publicKeyPem)
  writeFileSync(files.otherPriv, other.privateKeyPem)
  writeFileSync(files.otherPub, other.publicKeyPem)
  writeFileSync(files.policy, ALLOW_ALL)
}, 60_000)

afterAll(async () => {
  await proxy?.stop()
  await t?.stop()
})

const registry = (host = t.reg.host) => ['--insecure-registry', host]
const policyFlags = () => ['--policy', files.policy, '--attestors', t.attestors, '--attestations', t.atts]

async function sign(image: string, extra: string[] = [], key = files.ciPriv): Promise<CliResult> {
  return runCli(['attest', '--sigstore', '--image', image, '--private-key', key, ...registry(), '--json', ...extra])
}

async function preflight(image: string, extra: string[], host = t.reg.host): Promise<CliResult> {
  return runCli(['preflight', '--image', image.replace(t.reg.host, host), ...policyFlags(), ...registry(host), ...extra])
}

describe('attest --sigstore then preflight --sigstore-key (real registry)', () => {
  it('a bundle pushed as a referrer (fallback tag index) verifies; pushing again is idempotent; the JSON matches its schema', async () => {
    const {digest} = await t.reg.pushImage('sig/bundle', 'v1')
    const first = await sign(`${t.reg.host}/sig/bundle:v1`)
    expect(first.code).toBe(0)
    const out = JSON.parse(first.stdout) as Record<string, unknown>
    expect(out).toMatchObject({kind: 'AttestResult', digest, format: 'bundle', signatureKind: 'signature', created: true})
    expect(schemaErrors('attest', out)).toEqual([])
    const again = await sign(`${t.reg.host}/sig/bundle:v1`)
    expect(JSON.parse(again.stdout)).toMatchObject({created: false})

    const ok = await preflight(`${t.reg.host}/sig/bundle:v1`, ['--sigstore-key', files.ciPub, '--json'])
    expect(ok.code).toBe(0)
    const result = JSON.parse(ok.stdout) as {
      verdict: string
      images: Array<{signatures: {satisfied: boolean; signatures: Array<{format: string; verifiedBy: string}>}}>
    }
    expect(result.verdict).toBe('ALLOW')
    expect(result.images[0]?.signatures.signatures).toEqual([expect.objectContaining({format: 'bundle', verified: true, verifiedBy: files.ciPub})])
    expect(schemaErrors('preflight', result)).toEqual([])
  })

  it('a legacy .sig signature verifies; a wrong key is DENY (exit 5) naming the key, with the signing command as the next step', async () => {
    const {digest} = await t.reg.pushImage('sig/legacy', 'v1')
    expect((await sign(`${t.reg.host}/sig/legacy:v1`, ['--sigstore-format', 'legacy'])).code).toBe(0)
    const ok = await preflight(`${t.reg.host}/sig/legacy:v1`, ['--sigstore-key', files.ciPub])
    expect(ok.code).toBe(0)
    expect(ok.stderr).toMatch(/signed by .*ci\.pub \(simplesigning\)/)

    const denied = await preflight(`${t.reg.host}/sig/legacy:v1`, ['--sigstore-key', files.otherPub])
    expect(denied.code).toBe(5)
    expect(denied.stderr).toMatch(/registry signatures required: .*other\.pub/)
    expect(denied.stderr).toContain(`safe-deploy attest --sigstore --image ${t.reg.host}/sig/legacy@${digest} --private-key KEY.pem`)
  })

  it('two keys where one verifies: ALLOW (any one key suffices)', async () => {
    await t.reg.pushImage('sig/two', 'v1')
    expect((await sign(`${t.reg.host}/sig/two:v1`, [], files.otherPriv)).code).toBe(0)
    const r = await preflight(`${t.reg.host}/sig/two:v1`, ['--sigstore-key', files.ciPub, '--sigstore-key', files.otherPub])
    expect(r.code).toBe(0)
  })

  it('an unsigned image is DENY; an attestation of the required type makes it pass only with a signature too', async () => {
    await t.reg.pushImage('sig/att', 'v1')
    const none = await preflight(`${t.reg.host}/sig/att:v1`, ['--sigstore-key', files.ciPub])
    expect(none.code).toBe(5)
    expect(none.stderr).toMatch(/no signature/)
    const predicate = join(t.dir, 'provenance.json')
    writeFileSync(predicate, JSON.stringify({buildType: 'https://example.com/build@v1'}))
    const att = await sign(`${t.reg.host}/sig/att:v1`, ['--attestation-type', 'https://slsa.dev/provenance/v1', '--predicate', predicate])
    expect(att.code).toBe(0)
    const wrongType = await preflight(`${t.reg.host}/sig/att:v1`, [
      '--sigstore-key',
      files.ciPub,
      '--sigstore-attestation-type',
      'https://example.com/other/v1',
    ])
    expect(wrongType.code).toBe(5)
    expect((await sign(`${t.reg.host}/sig/att:v1`)).code).toBe(0)
    const both = await preflight(`${t.reg.host}/sig/att:v1`, ['--sigstore-key', files.ciPub, '--sigstore-attestation-type', 'https://slsa.dev/provenance/v1'])
    expect(both.code).toBe(0)
    expect(both.stderr).toMatch(/attested https:\/\/slsa\.dev\/provenance\/v1/)
  })

  it('--sigstore-repository: a bundle stored in another repository (cosign COSIGN_REPOSITORY) is pushed there and read from there', async () => {
    await t.reg.pushImage('sig/elsewhere', 'v1')
    const repo = ['--sigstore-repository', `${t.reg.host}/sig/signatures`]
    const pushed = await sign(`${t.reg.host}/sig/elsewhere:v1`, repo)
    expect(pushed.code).toBe(0)
    expect(JSON.parse(pushed.stdout)).toMatchObject({format: 'bundle', location: expect.stringContaining(`${t.reg.host}/sig/signatures@`)})
    expect((await preflight(`${t.reg.host}/sig/elsewhere:v1`, ['--sigstore-key', files.ciPub])).code).toBe(5)
    expect((await preflight(`${t.reg.host}/sig/elsewhere:v1`, ['--sigstore-key', files.ciPub, ...repo])).code).toBe(0)
  })

  it('the signature tag answering 500 (nothing verified): could not check, exit 4, never ALLOW', async () => {
    await t.reg.pushImage('sig/fail', 'v1')
    proxy.script((req) => (/sha256-[0-9a-f]{64}/.test(req.url) ? {status: 500} : undefined))
    try {
      const r = await preflight(`${t.reg.host}/sig/fail:v1`, ['--sigstore-key', files.ciPub, '--retries', '0'], proxy.host)
      expect(r.code).toBe(4)
      expect(r.stderr).toMatch(/could not check the registry signatures/)
    } finally {
      proxy.script(undefined)
    }
  })

  it('an unreadable key is exit 7 even beside a good one; a stray --sigstore-attestation-type without a key is a usage error', async () => {
    await t.reg.pushImage('sig/key', 'v1')
    const bad = join(t.dir, 'bad.pub')
    writeFileSync(bad, 'not a key')
    const r = await preflight(`${t.reg.host}/sig/key:v1`, ['--sigstore-key', files.ciPub, '--sigstore-key', bad])
    expect(r.code).toBe(7)
    expect(r.stderr).toContain('bad.pub')
    const missing = await preflight(`${t.reg.host}/sig/key:v1`, ['--sigstore-key', join(t.dir, 'nope.pub')])
    expect(missing.code).toBe(7)
    const stray = await preflight(`${t.reg.host}/sig/key:v1`, ['--sigstore-attestation-type', 'https://slsa.dev/provenance/v1'])
    expect(stray.code).toBe(2)
  })

  it('apply refuses an unsigned image before anything is sent (the same pre-flight)', async () => {
    await t.reg.pushImage('sig/apply', 'v1')
    const manifest = join(t.dir, 'apply.yaml')
    writeFileSync(manifest, deployment('web', `${t.reg.host}/sig/apply:v1`))
    // A cluster nobody listens on: the denial comes before anything is sent.
    const kubeconfig = join(t.dir, 'kubeconfig')
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: test, context: {cluster: c, user: u}}]\ncurrent-context: test\n',
    )
    const r = await runCli([
      'apply',
      '-f',
      manifest,
      ...policyFlags(),
      '--sigstore-key',
      files.ciPub,
      ...registry(),
      '--kubeconfig',
      kubeconfig,
      '--context',
      'test',
      '--yes',
    ])
    expect(r.code).toBe(5)
    expect(r.stderr).toMatch(/nothing was applied/i)
  })
})
