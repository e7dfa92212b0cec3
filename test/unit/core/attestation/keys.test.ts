import {describe, expect, it} from '@jest/globals'
import {createPublicKey} from 'node:crypto'
import * as openpgp from 'openpgp'
import {
  ALGORITHMS,
  assertPkixKey,
  checkPkixKey,
  defaultPkixKeyId,
  kmsKeyId,
  normalizeAlgorithmName,
  pgpFingerprint,
  pgpFingerprintSync,
} from '../../../../src/core/attestation/keys.js'
import {pgpSample, pkixSamples, samples, testKey} from './helpers.js'

const ALL_ENUM_NAMES = [
  'RSA_PSS_2048_SHA256',
  'RSA_SIGN_PSS_2048_SHA256',
  'RSA_PSS_3072_SHA256',
  'RSA_SIGN_PSS_3072_SHA256',
  'RSA_PSS_4096_SHA256',
  'RSA_SIGN_PSS_4096_SHA256',
  'RSA_PSS_4096_SHA512',
  'RSA_SIGN_PSS_4096_SHA512',
  'RSA_SIGN_PKCS1_2048_SHA256',
  'RSA_SIGN_PKCS1_3072_SHA256',
  'RSA_SIGN_PKCS1_4096_SHA256',
  'RSA_SIGN_PKCS1_4096_SHA512',
  'ECDSA_P256_SHA256',
  'EC_SIGN_P256_SHA256',
  'ECDSA_P384_SHA384',
  'EC_SIGN_P384_SHA384',
  'ECDSA_P521_SHA512',
  'EC_SIGN_P521_SHA512',
]

describe('key ids', () => {
  it('reproduces the documented default PKIX id (docs attestor example)', () => {
    const fact = samples.keyIdFacts.find((f) => f.documentedId !== undefined)!
    expect(defaultPkixKeyId(fact.publicKeyPem!)).toBe(fact.documentedId)
  })

  it.each(pkixSamples.map((s) => [s.name, s] as const))('default PKIX id of %s', (_n, s) => {
    expect(defaultPkixKeyId(s.publicKeyPem!)).toBe(s.defaultPkixKeyId)
    expect(defaultPkixKeyId(createPublicKey(s.publicKeyPem!))).toBe(s.defaultPkixKeyId)
  })

  it('PGP V4 fingerprint of the kritis sample key (async openpgp and sync packet parser agree)', async () => {
    await expect(pgpFingerprint(pgpSample.asciiArmoredPgpPublicKey!)).resolves.toBe(pgpSample.expectedKeyId)
    expect(pgpFingerprintSync(pgpSample.asciiArmoredPgpPublicKey!)).toBe(pgpSample.computedV4Fingerprint)
  })

  it.each(['ecc', 'rsa'] as const)('sync fingerprint equals openpgp for a generated %s key', async (type) => {
    const {publicKey} = await openpgp.generateKey({userIDs: [{name: 't'}], type, ...(type === 'rsa' ? {rsaBits: 2048} : {}), format: 'armored'})
    expect(pgpFingerprintSync(publicKey)).toBe(await pgpFingerprint(publicKey))
  })

  it('pgpFingerprint rejects non-keys with KEY_INVALID', async () => {
    await expect(pgpFingerprint('nope')).toThrowWithCode('KEY_INVALID', /OpenPGP/)
    expect(pgpFingerprintSync('nope')).toBeUndefined()
  })

  it('KMS key id (format fact)', () => {
    const fact = samples.keyIdFacts.find((f) => f.example !== undefined)!
    const name = fact.example!.replace('//cloudkms.googleapis.com/v1/', '')
    expect(kmsKeyId(name)).toBe(fact.example)
    expect(kmsKeyId(fact.example!)).toBe(fact.example)
    expect(() => kmsKeyId('projects/p/locations/l/keyRings/r/cryptoKeys/k')).toThrowWithCode('KEY_INVALID', /cryptoKeyVersions/)
  })
})

describe('ALGORITHMS', () => {
  it('covers every PkixSignatureAlgorithm name including aliases, and nothing else', () => {
    expect(Object.keys(ALGORITHMS).sort()).toEqual([...ALL_ENUM_NAMES].sort())
  })

  it.each([
    ['RSA_PSS_2048_SHA256', {family: 'rsa-pss', hash: 'sha256', bits: 2048}],
    ['RSA_SIGN_PSS_4096_SHA512', {family: 'rsa-pss', hash: 'sha512', bits: 4096}],
    ['RSA_SIGN_PKCS1_3072_SHA256', {family: 'rsa-pkcs1', hash: 'sha256', bits: 3072}],
    ['RSA_SIGN_PKCS1_4096_SHA512', {family: 'rsa-pkcs1', hash: 'sha512', bits: 4096}],
    ['EC_SIGN_P256_SHA256', {family: 'ecdsa', hash: 'sha256', curve: 'P-256'}],
    ['ECDSA_P384_SHA384', {family: 'ecdsa', hash: 'sha384', curve: 'P-384'}],
    ['ECDSA_P521_SHA512', {family: 'ecdsa', hash: 'sha512', curve: 'P-521'}],
  ])('%s', (name, spec) => {
    expect(ALGORITHMS[name]).toEqual(spec)
  })

  it('aliases map to the same spec', () => {
    for (const [a, b] of [
      ['RSA_PSS_3072_SHA256', 'RSA_SIGN_PSS_3072_SHA256'],
      ['ECDSA_P521_SHA512', 'EC_SIGN_P521_SHA512'],
    ] as const) {
      expect(ALGORITHMS[a]).toEqual(ALGORITHMS[b])
    }
  })

  it('gcloud lower-dash spellings normalise to enum names', () => {
    expect(normalizeAlgorithmName('ecdsa-p256-sha256')).toBe('ECDSA_P256_SHA256')
    expect(normalizeAlgorithmName('rsa-sign-pkcs1-4096-sha512')).toBe('RSA_SIGN_PKCS1_4096_SHA512')
  })
})

describe('checkPkixKey', () => {
  it.each(pkixSamples.map((s) => [s.signatureAlgorithm!, s] as const))('kritis key matches %s', (_n, s) => {
    expect(checkPkixKey(s.publicKeyPem!, s.signatureAlgorithm!).ok).toBe(true)
  })

  it.each([
    ['RSA 2048 declared RSA_SIGN_PKCS1_4096_SHA256', 'rsa2048', 'RSA_SIGN_PKCS1_4096_SHA256', /needs an RSA 4096-bit key, got an RSA 2048-bit key/],
    ['RSA 4096 declared RSA_PSS_2048_SHA256', 'rsa4096', 'RSA_PSS_2048_SHA256', /needs an RSA 2048-bit key, got an RSA 4096-bit key/],
    ['P-256 declared ECDSA_P384_SHA384', 'p256', 'ECDSA_P384_SHA384', /needs an EC P-384 key, got an EC P-256 key/],
    ['P-256 declared RSA', 'p256', 'RSA_SIGN_PKCS1_2048_SHA256', /needs an RSA 2048-bit key, got an EC P-256 key/],
    ['RSA declared ECDSA', 'rsa2048', 'ECDSA_P256_SHA256', /needs an EC P-256 key/],
    ['unknown algorithm', 'p256', 'ECDSA_P256_SHA1', /unknown/],
    ['UNSPECIFIED', 'p256', 'SIGNATURE_ALGORITHM_UNSPECIFIED', /unspecified/],
  ])('%s → invalid (KEY_INVALID when asserted)', async (_n, which, alg, re) => {
    const pem =
      which === 'p256'
        ? (await testKey({ec: 'P-256'})).publicPem
        : pkixSamples.find((s) => s.signatureAlgorithm === (which === 'rsa2048' ? 'RSA_SIGN_PKCS1_2048_SHA256' : 'RSA_SIGN_PKCS1_4096_SHA256'))!.publicKeyPem!
    const r = checkPkixKey(pem, alg)
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.reason).toMatch(re)
      expect(r.unsupported).toBe(false)
    }
    expect(() => assertPkixKey(pem, alg)).toThrowWithCode('KEY_INVALID', re)
  })

  it('ML_DSA_65 → unsupported', async () => {
    const r = checkPkixKey((await testKey({ec: 'P-256'})).publicPem, 'ML_DSA_65')
    expect(r).toEqual({ok: false, unsupported: true, reason: expect.stringMatching(/unsupported/)})
  })

  it('garbage PEM → reason', () => {
    const r = checkPkixKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', 'ECDSA_P256_SHA256')
    expect(r.ok).toBe(false)
  })
})
