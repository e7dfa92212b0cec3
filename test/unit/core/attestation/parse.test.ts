import {describe, expect, it} from '@jest/globals'
import {decodeBase64Bytes, digestOfResourceUri, parseAttestor, parseOccurrences} from '../../../../src/core/attestation/parse.js'
import {DIGEST, pgpSample, pkixSamples, samples, text} from './helpers.js'

const ecSample = pkixSamples.find((s) => s.signatureAlgorithm === 'ECDSA_P256_SHA256')!
const rsa2048 = pkixSamples.find((s) => s.signatureAlgorithm === 'RSA_SIGN_PKCS1_2048_SHA256')!

const v1 = (keys: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'projects/p/attestors/a',
  userOwnedGrafeasNote: {noteReference: 'projects/p/notes/n', publicKeys: keys, delegationServiceAccountEmail: 'x@y'},
  updateTime: '2024-01-01T00:00:00Z',
  etag: 'e',
  ...extra,
})

describe('parseAttestor', () => {
  it('parses the derived samples (gcloud describe --format=json shape)', () => {
    for (const d of samples.derivedSamples.filter((x) => x.attestor)) {
      const a = parseAttestor(d.attestor, 'a.json')
      expect(a.name).toMatch(/^projects\/example-project\/attestors\//)
      expect(a.publicKeys).toHaveLength(1)
      expect(a.publicKeys[0]!.kind).toBe('pkix')
      expect(a.source).toBe('a.json')
    }
  })

  it('v1beta1 userOwnedDrydockNote with a PGP key, blank id → fingerprint; legacy providers/ note', () => {
    const a = parseAttestor(
      {
        name: 'projects/p/attestors/a',
        description: 'd',
        userOwnedDrydockNote: {
          noteReference: 'providers/p/notes/n',
          publicKeys: [{asciiArmoredPgpPublicKey: pgpSample.asciiArmoredPgpPublicKey, comment: 'c'}],
        },
      },
      'b.json',
    )
    expect(a).toEqual({
      name: 'projects/p/attestors/a',
      description: 'd',
      noteReference: 'providers/p/notes/n',
      source: 'b.json',
      publicKeys: [{kind: 'pgp', id: pgpSample.expectedKeyId, comment: 'c', asciiArmoredPgpPublicKey: pgpSample.asciiArmoredPgpPublicKey}],
    })
  })

  it('blank PKIX id → server default id; gcloud algorithm spelling normalised; empty key list ok', () => {
    const a = parseAttestor(v1([{pkixPublicKey: {publicKeyPem: ecSample.publicKeyPem, signatureAlgorithm: 'ecdsa-p256-sha256'}}]), 'c.json')
    expect(a.publicKeys[0]).toMatchObject({kind: 'pkix', id: ecSample.defaultPkixKeyId, signatureAlgorithm: 'ECDSA_P256_SHA256'})
    expect(parseAttestor({name: 'projects/p/attestors/a', userOwnedGrafeasNote: {noteReference: 'projects/p/notes/n'}}, 'd').publicKeys).toEqual([])
  })

  it('keeps ML_DSA_65 keys (verification reports them unsupported)', () => {
    const a = parseAttestor(v1([{id: 'k', pkixPublicKey: {publicKeyPem: ecSample.publicKeyPem, signatureAlgorithm: 'ML_DSA_65'}}]), 'e')
    expect(a.publicKeys[0]).toMatchObject({id: 'k', signatureAlgorithm: 'ML_DSA_65'})
  })

  it.each([
    ['not an object', [], '', /expected an attestor JSON object/],
    ['bad name', {...v1([]), name: 'attestors/a'}, 'name', /projects\/PROJECT\/attestors\/ATTESTOR/],
    ['no note', {name: 'projects/p/attestors/a'}, 'userOwnedGrafeasNote', /missing/],
    [
      'bad note',
      {name: 'projects/p/attestors/a', userOwnedGrafeasNote: {noteReference: 'notes/n'}},
      'userOwnedGrafeasNote.noteReference',
      /projects\/PROJECT\/notes\/NOTE/,
    ],
    [
      'providers/ note in v1',
      {name: 'projects/p/attestors/a', userOwnedGrafeasNote: {noteReference: 'providers/p/notes/n'}},
      'userOwnedGrafeasNote.noteReference',
      /projects\/PROJECT\/notes/,
    ],
    [
      'publicKeys not an array',
      {name: 'projects/p/attestors/a', userOwnedGrafeasNote: {noteReference: 'projects/p/notes/n', publicKeys: {}}},
      'userOwnedGrafeasNote.publicKeys',
      /array/,
    ],
    ['key with neither', v1([{id: 'x'}]), 'userOwnedGrafeasNote.publicKeys[0]', /pkixPublicKey or asciiArmoredPgpPublicKey/],
    [
      'key with both',
      v1([{id: 'x', asciiArmoredPgpPublicKey: pgpSample.asciiArmoredPgpPublicKey, pkixPublicKey: {}}]),
      'userOwnedGrafeasNote.publicKeys[0]',
      /both/,
    ],
    [
      'missing PEM',
      v1([{id: 'x', pkixPublicKey: {signatureAlgorithm: 'ECDSA_P256_SHA256'}}]),
      'userOwnedGrafeasNote.publicKeys[0].pkixPublicKey.publicKeyPem',
      /missing/,
    ],
    [
      'missing algorithm',
      v1([{id: 'x', pkixPublicKey: {publicKeyPem: ecSample.publicKeyPem}}]),
      'userOwnedGrafeasNote.publicKeys[0].pkixPublicKey.signatureAlgorithm',
      /missing/,
    ],
    [
      'unknown algorithm',
      v1([{id: 'x', pkixPublicKey: {publicKeyPem: ecSample.publicKeyPem, signatureAlgorithm: 'EC_SIGN_SECP256K1_SHA256'}}]),
      'userOwnedGrafeasNote.publicKeys[0].pkixPublicKey',
      /unknown/,
    ],
    [
      'garbage PEM',
      v1([{id: 'x', pkixPublicKey: {publicKeyPem: 'abc', signatureAlgorithm: 'ECDSA_P256_SHA256'}}]),
      'userOwnedGrafeasNote.publicKeys[0].pkixPublicKey',
      /not a PEM public key/,
    ],
    [
      'RSA 2048 declared 4096',
      v1([{id: 'x', pkixPublicKey: {publicKeyPem: rsa2048.publicKeyPem, signatureAlgorithm: 'RSA_SIGN_PKCS1_4096_SHA256'}}]),
      'userOwnedGrafeasNote.publicKeys[0].pkixPublicKey',
      /4096-bit key, got an RSA 2048-bit key/,
    ],
    [
      'keyId differs',
      v1([{id: 'x', pkixPublicKey: {publicKeyPem: ecSample.publicKeyPem, signatureAlgorithm: 'ECDSA_P256_SHA256', keyId: 'y'}}]),
      'userOwnedGrafeasNote.publicKeys[0].pkixPublicKey.keyId',
      /differs/,
    ],
    [
      'PGP id not the fingerprint',
      v1([{id: 'ABC', asciiArmoredPgpPublicKey: pgpSample.asciiArmoredPgpPublicKey}]),
      'userOwnedGrafeasNote.publicKeys[0].id',
      /not the key's OpenPGP V4 fingerprint/,
    ],
    ['PGP not armored', v1([{asciiArmoredPgpPublicKey: 'xyz'}]), 'userOwnedGrafeasNote.publicKeys[0].asciiArmoredPgpPublicKey', /ASCII-armored/],
  ])('%s → ATTESTOR_INVALID with source and JSON path', (_n, json, path, re) => {
    let err: unknown
    try {
      parseAttestor(json, 'att.json')
    } catch (e) {
      err = e
    }
    expect(() => parseAttestor(json, 'att.json')).toThrowWithCode('ATTESTOR_INVALID', re)
    expect((err as Error).message.startsWith(`att.json: ${path === '' ? '' : path + ': '}`)).toBe(true)
  })
})

describe('base64 and resource URIs', () => {
  it.each([
    ['standard padded', '-__-MEU=', [0xfb, 0xff, 0xfe, 0x30, 0x45]],
    ['URL-safe padded (gcloud)', '+//+MEU=', [0xfb, 0xff, 0xfe, 0x30, 0x45]],
    ['URL-safe unpadded', '-__-MEU', [0xfb, 0xff, 0xfe, 0x30, 0x45]],
    ['standard unpadded', '+//+MEU', [0xfb, 0xff, 0xfe, 0x30, 0x45]],
    ['empty', '', []],
  ])('decodes %s', (_n, s, bytes) => {
    expect([...decodeBase64Bytes(s)!]).toEqual(bytes)
  })

  it.each(['a', 'ab$c', 'abc==x', 'ab=c', 5])('rejects %p', (s) => {
    expect(decodeBase64Bytes(s)).toBeUndefined()
  })

  it.each([
    [`https://gcr.io/p/i@${DIGEST}`, DIGEST],
    [`gcr.io/p/i@${DIGEST}`, DIGEST],
    [`gcr.io/p/i:tag@${DIGEST}`, DIGEST],
    ['gcr.io/p/i:tag', undefined],
    ['gcr.io/p/i@sha256:123', undefined],
  ])('digestOfResourceUri(%s)', (uri, d) => {
    expect(digestOfResourceUri(uri)).toBe(d)
  })
})

describe('parseOccurrences', () => {
  const derived = samples.derivedSamples[0]!.occurrence!
  const payloadB64 = samples.derivedSamples[0]!.payloadBase64!

  it('parses a REST v1 occurrence (derived sample), single object or array or list response', () => {
    for (const json of [derived, [derived], {occurrences: [derived], nextPageToken: ''}]) {
      const occ = parseOccurrences(json, 'o.json')
      expect(occ).toHaveLength(1)
      expect(occ[0]).toMatchObject({resourceUri: derived['resourceUri'], noteName: derived['noteName'], source: 'o.json', index: 0, jwts: []})
      expect(text(occ[0]!.serializedPayload)).toBe(samples.derivedSamples[0]!.payloadUtf8)
      expect(occ[0]!.signatures[0]!.publicKeyId).toMatch(/^ni:\/\/\/sha-256;/)
    }
  })

  it('gcloud list output: URL-safe base64 with padding, scheme-less resourceUri, name kept', () => {
    const urlsafe = payloadB64.replace(/\+/g, '-').replace(/\//g, '_')
    const [o] = parseOccurrences(
      [
        {
          name: 'projects/p/occurrences/1',
          kind: 'ATTESTATION',
          resourceUri: `gcr.io/p/i@${DIGEST}`,
          noteName: 'projects/p/notes/n',
          attestation: {serializedPayload: urlsafe, signatures: [{publicKeyId: 'k', signature: '-__-MEU='}]},
        },
      ],
      'l.json',
    )
    expect(o!.name).toBe('projects/p/occurrences/1')
    expect(text(o!.serializedPayload)).toBe(samples.derivedSamples[0]!.payloadUtf8)
    expect([...o!.signatures[0]!.signature]).toEqual([0xfb, 0xff, 0xfe, 0x30, 0x45])
  })

  it('skips non-ATTESTATION kinds', () => {
    expect(
      parseOccurrences([{kind: 'VULNERABILITY', resourceUri: 'x', noteName: 'y', vulnerability: {}}, {kind: 'DSSE_ATTESTATION'}, derived], 's'),
    ).toHaveLength(1)
  })

  it('legacy v1beta1 pgpSignedAttestation and genericSignedAttestation', () => {
    const [p, g] = parseOccurrences(
      [
        {
          resource: {uri: `https://gcr.io/p/i@${DIGEST}`},
          noteName: 'projects/p/notes/n',
          kind: 'ATTESTATION',
          attestation: {
            attestation: {
              pgpSignedAttestation: {signature: pgpSample.armoredSignedMessage, contentType: 'SIMPLE_SIGNING_JSON', pgpKeyId: pgpSample.expectedKeyId},
            },
          },
        },
        {
          resource: {uri: `https://gcr.io/p/i@${DIGEST}`},
          noteName: 'projects/p/notes/n',
          attestation: {
            attestation: {
              genericSignedAttestation: {
                contentType: 'SIMPLE_SIGNING_JSON',
                serializedPayload: payloadB64,
                signatures: [{publicKeyId: 'k', signature: 'AAAA'}],
              },
            },
          },
        },
      ],
      'legacy.json',
    )
    expect(p).toMatchObject({resourceUri: `https://gcr.io/p/i@${DIGEST}`, signatures: [], pgpSignedAttestation: {pgpKeyId: pgpSample.expectedKeyId}})
    expect(g!.signatures).toHaveLength(1)
    expect(g!.index).toBe(1)
  })

  it('JWT-only occurrence and gRPC-style bytes', () => {
    const [j, b] = parseOccurrences(
      [
        {resourceUri: 'x@' + DIGEST, noteName: 'projects/p/notes/n', attestation: {jwts: [{compactJwt: 'a.b.c'}]}},
        {
          resourceUri: 'x@' + DIGEST,
          noteName: 'projects/p/notes/n',
          attestation: {serializedPayload: new Uint8Array([1]), signatures: [{publicKeyId: 'k', signature: new Uint8Array([2])}]},
        },
      ],
      'g',
    )
    expect(j!.jwts).toEqual(['a.b.c'])
    expect([...b!.signatures[0]!.signature]).toEqual([2])
  })

  it.each([
    ['not an object', ['x'], /\[0\]: expected an occurrence object/],
    ['no resourceUri', [{noteName: 'n', attestation: {}}], /\[0\]\.resourceUri: missing/],
    ['no noteName', [{resourceUri: 'r', attestation: {}}], /\[0\]\.noteName: missing/],
    ['no attestation', [derived, {kind: 'ATTESTATION', resourceUri: 'r', noteName: 'n'}], /\[1\]\.attestation: missing/],
    [
      'bad base64 payload',
      [{resourceUri: 'r', noteName: 'n', attestation: {serializedPayload: '!!', signatures: []}}],
      /\[0\]\.attestation\.serializedPayload: expected base64/,
    ],
    [
      'bad base64 signature',
      [{resourceUri: 'r', noteName: 'n', attestation: {serializedPayload: 'AAAA', signatures: [{publicKeyId: 'k', signature: '*'}]}}],
      /signatures\[0\]\.signature/,
    ],
    [
      'no publicKeyId',
      [{resourceUri: 'r', noteName: 'n', attestation: {serializedPayload: 'AAAA', signatures: [{signature: 'AAAA'}]}}],
      /signatures\[0\]\.publicKeyId: missing/,
    ],
    ['no signatures or JWTs', [{resourceUri: 'r', noteName: 'n', attestation: {serializedPayload: 'AAAA'}}], /no signatures and no JWTs/],
    ['legacy without body', [{resource: {uri: 'r'}, noteName: 'n', attestation: {attestation: {}}}], /pgpSignedAttestation or genericSignedAttestation/],
  ])('%s → ATTESTATION_INVALID naming source and index', (_n, json, re) => {
    expect(() => parseOccurrences(json, 'occ.json')).toThrowWithCode('ATTESTATION_INVALID', re)
    expect(() => parseOccurrences(json, 'occ.json')).toThrowWithCode('ATTESTATION_INVALID', /^occ\.json: occurrence \[\d\]/)
  })
})
