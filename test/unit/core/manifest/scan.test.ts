/**
 * The chunked scanner (scanManifest) and the range-based rewrite (rewriteText) against the
 * Document-based reference (parseManifest + locateImages + rewriteImages): the same sites (offsets,
 * lines, whole-file document indexes, styles, break-glass), the same unexamined image-like values,
 * the same output text and the same errors.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from '@jest/globals'
import {SafeDeployError} from '../../../../src/core/errors.js'
import {siteHasBreakGlass} from '../../../../src/core/manifest/breakglass.js'
import {parseManifest} from '../../../../src/core/manifest/parse.js'
import {locateAll} from '../../../../src/core/manifest/locate.js'
import {rewriteImages, rewriteText} from '../../../../src/core/manifest/rewrite.js'
import {documentStarts, scanManifest, scanOutcome, scanWhole, splitAtDocuments} from '../../../../src/core/manifest/scan.js'
import type {CustomImageRule, ImageSite, UnexaminedValue} from '../../../../src/core/manifest/types.js'
import {CORPUS, CORPUS_2, corpusFiles, describeCorpus} from '../../../support/corpus.js'

const D = 'sha256:' + 'f'.repeat(64)

function caught(fn: () => unknown): SafeDeployError {
  try {
    fn()
  } catch (err) {
    if (err instanceof SafeDeployError) return err
    throw err
  }
  throw new Error('expected a SafeDeployError')
}

/** What an error says, all the way down. */
function describeError(e: SafeDeployError): unknown {
  return {code: e.code, message: e.message, hint: e.hint, location: e.location, errors: e.errors.map(describeError)}
}

type Scanned = {sites: ImageSite[]; unexamined: UnexaminedValue[]; documents: number} | {error: unknown}

/** The whole-text reference: sites, unexamined image-like values, document count, or the error. */
function reference(text: string, file: string, rules: CustomImageRule[] = []): Scanned {
  try {
    const m = parseManifest(text, file)
    return {...locateAll(m, rules), documents: m.documents.length}
  } catch (err) {
    if (err instanceof SafeDeployError) return {error: describeError(err)}
    throw err
  }
}

function chunked(text: string, file: string, documentsPerChunk: number, rules: CustomImageRule[] = []): Scanned {
  try {
    return scanManifest(text, file, rules, {documentsPerChunk})
  } catch (err) {
    if (err instanceof SafeDeployError) return {error: describeError(err)}
    throw err
  }
}

/** Chunks of 1, 2, 3 documents and the default: always what the whole-text path gives. */
function expectEquivalent(text: string, file = 'm.yaml', rules: CustomImageRule[] = [], sizes = [1, 2, 3, 250]): void {
  const ref = reference(text, file, rules)
  for (const n of sizes) expect(chunked(text, file, n, rules)).toEqual(ref)
  if ('sites' in ref) {
    // The range-based rewrite gives the Document-based output.
    const m = parseManifest(text, file)
    const reps = ref.sites.map((site, i) => ({site, value: i % 2 ? `x.io/a${i}@${D}` : `x.io/b${i}:t@${D}`}))
    let viaDocs: string | unknown
    try {
      viaDocs = rewriteImages(m, reps)
    } catch (err) {
      viaDocs = describeError(err as SafeDeployError)
    }
    let viaText: string | unknown
    try {
      viaText = rewriteText(text, reps)
    } catch (err) {
      viaText = describeError(err as SafeDeployError)
    }
    expect(viaText).toEqual(viaDocs)
    // Break-glass as core/breakglass reads it from the Document.
    for (const s of ref.sites) expect(s.breakGlass).toBe(siteHasBreakGlass(m, s))
  }
}

const pod = (name: string, image: string, extra = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${extra}spec:\n  containers:\n  - name: c\n    image: ${image}\n`

for (const [dir, name, minFiles] of [
  [CORPUS, 'corpus', 11],
  [CORPUS_2, 'corpus-2', 12],
] as const) {
  describeCorpus(dir, `scanManifest = parseManifest + locateImages, on the ${name}`, () => {
    const files = corpusFiles(dir)
    it(`finds the ${name}`, () => expect(files.length).toBeGreaterThanOrEqual(minFiles))
    it.each(files)('%s', (file) => {
      const text = readFileSync(join(dir, file), 'utf8')
      expectEquivalent(text, file, [], [1, 250])
    })
    it(`the whole ${name} as one stream (a multi-file \`helm template\` output)`, () => {
      const all = files
        .map((f) => readFileSync(join(dir, f), 'utf8'))
        .map((t) => (t.endsWith('\n') ? t : t + '\n'))
        .join('---\n')
      expectEquivalent(all, 'all.yaml', [], [3])
    })
  })
}

describe('scanManifest on tricky streams', () => {
  it.each([
    ['markers with comments', `--- # first\n${pod('a', 'nginx:1')}--- # second\n${pod('b', '"redis:7"')}---   \n${pod('c', "'x:1'")}`],
    [
      '"---" inside indented block scalars is content',
      `${pod('a', 'nginx:1', '  annotations:\n    note: |\n      ---\n      --- x\n')}---\n${pod('b', 'b:1')}`,
    ],
    ['a root block scalar ended by a marker at column 0', `--- |\n  text\n---\n${pod('a', 'a:1')}--- >-\nfolded\n---\n${pod('b', 'b:1')}`],
    ['"..." end markers and bare documents after them', `${pod('a', 'a:1')}...\n# between\n---\n${pod('b', 'b:1')}...\n${pod('c', 'c:1')}...\n`],
    ['a leading %YAML directive', `%YAML 1.2\n---\n${pod('a', 'a:1')}---\n${pod('b', 'b:1')}`],
    ['a %TAG directive before a later document', `${pod('a', 'a:1')}---\n${pod('b', 'b:1')}...\n%TAG !e! tag:example.com,2000:\n---\n${pod('c', 'c:1')}`],
    ['a BOM', `\uFEFF${pod('a', 'a:1')}---\n${pod('b', 'b:1')}`],
    ['a BOM before the first marker', `\uFEFF---\n${pod('a', 'a:1')}---\n${pod('b', 'b:1')}`],
    ['CRLF line endings', `---\r\n${pod('a', 'a:1')}---\r\n${pod('b', '"b:1"')}---\r\n${pod('c', 'c:1')}`.replace(/(?<!\r)\n/g, '\r\n')],
    ['empty and comment-only documents', `---\n---\n# only a comment\n---\n${pod('a', 'a:1')}---\n---\nnull\n---\n${pod('b', 'b:1')}---\n`],
    ['no final newline', `${pod('a', 'a:1')}---\n${pod('b', 'b:1')}`.trimEnd()],
    ['content on the marker line', `--- {apiVersion: v1, kind: Pod, spec: {containers: [{image: a:1}]}}\n--- !!map\n${pod('b', 'b:1')}`],
    ['"----" and "---x" are not markers', `${pod('a', 'a:1', '  annotations:\n    x: |\n      ----\n')}---\n${pod('b', 'b:1')}`],
    [
      'JSON documents',
      `{"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"image": "a:1"}]}}\n---\n{"apiVersion": "v1", "kind": "Pod",\n "spec": {"containers": [{"image": "b:1"}]}}\n`,
    ],
    ['a kind: List', `apiVersion: v1\nkind: List\nitems:\n- ${pod('a', 'a:1').replace(/\n(?!$)/g, '\n  ')}---\n${pod('b', 'b:1')}`],
    ['anchors and aliases within documents', `${pod('a', '&img a:1')}---\nbase: &b {x: 1}\nuse: *b\n---\n${pod('b', 'b:1')}`],
    [
      'break-glass annotations',
      [
        pod('p', 'a:1', '  annotations:\n    alpha.image-policy.k8s.io/break-glass: "true"\n'),
        pod('q', 'a:1', '  annotations:\n    alpha.image-policy.k8s.io/break-glass: "false"\n'),
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    metadata:\n      annotations: {alpha.image-policy.k8s.io/break-glass: true}\n    spec:\n      initContainers: [{name: i, image: i:1}]\n      containers: [{name: c, image: c:1}]\n',
        'apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: j\n  annotations: {alpha.image-policy.k8s.io/break-glass: "true"}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        metadata:\n          annotations: {alpha.image-policy.k8s.io/break-glass: "true"}\n        spec:\n          containers: [{name: c, image: c:1}]\n',
      ].join('---\n'),
    ],
  ])('%s', (_name, text) => {
    expectEquivalent(text)
  })

  it('custom rules', () => {
    const rules: CustomImageRule[] = [{apiVersion: 'example.com/v1', kind: 'App', path: 'spec.components[*].image'}]
    const app = (i: number) =>
      `apiVersion: example.com/v1\nkind: App\nmetadata: {name: app${i}}\nspec:\n  components:\n  - {name: web, image: "web:${i}"}\n  - name: db\n    image: db:${i}\n`
    expectEquivalent(Array.from({length: 7}, (_, i) => app(i)).join('---\n'), 'm.yaml', rules)
  })

  it('sites carry whole-file ranges, lines and document indexes', () => {
    const docs = Array.from({length: 9}, (_, i) => pod(`p${i}`, i % 3 === 0 ? `"q${i}:1"` : i % 3 === 1 ? `'s${i}:1'` : `p${i}:1`))
    const text = docs.join('---\n')
    const {sites, documents} = scanManifest(text, 'm.yaml', [], {documentsPerChunk: 2})
    expect(documents).toBe(9)
    expect(sites.map((s) => s.document)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    expect(sites.map((s) => s.line)).toEqual(docs.map((_, i) => 9 * i + 8))
    expect(sites.map((s) => s.scalarType)).toEqual(docs.map((_, i) => ['QUOTE_DOUBLE', 'QUOTE_SINGLE', 'PLAIN'][i % 3]))
    for (const s of sites) {
      const source = text.slice(s.valueRange[0], s.valueRange[1])
      expect(source.replace(/^["']|["']$/g, '')).toBe(s.image)
    }
  })

  it('a 2,000-document stream: the same sites, in chunks', () => {
    const text = Array.from({length: 2000}, (_, i) => pod(`p${i}`, `gcr.io/p/app-${i}:v${i}`)).join('---\n')
    const whole = scanWhole(text, 'big.yaml')
    const split = scanManifest(text, 'big.yaml')
    expect(whole.ok && split).toEqual(whole.ok && {sites: whole.sites, unexamined: [], documents: whole.documents})
    expect(split.sites).toHaveLength(2000)
    expect(split.sites[1999]).toMatchObject({document: 1999, line: 9 * 1999 + 8, name: 'p1999'})
  })
})

describe('scanManifest errors name the whole-file document and line', () => {
  const docs = (n: number, bad: Record<number, string>) => Array.from({length: n}, (_, i) => bad[i] ?? pod(`p${i}`, `a${i}:1`)).join('---\n')

  it('a YAML error in a later chunk', () => {
    const text = docs(10, {6: 'apiVersion: v1\nkind: Pod\nspec: [a, b\nx: 1\n'})
    expectEquivalent(text, 'bad.yaml')
    const err = caught(() => scanManifest(text, 'bad.yaml', [], {documentsPerChunk: 2}))
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.location).toMatchObject({file: 'bad.yaml', document: 6})
    expect(err.message).toMatch(/^bad\.yaml: document 7: /)
    expect(err.location?.line).toBe(caught(() => parseManifest(text, 'bad.yaml')).location?.line)
    expect(err.location?.line).toBeGreaterThan(9 * 6)
  })

  it('problems in several chunks are reported together, as for the whole file', () => {
    const text = docs(12, {1: 'a: 1\na: 2\n', 5: 'b: [1\n', 10: 'c: 1\nc: 2\n'})
    expectEquivalent(text, 'many.yaml')
    const err = caught(() => scanManifest(text, 'many.yaml', [], {documentsPerChunk: 3}))
    expect(err.message).toBe('many.yaml: 3 problems reading the manifest:')
    expect(err.errors.map((e) => e.location?.document)).toEqual([1, 5, 10])
  })

  it('an unclosed quote or flow collection before a marker', () => {
    expectEquivalent(docs(6, {2: 'apiVersion: v1\nkind: Pod\nmetadata: {name: "x\n', 4: 'a: [1,\n'}), 'q.yaml')
  })

  it('YAML problems win over a locate problem in an earlier chunk', () => {
    const text = docs(8, {1: pod('n', '42'), 6: 'a: 1\na: 2\n'})
    expectEquivalent(text, 'both.yaml')
    expect(caught(() => scanManifest(text, 'both.yaml', [], {documentsPerChunk: 1})).message).toMatch(/document 7: .*(duplicate|unique)/i)
  })

  it('a locate problem in a later chunk', () => {
    const text = docs(8, {5: pod('pn', '{{ .Values.image }}'), 7: pod('m', '42')})
    expectEquivalent(text, 'loc.yaml')
    const outcome = scanOutcome(text, 'loc.yaml', [], {documentsPerChunk: 2})
    expect(outcome.ok).toBe(false)
    if (!outcome.ok) {
      expect(outcome.stage).toBe('locate')
      expect(outcome.error.message).toMatch(/^loc\.yaml: document 6: spec\.containers\[0\]\.image \(line 53\): /)
    }
  })

  it('a Helm template anywhere in the file makes every YAML error a Helm one', () => {
    expectEquivalent(docs(6, {1: pod('h', '"{{ .Values.image }}"'), 4: 'spec:\n  {{- if .Values.x }}\n  a: 1\n'}), 'templates/d.yaml')
  })

  it('an alias bomb in a later chunk', () => {
    const bomb =
      ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]'].join('\n') +
      '\n'
    const text = docs(6, {4: bomb})
    expectEquivalent(text, 'bomb.yaml')
    expect(caught(() => scanManifest(text, 'bomb.yaml', [], {documentsPerChunk: 1})).location?.document).toBe(4)
  })

  it('a bad custom rule is reported even for an empty stream', () => {
    expectEquivalent('', 'e.yaml', [{kind: 'X', path: 'a..b'}])
    expectEquivalent(docs(4, {}), 'e.yaml', [{kind: 'X', path: 'a..b'}])
  })
})

describe('document markers', () => {
  it('documentStarts finds "---" lines followed by a space, tab, line break or the end', () => {
    const text = '---\na: 1\n--- # c\n----\n---x\n---\t\n  ---\n---\r\n---'
    expect(documentStarts(text).map((i) => text.slice(i, i + 4))).toEqual(['---\n', '--- ', '---\t', '---\r', '---'])
  })

  it('splitAtDocuments cuts at every n-th marker, with the line of each cut; never with directives', () => {
    const text = 'a: 1\n---\nb: 2\n---\nc: 3\n---\nd: 4\n'
    expect(splitAtDocuments(text, {documents: 1})).toEqual([
      {start: 0, end: 5, line: 1},
      {start: 5, end: 14, line: 2},
      {start: 14, end: 23, line: 4},
      {start: 23, end: 32, line: 6},
    ])
    expect(splitAtDocuments(text, {documents: 2})).toEqual([
      {start: 0, end: 14, line: 1},
      {start: 14, end: 32, line: 4},
    ])
    expect(splitAtDocuments('%YAML 1.2\n' + text, {documents: 1})).toHaveLength(1)
  })
})

describe('rewriteText', () => {
  const text = [
    pod('a', 'nginx:1.25 # c'),
    pod('b', '"nginx:1.25"'),
    pod('c', "'nginx:1.25'"),
    pod('d', '!!str &x nginx:1.25'),
    pod('e', '|-\n      nginx:1.25'),
    pod('f', '>-\n      nginx:1.25\n'),
  ].join('---\n')

  it('keeps each style, as rewriteImages does', () => {
    const {sites} = scanManifest(text, 'r.yaml', [], {documentsPerChunk: 1})
    const reps = sites.map((site) => ({site, value: `nginx@${D}`}))
    const out = rewriteText(text, reps)
    expect(out).toBe(rewriteImages(parseManifest(text, 'r.yaml'), reps))
    expect(out).toContain(`image: nginx@${D} # c`)
    expect(out).toContain(`image: "nginx@${D}"`)
    expect(out).toContain(`image: 'nginx@${D}'`)
    expect(out).toContain(`image: !!str &x nginx@${D}`)
    expect(out).toContain(`image: |-\n      nginx@${D}`)
  })

  it('values that need quotes get them; two values for one field are refused', () => {
    const [a, b, c] = scanManifest(text, 'r.yaml').sites
    const out = rewriteText(text, [
      {site: a!, value: 'true'},
      {site: b!, value: 'say "hi"'},
      {site: c!, value: "it's"},
    ])
    expect(out).toContain('image: "true" # c')
    expect(out).toContain('image: "say \\"hi\\""')
    expect(out).toContain("image: 'it''s'")
    expect(() =>
      rewriteText(text, [
        {site: a!, value: 'x'},
        {site: a!, value: 'y'},
      ]),
    ).toThrowWithCode('INVALID_INPUT', /two different values/)
    expect(
      rewriteText(text, [
        {site: a!, value: 'x'},
        {site: a!, value: 'x'},
      ]),
    ).toBe(rewriteText(text, [{site: a!, value: 'x'}]))
  })

  it('a site that does not fit the text is an internal error', () => {
    const [a, b] = scanManifest(text, 'r.yaml').sites
    expect(() => rewriteText(text.slice(10), [{site: a!, value: 'x'}])).toThrowWithCode('INTERNAL', /stale/)
    expect(() => rewriteText('short', [{site: b!, value: 'x'}])).toThrowWithCode('INTERNAL', /stale/)
    expect(rewriteText(text, [])).toBe(text)
  })
})
