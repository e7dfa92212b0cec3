/**
 * Hostile YAML through the CLI (`pin -f FILE --json`): alias bomb, 10^5 nested flow levels, a
 * 10 MB scalar, duplicate keys, non-UTF-8 bytes, an input just over the 64 MiB limit and a 50 MB
 * valid-ish stream. Each is refused with a clear message (exit 3) or handled (exit 0), in bounded
 * time (< 60 s) and memory (peak RSS of the child, from /usr/bin/time). Images are written pinned
 * (name@sha256:…), so no registry is involved.
 *
 * Rerun: npm run build:dist && npm run jest -- test/e2e/reliability/hostile-yaml
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {spawn} from 'node:child_process'
import {closeSync, existsSync, mkdtempSync, openSync, writeFileSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BIN, isolatedEnv} from '../../support/cli.js'
import {mdTable, saveFigures} from './helpers.js'
import {deployment} from '../../support/fixtures.js'

const PINNED = 'registry.example/team/app:1.4@sha256:' + 'a'.repeat(64)
const TIME = '/usr/bin/time'
let dir: string
const rows: Array<[string, string, number, string, string, string, string]> = []

interface Measured {
  code: number
  stdout: string
  stderr: string
  ms: number
  rssMiB: number | undefined
}

/** Run the CLI under /usr/bin/time (peak RSS) when present. */
function measure(args: string[]): Promise<Measured> {
  const withTime = existsSync(TIME)
  const cmd = withTime ? TIME : process.execPath
  const argv = withTime ? ['-f', 'SD_MAXRSS_KB=%M', process.execPath, BIN, ...args] : [BIN, ...args]
  return new Promise((resolve, reject) => {
    const t0 = Date.now()
    const child = spawn(cmd, argv, {env: isolatedEnv(), stdio: ['ignore', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`timed out: ${args.join(' ')}`))
    }, 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      let stderr = Buffer.concat(err).toString('utf8')
      const m = /SD_MAXRSS_KB=(\d+)\s*$/.exec(stderr)
      if (m) stderr = stderr.slice(0, m.index)
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr,
        ms: Date.now() - t0,
        rssMiB: m ? Math.round(Number(m[1]) / 1024) : undefined,
      })
    })
  })
}

const workload = (name: string): string => deployment(name, PINNED, {container: 'c', selector: false})

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sd-hostile-'))
})
afterAll(() => {
  if (rows.length === 0) return
  const table = mdTable(['input', 'size', 'exit', 'error code', 'message (first line)', 'time', 'peak RSS'], rows)
  const file = saveFigures('hostile-yaml', rows)
  console.log(`HOSTILE YAML (${rows.length} inputs; saved to ${file})\n\n${table}\n`)
})

interface Case {
  name: string
  /** Writes the input file; returns its path. */
  make: (file: string) => void
  /** 0 = handled; 3 = refused (INPUT). */
  exit: 0 | 3
  code?: string
  message?: RegExp
}

const mib = (n: number): string => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`)

const CASES: Case[] = [
  {
    name: 'alias bomb (billion laughs, 9 levels)',
    exit: 3,
    code: 'INVALID_INPUT',
    message: /aliases expand too much/,
    make: (f) => {
      const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
      for (let i = 1; i < 9; i++)
        lines.push(
          `a${i}: &a${i} [${Array(9)
            .fill(`*a${i - 1}`)
            .join(',')}]`,
        )
      writeFileSync(f, workload('bomb') + '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n' + lines.map((l) => '  ' + l).join('\n') + '\n')
    },
  },
  {
    name: 'deep nesting (10^5 flow levels)',
    exit: 3,
    code: 'INVALID_INPUT',
    message: /nest|deep/i,
    make: (f) =>
      writeFileSync(
        f,
        workload('deep') + '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  x: ' + '['.repeat(100_000) + ']'.repeat(100_000) + '\n',
      ),
  },
  {
    name: 'huge scalar (10 MB)',
    exit: 0,
    make: (f) =>
      writeFileSync(
        f,
        workload('big-scalar') + '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: blob}\ndata:\n  blob: "' + 'x'.repeat(10 * 1000 * 1000) + '"\n',
      ),
  },
  {
    name: 'duplicate keys (image twice in a container)',
    exit: 3,
    code: 'INVALID_INPUT',
    message: /duplicate|unique/i,
    make: (f) =>
      writeFileSync(
        f,
        `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: dup}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: ${PINNED}\n        image: evil.example/backdoor:latest\n`,
      ),
  },
  {
    name: 'non-UTF-8 bytes (Latin-1 é in a comment)',
    exit: 3,
    code: 'INVALID_INPUT',
    message: /expected UTF-8 text/,
    make: (f) => writeFileSync(f, Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from('\n' + workload('latin1'))])),
  },
  {
    name: 'UTF-16 with BOM',
    exit: 3,
    code: 'INVALID_INPUT',
    message: /UTF-16/,
    make: (f) => writeFileSync(f, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(workload('utf16'), 'utf16le')])),
  },
  {
    name: 'just over the 64 MiB limit',
    exit: 3,
    code: 'INVALID_INPUT',
    message: /over the 64(\.0)? MiB limit/,
    make: (f) => {
      const fd = openSync(f, 'w')
      writeSync(fd, workload('over'))
      const chunk = '# ' + 'p'.repeat(1021) + '\n'
      const target = 64 * 1024 * 1024 + 1
      let size = Buffer.byteLength(workload('over'))
      while (size < target) {
        writeSync(fd, chunk)
        size += chunk.length
      }
      closeSync(fd)
    },
  },
  {
    name: '50 MB valid-ish stream (400 Deployments + ConfigMaps)',
    exit: 0,
    make: (f) => {
      const fd = openSync(f, 'w')
      const data = Array.from({length: 1000}, (_, i) => `  k${i}: "${'v'.repeat(120)}"`).join('\n') + '\n'
      for (let i = 0; i < 400; i++)
        writeSync(fd, `${i === 0 ? '' : '---\n'}${workload(`w${i}`)}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}}\ndata:\n${data}`)
      closeSync(fd)
    },
  },
]

describe('hostile YAML through pin -f FILE', () => {
  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s',
    async (_n, c) => {
      const file = join(dir, c.name.replace(/[^a-z0-9]+/gi, '-') + '.yaml')
      c.make(file)
      const size = (await import('node:fs')).statSync(file).size
      const r = await measure(['pin', '-f', file, '--json'])
      expect(r.ms).toBeLessThan(60_000)
      if (r.rssMiB !== undefined) expect(r.rssMiB).toBeLessThan(1536)
      let code = '—'
      let message: string
      if (c.exit === 0) {
        expect({code: r.code, stderr: r.stderr}).toEqual({code: 0, stderr: expect.any(String)})
        const j = JSON.parse(r.stdout) as {summary: {sites: number; alreadyPinned: number}}
        expect(j.summary.sites).toBe(j.summary.alreadyPinned)
        message = `handled: ${j.summary.sites} image site(s), all already pinned`
      } else {
        expect(r.code).toBe(c.exit)
        const j = JSON.parse(r.stdout) as {error: {code: string; message: string; errors?: Array<{message: string}>}}
        code = j.error.code
        message = [j.error.message, ...(j.error.errors ?? []).map((e) => e.message)].join(' | ')
        if (c.code) expect(code).toBe(c.code)
        if (c.message) expect(message).toMatch(c.message)
        expect(message).toContain(file)
        // Human output on stderr names the file too, without a stack trace.
        const t = await measure(['pin', '-f', file])
        expect(t.code).toBe(c.exit)
        expect(t.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
      }
      const first = message.split('\n')[0]!.replace(dir + '/', '')
      rows.push([
        c.name,
        mib(size),
        r.code,
        code,
        first.length > 160 ? first.slice(0, 157) + '…' : first,
        `${(r.ms / 1000).toFixed(2)} s`,
        r.rssMiB === undefined ? 'n/a' : `${r.rssMiB} MiB`,
      ])
    },
    180_000,
  )
})
