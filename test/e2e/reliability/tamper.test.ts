/**
 * Tamper matrix through the CLI: `preflight --policy … --attestors DIR --attestations DIR --image
 * REF@sha256:…` with attestor and attestation JSON files exactly as gcloud writes them, one
 * tampering per case. Every tampered case denies with the reason named (exit 5), or refuses the
 * trust material itself (exit 7); the only ALLOWs are the baseline, extra payload fields, the
 * expired-PGP-key case (valid + warning, as the spec says) and a duplicate key id whose other key
 * verifies (valid + warning). Core-level versions: test/unit/core/attestation/verify.test.ts.
 *
 * Rerun: npm run build:dist && npm run jest -- test/e2e/reliability/tamper
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {createHash, generateKeyPairSync, sign as cryptoSign, type KeyObject} from 'node:crypto'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as openpgp from 'openpgp'
import {buildSignaturePayload} from '../../../src/core/attestation/payload.js'
import {buildOccurrence, pemSigner, pgpSigner, type Signer} from '../../../src/core/attestation/sign.js'
import {JWT_UNSUPPORTED, NO_VALID_ATTESTATIONS} from '../../../src/core/attestation/verify.js'
import {runCli} from '../../support/cli.js'
import {defaultKeyId, requireAttestationPolicy} from '../../support/trust.js'
import {mdTable, saveFigures} from './helpers.js'

const PROJECT = 'test-proj'
const ATTESTOR = `projects/${PROJECT}/attestors/signer`
const NOTE = `projects/${PROJECT}/notes/signer`
const DIGEST = 'sha256:' + createHash('sha256').update('tamper-image').digest('hex')
const OTHER_DIGEST = 'sha256:' + createHash('sha256').update('another-image').digest('hex')
const IMAGE = `registry.example/tamper/app@${DIGEST}`
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

type PubKey = {id: string; pkixPublicKey: {publicKeyPem: string; signatureAlgorithm: string}} | {id: string; asciiArmoredPgpPublicKey: string}
interface Built {
  keys: PubKey[]
  occurrences: object[]
}
interface Case {
  name: string
  build: () => Promise<Built>
  exit: number
  /** ALLOW / ALLOW with a warning / DENY / trust material refused. */
  expect: 'ALLOW' | 'DENY' | 'INVALID'
  reason: RegExp
}

let dir: string
let ec: {privateKey: KeyObject; publicPem: string; id: string; signer: Signer}
let otherEcPem: string
let rsa2048: {privatePem: string; publicPem: string}
let pgpGood: {signer: Signer; publicKey: string}
let pgpOther: {signer: Signer; publicKey: string}
const rows: Array<[string, string, number, string, string]> = []

const pem = (k: KeyObject, type: 'spki' | 'pkcs8'): string => k.export({type, format: 'pem'}).toString()
const pkix = (id: string, publicKeyPem: string, signatureAlgorithm = 'ECDSA_P256_SHA256'): PubKey => ({id, pkixPublicKey: {publicKeyPem, signatureAlgorithm}})

async function occurrence(
  signer: Signer,
  o: {payload?: Uint8Array; image?: string; note?: string; keyId?: string; mangle?: (s: Uint8Array) => Uint8Array; signedPayload?: Uint8Array} = {},
): Promise<object> {
  const payload = o.payload ?? buildSignaturePayload(IMAGE)
  const sig = await signer.sign(o.signedPayload ?? payload)
  return buildOccurrence({
    imageWithDigest: o.image ?? IMAGE,
    noteName: o.note ?? NOTE,
    payload,
    signature: o.mangle ? o.mangle(sig) : sig,
    keyId: o.keyId ?? signer.keyId,
    pgp: signer.pgp === true,
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sd-tamper-'))
  const k = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  const publicPem = pem(k.publicKey, 'spki')
  const id = defaultKeyId(publicPem)
  ec = {privateKey: k.privateKey, publicPem, id, signer: pemSigner(pem(k.privateKey, 'pkcs8'), 'ECDSA_P256_SHA256', id)}
  otherEcPem = pem(generateKeyPairSync('ec', {namedCurve: 'P-256'}).publicKey, 'spki')
  const r = generateKeyPairSync('rsa', {modulusLength: 2048})
  rsa2048 = {privatePem: pem(r.privateKey, 'pkcs8'), publicPem: pem(r.publicKey, 'spki')}
  const g = await openpgp.generateKey({userIDs: [{name: 'good'}], type: 'ecc', format: 'armored'})
  pgpGood = {signer: await pgpSigner(g.privateKey), publicKey: g.publicKey}
  const o = await openpgp.generateKey({userIDs: [{name: 'other'}], type: 'ecc', format: 'armored'})
  pgpOther = {signer: await pgpSigner(o.privateKey), publicKey: o.publicKey}
}, 60_000)

afterAll(() => {
  if (rows.length === 0) return
  const table = mdTable(['tamper case', 'expected', 'exit', 'verdict', 'reason named (CLI output)'], rows)
  const file = saveFigures('tamper', rows)
  console.log(`TAMPER MATRIX (${rows.length} cases; saved to ${file})\n\n${table}\n`)
})

const CASES: Case[] = [
  {
    name: 'baseline (untampered)',
    build: async () => ({keys: [pkix(ec.id, ec.publicPem)], occurrences: [await occurrence(ec.signer)]}),
    exit: 0,
    expect: 'ALLOW',
    reason: /signed by key/,
  },
  {
    name: 'wrong key id',
    build: async () => ({keys: [pkix(ec.id, ec.publicPem)], occurrences: [await occurrence(ec.signer, {keyId: 'ni:///sha-256;not-the-key'})]}),
    exit: 5,
    expect: 'DENY',
    reason: /no key with id ni:\/\/\/sha-256;not-the-key on the attestor/,
  },
  {
    name: 'right key id, wrong key',
    build: async () => ({keys: [pkix(ec.id, otherEcPem)], occurrences: [await occurrence(ec.signer)]}),
    exit: 5,
    expect: 'DENY',
    reason: /signature does not verify with key/,
  },
  {
    name: 'wrong note',
    build: async () => ({keys: [pkix(ec.id, ec.publicPem)], occurrences: [await occurrence(ec.signer, {note: `projects/${PROJECT}/notes/other`})]}),
    exit: 5,
    expect: 'DENY',
    reason: /on note projects\/test-proj\/notes\/other, not the attestor's note/,
  },
  {
    name: 'payload for another digest',
    build: async () => ({
      keys: [pkix(ec.id, ec.publicPem)],
      occurrences: [await occurrence(ec.signer, {payload: buildSignaturePayload(`registry.example/tamper/app@${OTHER_DIGEST}`)})],
    }),
    exit: 5,
    expect: 'DENY',
    reason: /payload is for another digest/,
  },
  {
    name: 'payload altered after signing',
    build: async () => ({
      keys: [pkix(ec.id, ec.publicPem)],
      occurrences: [await occurrence(ec.signer, {signedPayload: buildSignaturePayload(`registry.example/tamper/app@${OTHER_DIGEST}`)})],
    }),
    exit: 5,
    expect: 'DENY',
    reason: /signature does not verify with key/,
  },
  {
    name: 'occurrence for another digest',
    build: async () => ({
      keys: [pkix(ec.id, ec.publicPem)],
      occurrences: [
        await occurrence(ec.signer, {
          image: `registry.example/tamper/app@${OTHER_DIGEST}`,
          payload: buildSignaturePayload(`registry.example/tamper/app@${OTHER_DIGEST}`),
        }),
      ],
    }),
    exit: 5,
    expect: 'DENY',
    reason: /No attestations found/,
  },
  {
    name: 'non-JSON payload',
    build: async () => ({keys: [pkix(ec.id, ec.publicPem)], occurrences: [await occurrence(ec.signer, {payload: utf8('good payload')})]}),
    exit: 5,
    expect: 'DENY',
    reason: /unexpected message was signed/,
  },
  {
    name: 'extra fields in the payload (the one non-deny)',
    exit: 0,
    expect: 'ALLOW',
    reason: /signed by key/,
    build: async () => ({
      keys: [pkix(ec.id, ec.publicPem)],
      occurrences: [
        await occurrence(ec.signer, {
          payload: utf8(
            JSON.stringify({
              critical: {
                identity: {'docker-reference': 'registry.example/tamper/app'},
                image: {'docker-manifest-digest': DIGEST},
                type: 'Google cloud binauthz container signature',
                extra: 'x',
              },
              optional: {creator: 'ci'},
            }),
          ),
        }),
      ],
    }),
  },
  {
    name: 'P1363 (raw r||s) ECDSA signature',
    exit: 5,
    expect: 'DENY',
    reason: /ASN\.1 DER/,
    build: async () => ({
      keys: [pkix(ec.id, ec.publicPem)],
      occurrences: [await occurrence({keyId: ec.id, sign: async (p) => cryptoSign('sha256', p, {key: ec.privateKey, dsaEncoding: 'ieee-p1363'})})],
    }),
  },
  {
    name: 'truncated signature',
    build: async () => ({keys: [pkix(ec.id, ec.publicPem)], occurrences: [await occurrence(ec.signer, {mangle: (s) => s.subarray(0, s.length - 4)})]}),
    exit: 5,
    expect: 'DENY',
    reason: /signature does not verify with key/,
  },
  {
    name: 'RSA 2048 key declared RSA_SIGN_PKCS1_4096_SHA256',
    exit: 7,
    expect: 'INVALID',
    reason: /RSA_SIGN_PKCS1_4096_SHA256 needs an RSA 4096-bit key, got an RSA 2048-bit key/,
    build: async () => {
      const id = defaultKeyId(rsa2048.publicPem)
      return {
        keys: [pkix(id, rsa2048.publicPem, 'RSA_SIGN_PKCS1_4096_SHA256')],
        occurrences: [await occurrence(pemSigner(rsa2048.privatePem, 'RSA_SIGN_PKCS1_2048_SHA256', id))],
      }
    },
  },
  {
    name: 'PGP signature by a different key',
    build: async () => ({
      keys: [{id: pgpGood.signer.keyId, asciiArmoredPgpPublicKey: pgpGood.publicKey}],
      occurrences: [await occurrence(pgpOther.signer, {keyId: pgpGood.signer.keyId})],
    }),
    exit: 5,
    expect: 'DENY',
    reason: /PGP signature does not verify with key [0-9A-F]{40}/,
  },
  {
    name: 'expired PGP key, signature made before expiry (spec: valid + warning)',
    exit: 0,
    expect: 'ALLOW',
    reason: /expired on .*predates the expiry and is accepted/,
    build: async () => {
      const created = new Date(Date.now() - 3 * 86400_000)
      const k = await openpgp.generateKey({userIDs: [{name: 'exp'}], type: 'ecc', format: 'armored', date: created, keyExpirationTime: 86400})
      const priv = await openpgp.readPrivateKey({armoredKey: k.privateKey})
      const payload = buildSignaturePayload(IMAGE)
      const armored = await openpgp.sign({
        message: await openpgp.createMessage({binary: payload}),
        signingKeys: priv,
        date: new Date(created.getTime() + 3600_000),
        format: 'armored',
      })
      const id = priv.getFingerprint().toUpperCase()
      return {
        keys: [{id, asciiArmoredPgpPublicKey: k.publicKey}],
        occurrences: [buildOccurrence({imageWithDigest: IMAGE, noteName: NOTE, payload, signature: utf8(armored), keyId: id, pgp: true})],
      }
    },
  },
  {
    name: 'duplicate key ids, neither key verifies',
    build: async () => ({keys: [pkix(ec.id, otherEcPem), pkix(ec.id, otherEcPem)], occurrences: [await occurrence(ec.signer)]}),
    exit: 5,
    expect: 'DENY',
    reason: /key #1 with id .*; key #2 with id /,
  },
  {
    name: 'duplicate key ids, the second verifies (valid + warning)',
    build: async () => ({keys: [pkix(ec.id, otherEcPem), pkix(ec.id, ec.publicPem)], occurrences: [await occurrence(ec.signer)]}),
    exit: 0,
    expect: 'ALLOW',
    reason: /several keys with id/,
  },
  {
    name: 'JWT-only attestation',
    exit: 5,
    expect: 'DENY',
    reason: new RegExp(JWT_UNSUPPORTED.replace(/[()]/g, '\\$&')),
    build: async () => ({
      keys: [pkix(ec.id, ec.publicPem)],
      occurrences: [
        {
          name: `projects/${PROJECT}/occurrences/jwt`,
          resourceUri: `https://${IMAGE}`,
          noteName: NOTE,
          kind: 'ATTESTATION',
          attestation: {serializedPayload: '', jwts: [{compactJwt: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'}]},
        },
      ],
    }),
  },
  {
    name: 'signature base64 garbage',
    build: async () => ({keys: [pkix(ec.id, ec.publicPem)], occurrences: [await occurrence(ec.signer, {mangle: () => utf8('not a signature at all')})]}),
    exit: 5,
    expect: 'DENY',
    reason: /does not verify/,
  },
]

describe('tamper matrix through the CLI (preflight --attestors DIR --attestations DIR)', () => {
  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s',
    async (_n, c) => {
      const d = join(dir, c.name.replace(/[^a-z0-9]+/gi, '-'))
      mkdirSync(join(d, 'attestors'), {recursive: true})
      mkdirSync(join(d, 'attestations'), {recursive: true})
      const {keys, occurrences} = await c.build()
      writeFileSync(
        join(d, 'attestors', 'signer.json'),
        JSON.stringify({name: ATTESTOR, updateTime: '2026-11-01T00:00:00Z', userOwnedGrafeasNote: {noteReference: NOTE, publicKeys: keys}}, null, 2),
      )
      writeFileSync(join(d, 'attestations', 'occurrences.json'), JSON.stringify(occurrences, null, 2))
      writeFileSync(join(d, 'policy.yaml'), requireAttestationPolicy([ATTESTOR]))
      const args = [
        'preflight',
        '--image',
        IMAGE,
        '--policy',
        join(d, 'policy.yaml'),
        '--attestors',
        join(d, 'attestors'),
        '--attestations',
        join(d, 'attestations'),
        '--platform',
        'cloudrun',
      ]
      const [json, text] = await Promise.all([runCli([...args, '--json']), runCli(args)])
      expect({exit: json.code, stderr: json.code === c.exit ? '' : json.stderr + json.stdout}).toEqual({exit: c.exit, stderr: ''})
      expect(text.code).toBe(c.exit)
      const all = text.stdout + text.stderr
      if (c.expect !== 'ALLOW') expect(all).toMatch(c.reason)
      else if (/warning/.test(c.name)) expect(all).toMatch(new RegExp(`warning: .*${c.reason.source}`))
      else expect(all).toMatch(/^ok .*: valid attestation by projects\/test-proj\/attestors\/signer$/m)
      let verdict: string
      let named: string
      if (c.expect === 'INVALID') {
        const j = JSON.parse(json.stdout) as {error: {code: string; message: string}}
        expect(j.error.code).toMatch(/ATTESTOR_INVALID|KEY_INVALID/)
        verdict = `refused: ${j.error.code}`
        named = j.error.message
      } else {
        const j = JSON.parse(json.stdout) as {
          verdict: string
          images: Array<{
            verdict: string
            attestors?: Array<{satisfied: boolean; reason: string; details?: {cause?: string; warnings?: string[]; checks?: Array<{reason: string}>}}>
          }>
        }
        verdict = j.verdict
        expect(j.verdict).toBe(c.expect)
        const a = j.images[0]?.attestors?.[0]
        expect(a).toBeDefined()
        if (c.expect === 'DENY') {
          expect(a!.satisfied).toBe(false)
          expect(a!.reason.startsWith(NO_VALID_ATTESTATIONS)).toBe(true)
          named = a!.details?.cause ?? a!.reason
        } else {
          expect(a!.satisfied).toBe(true)
          named = [a!.details?.checks?.find((x) => /signed by key/.test(x.reason))?.reason ?? '', ...(a!.details?.warnings ?? []).map((w) => `warning: ${w}`)]
            .filter(Boolean)
            .join('; ')
        }
        expect(JSON.stringify(j)).toMatch(c.reason)
      }
      // For the table: drop the temp directory and the occurrence file name, shorten key ids.
      named = named
        .replace(/\/tmp\/sd-tamper-[^/]+\/[^/]+\/(attestations|attestors)\//g, '')
        .replace(/(ni:\/\/\/sha-256;)[\w-]{43}/g, '$1…')
        .replace(/\b([0-9A-F]{8})[0-9A-F]{32}\b/g, '$1…')
      rows.push([
        c.name,
        c.expect === 'INVALID' ? 'attestor refused (exit 7)' : c.expect,
        c.exit,
        verdict,
        named.length > 220 ? named.slice(0, 217) + '…' : named,
      ])
    },
    60_000,
  )
})
