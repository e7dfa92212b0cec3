/**
 * Scan many manifest files (or one very large one) for image sites, on worker threads when the
 * input is large: each file is cut at document-start markers into stretches, the stretches are
 * scanned in parallel (core/manifest scanPart) and merged in order. Results and errors are exactly
 * those of scanning each file in this thread (scanOutcome); whenever a stretch cannot be placed
 * exactly (directives, `...` markers, a split the parser disagrees with, a worker that fails), that
 * file is scanned here instead.
 *
 * Workers need the compiled scan-worker.js next to this file: under ts-jest/swc, where only the .ts
 * sources exist, everything runs in this thread.
 */
import {existsSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {fileURLToPath} from 'node:url'
import {Worker} from 'node:worker_threads'
import {SafeDeployError} from '../../core/errors.js'
import {
  countLines, documentStarts, fileTraits, finishScan, scanPart, hasDirectives, scanOutcome, type ScanOutcome, type ScanPart,
} from '../../core/manifest/scan.js'
import type {CustomImageRule, ImageSite} from '../../core/manifest/types.js'
import {fromPlainError, fromPlainPart, withPlainEnv, type ScanReply, type ScanTask} from './protocol.js'

export interface ScanInput {
  file: string
  text: string
}

/** One input file and its sites, or the error that stops it (stage: a YAML problem, or a locate one). */
export type ScannedFile = ScanInput & (
  | {sites: ImageSite[]; error?: undefined}
  | {sites?: undefined; error: SafeDeployError; stage: 'parse' | 'locate'}
)

export interface ScanFilesOptions {
  /**
   * Worker threads to use; 0 or 1 scans in this thread (the default: on 2 cores, workers did not
   * win; see DEFAULT_WORKERS). 'auto' uses os.availableParallelism().
   */
  workers?: number | 'auto'
  /** Total input below which workers are not worth starting (bytes of text). Default 1 MB. */
  minParallelChars?: number
  /** Where the scan ran, and why workers were given up (for --debug and tests). */
  debug?: (line: string) => void
}

/**
 * In-thread by default: on the 2-core target, workers lose. Measured with 10,000 Deployments
 * (5.6 MB) on 2 cores: in-thread 1.7–2.1 s wall, 1.75 s CPU, 130 MB peak RSS; two workers
 * 2.7–2.9 s wall, 2.3–2.5 s CPU, 235 MB (each thread warms up its own JIT and heap, and the
 * in-thread scan already gets the second core for garbage collection). With 250-document chunks
 * the best case was 1.5 s for two workers against 1.6 s in-thread, at 335 MB against 215 MB.
 * Pass `workers` to use them anyway (e.g. on a machine with many idle cores).
 */
export const DEFAULT_WORKERS = 0

/** Below this, a worker's start-up (≈40 ms) costs more than it saves. */
export const MIN_PARALLEL_CHARS = 1 << 20

/** A stretch smaller than this is not split further. */
const MIN_PART_CHARS = 256 * 1024

const WORKER_SCRIPT = new URL('./scan-worker.js', import.meta.url)

/** Is the compiled worker script there (not under jest, which runs the .ts sources)? */
export function workersAvailable(): boolean {
  try {
    return WORKER_SCRIPT.protocol === 'file:' && existsSync(fileURLToPath(WORKER_SCRIPT))
  } catch {
    return false
  }
}

/** Image sites of every input, in input order. */
export async function scanFiles(inputs: readonly ScanInput[], rules: readonly CustomImageRule[], options: ScanFilesOptions = {}): Promise<ScannedFile[]> {
  const asked = options.workers ?? DEFAULT_WORKERS
  const workers = Math.max(0, Math.floor(asked === 'auto' ? availableParallelism() : asked))
  const total = inputs.reduce((n, f) => n + f.text.length, 0)
  if (workers >= 2 && total >= (options.minParallelChars ?? MIN_PARALLEL_CHARS) && workersAvailable()) {
    try {
      return await scanInWorkers(inputs, rules, workers, total, options.debug)
    } catch (err) {
      // A worker could not start or died (out of memory, …): the in-thread scan gives the answer.
      options.debug?.(`scan: workers failed (${err instanceof Error ? err.message : String(err)}); scanning in this thread`)
    }
  }
  options.debug?.(`scan: ${inputs.length} file(s) in this thread`)
  return withPlainEnv(() => inputs.map((f) => settle(f, scanOutcome(f.text, f.file, rules))))
}

/** Part size of the streaming scan: small enough that the first lookups start within milliseconds. */
export const STREAM_PART_CHARS = 8 * 1024

/**
 * The in-thread scan, part by part (cut at document markers as for workers), handing each part's
 * image sites to `onSites` as soon as they are known and yielding to the event loop in between, so
 * that registry lookups run while the rest of the input is still being parsed. Same results and
 * errors as scanFiles.
 */
export async function scanFilesStreaming(
  inputs: readonly ScanInput[], rules: readonly CustomImageRule[], onSites: (sites: readonly ImageSite[]) => void, partChars = STREAM_PART_CHARS,
): Promise<ScannedFile[]> {
  const out: ScannedFile[] = []
  for (const input of inputs) {
    const plan = planParts(input.text, Math.max(1, Math.ceil(input.text.length / partChars)), partChars)
    const traits = fileTraits(input.text)
    const parts: ScanPart[] = []
    let documents = 0
    let fallback = false
    for (const [k, p] of plan.entries()) {
      const part = withPlainEnv(() => scanPart(input.text.slice(p.start, p.end), input.file, rules, {offset: p.start, line: p.line, document: p.document}, traits, {last: k === plan.length - 1}))
      if (part.fallback || p.document !== documents) { fallback = true; break }
      documents += part.documents
      parts.push(part)
      if (part.problems.length === 0 && part.locateError === undefined && part.sites.length > 0) onSites(part.sites)
      if (k < plan.length - 1) await new Promise<void>((resolve) => setImmediate(resolve))
    }
    const file = settle(input, fallback ? withPlainEnv(() => scanOutcome(input.text, input.file, rules)) : finishScan(parts))
    if (fallback && file.sites) onSites(file.sites)
    out.push(file)
  }
  return out
}

function settle(input: ScanInput, outcome: ScanOutcome): ScannedFile {
  return outcome.ok
    ? {file: input.file, text: input.text, sites: outcome.sites}
    : {file: input.file, text: input.text, error: outcome.error, stage: outcome.stage}
}

interface PlannedPart {
  start: number
  end: number
  line: number
  /** The document index the stretch is expected to start at (checked against the documents found before it). */
  document: number
}

/** A line that is exactly `...` (or `...` then whitespace): the end-of-document marker. */
const DOCUMENT_END = /(?:^|\n)\.\.\.(?:[ \t\r\n]|$)/

/**
 * Cut a file into about `count` stretches at document-start markers. Only where each stretch's
 * first document index is known from the markers alone: no directives, no `...` markers (after
 * which a document may start without `---`).
 */
export function planParts(text: string, count: number, minPartChars = MIN_PART_CHARS): PlannedPart[] {
  const whole: PlannedPart[] = [{start: 0, end: text.length, line: 1, document: 0}]
  if (count < 2 || text.length < 2 * minPartChars || hasDirectives(text) || DOCUMENT_END.test(text)) return whole
  const starts = documentStarts(text)
  const first = starts[0]
  if (first === undefined) return whole
  // Content before the first marker is a document of its own ("bare" document); comments are not.
  const prelude = text.slice(0, first).replace(/^\uFEFF/, '')
  const bare = /^[ \t]*[^#\s]/m.test(prelude) ? 1 : 0
  const size = Math.max(minPartChars, Math.ceil(text.length / count))
  const parts: PlannedPart[] = []
  let start = 0
  let line = 1
  let document = 0
  let j = 0
  for (let k = 1; k < count; k++) {
    const target = start + size
    while (j < starts.length && (starts[j] as number) < target) j++
    const at = starts[j]
    if (at === undefined || text.length - at < minPartChars / 2) break
    parts.push({start, end: at, line, document})
    line += countLines(text, start, at)
    start = at
    document = bare + j
  }
  parts.push({start, end: text.length, line, document})
  return parts
}

async function scanInWorkers(
  inputs: readonly ScanInput[], rules: readonly CustomImageRule[], workers: number, total: number, debug: ((line: string) => void) | undefined,
): Promise<ScannedFile[]> {
  // Stretches of about total/workers characters, so that every worker gets a similar share.
  const tasks: ScanTask[] = []
  const plans: PlannedPart[][] = []
  const taskIds: number[][] = []
  for (const input of inputs) {
    const plan = planParts(input.text, Math.max(1, Math.round(input.text.length / (total / workers))))
    const traits = fileTraits(input.text)
    plans.push(plan)
    taskIds.push(plan.map((p, k) => {
      const id = tasks.length
      tasks.push({
        id, file: input.file, text: input.text.slice(p.start, p.end), origin: {offset: p.start, line: p.line, document: p.document},
        traits, rules: [...rules], last: k === plan.length - 1,
      })
      return id
    }))
  }
  const threads = Math.min(workers, tasks.length)
  const replies = await runTasks(tasks, threads)
  debug?.(`scan: ${inputs.length} file(s) in ${tasks.length} part(s) on ${threads} worker thread(s)`)
  return inputs.map((input, i) => {
    const ids = taskIds[i] as number[]
    const plan = plans[i] as PlannedPart[]
    const parts: ScanPart[] = []
    let documents = 0
    for (const [k, id] of ids.entries()) {
      const reply = replies[id] as ScanReply
      if (!reply.ok) throw fromPlainError(reply.error)
      const part = fromPlainPart(reply.part)
      // Each stretch must start at the document index the markers promised.
      if (part.fallback || (plan[k] as PlannedPart).document !== documents) {
        debug?.(`scan: ${input.file}: part ${k + 1} did not start where expected; scanning the file in this thread`)
        return settle(input, withPlainEnv(() => scanOutcome(input.text, input.file, rules)))
      }
      documents += part.documents
      parts.push(part)
    }
    return settle(input, finishScan(parts))
  })
}

/** Run the tasks on `count` workers (each takes the next task when done); replies by task id. */
function runTasks(tasks: readonly ScanTask[], count: number): Promise<ScanReply[]> {
  return new Promise((resolve, reject) => {
    const replies: ScanReply[] = new Array<ScanReply>(tasks.length)
    const pool: Worker[] = []
    let next = 0
    let done = 0
    let failed = false
    const stop = (): void => { for (const w of pool) void w.terminate() }
    const fail = (err: unknown): void => {
      if (failed) return
      failed = true
      stop()
      reject(err instanceof Error ? err : new Error(String(err)))
    }
    const feed = (w: Worker): void => {
      const task = tasks[next++]
      if (task) w.postMessage(task)
    }
    for (let i = 0; i < count; i++) {
      // No inherited node options: those of the parent (e.g. --input-type) may not apply to a worker.
      const w = new Worker(WORKER_SCRIPT, {execArgv: []})
      pool.push(w)
      w.on('message', (reply: ScanReply) => {
        replies[reply.id] = reply
        if (++done === tasks.length) {
          stop()
          resolve(replies)
        } else {
          feed(w)
        }
      })
      w.on('error', fail)
      w.on('exit', (code) => { if (done < tasks.length) fail(new Error(`scan worker exited with code ${code}`)) })
      feed(w)
    }
  })
}
