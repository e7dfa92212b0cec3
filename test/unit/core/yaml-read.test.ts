/**
 * core/yaml-read: yaml's three parse functions with nesting bounded. Below the bound they answer exactly as yaml's
 * own; past it a document comes back empty with one RESOURCE_EXHAUSTION error, and every reader of safe-deploy
 * refuses it with its own error code and the line.
 */
import {describe, expect, it} from '@jest/globals'
import * as yaml from 'yaml'
import {LineCounter} from 'yaml'
import {MAX_NESTING, NESTED_TOO_DEEPLY, parse, parseAllDocuments, parseDocument, withPlainEnv} from '../../../src/core/yaml-read.js'
import {parseConfigText} from '../../../src/core/config.js'
import {parseLockText} from '../../../src/core/lock.js'
import {parsePolicyText} from '../../../src/core/policy/parse.js'
import {parsePlatformPolicyText} from '../../../src/core/platform-policy/parse.js'

/** `a:` then n - 1 flow sequences: n levels of nesting, the innermost on the first line of the text. */
const flow = (n: number): string => 'a: ' + '['.repeat(n - 1) + ']'.repeat(n - 1) + '\n'
/** n block mappings, one per line: the innermost (level n) on line n. */
const block = (n: number): string => Array.from({length: n}, (_, i) => ' '.repeat(i) + 'k:').join('\n') + ' x\n'

/** A message's first line, without the ":" that introduces yaml's excerpt of the text. */
const firstLine = (s: string): string => (s.split('\n')[0] ?? s).replace(/:$/, '')

describe('below the bound: the same answers as yaml', () => {
  const texts = [
    '',
    'a: 1\n',
    '- a\n- {b: [1, 2]}\n',
    'a: 1\n---\nb: 2\n...\n',
    '%YAML 1.2\n---\na: &x [1]\nb: *x\n',
    'a: 1\na: 2\n',
    'a: [1\n',
    'key: !unknown v\n',
    '{"json": [1, 2, {"x": null}]}',
    flow(MAX_NESTING),
    block(MAX_NESTING),
  ]
  const show = (d: yaml.Document) => ({
    value: d.toJS(),
    // yaml's prettyErrors also appends an excerpt of the text on the following lines; ours stop at the first.
    errors: d.errors.map((e) => [e.code, firstLine(e.message), e.pos, e.linePos?.[0]]),
    warnings: d.warnings.map((e) => [e.code, firstLine(e.message)]),
    range: d.range,
  })

  it.each(texts.map((t) => [JSON.stringify(t.slice(0, 40)), t]))('%s', (_name, text) => {
    const outcome = (f: () => unknown) => {
      try {
        return {value: f()}
      } catch (e) {
        return {error: firstLine((e as Error).message)}
      }
    }
    // A line counter counts the lines of every text it is given: a new one for each parse.
    for (const options of [() => ({}), () => ({prettyErrors: false, uniqueKeys: false}), () => ({lineCounter: new LineCounter(), strict: true})]) {
      expect(parseAllDocuments(text, options()).map(show)).toEqual(Array.from(yaml.parseAllDocuments(text, options()) as yaml.Document[]).map(show))
      expect(show(parseDocument(text, options()))).toEqual(show(yaml.parseDocument(text, options())))
      expect(outcome(() => parse(text, options()))).toEqual(outcome(() => yaml.parse(text, {...options(), logLevel: 'error'})))
    }
  })
})

describe('past the bound', () => {
  it('a document one level too deep comes back empty with one error at its first collection past the bound; the others are intact', () => {
    const lc = new LineCounter()
    const docs = parseAllDocuments('a: 1\n---\n' + block(MAX_NESTING + 1) + '---\nb: 2\n', {lineCounter: lc, prettyErrors: false})
    expect(docs.map((d) => d.toJS())).toEqual([{a: 1}, null, {b: 2}])
    const [error, ...more] = docs[1]!.errors
    expect(more).toEqual([])
    expect(error).toMatchObject({code: 'RESOURCE_EXHAUSTION', message: NESTED_TOO_DEEPLY})
    // Lines 1-2 are the first document; level n of block() is on its line n.
    expect(lc.linePos(error!.pos[0]).line).toBe(2 + MAX_NESTING + 1)
  })

  it('the error is at the first deep collection in document order', () => {
    const lc = new LineCounter()
    const text = 'first: ' + '['.repeat(MAX_NESTING) + ']'.repeat(MAX_NESTING) + '\nsecond: ' + '['.repeat(MAX_NESTING) + ']'.repeat(MAX_NESTING) + '\n'
    const [doc] = parseAllDocuments(text, {lineCounter: lc})
    expect(doc!.errors).toHaveLength(1)
    expect(lc.linePos(doc!.errors[0]!.pos[0])).toEqual({line: 1, col: 'first: '.length + MAX_NESTING})
  })

  it('is an error, not a crash, however deep (100,000 levels of flow, 3,000 of block)', () => {
    for (const text of ['['.repeat(100_000) + ']'.repeat(100_000), block(3000)]) {
      expect(parseDocument(text).errors.map((e) => e.code)).toEqual(['RESOURCE_EXHAUSTION'])
      expect(() => parse(text)).toThrow(NESTED_TOO_DEEPLY)
    }
  })

  it('a collection used as a mapping key counts', () => {
    const text = '{' + '{'.repeat(MAX_NESTING) + '}'.repeat(MAX_NESTING) + ': v}\n'
    expect(parseDocument(text).errors.map((e) => e.code)).toEqual(['RESOURCE_EXHAUSTION'])
  })

  it("parse throws yaml's readable error: message, line and column", () => {
    expect(() => parse('a: 1\nb: ' + flow(MAX_NESTING + 1))).toThrow(new RegExp(`^${NESTED_TOO_DEEPLY.replace(/[()]/g, '\\$&')} at line 2, column \\d+`))
  })
})

describe('every reader refuses a too-deep input with its own error and the line', () => {
  const deep = 'apiVersion: v1\nextra: ' + '['.repeat(MAX_NESTING) + ']'.repeat(MAX_NESTING) + '\n'
  it.each([
    ['a classic policy', () => parsePolicyText(deep, 'policy.yaml'), 'INVALID_INPUT', /^policy\.yaml:2: .*the document is nested too deeply/m],
    ['a platform policy', () => parsePlatformPolicyText(deep, 'platform.yaml'), 'INVALID_INPUT', /^platform\.yaml:2: .*the document is nested too deeply/m],
    ['the config file', () => parseConfigText(deep, '.safe-deploy.yaml'), 'CONFIG_INVALID', /^\.safe-deploy\.yaml:2: the document is nested too deeply/m],
    ['a lock file', () => parseLockText(deep, 'images.lock'), 'INVALID_INPUT', /^images\.lock: lock file is not valid YAML: the document is nested too deeply/],
  ] as const)('%s', (_what, read, code, re) => {
    expect(read).toThrowWithCode(code)
    try {
      read()
    } catch (e) {
      // The message, or the problems it lists (a policy's "malformed policy file (1 problem)").
      const said = [(e as Error).message, ...((e as {errors?: Error[]}).errors ?? []).map((x) => x.message)].join('\n')
      expect(said).toMatch(re)
    }
  })
})

describe('withPlainEnv', () => {
  it('swaps process.env for the call only', () => {
    const env = process.env
    const inside = withPlainEnv(() => ({same: process.env === env, path: process.env.PATH}))
    expect(inside).toEqual({same: false, path: env.PATH})
    expect(process.env).toBe(env)
  })
})
