/** policy lint / explain over fake ports: what is gathered (policy text, audit history, attestors) and what is refused. */
import {describe, expect, it} from '@jest/globals'
import {policyExplain, policyLint, type PolicyLintPorts} from '../../../src/app/policy.js'
import type {Attestor} from '../../../src/core/attestation/types.js'
import {SafeDeployError} from '../../../src/core/errors.js'

const CI = 'projects/acme/attestors/built-by-ci'
const SCAN = 'projects/acme/attestors/scanned'
const POLICY = `name: projects/acme/policy
globalPolicyEvaluationMode: ENABLE
defaultAdmissionRule:
  evaluationMode: REQUIRE_ATTESTATION
  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG
  requireAttestationsBy:
  - ${CI}
clusterAdmissionRules:
  us-central1.prod:
    evaluationMode: REQUIRE_ATTESTATION
    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG
    requireAttestationsBy:
    - ${CI}
    - ${SCAN}
`
const attestor = (name: string): Attestor => ({
  name,
  noteReference: name.replace('/attestors/', '/notes/'),
  source: 'fake',
  publicKeys: [{kind: 'pkix', id: 'k', publicKeyPem: '', signatureAlgorithm: 'ECDSA_P256_SHA256'}],
})
const text = (t = POLICY) => ({read: async () => ({text: t, file: 'policy.yaml'})})
const noAudit = {file: 'audit.jsonl', read: async () => undefined}
const codes = (r: {findings: Array<{code: string}>}) => r.findings.map((f) => f.code)

describe('policyLint', () => {
  it('asks for each attestor the policy names once; ATTESTOR_UNKNOWN becomes "missing" (a finding, not a failure)', async () => {
    const asked: string[] = []
    const ports: PolicyLintPorts = {
      policy: text(),
      audit: noAudit,
      attestors: {
        getAttestor: async (name) => {
          asked.push(name)
          if (name === SCAN) throw new SafeDeployError('ATTESTOR_UNKNOWN', `attestor ${name} not found`)
          return attestor(name)
        },
      },
    }
    const r = await policyLint({}, ports)
    expect(asked).toEqual([CI, SCAN])
    expect(r.findings.filter((f) => f.code === 'W_ATTESTOR_NOT_FOUND')).toEqual([expect.objectContaining({message: expect.stringContaining(SCAN)})])
  })
  it('any other attestor error is a failure to check (thrown)', async () => {
    const ports: PolicyLintPorts = {
      policy: text(),
      audit: noAudit,
      attestors: {
        getAttestor: async () => {
          throw new SafeDeployError('API_AUTH', 'denied')
        },
      },
    }
    await expect(policyLint({}, ports)).toThrowWithCode('API_AUTH')
  })
  it("no attestor port: attestors are not checked; a policy that does not parse is lint's finding", async () => {
    expect(codes(await policyLint({}, {policy: text(), audit: noAudit}))).not.toContain('W_ATTESTOR_NOT_FOUND')
    const bad = await policyLint(
      {},
      {
        policy: text('defaultAdmissionRule: [\n'),
        audit: noAudit,
        attestors: {
          getAttestor: async () => {
            throw new Error('not asked')
          },
        },
      },
    )
    expect(codes(bad)).toEqual(['E_POLICY_INVALID'])
  })
  it('the audit history counts dry-run decisions; none yet: enforced rules are flagged', async () => {
    const audit = (records: unknown[]) => ({file: 'audit.jsonl', read: async () => ({records, problems: []})})
    const enforced = await policyLint(
      {},
      {policy: text(), audit: audit([{images: [{verdict: 'ALLOW', rule: {enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG'}}]}])},
    )
    expect(enforced.findings.filter((f) => f.code === 'W_ENFORCED_WITHOUT_DRYRUN').map((f) => f.message)).toEqual([
      expect.stringContaining('(audit.jsonl, 1 record(s))'),
      expect.stringContaining('(audit.jsonl, 1 record(s))'),
    ])
    const tried = await policyLint({}, {policy: text(), audit: audit([{images: [{verdict: 'DRYRUN_DENY'}]}])})
    expect(codes(tried)).not.toContain('W_ENFORCED_WITHOUT_DRYRUN')
    expect(codes(await policyLint({}, {policy: text(), audit: noAudit}))).not.toContain('W_ENFORCED_WITHOUT_DRYRUN')
  })
  it('an audit log named on the command line must exist (an input error, exit 3)', async () => {
    await expect(policyLint({requireAuditLog: true}, {policy: text(), audit: {file: 'nope.jsonl', read: async () => undefined}})).toThrowWithCode(
      'INVALID_INPUT',
      /--audit-log nope\.jsonl does not exist/,
    )
  })
})

describe('policyExplain', () => {
  const system = () => ({patterns: ['gcr.io/gke-release/*'], approximate: true})
  it('explains the rule selected for the cluster', async () => {
    const r = await policyExplain({platform: 'gke', cluster: 'us-central1.prod'}, {policy: text(), systemAllowlist: system})
    expect(r).toMatchObject({kind: 'cluster', key: 'us-central1.prod', attestorsRequired: [CI, SCAN]})
    expect((await policyExplain({platform: 'gke'}, {policy: text(), systemAllowlist: system})).attestorsRequired).toEqual([CI])
  })
  it('refuses a --cluster that is not LOCATION.NAME before reading the policy', async () => {
    let read = false
    const policy = {
      read: async () => {
        read = true
        return {text: POLICY, file: 'policy.yaml'}
      },
    }
    await expect(policyExplain({platform: 'gke', cluster: 'prod'}, {policy, systemAllowlist: system})).toThrowWithCode(
      'USAGE',
      /--cluster expects LOCATION\.NAME/,
    )
    expect(read).toBe(false)
  })
})
