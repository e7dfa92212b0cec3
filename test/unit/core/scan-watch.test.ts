/**
 * `scan --watch`'s pure core (src/core/scan-watch.ts): the Pods after each event, which plan images
 * still need an evaluation, which rows are new (a new Pod of a reported workload is not; a break-glass
 * row whose age grew is not), and the exit status of a watch.
 */
import {describe, expect, it} from '@jest/globals'
import {applyPodEvent, exitForWatch, findingKey, newRows, pendingPlanImages} from '../../../src/core/scan-watch.js'
import {evaluationKey, NOT_PULLED, type Finding, type ListedPod, type Unchecked} from '../../../src/core/scan.js'
import type {PlanImage} from '../../../src/core/preflight.js'

const D1 = 'sha256:' + '1'.repeat(64)
const D2 = 'sha256:' + '2'.repeat(64)

function pod(name: string, digest = D1): ListedPod {
  return {
    namespace: 'prod',
    name,
    annotations: {},
    serviceAccount: 'default',
    containers: [{name: 'app', kind: 'container', image: `gcr.io/p/app@${digest}`, imageID: `docker-pullable://gcr.io/p/app@${digest}`}],
  }
}

function finding(o: Partial<Finding> = {}): Finding {
  return {
    kind: 'verdict',
    severity: 'deny',
    namespace: 'prod',
    workload: {kind: 'Deployment', name: 'web'},
    container: 'app',
    image: `gcr.io/p/app@${D1}`,
    digest: D1,
    verdict: 'DENY',
    message: 'denied by the default rule',
    fix: 'safe-deploy attest …',
    pods: ['web-1'],
    ...o,
  }
}

function image(digest: string, serviceAccount = 'default'): PlanImage {
  return {original: `gcr.io/p/app@${digest}`, image: `gcr.io/p/app@${digest}`, digest, namespace: 'prod', serviceAccount, breakGlass: false}
}

describe('scan --watch core', () => {
  it('a list replaces the Pods; added and modified set one, deleted removes it', () => {
    let pods = applyPodEvent(new Map(), {type: 'listed', pods: [pod('a'), pod('b')]})
    expect([...pods.keys()]).toEqual(['prod/a', 'prod/b'])
    pods = applyPodEvent(pods, {type: 'added', pod: pod('c')})
    pods = applyPodEvent(pods, {type: 'modified', pod: pod('a', D2)})
    pods = applyPodEvent(pods, {type: 'deleted', pod: pod('b')})
    expect([...pods.keys()].sort()).toEqual(['prod/a', 'prod/c'])
    expect(pods.get('prod/a')?.containers[0]?.imageID).toContain(D2)
    // After 410 Gone the new list is the whole truth: what it lacks is gone.
    expect([...applyPodEvent(pods, {type: 'listed', pods: [pod('z')]}).keys()]).toEqual(['prod/z'])
  })

  it('only plan images not evaluated before, each evaluation key once', () => {
    const evaluated = new Set([evaluationKey(image(D1))])
    expect(pendingPlanImages([image(D1), image(D2), image(D2), image(D1, 'other')], evaluated)).toEqual([image(D2), image(D1, 'other')])
  })

  it('a row is new once: more Pods of the same workload, or a break-glass row that aged, are not news', () => {
    const first = newRows({findings: [finding()], unchecked: []}, new Set())
    expect(first.findings).toHaveLength(1)
    const printed = new Set(first.keys)
    expect(newRows({findings: [finding({pods: ['web-1', 'web-2']})], unchecked: []}, printed).findings).toEqual([])
    const bg = finding({kind: 'break-glass', severity: 'warning', message: 'admitted by break-glass 1m ago'})
    printed.add(findingKey(bg))
    expect(newRows({findings: [{...bg, message: 'admitted by break-glass 5m ago'}], unchecked: []}, printed).findings).toEqual([])
    // Another digest of the same workload is a new row.
    expect(newRows({findings: [finding({digest: D2})], unchecked: []}, printed).findings).toHaveLength(1)
  })

  it('a container not pulled yet is not reported (its next event brings the digest); other unchecked rows are', () => {
    const u = (reason: string): Unchecked => ({
      namespace: 'prod',
      workload: {kind: 'Pod', name: 'p'},
      container: 'app',
      image: 'gcr.io/p/app:1',
      reason,
      pods: ['p'],
    })
    const rows = newRows({findings: [], unchecked: [u(NOT_PULLED), u('the imageID docker://sha256:… names no repository digest')]}, new Set())
    expect(rows.unchecked.map((x) => x.reason)).toEqual(['the imageID docker://sha256:… names no repository digest'])
    expect(rows.keys).toHaveLength(1)
  })

  it('exit: the worst row printed, ranked as scan ranks them', () => {
    expect(exitForWatch({severities: new Set(), unchecked: 0})).toBe(0)
    expect(exitForWatch({severities: new Set(['warning']), unchecked: 0})).toBe(0)
    expect(exitForWatch({severities: new Set(['dry-run']), unchecked: 0})).toBe(6)
    expect(exitForWatch({severities: new Set(['dry-run']), unchecked: 1})).toBe(4)
    expect(exitForWatch({severities: new Set(['deny', 'dry-run']), unchecked: 1})).toBe(5)
  })
})
