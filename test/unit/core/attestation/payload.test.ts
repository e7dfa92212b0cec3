import {describe, expect, it} from '@jest/globals'
import {buildSignaturePayload, parseArtifactUrl, parsePayload} from '../../../../src/core/attestation/payload.js'
import {DIGEST, samples, text, utf8} from './helpers.js'

const HELLO = 'sha256:37e5287945774f27b418ce567cd77f4bbc9ef44a1bcd1a2312369f31f9cce567'
const ABAB = 'sha256:' + 'ab'.repeat(32)

const expected = (ref: string, digest: string): string =>
  `{\n  "critical": {\n    "identity": {\n      "docker-reference": "${ref}"\n    },\n    "image": {\n      "docker-manifest-digest": "${digest}"\n    },\n    "type": "Google cloud binauthz container signature"\n  }\n}\n`

describe('buildSignaturePayload: byte-exact gcloud create-signature-payload', () => {
  it.each([
    [
      'docs/binauthz.md#attestation-payload example',
      `us-docker.pkg.dev/google-samples/containers/gke/hello-app@${HELLO}`,
      'us-docker.pkg.dev/google-samples/containers/gke/hello-app',
      HELLO,
    ],
    [
      'gcloud create-signature-payload bytes (docs/binauthz.md#attestation-payload)',
      `gcr.io/example-project/example-image@${ABAB}`,
      'gcr.io/example-project/example-image',
      ABAB,
    ],
    ['tag dropped', `us-docker.pkg.dev/p/r/img:tag@${HELLO}`, 'us-docker.pkg.dev/p/r/img', HELLO],
    ['https scheme stripped', `https://gcr.io/p/i@${HELLO}`, 'gcr.io/p/i', HELLO],
    ['docker scheme stripped', `docker://gcr.io/p/i@${HELLO}`, 'gcr.io/p/i', HELLO],
    ['// stripped', `//gcr.io/p/i@${HELLO}`, 'gcr.io/p/i', HELLO],
    ['port after a scheme', `https://localhost:5000/a/b@${HELLO}`, 'localhost:5000/a/b', HELLO],
    ['registry case kept', `GCR.io/p/i@${HELLO}`, 'GCR.io/p/i', HELLO],
  ])('%s', (_name, input, ref, digest) => {
    expect(text(buildSignaturePayload(input))).toBe(expected(ref, digest))
  })

  it('reproduces the derived samples payload bytes exactly (payloadUtf8 and payloadBase64)', () => {
    const d = samples.derivedSamples[0]!
    const bytes = buildSignaturePayload(d.image!)
    expect(text(bytes)).toBe(d.payloadUtf8)
    expect(Buffer.from(bytes).toString('base64')).toBe(d.payloadBase64)
    expect(Buffer.from(bytes).toString('base64')).toBe(samples.derivedSamples[1]!.payloadBase64)
  })

  it('escapes non-ASCII like Python ensure_ascii (lower-case \\uXXXX)', () => {
    const out = text(buildSignaturePayload(`gcr.iö/p/i@${HELLO}`))
    expect(out).toContain('"docker-reference": "gcr.i\\u00f6/p/i"')
    expect(/^[ -~\n]*$/.test(out)).toBe(true)
  })

  it.each([
    ['no registry (nginx)', `nginx@${HELLO}`, /A Docker registry domain must be specified/],
    ['no registry (library/ubuntu)', `library/ubuntu@${HELLO}`, /A Docker registry domain must be specified/],
    ['localhost has no registry domain', `localhost/foo@${HELLO}`, /A Docker registry domain must be specified/],
    ['host:port without scheme (urlparse reads a scheme)', `gcr.io:443/p/i@${HELLO}`, /does not have a host component/],
    ['tag only', 'gcr.io/p/i:1.0', /must be fully qualified \(e\.g\.registry\/repository@digest\)/],
    ['two @', `gcr.io/p/i@${HELLO}@${HELLO}`, /must be fully qualified/],
    ['short digest', 'gcr.io/p/i@sha256:123', /Invalid digest: sha256:123, must be at least 71 characters/],
    ['upper-case hex', `gcr.io/p/i@sha256:${'A'.repeat(64)}`, /Invalid digest/],
    ['sha512 of 64 hex (gcloud quirk; rejected here)', `gcr.io/p/i@sha512:${'a'.repeat(64)}`, /expected sha256/],
    ['upper-case repository', `gcr.io/P/i@${HELLO}`, /Invalid repository/],
    ['one-character repository', `gcr.io/i@${HELLO}`, /must be at least 2 characters/],
    ['empty', '', /empty/],
  ])('rejects %s', (_name, input, re) => {
    expect(() => buildSignaturePayload(input)).toThrowWithCode('INVALID_REFERENCE', re)
  })

  it('parseArtifactUrl keeps the tag for information', () => {
    expect(parseArtifactUrl(`gcr.io/p/i:v1@${HELLO}`)).toEqual({registry: 'gcr.io', repository: 'p/i', tag: 'v1', digest: HELLO})
  })
})

describe('parsePayload', () => {
  it('parses what buildSignaturePayload writes, without warnings', () => {
    expect(parsePayload(buildSignaturePayload(`gcr.io/p/i@${DIGEST}`))).toEqual({
      ok: true,
      digest: DIGEST,
      dockerReference: 'gcr.io/p/i',
      type: 'Google cloud binauthz container signature',
      warnings: [],
    })
  })

  it.each([
    ['kritis atomic type, tabs, no trailing LF', samples.derivedSamples[2]!.payloadUtf8!, 0],
    [
      'extra fields and optional',
      JSON.stringify({
        critical: {identity: {'docker-reference': 'x/y'}, image: {'docker-manifest-digest': DIGEST}, type: 'atomic container signature', extra: 1},
        optional: {creator: 'me'},
        more: [1],
      }),
      0,
    ],
    [
      'unknown type → warning only',
      JSON.stringify({critical: {identity: {'docker-reference': 'x/y'}, image: {'docker-manifest-digest': DIGEST}, type: 'something else'}}),
      1,
    ],
    ['no type, no identity → warnings', JSON.stringify({critical: {image: {'docker-manifest-digest': DIGEST}}}), 2],
  ])('accepts %s', (_name, payload, warnings) => {
    const r = parsePayload(utf8(payload))
    expect(r.ok).toBe(true)
    if (r.ok) {
      expect(r.digest).toBe(DIGEST)
      expect(r.warnings).toHaveLength(warnings)
    }
  })

  it.each([
    ['not JSON', 'good payload', /^Signature verified, but unexpected message was signed: the payload is not JSON/],
    ['empty', '', /not JSON/],
    ['JSON array', '[1]', /not an object/],
    ['no critical', '{"image": {}}', /no "critical" object/],
    ['no digest', '{"critical": {"image": {}}}', /no critical\.image\.docker-manifest-digest/],
    ['digest not a string', '{"critical": {"image": {"docker-manifest-digest": 5}}}', /docker-manifest-digest/],
  ])('rejects %s', (_name, payload, re) => {
    const r = parsePayload(utf8(payload))
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason).toMatch(re)
  })

  it('rejects invalid UTF-8', () => {
    const r = parsePayload(new Uint8Array([0xff, 0xfe, 0x7b]))
    expect(r).toEqual({ok: false, reason: expect.stringMatching(/not UTF-8/)})
  })
})
