/** The registry signature requirement: the profile's requireSignatures, the --sigstore-* flags over it, and what is refused. */
import {describe, expect, it} from '@jest/globals'
import {resolveSettings} from '../../../src/cli/options.js'
import {parseConfigText, type Profile} from '../../../src/core/config.js'
import {SafeDeployError} from '../../../src/core/errors.js'

const config = (body: string): Profile => {
  const cfg = parseConfigText(`profiles:\n  prod:\n${body}`, '.safe-deploy.yaml')
  return cfg.profiles['prod'] as Profile
}

describe('requireSignatures (profile) and --sigstore-* (flags)', () => {
  it('no key and no identity: no requirement', () => {
    expect(resolveSettings({}, undefined).signatures).toBeUndefined()
  })

  it('the profile turns it on; each flag wins over its profile key', () => {
    const p = config(
      '    requireSignatures:\n      keys: [keys/ci.pub]\n      attestationTypes: [https://slsa.dev/provenance/v1]\n      repository: gcr.io/p/sigs\n',
    )
    expect(resolveSettings({}, p).signatures).toEqual({
      keys: ['keys/ci.pub'],
      identities: [],
      attestationTypes: ['https://slsa.dev/provenance/v1'],
      repository: 'gcr.io/p/sigs',
    })
    expect(resolveSettings({'sigstore-key': ['other.pub']}, p).signatures?.keys).toEqual(['other.pub'])
  })

  it('a keyless identity from the flags (subject or regexp, with the issuer)', () => {
    const s = resolveSettings(
      {
        'sigstore-identity-regexp': '^https://github.com/acme/.*$',
        'sigstore-issuer': 'https://token.actions.githubusercontent.com',
        'sigstore-trusted-root': 'root.json',
      },
      undefined,
    )
    expect(s.signatures).toMatchObject({
      identities: [{subjectRegexp: '^https://github.com/acme/.*$', issuer: 'https://token.actions.githubusercontent.com'}],
      trustedRoot: 'root.json',
    })
  })

  it('an identity without an issuer, or an issuer alone, is a usage error', () => {
    expect(() => resolveSettings({'sigstore-identity': 'me@example.com'}, undefined)).toThrow(SafeDeployError)
    expect(() => resolveSettings({'sigstore-issuer': 'https://accounts.google.com'}, undefined)).toThrow(/--sigstore-identity/)
  })

  it('an attestation type or a trusted root without a signer is refused, not silently ignored', () => {
    expect(() => resolveSettings({'sigstore-attestation-type': ['https://slsa.dev/provenance/v1']}, undefined)).toThrow(/without a signer to verify with/)
  })

  it('requireSignatures is validated with its line: unknown keys, identities without issuer, not a list', () => {
    let err: unknown
    try {
      config('    requireSignatures:\n      keys: keys/ci.pub\n      identities:\n        - {subject: me}\n      trust: x\n')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(SafeDeployError)
    const messages = (err as SafeDeployError).errors.map((e) => e.message)
    expect(messages).toEqual([
      expect.stringMatching(/^\.safe-deploy\.yaml:4: profiles\.prod\.requireSignatures\.keys: expected a list of strings/),
      expect.stringMatching(/^\.safe-deploy\.yaml:6: .*each entry needs issuer and exactly one of subject, subjectRegexp/),
      expect.stringMatching(/^\.safe-deploy\.yaml:7: .*trust: unknown key/),
    ])
  })
})
