/**
 * adapters/parallel scanFiles: in this thread under jest (workers cannot load the .ts sources),
 * on worker threads through the compiled dist/ when it has been built. Either way: the sites and
 * errors of scanning each file on its own.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from '@jest/globals'
import {SafeDeployError} from '../../../src/core/errors.js'
import {scanOutcome} from '../../../src/core/manifest/scan.js'
import {planParts, scanFiles, workersAvailable} from '../../../src/adapters/parallel/scan.js'
import {fromPlainError, toPlainError, withPlainEnv} from '../../../src/adapters/parallel/protocol.js'

const pod = (name: string, image: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: c\n    image: ${image}\n`
const stream = (n: number, bad: Record<number, string> = {}) => Array.from({length: n}, (_, i) => bad[i] ?? pod(`p${i}`, `a${i}:1`)).join('---\n')

describe('scanFiles in this thread', () => {
  it('has no compiled worker next to the .ts sources', () => {
    expect(workersAvailable()).toBe(false)
  })

  it('gives each file its sites, or its error and stage', async () => {
    const inputs = [
      {file: 'a.yaml', text: stream(3)},
      {file: 'b.yaml', text: stream(3, {1: 'a: 1\na: 2\n'})},
      {file: 'c.yaml', text: stream(3, {2: pod('x', '42')})},
    ]
    const out = await scanFiles(inputs, [], {workers: 4, minParallelChars: 0})
    expect(out.map((f) => [f.file, f.text === inputs.find((i) => i.file === f.file)?.text])).toEqual([['a.yaml', true], ['b.yaml', true], ['c.yaml', true]])
    expect(out[0]?.sites?.map((s) => s.image)).toEqual(['a0:1', 'a1:1', 'a2:1'])
    expect(out[1]).toMatchObject({stage: 'parse', error: {code: 'INVALID_INPUT', location: {file: 'b.yaml', document: 1}}})
    expect(out[2]).toMatchObject({stage: 'locate', error: {code: 'INVALID_INPUT', location: {file: 'c.yaml', document: 2, line: 26}}})
  })
})

describe('planParts', () => {
  const big = stream(6000)

  it('cuts at document markers, with the document index and line of each cut', () => {
    const parts = planParts(big, 2)
    expect(parts).toHaveLength(2)
    const [a, b] = parts
    expect(a).toMatchObject({start: 0, line: 1, document: 0})
    expect(b!.start).toBe(a!.end)
    expect(big.slice(b!.start, b!.start + 4)).toBe('---\n')
    expect(b!.line).toBe(big.slice(0, b!.start).split('\n').length)
    // Documents before the cut: the first one has no marker, every other one starts with one.
    expect(b!.document).toBe(big.slice(0, b!.start).split('\n---\n').length)
    expect(b!.end).toBe(big.length)
  })

  it('does not cut streams with directives or "..." markers, or small ones', () => {
    expect(planParts('%YAML 1.2\n---\n' + big, 2)).toHaveLength(1)
    expect(planParts(big.replace('---\n', '...\n---\n'), 2)).toHaveLength(1)
    expect(planParts(stream(10), 2)).toHaveLength(1)
  })
})

describe('worker messages', () => {
  it('a SafeDeployError crosses as plain data and comes back the same', () => {
    const outcome = scanOutcome(stream(4, {1: 'a: 1\na: 2\n', 3: 'b: [1\n'}), 'e.yaml')
    expect(outcome.ok).toBe(false)
    if (outcome.ok) return
    const back = fromPlainError(structuredClone(toPlainError(outcome.error)))
    expect(back).toBeInstanceOf(SafeDeployError)
    for (const key of ['code', 'message', 'hint', 'location', 'exitCode'] as const) expect(back[key]).toEqual(outcome.error[key])
    expect(back.errors.map((e) => e.message)).toEqual(outcome.error.errors.map((e) => e.message))
  })

  it('withPlainEnv swaps process.env for the call only', () => {
    const env = process.env
    const inside = withPlainEnv(() => ({same: process.env === env, path: process.env.PATH}))
    expect(inside).toEqual({same: false, path: env.PATH})
    expect(process.env).toBe(env)
  })
})

const DIST = join(process.cwd(), 'dist', 'adapters', 'parallel', 'scan.js')
const withDist = existsSync(join(process.cwd(), 'dist', 'adapters', 'parallel', 'scan-worker.js')) ? it : it.skip

describe('scanFiles on worker threads (built dist/)', () => {
  withDist('gives what the in-thread scan gives: sites, and errors with whole-file locations', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-parallel-'))
    const files = {
      'ok.yaml': stream(6000),
      'parse.yaml': stream(6000, {100: 'a: 1\na: 2\n', 5990: 'b: [1\n'}),
      'locate.yaml': stream(6000, {4000: pod('n', '42')}),
      'small.yaml': stream(3),
      'dots.yaml': stream(6000).replace('---\n', '...\n---\n'),
      'comment.yaml': '# a comment\n---\n' + stream(6000),
    }
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
    const script = `
      import {readFileSync} from 'node:fs'
      import {scanFiles} from ${JSON.stringify(DIST)}
      const names = ${JSON.stringify(Object.keys(files))}
      const inputs = names.map((file) => ({file, text: readFileSync(${JSON.stringify(dir)} + '/' + file, 'utf8')}))
      const show = (r) => r.map((f) => f.error
        ? {file: f.file, stage: f.stage, code: f.error.code, message: f.error.message, location: f.error.location, errors: f.error.errors.map((e) => e.message)}
        : {file: f.file, sites: f.sites})
      const debug = []
      const a = show(await scanFiles(inputs, [], {workers: 8, minParallelChars: 0, debug: (l) => debug.push(l)}))
      const b = show(await scanFiles(inputs, [], {workers: 0}))
      process.stdout.write(JSON.stringify({same: JSON.stringify(a) === JSON.stringify(b), a, debug}))
    `
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8', maxBuffer: 1 << 28})) as {same: boolean; a: Array<Record<string, unknown>>; debug: string[]}
    // Four large files in two parts each, the small one and the one with "..." whole.
    expect(out.debug).toEqual(['scan: 6 file(s) in 10 part(s) on 8 worker thread(s)'])
    expect(out.same).toBe(true)
    expect(out.a.map((f) => f.stage ?? 'ok')).toEqual(['ok', 'parse', 'locate', 'ok', 'ok', 'ok'])
    expect(out.a[1]).toMatchObject({location: {file: 'parse.yaml', document: 100}, errors: [expect.stringMatching(/document 101/), expect.stringMatching(/document 5991/)]})
    expect(out.a[2]).toMatchObject({location: {file: 'locate.yaml', document: 4000}})
    expect((out.a[0]?.sites as unknown[]).length).toBe(6000)
  }, 60_000)
})
