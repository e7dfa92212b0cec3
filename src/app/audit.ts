/**
 * `safe-deploy audit`: list the audit log of deploy decisions (the JSON Lines log apply and run
 * deploy write), filtered by time, verdict and outcome. Malformed lines are passed on, never dropped.
 */
import {SafeDeployError} from '../core/errors.js'
import type {Clock} from '../core/ports.js'

export interface AuditProblem {
  /** 1-based line number in the log. */
  line: number
  message: string
}

/** The audit log, read whole. */
export interface AuditReader<R = Record<string, unknown>> {
  /** The log file (named in messages and in the listing). */
  readonly file: string
  /** Every record and every malformed line; undefined when there is no log file at all. */
  read(): Promise<{records: R[]; problems: AuditProblem[]} | undefined>
}

/** The fields the filters look at. */
export interface AuditRecordFields {
  time: string
  verdict: string
  outcome: string
}

export interface AuditListOptions {
  /** The log was named on the command line (--audit-log), so it must exist; no log at the default path is just no records. */
  requireLog?: boolean | undefined
  /** ISO 8601 time, or an age like 30m / 24h / 7d before now. */
  since?: string | undefined
  verdict?: string | undefined
  outcome?: string | undefined
}

export interface AuditListing<R> {
  file: string
  records: R[]
  problems: AuditProblem[]
}

export async function listAudit<R extends AuditRecordFields>(options: AuditListOptions, ports: {log: AuditReader<R>; clock: Clock}): Promise<AuditListing<R>> {
  const since = options.since ? parseSince(options.since, ports.clock.now()) : undefined
  const {records, problems} = (await readAuditLog(ports.log, options.requireLog === true)) ?? {records: [], problems: []}
  const out = records.filter(
    (r) =>
      (since === undefined || new Date(r.time).getTime() >= since.getTime()) &&
      (options.verdict === undefined || r.verdict === options.verdict) &&
      (options.outcome === undefined || r.outcome === options.outcome),
  )
  return {file: ports.log.file, records: out, problems}
}

/**
 * The log's records, or undefined when there is no log file at all; a log named with --audit-log
 * (`named`) must exist: INVALID_INPUT otherwise, never a silent "0 records".
 */
export async function readAuditLog<R>(log: AuditReader<R>, named: boolean): Promise<{records: R[]; problems: AuditProblem[]} | undefined> {
  const read = await log.read()
  if (read === undefined && named) {
    throw new SafeDeployError('INVALID_INPUT', `--audit-log ${log.file} does not exist`, {
      hint: 'apply and run deploy write the audit log (default: $XDG_STATE_HOME/safe-deploy/audit.jsonl); check the path, or omit --audit-log to read the default log',
      location: {file: log.file},
    })
  }
  return read
}

/** ISO time, or an age like 30m / 24h / 7d before now. */
export function parseSince(value: string, now: Date): Date {
  const m = /^(\d+)\s*([smhdw])$/.exec(value.trim())
  if (m) {
    const unit = {s: 1, m: 60, h: 3600, d: 86400, w: 604800}[m[2] as 's' | 'm' | 'h' | 'd' | 'w']
    return new Date(now.getTime() - Number(m[1]) * unit * 1000)
  }
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) throw new SafeDeployError('USAGE', `--since expects an ISO 8601 time or an age like 24h or 7d, got "${value}"`)
  return d
}
