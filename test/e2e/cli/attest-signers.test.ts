/**
 * `attest` then `preflight` gives ALLOW for each signer and algorithm, through the built CLI:
 * local PEM keys for every PKIX family/size, a PGP key (openpgp), and a signature made elsewhere
 * (`attest payload` → openssl → `--signature-file`). A key the attestor does not trust is refused
 * before anything is stored.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {execFileSync} from 'node:child_process'
import {generateKeyPairSync, createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as openpgp from 'openpgp'
import {startRegistry, type TestRegistry} from '../../support/registry.js'
import {runCli} from '../../support/cli.js'
import {requireAttestationPolicy} from '../../support/trust.js'

let reg: TestRegistry
let dir: string

beforeAll(async () => {
  reg = await startRegistry()
  dir = mkdtempSync(join(tmpdir(), 'sd-signers-'))
}, 60_000)
afterAll(async () => {
  await reg?.stop()
})

function keyId(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
  return 'ni:///sha-256;' + createHash('sha256').update(der).digest('base64url')
}

interface Case {
  name: string
  algorithm: string
  gen: () => {privateKey: import('node:crypto').KeyObject; publicKey: import('node:crypto').KeyObject}
}

const CASES: Case[] = [
  {name: 'ecdsa-p256', algorithm: 'ECDSA_P256_SHA256', gen: () => generateKeyPairSync('ec', {namedCurve: 'P-256'})},
  {name: 'ecdsa-p384', algorithm: 'EC_SIGN_P384_SHA384', gen: () => generateKeyPairSync('ec', {namedCurve: 'P-384'})},
  {name: 'ecdsa-p521', algorithm: 'ECDSA_P521_SHA512', gen: () => generateKeyPairSync('ec', {namedCurve: 'P-521'})},
  {name: 'rsa-pkcs1-2048', algorithm: 'RSA_SIGN_PKCS1_2048_SHA256', gen: () => generateKeyPairSync('rsa', {modulusLength: 2048})},
  {name: 'rsa-pkcs1-3072', algorithm: 'RSA_SIGN_PKCS1_3072_SHA256', gen: () => generateKeyPairSync('rsa', {modulusLength: 3072})},
  {name: 'rsa-pkcs1-4096-sha512', algorithm: 'RSA_SIGN_PKCS1_4096_SHA512', gen: () => generateKeyPairSync('rsa', {modulusLength: 4096})},
  {name: 'rsa-pss-2048', algorithm: 'RSA_PSS_2048_SHA256', gen: () => generateKeyPairSync('rsa', {modulusLength: 2048})},
  {name: 'rsa-pss-4096-sha512', algorithm: 'RSA_SIGN_PSS_4096_SHA512', gen: () => generateKeyPairSync('rsa', {modulusLength: 4096})},
]

function writeAttestor(d: string, name: string, key: Record<string, unknown>): string {
  mkdirSync(join(d, 'attestors'), {recursive: true})
  mkdirSync(join(d, 'atts'), {recursive: true})
  const full = `projects/sign-proj/attestors/${name}`
  writeFileSync(
    join(d, 'attestors', `${name}.json`),
    JSON.stringify({name: full, userOwnedGrafeasNote: {noteReference: `projects/sign-proj/notes/${name}`, publicKeys: [key]}}),
  )
  writeFileSync(join(d, 'policy.yaml'), requireAttestationPolicy([full]))
  return full
}

async function attestThenPreflight(d: string, attestor: string, repo: string, signer: string[]): Promise<void> {
  await reg.pushImage(repo, 'v1', {seed: repo})
  const image = `${reg.host}/${repo}:v1`
  const common = ['--insecure-registry', reg.host]
  const before = await runCli([
    'preflight',
    '--image',
    image,
    '--policy',
    join(d, 'policy.yaml'),
    '--attestors',
    join(d, 'attestors'),
    '--attestations',
    join(d, 'atts'),
    ...common,
  ])
  expect(before.code).toBe(5)
  const a = await runCli([
    'attest',
    '--image',
    image,
    '--attestor',
    attestor,
    '--attestors',
    join(d, 'attestors'),
    '--output-dir',
    join(d, 'atts'),
    ...signer,
    ...common,
  ])
  expect(a.stderr).toMatch(/attested:/)
  expect(a.code).toBe(0)
  const after = await runCli([
    'preflight',
    '--image',
    image,
    '--policy',
    join(d, 'policy.yaml'),
    '--attestors',
    join(d, 'attestors'),
    '--attestations',
    join(d, 'atts'),
    ...common,
    '--json',
  ])
  expect(JSON.parse(after.stdout).verdict).toBe('ALLOW')
  expect(after.code).toBe(0)
}

describe('attest then preflight: ALLOW for each signer and algorithm', () => {
  it.each(CASES)('--private-key $name ($algorithm)', async ({name, algorithm, gen}) => {
    const d = join(dir, name)
    const {privateKey, publicKey} = gen()
    const pem = publicKey.export({type: 'spki', format: 'pem'}).toString()
    const attestor = writeAttestor(d, name, {id: keyId(pem), pkixPublicKey: {publicKeyPem: pem, signatureAlgorithm: algorithm}})
    writeFileSync(join(d, 'key.pem'), privateKey.export({type: 'pkcs8', format: 'pem'}).toString())
    await attestThenPreflight(d, attestor, `sig/${name}`, ['--private-key', join(d, 'key.pem')])
  })

  it('--pgp-key (openpgp attached signature; key id = V4 fingerprint)', async () => {
    const d = join(dir, 'pgp')
    const {privateKey, publicKey} = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{name: 'ci', email: 'ci@example.com'}],
      format: 'armored',
    })
    const fpr = (await openpgp.readKey({armoredKey: publicKey})).getFingerprint().toUpperCase()
    const attestor = writeAttestor(d, 'pgp', {id: fpr, asciiArmoredPgpPublicKey: publicKey})
    writeFileSync(join(d, 'key.asc'), privateKey)
    await attestThenPreflight(d, attestor, 'sig/pgp', ['--pgp-key', join(d, 'key.asc')])
  })

  it('--signature-file: `attest payload` signed with openssl elsewhere, then stored', async () => {
    const d = join(dir, 'external')
    const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
    const pem = publicKey.export({type: 'spki', format: 'pem'}).toString()
    const attestor = writeAttestor(d, 'external', {id: 'external-ci-key', pkixPublicKey: {publicKeyPem: pem, signatureAlgorithm: 'ECDSA_P256_SHA256'}})
    writeFileSync(join(d, 'key.pem'), privateKey.export({type: 'pkcs8', format: 'pem'}).toString())
    const digest = (await reg.pushImage('sig/external', 'v1', {seed: 'sig/external'})).digest
    const p = await runCli(['attest', 'payload', '--image', `${reg.host}/sig/external@${digest}`])
    expect(p.code).toBe(0)
    expect(p.stdout).toBe(
      `{\n  "critical": {\n    "identity": {\n      "docker-reference": "${reg.host}/sig/external"\n    },\n    "image": {\n      "docker-manifest-digest": "${digest}"\n    },\n    "type": "Google cloud binauthz container signature"\n  }\n}\n`,
    )
    writeFileSync(join(d, 'payload.json'), p.stdout)
    execFileSync('openssl', ['dgst', '-sha256', '-sign', join(d, 'key.pem'), '-out', join(d, 'sig.bin'), join(d, 'payload.json')])
    await attestThenPreflight(d, attestor, 'sig/external', ['--signature-file', join(d, 'sig.bin'), '--public-key-id', 'external-ci-key'])
  })

  it('refuses a key the attestor does not trust, and a signature that does not verify; nothing is stored', async () => {
    const d = join(dir, 'untrusted')
    const trusted = generateKeyPairSync('ec', {namedCurve: 'P-256'})
    const other = generateKeyPairSync('ec', {namedCurve: 'P-256'})
    const pem = trusted.publicKey.export({type: 'spki', format: 'pem'}).toString()
    const attestor = writeAttestor(d, 'untrusted', {id: keyId(pem), pkixPublicKey: {publicKeyPem: pem, signatureAlgorithm: 'ECDSA_P256_SHA256'}})
    writeFileSync(join(d, 'other.pem'), other.privateKey.export({type: 'pkcs8', format: 'pem'}).toString())
    await reg.pushImage('sig/untrusted', 'v1')
    const image = `${reg.host}/sig/untrusted:v1`
    const base = [
      'attest',
      '--image',
      image,
      '--attestor',
      attestor,
      '--attestors',
      join(d, 'attestors'),
      '--output-dir',
      join(d, 'atts'),
      '--insecure-registry',
      reg.host,
    ]
    const wrongKey = await runCli([...base, '--private-key', join(d, 'other.pem')])
    expect(wrongKey.code).toBe(7)
    expect(wrongKey.stderr).toMatch(/KEY_INVALID/)
    // Claiming the trusted key's id with the wrong key: the local verification refuses it.
    const spoof = await runCli([...base, '--private-key', join(d, 'other.pem'), '--public-key-id', keyId(pem)])
    expect(spoof.code).toBe(7)
    expect(spoof.stderr).toMatch(/SIGNATURE_INVALID|would not be accepted/)
    expect(readdirSync(join(d, 'atts'))).toEqual([])
    // A tag that cannot be pinned is refused: nothing signed.
    const nope = await runCli([...base.map((a) => (a === image ? `${reg.host}/sig/untrusted:nope` : a)), '--private-key', join(d, 'other.pem')])
    expect(nope.code).toBe(4)
    expect(readdirSync(join(d, 'atts'))).toEqual([])
  })
})
