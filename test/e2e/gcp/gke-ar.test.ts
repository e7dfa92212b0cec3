import {afterAll, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {ArtifactRegistryApi, GkeApi, artifactRegistryLocation, clusterBinauthz} from '../../../src/adapters/gcp/index.js'
import {startGcpServer, status, type GcpState, type GrpcServerHandle} from '../../support/gcp/grpc-servers.js'

const DIGEST = 'sha256:' + '12'.repeat(32)

describe('GKE and Artifact Registry adapters against one local gRPC server', () => {
  let server: GrpcServerHandle<GcpState>
  let gke: GkeApi
  let ar: ArtifactRegistryApi

  beforeAll(async () => {
    server = await startGcpServer()
    const opts = {endpoint: server.endpoint, insecure: true, retryDelayMs: 5}
    gke = new GkeApi(opts)
    ar = new ArtifactRegistryApi(opts)
    const clusters = server.state.container.clusters
    clusters.set('projects/p/locations/us-central1/clusters/prod', {binaryAuthorization: {evaluationMode: 'PROJECT_SINGLETON_POLICY_ENFORCE'}})
    clusters.set('projects/p/locations/us-central1-a/clusters/legacy', {binaryAuthorization: {enabled: true}})
    clusters.set('projects/p/locations/us-central1/clusters/off', {binaryAuthorization: {evaluationMode: 'DISABLED'}})
    clusters.set('projects/p/locations/us-central1/clusters/bindings', {binaryAuthorization: {evaluationMode: 'POLICY_BINDINGS'}})
    clusters.set('projects/p/locations/us-central1/clusters/both', {
      binaryAuthorization: {evaluationMode: 'POLICY_BINDINGS_AND_PROJECT_SINGLETON_POLICY_ENFORCE'},
    })
    clusters.set('projects/p/locations/us-central1/clusters/bare', {})
    const repo = 'projects/app/locations/us-central1/repositories/images'
    server.state.artifactRegistry.repositories.set(repo, {dockerConfig: {immutableTags: true}})
    server.state.artifactRegistry.repositories.set('projects/app/locations/us/repositories/mutable', {})
    server.state.artifactRegistry.dockerImages.set(`${repo}/dockerImages/team%2Fweb@${DIGEST}`, {
      uri: `us-central1-docker.pkg.dev/app/images/team/web@${DIGEST}`,
      tags: ['v1.2.3', 'latest'],
      uploadTime: {seconds: '1767225600', nanos: 500_000_000},
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    })
    server.state.artifactRegistry.dockerImages.set(`projects/app/locations/us/repositories/mutable/dockerImages/api@${DIGEST}`, {tags: []})
  })
  afterAll(async () => {
    await gke.close()
    await ar.close()
    await server.stop()
  })
  beforeEach(() => server.clearFaults())

  it.each([
    ['projects/p/locations/us-central1/clusters/prod', 'PROJECT_SINGLETON_POLICY_ENFORCE', undefined, true],
    ['projects/p/locations/us-central1-a/clusters/legacy', 'UNSPECIFIED', true, true],
    ['projects/p/locations/us-central1/clusters/off', 'DISABLED', false, false],
    ['projects/p/locations/us-central1/clusters/bindings', 'POLICY_BINDINGS', false, false],
    ['projects/p/locations/us-central1/clusters/both', 'POLICY_BINDINGS_AND_PROJECT_SINGLETON_POLICY_ENFORCE', false, true],
    ['projects/p/locations/us-central1/clusters/bare', 'UNSPECIFIED', undefined, false],
  ])('cluster %s → %s', async (name, mode, legacy, enforces) => {
    const r = await gke.clusterBinauthz(name)
    expect(r.binauthzEvaluationMode).toBe(mode)
    expect(r.enforcesProjectPolicy).toBe(enforces)
    if (legacy === true) expect(r.enabledLegacy).toBe(true)
    else expect(r.enabledLegacy === undefined || r.enabledLegacy === false).toBe(true)
  })

  it('clusterBinauthz() one-shot form takes project/location/cluster', async () => {
    const r = await clusterBinauthz({project: 'p', location: 'us-central1', cluster: 'prod'}, {endpoint: server.endpoint, insecure: true})
    expect(r).toMatchObject({cluster: 'projects/p/locations/us-central1/clusters/prod', binauthzEvaluationMode: 'PROJECT_SINGLETON_POLICY_ENFORCE'})
  })

  it('GKE errors: unknown cluster → API_ERROR, PERMISSION_DENIED → API_AUTH', async () => {
    await expect(gke.clusterBinauthz('projects/p/locations/x/clusters/none')).toThrowWithCode('API_ERROR', /NOT_FOUND/)
    server.failNext('GetCluster', status.PERMISSION_DENIED)
    const err = await gke.clusterBinauthz('projects/p/locations/us-central1/clusters/prod').catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'API_AUTH', hint: expect.stringMatching(/container\.clusters\.get/)})
    await expect(gke.clusterBinauthz('p/us/prod')).toThrowWithCode('USAGE')
  })

  it('Artifact Registry facts: immutable tags, upload time, tags; package path escaped', async () => {
    const f = await ar.repositoryFacts(`us-central1-docker.pkg.dev/app/images/team/web:v1.2.3@${DIGEST}`)
    expect(f).toEqual({
      repository: 'projects/app/locations/us-central1/repositories/images',
      immutableTags: true,
      dockerImage: `projects/app/locations/us-central1/repositories/images/dockerImages/team%2Fweb@${DIGEST}`,
      uploadTime: new Date(1767225600_500),
      tags: ['v1.2.3', 'latest'],
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    })
    const m = await ar.repositoryFacts(`us-docker.pkg.dev/app/mutable/api@${DIGEST}`)
    expect(m).toMatchObject({immutableTags: false, tags: []})
    expect(m!.uploadTime).toBeUndefined()
  })

  it('non-AR images → undefined without any call; tags only → INVALID_REFERENCE', async () => {
    const before = server.calls('GetRepository').length
    await expect(ar.repositoryFacts(`gcr.io/app/web@${DIGEST}`)).resolves.toBeUndefined()
    await expect(ar.repositoryFacts(`nginx@${DIGEST}`)).resolves.toBeUndefined()
    expect(server.calls('GetRepository').length).toBe(before)
    expect(() => artifactRegistryLocation('us-docker.pkg.dev/app/repo/web:1')).toThrowWithCode('INVALID_REFERENCE')
    expect(() => artifactRegistryLocation(`us-docker.pkg.dev/app@${DIGEST}`)).toThrowWithCode('INVALID_REFERENCE')
  })

  it('AR errors: image missing → API_ERROR with a re-pin hint; UNAVAILABLE retried then API_ERROR', async () => {
    const err = await ar.repositoryFacts(`us-docker.pkg.dev/app/mutable/gone@${DIGEST}`).catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'API_ERROR', hint: expect.stringMatching(/pin/)})
    server.failNext('GetRepository', status.UNAVAILABLE, {times: 10})
    await expect(ar.repositoryFacts(`us-docker.pkg.dev/app/mutable/api@${DIGEST}`)).toThrowWithCode('API_ERROR', /after 4 attempts/)
  })
})
