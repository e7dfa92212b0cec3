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
}

export class SafeDeployError extends Error {
  override readonly name = 'SafeDeployError'
  readonly code: ErrorCode
  readonly hint: string | undefined
  readonly location: ErrorLocation | undefined
  readonly errors: readonly SafeDeployError[]

  constructor(code: ErrorCode, message: string, options: SafeDeployErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.code = code
    this.hint = options.hint
    this.location = options.location
    this.errors = options.errors ?? []
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

/** Several errors as one: the first one's code when alone, else a summary with all of them listed. */
export function aggregateErrors(errors: SafeDeployError[], what: string): SafeDeployError {
  if (errors.length === 1) return errors[0] as SafeDeployError
  const exit = worstExit(errors)
  const lead = errors.find((e) => e.exitCode === exit) ?? (errors[0] as SafeDeployError)
  return new SafeDeployError(lead.code, `${errors.length} ${what} problems; nothing was written or deployed:`, {errors, hint: lead.hint})
}
