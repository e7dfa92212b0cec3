import {spawn} from 'node:child_process'
import {appendFileSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterEach, beforeEach, describe, expect, it} from '@jest/globals'
import {AuditLog, defaultAuditPath} from '../../../src/adapters/fs/audit.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sd-audit-'))
})
afterEach(() => {
  rmSync(dir, {recursive: true, force: true})
})

describe('defaultAuditPath', () => {
  it.each([
    [{XDG_STATE_HOME: '/state', HOME: '/home/u'}, '/state/safe-deploy/audit.jsonl'],
    [{HOME: '/home/u'}, '/home/u/.local/state/safe-deploy/audit.jsonl'],
    [{XDG_STATE_HOME: 'relative', HOME: '/home/u'}, '/home/u/.local/state/safe-deploy/audit.jsonl'],
  ])('%j → %s', (env, path) => {
    expect(defaultAuditPath(env)).toBe(path)
  })
})

describe('AuditLog', () => {
  it('redacts every string in a record before it is written (error details quote API messages)', async () => {
    const path = join(dir, 'audit.jsonl')
    const image = 'gcr.io/p/app@sha256:' + 'ab'.repeat(32)
    await new AuditLog(path).append({
      verdict: 'UNKNOWN',
      images: [{image}],
      detail: 'not deployed: API_AUTH: refused (Authorization: Bearer ya29.secret-value)',
    })
    const text = readFileSync(path, 'utf8')
    expect(text).not.toContain('ya29.secret-value')
    expect(JSON.parse(text)).toEqual({verdict: 'UNKNOWN', images: [{image}], detail: 'not deployed: API_AUTH: refused (Authorization: Bearer [REDACTED])'})
  })

  it('creates parent dirs 0700 and the file 0600; one record per line', async () => {
    const path = join(dir, 'state', 'safe-deploy', 'audit.jsonl')
    const log = new AuditLog(path)
    await log.append({time: '2026-01-01T00:00:00.000Z', verdict: 'ALLOW', note: 'line\nbreak'})
    await log.append({time: '2026-01-02T00:00:00.000Z', verdict: 'DENY'})
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700)
    expect(statSync(join(dir, 'state', 'safe-deploy')).mode & 0o777).toBe(0o700)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const lines = readFileSync(path, 'utf8').split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[2]).toBe('')
    expect((await log.readAll()).records).toHaveLength(2)
  })

  it('filters by since and verdict', async () => {
    const log = new AuditLog(join(dir, 'a.jsonl'))
    await log.append({time: '2026-01-01T00:00:00.000Z', verdict: 'ALLOW', n: 1})
    await log.append({time: '2026-01-03T00:00:00.000Z', verdict: 'DENY', n: 2})
    await log.append({time: '2026-01-05T00:00:00.000Z', verdict: 'ALLOW', n: 3})
    const n = (r: {records: Array<Record<string, unknown>>}) => r.records.map((x) => x.n)
    expect(n(await log.read({since: new Date('2026-01-02T00:00:00Z')}))).toEqual([2, 3])
    expect(n(await log.read({verdict: 'ALLOW'}))).toEqual([1, 3])
    expect(n(await log.read({since: new Date('2026-01-02T00:00:00Z'), verdict: 'ALLOW'}))).toEqual([3])
  })

  it('reports malformed lines with their line numbers', async () => {
    const path = join(dir, 'bad.jsonl')
    const log = new AuditLog(path)
    await log.append({time: '2026-01-01T00:00:00.000Z', verdict: 'ALLOW'})
    appendFileSync(path, '{"torn": \n[1,2]\n')
    await log.append({time: '2026-01-02T00:00:00.000Z', verdict: 'DENY'})
    appendFileSync(path, '{"no newline": true')
    const {records, problems} = await log.readAll()
    expect(records).toHaveLength(2)
    expect(problems.map((p) => [p.line, p.text])).toEqual([
      [2, '{"torn": '],
      [3, '[1,2]'],
      [5, '{"no newline": true'],
    ])
    expect(problems[1]!.message).toBe('not a JSON object')
  })

  it('a missing log reads as empty', async () => {
    expect(await new AuditLog(join(dir, 'none.jsonl')).readAll()).toEqual({records: [], problems: []})
  })

  it('refuses a non-object record', async () => {
    await expect(new AuditLog(join(dir, 'x.jsonl')).append([1, 2])).toThrowWithCode('INTERNAL')
  })

  it('concurrent writers in several processes never interleave lines', async () => {
    const path = join(dir, 'deep', 'audit.jsonl')
    // The children run the real AuditLog, compiled to plain JS next to the compiled core modules it imports.
    const {transformFileSync} = await import('@swc/core')
    const {mkdirSync, writeFileSync} = await import('node:fs')
    const root = fileURLToPath(new URL('../../../src/', import.meta.url))
    for (const rel of ['adapters/fs/audit', 'adapters/fs/xdg', 'core/errors', 'core/redact']) {
      const out = transformFileSync(join(root, rel + '.ts'), {jsc: {parser: {syntax: 'typescript'}, target: 'es2022'}, module: {type: 'es6'}})
      mkdirSync(join(dir, 'lib', rel, '..'), {recursive: true})
      writeFileSync(join(dir, 'lib', rel + '.js'), out.code)
    }
    const helper = join(dir, 'writer.mjs')
    writeFileSync(
      helper,
      `
import {AuditLog} from './lib/adapters/fs/audit.js'
const [path, who, count] = process.argv.slice(2)
const log = new AuditLog(path)
const pad = 'x'.repeat(3000)
for (let i = 0; i < Number(count); i++) await log.append({who, i, pad})
`,
    )
    const run = (who: string) =>
      new Promise<number>((resolve, reject) => {
        const p = spawn(process.execPath, [helper, path, who, '200'], {stdio: 'inherit'})
        p.on('error', reject)
        p.on('exit', (code) => resolve(code ?? -1))
      })
    const log = new AuditLog(path)
    const mine = (async () => {
      for (let i = 0; i < 200; i++) await log.append({who: 'jest', i, pad: 'y'.repeat(3000)})
    })()
    const codes = await Promise.all([run('a'), run('b'), run('c'), run('d'), mine])
    expect(codes.slice(0, 4)).toEqual([0, 0, 0, 0])
    const {records, problems} = await log.readAll()
    expect(problems).toEqual([])
    expect(records).toHaveLength(1000)
    for (const who of ['a', 'b', 'c', 'd', 'jest']) {
      expect(records.filter((r) => r.who === who).map((r) => r.i)).toEqual(Array.from({length: 200}, (_, i) => i))
    }
  }, 60_000)
})
