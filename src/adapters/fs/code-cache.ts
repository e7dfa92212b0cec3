/**
 * The published CLI's code, dist/bundle/cli.cjs, compiled for src/cli/launch.ts with a V8 code cache made at the end
 * of an earlier run (docs/architecture.md#the-code-cache-taken-after-a-run). Node's own compile cache (bin/run.js)
 * stores what V8 compiled before a module ran: the top level of each function, not the bodies it compiles later, when
 * they are first called. Most of what a start runs (oclif's config load, flag parsing, the first YAML parse) is such
 * bodies, compiled again on every start. A cache taken after the run holds them too: `pin -f` of one file 103 → 71 ms
 * here.
 *
 * The cache is code that runs as the user: it lives in the user's own cache directory ($SAFE_DEPLOY_CODE_CACHE, else
 * $XDG_CACHE_HOME/safe-deploy/code-cache, else ~/.cache/safe-deploy/code-cache), and a directory another user could
 * write to is not used. Its name holds the Node version, the CPU architecture and what `stat` says of the bundle file,
 * so a rebuilt bundle never meets another build's cache; V8 itself refuses a cache made by another V8 or with other
 * flags. Anything that goes wrong (no home, a read-only disk, a cache V8 refuses) only costs the time the cache would
 * have saved: the run goes on and prints nothing about it.
 */
import {closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync, type Stats} from 'node:fs'
import {isAscii} from 'node:buffer'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {Script} from 'node:vm'
import {cacheDir} from './xdg.js'

/** Where the cache lives; undefined when it is turned off (SAFE_DEPLOY_DISABLE_CODE_CACHE=1). */
export function codeCacheDir(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env.SAFE_DEPLOY_DISABLE_CODE_CACHE !== undefined && env.SAFE_DEPLOY_DISABLE_CODE_CACHE !== '' && env.SAFE_DEPLOY_DISABLE_CODE_CACHE !== '0')
    return undefined
  const own = env.SAFE_DEPLOY_CODE_CACHE
  if (own !== undefined && own !== '') return own
  return join(cacheDir(env), 'code-cache')
}

/**
 * Which cache a run uses: one per command word (`pin`, `preflight`, `run`, …) and per help, since each compiles
 * different code. A word that is not a plain command word shares the "other" cache. Runs with other Node options
 * (`node --max-old-space-size=…`, NODE_OPTIONS) get caches of their own: V8 refuses a cache made under other flags,
 * and two kinds of runs taking turns would otherwise each refuse and rewrite the other's cache every time.
 */
export function cachePartition(argv: readonly string[], nodeOptions: readonly string[] = []): string {
  const word = argv.find((a) => !a.startsWith('-'))
  const name = word === undefined ? 'root' : /^[a-z][a-z0-9-]{0,31}$/.test(word) ? word : 'other'
  const options = nodeOptions.join(' ').trim()
  const withOptions = options === '' ? name : `${name}.${fnv1a(options)}`
  return argv.includes('--help') || argv.includes('-h') ? `${withOptions}.help` : withOptions
}

/** A short name for a string (32-bit FNV-1a, in base 36): only to tell option sets apart in a file name. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
  return h.toString(36)
}

/**
 * The cache file's name for this Node, this bundle file and this partition. The file is known by what `stat` says
 * of it, as git's index knows a file: device, inode, size, and the times of its last change. The change time
 * (ctime) is set by the system on every write, and no program can set it back (npm, which sets every mtime of a
 * package to 1985, cannot), so a bundle written again, even to the same length, gets another name. V8 would not
 * notice: its own check on a cache compares the source's length only, and would run the old build's code.
 */
export function cacheFileName(bundle: Pick<Stats, 'dev' | 'ino' | 'size' | 'mtimeMs' | 'ctimeMs'>, partition: string): string {
  const id = [bundle.dev, bundle.ino, bundle.size, bundle.mtimeMs, bundle.ctimeMs].map((n) => Math.round(n * 1000).toString(36)).join('.')
  return `${process.version}-${process.arch}-${id}-${partition}.v8cache`
}

export interface CachedScript<T> {
  exports: T
  /** What the cache did for this run: none found or turned off, used, or refused by V8. */
  cache: 'off' | 'missing' | 'used' | 'rejected'
  /** Write the cache from what V8 has compiled so far (call it at the end of the run); a no-op when the cache was used. */
  save: () => void
}

// The bundle is CommonJS; it runs in this one function, with the arguments Node's own wrapper passes and one more:
// __sdImport, the launcher's import(). A script compiled by node:vm has no import() of its own (Node 22 gives it one
// only under --experimental-vm-modules), and oclif imports our commands and its plugins' by path
// (esbuild.config.mjs patches its module loader to call __sdImport). The head has its own line so that line numbers
// (stack traces, the source map) are the file's: lineOffset -1.
const HEAD = '(function (exports, require, module, __filename, __dirname, __sdImport) {\n'
const TAIL = '\n})'

/**
 * Compile and run the CommonJS file `file` with the code cache in `dir` (none when undefined), and return what it
 * exports. `importModule` is the import() the file's code gets.
 */
export function runWithCodeCache<T>(
  file: string,
  dir: string | undefined,
  partition: string,
  importModule: (url: string) => Promise<unknown>,
): CachedScript<T> {
  const {bytes, stats} = readWithStats(file)
  const cacheFile = dir !== undefined && ownedDirectory(dir) ? join(dir, cacheFileName(stats, partition)) : undefined
  const cachedData = cacheFile === undefined ? undefined : readIfPresent(cacheFile)
  // ASCII (esbuild.config.mjs makes it so) read as Latin-1: the same text, a few milliseconds sooner than UTF-8 decoding.
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8')
  const script = new Script(HEAD + source + TAIL, {filename: file, lineOffset: -1, ...(cachedData ? {cachedData} : {})})
  const cache = cacheFile === undefined ? 'off' : cachedData === undefined ? 'missing' : script.cachedDataRejected === true ? 'rejected' : 'used'
  const module = {exports: {} as T}
  ;(script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file), importModule)
  const save = (): void => {
    if (cacheFile === undefined || cache === 'used') return
    try {
      writeAtomically(cacheFile, script.createCachedData())
      pruneOld(dirname(cacheFile), Date.now())
    } catch {
      /* best effort: the next run compiles again */
    }
  }
  return {exports: module.exports, cache, save}
}

/**
 * The directory exists (created, only for this user, when missing) and no other user can write to it or replace
 * it: a code cache there runs as this user, so one planted by someone else must never be read.
 */
function ownedDirectory(dir: string): boolean {
  try {
    mkdirSync(dir, {recursive: true, mode: 0o700})
    const st = statSync(dir)
    const uid = process.getuid?.()
    return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0
  } catch {
    return false
  }
}

/** A cache file not written for this long is deleted when another is written (each build and Node writes its own). */
export const CACHE_MAX_AGE_MS = 30 * 24 * 3600 * 1000

/**
 * Delete the caches written more than CACHE_MAX_AGE_MS ago, and temporary files of writes that died, so that old
 * builds' caches do not pile up. A cache still in use is written again by the next run that misses it.
 */
export function pruneOld(dir: string, now: number): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.v8cache') && !name.endsWith('.tmp')) continue
    const path = join(dir, name)
    try {
      const age = now - statSync(path).mtimeMs
      if (age > (name.endsWith('.tmp') ? 3600 * 1000 : CACHE_MAX_AGE_MS)) unlinkSync(path)
    } catch {
      /* gone already, or not ours to delete */
    }
  }
}

/**
 * The file's bytes and what `stat` says of it, from one open file: the cache is named after the very bytes it is made
 * from, even when the bundle is being written again at that moment.
 */
function readWithStats(file: string): {bytes: Buffer; stats: Stats} {
  const fd = openSync(file, 'r')
  try {
    return {stats: fstatSync(fd), bytes: readFileSync(fd)}
  } finally {
    closeSync(fd)
  }
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return readFileSync(file)
  } catch {
    return undefined
  }
}

/**
 * A whole file or none: written beside its name, then renamed over it (two runs that save at once both succeed).
 * Not adapters/fs/atomic.ts: this runs in a process 'exit' listener, which cannot wait for a promise, and at start-up
 * cost, where atomic.ts would bring node:crypto and the error types along. Losing this file loses nothing.
 */
function writeAtomically(file: string, data: Uint8Array): void {
  const temp = `${file}.${process.pid}.tmp`
  const fd = openSync(temp, 'w', 0o600)
  try {
    writeSync(fd, data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    renameSync(temp, file)
  } catch (err) {
    unlinkSync(temp)
    throw err
  }
}
