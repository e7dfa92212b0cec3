/**
 * Messages between scanFiles and its worker threads. Only structured-clonable data crosses:
 * SafeDeployError becomes a plain object and back (code, message, hint, location, nested errors).
 */
import {SafeDeployError, type ErrorCode, type ErrorLocation} from '../../core/errors.js'
import type {ScanPart, TextOrigin, FileTraits} from '../../core/manifest/scan.js'
import type {CustomImageRule, ImageSite} from '../../core/manifest/types.js'

export interface PlainError {
  code: ErrorCode
  message: string
  hint?: string
  location?: ErrorLocation
  errors?: PlainError[]
}

/** One stretch of one file to scan. */
export interface ScanTask {
  id: number
  file: string
  /** The stretch's text (from a document boundary). */
  text: string
  origin: TextOrigin
  traits: FileTraits
  rules: CustomImageRule[]
  /** The stretch ends the file. */
  last: boolean
}

export interface PlainPart {
  sites: ImageSite[]
  documents: number
  problems: PlainError[]
  locateError?: PlainError
  fallback?: true
}

export type ScanReply =
  | {id: number; ok: true; part: PlainPart}
  | {id: number; ok: false; error: PlainError}

export function toPlainError(err: SafeDeployError): PlainError {
  return {
    code: err.code,
    message: err.message,
    ...(err.hint === undefined ? {} : {hint: err.hint}),
    ...(err.location === undefined ? {} : {location: {...err.location}}),
    ...(err.errors.length === 0 ? {} : {errors: err.errors.map(toPlainError)}),
  }
}

export function fromPlainError(e: PlainError): SafeDeployError {
  return new SafeDeployError(e.code, e.message, {
    ...(e.hint === undefined ? {} : {hint: e.hint}),
    ...(e.location === undefined ? {} : {location: e.location}),
    ...(e.errors === undefined ? {} : {errors: e.errors.map(fromPlainError)}),
  })
}

export function toPlainPart(p: ScanPart): PlainPart {
  return {
    sites: p.sites,
    documents: p.documents,
    problems: p.problems.map(toPlainError),
    ...(p.locateError === undefined ? {} : {locateError: toPlainError(p.locateError)}),
    ...(p.fallback ? {fallback: true as const} : {}),
  }
}

export function fromPlainPart(p: PlainPart): ScanPart {
  return {
    sites: p.sites,
    documents: p.documents,
    problems: p.problems.map(fromPlainError),
    ...(p.locateError === undefined ? {} : {locateError: fromPlainError(p.locateError)}),
    ...(p.fallback ? {fallback: true as const} : {}),
  }
}

/**
 * Run `fn` with process.env replaced by a plain-object copy. The `yaml` parser reads
 * process.env.LOG_TOKENS once per token, and the real process.env is a host object whose every read
 * goes to the C++ environment: ~20% of a large parse. Nothing else runs during `fn` (synchronous),
 * and the real object is put back after it.
 */
export function withPlainEnv<T>(fn: () => T): T {
  const env = process.env
  process.env = {...env}
  try {
    return fn()
  } finally {
    process.env = env
  }
}
