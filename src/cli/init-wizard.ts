/** The init wizard's terminal: app/init.ts's questions as inquirer prompts on stderr (stdout stays for --json). */
import type {InitQuestions} from '../app/init.js'

const OUT = {output: process.stderr}

/** Loaded on the first question only: --yes and CI runs never load inquirer. */
const inquirer = () => import('@inquirer/prompts')

export const terminalQuestions: InitQuestions = {
  select: async (message, choices) => (await inquirer()).select({message, choices}, OUT),
  input: async (message, opts = {}) => (await inquirer()).input({message, ...opts}, OUT),
  checkbox: async (message, choices) => (await inquirer()).checkbox({message, choices}, OUT),
  confirm: async (message, defaultAnswer) => (await inquirer()).confirm({message, default: defaultAnswer}, OUT),
}
