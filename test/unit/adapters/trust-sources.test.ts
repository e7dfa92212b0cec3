/** Which trust sources a pre-flight opens (src/adapters/trust-sources.ts, fed by src/cli/wiring.ts): files first, the project's APIs for the rest. */
import {describe, expect, it} from '@jest/globals'
import {gcpEndpoints} from '../../../src/cli/wiring.js'
import {openTrustSources} from '../../../src/adapters/trust-sources.js'
import {resolveSettings} from '../../../src/cli/options.js'

const local = {
  'binauthz-endpoint': 'http://127.0.0.1:9',
  'containeranalysis-endpoint': '127.0.0.1:9',
  'api-insecure': true,
  concurrency: 1,
  'registry-timeout': 1,
  retries: 0,
}

describe('openTrustSources', () => {
  it("a profile with a policy file and a project: the policy from the file, attestors and attestations from the project's APIs", async () => {
    const settings = resolveSettings({}, {name: 'prod', policy: '/repo/policies/prod.yaml', project: 'acme-prod'})
    const t = await openTrustSources(settings.trust, gcpEndpoints(local), settings.project)
    try {
      expect(t.policy.constructor.name).toBe('FilePolicySource')
      expect(t.attestors.constructor.name).toBe('BinauthzApi')
      expect(t.attestations.constructor.name).toBe('ContainerAnalysisAttestations')
    } finally {
      await t.close()
    }
  })
  it('no project anywhere: the missing directory is named', async () => {
    await expect(openTrustSources({policy: 'p.yaml', attestors: 'a/'}, gcpEndpoints(local), undefined)).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('--attestations DIR is required') as never,
    })
  })
})
