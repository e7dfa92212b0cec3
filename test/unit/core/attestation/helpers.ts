import {readFileSync} from 'node:fs'
import {generateKeyPair, type KeyObject} from 'node:crypto'
import {promisify} from 'node:util'
import type {Attestor, AttestorPublicKey} from '../../../../src/core/attestation/types.js'

export interface PublicSample {
  name: string
  kind: string
  signatureAlgorithm?: string
  publicKeyPem?: string
  payloadUtf8?: string
  signatureBase64Url?: string
  signatureBase64?: string
  defaultPkixKeyId?: string
  asciiArmoredPgpPublicKey?: string
  armoredSignedMessage?: string
  expectedKeyId?: string
  computedV4Fingerprint?: string
  extractedPayload?: string
  keyExpires?: string
  signatureCreated?: string
}

export interface DerivedSample {
  name: string
  image?: string
  payloadUtf8?: string
  payloadBase64?: string
  attestor?: Record<string, unknown>
  occurrence?: Record<string, unknown>
  signerFingerprint?: string
  armoredSignedMessage?: string
}

export interface Samples {
  publicSamples: PublicSample[]
  keyIdFacts: Array<{name: string; publicKeyPem?: string; documentedId?: string; computed?: string; expected?: string; example?: string}>
  derivedSamples: DerivedSample[]
}

/** Signing samples: public kritis vectors, the docs key-id example, derived samples (docs/testing.md#attestation-samples). */
export const samples: Samples = JSON.parse(readFileSync(new URL('./fixtures/binauthz-samples.json', import.meta.url), 'utf8')) as Samples

export const pkixSamples = samples.publicSamples.filter((s) => s.kind === 'PKIX detached')
export const pgpSample = samples.publicSamples.find((s) => s.kind.startsWith('PGP')) as PublicSample

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
export const text = (b: Uint8Array): string => new TextDecoder().decode(b)

export const DIGEST = 'sha256:' + 'b0be9acc0c8ca214f64fa4e0e214abc0bf342e8a4bc23b7e842ab21cfb50a6ea'
export const OTHER_DIGEST = 'sha256:' + 'c'.repeat(64)
export const IMAGE = `gcr.io/kritis-project/kritis-server@${DIGEST}`
export const NOTE = 'projects/p/notes/n'

export function attestor(publicKeys: AttestorPublicKey[], note = NOTE): Attestor {
  return {name: 'projects/p/attestors/a', noteReference: note, publicKeys, source: 'test'}
}

const gen = promisify(generateKeyPair)
export interface TestKey {
  privateKey: KeyObject
  publicKey: KeyObject
  privatePem: string
  publicPem: string
}
const keyCache = new Map<string, Promise<TestKey>>()

/** Generated test keys, cached per spec for the whole test file. */
export function testKey(spec: {ec: 'P-256' | 'P-384' | 'P-521'} | {rsa: number}): Promise<TestKey> {
  const id = 'ec' in spec ? spec.ec : `rsa${spec.rsa}`
  let p = keyCache.get(id)
  if (!p) {
    const made = 'ec' in spec ? gen('ec', {namedCurve: spec.ec}) : gen('rsa', {modulusLength: spec.rsa})
    p = made.then(({privateKey, publicKey}) => ({
      privateKey,
      publicKey,
      privatePem: privateKey.export({type: 'pkcs8', format: 'pem'}).toString(),
      publicPem: publicKey.export({type: 'spki', format: 'pem'}).toString(),
    }))
    keyCache.set(id, p)
  }
  return p
}
