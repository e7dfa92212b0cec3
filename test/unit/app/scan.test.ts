/**
 * The scan use case with plain fakes: Pods listed through the PodLister port, owners listed only for
 * the kinds that need them, every running digest checked once however many Pods run it, through the
 * pre-flight's own evaluation; a failed list or trust source is never a clean scan.
 */
import {describe, expect, it} from '@jest/globals'
import {scan, type ScanOptions} from '../../../src/app/scan.js'
import {SafeDeployError} from '../../../src/core/errors.js'
import {SYSTEM_ALLOWLIST} from '../../../src/core/policy/allowlist.js'
import type {PodLister} from '../../../src/core/ports.js'
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

function lister(pods: ListedPod[], owners: OwnerObject[] = []): PodLister & {calls: string[]} {
  const calls: string[] = []
  return {
    calls,
    listPods: async (scope) => {
      calls.push(`pods ${scope.namespace ?? '*'}`)
      return pods
    },
    listOwners: async (kind, namespaces) => {
      calls.push(`${kind} ${namespaces?.join(',') ?? '*'}`)
      return owners.filter((o) => o.kind === kind)
    },
  }
}

describe('scan use case', () => {
  it('100 Pods of one Deployment on one digest: one attestation lookup, one row, the ReplicaSets listed once', async () => {
    const t = await trust(policy('attest'), [`gcr.io/p/api@${digest(2)}`])
    const pods = [
      ...Array.from({length: 100}, (_, i) => pod(`api-1-${i}`, digest(1), {kind: 'ReplicaSet', name: 'api-1'})),
      pod('web-1', digest(2), {kind: 'ReplicaSet', name: 'web-1'}),
    ]
    const l = lister(pods, [
      {kind: 'ReplicaSet', namespace: 'prod', name: 'api-1', owner: {kind: 'Deployment', name: 'api'}},
      {kind: 'ReplicaSet', namespace: 'prod', name: 'web-1', owner: {kind: 'Deployment', name: 'web'}},
    ])
    const r = await scan(options, {pods: l, openTrust: async () => t})
    expect(l.calls).toEqual(['pods prod', 'ReplicaSet prod'])
    expect([...t.listed].sort()).toEqual([digest(1), digest(2)])
    expect(t.closed).toBe(true)
    expect(r).toMatchObject({verdict: 'DENY', pods: 101, workloads: 2, digests: 2, scope: {namespace: 'prod', allNamespaces: false}})
    expect(r.findings).toEqual([expect.objectContaining({kind: 'verdict', workload: {kind: 'Deployment', name: 'api'}, digest: digest(1)})])
    expect(r.findings[0]?.pods).toHaveLength(100)
  })

  it('bare Pods need no owner list', async () => {
    const t = await trust(policy('allow'))
    const l = lister([pod('one', digest(1))])
    const r = await scan(options, {pods: l, openTrust: async () => t})
    expect(l.calls).toEqual(['pods prod'])
    expect(r.verdict).toBe('ALLOW')
  })

  it('a list that fails throws (exit 4) and no trust source is opened', async () => {
    let opened = false
    const failing: PodLister = {
      listPods: async () => {
        throw new SafeDeployError('API_ERROR', 'could not list Pods in namespace prod after 1 page(s): HTTP 500')
      },
      listOwners: async () => [],
    }
    await expect(
      scan(options, {
        pods: failing,
        openTrust: async () => {
          opened = true
          return trust(policy('allow'))
        },
      }),
    ).rejects.toMatchObject({code: 'API_ERROR', exitCode: 4})
    expect(opened).toBe(false)
  })

  it('an attestation source that cannot be read: exit 4, never clean, trust closed', async () => {
    const t = await trust(policy('attest'))
    t.attestations = {
      listAttestations: async () => {
        throw new SafeDeployError('API_ERROR', 'Container Analysis: 503')
      },
    }
    await expect(scan(options, {pods: lister([pod('one', digest(1))]), openTrust: async () => t})).rejects.toMatchObject({exitCode: 4})
    expect(t.closed).toBe(true)
  })
})
