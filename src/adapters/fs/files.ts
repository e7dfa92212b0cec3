/**
 * The small file reads and writes of the composition root (src/cli): config, keys, lock file,
 * templates, reports. Each read failure is a SafeDeployError that names the file:
 * "cannot read WHAT PATH: REASON". Manifests are read by inputs.ts, trust files by trust.ts, and
 * files are replaced by atomic.ts.
 */
import {appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync} from 'node:fs'
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
