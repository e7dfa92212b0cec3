/**
 * Shared helpers for the reliability suites (test/e2e/reliability): manifest fixtures, byte-exact
 * directory snapshots, temp-file detection, Markdown tables and the figures file each suite
 * writes to tmp/reliability/<suite>.json (copied into docs/RELIABILITY.md).
 */
import {mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {ROOT} from '../../support/cli.js'
import {deployment} from '../../support/fixtures.js'

/**
 * The reliability suites' workload: the shared Deployment builder with the comments whose survival
 * they check (`# pinned by safe-deploy` must stay three spaces after the pinned image).
 */
export const workload = (name: string, image: string, namespace = 'default'): string =>
  deployment(name, image, {
    namespace,
    labels: {app: name},
    container: 'main',
    comment: `workload ${name}: keep this comment`,
    imageComment: 'pinned by safe-deploy',
  })

/** Every regular file under dir (recursive, dotfiles included) → its bytes. */
export function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  const walk = (d: string): void => {
    for (const e of readdirSync(d, {withFileTypes: true})) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile()) out.set(relative(dir, p), readFileSync(p))
    }
  }
  walk(dir)
  return out
}

/** Files that differ between two snapshots (added, removed or changed), by relative path. */
export function diffSnapshots(a: Map<string, Buffer>, b: Map<string, Buffer>): string[] {
  const names = new Set([...a.keys(), ...b.keys()])
  return [...names]
    .filter((n) => {
      const x = a.get(n)
      const y = b.get(n)
      return x === undefined || y === undefined || !x.equals(y)
    })
    .sort()
}

/** Leftover temp files of an atomic write (".name.PID.RAND.tmp") or any other stray dotfile / *.tmp. */
export function tempFiles(dir: string): string[] {
  return [...snapshot(dir).keys()].filter((n) => /(^|\/)\.[^/]*$|\.tmp$/.test(n))
}

export function mdTable(headers: string[], rows: Array<Array<string | number>>): string {
  const esc = (v: string | number): string => String(v).replace(/\|/g, '\\|').replace(/\n/g, ' ')
  return [`| ${headers.map(esc).join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n')
}

/** Write the suite's figures to tmp/reliability/<suite>.json (gitignored) and return the path. */
export function saveFigures(suite: string, data: unknown): string {
  const dir = join(ROOT, 'tmp', 'reliability')
  mkdirSync(dir, {recursive: true})
  const file = join(dir, `${suite}.json`)
  writeFileSync(file, JSON.stringify({suite, at: new Date().toISOString(), node: process.version, data}, null, 2) + '\n')
  return file
}

/** The `error.code` of a --json failure (stdout), or undefined. */
export function jsonErrorCode(stdout: string): string | undefined {
  try {
    const j = JSON.parse(stdout) as {error?: {code?: string}}
    return j.error?.code
  } catch {
    return undefined
  }
}

export function fileSize(p: string): number {
  return statSync(p).size
}

export const ALLOW_ALL_POLICY = `# every image allowed: a registry/API failure must still block (fail closed)
defaultAdmissionRule:
  evaluationMode: ALWAYS_ALLOW
  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG
globalPolicyEvaluationMode: ENABLE
name: projects/test-proj/policy
`
