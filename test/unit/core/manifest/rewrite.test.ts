import {describe, expect, it} from '@jest/globals'
import {parseManifest} from '../../../../src/core/manifest/parse.js'
import {locateImages} from '../../../../src/core/manifest/locate.js'
import {isPlainSafe, rewriteImages} from '../../../../src/core/manifest/rewrite.js'
import {parseWritten} from '../../../../src/core/reference/index.js'

const D = 'sha256:' + 'e'.repeat(64)
const pin = (image: string) => `${parseWritten(image).name}@${D}`

/** Rewrite every image to name@D; check the result re-parses to the new values on the same lines. */
function pinAll(text: string, file = 'm.yaml'): string {
  const m = parseManifest(text, file)
  const sites = locateImages(m)
  const out = rewriteImages(
    m,
    sites.map((site) => ({site, value: pin(site.image)})),
  )
  const again = locateImages(parseManifest(out, file))
  expect(again.map((s) => [s.pathString, s.line, s.image])).toEqual(sites.map((s) => [s.pathString, s.line, pin(s.image)]))
  return out
}

const pod = (image: string, eol = '\n') =>
  [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  name: p  # the pod',
    'spec:',
    '  containers:',
    '  - name: c',
    `    image: ${image}`,
    '    args: ["a",   \'b\']',
  ].join(eol) + eol

describe('rewriteImages keeps the scalar style and every other byte', () => {
  it.each([
    ['plain', 'nginx:1.25', `nginx@${D}`],
    ['plain + comment', 'nginx:1.25 # pinned later', `nginx@${D} # pinned later`],
    ['double-quoted', '"nginx:1.25"', `"nginx@${D}"`],
    ['single-quoted', "'nginx:1.25'", `'nginx@${D}'`],
    ['tagged', '!!str nginx:1.25', `!!str nginx@${D}`],
    ['anchored', '&img nginx:1.25', `&img nginx@${D}`],
    ['literal block, strip', '|-\n      nginx:1.25', `|-\n      nginx@${D}`],
    ['folded block, strip', '>-\n      nginx:1.25\n', `>-\n      nginx@${D}\n`],
  ])('%s', (_style, before, after) => {
    const text = pod(before)
    expect(pinAll(text)).toBe(pod(after))
  })

  it('CRLF line endings stay CRLF', () => {
    const text = pod('nginx:1.25', '\r\n')
    const out = pinAll(text)
    expect(out).toBe(pod(`nginx@${D}`, '\r\n'))
    expect(out.split('\r\n').length).toBe(text.split('\r\n').length)
    expect(out.replace(/\r\n/g, '')).not.toContain('\n')
  })

  it('CRLF with a block scalar', () => {
    expect(pinAll(pod('|-\r\n      nginx:1.25', '\r\n'))).toBe(pod(`|-\r\n      nginx@${D}`, '\r\n'))
  })

  it('a missing final newline stays missing', () => {
    const text = pod('nginx:1.25').trimEnd()
    expect(pinAll(text)).toBe(pod(`nginx@${D}`).trimEnd())
  })

  it('single quotes are escaped by doubling; double quotes get JSON escapes', () => {
    const m = parseManifest(pod("'a'") + '---\n' + pod('"b"'), 'q.yaml')
    const [a, b] = locateImages(m)
    const out = rewriteImages(m, [
      {site: a!, value: "it's"},
      {site: b!, value: 'say "hi"\\'},
    ])
    expect(out).toContain(`image: 'it''s'`)
    expect(out).toContain(`image: "say \\"hi\\"\\\\"`)
    expect(locateImages(parseManifest(out, 'q.yaml')).map((s) => s.image)).toEqual(["it's", 'say "hi"\\'])
  })

  it('characters YAML reads as line breaks or forbids unescaped are written as \\u escapes, so the output is read again (fuzz seed 645058353)', () => {
    // `"a\Pb"` is U+2029 written as an escape; written back raw, the text would be refused as a reading hazard.
    const odd = ['\u2029', '\u2028', '\u0085', '\uFEFF', '\u007F', '\u009F', '\uFFFE']
    for (const style of ['"x"', "'x'", 'x']) {
      const m = parseManifest(pod(style), 'q.yaml')
      const [site] = locateImages(m)
      for (const ch of odd) {
        const value = `a${ch}b`
        const out = rewriteImages(m, [{site: site!, value}])
        const hex = ch.charCodeAt(0).toString(16).padStart(4, '0')
        expect(out).toContain(`image: "a\\u${hex}b"`)
        expect(locateImages(parseManifest(out, 'q.yaml')).map((s) => s.image)).toEqual([value])
      }
    }
  })

  it('an empty tagged plain value before a comment is refused before any rewrite could glue a value onto the comment', () => {
    // docs/RELIABILITY.md, fuzz findings: its range is empty, just before `# comment`; kubectl reads it as null.
    for (const v of ['!!str   # comment', '!!str # comment', '!!str']) {
      expect(() => locateImages(parseManifest(pod(v), 'e.yaml'))).toThrowWithCode('INVALID_INPUT', /reads the unquoted value "" as null/)
    }
  })

  it('a plain value that YAML would not read as the same string is double-quoted', () => {
    const m = parseManifest(pod('a') + '---\n' + pod('b') + '---\n' + pod('c'), 'p.yaml')
    const sites = locateImages(m)
    const out = rewriteImages(m, [
      {site: sites[0]!, value: '[::1]:5000/app@' + D},
      {site: sites[1]!, value: 'true'},
      {site: sites[2]!, value: '1234'},
    ])
    expect(locateImages(parseManifest(out, 'p.yaml')).map((s) => s.image)).toEqual(['[::1]:5000/app@' + D, 'true', '1234'])
    expect(out).toContain(`image: "[::1]:5000/app@${D}"`)
  })

  it.each([
    ['nginx', true],
    [`gcr.io/p/app:v1@${D}`, true],
    ['localhost:5000/a', true],
    ['a: b', false],
    ['a #b', false],
    ['[::1]/x', false],
    ['yes', false],
    ['1.5', false],
    ['null', false],
    ['x:', false],
    ['', false],
  ])('isPlainSafe(%j) = %s', (value, safe) => {
    expect(isPlainSafe(value)).toBe(safe)
  })

  it('refuses a block scalar that keeps its final line break, naming the field', () => {
    const m = parseManifest(pod('|\n      nginx'), 'b.yaml')
    const [site] = locateImages(m)
    expect(() => rewriteImages(m, [{site: site!, value: 'x'}])).toThrowWithCode(
      'INVALID_INPUT',
      /b\.yaml: document 1: spec\.containers\[0\]\.image \(line 8\): cannot rewrite/,
    )
  })

  it('JSON input stays JSON (double quotes, no other change)', () => {
    const json = JSON.stringify(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {name: 'd'},
        spec: {
          template: {
            spec: {
              containers: [
                {name: 'x', image: 'nginx:1.25'},
                {name: 'y', image: 'gcr.io/p/y:2'},
              ],
            },
          },
        },
      },
      null,
      2,
    )
    const out = pinAll(json, 'd.json')
    expect(JSON.parse(out)).toEqual(JSON.parse(json.replace('"nginx:1.25"', `"nginx@${D}"`).replace('"gcr.io/p/y:2"', `"gcr.io/p/y@${D}"`)))
    expect(out).toBe(json.replace('"nginx:1.25"', `"nginx@${D}"`).replace('"gcr.io/p/y:2"', `"gcr.io/p/y@${D}"`))
  })

  it('compact JSON on one line', () => {
    const json = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}'
    expect(pinAll(json, 'p.json')).toBe(json.replace('"nginx"', `"nginx@${D}"`))
  })

  it('flow mappings with comments and trailing commas', () => {
    // Not at the very start: kubectl decodes a stream that starts with "{" as JSON (and refuses
    // this one), so a leading comment keeps it YAML for both readers.
    const text = `# a Pod in flow style
{
  apiVersion: v1, kind: Pod,
  metadata: {name: p},  # comment
  spec: {
    containers: [
      {name: a, image: 'nginx', },  # one
      {name: b, image: redis:7, },
    ],
  },
}
`
    const out = pinAll(text)
    expect(out).toBe(text.replace("'nginx'", `'nginx@${D}'`).replace('redis:7', `redis@${D}`))
  })

  it('Knative, CronJob and Cloud Run Job manifests in one stream', () => {
    const text = `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: svc, namespace: default}
spec:
  template:
    spec:
      serviceAccountName: run-sa
      containers:
      - image: us-docker.pkg.dev/cloudrun/container/hello
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cron}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox:1.28
---
apiVersion: run.googleapis.com/v1
kind: Job
metadata:
  name: job
  annotations:
    run.googleapis.com/launch-stage: BETA
spec:
  template:
    spec:
      taskCount: 2
      template:
        spec:
          serviceAccountName: job-sa
          containers:
          - image: gcr.io/p/job:3
`
    const m = parseManifest(text, 'mixed.yaml')
    expect(locateImages(m).map((s) => [s.kind, s.document, s.line, s.serviceAccount])).toEqual([
      ['Service', 0, 9, 'run-sa'],
      ['CronJob', 1, 22, undefined],
      ['Job', 2, 38, 'job-sa'],
    ])
    const out = pinAll(text, 'mixed.yaml')
    expect(out).toBe(text.replace('container/hello', `container/hello@${D}`).replace('busybox:1.28', `busybox@${D}`).replace('job:3', `job@${D}`))
  })

  it('the same node reached twice through an alias is written once; conflicting values are refused', () => {
    const text = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - &c {name: a, image: a:1}\n  initContainers:\n  - *c\n'
    const m = parseManifest(text, 'a.yaml')
    const [site] = locateImages(m)
    const twin = {...site!, path: ['spec', 'initContainers', 0, 'image'], pathString: 'spec.initContainers[0].image'}
    expect(
      rewriteImages(m, [
        {site: site!, value: 'x@' + D},
        {site: twin, value: 'x@' + D},
      ]),
    ).toBe(text.replace('a:1}', `x@${D}}`))
    expect(() =>
      rewriteImages(m, [
        {site: site!, value: 'x@' + D},
        {site: twin, value: 'y@' + D},
      ]),
    ).toThrowWithCode('INVALID_INPUT', /two different values/)
  })

  it('a stale site (the value changed) is refused', () => {
    const m = parseManifest(pod('nginx'), 'm.yaml')
    const [site] = locateImages(m)
    expect(() => rewriteImages(m, [{site: {...site!, image: 'redis'}, value: 'x'}])).toThrowWithCode('INTERNAL', /stale/)
    expect(() => rewriteImages(m, [{site: {...site!, file: 'other.yaml'}, value: 'x'}])).toThrowWithCode('INTERNAL')
  })

  it('no replacements → the same text', () => {
    const text = pod('nginx')
    expect(rewriteImages(parseManifest(text, 'm.yaml'), [])).toBe(text)
  })
})

describe('a 10,000-document manifest', () => {
  it('parses, locates and rewrites every image correctly', () => {
    const n = 10_000
    const docs: string[] = []
    for (let i = 0; i < n; i++) {
      docs.push(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${i}
  namespace: ns-${i % 7}
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: busybox:1.36
      containers:
      - name: server
        image: gcr.io/project/app-${i}:v1.${i}  # app ${i}
        resources: {requests: {cpu: 100m}}
`)
    }
    const text = docs.join('---\n')
    const m = parseManifest(text, 'big.yaml')
    expect(m.documents).toHaveLength(n)
    const sites = locateImages(m)
    expect(sites).toHaveLength(2 * n)
    const last = sites[2 * n - 1]!
    expect(last).toMatchObject({
      document: n - 1,
      name: `app-${n - 1}`,
      namespace: `ns-${(n - 1) % 7}`,
      image: `gcr.io/project/app-${n - 1}:v1.${n - 1}`,
      line: 16 * (n - 1) + 14,
    })
    const out = rewriteImages(
      m,
      sites.map((site) => ({site, value: pin(site.image)})),
    )
    let expected = text.replaceAll('busybox:1.36', `busybox@${D}`)
    expected = expected.replace(/gcr\.io\/project\/(app-\d+):v1\.\d+/g, `gcr.io/project/$1@${D}`)
    expect(out === expected).toBe(true)
  })
})
