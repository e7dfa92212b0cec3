import {beforeAll, describe, expect, it} from '@jest/globals'
import {createPublicKey, sign as cryptoSign} from 'node:crypto'
import * as openpgp from 'openpgp'
import {ALGORITHMS} from '../../../../src/core/attestation/keys.js'
import {parseAttestor, parseOccurrences, decodeBase64Bytes} from '../../../../src/core/attestation/parse.js'
import {buildSignaturePayload} from '../../../../src/core/attestation/payload.js'
import {buildOccurrence, pemSigner, pgpSigner, type Signer} from '../../../../src/core/attestation/sign.js'
import type {AttestationOccurrence, AttestorPublicKey} from '../../../../src/core/attestation/types.js'
import {
  checkAttestor,
  JWT_UNSUPPORTED,
  NO_PUBLIC_KEYS,
  NO_VALID_ATTESTATIONS,
  TAG_OR_MALFORMED_DIGEST,
  verifyPkixSignature,
} from '../../../../src/core/attestation/verify.js'
import {attestor, DIGEST, IMAGE, NOTE, OTHER_DIGEST, pgpSample, pkixSamples, samples, testKey, utf8} from './helpers.js'

const occ = (o: Partial<AttestationOccurrence> & {signatures?: AttestationOccurrence['signatures']}): AttestationOccurrence => ({
  resourceUri: `https://${IMAGE}`,
  noteName: NOTE,
  serializedPayload: new Uint8Array(0),
  signatures: [],
  jwts: [],
  source: 'mem',
  index: 0,
  ...o,
})

describe('kritis PKIX vectors (verify_detached_test)', () => {
  it.each(pkixSamples.map((s) => [s.signatureAlgorithm!, s] as const))('%s verifies; tampered payload fails', (alg, s) => {
    const key = createPublicKey(s.publicKeyPem!)
    const spec = ALGORITHMS[alg]!
    const fromUrl = decodeBase64Bytes(s.signatureBase64Url)!
    const fromStd = decodeBase64Bytes(s.signatureBase64)!
    expect(Buffer.from(fromUrl).equals(Buffer.from(fromStd))).toBe(true)
    expect(verifyPkixSignature(key, spec, utf8(s.payloadUtf8!), fromUrl)).toBe(true)
    expect(verifyPkixSignature(key, spec, utf8(s.payloadUtf8! + '!'), fromUrl)).toBe(false)
    expect(verifyPkixSignature(key, spec, utf8('bad payload'), fromUrl)).toBe(false)
  })

  it.each(pkixSamples.map((s) => [s.signatureAlgorithm!, s] as const))(
    '%s through checkAttestor: signature verifies, then the non-JSON payload denies',
    async (alg, s) => {
      const a = attestor([{kind: 'pkix', id: s.defaultPkixKeyId!, publicKeyPem: s.publicKeyPem!, signatureAlgorithm: alg}])
      const r = await checkAttestor(
        a,
        [occ({serializedPayload: utf8(s.payloadUtf8!), signatures: [{publicKeyId: s.defaultPkixKeyId!, signature: decodeBase64Bytes(s.signatureBase64)!}]})],
        DIGEST,
      )
      expect(r.satisfied).toBe(false)
      expect(r.reason).toMatch(
        new RegExp(
          `^${NO_VALID_ATTESTATIONS} \\(mem#0: signature by key .* verifies, but: Signature verified, but unexpected message was signed: the payload is not JSON`,
        ),
      )
    },
  )
})

describe('kritis PGP attached signature', () => {
  const key: AttestorPublicKey = {kind: 'pgp', id: pgpSample.expectedKeyId!, asciiArmoredPgpPublicKey: pgpSample.asciiArmoredPgpPublicKey!}

  it('verifies (payload extracted; not JSON, so denied with that reason) and warns that the key has expired', async () => {
    const r = await checkAttestor(attestor([key]), [occ({signatures: [{publicKeyId: key.id, signature: utf8(pgpSample.armoredSignedMessage!)}]})], DIGEST)
    expect(r.satisfied).toBe(false)
    expect(r.checks[0]!.reason).toMatch(/^signature by key EE18BF76B63BE3B2B57DF36688BC30FC44D9AC5F verifies, but: .*not JSON.*This is the payload/)
    expect(r.warnings.join('\n')).toMatch(/PGP key EE18.* expired on 2022-04-23.*made on 2020-05-26/)
  })

  it('before the expiry: no warning; legacy pgpSignedAttestation form too', async () => {
    const r = await checkAttestor(attestor([key]), [occ({pgpSignedAttestation: {signature: pgpSample.armoredSignedMessage!, pgpKeyId: key.id}})], DIGEST, {
      now: new Date('2021-01-01T00:00:00Z'),
    })
    expect(r.checks[0]!.reason).toMatch(/verifies, but: .*not JSON/)
    expect(r.warnings).toEqual([])
  })
})

describe('derived samples end-to-end (parseAttestor + parseOccurrences + checkAttestor)', () => {
  const pkixDerived = samples.derivedSamples.filter((d) => d.attestor && d.occurrence)
  it.each(pkixDerived.map((d) => [d.name, d] as const))('%s → satisfied', async (_n, d) => {
    const a = parseAttestor(d.attestor, 'attestor.json')
    const occs = parseOccurrences(d.occurrence, 'occ.json')
    const r = await checkAttestor(a, occs, DIGEST)
    expect(r).toMatchObject({attestor: a.name, satisfied: true, warnings: []})
    expect(r.reason).toMatch(/^verified: occ\.json#0 signed by key ni:\/\/\/sha-256;/)
    const other = await checkAttestor(a, occs, OTHER_DIGEST)
    expect(other.satisfied).toBe(false)
    expect(other.checks[0]!.reason).toMatch(/for another digest/)
  })

  it('the P1363 re-encoding of the derived ECDSA signature does not verify', async () => {
    const d = samples.derivedSamples[1]!
    const a = parseAttestor(d.attestor, 'a')
    const [o] = parseOccurrences(d.occurrence, 'o')
    const der = o!.signatures[0]!.signature
    const p1363 = derToP1363(der, 32)
    const r = await checkAttestor(a, [{...o!, signatures: [{publicKeyId: o!.signatures[0]!.publicKeyId, signature: p1363}]}], DIGEST)
    expect(r.satisfied).toBe(false)
    expect(r.reason).toMatch(/does not verify .*ASN\.1 DER, not IEEE P1363/)
  })
})

function derToP1363(der: Uint8Array, size: number): Uint8Array {
  // SEQUENCE { INTEGER r, INTEGER s } (short form lengths for P-256)
  let i = 2
  const read = (): Uint8Array => {
    const len = der[i + 1]!
    const v = der.subarray(i + 2, i + 2 + len)
    i += 2 + len
    const trimmed = v[0] === 0 ? v.subarray(1) : v
    const out = new Uint8Array(size)
    out.set(trimmed, size - trimmed.length)
    return out
  }
  const r = read()
  const s = read()
  return new Uint8Array([...r, ...s])
}

describe('tamper matrix', () => {
  let good: Signer
  let goodKey: Extract<AttestorPublicKey, {kind: 'pkix'}>
  let otherKeyPem: string
  let pgpGood: Signer
  let pgpKey: AttestorPublicKey
  let pgpOther: Signer
  let rsa2048Pem: string

  beforeAll(async () => {
    const k = await testKey({ec: 'P-256'})
    good = pemSigner(k.privatePem, 'ECDSA_P256_SHA256', 'key-1')
    goodKey = {kind: 'pkix', id: 'key-1', publicKeyPem: k.publicPem, signatureAlgorithm: 'ECDSA_P256_SHA256'}
    otherKeyPem = (await testKey({ec: 'P-384'})).publicPem
    rsa2048Pem = (await testKey({rsa: 2048})).publicPem
    const pk = await openpgp.generateKey({userIDs: [{name: 'good'}], type: 'ecc', format: 'armored'})
    pgpGood = await pgpSigner(pk.privateKey)
    pgpKey = {kind: 'pgp', id: pgpGood.keyId, asciiArmoredPgpPublicKey: pk.publicKey}
    const ok = await openpgp.generateKey({userIDs: [{name: 'other'}], type: 'ecc', format: 'armored'})
    pgpOther = await pgpSigner(ok.privateKey)
  })

  const signed = async (
    signer: Signer,
    opts: {payload?: Uint8Array; image?: string; note?: string; keyId?: string; mangle?: (s: Uint8Array) => Uint8Array} = {},
  ): Promise<AttestationOccurrence[]> => {
    const payload = opts.payload ?? buildSignaturePayload(IMAGE)
    const sig = await signer.sign(payload)
    const rest = buildOccurrence({
      imageWithDigest: opts.image ?? IMAGE,
      noteName: opts.note ?? NOTE,
      payload,
      signature: opts.mangle ? opts.mangle(sig) : sig,
      keyId: opts.keyId ?? signer.keyId,
      pgp: signer.pgp === true,
    })
    return parseOccurrences([rest], 'occ.json')
  }

  it('baseline: valid', async () => {
    const r = await checkAttestor(attestor([goodKey]), await signed(good), DIGEST)
    expect(r.satisfied).toBe(true)
    expect(r.checks).toEqual([{occurrence: 'occ.json#0', valid: true, keyId: 'key-1', reason: `signed by key key-1; payload names ${DIGEST}`}])
  })

  const cases: Array<[string, () => Promise<{keys: AttestorPublicKey[]; occs: AttestationOccurrence[]; digest?: string}>, RegExp]> = [
    ['wrong key id', async () => ({keys: [goodKey], occs: await signed(good, {keyId: 'key-2'})}), /no key with id key-2 on the attestor \(signature skipped\)/],
    [
      'right id, wrong key',
      async () => ({keys: [{...goodKey, publicKeyPem: otherKeyPem, signatureAlgorithm: 'ECDSA_P384_SHA384'}], occs: await signed(good)}),
      /signature does not verify with key key-1 \(ECDSA_P384_SHA384\)/,
    ],
    [
      'wrong note',
      async () => ({keys: [goodKey], occs: await signed(good, {note: 'projects/p/notes/other'})}),
      /skipped: on note projects\/p\/notes\/other, not the attestor's note projects\/p\/notes\/n/,
    ],
    [
      'payload for another digest',
      async () => ({keys: [goodKey], occs: await signed(good, {payload: buildSignaturePayload(`gcr.io/kritis-project/kritis-server@${OTHER_DIGEST}`)})}),
      /verifies, but the payload is for another digest: it names sha256:cccc/,
    ],
    [
      'non-JSON payload',
      async () => ({keys: [goodKey], occs: await signed(good, {payload: utf8('good payload')})}),
      /Signature verified, but unexpected message was signed/,
    ],
    [
      'P1363 ECDSA',
      async () => ({
        keys: [goodKey],
        occs: await signed({
          keyId: 'key-1',
          sign: async (p) => cryptoSign('sha256', p, {key: (await testKey({ec: 'P-256'})).privateKey, dsaEncoding: 'ieee-p1363'}),
        }),
      }),
      /does not verify with key key-1 \(ECDSA_P256_SHA256\) \(ECDSA signatures must be ASN\.1 DER/,
    ],
    [
      'truncated signature',
      async () => ({keys: [goodKey], occs: await signed(good, {mangle: (s) => s.subarray(0, s.length - 4)})}),
      /signature does not verify with key key-1/,
    ],
    [
      'RSA key smaller than its declared algorithm',
      async () => ({keys: [{kind: 'pkix', id: 'key-1', publicKeyPem: rsa2048Pem, signatureAlgorithm: 'RSA_SIGN_PKCS1_4096_SHA256'}], occs: await signed(good)}),
      /key key-1 cannot be used: RSA_SIGN_PKCS1_4096_SHA256 needs an RSA 4096-bit key, got an RSA 2048-bit key/,
    ],
    [
      'ML_DSA_65 key',
      async () => ({keys: [{...goodKey, signatureAlgorithm: 'ML_DSA_65'}], occs: await signed(good)}),
      /key key-1 cannot be used: signature algorithm ML_DSA_65 is unsupported/,
    ],
    [
      'PGP signature by a different key',
      async () => ({keys: [pgpKey], occs: await signed(pgpOther, {keyId: pgpKey.id})}),
      /PGP signature does not verify with key [0-9A-F]{40}: Could not find signing key/,
    ],
    ['JWT-only attestation', async () => ({keys: [goodKey], occs: [occ({jwts: ['a.b.c']})]}), new RegExp(JWT_UNSUPPORTED.replace(/[()]/g, '\\$&'))],
    [
      'occurrence for another digest',
      async () => ({keys: [goodKey], occs: await signed(good, {image: `gcr.io/kritis-project/kritis-server@${OTHER_DIGEST}`})}),
      /skipped: for another digest \(sha256:cccc/,
    ],
    [
      'detached PGP signature',
      async () => ({
        keys: [pgpKey],
        occs: [occ({signatures: [{publicKeyId: pgpKey.id, signature: utf8('-----BEGIN PGP SIGNATURE-----\n\nxx\n-----END PGP SIGNATURE-----\n')}]})],
      }),
      /detached PGP signatures are not supported/,
    ],
  ]

  it.each(cases)('%s → denied, reason named', async (_n, make, re) => {
    const {keys, occs, digest} = await make()
    const r = await checkAttestor(attestor(keys), occs, digest ?? DIGEST)
    expect(r.satisfied).toBe(false)
    expect(r.reason.startsWith(NO_VALID_ATTESTATIONS)).toBe(true)
    expect(r.reason).toMatch(re)
    expect(r.cause).toMatch(re)
    expect(r.checks.some((c) => re.test(c.reason))).toBe(true)
  })

  it('extra fields and optional in the payload → still valid', async () => {
    const payload = utf8(
      JSON.stringify({
        critical: {
          identity: {'docker-reference': 'elsewhere.io/x/y'},
          image: {'docker-manifest-digest': DIGEST},
          type: 'atomic container signature',
          extra: true,
        },
        optional: {creator: 'ci'},
      }),
    )
    const r = await checkAttestor(attestor([goodKey]), await signed(good, {payload}), DIGEST)
    expect(r.satisfied).toBe(true)
  })

  it('PGP round trip through buildOccurrence → valid', async () => {
    const r = await checkAttestor(attestor([pgpKey]), await signed(pgpGood), DIGEST)
    expect(r.satisfied).toBe(true)
    expect(r.warnings).toEqual([])
  })

  it('expired PGP key (signature made before expiry) → valid with a warning', async () => {
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
    const occs = parseOccurrences([buildOccurrence({imageWithDigest: IMAGE, noteName: NOTE, payload, signature: utf8(armored), keyId: id, pgp: true})], 'o')
    const r = await checkAttestor(attestor([{kind: 'pgp', id, asciiArmoredPgpPublicKey: k.publicKey}]), occs, DIGEST)
    expect(r.satisfied).toBe(true)
    expect(r.warnings.join('\n')).toMatch(new RegExp(`PGP key ${id} expired on .*predates the expiry and is accepted`))
  })

  it('duplicate key ids, one bad and one good → valid (warned)', async () => {
    const bad: AttestorPublicKey = {...goodKey, publicKeyPem: otherKeyPem, signatureAlgorithm: 'ECDSA_P384_SHA384'}
    const r = await checkAttestor(attestor([bad, goodKey]), await signed(good), DIGEST)
    expect(r.satisfied).toBe(true)
    expect(r.warnings.join('\n')).toMatch(/several keys with id key-1/)
  })

  it('duplicate key ids, both bad → both reasons reported', async () => {
    const bad: AttestorPublicKey = {...goodKey, publicKeyPem: otherKeyPem, signatureAlgorithm: 'ECDSA_P384_SHA384'}
    const r = await checkAttestor(attestor([bad, {...bad}]), await signed(good), DIGEST)
    expect(r.satisfied).toBe(false)
    expect(r.checks[0]!.reason).toMatch(/key #1 with id key-1: .*; key #2 with id key-1: /)
  })

  it('empty key list → never satisfied', async () => {
    const r = await checkAttestor(attestor([]), await signed(good), DIGEST)
    expect(r).toMatchObject({satisfied: false, reason: NO_PUBLIC_KEYS})
  })

  it('tag or malformed digest → GKE reason', async () => {
    const r = await checkAttestor(attestor([goodKey]), await signed(good), 'latest')
    expect(r).toMatchObject({satisfied: false, reason: TAG_OR_MALFORMED_DIGEST})
  })

  it('no occurrences → the plain GKE wording', async () => {
    const r = await checkAttestor(attestor([goodKey]), [], DIGEST)
    expect(r).toEqual({attestor: 'projects/p/attestors/a', satisfied: false, reason: NO_VALID_ATTESTATIONS, checks: [], warnings: []})
  })

  it('the most useful cause wins: a bad signature beats an occurrence on another note', async () => {
    const occs = [...(await signed(good, {note: 'projects/p/notes/other'})), ...(await signed(good, {mangle: (s) => s.subarray(1)}))]
    const r = await checkAttestor(attestor([goodKey]), occs, DIGEST)
    expect(r.cause).toMatch(/does not verify/)
    expect(r.checks).toHaveLength(2)
  })

  it('one valid signature among several (unknown id first) is enough', async () => {
    const [o] = await signed(good)
    const withTwo = {...o!, signatures: [{publicKeyId: 'nope', signature: new Uint8Array([1])}, ...o!.signatures]}
    const r = await checkAttestor(attestor([goodKey]), [withTwo], DIGEST)
    expect(r.satisfied).toBe(true)
    expect(r.checks.map((c) => c.valid)).toEqual([false, true])
  })
})
