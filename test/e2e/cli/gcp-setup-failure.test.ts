/**
 * A Google client that cannot be set up (no Application Default Credentials) is reported as "could not check",
 * never a crash. google-gax rethrows a set-up failure met inside a call where no caller can catch it, which
 * killed the process with an unhandled rejection (exit 1, a Node stack trace) before every client was set up
 * first (openGaxClient in src/adapters/gcp/common.ts). Runs the built CLI; nothing leaves the machine (the metadata
 * server is a local trap, the credentials file does not exist).
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCli} from '../../support/cli.js'
import {startMetadataTrap, type MetadataTrap} from '../../support/metadata-trap.js'

let metadata: MetadataTrap
let dir: string

beforeAll(async () => {
  metadata = await startMetadataTrap()
  dir = mkdtempSync(join(tmpdir(), 'sd-gcp-setup-'))
  // A GKE context (its name gives project, location and cluster) whose API server nothing may reach.
  writeFileSync(
    join(dir, 'kubeconfig'),
    `apiVersion: v1
kind: Config
clusters:
- name: gke_my-proj_us-central1_prod
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: gke_my-proj_us-central1_prod
  context: {cluster: gke_my-proj_us-central1_prod, user: u}
current-context: gke_my-proj_us-central1_prod
users:
- name: u
  user: {token: not-a-real-token}
`,
  )
  writeFileSync(
    join(dir, 'pod.yaml'),
    `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec:
  containers:
  - name: c
    image: registry.example/app@sha256:${'0'.repeat(64)}
`,
  )
  writeFileSync(
    join(dir, 'policy.yaml'),
    'defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\nglobalPolicyEvaluationMode: DISABLE\n',
  )
  mkdirSync(join(dir, 'attestors'))
  mkdirSync(join(dir, 'attestations'))
})

afterAll(async () => {
  await metadata?.stop()
})

describe('a Google client without credentials', () => {
  it('apply --require-enforcement: the GKE API cannot be asked → exit 4 with the reason, no crash, nothing sent', async () => {
    const r = await runCli(
      [
        'apply',
        '-f',
        join(dir, 'pod.yaml'),
        '--policy',
        join(dir, 'policy.yaml'),
        '--attestors',
        join(dir, 'attestors'),
        '--attestations',
        join(dir, 'attestations'),
        '--require-enforcement',
        '--yes',
      ],
      {env: metadata.env(dir, {KUBECONFIG: join(dir, 'kubeconfig')})},
    )
    expect(r.stderr).not.toMatch(/UnhandledPromiseRejection|^Node\.js v/m)
    expect(r.code).toBe(4)
    expect(r.stderr).toContain('connecting to the GKE API: no Google credentials')
  })
})
