/** The deploy gate with plain fakes: what is said, recorded, asked and sent, in order. */
import {describe, expect, it} from '@jest/globals'
import {runDeployGate, type DeployGatePorts} from '../../../src/app/deploy-gate.js'
import type {Confirmation} from '../../../src/core/deploy.js'

function fakes(answer: Confirmation = {answer: 'granted'}) {
  const log: string[] = []
  const ports: DeployGatePorts = {
    record: async (e) => {
      log.push(`record ${e.outcome}: ${e.detail}`)
    },
    confirm: async (q) => {
      log.push(`confirm ${q}`)
      return answer
    },
    say: (l) => {
      log.push(`say ${l}`)
    },
  }
  return {log, ports}
}
const facts = {
  platform: 'gke' as const,
  verdict: 'ALLOW' as const,
  mode: 'none' as const,
  requireEnforcement: false,
  enforcement: {state: 'not-checked' as const},
}

describe('runDeployGate', () => {
  it('live: prepare, confirm, started, send, applied', async () => {
    const {log, ports} = fakes()
    const r = await runDeployGate(facts, 'go?', ports, {
      prepare: () => {
        log.push('prepare')
      },
      apply: async () => {
        log.push('send')
        return {value: 42, detail: '1 object(s) via kubectl'}
      },
    })
    expect(r).toEqual({outcome: 'applied', warnings: [], value: 42})
    expect(log).toEqual(['prepare', 'confirm go?', 'record started: applying (live)', 'send', 'record applied: 1 object(s) via kubectl'])
  })
  it('denied: blocked, nothing prepared or sent', async () => {
    const {log, ports} = fakes()
    const r = await runDeployGate({...facts, verdict: 'DENY'}, 'go?', ports, {
      prepare: () => {
        log.push('prepare')
      },
      apply: async () => {
        log.push('send')
        return {value: 1, detail: ''}
      },
    })
    expect(r).toEqual({outcome: 'blocked', warnings: []})
    expect(log).toEqual(['record blocked: denied by policy; nothing applied'])
  })
  it('a failing prepare (e.g. the second look) is recorded as blocked and thrown; nothing is sent', async () => {
    const {log, ports} = fakes()
    await expect(
      runDeployGate(facts, 'go?', ports, {
        prepare: () => {
          throw new Error('differs')
        },
        apply: async () => {
          log.push('send')
          return {value: 1, detail: ''}
        },
      }),
    ).rejects.toThrow('differs')
    expect(log).toEqual(['record blocked: differs'])
  })
  it('declined: aborted (exit 9), nothing sent', async () => {
    const {log, ports} = fakes({answer: 'declined'})
    await expect(
      runDeployGate(facts, 'go?', ports, {
        apply: async () => {
          log.push('send')
          return {value: 1, detail: ''}
        },
      }),
    ).rejects.toMatchObject({code: 'ABORTED', exitCode: 9})
    expect(log).toEqual(['confirm go?', 'record aborted: aborted: nothing was deployed'])
  })
  it('the applier fails: started, failed, and its own error is thrown', async () => {
    const {log, ports} = fakes()
    const boom = new Error('kubectl apply exited with status 1')
    await expect(
      runDeployGate({...facts, mode: 'server'}, 'go?', ports, {
        apply: async () => {
          throw boom
        },
      }),
    ).rejects.toBe(boom)
    expect(log).toEqual(['record started: applying (dry-run server)', 'record failed: kubectl apply exited with status 1'])
  })
  it('warnings are said once, before anything else', async () => {
    const {log, ports} = fakes()
    await runDeployGate({...facts, verdict: 'DRYRUN_DENY', breakGlass: 'INC-9: why', mode: 'client'}, 'go?', ports, {
      apply: async () => ({value: 0, detail: 'd'}),
    })
    expect(log.slice(0, 2)).toEqual([expect.stringMatching(/^say warning: DRY-RUN DENIAL/), expect.stringMatching(/^say warning: BREAK-GLASS/)])
    expect(log.filter((l) => l.startsWith('say'))).toHaveLength(2)
  })
})
