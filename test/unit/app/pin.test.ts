/** The pin use case with plain fakes: what is read, looked up, written, and refused. */
import {describe, expect, it} from '@jest/globals'
import {pin, type PinOptions, type PinPorts} from '../../../src/app/pin.js'
import {LockResolver} from '../../../src/core/lock.js'
import {deploymentYaml, digest, reader, registry} from './fakes.js'

const inputs = (...files: string[]) => ({files, recursive: false, kustomizeDirs: []})
const options = (over: Partial<PinOptions> = {}): PinOptions => ({
  inputs: inputs('a.yaml'),
  rules: [],
  stripTag: false,
  write: false,
  replayingLock: false,
  ...over,
})

function ports(files: Record<string, string>, tags: Record<string, string>) {
  const written: Array<{path: string; text: string}> = []
  const resolver = registry(tags)
  const p: PinPorts = {
    reader: reader(files),
    resolver,
    writeFiles: async (f) => {
      written.push(...f)
    },
    now: () => new Date('2026-11-27T00:00:00Z'),
  }
  return {p, written, resolver}
}

describe('pin use case', () => {
  it('pins a tag to tag@digest, keeps the comment, writes nothing without --write', async () => {
    const {p, written} = ports({'a.yaml': deploymentYaml('api', 'gcr.io/p/api:1.0')}, {'gcr.io/p/api:1.0': digest(1)})
    const out = await pin(options(), p)
    expect(out.run.outputs[0]?.text).toContain(`image: gcr.io/p/api:1.0@${digest(1)} # keep this comment`)
    expect(out.summary).toEqual({sites: 1, unique: 1, pinned: 1, alreadyPinned: 0, drift: 0, files: 1, unexamined: 0})
    expect(written).toEqual([])
  })

  it('--write writes only changed files, and the lock file through the same port', async () => {
    const {p, written} = ports(
      {'a.yaml': deploymentYaml('api', 'gcr.io/p/api:1.0'), 'b.yaml': deploymentYaml('db', `gcr.io/p/db@${digest(2)}`)},
      {'gcr.io/p/api:1.0': digest(1)},
    )
    const out = await pin(options({inputs: inputs('a.yaml', 'b.yaml'), write: true, lockOutput: 'images.lock'}), p)
    expect(written.map((w) => w.path)).toEqual(['a.yaml', 'images.lock'])
    expect(out.written).toEqual(['a.yaml'])
    expect(written[1]?.text).toContain(`digest: ${digest(1)}`)
  })

  it('one image that cannot be resolved: nothing is written, every failure reported', async () => {
    const {p, written} = ports(
      {'a.yaml': deploymentYaml('api', 'gcr.io/p/api:1.0') + '---\n' + deploymentYaml('x', 'gcr.io/p/gone:1')},
      {'gcr.io/p/api:1.0': digest(1)},
    )
    await expect(pin(options({write: true}), p)).rejects.toMatchObject({code: 'REGISTRY_NOT_FOUND'})
    expect(written).toEqual([])
  })

  it('--write refuses stdin before reading anything', async () => {
    const {p} = ports({}, {})
    await expect(pin(options({inputs: inputs('-'), write: true}), p)).rejects.toMatchObject({code: 'USAGE', message: '--write cannot rewrite stdin'})
    expect((p.reader as ReturnType<typeof reader>).reads).toBe(0)
  })

  it('a lock file answers through the same port; a reference missing from it fails with LOCK_MISSING', async () => {
    const lock = new LockResolver({
      apiVersion: 'safe-deploy.dev/v1',
      kind: 'ImageLock',
      images: [{image: 'gcr.io/p/api:1.0', digest: digest(7), registry: 'gcr.io', repository: 'gcr.io/p/api', resolvedAt: ''}],
    })
    const {p} = ports({'a.yaml': deploymentYaml('api', 'gcr.io/p/api:1.0'), 'b.yaml': deploymentYaml('x', 'gcr.io/p/x:2')}, {})
    const out = await pin(options({replayingLock: true}), {...p, resolver: lock})
    expect(out.sites[0]?.pinned).toBe(`gcr.io/p/api:1.0@${digest(7)}`)
    await expect(pin(options({inputs: inputs('b.yaml'), replayingLock: true}), {...p, resolver: lock})).rejects.toMatchObject({code: 'LOCK_MISSING'})
  })

  it('tag@digest is looked up for drift, except when replaying a lock', async () => {
    const files = {'a.yaml': deploymentYaml('api', `gcr.io/p/api:1.0@${digest(1)}`)}
    const {p, resolver} = ports(files, {'gcr.io/p/api:1.0': digest(2)})
    const out = await pin(options(), p)
    expect(out.summary.drift).toBe(1)
    expect(out.warnings[0]).toMatch(/drift: gcr.io\/p\/api:1.0 now points to/)
    resolver.asked.length = 0
    const replay = await pin(options({replayingLock: true}), p)
    expect(replay.summary.drift).toBe(0)
    expect(resolver.asked).toEqual([])
  })

  const myApp = 'apiVersion: example.com/v1\nkind: MyApp\nmetadata: {name: shop}\nspec:\n  components:\n  - {name: web, image: nginx:1.25}\n'
  const rollout =
    'apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: app, image: gcr.io/p/api:1.0}\n'

  it('a Rollout is pinned; an image in a kind without rules is left as written and reported with the rule that would cover it', async () => {
    const {p, resolver} = ports({'a.yaml': rollout + '---\n' + myApp}, {'gcr.io/p/api:1.0': digest(1)})
    const out = await pin(options(), p)
    expect(out.sites.map((s) => [s.kind, s.path, s.pinned])).toEqual([['Rollout', 'spec.template.spec.containers[0].image', `gcr.io/p/api:1.0@${digest(1)}`]])
    expect(out.run.outputs[0]?.text).toContain('image: nginx:1.25}')
    expect(resolver.asked).toEqual(['gcr.io/p/api:1.0'])
    expect(out.summary.unexamined).toBe(1)
    expect(out.unexamined).toEqual([
      expect.objectContaining({file: 'a.yaml', line: 15, kind: 'MyApp', name: 'shop', path: 'spec.components[0].image', value: 'nginx:1.25'}),
    ])
    expect(out.warnings).toEqual([
      'a.yaml:15: MyApp/shop: spec.components[0].image: "nginx:1.25" was not examined (safe-deploy has no image rule for example.com/v1 MyApp): ' +
        'neither pinned nor pre-flighted; if it is an image, cover it in .safe-deploy.yaml: imageRules: [{apiVersion: example.com/v1, kind: MyApp, path: "spec.components[*].image"}]',
    ])
  })

  it('--strict: an unexamined image-like value is an input error (exit 3) before any lookup or write', async () => {
    const {p, written, resolver} = ports({'a.yaml': rollout + '---\n' + myApp}, {'gcr.io/p/api:1.0': digest(1)})
    const err = await pin(options({strict: true, write: true}), p).catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: 'INVALID_INPUT',
      exitCode: 3,
      message: expect.stringContaining('1 image-like value(s) that no image rule examined') as never,
    })
    expect((err as {errors: Array<{location: unknown}>}).errors.map((e) => e.location)).toEqual([
      {file: 'a.yaml', document: 1, path: 'spec.components[0].image', line: 15},
    ])
    expect(written).toEqual([])
    expect(resolver.asked).toEqual([])
    // With the rule in the config, the value is an image site like any other.
    const ruled = await pin(
      options({strict: true, rules: [{kind: 'MyApp', path: 'spec.components[*].image'}]}),
      ports({'a.yaml': myApp}, {'docker.io/library/nginx:1.25': digest(2)}).p,
    )
    expect(ruled.sites.map((s) => s.pinned)).toEqual([`nginx:1.25@${digest(2)}`])
    expect(ruled.unexamined).toEqual([])
  })
})

describe('pin progress (issue #12 item 12)', () => {
  it('one step for the lookups, one tick per unique reference resolved', async () => {
    const events: string[] = []
    const progress = {start: (l: string, n?: number) => events.push(`start ${l} /${n}`), tick: () => events.push('tick'), done: () => events.push('done')}
    const {p} = ports(
      {
        'a.yaml':
          deploymentYaml('api', 'gcr.io/p/api:1.0') + '---\n' + deploymentYaml('web', 'gcr.io/p/api:1.0') + '---\n' + deploymentYaml('db', 'gcr.io/p/db:3'),
      },
      {'gcr.io/p/api:1.0': digest(1), 'gcr.io/p/db:3': digest(3)},
    )
    const out = await pin(options(), {...p, progress})
    expect(out.summary.pinned).toBe(3)
    expect(events).toEqual(['start resolving image digests /2', 'tick', 'tick', 'done'])
  })
})
