/**
 * The audit trail of one deploy: every record shares its id, who, what and where; the deploy gate
 * writes them through the AuditSink port. A pre-flight that fails (could not check, invalid trust
 * material, unpinnable input) is itself recorded as "blocked", so the log holds every decision.
 */
import {SafeDeployError} from '../core/errors.js'
import {auditRecord, type AuditBase, type AuditOutcome, type AuditRecord} from '../core/audit.js'
import type {PreflightResult} from '../core/preflight.js'
import type {AuditSink} from '../core/ports.js'

export class AuditTrail {
  /** Set once the objects to send are known; written with every later record. */
  sent: AuditRecord['sent']
  constructor(
    private readonly sink: AuditSink,
    readonly id: string,
    private base: AuditBase,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Once the pre-flight knows the full target (context, cluster, project), later records carry it. */
  retarget(target: AuditBase['target']): void {
    this.base = {...this.base, target}
  }

  record(outcome: AuditOutcome, result: PreflightResult | undefined, detail?: string): Promise<void> {
    return this.sink.append(auditRecord(this.base, this.id, this.now(), outcome, result, {detail, sent: this.sent}))
  }

  /** Run a deploy's pre-flight; a failure other than a usage error is recorded as "blocked" before it propagates. */
  async preflight<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (err) {
      if (err instanceof SafeDeployError && err.code !== 'USAGE') await this.record('blocked', undefined, `not deployed: ${err.code}: ${err.message}`)
      throw err
    }
  }
}
