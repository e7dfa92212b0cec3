/**
 * Run the built CLI under a pseudo-terminal (test/e2e/onboarding/pty-drive.py: python3's pty module
 * forks it, waits for each expected text, then types the keys). CI is removed from the child's
 * environment: with CI set safe-deploy never prompts.
 */
import {execFile} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {BIN} from './cli.js'

const DRIVER = fileURLToPath(new URL('../e2e/onboarding/pty-drive.py', import.meta.url))

export interface Driven {
  ok: boolean
  exitCode: number
  failedStep: number | null
  /** What the terminal received, escape codes (ANSI) stripped and "\r" removed. */
  output: string
  /** What the terminal received, byte for byte (colours, cursor moves, "\r"). */
  raw: string
}

/** `safe-deploy ARGS` under a pty with `env` (TERM set, CI removed), answering [expect, send] steps. */
/** `root`: the repository the CLI and the driver are taken from (the demo runs compiled elsewhere, with the repository given). */
export function drivePty(
  args: string[],
  env: Record<string, string>,
  steps: Array<[string, string]>,
  keepCi = false,
  where: {cwd?: string; root?: string} = {},
): Promise<Driven> {
  const cwd = where.cwd
  const bin = where.root === undefined ? BIN : join(where.root, 'bin/run.js')
  const driver = where.root === undefined ? DRIVER : join(where.root, 'test/e2e/onboarding/pty-drive.py')
  const childEnv: Record<string, string> = {TERM: 'xterm', ...env}
  if (!keepCi) delete childEnv.CI
  const script = join(mkdtempSync(join(tmpdir(), 'sd-pty-')), 'script.json')
  writeFileSync(script, JSON.stringify({argv: [process.execPath, bin, ...args], env: childEnv, steps, timeout: 30, ...(cwd === undefined ? {} : {cwd})}))
  return new Promise((resolve, reject) => {
    execFile('python3', [driver, script], {timeout: 90_000, maxBuffer: 16 * 1024 * 1024}, (err, stdout, stderr) => {
      if (err) return reject(new Error(`pty driver failed: ${err.message}\n${stderr}`))
      resolve(JSON.parse(stdout) as Driven)
    })
  })
}
