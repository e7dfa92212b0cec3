/**
 * The deploy gate every deploy command goes through (apply with kubectl or the API, Cloud Run's
 * run deploy / run replace): it asks core/deploy.ts what comes next and does it — say the warnings,
 * prepare what will be sent, ask for confirmation, record, send, record. Ports are plain functions,
 * so the whole gate runs in-process with fakes (test/unit/app/deploy-gate.test.ts).
 */
import {SafeDeployError} from '../core/errors.js'
import {decideDeploy, type AuditEntry, type Confirmation, type DeployFacts, type DeployStep} from '../core/deploy.js'

export interface DeployGatePorts {
  /** Append an audit record for this deploy. */
  record(entry: AuditEntry): Promise<void>
  /** Ask the user (or answer for them: --yes, no terminal, CI). */
  confirm(question: string): Promise<Confirmation>
  say(line: string): void
}

export interface DeployGateSteps<T> {
  /** Build and check what will be sent, once the deploy is not blocked (a failure is recorded as blocked). */
  prepare?: () => Promise<void> | void
  /** Send it: the value for the caller and the audit detail. */
  apply: () => Promise<{value: T; detail: string}>
}

export type DeployGateResult<T> = {outcome: 'blocked'; warnings: string[]} | {outcome: 'applied' | 'dry-run'; warnings: string[]; value: T}

export async function runDeployGate<T>(
  facts: Omit<DeployFacts, 'confirmation' | 'applied'>,
  question: string,
  ports: DeployGatePorts,
  steps: DeployGateSteps<T>,
): Promise<DeployGateResult<T>> {
  let current: DeployFacts = facts
  let decision = decideDeploy(current)
  const warnings = decision.warnings
  for (const w of warnings) ports.say(`warning: ${w}`)
  if (decision.step.next === 'stop') return stop(decision.step, ports, warnings)

  if (steps.prepare) {
    try {
      await steps.prepare()
    } catch (err) {
      await ports.record({outcome: 'blocked', detail: message(err)})
      throw err
    }
  }
  if (decision.step.next === 'confirm') {
    current = {...current, confirmation: await ports.confirm(question)}
    decision = decideDeploy(current)
  }
  if (decision.step.next !== 'apply') return stop(decision.step as DeployStep & {next: 'stop'}, ports, warnings)

  await ports.record(decision.step.record)
  let sent: {value: T; detail: string}
  try {
    sent = await steps.apply()
  } catch (err) {
    const failed = decideDeploy({...current, applied: {ok: false, detail: message(err)}}).step
    if (failed.next === 'stop') await ports.record(failed.record)
    throw err
  }
  const done = decideDeploy({...current, applied: {ok: true, detail: sent.detail}}).step
  if (done.next !== 'stop' || (done.outcome !== 'applied' && done.outcome !== 'dry-run'))
    throw new SafeDeployError('INTERNAL', 'deploy gate: no outcome after apply')
  await ports.record(done.record)
  return {outcome: done.outcome, warnings, value: sent.value}
}

async function stop<T>(step: DeployStep & {next: 'stop'}, ports: DeployGatePorts, warnings: string[]): Promise<DeployGateResult<T>> {
  await ports.record(step.record)
  if (step.error) {
    throw new SafeDeployError(step.error.code, step.error.message, step.error.hint === undefined ? {} : {hint: step.error.hint})
  }
  if (step.outcome !== 'blocked') throw new SafeDeployError('INTERNAL', `deploy gate: unexpected stop (${step.outcome})`)
  return {outcome: 'blocked', warnings}
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
