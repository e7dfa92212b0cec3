/**
 * Parser differential against the real kubectl (v1.32 on these machines), class by class from the
 * security issue: for each input, first what kubectl itself would send (proving the hole exists),
 * then that safe-deploy refuses the input, or that everything kubectl would send — as written,
 * pinned, and as `apply` sends it — is exactly what safe-deploy located.
 */
import {afterAll, beforeAll, describe, expect, it, jest} from '@jest/globals'
import {KubectlOracle} from '../../support/kubectl-oracle.js'
import {checkBatch, differences, ourReading, viewsOf} from './compare.js'
import {parseManifest} from '../../../src/core/manifest/parse.js'
import {locateImages} from '../../../src/core/manifest/locate.js'
import {rewriteImages} from '../../../src/core/manifest/rewrite.js'

let oracle: KubectlOracle
beforeAll(async () => {
  oracle = await KubectlOracle.start()
})
afterAll(async () => oracle.stop())

const dep = (image: string, name = 'web'): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: ${image}
`
const podItem = (name: string, image: string, head = 'apiVersion: v1\n  kind: Pod\n  '): string =>
  `- ${head}metadata: {name: ${name}}\n  spec: {containers: [{name: a, image: "${image}"}]}\n`

/**
 * Inputs on which kubectl and a YAML 1.2 reading disagree, with what kubectl itself would send
 * (the `yaml` package reads good:1 at the image field, or more documents than kubectl does).
 */
const REFUSED: Array<[string, string, string[]]> = [
  ['1: U+2028 in a comment', dep('good:1 # x\u2028        image: evil:1'), ['evil:1']],
  ['1: U+2029 in a comment', dep('good:1 # x\u2029        image: evil:1'), ['evil:1']],
  ['1: U+0085 in a comment', dep('good:1 # x\u0085        image: evil:1'), ['evil:1']],
  ['1: a lone CR in a comment', dep('good:1 # x\r        image: evil:1'), ['evil:1']],
  ['1: a whole extra container behind U+2028', dep('good:1 # x\u2028      - name: extra\u2028        image: evil:1'), ['good:1', 'evil:1']],
  ['2: alias keys', dep('good:1').replace('        image: good:1', '        &k image: good:1\n        *k : evil:1'), ['evil:1']],
  ['3: !!binary key', dep('good:1\n        !!binary aW1hZ2U=: evil:1'), ['evil:1']],
  ['3: !!binary value', dep('!!binary ZXZpbDox'), ['evil:1']],
  ['4: merge key after image', dep('good:1\n        <<: {image: evil:1}'), ['evil:1']],
  ['4: merge key with an alias', 'x: &base {image: evil:1}\n' + dep('good:1\n        <<: *base'), ['evil:1']],
  ['5: BOM at the start of a later document', dep('good:1') + '---\n\uFEFF' + dep('evil:1', 'web2'), ['good:1', 'evil:1']],
  ['7: ---# separator', dep('good:1') + '---#\n' + dep('evil:1', 'web2'), ['good:1', 'evil:1']],
  ['7: content after ...', dep('good:1') + '...\n' + dep('evil:1', 'web2'), ['good:1']],
  ['duplicate image keys', dep('good:1\n        image: evil:1'), ['evil:1']],
  [
    'JSON with duplicate keys',
    '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"jd"},"spec":{"containers":[{"name":"a","image":"good:1","image":"evil:1"}]}}',
    ['evil:1'],
  ],
  ['YAML 1.1 plain value', dep('y'), []],
]

/** Inputs both read alike (or where kubectl sends nothing): accepted, and kubectl agrees. */
const ACCEPTED: Array<[string, string]> = [
  ['plain Deployment', dep('nginx:1.25')],
  ['CRLF line endings', dep('crlf:1').replace(/\n/g, '\r\n')],
  ['BOM at byte 0', '\uFEFF' + dep('bom0:1')],
  ['--- # comment and ---\\t separators', dep('a:1') + '--- # next\n' + dep('b:1', 'web2') + '---\t\n' + dep('c:1', 'web3')],
  ['... then ---', dep('a:1') + '...\n---\n' + dep('b:1', 'web2')],
  ['value aliases', 'apiVersion: v1\nkind: Pod\nmetadata: {name: va}\nspec:\n  containers:\n  - &c {name: a, image: "valias:1"}\n  - *c\n'],
  ['6: PodList items without kind', 'apiVersion: v1\nkind: PodList\nitems:\n' + podItem('p1', 'podlist:1', '')],
  ['6: kind: List of Pods', 'apiVersion: v1\nkind: List\nitems:\n' + podItem('p1', 'list1:1') + podItem('p2', 'list2:1')],
  ['6: a Deployment with items (kubectl applies the items only)', dep('outer:1') + 'items:\n' + podItem('hid', 'hidden:1')],
  ['6: items: null drops the object', dep('dropped:1') + 'items: null\n---\n' + dep('kept:1', 'web2')],
  ['one JSON object', JSON.stringify({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'j'}, spec: {containers: [{name: 'a', image: 'json:1'}]}})],
  ['!!str key and value', dep('!!str strtag:1').replace('        image:', '        !!str image:')],
  ['quoted YAML 1.1 words', dep('"y"')],
]

describe('kubectl sends an image safe-deploy would not see: refused', () => {
  it.each(REFUSED)('class %s', async (_name, text, kubectlSends) => {
    const kubectl = await oracle.read(text)
    // The hole is real: this is what kubectl itself would send.
    expect(kubectl.images).toEqual(kubectlSends)
    const ours = ourReading(text)
    expect(ours.refused).toMatch(/^input\.yaml: document \d+: /m)
  })
})

describe('inputs both read alike: accepted, and kubectl would send exactly what was located', () => {
  it.each(ACCEPTED)('%s', async (name, text) => {
    const ours = ourReading(text)
    expect(ours.refused).toBeUndefined()
    const kubectl = await oracle.read(text)
    expect(kubectl.status).toBe(0)
    expect(differences(kubectl.images, ours.images, true)).toEqual([])
    const pinned = await oracle.read(ours.pinnedText)
    expect(pinned.images.every((im) => im.includes('@sha256:'))).toBe(true)
    expect(differences(pinned.images, ours.pinned, true)).toEqual([])
    const sent = await oracle.read(ours.applyInput)
    expect(sent.status).toBe(0)
    expect(differences(sent.images, ours.pinned, true)).toEqual([])
    if (name.startsWith('6: a Deployment with items')) expect(kubectl.objects.map((o) => o.kind)).toEqual(['Pod'])
  })
})

describe('lists kubectl fails on are refused', () => {
  it('a list inside a list: kubectl applies nothing from the document; safe-deploy refuses it', async () => {
    const inner = podItem('p', 'nested:1').replace(/\n(?!$)/g, '\n  ')
    const text = 'apiVersion: v1\nkind: List\nitems:\n' + podItem('first', 'n0:1') + '- apiVersion: v1\n  kind: List\n  items:\n  ' + inner
    const kubectl = await oracle.read(text)
    expect(kubectl.status).not.toBe(0)
    expect(kubectl.stderr).toMatch(/is not a list/)
    expect(kubectl.images).toEqual([])
    expect(ourReading(text).refused).toMatch(/a list inside a list/)
  })
})

describe('values the rewriter escapes: kubectl reads each escape as the character safe-deploy wrote', () => {
  it('U+0085, U+2028, U+2029, U+FEFF, DEL and a C1 control, written as \\u escapes in each scalar style', async () => {
    // Raw in the text, the first three are line breaks to kubectl (refused above); escaped, both read one string.
    const odd = ['\u0085', '\u2028', '\u2029', '\uFEFF', '\u007F', '\u009F']
    const texts: string[] = []
    const values: string[] = []
    for (const style of ['plain:1', "'single:1'", '"double:1"'])
      for (const ch of odd) {
        const m = parseManifest(dep(style, `w${texts.length}`), 'input.yaml')
        const [site] = locateImages(m)
        values.push(`a${ch}b:1`)
        texts.push(rewriteImages(m, [{site: site!, value: values.at(-1)!}]))
      }
    for (const t of texts) expect(ourReading(t).refused).toBeUndefined()
    const kubectl = await oracle.read(texts.join('---\n'))
    expect(kubectl.status).toBe(0)
    expect(kubectl.images).toEqual(values)
  })
})

describe('files kubectl cannot parse, in a batch', () => {
  it('kubectl names each in stderr: each is run alone, the others together again, and every view is the one-by-one view', async () => {
    const texts = [
      dep('n0-a:1'),
      dep('n1-good:1') + '--- junk\n' + dep('n1-evil:1', 'web2'),
      dep('n2-a:1'),
      dep('n3-a:1').replace('{matchLabels: {app: web}}', '{matchLabels: {app: web}'),
      dep('n4-a:1'),
    ]
    const many = jest.spyOn(oracle, 'readMany')
    const one = jest.spyOn(oracle, 'read')
    try {
      const views = await viewsOf(oracle, texts, (i) => `n${i}-`)
      // The whole batch (fails, names files 1 and 3), files 1 and 3 alone, then 0, 2 and 4 together.
      expect(many.mock.calls.map(([t]) => t.length)).toEqual([5, 3])
      expect(one.mock.calls.map(([t]) => texts.indexOf(t as string))).toEqual([1, 3])
      for (const [i, text] of texts.entries()) {
        const alone = await oracle.read(text)
        expect({i, ok: views[i]?.status === 0, images: views[i]?.images}).toEqual({i, ok: alone.status === 0, images: alone.images})
      }
      expect(views.map((v) => v.status === 0)).toEqual([true, false, true, false, true])
    } finally {
      many.mockRestore()
      one.mockRestore()
    }
  })
})

describe('the batch check used by the generator agrees with the one-by-one check', () => {
  it('every class above, one kubectl run per view', async () => {
    // Every image value gets its input's prefix (a base64-encoded value cannot, so it is left out).
    const refused = REFUSED.filter(([, t, sends]) => !t.includes('!!binary Z') && sends.length > 0)
    const texts = [...refused, ...ACCEPTED].map(([, t], i) =>
      t.replace(/\b(good|evil):1/g, `b${i}-$1:1`).replace(/(image"?:\s*(?:!!str )?"?)(?!b\d+-)([a-z])/g, `$1b${i}-$2`),
    )
    const r = await checkBatch(oracle, texts, (i) => `b${i}-`)
    expect(r.failures).toEqual([])
    expect(r.refused).toBe(refused.length)
    expect(r.refusedWithHiddenImage).toBe(refused.filter(([, , sends]) => sends.some((im) => im.includes('evil'))).length)
    expect(r.compared).toBe(ACCEPTED.length)
  })
})
