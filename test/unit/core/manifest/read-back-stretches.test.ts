/**
 * pin's read-back by stretches (rewrittenStretchesMustMatch, readBackStretches in src/core/manifest/objects.ts):
 * only the stretches the rewrite changed are parsed again; everything else must be byte for byte what was located,
 * with exactly the evaluated sites. Anything it cannot settle goes to the whole read-back, whose verdict and message
 * stand. test/fuzz/manifest.test.ts checks on generated streams that both always agree.
 */
import {describe, expect, it} from '@jest/globals'
import {readBackStretches, rewrittenMustMatch, rewrittenStretchesMustMatch, type RewrittenFile} from '../../../../src/core/manifest/objects.js'
import {rewriteText} from '../../../../src/core/manifest/rewrite.js'
import {scanManifest} from '../../../../src/core/manifest/scan.js'
import type {ImageSite} from '../../../../src/core/manifest/types.js'

const D = 'sha256:' + 'ab'.repeat(32)
const dep = (image: string, name: string): string =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ${image}\n`
// A large document without images, as the CRDs of an install.yaml.
const crd = (name: string): string =>
  `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: ${name}\nspec:\n  versions:\n` +
  Array.from({length: 40}, (_, i) => `  - name: v${i}\n    schema: {openAPIV3Schema: {type: object, description: "field ${i} of ${name}"}}\n`).join('')

/** A stream of CRDs with two Deployments; `pin` picks the sites to pin. */
function pinned(pin: (site: ImageSite) => boolean, stream = [crd('a'), dep('web:1', 'web'), crd('b'), crd('c'), dep('api:2', 'api'), crd('d')]): RewrittenFile {
  const original = stream.map((d) => '---\n' + d).join('')
  const located = scanManifest(original, 'm.yaml').sites
  const evaluated = located.map((site) => ({site, image: pin(site) ? `${site.image.split(/[:@]/)[0] as string}@${D}` : site.image}))
  const reps = evaluated.filter((e) => e.image !== e.site.image).map((e) => ({site: e.site, value: e.image}))
  return {file: 'm.yaml', original, located, rewritten: rewriteText(original, reps), evaluated, partChars: 256}
}

describe('reading back a pinned file by stretches', () => {
  it('reads again only the stretch that holds the pinned value, and agrees with the whole read-back', () => {
    const f = pinned((s) => s.image === 'web:1')
    const r = readBackStretches(f)
    expect(r).toEqual({read: 1, swapped: 1, of: expect.any(Number)})
    expect(r?.of).toBeGreaterThan(2)
    expect(() => rewrittenStretchesMustMatch(f)).not.toThrow()
    expect(() => rewrittenMustMatch(f.rewritten, f.file, f.evaluated)).not.toThrow()
  })

  it('a site left out of what was evaluated, in a stretch the rewrite did not touch: refused, with the whole read-back message', () => {
    const f = pinned((s) => s.image === 'web:1')
    const without = {...f, evaluated: f.evaluated.filter((e) => e.site.image !== 'api:2')}
    expect(readBackStretches(without)).toBeUndefined()
    expect(() => rewrittenStretchesMustMatch(without)).toThrow(/found document 5 .*api:2, which was not evaluated/)
  })

  it('an evaluated value the rewritten text does not hold: refused', () => {
    const f = pinned((s) => s.image === 'web:1')
    const other = {...f, evaluated: f.evaluated.map((e) => (e.site.image === 'web:1' ? {...e, image: 'web@sha256:' + 'cd'.repeat(32)} : e))}
    expect(readBackStretches(other)).toBeUndefined()
    expect(() => rewrittenStretchesMustMatch(other)).toThrow(/differs from what was evaluated/)
  })

  it('a byte changed outside the pinned values (an untouched stretch differs from the text that was located): refused', () => {
    const f = pinned((s) => s.image === 'web:1')
    const tampered = {...f, rewritten: f.rewritten.replace(crd('c'), dep('evil:1', 'c'))}
    expect(tampered.rewritten).not.toBe(f.rewritten)
    expect(readBackStretches(tampered)).toBeUndefined()
    expect(() => rewrittenStretchesMustMatch(tampered)).toThrow(/evil:1, which was not evaluated/)
  })

  it('falls back to the whole read-back where stretches cannot be placed: a `...` marker, a file of one stretch', () => {
    const withEnd = pinned((s) => s.image === 'web:1', [crd('a') + '...\n', dep('web:1', 'web'), crd('b')])
    expect(readBackStretches(withEnd)).toBeUndefined()
    expect(() => rewrittenStretchesMustMatch(withEnd)).not.toThrow()
    const small = {...pinned((s) => s.image === 'web:1'), partChars: 1_000_000}
    expect(readBackStretches(small)).toBeUndefined()
    expect(() => rewrittenStretchesMustMatch(small)).not.toThrow()
  })

  it('every stretch with a pinned value is read again (two Deployments pinned: two stretches)', () => {
    const f = pinned(() => true)
    expect(readBackStretches(f)?.read).toBe(2)
  })

  it('a stretch whose value the lexemes cannot settle (a tagged value) is composed and located again, with the same verdicts', () => {
    const f = pinned((s) => s.image === 'web:1', [crd('a'), dep('!!str web:1', 'web'), crd('b'), crd('c'), dep('api:2', 'api'), crd('d')])
    expect(readBackStretches(f)).toEqual({read: 1, swapped: 0, of: expect.any(Number)})
    const other = {...f, evaluated: f.evaluated.map((e) => (e.site.image === 'web:1' ? {...e, image: 'web@sha256:' + 'cd'.repeat(32)} : e))}
    expect(readBackStretches(other)).toBeUndefined()
    expect(() => rewrittenStretchesMustMatch(other)).toThrow(/differs from what was evaluated/)
  })
})
