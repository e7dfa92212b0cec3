/**
 * The init wizard's terminal: app/init.ts's questions as inquirer prompts on stderr (stdout stays for
 * --json). Ctrl-C at any of them is an abort (exit 9): init writes nothing before its last question.
 */
import {SafeDeployError} from '../core/errors.js'
import {INIT_ABORTED, type InitQuestions} from '../app/init.js'
import {isPromptAbort} from './prompt.js'

const OUT = {output: process.stderr}

async function abortable<T>(ask: () => Promise<T>): Promise<T> {
  try {
    return await ask()
  } catch (err) {
    if (isPromptAbort(err)) throw new SafeDeployError('ABORTED', INIT_ABORTED)
    throw err
  }
}

/** Loaded on the first question only: --yes and CI runs never load inquirer. */
const inquirer = () => import('@inquirer/prompts')

export const terminalQuestions: InitQuestions = {
  select: (message, choices) => abortable(async () => (await inquirer()).select({message, choices}, OUT)),
  input: (message, opts = {}) => abortable(async () => (await inquirer()).input({message, ...opts}, OUT)),
  checkbox: (message, choices) => abortable(async () => (await inquirer()).checkbox({message, choices}, OUT)),
  confirm: (message, defaultAnswer) => abortable(async () => (await inquirer()).confirm({message, default: defaultAnswer}, OUT)),
}
