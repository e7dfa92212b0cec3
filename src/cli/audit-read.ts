import {SafeDeployError} from '../core/errors.js'
import {AuditLog, defaultAuditPath} from '../adapters/fs/audit.js'
import type {AuditRecord} from '../core/audit.js'

export interface AuditListing {
  file: string
  records: AuditRecord[]
  problems: Array<{line: number; message: string}>
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

export async function readAudit(path: string | undefined, filter: {since?: Date; verdict?: string; outcome?: string}): Promise<AuditListing> {
  const file = path ?? defaultAuditPath(process.env)
  const log = new AuditLog(file)
  const {records, problems} = await log.readAll()
  const out = (records as unknown as AuditRecord[]).filter((r) =>
    (filter.since === undefined || new Date(r.time).getTime() >= filter.since.getTime()) &&
    (filter.verdict === undefined || r.verdict === filter.verdict) &&
    (filter.outcome === undefined || r.outcome === filter.outcome))
  return {file, records: out, problems}
}
