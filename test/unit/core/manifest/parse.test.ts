import {describe, expect, it} from '@jest/globals'
import {decodeUtf8, parseManifest, MAX_ALIAS_COUNT} from '../../../../src/core/manifest/parse.js'
import {MAX_NESTING} from '../../../../src/core/yaml-read.js'
import {SafeDeployError} from '../../../../src/core/errors.js'

function caught(fn: () => unknown): SafeDeployError {
  try {
    fn()
  } catch (e) {
    if (e instanceof SafeDeployError) return e
    throw e
  }
  throw new Error('nothing was thrown')
}

describe('parseManifest', () => {
  it('keeps the text and every document (empty ones too), with 1-based lines', () => {
    const text = 'a: 1\n---\n# only a comment\n---\nb: 2\n'
    const m = parseManifest(text, 'x.yaml')
    expect(m.text).toBe(text)
    expect(m.file).toBe('x.yaml')
    expect(m.documents.map((d) => [d.index, d.empty])).toEqual([
      [0, false],
      [1, true],
      [2, false],
    ])
    expect(m.lineCounter.linePos(text.indexOf('b: 2')).line).toBe(5)
  })

  it('accepts an empty file', () => {
    expect(parseManifest('', 'e.yaml').documents).toEqual([])
    expect(parseManifest('# nothing\n', 'e.yaml').documents.every((d) => d.empty)).toBe(true)
  })

  it('syntax error → INVALID_INPUT naming file, document and line, with the reason', () => {
    const err = caught(() => parseManifest('a: 1\n---\nkind: Pod\nspec: [a, b\nx: 1\n', 'bad.yaml'))
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.location).toMatchObject({file: 'bad.yaml', document: 1})
    expect(err.location?.line).toBeGreaterThanOrEqual(4)
    expect(err.message).toMatch(/^bad\.yaml: document 2: line \d+: invalid YAML: /)
    expect(err.hint).toMatch(/fix the YAML/)
  })

  it('duplicate keys are refused', () => {
    const err = caught(() => parseManifest('apiVersion: v1\nkind: Pod\nkind: Service\n', 'dup.yaml'))
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.message).toMatch(/dup\.yaml: document 1: line 3: .*unique/)
    expect(err.hint).toMatch(/duplicate keys/)
  })

  it('a raw Helm template gets the "render it first" hint', () => {
    const chart = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
spec:
  template:
    spec:
      containers:
      {{- range .Values.containers }}
      - image: {{ .image }}
      {{- end }}
`
    const err = caught(() => parseManifest(chart, 'templates/deploy.yaml'))
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.message).toMatch(/Helm chart template/)
    expect(err.hint).toBe('render it first: helm template ./chart | safe-deploy pin -f -')
  })

  it('several problems are all reported', () => {
    const err = caught(() => parseManifest('a: 1\na: 2\n---\nb: 1\nb: 2\n', 'two.yaml'))
    expect(err.errors.length).toBe(2)
    expect(err.message).toBe('two.yaml: 2 problems reading the manifest:')
  })

  it('an alias bomb is refused', () => {
    const bomb = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`
    const err = caught(() => parseManifest('ok: 1\n---\n' + bomb, 'bomb.yaml'))
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.message).toMatch(new RegExp(`bomb\\.yaml: document 2: line 4: YAML aliases expand too much \\(over ${MAX_ALIAS_COUNT}`))
  })

  it('a few ordinary aliases are fine', () => {
    const m = parseManifest('base: &b {x: 1}\nuse: *b\nagain: *b\n', 'ok.yaml')
    expect(m.documents).toHaveLength(1)
  })

  it.each([
    ['flow', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['block', Array.from({length: 3000}, (_, i) => ' '.repeat(i) + 'a:').join('\n')],
  ])('deep %s nesting is bounded (an error, not a crash)', (_kind, text) => {
    expect(() => parseManifest(text, 'deep.yaml')).toThrowWithCode('INVALID_INPUT')
  })

  it('nesting is measured before composing: MAX_NESTING levels parse, one more is refused with its document and line', () => {
    const flow = (n: number): string => 'a: ' + '['.repeat(n - 1) + ']'.repeat(n - 1) + '\n'
    const block = (n: number): string => Array.from({length: n}, (_, i) => ' '.repeat(i) + 'k:').join('\n') + ' x\n'
    expect(parseManifest(flow(MAX_NESTING), 'ok.yaml').documents).toHaveLength(1)
    expect(parseManifest(block(MAX_NESTING), 'ok.yaml').documents).toHaveLength(1)
    const first = 'kind: ConfigMap\n---\n'
    expect(() => parseManifest(first + flow(MAX_NESTING + 1), 'deep.yaml')).toThrowWithCode(
      'INVALID_INPUT',
      new RegExp(`^deep\\.yaml: document 2: line 3: the document is nested too deeply to parse safely \\(over ${MAX_NESTING} levels\\)`),
    )
    expect(() => parseManifest(first + block(MAX_NESTING + 1), 'deep.yaml')).toThrowWithCode(
      'INVALID_INPUT',
      /document 2: line \d+: the document is nested too deeply/,
    )
    // A collection used as a flow mapping key counts as well.
    expect(() => parseManifest('a: {' + '{'.repeat(MAX_NESTING) + '}'.repeat(MAX_NESTING) + ': v}\n', 'key.yaml')).toThrowWithCode(
      'INVALID_INPUT',
      /nested too deeply/,
    )
  })

  it('JSON input parses', () => {
    const m = parseManifest('{"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"image": "nginx"}]}}', 'p.json')
    expect(m.documents[0]!.document.toJS()).toMatchObject({kind: 'Pod'})
  })
})

describe('decodeUtf8', () => {
  it('decodes UTF-8 and drops a BOM', () => {
    expect(decodeUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x3a, 0x20, 0xc3, 0xa9]), 'f.yaml')).toBe('a: é')
  })

  it.each([
    ['Latin-1', [0x61, 0x3a, 0x20, 0xe9, 0x0a], /invalid UTF-8 byte sequence at byte offset 3/],
    ['UTF-16', [0xff, 0xfe, 0x61, 0x00], /UTF-16/],
    ['truncated', [0x61, 0xe2, 0x82], /byte offset 1/],
  ])('%s bytes → INVALID_INPUT naming the file', (_name, bytes, re) => {
    expect(() => decodeUtf8(new Uint8Array(bytes), 'latin.yaml')).toThrowWithCode('INVALID_INPUT', re)
    expect(() => decodeUtf8(new Uint8Array(bytes), 'latin.yaml')).toThrowWithCode('INVALID_INPUT', /^latin\.yaml: expected UTF-8/)
  })
})
