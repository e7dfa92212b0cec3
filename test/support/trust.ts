/**
 * Trust material for CLI tests: a real EC/RSA key pair, an attestor JSON as
 * `gcloud container binauthz attestors describe --format=json` writes it, and policy files.
 */
import {generateKeyPairSync, createHash} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

export interface TestAttestor {
  name: string
  note: string
  keyId: string
  privateKeyFile: string
  publicKeyPem: string
  algorithm: string
}

export function defaultKeyId(publicKeyPem: string): string {
  const der = Buffer.from(publicKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
  return 'ni:///sha-256;' + createHash('sha256').update(der).digest('base64url')
}

/** Write an attestor (ECDSA P-256 by default) into attestorsDir and its private key into keysDir. */
export function makeAttestor(attestorsDir: string, keysDir: string, project: string, name: string, kind: 'ec' | 'rsa' = 'ec'): TestAttestor {
  mkdirSync(attestorsDir, {recursive: true})
  mkdirSync(keysDir, {recursive: true})
  const {privateKey, publicKey} = kind === 'ec' ? generateKeyPairSync('ec', {namedCurve: 'P-256'}) : generateKeyPairSync('rsa', {modulusLength: 2048})
  const publicKeyPem = publicKey.export({type: 'spki', format: 'pem'}).toString()
  const privateKeyFile = join(keysDir, `${name}.pem`)
  writeFileSync(privateKeyFile, privateKey.export({type: 'pkcs8', format: 'pem'}).toString(), {mode: 0o600})
  const algorithm = kind === 'ec' ? 'ECDSA_P256_SHA256' : 'RSA_SIGN_PKCS1_2048_SHA256'
  const keyId = defaultKeyId(publicKeyPem)
  const full = `projects/${project}/attestors/${name}`
  const note = `projects/${project}/notes/${name}`
  writeFileSync(
    join(attestorsDir, `${name}.json`),
    JSON.stringify(
      {
        name: full,
        updateTime: '2026-11-01T00:00:00Z',
        userOwnedGrafeasNote: {
          noteReference: note,
          publicKeys: [{id: keyId, pkixPublicKey: {publicKeyPem, signatureAlgorithm: algorithm}}],
          delegationServiceAccountEmail: 'service-123@gcp-sa-binaryauthorization.iam.gserviceaccount.com',
        },
      },
      null,
      2,
    ),
  )
  return {name: full, note, keyId, privateKeyFile, publicKeyPem, algorithm}
}

export function requireAttestationPolicy(
  attestors: string[],
  enforcement: 'ENFORCED_BLOCK_AND_AUDIT_LOG' | 'DRYRUN_AUDIT_LOG_ONLY' = 'ENFORCED_BLOCK_AND_AUDIT_LOG',
  extra = '',
): string {
  return `# exported with gcloud container binauthz policy export
admissionWhitelistPatterns:
- namePattern: gcr.io/google_containers/*
defaultAdmissionRule:
  evaluationMode: REQUIRE_ATTESTATION
  enforcementMode: ${enforcement}
  requireAttestationsBy:
${attestors.map((a) => `  - ${a}`).join('\n')}
globalPolicyEvaluationMode: ENABLE
name: projects/test-proj/policy
${extra}`
}
