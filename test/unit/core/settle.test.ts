import {describe, expect, it} from '@jest/globals'
import {settleAll} from '../../../src/core/settle.js'

const later = <T>(ms: number, value: T, log: string[]): Promise<T> =>
  new Promise((resolve) =>
    setTimeout(() => {
      log.push(`done ${String(value)}`)
      resolve(value)
    }, ms),
  )

describe('settleAll', () => {
  it('returns every value in order', async () => {
    const log: string[] = []
    await expect(settleAll([later(20, 'a', log), later(1, 'b', log)])).resolves.toEqual(['a', 'b'])
  })

  it('rejects with the first failure only after the calls still running have finished', async () => {
    const log: string[] = []
    const failing = Promise.reject(new Error('first failure'))
    const outcome = settleAll([failing, later(30, 'slow', log)]).catch((e: unknown) => {
      log.push(`rejected ${(e as Error).message}`)
    })
    await outcome
    // Promise.all would have logged "rejected" before "done slow".
    expect(log).toEqual(['done slow', 'rejected first failure'])
  })

  it('reports the first failure in input order when several fail', async () => {
    await expect(settleAll([Promise.resolve(1), Promise.reject(new Error('one')), Promise.reject(new Error('two'))])).rejects.toThrow('one')
  })
})
