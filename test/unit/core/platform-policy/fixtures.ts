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

// ---------------------------------------------------------------------------------------------------------------
// Cloud Build provenance (BUILD occurrences with a DSSE envelope), made here: nothing is copied from Google.

export const CLOUD_BUILD = 'https://cloudbuild.googleapis.com/GoogleHostedWorker'
/** The keyid form Cloud Build writes (a KMS key version of its own project); the key here is generated per run. */
export const GCB_KEY_ID = 'projects/verified-builder/locations/global/keyRings/attestor/cryptoKeys/provenanceSigner/cryptoKeyVersions/1'

/** DSSE's pre-authentication encoding, written from the DSSE v1 protocol text (not from the code under test). */
export function pae(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `), payload])
}

/** A SLSA v1 statement as Cloud Build writes for a trigger build (fields safe-deploy reads, plus some it ignores). */
export function slsaV1(o: {name: string; digest: string; builderId?: string; configRepo?: string | null; deps?: string[]}): object {
  const configRepo = o.configRepo === undefined ? 'git+https://github.com/my-org/app' : o.configRepo
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{name: `https://${o.name}`, digest: {sha256: o.digest.slice('sha256:'.length)}}],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://cloud.google.com/build/gcb-buildtypes/google-worker/v1',
        externalParameters: configRepo === null ? {} : {buildConfigSource: {path: 'cloudbuild.yaml', ref: 'refs/heads/main', repository: configRepo}},
        resolvedDependencies: (o.deps ?? ['git+https://github.com/my-org/app@refs/heads/main']).map((uri) => ({uri, digest: {gitCommit: 'a'.repeat(40)}})),
      },
      runDetails: {builder: {id: o.builderId ?? CLOUD_BUILD}, metadata: {invocationId: 'b1'}},
    },
  }
}

/** A SLSA v0.1 statement as Cloud Build writes for a manual `gcloud builds submit`. */
export function slsaV01(o: {name: string; digest: string; builderId?: string; materials?: string[]}): object {
  return {
    _type: 'https://in-toto.io/Statement/v0.1',
    subject: [{name: `https://${o.name}`, digest: {sha256: o.digest.slice('sha256:'.length)}}],
    predicateType: 'https://slsa.dev/provenance/v0.1',
    predicate: {
      builder: {id: o.builderId ?? `${CLOUD_BUILD}@v0.3`},
      recipe: {type: 'https://cloudbuild.googleapis.com/CloudBuildYaml@v0.1', entryPoint: 'cloudbuild.yaml'},
      materials: (o.materials ?? ['https://github.com/my-org/app']).map((uri) => ({uri, digest: {sha1: 'a'.repeat(40)}})),
    },
  }
}

/**
 * A BUILD occurrence of `name@digest` whose envelope holds `statement`, signed (PAE) by `key` under `keyId`.
 * `rawSignature` signs the bare payload instead (Cloud Build's old regional signatures); `tamper` changes the payload
 * after signing; `urlSafe` writes base64 in the URL-safe alphabet.
 */
export function buildOccurrence(
  name: string,
  digest: string,
  statement: object,
  key: ReturnType<typeof ecKey>,
  o: {keyId?: string; id?: string; project?: string; payloadType?: string; rawSignature?: boolean; tamper?: boolean; urlSafe?: boolean; envelope?: false} = {},
) {
  const payloadType = o.payloadType ?? 'application/vnd.in-toto+json'
  const payload = Buffer.from(JSON.stringify(statement))
  const sig = sign('sha256', o.rawSignature ? payload : pae(payloadType, payload), {key: key.privateKey, dsaEncoding: 'der'})
  const signed = o.tamper ? Buffer.from(JSON.stringify({...statement, tampered: true})) : payload
  const b64 = (b: Buffer) => (o.urlSafe ? b.toString('base64url') : b.toString('base64'))
  return {
    name: `projects/${o.project ?? 'builds'}/occurrences/${o.id ?? 'b1'}`,
    resourceUri: `https://${name}@${digest}`,
    noteName: 'projects/verified-builder/notes/intoto_b1',
    ...(o.envelope === false ? {} : {envelope: {payloadType, payload: b64(signed), signatures: [{keyid: o.keyId ?? GCB_KEY_ID, sig: b64(sig)}]}}),
  }
}
