import {afterAll, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {createPublicKey, verify} from 'node:crypto'
import {crc32c, kmsDigestAlgorithm, kmsPort, kmsVersionName, type KmsPort} from '../../../src/adapters/gcp/index.js'
import {hash, startKmsServer, status, type GrpcServerHandle, type KmsState} from '../../support/gcp/grpc-servers.js'

const RING = 'projects/kms-project/locations/global/keyRings/attestors/cryptoKeys'
const EC_KEY = `${RING}/ec/cryptoKeyVersions/1`
const RSA_KEY = `${RING}/rsa/cryptoKeyVersions/3`
const RSA512_KEY = `${RING}/rsa512/cryptoKeyVersions/1`
const PAYLOAD = Buffer.from('{\n  "critical": {\n    "identity": {\n      "docker-reference": "gcr.io/p/i"\n    }\n  }\n}\n')

describe('kmsPort against a local Cloud KMS gRPC server', () => {
  let server: GrpcServerHandle<KmsState>
  const ports: KmsPort[] = []
  const port = (name: string): KmsPort => {
    const p = kmsPort(name, {endpoint: server.endpoint, insecure: true, retryDelayMs: 5, maxRetries: 1})
    ports.push(p)
    return p
  }

  beforeAll(async () => {
    server = await startKmsServer()
    server.state.addKey(EC_KEY, 'EC_SIGN_P256_SHA256')
    server.state.addKey(RSA_KEY, 'RSA_SIGN_PKCS1_2048_SHA256')
    server.state.addKey(RSA512_KEY, 'RSA_SIGN_PKCS1_4096_SHA512')
  })
  afterAll(async () => {
    for (const p of ports) await p.close()
    await server.stop()
  })
  beforeEach(() => {
    server.clearFaults()
    server.requests.length = 0
    server.state.corruptNextCrc = false
  })

  it('crc32c matches the Castagnoli check value', () => {
    expect(crc32c('123456789')).toBe(0xe3069283)
    expect(crc32c(new Uint8Array(0))).toBe(0)
  })

  it('getPublicKey returns the PEM and algorithm (CRC32C checked)', async () => {
    const k = await port(EC_KEY).getPublicKey()
    expect(k.algorithm).toBe('EC_SIGN_P256_SHA256')
    expect(k.pem).toBe(server.state.keys.get(EC_KEY)!.publicKeyPem)
    expect(server.calls('GetPublicKey')[0]!.request.name).toBe(EC_KEY)
  })

  it.each([
    [EC_KEY, 'sha256' as const, 'EC_SIGN_P256_SHA256'],
    [RSA_KEY, 'sha256' as const, 'RSA_SIGN_PKCS1_2048_SHA256'],
    [RSA512_KEY, 'sha512' as const, 'RSA_SIGN_PKCS1_4096_SHA512'],
  ])('asymmetricSign over a digest: the signature verifies over the payload (%s)', async (name, alg, algorithm) => {
    const p = port(name)
    const {pem, algorithm: got} = await p.getPublicKey()
    expect(got).toBe(algorithm)
    expect(kmsDigestAlgorithm(got)).toBe(alg)
    const signature = await p.asymmetricSign({[alg]: new Uint8Array(hash(alg, PAYLOAD))})
    expect(signature).toBeInstanceOf(Uint8Array)
    expect(verify(alg, PAYLOAD, createPublicKey(pem), signature)).toBe(true)
    expect(verify(alg, Buffer.concat([PAYLOAD, Buffer.from('x')]), createPublicKey(pem), signature)).toBe(false)
    const [call] = server.calls('AsymmetricSign')
    expect(call!.request.name).toBe(name)
    expect(call!.request.digestCrc32c.value).toBe(String(crc32c(hash(alg, PAYLOAD))))
  })

  it('a corrupted response CRC32C is an API_ERROR', async () => {
    server.state.corruptNextCrc = true
    await expect(port(EC_KEY).asymmetricSign({sha256: new Uint8Array(hash('sha256', PAYLOAD))})).toThrowWithCode('API_ERROR', /CRC32C/)
    server.state.corruptNextCrc = true
    await expect(port(EC_KEY).getPublicKey()).toThrowWithCode('API_ERROR', /CRC32C/)
  })

  it('rejects a wrong-size or ambiguous digest before calling KMS', async () => {
    await expect(port(EC_KEY).asymmetricSign({sha256: new Uint8Array(31)})).toThrowWithCode('USAGE', /32 bytes/)
    await expect(port(EC_KEY).asymmetricSign({sha256: new Uint8Array(32), sha512: new Uint8Array(64)})).toThrowWithCode('USAGE')
    await expect(port(EC_KEY).asymmetricSign({})).toThrowWithCode('USAGE')
    expect(server.calls('AsymmetricSign')).toHaveLength(0)
  })

  it('maps errors: unknown key → KEY_INVALID, PERMISSION_DENIED → API_AUTH naming the permission, UNAVAILABLE → API_ERROR', async () => {
    await expect(port(`${RING}/nope/cryptoKeyVersions/1`).getPublicKey()).toThrowWithCode('KEY_INVALID')
    server.failNext('AsymmetricSign', status.PERMISSION_DENIED, {message: "Permission 'cloudkms.cryptoKeyVersions.useToSign' denied"})
    const err = await port(EC_KEY)
      .asymmetricSign({sha256: new Uint8Array(32)})
      .catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'API_AUTH'})
    expect((err as {hint: string}).hint).toMatch(/cloudkms\.cryptoKeyVersions\.useToSign/)
    expect((err as {message: string}).message).toMatch(/kms-project/)
    server.failNext('GetPublicKey', status.UNAVAILABLE, {times: 5})
    await expect(port(EC_KEY).getPublicKey()).toThrowWithCode('API_ERROR', /UNAVAILABLE.*after 2 attempts/)
  })

  it('accepts the gcloud key URI and exposes it as keyUri', () => {
    const uri = `//cloudkms.googleapis.com/v1/${EC_KEY}`
    expect(kmsVersionName(uri)).toBe(EC_KEY)
    expect(kmsPort(uri).keyUri).toBe(uri)
    expect(() => kmsVersionName('projects/p/keyRings/r')).toThrowWithCode('USAGE')
  })
})
