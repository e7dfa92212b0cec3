/** Confirmation prompts (inquirer lives only here). Never prompts without a TTY or under CI. */
import {SafeDeployError} from '../core/errors.js'

export function canPrompt(env: NodeJS.ProcessEnv = process.env): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true && !env.CI
}

/** Ask to proceed, or fail with CONFIRMATION_REQUIRED when asking is impossible and --yes was not given. */
export async function confirmOrFail(question: string, yes: boolean, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (yes) return
  if (!canPrompt(env)) {
    throw new SafeDeployError('CONFIRMATION_REQUIRED', `confirmation required: ${question}`, {
      hint: env.CI ? 'CI is set, so safe-deploy never prompts: pass --yes to deploy non-interactively' : 'stdin is not a terminal: pass --yes to deploy non-interactively',
    })
  }
  const {confirm} = await import('@inquirer/prompts')
  const ok = await confirm({message: question, default: false}, {output: process.stderr})
  if (!ok) throw new SafeDeployError('ABORTED', 'aborted: nothing was deployed')
}
