/**
 * All-or-nothing file writes: every file goes to a temp file in its own directory (same mode as
 * the original), is fsynced, and only when every temp file is complete are they renamed over the
 * originals. If any temp write fails, the temps are removed and no file is touched.
 */
import {randomBytes} from 'node:crypto'
import {closeSync, fchmodSync, fsyncSync, openSync, unlinkSync, writeFileSync} from 'node:fs'
import {open, realpath, rename, stat, unlink} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import {SafeDeployError} from '../../core/errors.js'

export interface FileToWrite {
  path: string
  text: string
}

interface Staged {
  /** The file as the caller named it. */
  path: string
  /** Where the bytes really go (symlinks to the file are followed, so the link survives). */
  target: string
  temp: string
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** The real path of an existing file (following symlinks), or the resolved path of a new one. */
async function targetOf(path: string): Promise<{target: string; mode: number | undefined}> {
  try {
    const target = await realpath(path)
    const st = await stat(target)
    if (!st.isFile()) throw new SafeDeployError('INVALID_INPUT', `${path}: cannot write: not a regular file`, {location: {file: path}})
    return {target, mode: st.mode & 0o7777}
  } catch (e) {
    if ((e as {code?: unknown}).code === 'ENOENT') return {target: resolve(path), mode: undefined}
    throw e
  }
}

/**
 * SIGINT/SIGTERM while a write is in flight. Staging: the temp files are removed, then the signal
 * takes its default course (no file was changed). Renaming: the signal waits until every rename is
 * done (milliseconds), so an interrupted write still changes all files or none; a second signal
 * stops at once. Either way no temp file is left behind.
 */
const inFlight = new Set<string>()
let active = 0
let renaming = 0
let pending: NodeJS.Signals | undefined

function cleanupAndReraise(signal: NodeJS.Signals): void {
  for (const t of inFlight) {
    try {
      unlinkSync(t)
    } catch {
      /* already gone */
    }
  }
  inFlight.clear()
  process.removeListener('SIGINT', onSignal)
  process.removeListener('SIGTERM', onSignal)
  process.kill(process.pid, signal)
}

function onSignal(signal: NodeJS.Signals): void {
  if (renaming > 0 && pending === undefined) {
    pending = signal
    return
  }
  cleanupAndReraise(signal)
}

function begin(): void {
  if (active++ === 0) {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }
}

function end(): void {
  if (--active === 0) {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    const signal = pending
    pending = undefined
    if (signal !== undefined) cleanupAndReraise(signal)
  }
}

async function stage(file: FileToWrite): Promise<Staged> {
  const {target, mode} = await targetOf(file.path)
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  // Synchronous on purpose: an asynchronous open runs on libuv's thread pool, so a signal handled
  // meanwhile could remove the temp file before the open creates it, and the file would be left
  // behind. Here the file exists exactly when it is in inFlight, as far as the signal handler sees.
  const fd = openSync(temp, 'wx', mode ?? 0o666)
  inFlight.add(temp)
  try {
    writeFileSync(fd, file.text, 'utf8')
    if (mode !== undefined) fchmodSync(fd, mode) // open() applies the umask; keep the original mode exactly
    fsyncSync(fd)
    closeSync(fd)
  } catch (e) {
    try {
      closeSync(fd)
    } catch {
      /* already closed */
    }
    await unlink(temp).catch(() => undefined)
    inFlight.delete(temp)
    throw e
  }
  return {path: file.path, target, temp}
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r')
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
  } catch {
    // Some filesystems cannot fsync a directory; the renames are still atomic.
  }
}

/**
 * Write every file or none. Throws SafeDeployError INVALID_INPUT naming the file that could not be
 * written (and leaves every original untouched) when a temp file cannot be written.
 */
export async function writeFilesAtomic(files: ReadonlyArray<FileToWrite>): Promise<void> {
  begin()
  try {
    await writeAll(files)
  } finally {
    end()
  }
}

async function writeAll(files: ReadonlyArray<FileToWrite>): Promise<void> {
  const staged: Staged[] = []
  const targets = new Set<string>()
  try {
    for (const f of files) {
      const s = await stage(f).catch((e: unknown) => {
        if (e instanceof SafeDeployError) throw e
        throw new SafeDeployError('INVALID_INPUT', `${f.path}: cannot write: ${errText(e)}`, {
          hint: 'no file was changed; fix the problem (path, permissions, free space) and run again',
          cause: e,
          location: {file: f.path},
        })
      })
      staged.push(s)
      if (targets.has(s.target)) {
        throw new SafeDeployError('INTERNAL', `${f.path}: the same file was given twice in one write`)
      }
      targets.add(s.target)
    }
  } catch (e) {
    await Promise.all(staged.map((s) => unlink(s.temp).catch(() => undefined)))
    for (const s of staged) inFlight.delete(s.temp)
    throw e
  }

  // Every temp file is complete and synced: swap them in (a signal now waits for the last rename).
  const done: string[] = []
  renaming++
  try {
    for (const [i, s] of staged.entries()) {
      try {
        await rename(s.temp, s.target)
        inFlight.delete(s.temp)
        done.push(s.path)
      } catch (e) {
        await Promise.all(staged.slice(i).map((r) => unlink(r.temp).catch(() => undefined)))
        for (const r of staged.slice(i)) inFlight.delete(r.temp)
        throw new SafeDeployError('INVALID_INPUT', `${s.path}: cannot replace the file: ${errText(e)}`, {
          hint: done.length === 0 ? 'no file was changed' : `already written: ${done.join(', ')}; the others were not changed`,
          cause: e,
          location: {file: s.path},
        })
      }
    }
  } finally {
    renaming--
  }
  await Promise.all([...new Set(staged.map((s) => dirname(s.target)))].map(syncDir))
}

/** One file, atomically (temp file + fsync + rename). */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await writeFilesAtomic([{path, text}])
}
