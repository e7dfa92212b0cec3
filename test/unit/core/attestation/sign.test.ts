import {beforeAll, describe, expect, it} from '@jest/globals'
import {createHash, sign as cryptoSign} from 'node:crypto'
import * as openpgp from 'openpgp'
import {ALGORITHMS, defaultPkixKeyId} from '../../../../src/core/attestation/keys.js'
import {parseOccurrences} from '../../../../src/core/attestation/parse.js'
import {buildSignaturePayload} from '../../../../src/core/attestation/payload.js'
import {buildOccurrence, kmsSigner, pemSigner, pgpSigner, type KmsPort, type Signer} from '../../../../src/core/attestation/sign.js'
import type {AttestorPublicKey} from '../../../../src/core/attestation/types.js'
import {checkAttestor} from '../../../../src/core/attestation/verify.js'
import {attestor, DIGEST, IMAGE, NOTE, testKey, text, type TestKey} from './helpers.js'

const keySpecFor = (alg: string): {ec: 'P-256' | 'P-384' | 'P-521'} | {rsa: number} => {
  const s = ALGORITHMS[alg]!
  return s.family === 'ecdsa' ? {ec: s.curve} : {rsa: s.bits}
}

async function roundTrip(signer: Signer, key: AttestorPublicKey, image = IMAGE): Promise<boolean> {
  const payload = buildSignaturePayload(image)
  const signature = await signer.sign(payload)
  const rest = buildOccurrence({imageWithDigest: image, noteName: NOTE, payload, signature, keyId: signer.keyId, pgp: signer.pgp === true})
  const r = await checkAttestor(attestor([key]), parseOccurrences(JSON.parse(JSON.stringify(rest)), 'rt'), DIGEST)
  if (!r.satisfied) throw new Error(r.reason)
  return r.satisfied
}

describe('pemSigner: sign-then-verify for every algorithm name', () => {
  beforeAll(async () => {
    await Promise.all([{ec: 'P-256'}, {ec: 'P-384'}, {ec: 'P-521'}, {rsa: 2048}, {rsa: 3072}, {rsa: 4096}].map((s) => testKey(s as never)))
  }, 120_000)

  it.each(Object.keys(ALGORITHMS))('%s', async (alg) => {
    const k = await testKey(keySpecFor(alg))
    const signer = pemSigner(k.privatePem, alg)
    expect(signer.keyId).toBe(defaultPkixKeyId(k.publicPem))
    expect(signer.algorithm).toBe(alg)
    await expect(roundTrip(signer, {kind: 'pkix', id: signer.keyId, publicKeyPem: k.publicPem, signatureAlgorithm: alg})).resolves.toBe(true)
  })

  it('RSA-PSS uses salt = digest length (verifies with a fixed 32-byte salt)', async () => {
    const k = await testKey({rsa: 2048})
    const sig = await pemSigner(k.privatePem, 'RSA_PSS_2048_SHA256').sign(new TextEncoder().encode('x'))
    const {verify, constants} = await import('node:crypto')
    expect(verify('sha256', new TextEncoder().encode('x'), {key: k.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32}, sig)).toBe(true)
  })

  it('ECDSA signatures are DER', async () => {
    const sig = await pemSigner((await testKey({ec: 'P-256'})).privatePem, 'EC_SIGN_P256_SHA256', 'id').sign(new Uint8Array([1]))
    expect(sig[0]).toBe(0x30)
  })

  it.each([
    ['key vs algorithm mismatch', async () => (await testKey({ec: 'P-256'})).privatePem, 'ECDSA_P384_SHA384', /needs an EC P-384 key, got an EC P-256 key/],
    ['RSA smaller than declared', async () => (await testKey({rsa: 2048})).privatePem, 'RSA_SIGN_PKCS1_4096_SHA256', /4096-bit/],
    ['unknown algorithm', async () => (await testKey({ec: 'P-256'})).privatePem, 'EC_SIGN_ED25519', /unknown/],
    ['not a private key', async () => 'nope', 'ECDSA_P256_SHA256', /not a PEM private key/],
  ])('%s → KEY_INVALID', async (_n, pem, alg, re) => {
    const p = await pem()
    expect(() => pemSigner(p, alg)).toThrowWithCode('KEY_INVALID', re)
  })
})

describe('pgpSigner', () => {
  it('attached ASCII-armored signature, keyId = primary fingerprint; round trip', async () => {
    const k = await openpgp.generateKey({userIDs: [{name: 'ci'}], type: 'ecc', format: 'armored'})
    const signer = await pgpSigner(k.privateKey)
    const key = await openpgp.readKey({armoredKey: k.publicKey})
    expect(signer.keyId).toBe(key.getFingerprint().toUpperCase())
    expect(signer.pgp).toBe(true)
    const sig = text(await signer.sign(buildSignaturePayload(IMAGE)))
    expect(sig).toMatch(/^-----BEGIN PGP MESSAGE-----/)
    await expect(roundTrip(signer, {kind: 'pgp', id: signer.keyId, asciiArmoredPgpPublicKey: k.publicKey})).resolves.toBe(true)
  })

  it('RSA key with a passphrase (signing subkey); wrong/missing passphrase → KEY_INVALID', async () => {
    const k = await openpgp.generateKey({userIDs: [{name: 'ci'}], type: 'rsa', rsaBits: 2048, passphrase: 'pw', format: 'armored'})
    await expect(pgpSigner(k.privateKey)).toThrowWithCode('KEY_INVALID', /encrypted and no passphrase/)
    await expect(pgpSigner(k.privateKey, 'wrong')).toThrowWithCode('KEY_INVALID', /cannot decrypt/)
    const signer = await pgpSigner(k.privateKey, 'pw')
    await expect(roundTrip(signer, {kind: 'pgp', id: signer.keyId, asciiArmoredPgpPublicKey: k.publicKey})).resolves.toBe(true)
  }, 60_000)

  it('rejects a non-key', async () => {
    await expect(pgpSigner('nope')).toThrowWithCode('KEY_INVALID', /OpenPGP private key/)
  })
})

describe('kmsSigner', () => {
  const VERSION = 'projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1'

  /** A fake KMS that checks it received the right pre-hashed digest, then signs the payload it was told about. */
  function fakeKms(k: TestKey, algorithm: string, payload: () => Uint8Array, tamper = false): KmsPort & {calls: Array<Record<string, Uint8Array>>} {
    const spec = ALGORITHMS[algorithm]!
    const calls: Array<Record<string, Uint8Array>> = []
    return {
      calls,
      getPublicKey: async () => ({pem: k.publicPem, algorithm}),
      asymmetricSign: async (digest) => {
        calls.push(digest as Record<string, Uint8Array>)
        const p = payload()
        const sig =
          spec.family === 'ecdsa'
            ? cryptoSign(spec.hash, p, {key: k.privateKey, dsaEncoding: 'der'})
            : cryptoSign(spec.hash, p, {key: k.privateKey, ...(spec.family === 'rsa-pss' ? {padding: 6, saltLength: -1} : {})})
        if (tamper) sig[sig.length - 1]! ^= 1
        return sig
      },
    }
  }

  it.each(['EC_SIGN_P256_SHA256', 'EC_SIGN_P384_SHA384', 'RSA_SIGN_PSS_2048_SHA256', 'RSA_SIGN_PKCS1_4096_SHA512'])(
    '%s: hashes locally, keyId = KMS URI, round trip',
    async (alg) => {
      const k = await testKey(keySpecFor(alg))
      const payload = buildSignaturePayload(IMAGE)
      const port = fakeKms(k, alg, () => payload)
      const signer = await kmsSigner(port, VERSION)
      expect(signer.keyId).toBe(`//cloudkms.googleapis.com/v1/${VERSION}`)
      await expect(roundTrip(signer, {kind: 'pkix', id: signer.keyId, publicKeyPem: k.publicPem, signatureAlgorithm: alg})).resolves.toBe(true)
      const hash = ALGORITHMS[alg]!.hash
      expect(Object.keys(port.calls[0]!)).toEqual([hash])
      expect(Buffer.from(port.calls[0]![hash]!).equals(createHash(hash).update(payload).digest())).toBe(true)
    },
    60_000,
  )

  it('a signature that does not verify → SIGNATURE_INVALID', async () => {
    const k = await testKey({ec: 'P-256'})
    const payload = buildSignaturePayload(IMAGE)
    const signer = await kmsSigner(
      fakeKms(k, 'EC_SIGN_P256_SHA256', () => payload, true),
      VERSION,
    )
    await expect(signer.sign(payload)).toThrowWithCode('SIGNATURE_INVALID', /does not verify/)
  })

  it('unsupported KMS algorithm or bad version name → KEY_INVALID', async () => {
    const k = await testKey({ec: 'P-256'})
    await expect(
      kmsSigner(
        fakeKms(k, 'EC_SIGN_SECP256K1_SHA256', () => new Uint8Array()),
        VERSION,
      ),
    ).toThrowWithCode('KEY_INVALID', /unknown/)
    await expect(
      kmsSigner(
        fakeKms(k, 'EC_SIGN_P256_SHA256', () => new Uint8Array()),
        'projects/p/keys/k',
      ),
    ).toThrowWithCode('KEY_INVALID', /cryptoKeyVersions/)
  })
})

describe('buildOccurrence', () => {
  it('REST v1 JSON: https resourceUri without tag, standard base64', () => {
    const payload = buildSignaturePayload(`gcr.io/kritis-project/kritis-server:v1@${DIGEST}`)
    const o = buildOccurrence({
      imageWithDigest: `gcr.io/kritis-project/kritis-server:v1@${DIGEST}`,
      noteName: NOTE,
      payload,
      signature: new Uint8Array([0xfb, 0xff]),
      keyId: 'k',
    })
    expect(o).toEqual({
      kind: 'ATTESTATION',
      resourceUri: `https://gcr.io/kritis-project/kritis-server@${DIGEST}`,
      noteName: NOTE,
      attestation: {serializedPayload: Buffer.from(payload).toString('base64'), signatures: [{publicKeyId: 'k', signature: '+/8='}]},
    })
  })

  it.each([
    [{noteName: 'notes/n'}, 'ATTESTOR_INVALID'],
    [{imageWithDigest: 'gcr.io/p/i:tag'}, 'INVALID_REFERENCE'],
    [{keyId: ''}, 'KEY_INVALID'],
    [{keyId: 'not-a-fingerprint', pgp: true}, 'KEY_INVALID'],
  ] as const)('rejects %p', (over, code) => {
    expect(() =>
      buildOccurrence({imageWithDigest: IMAGE, noteName: NOTE, payload: new Uint8Array([1]), signature: new Uint8Array([1]), keyId: 'k', ...over}),
    ).toThrowWithCode(code)
  })
})
