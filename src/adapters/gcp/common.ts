/**
 * Shared plumbing for the Google Cloud adapters: connection options, gRPC client options,
 * error mapping (gRPC status → SafeDeployError); messages are redacted with core/redact.
 *
 * Nothing here imports a @google-cloud package at module load: the clients are loaded lazily by
 * each adapter (CLI cold start, docs/google-apis.md#client-libraries).
 */
import type {AuthClient} from 'google-auth-library'
import {SafeDeployError, type ErrorCode} from '../../core/errors.js'
import {redact} from '../../core/redact.js'
import {RetriesExhausted, retry} from '../retry.js'

export interface GcpOptions {
  /** host:port override (tests, Private Service Connect, restricted VIPs). */
  endpoint?: string
  /** Plain-text transport (gRPC without TLS, REST over http://). Only for local test servers. */
  insecure?: boolean
  /** Project billed for quota (x-goog-user-project). */
  projectForQuota?: string
  /** An explicit auth client (default: Application Default Credentials). */
  authClient?: AuthClient
  /** Per-call deadline in milliseconds (default 30 s). */
  timeoutMs?: number
  /** Retries of idempotent calls on UNAVAILABLE / DEADLINE_EXCEEDED / 5xx (default 3). */
  maxRetries?: number
  /** Upper bound of the first retry's delay in ms, doubling per retry, with full jitter (default 200; Binary Authorization REST 250). */
  retryDelayMs?: number
}

export const DEFAULT_TIMEOUT_MS = 30_000
export const DEFAULT_MAX_RETRIES = 3

/** Split `host:port` (IPv6 `[::1]:port` too). */
export function splitEndpoint(endpoint: string): {host: string; port?: number} {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(endpoint)
  if (!m || m[1] === undefined) {
    throw new SafeDeployError('CONFIG_INVALID', `invalid endpoint "${endpoint}": expected host or host:port`)
  }
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1]
  return m[2] === undefined ? {host} : {host, port: Number(m[2])}
}

/** The part of every generated google-gax client the adapters open and close. */
export interface GaxClient {
  initialize(): Promise<unknown>
  close(): Promise<void>
}

/**
 * Make a generated Google client and set it up, credentials included, before its first call. Met inside a call, a
 * set-up failure (no Application Default Credentials, an unreachable endpoint) is rethrown by the generated code
 * where no caller can catch it: the process dies on an unhandled rejection (exit 1) instead of reporting "could not
 * check" (exit 4). Met here, it is the caller's error, mapped like any failed call.
 */
export async function openGaxClient<T extends GaxClient>(
  make: (options: Record<string, unknown>) => T,
  opts: GcpOptions,
  ctx: {action: string; permission: string; project?: string | undefined},
): Promise<T> {
  const client = make(await grpcClientOptions(opts))
  try {
    await client.initialize()
  } catch (err) {
    throw grpcError(err, ctx)
  }
  return client
}

/** Close a client from openGaxClient; one that never opened has nothing to close (its failure was already reported). */
export async function closeGaxClient(opened: Promise<GaxClient> | undefined): Promise<void> {
  const client = await opened?.catch(() => undefined)
  await client?.close()
}

/** Constructor options for a google-gax (gRPC) client. Typed loosely on purpose: gax 4 and 6 differ. */
export async function grpcClientOptions(opts: GcpOptions): Promise<Record<string, unknown>> {
  const o: Record<string, unknown> = {}
  const clientOptions: Record<string, unknown> = {}
  if (opts.endpoint !== undefined) {
    const {host, port} = splitEndpoint(opts.endpoint)
    o['apiEndpoint'] = host
    if (port !== undefined) o['port'] = port
  }
  if (opts.insecure === true) {
    const grpc = await import('@grpc/grpc-js')
    o['sslCreds'] = grpc.credentials.createInsecure()
    // Without a universe domain google-gax asks the metadata server for one (docs/google-apis.md#local-endpoints).
    clientOptions['universeDomain'] = 'googleapis.com'
  }
  if (opts.authClient !== undefined) o['authClient'] = opts.authClient
  if (opts.projectForQuota !== undefined) clientOptions['quotaProjectId'] = opts.projectForQuota
  if (Object.keys(clientOptions).length > 0) o['clientOptions'] = clientOptions
  return o
}

/**
 * Per-call options for gax: our deadline and gax's own retrying switched off (`retry: null`).
 * gax's retry loop either runs for up to 10 minutes (service config) or, with `maxRetries`, gives
 * the retried attempts a zero deadline (google-gax retries.js), so withRetries() retries instead.
 */
export function callOptions(opts: GcpOptions): {timeout: number; retry: null} {
  return {timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, retry: null}
}

const TRANSIENT = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED'])

/**
 * Run an idempotent gRPC call under the shared retry policy (adapters/retry.ts), retrying transient
 * failures (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED) up to `maxRetries` times. The
 * per-attempt deadline stays in callOptions(): gax sends it to the server as the gRPC deadline.
 * A failure that outlasts the retries is thrown as RetriesExhausted (grpcError says "after N attempts").
 */
export async function withRetries<T>(opts: GcpOptions, fn: () => Promise<T>): Promise<T> {
  return retry(() => fn(), {
    attempts: 1 + Math.max(0, opts.maxRetries ?? DEFAULT_MAX_RETRIES),
    baseDelayMs: opts.retryDelayMs ?? 200,
    isRetryable: (err) => TRANSIENT.has(grpcStatusOf(err) ?? '') && !isCredentialsError(err),
  })
}

/** gRPC status names by number (grpc/status.proto). */
export const GRPC_STATUS: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
]

/** The error a Google API call failed with, stripped of request metadata (the cause of our errors). */
export class GcpCallError extends Error {
  override readonly name = 'GcpCallError'
  /** gRPC status name (UNAVAILABLE…) or `HTTP 503`. */
  readonly status: string
  /** Network-level code (ECONNREFUSED…) when there was no response. */
  readonly code: string | undefined

  constructor(status: string, message: string, code?: string) {
    super(redact(message))
    this.status = status
    this.code = code
  }
}

interface GrpcLikeError {
  code?: unknown
  details?: unknown
  message?: unknown
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null
}

/** The gRPC status name of an error from a gax client, or undefined when it is not a gRPC error. */
export function grpcStatusOf(err: unknown): string | undefined {
  if (!isObject(err)) return undefined
  const code = (err as GrpcLikeError).code
  if (typeof code === 'number' && Number.isInteger(code)) return GRPC_STATUS[code] ?? `CODE_${code}`
  return undefined
}

/**
 * google-auth-library found no usable credentials (no ADC file, GOOGLE_APPLICATION_CREDENTIALS naming
 * no file, no metadata server). gRPC reports it as UNAVAILABLE ("Getting metadata from plugin failed"),
 * REST as a failed request: either way it is not transient, so it is never retried.
 */
export function isCredentialsError(err: unknown): boolean {
  const message = isObject(err) && typeof err['message'] === 'string' ? err['message'] : typeof err === 'string' ? err : ''
  return /Could not load the default credentials|Unable to read the credential file|The file at .* does not exist, or it is not a file/.test(message)
}

/** The credentials error: what was being done, and how to provide credentials. */
export const NO_CREDENTIALS_HINT = 'run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file'

function grpcDetails(err: unknown): string {
  if (!isObject(err)) return String(err)
  const e = err as GrpcLikeError
  if (typeof e.details === 'string' && e.details !== '') return e.details
  if (typeof e.message === 'string') return e.message.replace(/^\d+ [A-Z_]+: /, '')
  return 'unknown error'
}

export interface CallContext {
  /** What we were doing, e.g. `listing attestations on note projects/p/notes/n`. */
  action: string
  /** The permission(s) the caller probably lacks when the answer is PERMISSION_DENIED. */
  permission: string
  /** The project the call was about (named in auth errors). */
  project?: string | undefined
  /** Code for NOT_FOUND (default API_ERROR). */
  notFound?: ErrorCode
  /** Hint for NOT_FOUND. */
  notFoundHint?: string
  /** Code for every other failure (default API_ERROR). */
  otherwise?: ErrorCode
}

/** Map a gax/gRPC failure to a SafeDeployError. Never returns "no data": callers throw it. */
export function grpcError(failure: unknown, ctx: CallContext): SafeDeployError {
  if (failure instanceof SafeDeployError) return failure
  const err = failure instanceof RetriesExhausted ? failure.last : failure
  const attempts = failure instanceof RetriesExhausted ? ` after ${failure.attempts} attempts` : ''
  let status = grpcStatusOf(err) ?? 'UNKNOWN'
  let details = redact(grpcDetails(err))
  // gax reports exhausted retries as DEADLINE_EXCEEDED wrapping the last error's text.
  const retried = /Exceeded maximum number of retries (?:before any response was received|retrying error Error: (\d+) ([A-Z_]+): (.*))/s.exec(details)
  if (retried?.[2] !== undefined) {
    status = retried[2]
    details = `${retried[3] ?? ''} (retries exhausted)`
  }
  const cause = new GcpCallError(status, details)
  const where = ctx.project === undefined ? '' : ` in project ${ctx.project}`
  if (isCredentialsError(err)) {
    return new SafeDeployError(
      'API_AUTH',
      `${ctx.action}${where}: no Google credentials (${details.replace(/^Getting metadata from plugin failed with error: /, '')})`,
      {
        hint: NO_CREDENTIALS_HINT,
        cause,
      },
    )
  }
  if (status === 'PERMISSION_DENIED' || status === 'UNAUTHENTICATED') {
    return new SafeDeployError('API_AUTH', `${ctx.action}${where} was refused (${status}: ${details})`, {
      hint:
        status === 'UNAUTHENTICATED'
          ? 'run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS'
          : `the caller probably lacks ${ctx.permission}${where}; grant a role that includes it`,
      cause,
    })
  }
  if (status === 'NOT_FOUND' && ctx.notFound !== undefined) {
    return new SafeDeployError(ctx.notFound, `${ctx.action}: not found (${details})`, {
      ...(ctx.notFoundHint === undefined ? {} : {hint: ctx.notFoundHint}),
      cause,
    })
  }
  const code = ctx.otherwise ?? 'API_ERROR'
  return new SafeDeployError(code, `${ctx.action}${where} failed (${status}: ${details})${attempts}`, {
    hint:
      status === 'UNAVAILABLE' || status === 'DEADLINE_EXCEEDED'
        ? 'the API could not be reached; check the network and retry (nothing was treated as allowed)'
        : status === 'NOT_FOUND' && ctx.notFoundHint !== undefined
          ? ctx.notFoundHint
          : 'retry; if it persists, check the resource names and API enablement',
    cause,
  })
}

/** Convert a gRPC bytes field (Buffer, Uint8Array, base64 string) to a plain Uint8Array. */
export function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return Uint8Array.from(v)
  if (typeof v === 'string') return Uint8Array.from(Buffer.from(v, 'base64'))
  return new Uint8Array(0)
}

/** google.protobuf.Timestamp ({seconds: string|number, nanos}) or RFC3339 string → Date. */
export function toDate(v: unknown): Date | undefined {
  if (typeof v === 'string' && v !== '') {
    const d = new Date(v)
    return Number.isNaN(d.getTime()) ? undefined : d
  }
  if (!isObject(v)) return undefined
  const seconds = Number(v['seconds'] ?? 0)
  const nanos = Number(v['nanos'] ?? 0)
  if (!Number.isFinite(seconds) || !Number.isFinite(nanos) || (seconds === 0 && nanos === 0)) return undefined
  return new Date(seconds * 1000 + Math.floor(nanos / 1e6))
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

export function obj(v: unknown): Record<string, unknown> | undefined {
  return isObject(v) && !Array.isArray(v) ? v : undefined
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}
