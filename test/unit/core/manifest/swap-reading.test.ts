/**
 * The read-back of a stretch by its lexemes (sitesAfterSwap, src/core/manifest/swap-reading.ts): when only image values
 * of a plain shape were swapped, the rewritten text holds the located sites with the new values, exactly what locating
 * it again finds; anything it cannot show is left to that (undefined). test/fuzz/manifest.test.ts checks on generated
 * streams that whenever it answers, locating the rewritten text again gives the same sites.
 */
import {describe, expect, it} from '@jest/globals'
import {rewriteText} from '../../../../src/core/manifest/rewrite.js'
import {scanManifest} from '../../../../src/core/manifest/scan.js'
import {sitesAfterSwap} from '../../../../src/core/manifest/swap-reading.js'
import type {ImageSite} from '../../../../src/core/manifest/types.js'

const PINNED = 'web@sha256:' + 'ab'.repeat(32)
const deployment = (image: string, tail = ''): string =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ${image}\n${tail}`

/** Locate, swap the first site's value, and ask sitesAfterSwap; also what locating the rewritten text finds. */
function swap(text: string, value = PINNED): {answer: ImageSite[] | undefined; again: ImageSite[]; rewritten: string} {
  const located = scanManifest(text, 'm.yaml').sites
  const swaps = [{site: located[0] as ImageSite, value}]
  const rewritten = rewriteText(text, swaps)
  return {answer: sitesAfterSwap(text, rewritten, located, swaps), again: scanManifest(rewritten, 'm.yaml').sites, rewritten}
}

const key = (s: ImageSite): string => `${s.document} ${s.pathString} ${s.image}`

describe('reading a stretch back by its lexemes', () => {
  it.each([
    ['plain', 'web:1'],
    ['double-quoted', '"web:1"'],
    ['single-quoted', "'web:1'"],
    ['plain, with a comment after it', 'web:1 # the web server'],
  ])('%s: the located sites with the new value, as locating the rewritten text finds them', (_, image) => {
    const {answer, again} = swap(deployment(image, '      - name: side\n        image: proxy:2\n'))
    expect(answer?.map(key)).toEqual(again.map(key))
    expect(answer?.map((s) => s.image)).toEqual([PINNED, 'proxy:2'])
  })

  it('in a flow mapping too', () => {
    const text = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: app, image: web:1}, {name: b, image: "b:2"}]\n`
    const {answer, again} = swap(text)
    expect(answer?.map(key)).toEqual(again.map(key))
  })

  it.each([
    ['a tag on the value', '!!str web:1'],
    ['an anchor on the value', '&img web:1'],
    ['a tag on a line of its own', '!!str\n          web:1'],
    ['a multi-line plain value', 'web\n          :1'.replace(':1', 'x')],
    ['a block scalar', '|-\n          web:1'],
  ])('%s: left to locating it again', (_, image) => {
    const {answer} = swap(deployment(image))
    expect(answer).toBeUndefined()
  })

  it('a new value that is not of the plain shape (it would be quoted, or read as another type): left to locating it again', () => {
    expect(swap(deployment('web:1'), 'web: 1').answer).toBeUndefined()
    expect(swap(deployment('"web:1"'), 'a"b').answer).toBeUndefined()
    expect(swap(deployment('web:1'), '1:20').answer).toBeUndefined()
  })

  it('a byte changed beside the swapped value, or a swap that is not at a scalar: left to locating it again', () => {
    const text = deployment('web:1')
    const located = scanManifest(text, 'm.yaml').sites
    const site = located[0] as ImageSite
    const swaps = [{site, value: PINNED}]
    const rewritten = rewriteText(text, swaps)
    expect(sitesAfterSwap(text, rewritten.replace('name: app', 'name: ap2'), located, swaps)).toBeUndefined()
    expect(sitesAfterSwap(text, rewritten.replace('image:', 'imag3:'), located, swaps)).toBeUndefined()
    // The range moved one character into the value: the text there is not the value as written.
    const moved = {...site, valueRange: [site.valueRange[0] + 1, site.valueRange[1]] as const, image: 'eb:1'}
    expect(sitesAfterSwap(text, text.replace('web:1', 'w' + PINNED), located, [{site: moved, value: PINNED}])).toBeUndefined()
  })

  it('a swap that changes how the lexer cuts the text: left to locating it again', () => {
    // The same value for "before", but the stretch it is said to come from holds a comment marker right after it.
    const text = deployment('web:1')
    const located = scanManifest(text, 'm.yaml').sites
    const swaps = [{site: located[0] as ImageSite, value: PINNED}]
    const rewritten = rewriteText(text, swaps).replace(PINNED, PINNED + ' #')
    expect(sitesAfterSwap(text, rewritten, located, swaps)).toBeUndefined()
  })
})
