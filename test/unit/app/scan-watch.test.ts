/**
 * The `scan --watch` use case with plain fakes: events from the PodWatcher port, each evaluation key
 * evaluated once for the whole watch, owners listed again only for a controller not seen yet, each
 * row printed once, the trust sources closed when the watch ends, and a failing watch never clean.
 */
import {describe, expect, it} from '@jest/globals'
import {scanWatch, type ScanOptions} from '../../../src/app/scan.js'
import {SafeDeployError} from '../../../src/core/errors.js'
import {SYSTEM_ALLOWLIST} from '../../../src/core/policy/allowlist.js'
import type {PodLister, PodWatcher} from '../../../src/core/ports.js'
import type {NewRows, PodEvent} from '../../../src/core/scan-watch.js'
import type {ListedPod, OwnerObject} from '../../../src/core/scan.js'
import {digest, policy, trust} from './fakes.js'

const options: ScanOptions = {
  namespace: 'prod',
  target: {platform: 'gke', namespace: 'prod'},
  systemAllowlist: {patterns: [...SYSTEM_ALLOWLIST], approximate: true},
  now: new Date('2026-11-28T00:00:00Z'),
}

function pod(name: string, d: string, controller?: ListedPod['controller']): ListedPod {
  return {
    namespace: 'prod',
    name,
    annotations: {},
    serviceAccount: 'default',
    ...(controller ? {controller} : {}),
    containers: [{name: 'app', kind: 'container', image: `gcr.io/p/api@${d}`, imageID: `docker-pullable://gcr.io/p/api@${d}`}],
  }
}

function lister(owners: readonly OwnerObject[]): PodLister & {calls: string[]} {
  const calls: string[] = []
  return {
    calls,
    listPods: async () => {
      throw new Error('the watch lists through its PodWatcher')
    },
    listOwners: async (kind) => {
      calls.push(kind)
      return owners.filter((o) => o.kind === kind)
    },
  }
}

/** A watcher that yields the events, then (like Ctrl-C) aborts the watch. */
function watcher(events: PodEvent[], stop: AbortController, fail?: SafeDeployError): PodWatcher {
  return {
    async *watchPods() {
      for (const e of events) yield e
      if (fail) throw fail
      stop.abort()
    },
  }
}

const RS = (name: string, deployment: string): OwnerObject => ({kind: 'ReplicaSet', namespace: 'prod', name, owner: {kind: 'Deployment', name: deployment}})

describe('scan --watch use case', () => {
  it('rows as they appear, each once; a digest evaluated once; owners listed again only for a new ReplicaSet', async () => {
    const t = await trust(policy('attest'), [`gcr.io/p/api@${digest(1)}`])
    const stop = new AbortController()
    const owners = [RS('web-1', 'web')]
    const l = lister(owners)
    const printed: NewRows[] = []
    const events: PodWatcher = {
      async *watchPods() {
        yield {type: 'listed', pods: [pod('web-1-a', digest(1), {kind: 'ReplicaSet', name: 'web-1'})]}
        // A rollout: a new ReplicaSet whose Pods run an unattested digest, then more Pods of it.
        owners.push(RS('web-2', 'web'))
        yield {type: 'added', pod: pod('web-2-a', digest(2), {kind: 'ReplicaSet', name: 'web-2'})}
        yield {type: 'added', pod: pod('web-2-b', digest(2), {kind: 'ReplicaSet', name: 'web-2'})}
        yield {type: 'deleted', pod: pod('web-1-a', digest(1), {kind: 'ReplicaSet', name: 'web-1'})}
        stop.abort()
      },
    }
    const seen = await scanWatch(options, {pods: l, openTrust: async () => t, watcher: events}, stop.signal, (rows) => printed.push(rows))
    // The list was clean (nothing printed); the rollout's first Pod brings the denied digest and the skew, once.
    expect(printed.map((r) => r.findings.map((f) => `${f.kind} ${f.workload.kind}/${f.workload.name} ${f.digest}`))).toEqual([
      [`verdict Deployment/web ${digest(2)}`, `skew Deployment/web ${digest(1)}`],
    ])
    expect([...t.listed].sort()).toEqual([digest(1), digest(2)])
    expect(l.calls).toEqual(['ReplicaSet', 'ReplicaSet'])
    expect(t.closed).toBe(true)
    expect(seen).toMatchObject({events: 4, evaluations: 2, exitCode: 5})
  })

  it('a clean watch ends 0', async () => {
    const t = await trust(policy('allow'))
    const stop = new AbortController()
    const seen = await scanWatch(
      options,
      {pods: lister([]), openTrust: async () => t, watcher: watcher([{type: 'listed', pods: [pod('one', digest(1))]}], stop)},
      stop.signal,
      () => {},
    )
    expect(seen).toMatchObject({events: 1, findings: 0, exitCode: 0})
  })

  it('a watch that fails throws (exit 4), trust closed', async () => {
    const t = await trust(policy('allow'))
    const stop = new AbortController()
    const fail = new SafeDeployError('API_ERROR', 'could not watch Pods in namespace prod: connection refused; the watch ended')
    await expect(
      scanWatch(options, {pods: lister([]), openTrust: async () => t, watcher: watcher([], stop, fail)}, stop.signal, () => {}),
    ).rejects.toMatchObject({exitCode: 4})
    expect(t.closed).toBe(true)
  })
})
