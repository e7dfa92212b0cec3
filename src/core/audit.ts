/**
 * The audit record of a deploy decision (append-only JSON Lines, docs/architecture.md#audit-log):
 * one record before anything is sent ("started") and one after, or one "blocked"/"aborted" record
 * when nothing is sent. Pure: building the record; the log itself is a port (AuditSink).
 */
import type {AuditOutcome} from './deploy.js'
import type {PreflightResult} from './preflight.js'

export type {AuditOutcome} from './deploy.js'

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
  images: Array<{
    image: string
    digest?: string
    verdict: string
    workload?: string
    wouldBe?: string
    rule?: {kind: string; key?: string; enforcementMode: string}
  }>
  /** Image-like values no image rule examined, deployed with --allow-unexamined-images (never pinned nor evaluated). */
  unexamined?: Array<{file: string; line: number; object: string; path: string; value: string}>
  /** The objects handed to kubectl or the API, with the image values they carry (after the second look). */
  sent?: Array<{object: string; images: string[]}>
  outcome: AuditOutcome
  detail?: string
}

/** What every record of one deploy shares. */
export type AuditBase = Omit<AuditRecord, 'time' | 'id' | 'outcome' | 'detail' | 'images' | 'verdict' | 'sent' | 'unexamined'>

export function auditRecord(
  base: AuditBase,
  id: string,
  time: Date,
  outcome: AuditOutcome,
  result: PreflightResult | undefined,
  o: {detail?: string | undefined; sent?: AuditRecord['sent']} = {},
): AuditRecord {
  return {
    time: time.toISOString(),
    id,
    ...base,
    verdict: result?.verdict ?? 'UNKNOWN',
    images: (result?.images ?? []).map((i) => ({
      image: i.image,
      verdict: i.verdict,
      ...(i.digest ? {digest: i.digest} : {}),
      ...(i.workload ? {workload: i.workload} : {}),
      ...(i.wouldBe ? {wouldBe: i.wouldBe} : {}),
      rule: {kind: i.rule.kind, ...(i.rule.key ? {key: i.rule.key} : {}), enforcementMode: i.rule.enforcementMode},
    })),
    ...(result?.unexamined?.length
      ? {unexamined: result.unexamined.map((u) => ({file: u.file, line: u.line, object: `${u.kind}/${u.name}`, path: u.path, value: u.value}))}
      : {}),
    ...(o.sent ? {sent: o.sent} : {}),
    outcome,
    ...(o.detail ? {detail: o.detail} : {}),
  }
}
