/**
 * An unknown command: say so with kubectl's "Did you mean this?" and exit 127 (the shell's "command
 * not found"); never prompt, so scripts and CI fail the same way a terminal does.
 */
import type {Hook} from '@oclif/core'
import {closest} from '../cli/suggest.js'

const hook: Hook.CommandNotFound = async function (opts) {
  const typed = opts.id.replaceAll(':', ' ')
  const ids = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '))
  const suggestion = closest(typed, ids)
  process.stderr.write(
    `Error [USAGE]: unknown command "${typed}" for "${opts.config.bin}"\n` +
      (suggestion ? `\nDid you mean this?\n\t${suggestion}\n\n` : '') +
      `Hint: run \`${opts.config.bin} --help\` for the list of commands\n`,
  )
  // Nothing else runs for an unknown command; stderr is written synchronously to pipes and terminals.
  await Promise.resolve()
  process.exit(127)
}

export default hook
