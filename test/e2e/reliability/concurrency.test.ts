/**
 * Concurrency and interruption through the CLI.
 *  - Concurrent `apply` runs (kube double, one --audit-log): every line of the audit log parses and
 *    every run's records (started + applied) are there.
 *  - `pin --write` on a large directory interrupted by SIGINT / SIGTERM at moments spread over the
 *    write window (first temp file seen + 0…N ms): every file is byte-for-byte the old or the new
 *    version (never partial), the set is all-old or all-new, and no temp file remains.
 *
 * Rerun: npm run build:dist && npm run jest -- test/e2e/reliability/concurrency
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, watch, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startRegistry, type TestRegistry} from '../../support/registry.js'
import {startKubeApiServer, type KubeApiServer} from '../../support/kube-apiserver.js'
import {BIN, isolatedEnv, runCli} from '../../support/cli.js'
import {ALLOW_ALL_POLICY, workload, mdTable, saveFigures, snapshot, tempFiles} from './helpers.js'

const FILES = 3000

/**
 * Resolves once an entry of `dir` passes `match` (already there, or created or renamed into place later), or when
 * `stop` settles, or after a minute. It waits on inotify (fs.watch) instead of polling: reading the 3,000-entry
 * directory every few milliseconds took most of a CPU from the CLI whose write window it was timing.
 */
function whenEntry(dir: string, match: (name: string) => boolean, stop: Promise<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir, (_event, name) => {
      if (name !== null && match(name)) done()
    })
    watcher.on('error', reject)
    const timer = setTimeout(done, 60_000)
    void stop.then(done)
    function done(): void {
      watcher.close()
      clearTimeout(timer)
      resolve()
    }
    if (readdirSync(dir).some(match)) done()
  })
}
let root: string
let reg: TestRegistry
let kube: KubeApiServer
let kubeconfig: string
const applyRows: Array<[string, number, number, number, number, number]> = []
const signalRows: Array<[string, string, string, string, number, number, number, string]> = []

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sd-conc-'))
  ;[reg, kube] = await Promise.all([startRegistry(), startKubeApiServer()])
  await reg.pushImage('team/app', '1.4')
  await reg.pushImage('team/worker', '2.0')
  kubeconfig = kube.writeKubeconfig(root, {context: 'test'})
  mkdirSync(join(root, 'trust', 'attestors'), {recursive: true})
  mkdirSync(join(root, 'trust', 'attestations'), {recursive: true})
  writeFileSync(join(root, 'trust', 'allow.yaml'), ALLOW_ALL_POLICY)
}, 60_000)

afterAll(async () => {
  if (applyRows.length + signalRows.length > 0) {
    const a = mdTable(['round', 'concurrent applies', 'exit 0', 'audit lines', 'lines that parse', 'runs with started+applied'], applyRows)
    const s = mdTable(
      ['signal', 'sent at', 'phase seen', 'exit', 'files old', 'files new', 'partial files', 'temp files left'],
      signalRows.map((r) => [r[0], r[1], r[2], r[3], r[4], r[5], 0, r[6]]),
    )
    const file = saveFigures('concurrency', {apply: applyRows, signals: signalRows})
    console.log(`CONCURRENCY (saved to ${file})\n\n${a}\n\nINTERRUPTED pin --write (${FILES} files)\n\n${s}\n`)
  }
  await Promise.all([reg?.stop(), kube?.stop()])
})

describe('concurrent apply runs share one audit log', () => {
  it.each([
    [1, 2],
    [2, 2],
    [3, 2],
    [4, 8],
  ])(
    'round %i: %i applies at once',
    async (round, n) => {
      const audit = join(root, `audit-${round}.jsonl`)
      const runs = await Promise.all(
        Array.from({length: n}, (_, i) => {
          const d = join(root, `apply-${round}-${i}`)
          mkdirSync(d, {recursive: true})
          writeFileSync(
            join(d, 'app.yaml'),
            workload(`r${round}-app-${i}`, `${reg.host}/team/app:1.4`) + '---\n' + workload(`r${round}-worker-${i}`, `${reg.host}/team/worker:2.0`),
          )
          return runCli(
            [
              'apply',
              '-f',
              d,
              '--policy',
              join(root, 'trust', 'allow.yaml'),
              '--attestors',
              join(root, 'trust', 'attestors'),
              '--attestations',
              join(root, 'trust', 'attestations'),
              '--insecure-registry',
              reg.host,
              '--kubeconfig',
              kubeconfig,
              '--context',
              'test',
              '--yes',
              '--audit-log',
              audit,
              '--json',
            ],
            {timeoutMs: 120_000},
          )
        }),
      )
      for (const r of runs) expect({code: r.code, err: r.code === 0 ? '' : r.stderr}).toEqual({code: 0, err: ''})
      const ids = runs.map((r) => (JSON.parse(r.stdout) as {auditId: string}).auditId)
      const lines = readFileSync(audit, 'utf8').split('\n')
      expect(lines.pop()).toBe('') // ends with a newline: no torn last line
      const records = lines.map((l) => JSON.parse(l) as {id: string; outcome: string})
      const complete = ids.filter((id) => {
        const outcomes = records.filter((r) => r.id === id).map((r) => r.outcome)
        return outcomes.includes('started') && outcomes.includes('applied')
      })
      expect(complete).toHaveLength(n)
      expect(records).toHaveLength(2 * n)
      // `safe-deploy audit` reads it back with no malformed line.
      const read = await runCli(['audit', '--audit-log', audit, '--json'])
      expect(read.code).toBe(0)
      expect(JSON.stringify(JSON.parse(read.stdout))).not.toMatch(/malformed|problems":\[\{/)
      applyRows.push([String(round), n, runs.filter((r) => r.code === 0).length, lines.length, records.length, complete.length])
    },
    180_000,
  )
})

describe('interrupted pin --write leaves every file old or new, and no temp file', () => {
  let template: string
  let newBytes: Map<string, Buffer>
  let oldBytes: Map<string, Buffer>

  beforeAll(async () => {
    template = join(root, 'template')
    mkdirSync(template)
    for (let i = 0; i < FILES; i++) {
      const img = i % 2 === 0 ? `${reg.host}/team/app:1.4` : `${reg.host}/team/worker:2.0`
      // ~2 KB per file so the write window is real.
      writeFileSync(join(template, `w${String(i).padStart(4, '0')}.yaml`), workload(`w${i}`, img) + `# ${'padding '.repeat(200)}\n`)
    }
    oldBytes = snapshot(template)
    // The "new" version: an uninterrupted pin --write of a copy.
    const ref = join(root, 'reference')
    mkdirSync(ref)
    for (const [name, b] of oldBytes) writeFileSync(join(ref, name), b)
    const r = await runCli(['pin', '-f', ref, '--write', '--insecure-registry', reg.host], {timeoutMs: 120_000})
    expect(r.code).toBe(0)
    newBytes = snapshot(ref)
  }, 180_000)

  const trials: Array<[NodeJS.Signals, number]> = []
  // delay -1: signal as soon as the first file has been renamed into place (the rename phase). 0, 100 and 1000 ms land
  // early, in the middle and late in staging (a handful, about 100 and about 1,000 of the 3,000 temp files written);
  // 25, 250, 500 and 2000 ms hit the same phase again and cost a minute of suite time (docs/testing.md#suite-time).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) for (const ms of [0, 100, 1000, -1]) trials.push([sig, ms])

  it.each(trials)(
    '%s at first temp file + %i ms (-1: at the first rename)',
    async (signal, delayMs) => {
      const d = join(root, `run-${signal}-${delayMs}`)
      mkdirSync(d)
      for (const [name, b] of oldBytes) writeFileSync(join(d, name), b)
      const child = spawn(process.execPath, [BIN, 'pin', '-f', d, '--write', '--insecure-registry', reg.host], {
        env: isolatedEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        stderr += s
      })
      const closed = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) =>
        child.on('close', (code, sig) => resolve({code, signal: sig})),
      )
      // Wait for the write window to open (a temp file appears), then signal after delayMs.
      let sentAt = 'never (finished first)'
      let phase = 'done before signal'
      let exited = false
      void closed.then(() => {
        exited = true
      })
      await whenEntry(d, (n) => n.endsWith('.tmp'), closed)
      if (!exited) {
        if (delayMs >= 0) await new Promise((r) => setTimeout(r, delayMs))
        else await whenEntry(d, (n) => n === 'w0000.yaml' && readFileSync(join(d, n)).equals(newBytes.get('w0000.yaml')!), closed)
        if (!exited) {
          const temps = readdirSync(d).filter((n) => n.endsWith('.tmp')).length
          const renamed = readFileSync(join(d, 'w0000.yaml')).equals(newBytes.get('w0000.yaml')!)
          phase = renamed ? `renaming (${temps} temp files left to rename)` : `staging (${temps} temp files written)`
          child.kill(signal)
          sentAt = delayMs >= 0 ? `first temp + ${delayMs} ms` : 'first rename'
        }
      }
      const result = await closed
      const after = snapshot(d)
      let oldN = 0
      let newN = 0
      const partial: string[] = []
      for (const [name, b] of after) {
        if (name.endsWith('.tmp') || name.startsWith('.')) continue
        if (b.equals(oldBytes.get(name)!)) oldN++
        else if (b.equals(newBytes.get(name)!)) newN++
        else partial.push(name)
      }
      const temps = tempFiles(d)
      expect(partial).toEqual([])
      expect(temps).toEqual([])
      expect(oldN + newN).toBe(FILES)
      // All or nothing even when interrupted.
      expect([0, FILES]).toContain(newN)
      if (sentAt.startsWith('never')) expect(result.code).toBe(0)
      const exit = result.signal ?? String(result.code)
      signalRows.push([signal, sentAt, phase, exit, oldN, newN, temps.length, stderr.slice(0, 80)])
    },
    120_000,
  )
})
