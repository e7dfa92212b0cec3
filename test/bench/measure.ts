/**
 * One process timed for `npm run bench`, shared by its sections (bench.ts, far-registry.ts, large-install.ts): the command runs under
 * /usr/bin/time, wall time is taken here, CPU and peak RSS from time's last stderr line; and a series of such runs
 * after a warm-up, printed as median, min and max.
 */
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

/** floor.ts, built beside this file: a part of a pin done alone in a bare Node process. */
export const FLOOR = fileURLToPath(new URL('./floor.js', import.meta.url))

/** BENCH_RUNS (at least 1), else `fallback`. */
export const benchRuns = (fallback: number): number => (process.env['BENCH_RUNS'] === undefined ? fallback : Math.max(1, Number(process.env['BENCH_RUNS'])))

export interface Timed {
  ms: number
  code: number
  stdout: string
  stderr: string
  /** user + sys CPU seconds of the command, and its peak RSS in MB, from /usr/bin/time. */
  cpu: number
  rssMb: number
}

/** Run a command under /usr/bin/time (with CI=1): wall time from here, CPU and peak RSS from time's last stderr line (removed). */
export async function timed(cmd: string, args: string[], opts: {cwd?: string} = {}): Promise<Timed> {
  const r = await spawned('/usr/bin/time', ['-f', 'BENCH %U %S %M', cmd, ...args], opts)
  const at = r.stderr.lastIndexOf('BENCH ')
  const m = /^BENCH ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr.slice(at))
  if (at < 0 || !m) return {...r, cpu: NaN, rssMb: NaN}
  return {...r, stderr: r.stderr.slice(0, at), cpu: Number(m[1]) + Number(m[2]), rssMb: Number(m[3]) / 1024}
}

/** What spawned gives: wall ms, exit code, stdout and stderr. */
export type Spawned = Omit<Timed, 'cpu' | 'rssMb'>

/** Run a command (with CI=1) in `cwd` (default: this process's): wall ms, exit code, stdout and stderr. */
export function spawned(cmd: string, args: string[], opts: {cwd?: string} = {}): Promise<Spawned> {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(cmd, args, {...(opts.cwd === undefined ? {} : {cwd: opts.cwd}), stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, CI: '1'}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', rej)
    child.on('close', (code) => res({ms: Number(process.hrtime.bigint() - t0) / 1e6, code: code ?? -1, stdout, stderr}))
  })
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/**
 * `runs` runs after one warm-up (page cache, registry caches); prints median, min, max, the median CPU-s (and, with
 * `rss`, the peak RSS) and every run; returns the median wall ms. A run that exits non-zero stops the bench.
 */
export async function series(label: string, runs: number, fn: () => Promise<Timed>, opts: {rss?: boolean} = {}): Promise<number> {
  await fn()
  const rs: Timed[] = []
  for (let i = 0; i < runs; i++) {
    const r = await fn()
    if (r.code !== 0) throw new Error(`${label} failed (exit ${r.code}): ${r.stderr.slice(0, 2000)}`)
    rs.push(r)
  }
  const ms = rs.map((r) => r.ms)
  const m = median(ms)
  const rss = opts.rss === true ? `  peak RSS ${Math.max(...rs.map((r) => r.rssMb)).toFixed(0)} MB` : ''
  console.log(
    `  ${label.padEnd(52)} median ${m.toFixed(0).padStart(6)} ms  min ${Math.min(...ms).toFixed(0)}  max ${Math.max(...ms).toFixed(0)}  CPU ${median(rs.map((r) => r.cpu)).toFixed(2)} s${rss}  (runs: ${ms.map((x) => x.toFixed(0)).join(', ')})`,
  )
  return m
}
