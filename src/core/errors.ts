/**
 * One error type for the whole program: a stable code, a message ("expected X, got Y"), a hint
 * (the next step) and an optional cause. The code decides the exit status through EXIT_CODES,
 * the single table that `--help` prints and a test keeps in sync.
 */

/** Process exit statuses. One table; `safe-deploy --help` and the README print it. */
export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  INPUT: 3,
  UNCHECKED: 4,
  DENIED: 5,
  DRYRUN_DENIED: 6,
  INVALID_TRUST: 7,
  DEPLOY_FAILED: 8,
  ABORTED: 9,
} as const
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** What each exit status means, in the order printed by `--help`. */
export const EXIT_TABLE: ReadonlyArray<{code: ExitCode; name: keyof typeof EXIT; meaning: string}> = [
  {code: 0, name: 'OK', meaning: 'success; every image allowed (pin: every image pinned)'},
  {code: 1, name: 'INTERNAL', meaning: 'unexpected internal error (a bug: please report it)'},
  {code: 2, name: 'USAGE', meaning: 'usage error: bad flags or arguments'},
  {
    code: 3,
    name: 'INPUT',
    meaning:
      'input error: malformed YAML/JSON, invalid image reference, unpinnable value, image missing from the lock file, bad config, image-like values no image rule examined',
  },
  {code: 4, name: 'UNCHECKED', meaning: 'could not check: registry, API, network or auth failure (never treated as allowed)'},
  {code: 5, name: 'DENIED', meaning: 'denied by the Binary Authorization policy'},
  {code: 6, name: 'DRYRUN_DENIED', meaning: 'dry-run denial: the policy would deny, but the rule is in dry-run mode (deploys; reported)'},
  {code: 7, name: 'INVALID_TRUST', meaning: 'policy, attestor, key or attestation invalid'},
  {code: 8, name: 'DEPLOY_FAILED', meaning: 'deploy failed after the pre-flight passed (kubectl or API error)'},
  {code: 9, name: 'ABORTED', meaning: 'aborted: confirmation declined, or required but not possible (no TTY / CI without --yes)'},
]

/** Stable error codes, grouped by the exit status they map to. */
export const ERROR_CODES = {
  USAGE: EXIT.USAGE,
  INVALID_REFERENCE: EXIT.INPUT,
  INVALID_INPUT: EXIT.INPUT,
  UNPINNABLE_VALUE: EXIT.INPUT,
  LOCK_MISSING: EXIT.INPUT,
  CONFIG_INVALID: EXIT.INPUT,
  FILE_EXISTS: EXIT.INPUT,
  REGISTRY_AUTH: EXIT.UNCHECKED,
  REGISTRY_NOT_FOUND: EXIT.UNCHECKED,
  REGISTRY_RATE_LIMITED: EXIT.UNCHECKED,
  REGISTRY_UNAVAILABLE: EXIT.UNCHECKED,
  REGISTRY_TLS: EXIT.UNCHECKED,
  REGISTRY_TIMEOUT: EXIT.UNCHECKED,
  REGISTRY_NETWORK: EXIT.UNCHECKED,
  REGISTRY_PROTOCOL: EXIT.UNCHECKED,
  PLATFORM_NOT_FOUND: EXIT.UNCHECKED,
  API_ERROR: EXIT.UNCHECKED,
  API_AUTH: EXIT.UNCHECKED,
  /** A fact the evaluation needs is not in the evidence file being replayed (docs/evidence.md#rules). */
  EVIDENCE_MISSING: EXIT.UNCHECKED,
  DENIED: EXIT.DENIED,
  DRYRUN_DENIED: EXIT.DRYRUN_DENIED,
  POLICY_INVALID: EXIT.INVALID_TRUST,
  ATTESTOR_INVALID: EXIT.INVALID_TRUST,
  ATTESTOR_UNKNOWN: EXIT.INVALID_TRUST,
  KEY_INVALID: EXIT.INVALID_TRUST,
  ATTESTATION_INVALID: EXIT.INVALID_TRUST,
  SIGNATURE_INVALID: EXIT.INVALID_TRUST,
  DEPLOY_FAILED: EXIT.DEPLOY_FAILED,
  ABORTED: EXIT.ABORTED,
  CONFIRMATION_REQUIRED: EXIT.ABORTED,
  INTERNAL: EXIT.INTERNAL,
} as const satisfies Record<string, ExitCode>

export type ErrorCode = keyof typeof ERROR_CODES

export interface ErrorLocation {
  file?: string
  /** 0-based document index in a multi-document stream. */
  document?: number
  /** YAML path, e.g. spec.template.spec.containers[0].image */
  path?: string
  /** 1-based line. */
  line?: number
  image?: string
}

export interface SafeDeployErrorOptions {
  hint?: string | undefined
  cause?: unknown
  location?: ErrorLocation | undefined
  /** Several failures reported at once (e.g. every image that failed to resolve). */
  errors?: readonly SafeDeployError[] | undefined
  /**
   * A failure of the host contacted rather than of this one image (plain HTTP, TLS, DNS, refused,
   * timeout, rate limit): the host and what went wrong there, without the image. Image errors with
   * the same code, host and reason are reported once, with a count (aggregateErrors).
   */
  remote?: {host: string; reason: string} | undefined
}

export class SafeDeployError extends Error {
  override readonly name = 'SafeDeployError'
  readonly code: ErrorCode
  readonly hint: string | undefined
  readonly location: ErrorLocation | undefined
  readonly errors: readonly SafeDeployError[]
  readonly remote: {host: string; reason: string} | undefined
  /** Set by aggregateErrors: `errors` grouped by cause, for people (the JSON keeps every error). */
  readonly groups: readonly ErrorGroup[] | undefined

  constructor(code: ErrorCode, message: string, options: SafeDeployErrorOptions & {groups?: readonly ErrorGroup[]} = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.code = code
    this.hint = options.hint
    this.location = options.location
    this.errors = options.errors ?? []
    this.remote = options.remote
    this.groups = options.groups
  }

  /**
   * The same error at a place in the input: the location is merged in and said once, in front of
   * the message (without the image, which the message names already).
   */
  at(location: ErrorLocation): SafeDeployError {
    const {image: _image, ...where} = location
    return new SafeDeployError(this.code, formatLocation(where) + this.message, {
      hint: this.hint,
      cause: this.cause,
      location: {...location, ...this.location},
      errors: this.errors,
      remote: this.remote,
    })
  }

  get exitCode(): ExitCode {
    return ERROR_CODES[this.code]
  }

  /** "file: document 2: spec.x.image (line 14): " prefix built from the location, or ''. */
  get where(): string {
    return formatLocation(this.location)
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : {hint: this.hint}),
      ...(this.location === undefined ? {} : {location: this.location}),
      ...(this.remote === undefined ? {} : {host: this.remote.host}),
      ...(this.errors.length > 0 ? {errors: this.errors.map((e) => e.toJSON())} : {}),
    }
  }
}

export function formatLocation(loc: ErrorLocation | undefined): string {
  if (!loc) return ''
  const parts: string[] = []
  if (loc.file !== undefined) parts.push(loc.file === '-' ? '<stdin>' : loc.file)
  if (loc.document !== undefined) parts.push(`document ${loc.document + 1}`)
  if (loc.path !== undefined) parts.push(loc.line === undefined ? loc.path : `${loc.path} (line ${loc.line})`)
  else if (loc.line !== undefined) parts.push(`line ${loc.line}`)
  if (loc.image !== undefined) parts.push(`image ${loc.image}`)
  return parts.length > 0 ? parts.join(': ') + ': ' : ''
}

export function isSafeDeployError(e: unknown): e is SafeDeployError {
  return e instanceof SafeDeployError
}

/** The highest-priority exit code among several errors (a registry failure beats an input error). */
export function worstExit(errors: readonly SafeDeployError[]): ExitCode {
  const order: ExitCode[] = [EXIT.INTERNAL, EXIT.INVALID_TRUST, EXIT.UNCHECKED, EXIT.INPUT, EXIT.USAGE]
  for (const code of order) if (errors.some((e) => e.exitCode === code)) return code
  return errors[0]?.exitCode ?? EXIT.INTERNAL
}

/**
 * One cause shared by several errors (or a single error standing alone). `summary` says the cause
 * once; `errors` are the ones it covers, in order (their locations are the examples).
 */
export interface ErrorGroup {
  code: ErrorCode
  summary: string
  hint: string | undefined
  errors: readonly SafeDeployError[]
}

/**
 * Errors grouped by cause: those with the same code, host and reason (SafeDeployErrorOptions.remote)
 * become one group, `"127.0.0.1:5000 answered plain HTTP to a TLS request (400 images)"`; every other
 * error is a group of its own, its message as the summary. Groups keep the order of their first error.
 */
export function groupErrors(errors: readonly SafeDeployError[], what: string): ErrorGroup[] {
  const groups: Array<{code: ErrorCode; remote?: {host: string; reason: string}; hint: string | undefined; errors: SafeDeployError[]}> = []
  const byKey = new Map<string, (typeof groups)[number]>()
  for (const e of errors) {
    if (e.remote === undefined) {
      groups.push({code: e.code, hint: e.hint, errors: [e]})
      continue
    }
    const key = JSON.stringify([e.code, e.remote.host, e.remote.reason, e.hint ?? ''])
    const found = byKey.get(key)
    if (found) found.errors.push(e)
    else {
      const g = {code: e.code, remote: e.remote, hint: e.hint, errors: [e]}
      byKey.set(key, g)
      groups.push(g)
    }
  }
  return groups.map((g) => ({
    code: g.code,
    hint: g.hint,
    errors: g.errors,
    summary: g.remote === undefined || g.errors.length === 1 ? (g.errors[0] as SafeDeployError).message : `${g.remote.reason} (${g.errors.length} ${what}s)`,
  }))
}

/**
 * Several errors as one: the first one's code when alone, else a summary with all of them listed
 * (errors that themselves list several are flattened, so each problem is said once) and grouped by
 * cause for people (`groups`; `errors`, and so --json, keep every one).
 */
export function aggregateErrors(errors: SafeDeployError[], what: string): SafeDeployError {
  if (errors.length === 1) return errors[0] as SafeDeployError
  const all = errors.flatMap((e) => (e.errors.length > 0 ? e.errors : [e]))
  const exit = worstExit(all)
  const lead = all.find((e) => e.exitCode === exit) ?? (all[0] as SafeDeployError)
  return new SafeDeployError(lead.code, `${all.length} ${what} problems; nothing was written or deployed:`, {
    errors: all,
    hint: lead.hint,
    groups: groupErrors(all, what),
  })
}
