/** The attest use case with plain fakes: what is resolved, signed and stored, and what is refused before storing. */
import {describe, expect, it} from '@jest/globals'
import {generateKeyPairSync} from 'node:crypto'
import {attest, type AttestPorts, type AttestSigner, type NewAttestation} from '../../../src/app/attest.js'
import {pemSigner} from '../../../src/core/attestation/sign.js'
import type {Attestor} from '../../../src/core/attestation/types.js'
import {SafeDeployError} from '../../../src/core/errors.js'
import type {ResolveOutcome} from '../../../src/core/ports.js'

const DIGEST = 'sha256:' + 'a'.repeat(64)
const NAME = 'projects/p/attestors/ci'

function keyPair() {
  const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  return {privatePem: privateKey.export({type: 'pkcs8', format: 'pem'}).toString(), publicPem: publicKey.export({type: 'spki', format: 'pem'}).toString()}
}
const trusted = keyPair()
const other = keyPair()
const attestor: Attestor = {
  name: NAME,
  noteReference: 'projects/p/notes/ci',
  source: 'fake',
  publicKeys: [{kind: 'pkix', id: 'ci-key', publicKeyPem: trusted.publicPem, signatureAlgorithm: 'ECDSA_P256_SHA256'}],
}

function fakes(opts: {signer?: AttestSigner; resolved?: ResolveOutcome; existing?: boolean} = {}) {
  const log: string[] = []
  const stored: NewAttestation[] = []
  const signer = opts.signer ?? {...pemSigner(trusted.privatePem, 'ECDSA_P256_SHA256', 'ci-key'), kind: 'pkix' as const}
  const ports: AttestPorts = {
    resolver: {
      resolveAll: async (reqs) => {
        log.push(`resolve ${reqs.map((r) => `${r.domain}/${r.path}:${r.reference}`).join(' ')}`)
        return [opts.resolved ?? {ok: true, value: {image: reqs[0]!.image, digest: DIGEST, mediaType: 'm', registry: reqs[0]!.domain}}]
      },
    },
    attestors: {
      getAttestor: async (name) => {
        log.push(`attestor ${name}`)
        return attestor
      },
    },
    signer: async (a) => {
      log.push(`signer for ${a.name}`)
      return {
        ...signer,
        sign: async (p) => {
          log.push('sign')
          return signer.sign(p)
        },
      }
    },
    store: {
      store: async (a) => {
        log.push('store')
        if (opts.existing) return {stored: {kind: 'directory', path: 'atts/x.json'}, created: false}
        stored.push(a)
        return {stored: {kind: 'directory', path: 'atts/x.json'}, created: true}
      },
    },
  }
  return {log, stored, ports}
}

describe('attest', () => {
  it('a tag is resolved through the resolver port; the digest is signed, verified and stored', async () => {
    const {log, stored, ports} = fakes()
    const r = await attest({image: 'gcr.io/p/app:1.4', attestor: NAME}, ports)
    expect(log).toEqual(['resolve gcr.io/p/app:1.4', `attestor ${NAME}`, `signer for ${NAME}`, 'sign', 'store'])
    expect(r).toMatchObject({
      image: `gcr.io/p/app@${DIGEST}`,
      digest: DIGEST,
      attestor: NAME,
      noteName: 'projects/p/notes/ci',
      keyId: 'ci-key',
      signer: 'pkix',
      created: true,
    })
    expect(stored).toHaveLength(1)
    expect(stored[0]).toMatchObject({attestor: NAME, noteName: 'projects/p/notes/ci', digest: DIGEST, keyId: 'ci-key'})
  })

  it('--image-digest is never resolved', async () => {
    const {log, ports} = fakes()
    const r = await attest({imageDigest: `gcr.io/p/app@${DIGEST}`, attestor: NAME}, ports)
    expect(log[0]).toBe(`attestor ${NAME}`)
    expect(r.image).toBe(`gcr.io/p/app@${DIGEST}`)
  })

  it('--image-digest without a digest is a usage error', async () => {
    const {log, ports} = fakes()
    await expect(attest({imageDigest: 'gcr.io/p/app:1.4', attestor: NAME}, ports)).toThrowWithCode('USAGE', /--image-digest needs REF@sha256/)
    expect(log).toEqual([])
  })

  it('a resolver error: nothing is signed or stored, and its code is kept', async () => {
    const {log, ports} = fakes({resolved: {ok: false, error: new SafeDeployError('REGISTRY_NOT_FOUND', 'manifest unknown')}})
    await expect(attest({image: 'gcr.io/p/app:nope', attestor: NAME}, ports)).toThrowWithCode(
      'REGISTRY_NOT_FOUND',
      /cannot pin gcr\.io\/p\/app:nope, so nothing was signed: manifest unknown/,
    )
    expect(log).toEqual(['resolve gcr.io/p/app:nope'])
  })

  it('a key id not on the attestor is refused before signing', async () => {
    const {log, ports} = fakes({signer: {...pemSigner(trusted.privatePem, 'ECDSA_P256_SHA256', 'unknown-key'), kind: 'pkix'}})
    await expect(attest({image: 'gcr.io/p/app:1.4', attestor: NAME}, ports)).toThrowWithCode('KEY_INVALID', /key id unknown-key is not configured on attestor/)
    expect(log).not.toContain('sign')
    expect(log).not.toContain('store')
  })

  it('a signature the attestor would not accept (the trusted id, another key) is not stored', async () => {
    const {log, stored, ports} = fakes({signer: {...pemSigner(other.privatePem, 'ECDSA_P256_SHA256', 'ci-key'), kind: 'pkix'}})
    await expect(attest({image: 'gcr.io/p/app:1.4', attestor: NAME}, ports)).toThrowWithCode(
      'SIGNATURE_INVALID',
      /would not be accepted by .*nothing was stored/,
    )
    expect(log).toContain('sign')
    expect(log).not.toContain('store')
    expect(stored).toEqual([])
  })

  it('idempotent store: an equivalent attestation already there is reported as not created', async () => {
    const {ports} = fakes({existing: true})
    const r = await attest({image: 'gcr.io/p/app:1.4', attestor: NAME}, ports)
    expect(r.created).toBe(false)
  })

  it('the store is told which existing look-alikes still count (checked against the attestor)', async () => {
    const {stored, ports} = fakes()
    const r = await attest({image: 'gcr.io/p/app:1.4', attestor: NAME}, ports)
    const {parseOccurrences} = await import('../../../src/core/attestation/parse.js')
    const [mine] = parseOccurrences(r.occurrence, 'test')
    await expect(stored[0]!.isExistingValid(mine!)).resolves.toBe(true)
    await expect(stored[0]!.isExistingValid({...mine!, signatures: [{publicKeyId: 'ci-key', signature: new Uint8Array([1, 2, 3])}]})).resolves.toBe(false)
  })

  it('an attestor name that is not projects/P/attestors/A is a usage error before anything is asked', async () => {
    const {log, ports} = fakes()
    await expect(attest({image: 'gcr.io/p/app:1.4', attestor: 'ci'}, ports)).toThrowWithCode('USAGE', /--attestor expects projects\/PROJECT\/attestors\/NAME/)
    expect(log).toEqual([])
  })
})
