/** The pure decisions of a multi-cluster apply: all-or-nothing plan, waves, stop after a failed wave. */
import {describe, expect, it} from '@jest/globals'
import {parseConfigText} from '../../../src/core/config.js'
import {afterWave, clusterContexts, decidePlan, multiOutcome, splitWaves, summarizePlan} from '../../../src/core/multi-cluster.js'

describe('splitWaves', () => {
  it('keeps the given order, size at a time, the last wave shorter', () => {
    expect(splitWaves(['a', 'b', 'c', 'd', 'e'], 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']])
    expect(splitWaves(['a', 'b', 'c'], 1)).toEqual([['a'], ['b'], ['c']])
    expect(splitWaves(['a', 'b'], 5)).toEqual([['a', 'b']])
  })
  it('refuses a size below 1 or not whole (usage, exit 2)', () => {
    expect(() => splitWaves(['a'], 0)).toThrow(expect.objectContaining({code: 'USAGE'}))
    expect(() => splitWaves(['a'], 1.5)).toThrow(expect.objectContaining({code: 'USAGE'}))
  })
})

describe('decidePlan', () => {
  it('goes on only when every cluster reached a verdict and none stopped', () => {
    expect(
      decidePlan([
        {cluster: 'a', verdict: 'ALLOW'},
        {cluster: 'b', verdict: 'DRYRUN_DENY'},
      ]),
    ).toEqual({go: true})
  })
  it('a denial in one cluster blocks every cluster, without an error (exit by the verdict, 5)', () => {
    const d = decidePlan([
      {cluster: 'a', verdict: 'ALLOW'},
      {cluster: 'c', verdict: 'DENY', stop: {detail: 'denied by policy; nothing applied'}},
    ])
    expect(d.go).toBe(false)
    if (d.go) return
    expect(d.blockers).toEqual(['c'])
    expect(d.error).toBeUndefined()
    expect(d.details.get('c')).toBe('denied by policy; nothing applied')
    expect(d.details.get('a')).toMatch(/stopped by c; nothing applied to any cluster/)
  })
  it('a cluster that could not be checked stops the plan with its own error code', () => {
    const d = decidePlan([
      {cluster: 'a', verdict: 'ALLOW'},
      {cluster: 'b', error: {code: 'API_ERROR', message: 'policy unreadable'}},
    ])
    expect(d).toMatchObject({
      go: false,
      blockers: ['b'],
      error: {code: 'API_ERROR', message: expect.stringMatching(/^cluster b: policy unreadable; nothing was applied/)},
    })
  })
  it('an enforcement stop carries its error (required but off)', () => {
    const d = decidePlan([{cluster: 'a', verdict: 'ALLOW', stop: {detail: 'off', error: {code: 'DENIED', message: 'enforcement is OFF'}}}])
    expect(d).toMatchObject({go: false, error: {code: 'DENIED'}})
  })
  it('a denial wins over a cluster that could not be checked: exit 5, a definite answer', () => {
    const d = decidePlan([
      {cluster: 'a', error: {code: 'API_ERROR', message: 'x'}},
      {cluster: 'b', verdict: 'DENY', stop: {detail: 'denied'}},
    ])
    expect(d).toMatchObject({go: false, blockers: ['a', 'b']})
    expect(d.go === false && d.error).toBeUndefined()
  })
})

describe('afterWave and multiOutcome', () => {
  it('the next wave starts only when every cluster of this one succeeded', () => {
    expect(afterWave(['applied', 'applied'])).toBe('next')
    expect(afterWave(['dry-run'])).toBe('next')
    expect(afterWave(['applied', 'failed'])).toBe('stop')
  })
  it('failed when any cluster failed or was not attempted', () => {
    expect(multiOutcome(['applied', 'applied'], 'none')).toBe('applied')
    expect(multiOutcome(['dry-run'], 'server')).toBe('dry-run')
    expect(multiOutcome(['applied', 'failed', 'not-attempted'], 'none')).toBe('failed')
  })
})

describe('summarizePlan', () => {
  it('counts verdicts and waves', () => {
    expect(
      summarizePlan(
        [
          {cluster: 'a', verdict: 'ALLOW'},
          {cluster: 'b', verdict: 'DENY', stop: {detail: 'd'}},
          {cluster: 'c', error: {code: 'API_ERROR', message: 'x'}},
        ],
        2,
      ),
    ).toEqual({clusters: 3, waves: 2, allowed: 1, dryRunDenied: 0, denied: 1, unchecked: 1})
  })
})

describe('clusterContexts', () => {
  it('flags win over the profile contexts, which win over its context', () => {
    expect(clusterContexts(['x'], {contexts: ['a', 'b']})).toEqual(['x'])
    expect(clusterContexts([], {contexts: ['a', 'b']})).toEqual(['a', 'b'])
    expect(clusterContexts(undefined, {context: 'a'})).toEqual(['a'])
    expect(clusterContexts(undefined, undefined)).toEqual([])
  })
  it('refuses a context named twice', () => {
    expect(() => clusterContexts(['a', 'b', 'a'], undefined)).toThrow(/named twice/)
  })
})

describe('profiles: contexts', () => {
  const parse = (body: string) => parseConfigText(`profiles:\n  prod:\n${body}`, '.safe-deploy.yaml')
  it('a list of contexts is the profile clusters, in order', () => {
    const p = parse('    contexts: [gke_p_us-east1_web, gke_p_europe-west1_web]\n').profiles['prod']
    expect(p?.contexts).toEqual(['gke_p_us-east1_web', 'gke_p_europe-west1_web'])
    expect(clusterContexts(undefined, p)).toEqual(['gke_p_us-east1_web', 'gke_p_europe-west1_web'])
  })
  it('refuses contexts beside context, an empty list and a non-list, with the line', () => {
    expect(() => parse('    context: a\n    contexts: [b, c]\n')).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        errors: [expect.objectContaining({message: expect.stringMatching(/:4: profiles\.prod\.contexts: context is set too/)})],
      }),
    )
    expect(() => parse('    contexts: []\n')).toThrow(
      expect.objectContaining({errors: [expect.objectContaining({message: expect.stringMatching(/expected a list/)})]}),
    )
    expect(() => parse('    contexts: a\n')).toThrow(
      expect.objectContaining({errors: [expect.objectContaining({message: expect.stringMatching(/expected a list/)})]}),
    )
  })
})
