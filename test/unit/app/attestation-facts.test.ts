import {describe, expect, it} from '@jest/globals'
import {gatherAttestationFacts} from '../../../src/app/attestation-facts.js'
import {SafeDeployError} from '../../../src/core/errors.js'
import {ATTESTOR, digest, trust, policy} from './fakes.js'

describe('gatherAttestationFacts', () => {
  it('when one listing fails, returns the failure only after every other listing has finished (the caller closes the clients next)', async () => {
    const t = await trust(policy('attest'))
    const log: string[] = []
    const ports = {
      attestors: t.attestors,
      attestations: {
        listAttestations: async (q: {noteName: string; digest: string}) => {
          if (q.digest === digest(1)) throw new SafeDeployError('API_ERROR', 'UNAVAILABLE')
          await new Promise((r) => setTimeout(r, 30))
          log.push(`listed ${q.digest}`)
          return []
        },
      },
    }
    const err = await gatherAttestationFacts(
      [1, 2, 3].map((n) => ({attestor: ATTESTOR, digest: digest(n)})),
      ports,
    ).catch((e: unknown) => e)
    log.push('failed')
    expect((err as SafeDeployError).code).toBe('API_ERROR')
    expect(log).toEqual([`listed ${digest(2)}`, `listed ${digest(3)}`, 'failed'])
  })
})
