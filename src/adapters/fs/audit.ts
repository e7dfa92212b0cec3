/**
 * Append-only JSON Lines audit log. Each record is one line written by a single write(2) on a
 * file opened with O_APPEND, then fsynced, so concurrent writers (several processes) never
 * interleave or tear a line. Parent directories are created 0700, the file 0600.
 */
import {constants} from 'node:fs'
import {mkdir, open, readFile} from 'node:fs/promises'
import {hostname, userInfo} from 'node:os'
import {dirname, join} from 'node:path'
import {SafeDeployError} from '../../core/errors.js'
import {redactValue} from '../../core/redact.js'
import {stateDir} from './xdg.js'

/** Largest record accepted (one line, bytes). */
export const MAX_AUDIT_RECORD_BYTES = 1024 * 1024

export interface AuditFilter {
  /** Only records whose `time` is at or after this instant. */
  since?: Date
  /** Only records whose `verdict` equals this. */
  verdict?: string
}

export interface AuditMalformedLine {
  /** 1-based line number in the log. */
  line: number
  text: string
  message: string
}

export interface AuditReadResult {
  records: Array<Record<string, unknown>>
  /** Lines that are not a JSON object (reported, never silently dropped). */
  problems: AuditMalformedLine[]
}

/** `$XDG_STATE_HOME/safe-deploy/audit.jsonl`, or `~/.local/state/safe-deploy/audit.jsonl`. */
export function defaultAuditPath(env: Readonly<Record<string, string | undefined>>): string {
  return join(stateDir(env), 'audit.jsonl')
}

function recordTime(r: Record<string, unknown>): number | undefined {
  const t = r.time ?? r.timestamp
  if (typeof t !== 'string' && typeof t !== 'number') return undefined
  const ms = new Date(t).getTime()
  return Number.isNaN(ms) ? undefined : ms
}

export class AuditLog {
  constructor(readonly path: string) {}

  /**
   * Append one record as one line. The record is written as given (add a `time` field to make
   * `read({since})` work) except that every string in it is redacted: records quote error
   * messages (`detail`), and the log outlives the run; it must be a JSON object.
   */
  async append(record: object): Promise<void> {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      throw new SafeDeployError('INTERNAL', 'audit record must be a JSON object')
    }
    const line = JSON.stringify(redactValue(record)) + '\n'
    const buf = Buffer.from(line, 'utf8')
    if (buf.length > MAX_AUDIT_RECORD_BYTES) {
      throw new SafeDeployError('INTERNAL', `audit record is ${buf.length} bytes, over the ${MAX_AUDIT_RECORD_BYTES}-byte limit`)
    }
    try {
      await mkdir(dirname(this.path), {recursive: true, mode: 0o700})
      const fh = await open(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600)
      try {
        const {bytesWritten} = await fh.write(buf, 0, buf.length)
        if (bytesWritten !== buf.length) throw new Error(`short write (${bytesWritten} of ${buf.length} bytes)`)
        await fh.sync()
      } finally {
        await fh.close()
      }
    } catch (e) {
      if (e instanceof SafeDeployError) throw e
      throw new SafeDeployError('INVALID_INPUT', `cannot append to the audit log ${this.path}: ${e instanceof Error ? e.message : String(e)}`, {
        hint: 'check the audit log path and its permissions (auditLog in the config file)',
        cause: e,
        location: {file: this.path},
      })
    }
  }

  /** Every record, and every malformed line. */
  readAll(): Promise<AuditReadResult> {
    return this.read()
  }

  /** Every record (filtered), and every malformed line with its line number. A missing log is empty. */
  async read(filter: AuditFilter = {}): Promise<AuditReadResult> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (e) {
      if ((e as {code?: unknown}).code === 'ENOENT') return {records: [], problems: []}
      throw new SafeDeployError('INVALID_INPUT', `cannot read the audit log ${this.path}: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
        location: {file: this.path},
      })
    }
    const since = filter.since?.getTime()
    const records: Array<Record<string, unknown>> = []
    const problems: AuditMalformedLine[] = []
    const lines = text.split('\n')
    // A final line without "\n" is a torn write (or a foreign edit): report it like any other bad line.
    lines.forEach((raw, i) => {
      if (raw === '' && i === lines.length - 1) return
      let value: unknown
      try {
        value = JSON.parse(raw)
      } catch (e) {
        problems.push({line: i + 1, text: raw, message: e instanceof Error ? e.message : String(e)})
        return
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        problems.push({line: i + 1, text: raw, message: 'not a JSON object'})
        return
      }
      const rec = value as Record<string, unknown>
      if (filter.verdict !== undefined && rec.verdict !== filter.verdict) return
      if (since !== undefined) {
        const t = recordTime(rec)
        if (t === undefined || t < since) return
      }
      records.push(rec)
    })
    return {records, problems}
  }
}

/** Who deploys: the CI's user when a CI system says so, else user@host. */
export function actor(env: NodeJS.ProcessEnv = process.env): string {
  const ci = env.GITHUB_ACTOR ?? env.GITLAB_USER_LOGIN ?? env.BUILD_REQUESTED_FOR ?? env.CLOUD_BUILD_SERVICE_ACCOUNT
  let user = 'unknown'
  try {
    user = userInfo().username
  } catch {
    /* no passwd entry */
  }
  return ci ? `${ci} (ci)` : `${user}@${hostname()}`
}
