import {afterAll, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {generateKeyPairSync} from 'node:crypto'
import {BinauthzApi, GcpCallError} from '../../../src/adapters/gcp/index.js'
import {SafeDeployError} from '../../../src/core/errors.js'
import {fakeAuthClient, TEST_TOKEN} from '../../support/gcp/auth.js'
import {startBinauthzRestServer, type BinauthzRestServer} from '../../support/gcp/binauthz-rest-server.js'

const POLICY = {
  name: 'projects/app/policy',
  globalPolicyEvaluationMode: 'ENABLE',
  admissionWhitelistPatterns: [{namePattern: 'gcr.io/google_containers/*'}],
  defaultAdmissionRule: {
    evaluationMode: 'REQUIRE_ATTESTATION',
    enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
    requireAttestationsBy: ['projects/sec/attestors/built-by-ci'],
  },
  clusterAdmissionRules: {'us-central1.prod': {evaluationMode: 'ALWAYS_DENY', enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY'}},
  etag: '"abc"',
  updateTime: '2026-11-01T00:00:00Z',
}
const SYSTEM_POLICY = {
  name: 'locations/global/policy',
  admissionWhitelistPatterns: [{namePattern: 'gke.gcr.io/**'}],
  defaultAdmissionRule: {evaluationMode: 'ALWAYS_DENY', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG'},
}
const PEM = generateKeyPairSync('ec', {namedCurve: 'P-256'}).publicKey.export({type: 'spki', format: 'pem'}).toString()
const ATTESTOR = {
  name: 'projects/sec/attestors/built-by-ci',
  description: 'CI',
  userOwnedGrafeasNote: {
    noteReference: 'projects/sec/notes/built-by-ci',
    publicKeys: [
      {
        id: '//cloudkms.googleapis.com/v1/projects/sec/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1',
        pkixPublicKey: {publicKeyPem: PEM, signatureAlgorithm: 'ECDSA_P256_SHA256'},
      },
    ],
    delegationServiceAccountEmail: 'service-1@gcp-sa-binaryauthorization.iam.gserviceaccount.com',
  },
  updateTime: '2026-11-01T00:00:00Z',
}

describe('BinauthzApi against a local Binary Authorization REST server', () => {
  let server: BinauthzRestServer
  let api: BinauthzApi
  const errors: unknown[] = []
  const make = (extra: Record<string, unknown> = {}) =>
    new BinauthzApi({project: 'app', endpoint: server.endpoint, insecure: true, authClient: fakeAuthClient(), retryDelayMs: 5, maxRetries: 2, ...extra})
  const capture = async (p: Promise<unknown>): Promise<SafeDeployError> => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    )
    errors.push(e)
    expect(e).toBeInstanceOf(SafeDeployError)
    return e as SafeDeployError
  }

  beforeAll(async () => {
    server = await startBinauthzRestServer()
    server.state.policies.set('app', POLICY)
    server.state.systemPolicies.set('global', SYSTEM_POLICY)
    server.state.attestors.set(ATTESTOR.name, ATTESTOR)
    server.state.attestors.set('projects/app/attestors/local', {
      ...ATTESTOR,
      name: 'projects/app/attestors/local',
      userOwnedGrafeasNote: undefined,
      userOwnedDrydockNote: {noteReference: 'projects/app/notes/local', publicKeys: []},
    })
    server.state.requiredToken = TEST_TOKEN
    api = make()
  })
  afterAll(async () => {
    await server.stop()
  })
  beforeEach(() => {
    server.requests.length = 0
    server.clearFaults()
  })

  it('GET v1/projects/{p}/policy → Policy, with the bearer token', async () => {
    const p = await api.getPolicy()
    expect(p.source).toBe('projects/app/policy')
    expect(p.globalPolicyEvaluationMode).toBe('ENABLE')
    expect(p.admissionWhitelistPatterns).toEqual([{namePattern: 'gcr.io/google_containers/*'}])
    expect(p.defaultAdmissionRule).toEqual({
      evaluationMode: 'REQUIRE_ATTESTATION',
      enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
      requireAttestationsBy: ['projects/sec/attestors/built-by-ci'],
    })
    expect(p.clusterAdmissionRules['us-central1.prod']).toMatchObject({evaluationMode: 'ALWAYS_DENY', enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY'})
    expect(server.requests).toEqual([{method: 'GET', path: '/v1/projects/app/policy', hasAuthorization: true}])
  })

  it('GET v1/locations/{loc}/policy → the system policy', async () => {
    const p = await api.getSystemPolicy()
    expect(p.source).toBe('locations/global/policy')
    expect(p.admissionWhitelistPatterns[0]!.namePattern).toBe('gke.gcr.io/**')
    expect(server.requests[0]!.path).toBe('/v1/locations/global/policy')
  })

  it('GET v1/projects/{p}/attestors/{a} → Attestor (full or short name; v1beta1 drydock note too)', async () => {
    const a = await api.getAttestor('projects/sec/attestors/built-by-ci')
    expect(a).toEqual({
      name: ATTESTOR.name,
      description: 'CI',
      noteReference: 'projects/sec/notes/built-by-ci',
      source: ATTESTOR.name,
      publicKeys: [{kind: 'pkix', id: ATTESTOR.userOwnedGrafeasNote.publicKeys[0]!.id, publicKeyPem: PEM, signatureAlgorithm: 'ECDSA_P256_SHA256'}],
    })
    const local = await api.getAttestor('local')
    expect(local).toMatchObject({name: 'projects/app/attestors/local', noteReference: 'projects/app/notes/local', publicKeys: []})
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/projects/sec/attestors/built-by-ci', '/v1/projects/app/attestors/local'])
  })

  it('404 attestor → ATTESTOR_UNKNOWN; 404 policy → API_ERROR', async () => {
    const a = await capture(api.getAttestor('projects/sec/attestors/missing'))
    expect(a.code).toBe('ATTESTOR_UNKNOWN')
    expect(a.message).toMatch(/projects\/sec\/attestors\/missing/)
    expect(a.hint).toMatch(/attestors list --project sec/)
    const p = await capture(make({project: 'other'}).getPolicy())
    expect(p.code).toBe('API_ERROR')
    expect(p.message).toMatch(/project other/)
    expect(server.requests.length).toBe(2) // 404s are not retried
  })

  it('a policy the strict parser rejects is POLICY_INVALID naming the API source', async () => {
    server.state.policies.set('broken', {defaultAdmissionRule: {evaluationMode: 'SOMETIMES', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG'}})
    await expect(make({project: 'broken'}).getPolicy()).toThrowWithCode('POLICY_INVALID', /projects\/broken\/policy/)
  })

  it('403 → API_AUTH naming the project and the likely missing permission', async () => {
    server.failNext('/policy', 403, {message: "Permission 'binaryauthorization.policy.get' denied on resource"})
    const e = await capture(api.getPolicy())
    expect(e.code).toBe('API_AUTH')
    expect(e.message).toMatch(/project app/)
    expect(e.hint).toMatch(/binaryauthorization\.policy\.get/)
    expect(e.hint).toMatch(/in project app/)
    server.failNext('/attestors/', 403)
    const a = await capture(api.getAttestor('projects/sec/attestors/built-by-ci'))
    expect(a.hint).toMatch(/binaryauthorization\.attestors\.get.*in project sec/)
  })

  it('401 (bad or missing token) → API_AUTH with a login hint', async () => {
    const e = await capture(make({authClient: fakeAuthClient('ya29.wrong-token')}).getPolicy())
    expect(e.code).toBe('API_AUTH')
    expect(e.hint).toMatch(/application-default login/)
  })

  it('5xx is retried, then API_ERROR; a transient 503 recovers', async () => {
    server.failNext('/policy', 500, {times: 10})
    const e = await capture(api.getPolicy())
    expect(e.code).toBe('API_ERROR')
    expect(e.message).toMatch(/HTTP 500.*after 3 attempts/)
    expect(e.cause).toBeInstanceOf(GcpCallError)
    expect(server.requests.length).toBe(3)
    server.clearFaults()
    server.failNext('/policy', 503, {times: 1})
    await expect(api.getPolicy()).resolves.toMatchObject({source: 'projects/app/policy'})
  })

  it('a 429 with Retry-After waits that long before the retry (not the millisecond backoff)', async () => {
    server.failNext('/policy', 429, {retryAfter: '1'})
    const t0 = Date.now()
    await expect(api.getPolicy()).resolves.toMatchObject({source: 'projects/app/policy'})
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900)
    expect(server.requests.length).toBe(2)
  })

  it('a timeout is retried, then API_ERROR', async () => {
    server.delayNext('/policy', 2000, {times: 10})
    const e = await capture(make({timeoutMs: 100, maxRetries: 1}).getPolicy())
    expect(e.code).toBe('API_ERROR')
    expect(server.requests.length).toBe(2)
  })

  it('a refused connection is API_ERROR', async () => {
    const dead = new BinauthzApi({project: 'app', endpoint: '127.0.0.1:1', insecure: true, authClient: fakeAuthClient(), maxRetries: 0})
    const e = await capture(dead.getPolicy())
    expect(e.code).toBe('API_ERROR')
    expect(e.message).toMatch(/ECONNREFUSED|fetch failed|request failed/)
  })

  it('POST v1/{attestor}:validateAttestationOccurrence sends base64 bytes and returns the verdict', async () => {
    server.state.validate = (_attestor, body) =>
      body.attestation?.signatures?.[0]?.publicKeyId === 'good' ? {result: 'VERIFIED'} : {result: 'ATTESTATION_NOT_VERIFIABLE', denialReason: 'no matching key'}
    const attestation = {
      serializedPayload: Uint8Array.from([0, 1, 254, 255]),
      signatures: [{publicKeyId: 'good', signature: Uint8Array.from([9, 8, 7])}],
      jwts: [],
    }
    const req = {attestation, occurrenceNote: 'projects/sec/notes/built-by-ci', occurrenceResourceUri: 'gcr.io/app/web@sha256:' + 'ab'.repeat(32)}
    await expect(api.validateAttestationOccurrence(ATTESTOR.name, req)).resolves.toEqual({result: 'VERIFIED'})
    const body = server.requests[0]!.body as {attestation: {serializedPayload: string; signatures: Array<{signature: string}>}; occurrenceNote: string}
    expect(server.requests[0]!.path).toBe('/v1/projects/sec/attestors/built-by-ci:validateAttestationOccurrence')
    expect(Buffer.from(body.attestation.serializedPayload, 'base64')).toEqual(Buffer.from([0, 1, 254, 255]))
    expect(Buffer.from(body.attestation.signatures[0]!.signature, 'base64')).toEqual(Buffer.from([9, 8, 7]))
    expect(body.occurrenceNote).toBe('projects/sec/notes/built-by-ci')
    await expect(
      api.validateAttestationOccurrence(ATTESTOR.name, {
        ...req,
        attestation: {...attestation, signatures: [{publicKeyId: 'bad', signature: Uint8Array.from([1])}]},
      }),
    ).resolves.toEqual({result: 'ATTESTATION_NOT_VERIFIABLE', denialReason: 'no matching key'})
    server.failNext(':validate', 403)
    const e = await capture(api.validateAttestationOccurrence(ATTESTOR.name, req))
    expect(e.hint).toMatch(/binaryauthorization\.attestors\.verifyImageAttested/)
  })

  it('sends x-goog-user-project when projectForQuota is set', async () => {
    await make({projectForQuota: 'billing-proj'}).getSystemPolicy()
    expect(server.requests[0]!.quotaProject).toBe('billing-proj')
  })

  it('rejects malformed names before any request', async () => {
    await expect(api.getAttestor('projects/sec/attestors/../policy')).toThrowWithCode('USAGE')
    await expect(api.getAttestor('a b')).toThrowWithCode('USAGE')
    expect(() => new BinauthzApi({project: 'bad/project'})).toThrowWithCode('USAGE')
    expect(server.requests).toHaveLength(0)
  })

  it('no error message, hint or cause ever contains the token', () => {
    expect(errors.length).toBeGreaterThan(8)
    for (const e of errors as SafeDeployError[]) {
      const text = [e.message, e.hint ?? '', String(e.cause), JSON.stringify(e.toJSON()), e.stack ?? '', (e.cause as Error | undefined)?.stack ?? ''].join('\n')
      expect(text).not.toContain(TEST_TOKEN)
      expect(text).not.toContain('ya29.wrong-token')
    }
  })
})
