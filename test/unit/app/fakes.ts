/** Plain fakes for the use cases' ports: object literals, no module mocking. */
import {SafeDeployError} from '../../../src/core/errors.js'
import {parsePolicyText} from '../../../src/core/policy/parse.js'
import {buildSignaturePayload} from '../../../src/core/attestation/payload.js'
import {buildOccurrence, pemSigner} from '../../../src/core/attestation/sign.js'
import {defaultPkixKeyId} from '../../../src/core/attestation/keys.js'
import {parseOccurrences} from '../../../src/core/attestation/parse.js'
import type {Attestor, AttestationOccurrence} from '../../../src/core/attestation/types.js'
import type {DigestResolver, InputReader, ResolveRequest} from '../../../src/core/ports.js'
import type {PreflightOptions, TrustSources} from '../../../src/app/preflight.js'
import {SYSTEM_ALLOWLIST} from '../../../src/core/policy/allowlist.js'
import {testKey} from '../core/attestation/helpers.js'

export const digest = (n: number): string => 'sha256:' + n.toString(16).padStart(64, '0')

export function reader(files: Record<string, string>): InputReader & {reads: number} {
  const r = {
    reads: 0,
    read: async (inputs: {files: string[]}) => {
      r.reads++
      return inputs.files.map((file) => {
        const text = files[file]
        if (text === undefined) throw new SafeDeployError('USAGE', `${file}: no such file`)
        return {file, text}
      })
    },
  }
  return r
}

/** A registry: references (as written, or domain/path:tag) → digests; anything else is not found. Records every lookup. */
export function registry(tags: Record<string, string>): DigestResolver & {asked: string[]} {
  const asked: string[] = []
  return {
    asked,
    resolveAll: async (reqs: readonly ResolveRequest[]) =>
      reqs.map((r) => {
        asked.push(r.image)
        const d = tags[r.image] ?? tags[`${r.domain}/${r.path}:${r.reference}`]
        return d === undefined
          ? {ok: false as const, error: new SafeDeployError('REGISTRY_NOT_FOUND', `${r.image}: manifest unknown`)}
          : {ok: true as const, value: {image: r.image, digest: d, mediaType: 'application/vnd.oci.image.index.v1+json', registry: r.domain}}
      }),
  }
}

export function deploymentYaml(name: string, image: string, namespace = 'apps'): string {
  return `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ${image} # keep this comment\n`
}

export const ATTESTOR = 'projects/p/attestors/built-by-ci'

export function policy(rule: 'attest' | 'deny' | 'allow', opts: {dryRun?: boolean} = {}): string {
  const mode = opts.dryRun ? 'DRYRUN_AUDIT_LOG_ONLY' : 'ENFORCED_BLOCK_AND_AUDIT_LOG'
  const evaluation = {attest: 'REQUIRE_ATTESTATION', deny: 'ALWAYS_DENY', allow: 'ALWAYS_ALLOW'}[rule]
  return (
    `globalPolicyEvaluationMode: ENABLE\ndefaultAdmissionRule:\n  evaluationMode: ${evaluation}\n  enforcementMode: ${mode}\n` +
    (rule === 'attest' ? `  requireAttestationsBy:\n    - ${ATTESTOR}\n` : '')
  )
}

/** Trust material over values: a policy, one attestor with a fresh EC key, attestations for the given images. */
export async function trust(policyText: string, attestedImages: string[] = []): Promise<TrustSources & {listed: string[]; closed: boolean}> {
  const key = await testKey({ec: 'P-256'})
  const keyId = defaultPkixKeyId(key.publicPem)
  const attestor: Attestor = {
    name: ATTESTOR,
    noteReference: 'projects/p/notes/built-by-ci',
    source: 'test',
    publicKeys: [{kind: 'pkix', id: keyId, publicKeyPem: key.publicPem, signatureAlgorithm: 'ECDSA_P256_SHA256'}],
  }
  const occurrences: AttestationOccurrence[] = []
  for (const image of attestedImages) {
    const payload = buildSignaturePayload(image)
    const signer = pemSigner(key.privatePem, 'ECDSA_P256_SHA256', keyId)
    const occ = buildOccurrence({imageWithDigest: image, noteName: attestor.noteReference, payload, signature: await signer.sign(payload), keyId})
    occurrences.push(...parseOccurrences(JSON.parse(JSON.stringify(occ)), 'test'))
  }
  const t = {
    listed: [] as string[],
    closed: false,
    policy: {getPolicy: async () => parsePolicyText(policyText, 'policy.yaml')},
    attestors: {
      getAttestor: async (name: string) => {
        if (name !== ATTESTOR) throw new SafeDeployError('ATTESTOR_UNKNOWN', `attestor ${name} not found`)
        return attestor
      },
    },
    attestations: {
      listAttestations: async (q: {noteName: string; digest: string}) => {
        t.listed.push(q.digest)
        return occurrences.filter((o) => o.noteName === q.noteName && o.resourceUri.endsWith(q.digest))
      },
    },
    close: async () => {
      t.closed = true
    },
  }
  return t
}

/** Pre-flight options for one manifest file `a.yaml` on GKE, namespace default; `over` replaces any of them. */
export function preflightOptions(over: Partial<PreflightOptions> = {}): PreflightOptions {
  return {
    target: {platform: 'gke', namespace: 'default'},
    inputs: {files: ['a.yaml'], recursive: false, kustomizeDirs: []},
    images: [],
    rules: [],
    resolve: true,
    replayingLock: false,
    stripTag: false,
    breakGlass: false,
    systemAllowlist: {patterns: [...SYSTEM_ALLOWLIST], approximate: true},
    ...over,
  }
}
