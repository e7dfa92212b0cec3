/** Audit records for every deploy decision (append-only JSON Lines, written before and after). */
import {randomUUID} from 'node:crypto'
import {hostname, userInfo} from 'node:os'
import {AuditLog, defaultAuditPath} from '../adapters/fs/audit.js'
import type {PreflightResult} from '../core/preflight.js'
import {SafeDeployError} from '../core/errors.js'

export type AuditOutcome = 'started' | 'applied' | 'blocked' | 'failed' | 'dry-run' | 'aborted'

export interface AuditRecord {
  time: string
  id: string
  command: string
  actor: string
  target: Record<string, unknown>
  verdict: string
  mode: string
  breakGlass: boolean
  justification?: string
  images: Array<{image: string; digest?: string; verdict: string; workload?: string; wouldBe?: string; rule?: {kind: string; key?: string; enforcementMode: string}}>
  /** The objects handed to kubectl or the API, with the image values they carry (after the second look). */
  sent?: Array<{object: string; images: string[]}>
  outcome: AuditOutcome
  detail?: string
}

export function actor(env: NodeJS.ProcessEnv = process.env): string {
  const ci = env.GITHUB_ACTOR ?? env.GITLAB_USER_LOGIN ?? env.BUILD_REQUESTED_FOR ?? env.CLOUD_BUILD_SERVICE_ACCOUNT
  let user = 'unknown'
  try { user = userInfo().username } catch { /* no passwd entry */ }
  return ci ? `${ci} (ci)` : `${user}@${hostname()}`
}

export class Auditor {
  readonly log: AuditLog
  readonly id = randomUUID()
  /** Set once the objects to send are known; written with every later record. */
  sent: AuditRecord['sent']
  constructor(path: string | undefined, private readonly base: Omit<AuditRecord, 'time' | 'id' | 'outcome' | 'detail' | 'images' | 'verdict'>) {
    this.log = new AuditLog(path ?? defaultAuditPath(process.env))
  }

  async record(outcome: AuditOutcome, result: PreflightResult | undefined, detail?: string): Promise<void> {
    const rec: AuditRecord = {
      time: new Date().toISOString(), id: this.id, ...this.base,
      verdict: result?.verdict ?? 'UNKNOWN',
      images: (result?.images ?? []).map((i) => ({
        image: i.image, verdict: i.verdict, ...(i.digest ? {digest: i.digest} : {}), ...(i.workload ? {workload: i.workload} : {}), ...(i.wouldBe ? {wouldBe: i.wouldBe} : {}),
        rule: {kind: i.rule.kind, ...(i.rule.key ? {key: i.rule.key} : {}), enforcementMode: i.rule.enforcementMode},
      })),
      ...(this.sent ? {sent: this.sent} : {}),
      outcome, ...(detail ? {detail} : {}),
    }
    await this.log.append(rec as unknown as Record<string, unknown>)
  }
}

/**
 * Run the pre-flight stage of a deploy command; when it fails (could not check, invalid trust
 * material, unpinnable input) record a "blocked" decision before the error propagates, so the
 * audit log holds every decision, including "nothing deployed because it could not be checked".
 */
export async function auditedPreflight<T>(
  path: string | undefined, base: Omit<AuditRecord, 'time' | 'id' | 'outcome' | 'detail' | 'images' | 'verdict'>, run: () => Promise<T>,
): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof SafeDeployError && err.code !== 'USAGE') {
      await new Auditor(path, base).record('blocked', undefined, `not deployed: ${err.code}: ${err.message}`)
    }
    throw err
  }
}
