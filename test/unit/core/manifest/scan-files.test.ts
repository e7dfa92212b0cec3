/**
 * core/manifest scanFiles and scanFilesStreaming (in this thread): the sites and errors of
 * scanning each file on its own.
 */
import {describe, expect, it} from '@jest/globals'
import {STREAM_PART_CHARS, planParts, scanFiles, scanFilesStreaming} from '../../../../src/core/manifest/scan-files.js'

const pod = (name: string, image: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: c\n    image: ${image}\n`
const stream = (n: number, bad: Record<number, string> = {}) => Array.from({length: n}, (_, i) => bad[i] ?? pod(`p${i}`, `a${i}:1`)).join('---\n')

describe('scanFiles in this thread', () => {
  it('gives each file its sites, or its error and stage', () => {
    const inputs = [
      {file: 'a.yaml', text: stream(3)},
      {file: 'b.yaml', text: stream(3, {1: 'a: 1\na: 2\n'})},
      {file: 'c.yaml', text: stream(3, {2: pod('x', '42')})},
    ]
    const out = scanFiles(inputs, [])
    expect(out.map((f) => [f.file, f.text === inputs.find((i) => i.file === f.file)?.text])).toEqual([
      ['a.yaml', true],
      ['b.yaml', true],
      ['c.yaml', true],
    ])
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

describe('scanFiles on large files', () => {
  it('gives sites, and errors with whole-file locations; the streaming scan gives the same, handing over the sites in order', async () => {
    // 600 documents (66 KB) are about eight of the streaming scan's 8 KB parts: errors and sites in later parts.
    const files = {
      'ok.yaml': stream(600),
      'parse.yaml': stream(600, {100: 'a: 1\na: 2\n', 590: 'b: [1\n'}),
      'locate.yaml': stream(600, {400: pod('n', '42')}),
      'small.yaml': stream(3),
      'dots.yaml': stream(600).replace('---\n', '...\n---\n'),
      'comment.yaml': '# a comment\n---\n' + stream(600),
    }
    const inputs = Object.entries(files).map(([file, text]) => ({file, text}))
    expect(planParts(files['ok.yaml'], Math.ceil(files['ok.yaml'].length / STREAM_PART_CHARS), STREAM_PART_CHARS).length).toBeGreaterThan(5)
    const show = (r: ReturnType<typeof scanFiles>) =>
      r.map((f) =>
        f.error
          ? {
              file: f.file,
              stage: f.stage,
              code: f.error.code,
              message: f.error.message,
              location: f.error.location,
              errors: f.error.errors.map((e) => e.message),
            }
          : {file: f.file, sites: f.sites},
      )
    const a = show(scanFiles(inputs, []))
    const handed: string[] = []
    const b = show(
      await scanFilesStreaming(inputs, [], (sites) => {
        for (const s of sites) handed.push(`${s.file}:${s.image}`)
      }),
    )
    expect(JSON.stringify(b)).toBe(JSON.stringify(a))
    // Every site of the files that scan, in order (parts of a failing file before its error are handed over too).
    const ok = new Set(a.filter((f) => f.sites).map((f) => f.file))
    expect(handed.filter((h) => ok.has(h.split(':')[0] as string))).toEqual(a.flatMap((f) => (f.sites ?? []).map((s) => `${s.file}:${s.image}`)))
    expect(a.map((f) => f.stage ?? 'ok')).toEqual(['ok', 'parse', 'locate', 'ok', 'ok', 'ok'])
    expect(a[1]).toMatchObject({
      location: {file: 'parse.yaml', document: 100},
      errors: [expect.stringMatching(/document 101/), expect.stringMatching(/document 591/)],
    })
    expect(a[2]).toMatchObject({location: {file: 'locate.yaml', document: 400}})
    expect((a[0]?.sites as unknown[]).length).toBe(600)
  }, 60_000)
})
