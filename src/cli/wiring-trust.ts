/** Wiring for `audit`: the adapters behind the ports of src/app/audit.ts, built from the command's flags. */
import type {Clock} from '../core/ports.js'
import {AuditLog, defaultAuditPath} from '../adapters/fs/audit.js'
import {fileExists} from '../adapters/fs/files.js'
import type {AuditProblem, AuditReader} from '../app/audit.js'
import type {AuditRecord} from './audit.js'

// audit

/** The audit log at path (default: $XDG_STATE_HOME/safe-deploy/audit.jsonl); no file: undefined. */
export function auditReader(path: string | undefined): AuditReader<AuditRecord> {
  const file = path ?? defaultAuditPath(process.env)
  return {
    file,
    read: async () => (fileExists(file) ? (await new AuditLog(file).readAll()) as unknown as {records: AuditRecord[]; problems: AuditProblem[]} : undefined),
  }
}

export const systemClock: Clock = {now: () => new Date()}
