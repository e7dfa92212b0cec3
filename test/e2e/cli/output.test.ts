/**
 * kubectl's -o through the built CLI: -o json is --json (same document, same schema), -o yaml the same
 * document as YAML, -o name one reference per line on stdout, -o wide the human report with more
 * columns (stderr, so pin's YAML on stdout is untouched); errors follow -o json|yaml too.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse, parseAllDocuments} from 'yaml'
import {ROOT, runCli} from '../../support/cli.js'
import {schemaErrors} from '../../support/schemas.js'
import {deployment, startTrustSetup, type TrustSetup} from '../../support/fixtures.js'

let trust: TrustSetup
let manifest: string
let registry: string[]
let trustArgs: string[]

beforeAll(async () => {
  trust = await startTrustSetup({prefix: 'sd-out-'})
  await trust.reg.pushImage('team/app', '1.4')
  await trust.reg.pushImage('team/worker', '2.0')
  // app is attested (ALLOW), worker is not (DENY): both verdicts in one run.
  await trust.attestOk(`${trust.reg.host}/team/app:1.4`)
  const d = join(trust.dir, 'out')
  mkdirSync(d)
  manifest = join(d, 'deploy.yaml')
  writeFileSync(
    manifest,
    [
      deployment('api', `${trust.reg.host}/team/app:1.4`, {namespace: 'prod', serviceAccountName: 'deployer', container: 'api'}),
      deployment('worker', `${trust.reg.host}/team/worker:2.0`, {namespace: 'prod', serviceAccountName: 'deployer', container: 'worker'}),
      deployment('api2', `${trust.reg.host}/team/app:1.4`, {namespace: 'prod', serviceAccountName: 'deployer', container: 'api'}),
    ].join('---\n'),
  )
  registry = ['--insecure-registry', trust.reg.host]
  trustArgs = ['--policy', trust.policy, '--attestors', trust.attestors, '--attestations', trust.atts]
}, 90_000)

afterAll(async () => {
  await trust?.stop()
})

const DIGEST = /@sha256:[0-9a-f]{64}$/

describe('pin -o', () => {
  const pin = (...o: string[]) => runCli(['pin', '-f', manifest, ...registry, ...o])

  it('json and yaml are the --json document (schema PinResult); name lists each pinned reference once; wide adds a table on stderr', async () => {
    const [asJson, oJson, oYaml, oName, oWide, plain] = await Promise.all([
      pin('--json'),
      pin('-o', 'json'),
      pin('-o', 'yaml'),
      pin('-o', 'name'),
      pin('-owide'),
      pin(),
    ])
    for (const r of [asJson, oJson, oYaml, oName, oWide, plain]) expect([r.code, r.stderr]).toEqual([0, expect.any(String)])
    const doc = JSON.parse(asJson.stdout) as {kind: string; sites: Array<{pinned: string; file: string; line: number; kind: string; name: string}>}
    expect(doc.kind).toBe('PinResult')
    expect(schemaErrors('pin', doc)).toEqual([])
    expect(JSON.parse(oJson.stdout)).toEqual(doc)
    expect(parse(oYaml.stdout)).toEqual(doc)
    // Same key order as the JSON document.
    expect(Object.keys(parse(oYaml.stdout) as object)).toEqual(Object.keys(doc))
    // json and yaml are data only, as --json: no human summary.
    expect(oYaml.stderr).toBe('')

    const names = oName.stdout.trimEnd().split('\n')
    expect(names).toEqual([...new Set(doc.sites.map((s) => s.pinned))])
    expect(names).toHaveLength(2)
    for (const n of names) expect(n).toMatch(DIGEST)
    expect(oName.stderr).toMatch(/pinned 3 image reference\(s\)/)

    // wide: the pinned YAML still on stdout (pipe into kubectl), the table with the summary on stderr.
    expect(oWide.stdout).toBe(plain.stdout)
    expect(parseAllDocuments(oWide.stdout)).toHaveLength(3)
    const [header, ...rows] = oWide.stderr.trimEnd().split('\n')
    expect(header?.split(/\s{2,}/)).toEqual(['WHERE', 'OBJECT', 'PATH', 'IMAGE', 'PINNED', 'STATUS'])
    for (const s of doc.sites) expect(rows.some((r) => r.startsWith(`${s.file}:${s.line}  ${s.kind}/${s.name}  `) && r.includes(s.pinned))).toBe(true)
  })

  it('refuses -o with --json (exclusive), as a usage error document', async () => {
    const r = await pin('-o', 'yaml', '--json')
    expect(r.code).toBe(2)
    expect(r.stdout).toContain('--output')
  })

  it('rejects an unknown format, naming the ones there are', async () => {
    const r = await pin('-o', 'table')
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/json, yaml, name, wide/)
  })

  it('an error with -o yaml is the error document as YAML (schema Error), as with --json', async () => {
    const [y, j] = await Promise.all([
      runCli(['pin', '-f', join(trust.dir, 'missing.yaml'), '-o', 'yaml']),
      runCli(['pin', '-f', join(trust.dir, 'missing.yaml'), '--json']),
    ])
    expect(y.code).toBe(3)
    expect(j.code).toBe(3)
    const doc = parse(y.stdout) as {kind: string}
    expect(doc).toEqual(JSON.parse(j.stdout))
    expect(doc.kind).toBe('Error')
    expect(schemaErrors('error', doc)).toEqual([])
    expect(y.stderr).toBe('')
  })
})

describe('preflight -o', () => {
  const preflight = (...o: string[]) => runCli(['preflight', '-f', manifest, ...trustArgs, ...registry, ...o])

  it('json and yaml are the --json document (schema PreflightResult); name is image@digest per image; wide adds namespace, service account, rule', async () => {
    const [asJson, oJson, oYaml, oName, oWide] = await Promise.all([
      preflight('--json'),
      preflight('-o', 'json'),
      preflight('--output=yaml'),
      preflight('-o', 'name'),
      preflight('-o', 'wide'),
    ])
    // One image is denied: the exit status is the verdict's whatever the format.
    for (const r of [asJson, oJson, oYaml, oName, oWide]) expect(r.code).toBe(5)
    const doc = JSON.parse(asJson.stdout) as {kind: string; images: Array<{original: string; digest: string; verdict: string}>}
    expect(doc.kind).toBe('PreflightResult')
    expect(schemaErrors('preflight', doc)).toEqual([])
    expect(JSON.parse(oJson.stdout)).toEqual(doc)
    expect(parse(oYaml.stdout)).toEqual(doc)
    expect(oYaml.stderr).toBe('')

    expect(oName.stdout).toBe(`${trust.reg.host}/team/app@${doc.images[0]?.digest}\n${trust.reg.host}/team/worker@${doc.images[1]?.digest}\n`)
    // The human report is still on stderr.
    expect(oName.stderr).toMatch(/Verdict: DENY/)

    expect(oWide.stdout).toBe('')
    const worker = doc.images.find((i) => i.original.endsWith('worker:2.0'))
    expect(oWide.stderr).toContain(
      `DENY  ${trust.reg.host}/team/worker:2.0@${worker?.digest}  (container worker, Deployment/worker, ns prod, sa deployer)  ${manifest}:`,
    )
    expect(oWide.stderr).toMatch(/default rule: REQUIRE_ATTESTATION/)
    expect(oWide.stderr).toMatch(/Verdict: DENY/)
  })
})

describe('policy explain -o', () => {
  it('-o yaml is the --json document (a rule shown twice is written twice, no YAML aliases); -o name is not a format here', async () => {
    const policy = join(ROOT, 'templates/example/policy.yaml')
    const [j, y, n] = await Promise.all([
      runCli(['policy', 'explain', policy, '--json']),
      runCli(['policy', 'explain', policy, '-o', 'yaml']),
      runCli(['policy', 'explain', policy, '-o', 'name']),
    ])
    expect([j.code, y.code, n.code]).toEqual([0, 0, 2])
    const doc = JSON.parse(j.stdout) as {kind: string}
    expect(doc.kind).toBe('PolicyExplanation')
    expect(schemaErrors('explain', doc)).toEqual([])
    expect(parse(y.stdout)).toEqual(doc)
    expect(y.stdout).not.toMatch(/[&*]a\d/)
    expect(n.stderr).toMatch(/one of: json, yaml/)
  })
})
