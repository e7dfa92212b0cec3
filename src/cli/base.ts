/**
 * Base command: one place for error rendering, exit codes, --json and --debug.
 * Human chatter goes to stderr, data to stdout (design habit 10).
 */
import {Command, Flags, Errors, Interfaces} from '@oclif/core'

/** The bound on parsed flags and args for the parse override below (oclif's own bound is wider; this one type-checks every command). */
type Output = Record<string, unknown>
import {EXIT, EXIT_TABLE, SafeDeployError, formatLocation, type ExitCode} from '../core/errors.js'
import {redact, redactValue} from '../core/redact.js'
import {booleanAssignments, closest} from './suggest.js'
import {jsonDocumentNumbers} from '../render/json.js'
import {isDocumentFormat, outputFormat, resolveFlagSpellings, type OutputFormat} from './options.js'
import {renderYamlDocument} from '../render/output.js'
import {codeCacheLine} from './code-cache-state.js'

/** The exit-code table as printed at the end of every command's --help (kept in sync by a test). */
export function exitCodeHelp(): string {
  const width = Math.max(...EXIT_TABLE.map((r) => r.name.length))
  return ['EXIT CODES', ...EXIT_TABLE.map((r) => `  ${String(r.code).padStart(2)}  ${r.name.padEnd(width)}  ${r.meaning}`)].join('\n')
}

/** A command description followed by the exit-code table. */
export function withExitCodes(text: string): string {
  return `${text}\n\n${exitCodeHelp()}`
}

/** The apiVersion of every --json document (success and error). */
export const JSON_API_VERSION = 'safe-deploy.dev/v1'

export abstract class BaseCommand extends Command {
  /** The `kind` of the command's --json document (each command with --json declares it). */
  static jsonKind: string | undefined
  static override baseFlags = {
    debug: Flags.boolean({description: 'print debug details to stderr (credentials are always redacted)', helpGroup: 'GLOBAL'}),
    'no-color': Flags.boolean({description: 'no colour (also NO_COLOR=1; FORCE_COLOR=1 forces it where there is no terminal)', helpGroup: 'GLOBAL'}),
  }

  protected debugEnabled = false

  protected debugLog = (line: string): void => {
    if (this.debugEnabled) process.stderr.write(`debug: ${redact(line)}\n`)
  }

  /** Human output (stderr), silent under --json. */
  protected say(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(message.endsWith('\n') ? message : message + '\n')
  }

  /** Data output (stdout): what a pipe or a file receives; silent under --json. */
  protected out(text: string | Uint8Array): void {
    if (!this.jsonEnabled()) process.stdout.write(text)
  }

  /** What the command prints as its result (-o, --json); undefined: the default human output. */
  protected output(): OutputFormat | undefined {
    return (this.ctor as typeof BaseCommand).enableJsonFlag ? outputFormat(this.argv) : undefined
  }

  /**
   * -o json and -o yaml are --json: the same document (success or error), human output silenced.
   * oclif asks this before and after parsing, and from catch() when parsing failed.
   */
  public override jsonEnabled(): boolean {
    return super.jsonEnabled() || isDocumentFormat(this.output())
  }

  /** The document as JSON, or as YAML with -o yaml (same keys, same order). */
  protected override logJson(json: unknown): void {
    if (this.output() === 'yaml') process.stdout.write(renderYamlDocument(json))
    // oclif's logJson runs the text through its JSON colorizer, which with no `theme` configured (this package sets
    // none) gives back the same text: 0.23 of 2.3 CPU-s for a 1,000-image pre-flight's 3 MB document.
    else if (this.config.theme?.json === undefined) process.stdout.write(JSON.stringify(json, null, 2) + '\n')
    else super.logJson(json)
  }

  protected setExit(code: ExitCode): void {
    process.exitCode = code
  }

  protected override async init(): Promise<void> {
    await super.init()
    this.debugEnabled = this.argv.includes('--debug') || process.env.SAFE_DEPLOY_DEBUG === '1'
    const cacheLine = codeCacheLine()
    if (cacheLine !== undefined) this.debugLog(cacheLine)
    quietWarnings(QUIET_WARNINGS, this.debugLog)
    // kubectl's `--flag=true|false` for booleans, before oclif parses.
    const booleans = new Map(
      Object.entries(this.ctor.flags ?? {})
        .filter(([, f]) => f.type === 'boolean')
        .map(([name, f]) => [name, {allowNo: 'allowNo' in f && f.allowNo === true}]),
    )
    this.argv = booleanAssignments(this.argv, booleans)
  }

  /** The --json success document: apiVersion and the command's kind first, then what run() returned (document numbers 1-based). */
  protected override toSuccessJson(result: unknown): unknown {
    const head = {apiVersion: JSON_API_VERSION, kind: (this.ctor as typeof BaseCommand).jsonKind ?? 'Unknown'}
    // First in the document, and never overwritten by a field of the result.
    return {...head, ...(jsonDocumentNumbers(result) as object), ...head}
  }

  /**
   * oclif's parse, then the flag spellings resolved once for every command (src/cli/options.ts
   * resolveFlagSpellings): the deprecated --platform gke|cloudrun and --image-platform, each with a
   * warning on stderr (also under --json: stdout stays data).
   */
  protected override async parse<F extends Output, B extends Output, A extends Output>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const parsed = await super.parse(options, argv)
    const defs = options?.flags ?? this.ctor.flags ?? {}
    const target = defs.target as {options?: readonly string[]} | undefined
    const platform = defs.platform as {hidden?: boolean} | undefined
    const {flags, warnings} = resolveFlagSpellings(parsed.flags, {
      targets: target?.options ?? [],
      imagePlatform: platform !== undefined && platform.hidden !== true,
      targetFromDefault: parsed.metadata.flags.target?.setFromDefault === true,
    })
    for (const w of warnings) process.stderr.write(`warning: ${w}\n`)
    return {...parsed, flags}
  }

  /** The --json error document (kind Error), every string in it redacted (messages, hints, sub-errors, locations). */
  protected override toErrorJson(err: unknown): unknown {
    const head = {apiVersion: JSON_API_VERSION, kind: 'Error'}
    if (err instanceof SafeDeployError) return redactValue({...head, error: jsonDocumentNumbers(err.toJSON()), exitCode: err.exitCode})
    const message = err instanceof Error ? err.message : String(err)
    return redactValue({...head, error: {code: 'INTERNAL', message}, exitCode: EXIT.INTERNAL})
  }

  /** "did you mean --write?" for a mistyped flag, then where the help is. */
  private parseHint(message: string): string {
    const help = `see \`safe-deploy ${this.id?.replaceAll(':', ' ') ?? ''} --help\``.replace(/ +--help/, ' --help')
    const typo = /Nonexistent flags?: --?([A-Za-z0-9-]+)/.exec(message)?.[1]
    const meant = typo === undefined ? undefined : closest(typo, Object.keys(this.ctor.flags ?? {}))
    return meant === undefined ? help : `did you mean --${meant}? (${help})`
  }

  protected override async catch(err: Error & {oclif?: {exit?: number}; exitCode?: number}): Promise<unknown> {
    // oclif's own control flow (this.exit(), --help) passes through untouched.
    if (err instanceof Errors.ExitError) throw err
    // oclif's parser errors (CLIParseError and its kinds) carry the parse they failed; oclif exits 2 for them.
    const isParseError = err instanceof Errors.CLIError && ('parse' in err || err.oclif?.exit === 2)
    const sdErr =
      err instanceof SafeDeployError
        ? err
        : isParseError
          ? new SafeDeployError('USAGE', parseMessage(err.message), {hint: this.parseHint(err.message)})
          : new SafeDeployError('INTERNAL', `internal error: ${redact(err.message)}`, {
              hint: 'this is a bug in safe-deploy; rerun with --debug and report it',
              cause: err,
            })
    process.exitCode = sdErr.exitCode
    // A command with CI output annotates its failure too (an image that did not resolve, at its line).
    // Loaded only then: ci.ts brings the report wiring, which commands without CI output never load.
    if (this.ctor.flags?.['ci-format'] !== undefined) (await import('./ci.js')).writeGithubError(sdErr, flagValue(this.argv, '--ci-format'))
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(sdErr))
    } else {
      process.stderr.write(renderError(sdErr, this.debugEnabled))
    }
    // oclif exits the process: a pipe still holding part of a long error (every image's, in --json) would lose it.
    await Promise.all([flushed(process.stdout), flushed(process.stderr)])
    return this.exit(sdErr.exitCode)
  }
}

/**
 * Process warnings that are noise to a user: google-auth-library probing for a GCE metadata server
 * (MetadataLookupWarning). A missing credential is reported as an error with its next step instead.
 */
const QUIET_WARNINGS: ReadonlySet<string> = new Set(['MetadataLookupWarning'])

/** Send the named process warnings to the debug log instead of stderr (once per process). */
function quietWarnings(types: ReadonlySet<string>, debug: (line: string) => void): void {
  const emit = process.emitWarning as typeof process.emitWarning & {quieted?: true}
  if (emit.quieted) return
  const quieted = ((warning: string | Error, ...rest: unknown[]): void => {
    const first = rest[0]
    const type =
      typeof first === 'string'
        ? first
        : typeof first === 'object' && first !== null && 'type' in first
          ? String(first.type)
          : warning instanceof Error
            ? warning.name
            : ''
    if (types.has(type)) {
      debug(`${type}: ${warning instanceof Error ? warning.message : warning}`)
      return
    }
    ;(emit as (...args: unknown[]) => void).call(process, warning, ...rest)
  }) as typeof process.emitWarning & {quieted?: true}
  quieted.quieted = true
  process.emitWarning = quieted
}

/** Resolves once everything written to the stream so far has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (!stream.writable) resolve()
    else stream.write('', () => resolve())
  })
}

/** `--name value` or `--name=value` from raw argv (the parse may be what failed). */
function flagValue(argv: readonly string[], name: string): string | undefined {
  for (const [i, a] of argv.entries()) {
    if (a === '--') break
    if (a === name) return argv[i + 1]
    if (a.startsWith(name + '=')) return a.slice(name.length + 1)
  }
  return undefined
}

/** oclif's parse messages end with its own "See more help with --help": the hint says it once. */
function parseMessage(message: string): string {
  return message.replace(/\n*See more help with --help\s*$/, '')
}

/** How many affected places a group of errors with one cause names before "and N more". */
const EXAMPLES = 3

/**
 * Human rendering of an error: what and where (the message says where, once), the sub-errors with
 * each cause said once (a cause shared by many images as one line with a count and a few examples),
 * the next step; the cause only with --debug.
 */
export function renderError(err: SafeDeployError, debug = false): string {
  const lines: string[] = []
  lines.push(`Error [${err.code}]: ${redact(err.message)}`)
  const groups = err.groups ?? err.errors.map((e) => ({code: e.code, summary: e.message, hint: e.hint, errors: [e]}))
  for (const g of groups) {
    lines.push(`  - ${redact(g.summary)}`)
    if (g.errors.length > 1) {
      for (const e of g.errors.slice(0, EXAMPLES)) lines.push(`      ${redact(formatLocation(e.location).slice(0, -2) || e.message)}`)
      const more = g.errors.length - EXAMPLES
      if (more > 0) lines.push(`      and ${more} more (every one with --json)`)
    }
    if (g.hint && g.hint !== err.hint) lines.push(`    hint: ${redact(g.hint)}`)
  }
  if (err.hint) lines.push(`Hint: ${redact(err.hint)}`)
  if (debug && err.cause !== undefined) {
    const cause = err.cause instanceof Error ? (err.cause.stack ?? err.cause.message) : String(err.cause)
    lines.push(`Cause: ${redact(cause)}`)
  }
  return lines.join('\n') + '\n'
}
