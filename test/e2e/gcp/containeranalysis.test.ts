import {afterAll, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {ContainerAnalysisAttestations, GcpCallError} from '../../../src/adapters/gcp/index.js'
import {SafeDeployError} from '../../../src/core/errors.js'
import {startGrafeasServer, status, type GrafeasState, type GrpcServerHandle} from '../../support/gcp/grpc-servers.js'

const NOTE = 'projects/attestor-project/notes/prod-note'
const DIGEST = 'sha256:' + 'ab'.repeat(32)
const OTHER_DIGEST = 'sha256:' + 'cd'.repeat(32)
const IMAGE = `gcr.io/app-project/web@${DIGEST}`
// Every byte value, so a base64/UTF-8 slip anywhere would show.
const PAYLOAD = Uint8Array.from({length: 256}, (_, i) => i)
const SIGNATURE = Uint8Array.from({length: 72}, (_, i) => (i * 37 + 11) & 0xff)
const KEY_ID = '//cloudkms.googleapis.com/v1/projects/k/locations/global/keyRings/r/cryptoKeys/c/cryptoKeyVersions/1'

describe('ContainerAnalysisAttestations against a local Grafeas gRPC server', () => {
  let server: GrpcServerHandle<GrafeasState>
  let ca: ContainerAnalysisAttestations

  beforeAll(async () => {
    server = await startGrafeasServer()
    ca = new ContainerAnalysisAttestations({endpoint: server.endpoint, insecure: true, maxRetries: 2, retryDelayMs: 10})
  })
  afterAll(async () => {
    await ca.close()
    await server.stop()
  })
  beforeEach(() => {
    server.state.occurrences.length = 0
    server.state.maxPageSize = 1000
    server.requests.length = 0
    server.clearFaults()
  })

  function seedAttestation(resourceUri = IMAGE, extra: Record<string, unknown> = {}) {
    return server.state.addOccurrence(
      {
        resourceUri,
        noteName: NOTE,
        kind: 'ATTESTATION',
        attestation: {serializedPayload: Buffer.from(PAYLOAD), signatures: [{publicKeyId: KEY_ID, signature: Buffer.from(SIGNATURE)}]},
        ...extra,
      },
      'app-project',
    )
  }

  it('lists ATTESTATION occurrences for the digest, bytes intact, with the gcloud server filter', async () => {
    const seeded = seedAttestation()
    seedAttestation(`https://gcr.io/app-project/web@${DIGEST}`)
    seedAttestation(`gcr.io/app-project/web@${OTHER_DIGEST}`)
    server.state.addOccurrence({resourceUri: IMAGE, noteName: NOTE, kind: 'VULNERABILITY', vulnerability: {severity: 'HIGH'}})

    const got = await ca.listAttestations({noteName: NOTE, digest: DIGEST})

    expect(got).toHaveLength(2)
    const first = got.find((o) => o.name === seeded.name)!
    expect(first.resourceUri).toBe(IMAGE)
    expect(first.noteName).toBe(NOTE)
    expect(first.serializedPayload).toEqual(PAYLOAD)
    expect(first.serializedPayload).toBeInstanceOf(Uint8Array)
    expect(first.signatures).toEqual([{publicKeyId: KEY_ID, signature: SIGNATURE}])
    expect(first.jwts).toEqual([])
    expect(first.source).toContain(seeded.name)
    const [call] = server.calls('ListNoteOccurrences')
    expect(call!.request.name).toBe(NOTE)
    expect(call!.request.filter).toBe(`has_suffix(resourceUrl, "${DIGEST}")`)
  })

  it('filters kind and digest client-side too (a server that ignores the filter)', async () => {
    seedAttestation()
    seedAttestation(`gcr.io/app-project/web@${OTHER_DIGEST}`)
    server.state.addOccurrence({resourceUri: IMAGE, noteName: NOTE, kind: 'VULNERABILITY'})
    seedAttestation(`gcr.io/x/y:tag${DIGEST}`) // ends with the digest text, but not as "@digest"
    server.state.ignoreFilter = true
    try {
      const got = await ca.listAttestations({noteName: NOTE, digest: DIGEST})
      expect(got.map((o) => o.resourceUri)).toEqual([IMAGE])
    } finally {
      server.state.ignoreFilter = false
    }
  })

  it('lists BUILD occurrences of the resource with their DSSE envelope, bytes intact as base64; kind and resource filtered client-side too', async () => {
    const uri = `https://${IMAGE}`
    const envelope = {payloadType: 'application/vnd.in-toto+json', payload: Buffer.from(PAYLOAD), signatures: [{keyid: KEY_ID, sig: Buffer.from(SIGNATURE)}]}
    const seeded = server.state.addOccurrence({resourceUri: uri, noteName: NOTE, kind: 'BUILD', envelope}, 'app-project')
    server.state.addOccurrence({resourceUri: uri, noteName: NOTE, kind: 'BUILD'}, 'app-project')
    server.state.addOccurrence({resourceUri: `https://gcr.io/app-project/web@${OTHER_DIGEST}`, noteName: NOTE, kind: 'BUILD', envelope}, 'app-project')
    seedAttestation(uri)
    server.state.ignoreFilter = true
    try {
      const got = await ca.listBuildOccurrences('app-project', uri)
      expect(got).toHaveLength(2)
      expect(got.find((o) => o.name === seeded.name)).toEqual({
        name: seeded.name,
        resourceUri: uri,
        noteName: NOTE,
        envelope: {
          payloadType: envelope.payloadType,
          payload: Buffer.from(PAYLOAD).toString('base64'),
          signatures: [{keyid: KEY_ID, sig: Buffer.from(SIGNATURE).toString('base64')}],
        },
      })
      expect(got.filter((o) => o.envelope === undefined)).toHaveLength(1)
      expect((server.requests[0]?.request as {filter: string}).filter).toBe(`kind="BUILD" AND resourceUrl="${uri}"`)
    } finally {
      server.state.ignoreFilter = false
    }
  })

  it('follows pages', async () => {
    for (let i = 0; i < 7; i++) seedAttestation()
    server.state.maxPageSize = 3
    const got = await ca.listAttestations({noteName: NOTE, digest: DIGEST})
    expect(got).toHaveLength(7)
    expect(server.calls('ListNoteOccurrences').length).toBe(3)
  })

  it('returns [] only when the server says there are none', async () => {
    await expect(ca.listAttestations({noteName: NOTE, digest: DIGEST})).resolves.toEqual([])
  })

  it('UNAVAILABLE is API_ERROR after bounded retries, never an empty list', async () => {
    server.failNext('ListNoteOccurrences', status.UNAVAILABLE, {times: 10, message: 'connection reset'})
    seedAttestation()
    const err = await ca.listAttestations({noteName: NOTE, digest: DIGEST}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SafeDeployError)
    expect((err as SafeDeployError).code).toBe('API_ERROR')
    expect((err as SafeDeployError).message).toMatch(/UNAVAILABLE/)
    expect((err as SafeDeployError).cause).toBeInstanceOf(GcpCallError)
    expect(((err as SafeDeployError).cause as GcpCallError).status).toBe('UNAVAILABLE')
    expect(server.calls('ListNoteOccurrences').length).toBe(3) // 1 + maxRetries(2)
  })

  it('a retry due after close() fails with our error instead of reaching the closed gax client (no unhandled rejection)', async () => {
    const own = new ContainerAnalysisAttestations({endpoint: server.endpoint, insecure: true, maxRetries: 2, retryDelayMs: 200})
    server.failNext('ListNoteOccurrences', status.UNAVAILABLE, {times: 10})
    const listing = own.listAttestations({noteName: NOTE, digest: DIGEST}).catch((e: unknown) => e)
    while (server.calls('ListNoteOccurrences').length === 0) await new Promise((r) => setTimeout(r, 5))
    await own.close()
    const err = (await listing) as SafeDeployError
    expect(err).toBeInstanceOf(SafeDeployError)
    expect(err.message).toMatch(/closed/)
    expect(server.calls('ListNoteOccurrences').length).toBe(1)
    await expect(own.listAttestations({noteName: NOTE, digest: DIGEST})).rejects.toThrow(/closed/)
  })

  it('a transient UNAVAILABLE is retried and succeeds', async () => {
    seedAttestation()
    server.failNext('ListNoteOccurrences', status.UNAVAILABLE)
    await expect(ca.listAttestations({noteName: NOTE, digest: DIGEST})).resolves.toHaveLength(1)
  })

  it.each([
    [status.PERMISSION_DENIED, 'API_AUTH', /containeranalysis\.notes\.listOccurrences/],
    [status.UNAUTHENTICATED, 'API_AUTH', /refused/],
    [status.DEADLINE_EXCEEDED, 'API_ERROR', /DEADLINE_EXCEEDED/],
    [status.INTERNAL, 'API_ERROR', /INTERNAL/],
  ] as const)('gRPC %s → %s', async (code, expected, re) => {
    server.failNext('ListNoteOccurrences', code, {times: 10})
    const err = (await ca.listAttestations({noteName: NOTE, digest: DIGEST}).catch((e: unknown) => e)) as SafeDeployError
    expect(err.code).toBe(expected)
    expect(`${err.message} ${err.hint ?? ''}`).toMatch(re)
    expect(err.message).toContain('attestor-project')
  })

  it('a missing note is reported, not treated as no attestations', async () => {
    server.state.notes.add('projects/attestor-project/notes/other')
    try {
      await expect(ca.listAttestations({noteName: NOTE, digest: DIGEST})).toThrowWithCode('ATTESTOR_INVALID', /not found/)
    } finally {
      server.state.notes.clear()
    }
  })

  it('rejects bad queries before calling the API', async () => {
    await expect(ca.listAttestations({noteName: 'notes/x', digest: DIGEST})).toThrowWithCode('ATTESTOR_INVALID')
    await expect(ca.listAttestations({noteName: NOTE, digest: 'sha256:abc'})).toThrowWithCode('INVALID_REFERENCE')
    expect(server.requests).toHaveLength(0)
  })

  describe('createAttestationOccurrence', () => {
    const occurrence = {resourceUri: IMAGE, noteName: NOTE, serializedPayload: PAYLOAD, signatures: [{publicKeyId: KEY_ID, signature: SIGNATURE}]}

    it('creates an ATTESTATION occurrence in the project; bytes round-trip exactly', async () => {
      const r = await ca.createAttestationOccurrence('app-project', occurrence)
      expect(r.created).toBe(true)
      expect(r.occurrence.name).toMatch(/^projects\/app-project\/occurrences\//)
      const [call] = server.calls('CreateOccurrence')
      expect(call!.request.parent).toBe('projects/app-project')
      expect(call!.request.occurrence.kind).toBe('ATTESTATION')
      expect(call!.request.occurrence.resourceUri).toBe(IMAGE)
      expect(call!.request.occurrence.noteName).toBe(NOTE)
      expect(Buffer.compare(call!.request.occurrence.attestation.serializedPayload, Buffer.from(PAYLOAD))).toBe(0)
      expect(Buffer.compare(call!.request.occurrence.attestation.signatures[0].signature, Buffer.from(SIGNATURE))).toBe(0)
      const [listed] = await ca.listAttestations({noteName: NOTE, digest: DIGEST})
      expect(listed!.serializedPayload).toEqual(PAYLOAD)
      expect(listed!.signatures[0]!.signature).toEqual(SIGNATURE)
    })

    it('is idempotent: same payload and key id → no second occurrence, even with new signature bytes (ECDSA)', async () => {
      const first = await ca.createAttestationOccurrence('app-project', occurrence)
      const again = await ca.createAttestationOccurrence('app-project', occurrence)
      const resigned = await ca.createAttestationOccurrence('app-project', {
        ...occurrence,
        signatures: [{publicKeyId: KEY_ID, signature: Uint8Array.from([1, 2, 3])}],
      })
      expect(again).toMatchObject({created: false})
      expect(resigned).toMatchObject({created: false})
      expect(again.occurrence.name).toBe(first.occurrence.name)
      expect(server.calls('CreateOccurrence')).toHaveLength(1)
      expect(server.state.occurrences).toHaveLength(1)
    })

    it('creates when the payload, key id or resourceUri differs, or the existing one is rejected by the caller', async () => {
      await ca.createAttestationOccurrence('app-project', occurrence)
      const otherPayload = await ca.createAttestationOccurrence('app-project', {...occurrence, serializedPayload: Uint8Array.from([...PAYLOAD, 10])})
      const otherKey = await ca.createAttestationOccurrence('app-project', {
        ...occurrence,
        signatures: [{publicKeyId: 'ni:///sha-256;abc', signature: SIGNATURE}],
      })
      const otherUri = await ca.createAttestationOccurrence('app-project', {...occurrence, resourceUri: `https://${IMAGE}`})
      const invalidExisting = await ca.createAttestationOccurrence('app-project', occurrence, {isExistingValid: () => false})
      expect([otherPayload.created, otherKey.created, otherUri.created, invalidExisting.created]).toEqual([true, true, true, true])
      expect(server.state.occurrences).toHaveLength(5)
    })

    it('a failing list before create is an error, not a blind create', async () => {
      server.failNext('ListNoteOccurrences', status.UNAVAILABLE, {times: 10})
      await expect(ca.createAttestationOccurrence('app-project', occurrence)).toThrowWithCode('API_ERROR', /UNAVAILABLE/)
      expect(server.calls('CreateOccurrence')).toHaveLength(0)
    })

    it('PERMISSION_DENIED on create names the permissions', async () => {
      server.failNext('CreateOccurrence', status.PERMISSION_DENIED)
      const err = (await ca.createAttestationOccurrence('app-project', occurrence).catch((e: unknown) => e)) as SafeDeployError
      expect(err.code).toBe('API_AUTH')
      expect(err.hint).toMatch(/containeranalysis\.occurrences\.create/)
      expect(err.hint).toMatch(/containeranalysis\.notes\.attachOccurrence/)
    })

    it('requires a digest resourceUri and at least one signature', async () => {
      await expect(ca.createAttestationOccurrence('app-project', {...occurrence, resourceUri: 'gcr.io/p/i:latest'})).toThrowWithCode('INVALID_REFERENCE')
      await expect(ca.createAttestationOccurrence('app-project', {...occurrence, signatures: []})).toThrowWithCode('ATTESTATION_INVALID')
    })
  })

  describe('vulnerabilitySummary', () => {
    it('counts VULNERABILITY occurrences by effective severity and fixability', async () => {
      const uri = `https://${IMAGE}`
      const vuln = (effectiveSeverity: string, fixAvailable: boolean, resourceUri = uri) =>
        server.state.addOccurrence(
          {resourceUri, noteName: 'projects/goog-vulnz/notes/CVE-1', kind: 'VULNERABILITY', vulnerability: {effectiveSeverity, severity: 'LOW', fixAvailable}},
          'app-project',
        )
      vuln('CRITICAL', true)
      vuln('HIGH', false)
      vuln('HIGH', true)
      vuln('SEVERITY_UNSPECIFIED', false) // falls back to severity LOW
      vuln('CRITICAL', true, `https://gcr.io/app-project/web@${OTHER_DIGEST}`)
      seedAttestation(uri)

      const s = await ca.vulnerabilitySummary('app-project', IMAGE)

      expect(s.resourceUri).toBe(uri)
      expect(s.total).toBe(4)
      expect(s.bySeverity).toEqual({CRITICAL: 1, HIGH: 2, MEDIUM: 0, LOW: 1, MINIMAL: 0, SEVERITY_UNSPECIFIED: 0})
      expect(s.fixableBySeverity).toMatchObject({CRITICAL: 1, HIGH: 1, LOW: 0})
      const [call] = server.calls('ListOccurrences')
      expect(call!.request.parent).toBe('projects/app-project')
      expect(call!.request.filter).toBe(`kind="VULNERABILITY" AND resourceUrl="${uri}"`)
    })

    it('UNAVAILABLE → API_ERROR', async () => {
      server.failNext('ListOccurrences', status.UNAVAILABLE, {times: 10})
      await expect(ca.vulnerabilitySummary('app-project', IMAGE)).toThrowWithCode('API_ERROR')
    })
  })
})
