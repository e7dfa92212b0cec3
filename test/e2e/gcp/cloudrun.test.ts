import {afterAll, beforeAll, beforeEach, describe, expect, it} from '@jest/globals'
import {CloudRunApi, deployService, replaceService} from '../../../src/adapters/gcp/index.js'
import {startRunServer, status, type GrpcServerHandle, type RunState} from '../../support/gcp/grpc-servers.js'

const IMAGE = 'us-docker.pkg.dev/app/images/web@sha256:' + 'ef'.repeat(32)
const IMAGE2 = 'us-docker.pkg.dev/app/images/web@sha256:' + '01'.repeat(32)
const NAME = 'projects/app/locations/us-central1/services/web'

describe('CloudRunApi against a local Cloud Run v2 gRPC server', () => {
  let server: GrpcServerHandle<RunState>
  let run: CloudRunApi
  const opts = () => ({endpoint: server.endpoint, insecure: true, retryDelayMs: 5})

  beforeAll(async () => {
    server = await startRunServer()
    run = new CloudRunApi(opts())
  })
  afterAll(async () => {
    await run.close()
    await server.stop()
  })
  beforeEach(() => {
    server.clearFaults()
    server.requests.length = 0
    server.state.services.clear()
    server.state.pollsBeforeDone = 2
    server.state.failNextDeploy = undefined
  })

  it('creates a missing service by digest with Binary Authorization on, waiting for the operation', async () => {
    const r = await run.deployService({
      project: 'app',
      region: 'us-central1',
      service: 'web',
      image: IMAGE,
      serviceAccount: 'web@app.iam.gserviceaccount.com',
      labels: {team: 'x'},
    })

    expect(r).toEqual({
      service: NAME,
      created: true,
      validateOnly: false,
      revision: `${NAME}/revisions/${server.state.services.get(NAME).latestCreatedRevision.split('/').pop()}`,
      uri: 'https://web-abc123xyz-uc.a.run.app',
    })
    expect(r.revision).toMatch(/\/revisions\/web-00001-/)
    const [create] = server.calls('CreateService')
    expect(create!.request.parent).toBe('projects/app/locations/us-central1')
    expect(create!.request.serviceId).toBe('web')
    expect(create!.request.service.template.containers[0].image).toBe(IMAGE)
    expect(create!.request.service.template.serviceAccount).toBe('web@app.iam.gserviceaccount.com')
    expect(create!.request.service.binaryAuthorization.useDefault).toBe(true)
    expect(create!.request.service.binaryAuthorization.breakglassJustification).toBe('')
    expect(create!.request.service.labels).toEqual({team: 'x'})
    // The LRO was polled until done (pollsBeforeDone = 2).
    expect(server.calls('GetOperation').length).toBe(2)
  })

  it('updates an existing service keeping its other fields, new image, break-glass when asked', async () => {
    await run.deployService({project: 'app', region: 'us-central1', service: 'web', image: IMAGE})
    const svc = server.state.services.get(NAME)
    svc.template.containers[0].env = [{name: 'MODE', value: 'prod'}]
    svc.template.containers.push({name: 'sidecar', image: 'gcr.io/app/sidecar@sha256:' + '99'.repeat(32)})
    svc.template.revision = 'web-pinned-name'
    svc.labels = {owner: 'me'}
    svc.description = 'keep me'
    server.requests.length = 0

    const r = await run.deployService({
      project: 'app',
      region: 'us-central1',
      service: 'web',
      image: IMAGE2,
      breakglassJustification: 'INC-42: outage',
      labels: {team: 'x'},
    })

    expect(r.created).toBe(false)
    expect(r.revision).toMatch(/\/revisions\/web-00002-/)
    const [update] = server.calls('UpdateService')
    const sent = update!.request.service
    expect(sent.name).toBe(NAME)
    expect(sent.template.containers[0].image).toBe(IMAGE2)
    expect(sent.template.containers[0].env).toEqual([expect.objectContaining({name: 'MODE', value: 'prod'})])
    expect(sent.template.containers[1].image).toBe('gcr.io/app/sidecar@sha256:' + '99'.repeat(32))
    expect(sent.template.revision).toBe('') // cleared: a fixed revision name would collide
    expect(sent.description).toBe('keep me')
    expect(sent.labels).toEqual({owner: 'me', team: 'x'})
    expect(sent.binaryAuthorization).toMatchObject({useDefault: true, breakglassJustification: 'INC-42: outage'})
    expect(sent.etag).toBe(svc.etag)
    expect(server.calls('CreateService')).toHaveLength(0)

    // The next deploy without --break-glass clears it (one-shot, like gcloud).
    await run.deployService({project: 'app', region: 'us-central1', service: 'web', image: IMAGE})
    expect(server.calls('UpdateService')[1]!.request.service.binaryAuthorization.breakglassJustification).toBe('')
  })

  it('refuses tag images before any call', async () => {
    await expect(run.deployService({project: 'app', region: 'us-central1', service: 'web', image: 'gcr.io/app/web:latest'})).toThrowWithCode('UNPINNABLE_VALUE')
    await expect(run.deployService({project: 'app', region: 'us-central1', service: 'Web_1', image: IMAGE})).toThrowWithCode('USAGE')
    expect(server.requests).toHaveLength(0)
  })

  it('a failed operation (e.g. a Binary Authorization denial) is DEPLOY_FAILED with the server message', async () => {
    server.state.failNextDeploy = {
      code: status.FAILED_PRECONDITION,
      message: 'Revision web-00001 is not allowed by the Binary Authorization policy: image not attested',
    }
    await expect(run.deployService({project: 'app', region: 'us-central1', service: 'web', image: IMAGE})).toThrowWithCode(
      'DEPLOY_FAILED',
      /Binary Authorization policy/,
    )
  })

  it('errors: getService UNAVAILABLE → API_ERROR (no create attempted); create PERMISSION_DENIED → API_AUTH', async () => {
    server.failNext('GetService', status.UNAVAILABLE, {times: 10})
    await expect(run.deployService({project: 'app', region: 'us-central1', service: 'web', image: IMAGE})).toThrowWithCode('API_ERROR', /UNAVAILABLE/)
    expect(server.calls('CreateService')).toHaveLength(0)
    server.clearFaults()
    server.failNext('CreateService', status.PERMISSION_DENIED)
    const err = await run.deployService({project: 'app', region: 'us-central1', service: 'web', image: IMAGE}).catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'API_AUTH', hint: expect.stringMatching(/run\.services\.create.*actAs/)})
  })

  it('a deploy that does not finish in time is DEPLOY_FAILED naming the operation', async () => {
    server.state.pollsBeforeDone = 1000
    const slow = new CloudRunApi({...opts(), deployTimeoutMs: 300})
    try {
      await expect(slow.deployService({project: 'app', region: 'us-central1', service: 'web', image: IMAGE})).toThrowWithCode(
        'DEPLOY_FAILED',
        /did not finish.*operations\//,
      )
    } finally {
      await slow.close()
    }
  })

  it('validateOnly sends validate_only and does not wait or change state', async () => {
    const r = await run.deployService({project: 'app', region: 'us-central1', service: 'web', image: IMAGE, validateOnly: true})
    expect(r).toEqual({service: NAME, created: true, validateOnly: true})
    expect(server.calls('CreateService')[0]!.request.validateOnly).toBe(true)
    expect(server.state.services.size).toBe(0)
  })

  it('replaceService sends the translated object, turns enforcement on when unset, keeps an explicit policy', async () => {
    const translated = {
      labels: {app: 'web'},
      annotations: {'run.googleapis.com/launch-stage': 'GA'},
      template: {containers: [{image: IMAGE, ports: [{containerPort: 8080}]}]},
    }
    const r = await replaceService({project: 'app', region: 'us-central1', serviceId: 'web', service: translated}, opts())
    expect(r.created).toBe(true)
    const sent = server.calls('CreateService')[0]!.request.service
    expect(sent.binaryAuthorization.useDefault).toBe(true)
    expect(sent.template.containers[0].ports[0].containerPort).toBe(8080)
    expect(sent.annotations).toEqual({'run.googleapis.com/launch-stage': 'GA'})

    const r2 = await replaceService(
      {
        project: 'app',
        region: 'us-central1',
        service: {...translated, name: NAME, binaryAuthorization: {policy: 'projects/app/platforms/cloudRun/policies/strict'}},
      },
      opts(),
    )
    expect(r2.created).toBe(false)
    const updated = server.calls('UpdateService')[0]!.request.service
    expect(updated.binaryAuthorization.policy).toBe('projects/app/platforms/cloudRun/policies/strict')
    expect(updated.binaryAuthorization.useDefault).not.toBe(true)
  })

  it('replaceService refuses images that are not by digest', async () => {
    await expect(
      replaceService({project: 'app', region: 'us-central1', serviceId: 'web', service: {template: {containers: [{image: 'nginx:1'}]}}}, opts()),
    ).toThrowWithCode('UNPINNABLE_VALUE')
    await expect(replaceService({project: 'app', region: 'us-central1', serviceId: 'web', service: {template: {containers: []}}}, opts())).toThrowWithCode(
      'INVALID_INPUT',
    )
  })

  it('deployService() one-shot form', async () => {
    const r = await deployService({project: 'app', region: 'us-central1', service: 'api', image: IMAGE}, opts())
    expect(r).toMatchObject({created: true, service: 'projects/app/locations/us-central1/services/api'})
  })
})
