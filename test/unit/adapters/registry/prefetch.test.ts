import {describe, expect, it} from '@jest/globals'
import {PrefetchingResolver} from '../../../../src/adapters/registry/prefetch.js'
import type {DigestResolver, ResolveRequest} from '../../../../src/core/ports.js'
import type {ImageSite} from '../../../../src/core/manifest/types.js'

const D = (n: number) => 'sha256:' + n.toString(16).padStart(64, '0')
const site = (image: string): ImageSite => ({image}) as ImageSite

/** A fake registry: records batches, answers after a tick, tracks how many batches overlap. */
function fakeInner() {
  const batches: string[][] = []
  let running = 0
  let maxRunning = 0
  const inner: DigestResolver = {
    async resolveAll(reqs: readonly ResolveRequest[]) {
      batches.push(reqs.map((r) => `${r.domain}/${r.path}:${r.reference}`))
      running++
      maxRunning = Math.max(maxRunning, running)
      await new Promise((r) => setTimeout(r, 5))
      running--
      return reqs.map((r, i) =>
        r.reference === 'missing'
          ? {ok: false as const, error: Object.assign(new Error('not found'), {code: 'REGISTRY_NOT_FOUND'}) as never}
          : {ok: true as const, value: {image: r.image, digest: D(i + 1), mediaType: 'x', registry: r.domain}},
      )
    },
  }
  return {inner, batches, maxRunning: () => maxRunning}
}

describe('PrefetchingResolver', () => {
  it('announces every request of a prefetch before the first lookup starts (one token request can cover them)', async () => {
    const f = fakeInner()
    const events: string[] = []
    const inner: DigestResolver = {
      announce: (reqs) => events.push(`announce ${reqs.map((r) => r.path).join(',')}`),
      resolveAll: async (reqs) => {
        events.push(`lookup ${reqs.map((r) => r.path).join(',')}`)
        return f.inner.resolveAll(reqs)
      },
    }
    const p = new PrefetchingResolver(inner, 1)
    p.prefetch([site('gcr.io/p/a:1'), site('gcr.io/p/b:1'), site('gcr.io/p/c:1')])
    await p.resolveAll([{image: 'gcr.io/p/a:1', domain: 'gcr.io', path: 'p/a', reference: '1'}])
    expect(events[0]).toBe('announce p/a,p/b,p/c')
    expect(events.filter((e) => e.startsWith('lookup'))[0]).toBe('lookup p/a')
  })

  it('starts lookups for exact image sites, once per reference, at most `limit` at a time', async () => {
    const f = fakeInner()
    const p = new PrefetchingResolver(f.inner)
    p.prefetch([site('gcr.io/p/a:1'), site('gcr.io/p/a:1'), site('nginx'), site('{{ .Values.image }}'), site('gcr.io/p/pinned@' + D(9))])
    p.prefetch([site('gcr.io/p/b:2'), site('nginx')])
    const out = await p.resolveAll([
      {image: 'nginx', domain: 'docker.io', path: 'library/nginx', reference: 'latest'},
      {image: 'gcr.io/p/b:2', domain: 'gcr.io', path: 'p/b', reference: '2'},
      {image: 'gcr.io/p/c:3', domain: 'gcr.io', path: 'p/c', reference: '3'},
    ])
    expect(out.map((o) => o.ok)).toEqual([true, true, true])
    // Templates and digest-only references are never looked up; duplicates once; batches never overlap.
    expect(f.batches.flat().sort()).toEqual(['docker.io/library/nginx:latest', 'gcr.io/p/a:1', 'gcr.io/p/b:2', 'gcr.io/p/c:3'])
    expect(f.maxRunning()).toBeLessThanOrEqual(16)
  })

  it('never has more than `limit` lookups in flight, and reaches it; each reference once across prefetch and resolveAll', async () => {
    const f = fakeInner()
    const p = new PrefetchingResolver(f.inner, 3)
    const images = Array.from({length: 20}, (_, i) => `gcr.io/p/app${i}:1`)
    p.prefetch(images.slice(0, 12).map(site))
    const out = await p.resolveAll(images.map((image, i) => ({image, domain: 'gcr.io', path: `p/app${i}`, reference: '1'})))
    expect(out.every((o) => o.ok)).toBe(true)
    expect(f.maxRunning()).toBe(3)
    expect(f.batches).toHaveLength(20)
    expect(new Set(f.batches.flat()).size).toBe(20)
  })

  it('passes failures through to the right request', async () => {
    const f = fakeInner()
    const p = new PrefetchingResolver(f.inner)
    const out = await p.resolveAll([
      {image: 'gcr.io/p/a:missing', domain: 'gcr.io', path: 'p/a', reference: 'missing'},
      {image: 'gcr.io/p/a:1', domain: 'gcr.io', path: 'p/a', reference: '1'},
    ])
    expect(out[0]?.ok).toBe(false)
    expect(out[1]?.ok).toBe(true)
  })
})
