import {Flags} from '@oclif/core'
import {BaseCommand, withExitCodes} from '../cli/base.js'
import {outputFlag} from '../cli/flags.js'
import {auditReader, systemClock} from '../cli/wiring-trust.js'
import type {AuditRecord} from '../core/audit.js'
import {listAudit, type AuditListing} from '../app/audit.js'
import {renderAuditRecords} from '../render/text.js'

export default class Audit extends BaseCommand {
  static override summary = 'List and filter the audit log of deploy decisions'
  static override description = withExitCodes(
    'Reads the append-only JSON Lines audit log that apply and run deploy write (one record before and one after each deploy).',
  )
  static override examples = [
    'safe-deploy audit --since 24h',
    'safe-deploy audit --verdict DENY --json',
    'safe-deploy audit --since 2026-11-01T00:00:00Z --audit-log ./audit.jsonl',
  ]
  static override enableJsonFlag = true
  static override jsonKind = 'AuditList'
  static override flags = {
    since: Flags.string({description: 'only records at or after this time (ISO 8601) or age (30m, 24h, 7d)'}),
    verdict: Flags.string({options: ['ALLOW', 'DENY', 'DRYRUN_DENY', 'ALLOW_BREAKGLASS'], description: 'only records with this verdict'}),
    outcome: Flags.string({options: ['started', 'applied', 'blocked', 'failed', 'dry-run', 'aborted'], description: 'only records with this outcome'}),
    'audit-log': Flags.string({description: 'audit log file (default: $XDG_STATE_HOME/safe-deploy/audit.jsonl)'}),
    // Records are not objects with names: the document formats only.
    output: outputFlag(['json', 'yaml']),
  }

  async run(): Promise<AuditListing<AuditRecord>> {
    const {flags} = await this.parse(Audit)
    const listing = await listAudit(
      {since: flags.since, verdict: flags.verdict, outcome: flags.outcome, requireLog: flags['audit-log'] !== undefined},
      {log: auditReader(flags['audit-log']), clock: systemClock},
    )
    this.out(renderAuditRecords(listing.records))
    for (const p of listing.problems) this.say(`warning: ${listing.file}:${p.line}: ${p.message}`)
    this.say(`${listing.records.length} record(s) from ${listing.file}`)
    return listing
  }
}
