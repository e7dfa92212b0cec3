import {describe, expect, it} from '@jest/globals'
import {prepareRequirement} from '../../../../src/core/signatures/requirement.js'
import {verifySignatures} from '../../../../src/core/signatures/verify.js'
import type {SignatureArtifacts, SignatureRequirement} from '../../../../src/core/signatures/types.js'
import {bundleArtifact, bundleFor, dsseLayer, emptyArtifacts, keylessBundle, keylessMaterial, legacySignatureLayer, testKey} from '../../../support/sigstore.js'

const REPO = '127.0.0.1:5000/app'
const DIGEST = `sha256:${'a'.repeat(64)}`
const OTHER = `sha256:${'b'.repeat(64)}`
const SLSA = 'https://slsa.dev/provenance/v1'
const VULN = 'https://cosign.sigstore.dev/attestation/vuln/v1'

const ci = testKey('ci.pub')
const release = testKey('release.pub')
const stranger = testKey('stranger.pub')

function requirement(over: Partial<SignatureRequirement> = {}): SignatureRequirement {
  return {keys: [{name: ci.name, pem: ci.publicKeyPem}], identities: [], attestationTypes: [], ...over}
}

function legacy(...layers: ReturnType<typeof legacySignatureLayer>[]): Partial<SignatureArtifacts> {
  return {legacySignatures: {location: `${REPO}:sha256-${'a'.repeat(64)}.sig`, status: 'found', items: layers.map((l) => l.layer)}}
}

function bundles(...items: Uint8Array[]): Partial<SignatureArtifacts> {
  return {bundles: {location: `${REPO}@${DIGEST}`, status: 'found', items: items.map((b) => bundleArtifact(b))}}
}

const verify = (req: SignatureRequirement, over: Partial<SignatureArtifacts>) => verifySignatures(prepareRequirement(req), emptyArtifacts(REPO, DIGEST, over))

describe('legacy simple-signing signatures', () => {
  it('verifies a signature over the exact payload for this digest', () => {
    const v = verify(requirement(), legacy(legacySignatureLayer({key: ci, repository: REPO, digest: DIGEST})))
    expect(v.satisfied).toBe(true)
    expect(v.couldNotCheck).toBe(false)
    expect(v.signatures).toEqual([expect.objectContaining({format: 'simplesigning', kind: 'signature', verified: true, verifiedBy: 'ci.pub'})])
    expect(v.reason).toBe('verified by ci.pub (simplesigning)')
  })

  it('verifies RSA and Ed25519 keys too', () => {
    for (const type of ['rsa', 'ed25519'] as const) {
      const key = testKey(`${type}.pub`, type)
      const v = verify(requirement({keys: [{name: key.name, pem: key.publicKeyPem}]}), legacy(legacySignatureLayer({key, repository: REPO, digest: DIGEST})))
      expect(v.reason).toBe(`verified by ${type}.pub (simplesigning)`)
    }
  })

  it('rejects a genuine signature made for another digest', () => {
    const v = verify(requirement(), legacy(legacySignatureLayer({key: ci, repository: REPO, digest: OTHER})))
    expect(v.satisfied).toBe(false)
    expect(v.signatures[0]).toMatchObject({verified: false, reason: `signed for another digest ${OTHER}`})
    expect(v.reason).toBe(`1 signature in ${REPO}:sha256-${'a'.repeat(64)}.sig, none verified by ci.pub: signed for another digest ${OTHER}`)
  })

  it('rejects a payload altered by one byte', () => {
    const v = verify(requirement(), legacy(legacySignatureLayer({key: ci, repository: REPO, digest: DIGEST, tamper: true})))
    expect(v.satisfied).toBe(false)
    expect(v.signatures[0]?.reason).toBe('signature does not verify over the payload with ci.pub')
  })

  it('rejects a signature by an untrusted key, naming the keys tried', () => {
    const req = requirement({keys: [ci, release].map((k) => ({name: k.name, pem: k.publicKeyPem}))})
    const v = verify(req, legacy(legacySignatureLayer({key: stranger, repository: REPO, digest: DIGEST})))
    expect(v.satisfied).toBe(false)
    expect(v.signatures[0]?.reason).toBe('signature does not verify over the payload with any trusted key (tried: ci.pub, release.pub)')
  })

  it('accepts when one of two trusted keys verifies, and names that key', () => {
    const req = requirement({keys: [ci, release].map((k) => ({name: k.name, pem: k.publicKeyPem}))})
    const v = verify(req, legacy(legacySignatureLayer({key: release, repository: REPO, digest: DIGEST})))
    expect(v.satisfied).toBe(true)
    expect(v.signatures[0]?.verifiedBy).toBe('release.pub')
  })

  it('counts the one good layer among bad ones, and reports each', () => {
    const v = verify(
      requirement(),
      legacy(legacySignatureLayer({key: stranger, repository: REPO, digest: DIGEST}), legacySignatureLayer({key: ci, repository: REPO, digest: DIGEST})),
    )
    expect(v.satisfied).toBe(true)
    expect(v.signatures.map((s) => s.verified)).toEqual([false, true])
    expect(v.signatures[1]?.location).toMatch(/\.sig \(2 of 2\)$/)
  })

  it('rejects a signed payload of another type', () => {
    const payload = Buffer.from(
      JSON.stringify({critical: {identity: {'docker-reference': REPO}, image: {'docker-manifest-digest': DIGEST}, type: 'something else'}}),
    )
    const v = verify(requirement(), legacy(legacySignatureLayer({key: ci, repository: REPO, digest: DIGEST, payloadOverride: payload})))
    expect(v.signatures[0]?.reason).toBe('payload type "something else", not "cosign container image signature"')
  })

  it('treats a signature annotation that is not base64 as a reason', () => {
    const layer = legacySignatureLayer({key: ci, repository: REPO, digest: DIGEST})
    layer.layer.signature = '%%%not base64%%%'
    const v = verify(requirement(), legacy(layer))
    expect(v.signatures[0]?.reason).toBe('the dev.cosignproject.cosign/signature annotation is missing or not base64')
  })

  it('rejects legacy keyless signatures with a clear reason (no offline SET check)', () => {
    const layer = legacySignatureLayer({key: stranger, repository: REPO, digest: DIGEST})
    layer.layer.certificate = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
    const v = verify(requirement(), legacy(layer))
    expect(v.signatures[0]?.reason).toMatch(/^keyless signature in the legacy tag format: verifying it offline needs its Rekor SET/)
  })
})

describe('Sigstore bundles', () => {
  it('verifies a cosign v3 DSSE bundle (keyed, no tlog entries) and says the thresholds in force', async () => {
    const v = verify(requirement(), bundles(await bundleFor({key: ci, digest: DIGEST})))
    expect(v.satisfied).toBe(true)
    expect(v.signatures).toEqual([
      expect.objectContaining({
        format: 'bundle',
        kind: 'signature',
        verified: true,
        verifiedBy: 'ci.pub',
        location: expect.stringMatching(/@sha256:[0-9a-f]{64} \(referrer\)$/),
      }),
    ])
    expect(v.reason).toBe('verified by ci.pub (bundle)')
    expect(v.notes.join('\n')).toMatch(/keyed \(ci\.pub\): tlog 0, timestamps 0, ctlog 0/)
  })

  it('verifies bundles signed with RSA and Ed25519 keys', async () => {
    for (const type of ['rsa', 'ed25519'] as const) {
      const key = testKey(`${type}.pub`, type)
      const v = verify(requirement({keys: [{name: key.name, pem: key.publicKeyPem}]}), bundles(await bundleFor({key, digest: DIGEST})))
      expect(v.reason).toBe(`verified by ${type}.pub (bundle)`)
    }
  })

  it('verifies a message-signature bundle over the simple-signing payload for this digest', async () => {
    const v = verify(requirement(), bundles(await bundleFor({key: ci, digest: DIGEST, message: true, repository: REPO})))
    expect(v.satisfied).toBe(true)
    expect(v.signatures[0]).toMatchObject({format: 'bundle', verified: true})
  })

  it('does not count a message-signature bundle whose signed bytes are not here', async () => {
    const v = verify(requirement(), bundles(await bundleFor({key: ci, digest: DIGEST, message: true, repository: 'elsewhere.example/app'})))
    expect(v.satisfied).toBe(false)
    expect(v.signatures[0]?.reason).toMatch(/^message signature over bytes that are not here/)
  })

  it('rejects a bundle for another digest', async () => {
    const v = verify(requirement(), bundles(await bundleFor({key: ci, digest: OTHER})))
    expect(v.signatures[0]?.reason).toBe(`signed for another digest ${OTHER}`)
  })

  it('rejects a bundle whose hint names no trusted key', async () => {
    const req = requirement({keys: [ci, release].map((k) => ({name: k.name, pem: k.publicKeyPem}))})
    const v = verify(req, bundles(await bundleFor({key: stranger, digest: DIGEST})))
    expect(v.signatures[0]?.reason).toBe('not signed by a trusted key (tried: ci.pub, release.pub)')
  })

  it('rejects a bundle whose DSSE payload was altered, naming the hinted key', async () => {
    const json = JSON.parse(Buffer.from(await bundleFor({key: ci, digest: DIGEST})).toString()) as {dsseEnvelope: {payload: string}}
    const statement = Buffer.from(json.dsseEnvelope.payload, 'base64').toString()
    expect(statement).toContain('"predicate":{}')
    json.dsseEnvelope.payload = Buffer.from(statement.replace('"predicate":{}', '"predicate":{"x":1}')).toString('base64')
    const v = verify(requirement(), bundles(Buffer.from(JSON.stringify(json))))
    expect(v.signatures[0]?.reason).toBe('signature does not verify over the payload with ci.pub')
  })

  it('turns garbage bytes and invalid bundles into reasons, not exceptions', () => {
    const v = verify(
      requirement(),
      bundles(Buffer.from('not json at all'), Buffer.from(JSON.stringify({mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json'}))),
    )
    expect(v.satisfied).toBe(false)
    expect(v.signatures.map((s) => s.reason)).toEqual([expect.stringMatching(/^invalid bundle: /), expect.stringMatching(/^invalid bundle: /)])
  })

  it('verifies a keyed bundle without tlog entries, under thresholds tlog 0 / timestamps 0', async () => {
    const json = JSON.parse(Buffer.from(await bundleFor({key: ci, digest: DIGEST})).toString()) as {verificationMaterial: {tlogEntries?: unknown[]}}
    expect(json.verificationMaterial.tlogEntries ?? []).toEqual([])
    const v = verify(requirement(), bundles(Buffer.from(JSON.stringify(json))))
    expect(v.satisfied).toBe(true)
    expect(v.notes[0]).toContain('tlog 0, timestamps 0')
  })

  it('sets aside the tlog entries of a keyed bundle instead of failing on logs it was not given', async () => {
    const json = JSON.parse(Buffer.from(await bundleFor({key: ci, digest: DIGEST})).toString()) as {verificationMaterial: Record<string, unknown>}
    const b64 = (s: string) => Buffer.from(s).toString('base64')
    json.verificationMaterial.tlogEntries = [
      {
        logIndex: '1',
        logId: {keyId: b64('a log we were not given')},
        kindVersion: {kind: 'dsse', version: '0.0.1'},
        integratedTime: '1700000000',
        inclusionProof: {logIndex: '1', rootHash: b64('root'), treeSize: '2', hashes: [], checkpoint: {envelope: 'rekor.test - 1\n2\nroot\n'}},
        canonicalizedBody: b64('{}'),
      },
    ]
    const v = verify(requirement(), bundles(Buffer.from(JSON.stringify(json))))
    expect(v.signatures[0]?.reason).toBeUndefined()
    expect(v.satisfied).toBe(true)
  })
})

describe('attestations', () => {
  it('requires a verified attestation of each required type', async () => {
    const req = requirement({attestationTypes: [SLSA]})
    const v = verify(
      req,
      bundles(await bundleFor({key: ci, digest: DIGEST}), await bundleFor({key: ci, digest: DIGEST, predicateType: SLSA, predicate: {buildType: 'x'}})),
    )
    expect(v.satisfied).toBe(true)
    expect(v.attestations).toEqual([expect.objectContaining({kind: 'attestation', predicateType: SLSA, verified: true, verifiedBy: 'ci.pub'})])
    expect(v.reason).toBe(`verified by ci.pub (bundle); attestation ${SLSA} verified by ci.pub (bundle)`)
  })

  it('does not count an attestation of another predicate type', async () => {
    const req = requirement({attestationTypes: [SLSA]})
    const v = verify(req, bundles(await bundleFor({key: ci, digest: DIGEST}), await bundleFor({key: ci, digest: DIGEST, predicateType: VULN})))
    expect(v.satisfied).toBe(false)
    expect(v.couldNotCheck).toBe(false)
    expect(v.attestations[0]?.reason).toBe(`attestation of predicate type ${VULN}, not the required ${SLSA}`)
    expect(v.reason).toBe(
      `verified by ci.pub (bundle), but no verified attestation of type ${SLSA}: attestation of predicate type ${VULN}, not the required ${SLSA}`,
    )
  })

  it('does not take an attestation for a signature', async () => {
    const v = verify(requirement(), bundles(await bundleFor({key: ci, digest: DIGEST, predicateType: SLSA})))
    expect(v.satisfied).toBe(false)
    expect(v.signatures).toEqual([])
    expect(v.reason).toMatch(/^no signature found \(looked in .*\.sig and referrers of .*\); 1 attestation found, which do not count as signatures$/)
  })

  it('verifies legacy .att DSSE layers, and rejects one about another digest', () => {
    const good = dsseLayer({key: ci, repository: REPO, digest: DIGEST, predicateType: SLSA})
    const other = dsseLayer({key: ci, repository: REPO, digest: DIGEST, subjectDigest: OTHER, predicateType: SLSA})
    const v = verify(requirement({attestationTypes: [SLSA]}), {
      ...legacy(legacySignatureLayer({key: ci, repository: REPO, digest: DIGEST})),
      legacyAttestations: {location: `${REPO}:sha256-${'a'.repeat(64)}.att`, status: 'found', items: [other.layer, good.layer]},
    })
    expect(v.satisfied).toBe(true)
    expect(v.attestations.map((a) => [a.verified, a.reason])).toEqual([
      [false, `signed for another digest ${OTHER}`],
      [true, undefined],
    ])
  })
})

describe('what the trust given cannot judge', () => {
  it('a keyed bundle under a keyless-only requirement does not count', async () => {
    const m = await keylessMaterial({san: 'ci@example.com', issuer: 'https://accounts.example.com'})
    const req = requirement({
      keys: [],
      identities: [{subject: 'ci@example.com', issuer: 'https://accounts.example.com'}],
      trustedRoot: {name: 'root.json', json: m.trustedRoot},
    })
    const v = verify(req, bundles(await bundleFor({key: ci, digest: DIGEST})))
    expect(v.signatures[0]?.reason).toBe('signed with a key, but no --sigstore-key was given')
  })

  it('a keyless bundle under a keyed-only requirement does not count', async () => {
    const m = await keylessMaterial({san: 'ci@example.com', issuer: 'https://accounts.example.com'})
    const v = verify(requirement(), bundles(await keylessBundle({...m, repository: REPO, digest: DIGEST})))
    expect(v.signatures[0]?.reason).toBe('keyless (certificate) signature, but no --sigstore-identity with --sigstore-trusted-root was given')
  })

  it('matches a message-signature bundle to the payload found in the legacy tag, and still checks its digest', async () => {
    // Signed with another docker-reference than the one we would rebuild: only the legacy layer has these bytes.
    const layer = legacySignatureLayer({key: stranger, repository: 'mirror.example/app', digest: DIGEST})
    const bundle = await bundleFor({key: ci, digest: DIGEST, message: true, repository: 'mirror.example/app'})
    const v = verify(requirement(), {...legacy(layer), ...bundles(bundle)})
    expect(v.signatures.map((s) => [s.format, s.verified])).toEqual([
      ['simplesigning', false],
      ['bundle', true],
    ])
    const wrong = await bundleFor({key: ci, digest: OTHER, message: true, repository: 'mirror.example/app'})
    const v2 = verify(requirement(), {...legacy(legacySignatureLayer({key: stranger, repository: 'mirror.example/app', digest: OTHER})), ...bundles(wrong)})
    expect(v2.signatures[1]?.reason).toBe(`signed for another digest ${OTHER}`)
  })

  it('lets the signed statement, not the annotation, decide the predicate type', () => {
    const layer = dsseLayer({key: ci, repository: REPO, digest: DIGEST, predicateType: VULN})
    const v = verify(requirement({attestationTypes: [SLSA]}), {
      ...legacy(legacySignatureLayer({key: ci, repository: REPO, digest: DIGEST})),
      legacyAttestations: {location: `${REPO}:sha256-${'a'.repeat(64)}.att`, status: 'found', items: [{...layer.layer, predicateType: SLSA}]},
    })
    expect(v.satisfied).toBe(false)
    expect(v.attestations[0]).toMatchObject({verified: false, predicateType: VULN, reason: `attestation of predicate type ${VULN}, not the required ${SLSA}`})
  })
})

describe('lookups that failed', () => {
  const failed = {location: `${REPO}@${DIGEST}`, status: 'error', code: 'REGISTRY_UNAVAILABLE', message: '503 Service Unavailable'} as const

  it('could not check: a lookup failed and nothing verified', () => {
    const v = verify(requirement(), {bundles: failed})
    expect(v.satisfied).toBe(false)
    expect(v.couldNotCheck).toBe(true)
    expect(v.failedLookups).toEqual([{location: failed.location, code: 'REGISTRY_UNAVAILABLE', message: '503 Service Unavailable'}])
    expect(v.reason).toBe(`could not check signatures: ${failed.location}: REGISTRY_UNAVAILABLE: 503 Service Unavailable`)
  })

  it('could not check, and says what was found elsewhere', () => {
    const v = verify(requirement(), {...legacy(legacySignatureLayer({key: stranger, repository: REPO, digest: DIGEST})), bundles: failed})
    expect(v.couldNotCheck).toBe(true)
    expect(v.reason).toBe(
      `could not check signatures: ${failed.location}: REGISTRY_UNAVAILABLE: 503 Service Unavailable; 1 found elsewhere, none verified: signature does not verify over the payload with ci.pub`,
    )
  })

  it('satisfied with a note when the other format verified', () => {
    const v = verify(requirement(), {...legacy(legacySignatureLayer({key: ci, repository: REPO, digest: DIGEST})), bundles: failed})
    expect(v.satisfied).toBe(true)
    expect(v.couldNotCheck).toBe(false)
    expect(v.notes).toContain(`${failed.location} could not be read (REGISTRY_UNAVAILABLE: 503 Service Unavailable); the requirement was met without it`)
  })

  it('says where it looked when nothing is there', () => {
    const v = verify(requirement(), {})
    expect(v.satisfied).toBe(false)
    expect(v.couldNotCheck).toBe(false)
    expect(v.reason).toBe(`no signature found (looked in ${REPO}:sha256-${'a'.repeat(64)}.sig and referrers of ${REPO}@${DIGEST})`)
  })
})

describe('keyless bundles', () => {
  it('rejects a certificate whose identity does not match, saying whose it is', async () => {
    const m = await keylessMaterial({san: 'someone@example.com', issuer: 'https://accounts.example.com'})
    const req = requirement({
      keys: [],
      identities: [{subject: 'ci@example.com', issuer: 'https://accounts.example.com'}],
      trustedRoot: {name: 'root.json', json: m.trustedRoot},
    })
    const v = verify(req, bundles(await keylessBundle({...m, repository: REPO, digest: DIGEST})))
    expect(v.satisfied).toBe(false)
    expect(v.signatures[0]?.reason).toBe(
      'certificate identity someone@example.com from https://accounts.example.com does not match ci@example.com from https://accounts.example.com',
    )
    expect(v.notes[0]).toMatch(/keyless \(root\.json\): tlog 1, timestamps 1, ctlog 0/)
  })

  it('does not accept a matching identity without a signed time (the chain is checked at signed times only)', async () => {
    const m = await keylessMaterial({san: 'ci@example.com', issuer: 'https://accounts.example.com'})
    const req = requirement({
      keys: [],
      identities: [{subjectRegexp: 'ci@example\\.com', issuer: 'https://accounts.example.com'}],
      trustedRoot: {name: 'root.json', json: m.trustedRoot},
    })
    const v = verify(req, bundles(await keylessBundle({...m, repository: REPO, digest: DIGEST})))
    expect(v.satisfied).toBe(false)
    expect(v.signatures[0]?.reason).toBe('TIMESTAMP_ERROR: expected 1 timestamps, got 0')
  })

  describe('with a timestamp authority (tlog 0, timestamps 1)', () => {
    const issuer = 'https://token.actions.githubusercontent.com'
    const san = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main'
    const material = keylessMaterial({san, issuer, rekor: false, tsa: true})
    const keylessReq = async (identity: {subject?: string; subjectRegexp?: string}): Promise<SignatureRequirement> =>
      requirement({keys: [], identities: [{...identity, issuer}], trustedRoot: {name: 'root.json', json: (await material).trustedRoot}})

    it('verifies a timestamped keyless bundle for a matching identity (exact or regexp), naming it', async () => {
      const m = await material
      const bundle = await keylessBundle({...m, repository: REPO, digest: DIGEST, stamp: true})
      for (const identity of [{subject: san}, {subjectRegexp: 'https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/heads/.*'}]) {
        const v = verify(await keylessReq(identity), bundles(bundle))
        expect(v.signatures[0]?.reason).toBeUndefined()
        expect(v.satisfied).toBe(true)
        expect(v.reason).toBe(`verified by ${san} from ${issuer} (bundle)`)
        expect(v.notes[0]).toMatch(/keyless \(root\.json\): tlog 0, timestamps 1, ctlog 0/)
      }
    })

    it('still requires the exact digest and the exact bytes', async () => {
      const m = await material
      const other = await keylessBundle({...m, repository: REPO, digest: DIGEST, subjectDigest: OTHER, stamp: true})
      expect(verify(await keylessReq({subject: san}), bundles(other)).signatures[0]?.reason).toBe(`signed for another digest ${OTHER}`)
      const json = JSON.parse(Buffer.from(await keylessBundle({...m, repository: REPO, digest: DIGEST, stamp: true})).toString()) as {
        dsseEnvelope: {payload: string}
      }
      json.dsseEnvelope.payload = Buffer.from(
        Buffer.from(json.dsseEnvelope.payload, 'base64').toString().replace('"predicate":{}', '"predicate":{"x":1}'),
      ).toString('base64')
      expect(verify(await keylessReq({subject: san}), bundles(Buffer.from(JSON.stringify(json)))).signatures[0]?.reason).toBe(
        'signature does not verify over the payload',
      )
    })

    it('rejects a certificate that does not chain to the trusted root', async () => {
      const m = await material
      const stranger = await keylessMaterial({san, issuer, rekor: false, tsa: true})
      const bundle = await keylessBundle({...stranger, ...(m.timestamp ? {timestamp: m.timestamp} : {}), repository: REPO, digest: DIGEST, stamp: true})
      const v = verify(await keylessReq({subject: san}), bundles(bundle))
      expect(v.satisfied).toBe(false)
      expect(v.signatures[0]?.reason).toBe('CERTIFICATE_ERROR: Failed to verify certificate chain')
    })
  })
})
