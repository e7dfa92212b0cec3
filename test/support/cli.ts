/**
 * Run the built CLI (bin/run.js → the bundle in dist/bundle/) as a user would: a child process with argv, env and
 * stdin; returns exit code, stdout and stderr. `npm test` builds dist/ (`npm run build:dist`) before jest runs.
 */
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = join(ROOT, 'bin/run.js')

/** The oclif manifests the CLI runs with, by plugin (ours and the two plugins package.json registers), relative to ROOT. */
export const OCLIF_MANIFESTS: Array<[plugin: string, file: string]> = [
  ['safe-deploy', 'oclif.manifest.json'],
  ['@oclif/plugin-help', 'node_modules/@oclif/plugin-help/oclif.manifest.json'],
  ['@oclif/plugin-autocomplete', 'node_modules/@oclif/plugin-autocomplete/oclif.manifest.json'],
]

/** Every string in a JSON value (a manifest, or the parts of one), in order. */
export function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap(stringsIn)
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsIn)
  return []
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export interface CliOptions {
  env?: Record<string, string | undefined>
  stdin?: string | Buffer
  cwd?: string
  timeoutMs?: number
}

/** A fresh HOME/XDG_STATE_HOME per call unless given, so no user config or audit log leaks in. */
export function isolatedEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'sd-home-'))
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_STATE_HOME: join(home, 'state'),
    DOCKER_CONFIG: join(home, 'docker'),
    KUBECONFIG: join(home, 'no-kubeconfig'),
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
    // One code cache for every run of the suite, as a user's runs share theirs (src/adapters/fs/code-cache.ts): a
    // new HOME per run would compile the CLI from scratch each time and write a cache nobody reads.
    SAFE_DEPLOY_CODE_CACHE: join(tmpdir(), 'safe-deploy-test-code-cache'),
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v
  return env
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: opts.env ? (opts.env as NodeJS.ProcessEnv) : isolatedEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`CLI timed out: ${args.join(' ')}\n${stderr}`))
    }, opts.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code: code ?? -1, stdout, stderr})
    })
    child.stdin.end(opts.stdin ?? '')
  })
}
