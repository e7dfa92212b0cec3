/** Keys, policies and occurrences shared by the platform-policy tests (generated per run: nothing secret is stored). */
import {generateKeyPairSync, sign} from 'node:crypto'
import {buildSignaturePayload} from '../../../../src/core/attestation/payload.js'
import {defaultPkixKeyId} from '../../../../src/core/attestation/keys.js'
import type {AttestationOccurrence} from '../../../../src/core/attestation/types.js'
import {parsePlatformPolicyText} from '../../../../src/core/platform-policy/parse.js'
import type {PlatformPolicy} from '../../../../src/core/platform-policy/types.js'

export function ecKey() {
  const {publicKey, privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  const pem = publicKey.export({type: 'spki', format: 'pem'}).toString()
  return {pem, privateKey, keyId: defaultPkixKeyId(pem)}
}

export const KEY_A = ecKey()
export const KEY_B = ecKey()

/** The PEM indented for a YAML block scalar at `indent` spaces. */
export function pemBlock(pem: string, indent: number): string {
  return pem
    .trim()
    .split('\n')
    .map((l) => ' '.repeat(indent) + l)
    .join('\n')
}

export const DIGEST = 'sha256:' + '1'.repeat(64)
export const DIGEST2 = 'sha256:' + '2'.repeat(64)

/** A classic ATTESTATION occurrence over `name@digest`, signed by `key` (or with a payload for `payloadDigest`). */
export function attestation(
  name: string,
  digest: string,
  key: ReturnType<typeof ecKey>,
  opts: {payloadDigest?: string; keyId?: string; id?: string} = {},
): AttestationOccurrence {
  const payload = buildSignaturePayload(`${name}@${opts.payloadDigest ?? digest}`)
  const signature = sign('sha256', payload, {key: key.privateKey, dsaEncoding: 'der'})
  return {
    name: `projects/attestations/occurrences/${opts.id ?? 'o1'}`,
    resourceUri: `https://${name}@${digest}`,
    noteName: 'projects/attestations/notes/qa',
    serializedPayload: payload,
    signatures: [{publicKeyId: opts.keyId ?? key.keyId, signature: new Uint8Array(signature)}],
    jwts: [],
    source: 'test',
  }
}

export function policy(yaml: string, file = 'policy.yaml'): PlatformPolicy {
  return parsePlatformPolicyText(yaml, file)
}

/** DOC-CV "Use multiple check sets", the policy of spec §11. */
export const MULTI_SET_POLICY = `gkePolicy:
  checkSets:
  - displayName: Prod check set
    scope:
      kubernetesNamespace: prod
    checks:
    - trustedDirectoryCheck:
        trustedDirPatterns:
        - gcr.io/my-project/prod-images
      displayName: Trusted directory check
    - imageFreshnessCheck:
        maxUploadAgeDays: 30
      displayName: Freshness check
  - displayName: Dev check set
    scope:
      kubernetesNamespace: dev
    checks:
    - trustedDirectoryCheck:
        trustedDirPatterns:
        - gcr.io/my-project/dev-images
      displayName: Trusted directory check
  - displayName: Default check set
    checks:
    - alwaysDeny: true
`
