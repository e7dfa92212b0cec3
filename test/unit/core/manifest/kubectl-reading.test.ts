/**
 * The reading rules of core/manifest/kubectl-reading.ts and the list rules of the locator, unit by
 * unit: each class of input on which kubectl and the `yaml` package could disagree is refused with
 * its file, document, line and reason; what both read alike is accepted. test/e2e/differential checks
 * the same inputs against the real kubectl.
 */
import {describe, expect, it} from '@jest/globals'
import {SafeDeployError} from '../../../../src/core/errors.js'
import {goYamlPlainType, isJsonStream} from '../../../../src/core/manifest/kubectl-reading.js'
import {kubectlInput, manifestObjects, rewrittenMustMatch, secondLook} from '../../../../src/core/manifest/objects.js'
import {scanManifest, scanOutcome} from '../../../../src/core/manifest/scan.js'

const dep = (image: string, name = 'web'): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  template:
    spec:
      containers:
      - name: app
        image: ${image}
`

function refusal(text: string, file = 'm.yaml'): SafeDeployError {
  const outcome = scanOutcome(text, file)
  if (outcome.ok) throw new Error(`accepted: ${JSON.stringify(outcome.sites.map((s) => s.image))}`)
  return outcome.error
}

const images = (text: string): string[] => scanManifest(text, 'm.yaml').sites.map((s) => s.image)

describe('class 1: line breaks YAML 1.2 does not treat as line breaks', () => {
  it.each([
    ['U+2028', '\u2028', /U\+2028 \(LINE SEPARATOR\)/],
    ['U+2029', '\u2029', /U\+2029/],
    ['U+0085', '\u0085', /U\+0085/],
    ['a lone CR', '\r', /carriage return/],
  ])('%s hiding a second image key is refused with file, document and line', (_name, ch, why) => {
    const err = refusal('---\n' + dep(`good:1 # x${ch}        image: evil:1`))
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.exitCode).toBe(3)
    expect(err.message).toMatch(/^m\.yaml: document 1: line 11: refused: kubectl could read this differently/)
    expect(err.message).toMatch(why)
    expect(err.hint).toMatch(/line feed/)
  })

  it('CRLF line endings are fine', () => {
    expect(images(dep('crlf:1').replace(/\n/g, '\r\n'))).toEqual(['crlf:1'])
  })

  it('the character inside a quoted value is refused too (fail closed; escapes are the way)', () => {
    expect(refusal(dep('"good:1\u2028"')).message).toMatch(/U\+2028/)
    expect(images(dep('"good:1"   # \\u2028 written as an escape is fine'))).toEqual(['good:1'])
  })
})

describe('class 2 and 3: keys that are aliases, anchored or tagged', () => {
  it('an alias as a key', () => {
    const text = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    &k image: good:1\n    *k : evil:1\n'
    expect(refusal(text).message).toMatch(/document 1: line 7: .*anchor/)
  })
  it('an alias key alone (no anchored key) is refused as an alias', () => {
    const text = 'apiVersion: v1\nkind: Pod\nx: &k image\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: good:1\n    *k : evil:1\n'
    expect(refusal(text).message).toMatch(/line 9: .*key is a YAML alias \(\*k\)/)
  })
  it('!!binary key (kubectl decodes it to "image")', () => {
    expect(refusal(dep('good:1\n        !!binary aW1hZ2U=: evil:1')).message).toMatch(/line 11: .*tag !!binary/)
  })
  it('!!str keys are what both read', () => {
    expect(images(dep('good:1').replace('image: good:1', '!!str image: good:1'))).toEqual(['good:1'])
  })
  it('a list or mapping as a key', () => {
    expect(refusal('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  ? [a, b]\n  : c\n').message).toMatch(/key is a list or a mapping/)
  })
  it('keys YAML 1.1 turns into the same string', () => {
    expect(refusal('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  yes: a\n  true: b\n').message).toMatch(/same key "true"/)
    expect(refusal('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  1_6: a\n  16: b\n').message).toMatch(/same key "16"/)
  })
})

describe('tags on values', () => {
  it.each(['!!binary ZXZpbDox', '!foo custom:1', '! tagged:1', '!!int 1'])('%s is refused', (value) => {
    expect(refusal(dep(value)).message).toMatch(/explicit tag/)
  })
  it('!!str on a value is accepted', () => {
    expect(images(dep('!!str good:1'))).toEqual(['good:1'])
  })
})

describe('class 4: merge keys', () => {
  it('<< with a flow mapping', () => {
    expect(refusal(dep('good:1\n        <<: {image: evil:1}')).message).toMatch(/merge key/)
  })
  it('<< with an alias', () => {
    const text = 'x: &base {image: evil:1}\n' + dep('good:1\n        <<: *base')
    expect(refusal(text).message).toMatch(/merge key/)
  })
  it('"<<" quoted is a plain key for both readers', () => {
    expect(images(dep('good:1').replace('spec:\n  template', 'metadata2: {"<<": x}\nspec:\n  template'))).toEqual(['good:1'])
  })
})

describe('class 5: byte-order marks', () => {
  it('at the start of a later document', () => {
    const err = refusal(dep('a:1') + '---\n\uFEFF' + dep('b:1', 'web2'))
    expect(err.message).toMatch(/document 2: line 12: .*U\+FEFF/)
  })
  it('at byte 0 of the stream is allowed', () => {
    expect(images('\uFEFF' + dep('a:1'))).toEqual(['a:1'])
  })
})

describe("class 7: document separators and markers, as kubectl's reader splits", () => {
  it.each([
    ['---#', /separator line "---#"/],
    ['--- junk', /separator line "--- junk"/],
    ['----', /separator line "----"/],
    ['--- {a: 1}', /separator line/],
    ['--- |', /separator line/],
  ])('%s is refused', (line, why) => {
    expect(refusal(dep('a:1') + line + '\n' + dep('b:1', 'web2')).message).toMatch(why)
  })
  it.each(['---', '--- ', '---\t', '--- # a comment', '---   #x'])('%j is a separator for both', (line) => {
    expect(images(dep('a:1') + line + '\n' + dep('b:1', 'web2'))).toEqual(['a:1', 'b:1'])
  })
  it('content after "..." before the next --- (kubectl ignores it)', () => {
    expect(refusal(dep('a:1') + '...\n' + dep('b:1', 'web2')).message).toMatch(/document-end marker/)
  })
  it('"..." followed by --- or by comments only is fine', () => {
    expect(images(dep('a:1') + '...\n---\n' + dep('b:1', 'web2'))).toEqual(['a:1', 'b:1'])
    expect(images(dep('a:1') + '...\n# trailing\n\n')).toEqual(['a:1'])
  })
  it('directives are refused', () => {
    expect(refusal('%YAML 1.1\n---\n' + dep('a:1')).message).toMatch(/directive/)
  })
  it('empty documents are skipped by both', () => {
    expect(images('---\n---\n' + dep('a:1') + '---\n# only a comment\n---\n')).toEqual(['a:1'])
  })
})

describe('class 6: lists exactly as kubectl flattens them', () => {
  const pod = (name: string, image: string, head = 'apiVersion: v1\n  kind: Pod\n  '): string =>
    `- ${head}metadata: {name: ${name}}\n  spec: {containers: [{name: a, image: "${image}"}]}\n`

  it('items of any object: a Deployment with items applies the items, not the Deployment', () => {
    const text = dep('outer:1') + 'items:\n' + pod('hid', 'hidden:1')
    const sites = scanManifest(text, 'm.yaml').sites
    expect(sites.map((s) => [s.kind, s.name, s.image, s.pathString])).toEqual([['Pod', 'hid', 'hidden:1', 'items[0].spec.containers[0].image']])
    expect(manifestObjects(text).map((o) => `${o.kind}/${o.name}`)).toEqual(['Pod/hid'])
  })
  it("XxxList items without kind and apiVersion take the list's (PodList items are Pods)", () => {
    const text = 'apiVersion: v1\nkind: PodList\nitems:\n' + pod('p1', 'podlist:1', '')
    const sites = scanManifest(text, 'm.yaml').sites
    expect(sites.map((s) => [s.apiVersion, s.kind, s.name, s.image])).toEqual([['v1', 'Pod', 'p1', 'podlist:1']])
    expect(manifestObjects(text)[0]?.body).toMatchObject({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'p1'}})
  })
  it('an item with only kind or only apiVersion is not filled in (kubectl fails on it; we find no pod spec)', () => {
    const text = 'apiVersion: v1\nkind: PodList\nitems:\n' + pod('p1', 'x:1', 'kind: Pod\n  ')
    expect(scanManifest(text, 'm.yaml').sites).toEqual([])
    expect(() => manifestObjects(text)).toThrow(/expected apiVersion, kind and metadata.name/)
  })
  it('a list inside a list is refused (kubectl fails the whole document)', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  ' + pod('p', 'nested:1').replace(/\n(?!$)/g, '\n  ')
    expect(refusal(text).message).toMatch(/items\[0\]\.items \(line 7\): a list inside a list/)
  })
  it('items: null is an empty list: the object is dropped', () => {
    const text = dep('dropped:1') + 'items: null\n'
    expect(scanManifest(text, 'm.yaml').sites).toEqual([])
    expect(manifestObjects(text)).toEqual([])
  })
  it('items that is not a list is refused', () => {
    expect(refusal(dep('x:1') + 'items: {}\n').message).toMatch(/"items" is a mapping/)
  })
  it('keys that read as items case-insensitively are refused at the top of an object', () => {
    expect(refusal('apiVersion: v1\nkind: PodList\nItems:\n' + pod('p', 'x:1', '')).message).toMatch(/the key "Items"/)
    expect(refusal('apiVersion: v1\nkind: PodList\nitem\u017f:\n' + pod('p', 'x:1', '')).message).toMatch(/read as "items"/)
  })
})

describe('YAML 1.1 plain scalars in the fields that matter', () => {
  it.each([
    ['image: y', dep('y'), /spec\.template\.spec\.containers\[0\]\.image \(line 10\): .*"y" as a boolean/],
    ['image: 1_000', dep('1_000'), /"1_000" as an integer/],
    ['name: no', dep('a:1', 'no'), /metadata\.name \(line 4\): .*"no" as a boolean/],
    ['namespace: on', dep('a:1').replace('name: web', 'name: web\n  namespace: on'), /metadata\.namespace .*"on" as a boolean/],
  ])('%s is refused, with a hint to quote it', (_n, text, why) => {
    const err = refusal(text)
    expect(err.message).toMatch(why)
    expect(err.hint).toMatch(/quote the value/)
  })
  it('quoted, the same values are strings for both', () => {
    expect(images(dep('"y"'))).toEqual(['y'])
  })
  it.each([
    ['yes', 'bool'],
    ['Off', 'bool'],
    ['~', 'null'],
    ['', 'null'],
    ['0x1F', 'int'],
    ['0o17', 'int'],
    ['0b101', 'int'],
    ['017', 'int'],
    ['1_000', 'int'],
    ['-12', 'int'],
    ['1.5', 'float'],
    ['.5', 'float'],
    ['1e3', 'float'],
    ['+.inf', 'float'],
    ['.NaN', 'float'],
    ['+inf', 'float'],
    ['nginx:1.25', 'string'],
    ['gcr.io/p/app', 'string'],
    ['2001-12-14', 'string'],
    ['1.2.3', 'string'],
    ['v1', 'string'],
    ['yess', 'string'],
  ])('go-yaml v2 reads %j as %s', (s, t) => {
    expect(goYamlPlainType(s)).toBe(t)
  })
})

describe('JSON streams (kubectl decodes a stream that starts with "{" as JSON)', () => {
  const json = JSON.stringify({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'j'}, spec: {containers: [{name: 'a', image: 'json:1'}]}})
  it('one JSON object', () => {
    expect(isJsonStream('  \n' + json)).toBe(true)
    expect(images(json)).toEqual(['json:1'])
  })
  it('a YAML flow mapping at the start is refused (kubectl fails on it as JSON)', () => {
    expect(refusal('{apiVersion: v1, kind: Pod, metadata: {name: f}}\n').message).toMatch(/decodes it as JSON, and it is not one JSON value/)
  })
  it('several JSON values are refused with the List hint', () => {
    const err = refusal(json + '\n' + json)
    expect(err.hint).toMatch(/"kind": "List"/)
  })
  it('duplicate keys in JSON are refused (Go keeps the last, YAML refuses)', () => {
    expect(
      refusal('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"d"},"spec":{"containers":[{"name":"a","image":"good:1","image":"evil:1"}]}}').message,
    ).toMatch(/duplicate|unique/i)
  })
})

describe('aliases as values: both readers expand them alike (kept)', () => {
  it('an anchored container reused through an alias yields the same image twice for both', () => {
    const text = 'apiVersion: v1\nkind: Pod\nmetadata: {name: va}\nspec:\n  containers:\n  - &c {name: a, image: "valias:1"}\n  - *c\n'
    const sites = scanManifest(text, 'm.yaml').sites
    expect(sites.map((s) => [s.pathString, s.image, s.valueRange[0]])).toEqual([
      ['spec.containers[0].image', 'valias:1', 90],
      ['spec.containers[1].image', 'valias:1', 90],
    ])
    const objs = manifestObjects(text)
    expect(JSON.stringify(objs[0]?.body)).toContain('"containers":[{"name":"a","image":"valias:1"},{"name":"a","image":"valias:1"}]')
  })
})

describe('what is sent, and the second look', () => {
  const D = 'sha256:' + 'a'.repeat(64)
  it('kubectlInput: one ASCII JSON object per line', () => {
    const objs = manifestObjects(dep('app@' + D).replace('name: web', 'name: "w\u00e9b"'))
    const text = kubectlInput(objs)
    expect(text).toBe(JSON.stringify(objs[0]?.body).replace('\u00e9', '\\u00e9') + '\n')
    expect(/^[\x20-\x7e\n]*$/.test(text)).toBe(true)
  })
  it('secondLook passes when the images sent are the evaluated ones, and refuses anything else', () => {
    const text = dep('app@' + D)
    const sites = scanManifest(text, 'm.yaml').sites
    const sent = kubectlInput(manifestObjects(text))
    expect(() =>
      secondLook(
        sent,
        sites.map((site) => ({site, image: site.image})),
      ),
    ).not.toThrow()
    expect(() =>
      secondLook(
        sent,
        sites.map((site) => ({site, image: 'other@' + D})),
      ),
    ).toThrow(/differs from what was evaluated.*not evaluated/)
    expect(() => secondLook(sent, [])).toThrow(/1 image field\(s\) read back, 0 evaluated/)
  })
  it('rewrittenMustMatch refuses a rewrite whose image sites moved or changed', () => {
    const text = dep('app@' + D)
    const sites = scanManifest(text, 'm.yaml').sites
    expect(() =>
      rewrittenMustMatch(
        text,
        'm.yaml',
        sites.map((site) => ({site, image: site.image})),
      ),
    ).not.toThrow()
    expect(() =>
      rewrittenMustMatch(
        text + '---\n' + dep('extra:1', 'x'),
        'm.yaml',
        sites.map((site) => ({site, image: site.image})),
      ),
    ).toThrow(/found document 2 .* extra:1, which was not evaluated/)
  })
})
