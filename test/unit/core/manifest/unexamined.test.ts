/**
 * Unexamined image-like values: a string under a key named `image` (or in a list under `images`) in
 * a kind that no image rule covers is reported with file, line, kind, name, path and the imageRules
 * entry that would cover it; kinds with rules and kinds known to hold no images are not looked through.
 */
import {describe, expect, it} from '@jest/globals'
import {parseManifest} from '../../../../src/core/manifest/parse.js'
import {locateAll, rulePathFor} from '../../../../src/core/manifest/locate.js'
import {scanManifest} from '../../../../src/core/manifest/scan.js'
import {imageRulesSnippet, ruleSnippet, unexaminedError, unexaminedWarning} from '../../../../src/core/manifest/unexamined.js'
import {parseConfigText} from '../../../../src/core/config.js'
import type {CustomImageRule, UnexaminedValue} from '../../../../src/core/manifest/types.js'

const found = (text: string, rules: CustomImageRule[] = [], file = 'm.yaml') => locateAll(parseManifest(text, file), rules)
const brief = (text: string, rules: CustomImageRule[] = []) => found(text, rules).unexamined.map((u) => [u.path, u.line, u.value, u.rule?.path ?? null])

const myApp = `apiVersion: example.com/v1
kind: MyApp
metadata:
  name: shop
  namespace: prod
spec:
  image: nginx:1.25
  components:
  - name: api
    image: gcr.io/p/api:1
  - name: worker
    image: "gcr.io/p/worker:2"
    sidecar:
      image: envoy:1.30
  mirrors:
    images: [gcr.io/p/a:1, gcr.io/p/b:1]
  logo: {image: {url: x.png}}
  empty:
    image: ""
  notAnImage: nginx:1.25
`

describe('unexamined image-like values: detection', () => {
  it('every string under an image key, and every string of a list under an images key, nested at any depth, in file order', () => {
    const {sites, unexamined} = found(myApp)
    expect(sites).toEqual([])
    expect(unexamined.map((u) => [u.path, u.line, u.value, u.rule?.path ?? null])).toEqual([
      ['spec.image', 7, 'nginx:1.25', 'spec.image'],
      ['spec.components[0].image', 10, 'gcr.io/p/api:1', 'spec.components[*].image'],
      ['spec.components[1].image', 12, 'gcr.io/p/worker:2', 'spec.components[*].image'],
      ['spec.components[1].sidecar.image', 14, 'envoy:1.30', 'spec.components[*].sidecar.image'],
      ['spec.mirrors.images[0]', 16, 'gcr.io/p/a:1', 'spec.mirrors.images[*]'],
      ['spec.mirrors.images[1]', 16, 'gcr.io/p/b:1', 'spec.mirrors.images[*]'],
    ])
    expect(unexamined[0]).toEqual({
      file: 'm.yaml',
      document: 0,
      line: 7,
      apiVersion: 'example.com/v1',
      kind: 'MyApp',
      name: 'shop',
      namespace: 'prod',
      path: 'spec.image',
      value: 'nginx:1.25',
      reason: 'no-rule',
      rule: {apiVersion: 'example.com/v1', kind: 'MyApp', path: 'spec.image'},
    })
  })

  it('the same in JSON input, with the JSON lines', () => {
    const json = JSON.stringify(
      {
        apiVersion: 'example.com/v1',
        kind: 'MyApp',
        metadata: {name: 'shop'},
        spec: {components: [{name: 'api', image: 'gcr.io/p/api:1'}], images: ['x:1']},
      },
      null,
      2,
    )
    expect(brief(json)).toEqual([
      ['spec.components[0].image', 11, 'gcr.io/p/api:1', 'spec.components[*].image'],
      ['spec.images[0]', 15, 'x:1', 'spec.images[*]'],
    ])
    // One line of JSON (what kubectl is sent) is read the same way.
    expect(brief(JSON.stringify(JSON.parse(json)))).toEqual([
      ['spec.components[0].image', 1, 'gcr.io/p/api:1', 'spec.components[*].image'],
      ['spec.images[0]', 1, 'x:1', 'spec.images[*]'],
    ])
  })

  it('the rule each value suggests covers it: added to the config, the value becomes a site and nothing is left', () => {
    const rules = found(myApp).unexamined.flatMap((u) => (u.rule ? [u.rule] : []))
    const again = found(myApp, rules)
    expect(again.unexamined).toEqual([])
    expect(again.sites.map((s) => s.pathString)).toEqual([
      'spec.image',
      'spec.components[0].image',
      'spec.components[1].image',
      'spec.components[1].sidecar.image',
      'spec.mirrors.images[0]',
      'spec.mirrors.images[1]',
    ])
    // And the snippet is a valid .safe-deploy.yaml.
    const cfg = parseConfigText(imageRulesSnippet(found(myApp).unexamined), '.safe-deploy.yaml')
    expect(cfg.imageRules).toEqual([...new Map(rules.map((r) => [r.path, r])).values()])
  })

  it('a custom rule for the kind makes the user responsible for it: nothing else in that kind is reported', () => {
    expect(brief(myApp, [{kind: 'MyApp', path: 'spec.components[*].image'}])).toEqual([])
    // A rule for another group does not match, so the kind is still looked through.
    expect(brief(myApp, [{apiVersion: 'other.com/v1', kind: 'MyApp', path: 'spec.image'}])).toHaveLength(6)
  })

  it("Kubernetes' own kinds with rules are not looked through (their image fields are all known)", () => {
    const text = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations: {image: "not/an-image:1"}
spec:
  template:
    spec:
      containers:
      - {name: app, image: gcr.io/p/app:1}
      volumes:
      - name: v
        image: {reference: quay.io/x/artifact:1}
`
    const {sites, unexamined} = found(text)
    expect(sites.map((s) => s.pathString)).toEqual(['spec.template.spec.containers[0].image', 'spec.template.spec.volumes[0].image.reference'])
    expect(unexamined).toEqual([])
  })

  it('a kind named like a built-in one in another API group is looked through', () => {
    const text = `apiVersion: example.com/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: app, image: gcr.io/p/app:1}
`
    expect(brief(text)).toEqual([['spec.template.spec.containers[0].image', 8, 'gcr.io/p/app:1', 'spec.template.spec.containers[*].image']])
  })

  it('third-party kinds with built-in rules: values outside the built-in paths are reported as not covered', () => {
    const text = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: build-}
spec:
  templates:
  - name: main
    dag:
      tasks:
      - name: inline
        inline:
          container: {image: gcr.io/p/inline:1}
  - name: build
    container: {image: gcr.io/p/build:1}
`
    const {sites, unexamined} = found(text)
    expect(sites.map((s) => s.pathString)).toEqual(['spec.templates[1].container.image'])
    expect(unexamined).toEqual([
      expect.objectContaining({
        kind: 'Workflow',
        name: 'build-',
        path: 'spec.templates[0].dag.tasks[0].inline.container.image',
        value: 'gcr.io/p/inline:1',
        reason: 'not-covered',
        rule: {apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', path: 'spec.templates[*].dag.tasks[*].inline.container.image'},
      }),
    ])
    expect(unexaminedWarning(unexamined[0] as UnexaminedValue)).toContain(
      "safe-deploy's built-in rules for argoproj.io/v1alpha1 Workflow do not cover this field",
    )
  })

  it('items of a List are looked through one by one, with the list path', () => {
    const text = `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web}
  spec: {template: {spec: {containers: [{name: a, image: gcr.io/p/web:1}]}}}
- apiVersion: argoproj.io/v1alpha1
  kind: Experiment
  metadata: {name: exp}
  spec:
    templates:
    - name: canary
      template: {spec: {containers: [{name: c, image: gcr.io/p/canary:1}]}}
`
    const {sites, unexamined} = found(text)
    expect(sites.map((s) => s.pathString)).toEqual(['items[0].spec.template.spec.containers[0].image'])
    expect(unexamined.map((u) => [u.kind, u.name, u.path, u.line, u.rule?.path])).toEqual([
      ['Experiment', 'exp', 'items[1].spec.templates[0].template.spec.containers[0].image', 14, 'spec.templates[*].template.spec.containers[*].image'],
    ])
  })

  it.each([
    ['v1', 'ConfigMap', 'data:\n  image: nginx:1.25\n'],
    ['v1', 'Secret', 'stringData:\n  image: nginx:1.25\n'],
    ['apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'spec:\n  versions:\n  - schema: {openAPIV3Schema: {default: {image: nginx:1.25}}}\n'],
    ['image.toolkit.fluxcd.io/v1beta2', 'ImageRepository', 'spec:\n  image: ghcr.io/org/app\n'],
    ['image.toolkit.fluxcd.io/v1beta2', 'ImagePolicy', 'spec:\n  images: [ghcr.io/org/app]\n'],
  ])('%s %s holds no image use: not looked through', (apiVersion, kind, body) => {
    expect(brief(`apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: x}\n${body}`)).toEqual([])
  })

  it('a ConfigMap in another API group is looked through', () => {
    expect(brief('apiVersion: example.com/v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  image: nginx:1.25\n')).toEqual([
      ['data.image', 5, 'nginx:1.25', 'data.image'],
    ])
  })

  it('only strings count; a document without a kind is no Kubernetes object and is not looked through', () => {
    const text = `apiVersion: example.com/v1
kind: MyApp
metadata: {name: x}
spec:
  a: {image: 42}
  b: {image: null}
  c: {image: [x:1]}
  d: {images: x:1}
  e: {Image: x:1}
  f: {images: [{name: x:1}, 7, y:2]}
---
image: nginx:1.25
`
    expect(brief(text)).toEqual([['spec.f.images[2]', 10, 'y:2', 'spec.f.images[*]']])
  })

  it('values reached through aliases are reported at the path where kubectl sees them; a self-referencing alias ends', () => {
    const text = `apiVersion: example.com/v1
kind: MyApp
metadata: {name: x}
spec:
  a: &c {image: gcr.io/p/a:1}
  b: *c
`
    expect(brief(text)).toEqual([
      ['spec.a.image', 5, 'gcr.io/p/a:1', 'spec.a.image'],
      ['spec.b.image', 5, 'gcr.io/p/a:1', 'spec.b.image'],
    ])
  })

  it('a key that the rule syntax cannot name: reported without a rule', () => {
    const text = `apiVersion: example.com/v1
kind: MyApp
metadata: {name: x}
spec:
  example.com/component: {image: gcr.io/p/a:1}
  42: {image: gcr.io/p/b:1}
`
    const {unexamined} = found(text)
    expect(unexamined.map((u) => [u.path, u.rule])).toEqual([
      ['spec["example.com/component"].image', undefined],
      ['spec["42"].image', undefined],
    ])
    expect(unexaminedWarning(unexamined[0] as UnexaminedValue)).toMatch(/no imageRules path can name this field/)
  })

  it('several documents: whole-file document indexes and lines, also when scanned in chunks', () => {
    const text = ['---\n' + myApp, '---\n' + myApp.replace('name: shop', 'name: shop2'), '---\n# only a comment\n', '---\n' + myApp].join('')
    const whole = found(text).unexamined
    expect(whole.map((u) => u.document)).toEqual([...Array(6).fill(0), ...Array(6).fill(1), ...Array(6).fill(3)])
    // Each document is a "---" line and the 20 lines of myApp.
    expect(whole[0]).toMatchObject({name: 'shop', line: 1 + 7})
    expect(whole[6]).toMatchObject({name: 'shop2', line: 21 + 1 + 7})
    expect(whole[12]).toMatchObject({name: 'shop', line: 21 + 2 + 21 + 1 + 7})
    for (const documentsPerChunk of [1, 2, 250]) {
      expect(scanManifest(text, 'm.yaml', [], {documentsPerChunk}).unexamined).toEqual(whole)
      expect(scanManifest(text, 'm.yaml', [], {documentsPerChunk, charsPerChunk: 64}).unexamined).toEqual(whole)
    }
  })
})

describe('unexamined image-like values: wording', () => {
  const [first] = found(myApp, [], 'k8s/shop.yaml').unexamined as [UnexaminedValue]

  it('rulePathFor: list indexes become [*]', () => {
    expect(rulePathFor(['spec', 'components', 3, 'image'])).toBe('spec.components[*].image')
    expect(rulePathFor(['spec', 'steps', 0, 1, 'image'])).toBe('spec.steps[*][*].image')
    expect(rulePathFor(['spec', 'a.b', 'image'])).toBeUndefined()
    expect(rulePathFor([0, 'image'])).toBeUndefined()
  })

  it('a warning names file:line, kind/name, path, the value and the imageRules entry (quoted for YAML flow style)', () => {
    expect(unexaminedWarning(first)).toBe(
      'k8s/shop.yaml:7: MyApp/shop: spec.image: "nginx:1.25" was not examined (safe-deploy has no image rule for example.com/v1 MyApp): ' +
        'neither pinned nor pre-flighted; if it is an image, cover it in .safe-deploy.yaml: imageRules: [{apiVersion: example.com/v1, kind: MyApp, path: spec.image}]',
    )
    expect(ruleSnippet({apiVersion: 'example.com/v1', kind: 'MyApp', path: 'spec.components[*].image'})).toBe(
      '{apiVersion: example.com/v1, kind: MyApp, path: "spec.components[*].image"}',
    )
    expect(ruleSnippet({kind: 'MyApp', path: 'spec.image'})).toBe('{kind: MyApp, path: spec.image}')
  })

  it('the input error lists every value (INVALID_INPUT, exit 3) with the rules to add; a deploy also names the opt-out', () => {
    const values = found(myApp, [], 'k8s/shop.yaml').unexamined
    const err = unexaminedError(values, {deploy: false})
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.exitCode).toBe(3)
    expect(err.message).toBe('6 image-like value(s) that no image rule examined; nothing was written or deployed:')
    expect(err.errors.map((e) => e.message)).toContain(
      'k8s/shop.yaml: document 1: spec.components[1].sidecar.image (line 14): "envoy:1.30" was not examined: safe-deploy has no image rule for example.com/v1 MyApp',
    )
    expect(err.errors.map((e) => e.location)).toContainEqual({file: 'k8s/shop.yaml', document: 0, path: 'spec.mirrors.images[1]', line: 16})
    expect(err.hint).toBe(
      'if these are images, add to .safe-deploy.yaml:\nimageRules:\n' +
        '  - {apiVersion: example.com/v1, kind: MyApp, path: spec.image}\n' +
        '  - {apiVersion: example.com/v1, kind: MyApp, path: "spec.components[*].image"}\n' +
        '  - {apiVersion: example.com/v1, kind: MyApp, path: "spec.components[*].sidecar.image"}\n' +
        '  - {apiVersion: example.com/v1, kind: MyApp, path: "spec.mirrors.images[*]"}\n',
    )
    expect(unexaminedError(values, {deploy: true}).hint).toMatch(/--allow-unexamined-images/)
  })
})
