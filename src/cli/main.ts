/** The CLI's main, run by src/cli/launch.ts from the bundle (dist/bundle/cli.cjs): oclif from the same file as the commands. */
import {execute, type Interfaces} from '@oclif/core'

/** The exit status a shell reports for a program that SIGPIPE ended (128 + 13): what kubectl gives under `| head`. */
export const EXIT_PIPE_CLOSED = 141

/** Run the command of process.argv; `root` is the package's directory and `pjson` its package.json, read by bin/run.js. */
export async function main(root: string, pjson: Interfaces.PJSON): Promise<void> {
  const closed = dropOutputOnceReaderLeaves()
  await execute({loadOptions: {root, pjson}})
  if (closed() && !process.exitCode) process.exitCode = EXIT_PIPE_CLOSED
}

/**
 * A reader that stops early (`safe-deploy … | head`) closes the pipe, and stdout then fails with EPIPE. The
 * command still finishes its work (an apply and its audit record are not cut short); what it would still print
 * is dropped, since nobody reads it. Without this, oclif's last step waits for stdout to drain, which a closed
 * pipe never does, and Node ends the run with "Detected unsettled top-level await" and status 13.
 */
function dropOutputOnceReaderLeaves(): () => boolean {
  let closed = false
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    closed = true
    // Dropped, yet completed: a writer waiting for its callback goes on.
    process.stdout.write = (_chunk: unknown, encodingOrDone?: unknown, done?: unknown): boolean => {
      const callback = typeof encodingOrDone === 'function' ? encodingOrDone : done
      if (typeof callback === 'function') queueMicrotask(() => (callback as () => void)())
      return true
    }
    // A flush already waiting when the pipe closed is released too.
    process.stdout.emit('drain')
  })
  return () => closed
}
