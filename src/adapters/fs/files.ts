/**
 * The small file reads and writes of the composition root (src/cli): config, keys, lock file,
 * templates, reports. Each read failure is a SafeDeployError that names the file:
 * "cannot read WHAT PATH: REASON". Manifests are read by inputs.ts, trust files by trust.ts, and
 * files are replaced by atomic.ts.
 */
import {appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync} from 'node:fs'
import {SafeDeployError, type ErrorCode} from '../../core/errors.js'

export interface ReadOptions {
  /** The error's code (default INVALID_INPUT). */
  code?: ErrorCode
  /** The reason given: the system's message (default, e.g. "ENOENT: no such file or directory, open 'x'") or the errno code alone ("ENOENT"). */
  reason?: 'message' | 'errno'
  /** Set the error's location to the file. */
  location?: boolean
}

function readFailure(path: string, what: string, err: unknown, opts: ReadOptions): SafeDeployError {
  const e = err as NodeJS.ErrnoException
  const reason = opts.reason === 'errno' ? (e.code ?? e.message) : e.message
  return new SafeDeployError(opts.code ?? 'INVALID_INPUT', `cannot read ${what} ${path}: ${reason}`, opts.location === true ? {location: {file: path}} : {})
}

/** The file as UTF-8 text. `what` names it in the error ("config file", "private key", …). */
export function readTextFile(path: string, what: string, opts: ReadOptions = {}): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw readFailure(path, what, err, opts)
  }
}

/** The file's bytes. */
export function readBinaryFile(path: string, what: string, opts: ReadOptions = {}): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw readFailure(path, what, err, opts)
  }
}

/** A path the user named: which flag (or argument) named it, and what it must be. */
export interface NamedPath {
  /** As the user knows it: `--policy`, `policy FILE`, `profile "prod": policy`. */
  flag: string
  path: string
  kind: 'file' | 'directory'
  /** The next step when it does not exist. */
  hint?: string | undefined
}

/**
 * Check, before anything else is done, that a path given on the command line (or in a profile)
 * exists and is what it must be: INVALID_INPUT (exit 3) naming the flag and the path otherwise.
 */
export function requirePath(p: NamedPath): void {
  const fail = (why: string, hint: string | undefined): SafeDeployError =>
    new SafeDeployError('INVALID_INPUT', `${p.flag} ${p.path}: ${why}`, {...(hint === undefined ? {} : {hint}), location: {file: p.path}})
  let isDirectory: boolean
  try {
    isDirectory = statSync(p.path).isDirectory()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw fail(`no such ${p.kind}`, p.hint ?? `check the path given to ${p.flag}`)
    throw fail(`cannot be read (${code ?? (err as Error).message})`, 'check the path and its permissions')
  }
  if (p.kind === 'directory' && !isDirectory) throw fail('not a directory', `${p.flag} takes a directory`)
  if (p.kind === 'file' && isDirectory) throw fail('is a directory, not a file', `${p.flag} takes a file`)
}

/** Is there a file or directory at `path`? */
export function fileExists(path: string): boolean {
  return existsSync(path)
}

/** The names of the entries of a directory. */
export function listDirectory(dir: string): string[] {
  return readdirSync(dir)
}

/** Create a directory and its parents (nothing when it exists). */
export function makeDirectory(dir: string): void {
  mkdirSync(dir, {recursive: true})
}

/** Append text to a file (created when missing), e.g. $GITHUB_STEP_SUMMARY. */
export function appendTextFile(path: string, text: string): void {
  appendFileSync(path, text)
}
