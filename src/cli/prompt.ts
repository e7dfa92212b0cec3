/** Confirmation prompts (inquirer is loaded only in cli/: here and in the init wizard, cli/init-wizard.ts). Never prompts without a TTY or under CI. */
import type {Confirmation} from '../core/deploy.js'

/**
 * Ctrl-C at an inquirer prompt: inquirer rejects with ExitPromptError ("User force closed the prompt with
 * SIGINT"). The one place that knows it; every prompt turns it into an abort (exit 9), never an internal error.
 */
export function isPromptAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'ExitPromptError'
}

export function canPrompt(env: NodeJS.ProcessEnv = process.env): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true && !env.CI
}

/**
 * The deploy gate's confirmation port: --yes grants; no terminal (or CI) makes asking impossible;
 * Ctrl-C at the prompt is a declined deploy (exit 9, ABORTED), not an internal error.
 */
export async function askConfirmation(question: string, yes: boolean, env: NodeJS.ProcessEnv = process.env): Promise<Confirmation> {
  if (yes) return {answer: 'granted'}
  if (!canPrompt(env)) {
    return {
      answer: 'unavailable',
      message: `confirmation required: ${question}`,
      hint: env.CI
        ? 'CI is set, so safe-deploy never prompts: pass --yes to deploy non-interactively'
        : 'stdin is not a terminal: pass --yes to deploy non-interactively',
    }
  }
  const {confirm} = await import('@inquirer/prompts')
  try {
    const ok = await confirm({message: question, default: false}, {output: process.stderr})
    return ok ? {answer: 'granted'} : {answer: 'declined'}
  } catch (err) {
    if (isPromptAbort(err)) return {answer: 'declined', message: 'aborted (Ctrl-C): nothing was deployed'}
    throw err
  }
}
