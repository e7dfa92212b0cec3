import {describe, expect, it} from '@jest/globals'
import {isSafeDeployError, type SafeDeployError} from '../../../../src/core/errors.js'
import {prepareRequirement, thresholdsNote} from '../../../../src/core/signatures/requirement.js'
import type {SignatureRequirement} from '../../../../src/core/signatures/types.js'
import {keylessMaterial, testKey} from '../../../support/sigstore.js'

const ci = testKey('ci.pub')

function thrown(fn: () => unknown): SafeDeployError {
  try {
    fn()
  } catch (err) {
    if (isSafeDeployError(err)) return err
    throw err
  }
  throw new Error('expected a SafeDeployError')
}

const req = (over: Partial<SignatureRequirement>): SignatureRequirement => ({keys: [], identities: [], attestationTypes: [], ...over})
const ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
}

describe('prepareRequirement', () => {
  it('rejects an invalid key PEM with KEY_INVALID naming the file, even beside a good key', () => {
    const e = thrown(() =>
      prepareRequirement(
        req({
          keys: [
            {name: 'ci.pub', pem: ci.publicKeyPem},
            {name: 'broken.pub', pem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'},
          ],
        }),
      ),
    )
    expect(e.code).toBe('KEY_INVALID')
    expect(e.exitCode).toBe(7)
    expect(e.message).toMatch(/^broken\.pub: not a PEM public key/)
    expect(e.hint).toMatch(/PEM public key/)
  })

  it('rejects a private key given as a trusted key', () => {
    const e = thrown(() => prepareRequirement(req({keys: [{name: 'cosign.key', pem: ci.privateKeyPem}]})))
    expect(e.code).toBe('KEY_INVALID')
    expect(e.message).toBe('cosign.key: is a private key, expected the public key')
  })

  it('needs a trusted root for keyless identities', () => {
    const e = thrown(() => prepareRequirement(req({identities: [{subject: 'ci@example.com', issuer: 'https://accounts.google.com'}]})))
    expect(e.code).toBe('USAGE')
    expect(e.hint).toContain('--sigstore-trusted-root FILE')
  })

  it('checks identities: issuer, exactly one of subject/regexp, a valid regexp', () => {
    const root = {name: 'root.json', json: ROOT}
    expect(thrown(() => prepareRequirement(req({identities: [{subject: 'a', issuer: ''}], trustedRoot: root}))).message).toMatch(/no OIDC issuer/)
    expect(thrown(() => prepareRequirement(req({identities: [{subject: 'a', subjectRegexp: 'a', issuer: 'i'}], trustedRoot: root}))).message).toMatch(
      /got both/,
    )
    expect(thrown(() => prepareRequirement(req({identities: [{issuer: 'i'}], trustedRoot: root}))).message).toMatch(/got neither/)
    const bad = thrown(() => prepareRequirement(req({identities: [{subjectRegexp: '(', issuer: 'i'}], trustedRoot: root})))
    expect(bad.code).toBe('USAGE')
    expect(bad.message).toMatch(/invalid regular expression "\("/)
  })

  it('rejects a trusted root that is not one, naming the file', () => {
    const e = thrown(() => prepareRequirement(req({keys: [{name: 'ci.pub', pem: ci.publicKeyPem}], trustedRoot: {name: 'root.json', json: {hello: 1}}})))
    expect(e.code).toBe('KEY_INVALID')
    expect(e.message).toMatch(/^root\.json: not a Sigstore trusted root/)
    const broken = {...ROOT, certificateAuthorities: [{certChain: {certificates: [{rawBytes: 'AAAA'}]}, validFor: {start: '2020-01-01T00:00:00Z'}}]}
    const e2 = thrown(() => prepareRequirement(req({keys: [{name: 'ci.pub', pem: ci.publicKeyPem}], trustedRoot: {name: 'root.json', json: broken}})))
    expect(e2.code).toBe('KEY_INVALID')
    expect(e2.message).toMatch(/^root\.json: invalid Sigstore trusted root/)
  })

  it('rejects a keyless trusted root that could never verify (no CA, or no log nor TSA)', () => {
    const e = thrown(() => prepareRequirement(req({identities: [{subject: 'a', issuer: 'i'}], trustedRoot: {name: 'root.json', json: ROOT}})))
    expect(e.code).toBe('KEY_INVALID')
    expect(e.message).toMatch(/lists no certificate authority/)
  })

  it('anchors identity regexps and chooses keyless thresholds from what the trusted root lists', async () => {
    const m = await keylessMaterial({san: 'ci@example.com', issuer: 'https://accounts.example.com'})
    const prepared = prepareRequirement(
      req({identities: [{subjectRegexp: 'ci@example\\.com', issuer: 'https://accounts.example.com'}], trustedRoot: {name: 'root.json', json: m.trustedRoot}}),
    )
    const re = prepared.identities[0]?.subjectRegexp as RegExp
    expect(re.test('ci@example.com')).toBe(true)
    expect(re.test('ci@example.com.attacker.net')).toBe(false)
    expect(re.test('evil-ci@example.com')).toBe(false)
    // The fixture root lists one Rekor log and no CT log nor TSA.
    expect(prepared.keyless?.thresholds).toEqual({tlog: 1, timestamps: 1, ctlog: 0})
    expect(thresholdsNote(prepared)).toMatch(
      /keyless \(root\.json\): tlog 1, timestamps 1, ctlog 0 \(keyless: the trusted root root\.json lists 1 transparency log/,
    )
  })

  it('records keyed thresholds for the report', () => {
    const prepared = prepareRequirement(req({keys: [{name: 'ci.pub', pem: ci.publicKeyPem}]}))
    expect(prepared.keyedThresholds).toEqual({tlog: 0, timestamps: 0, ctlog: 0})
    expect(thresholdsNote(prepared)).toMatch(/^signature thresholds: keyed \(ci\.pub\): tlog 0, timestamps 0, ctlog 0/)
  })

  it('needs a key or an identity', () => {
    expect(thrown(() => prepareRequirement(req({}))).code).toBe('USAGE')
  })
})
