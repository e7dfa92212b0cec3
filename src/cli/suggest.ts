import {SafeDeployError} from '../core/errors.js'

/**
 * kubectl's habits at the command line: "did you mean" for a mistyped command or flag, and
 * `--flag=true|false` for booleans (oclif's parser only knows `--flag` / `--no-flag`).
 */

/** Edit distance (insertions, deletions, substitutions), for suggestions only. */
function distance(a: string, b: string): number {
  let prev = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++)
      row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)))
    prev = row
  }
  return prev[b.length] as number
}

/** The closest candidate, when it is close enough to be what was meant (kubectl suggests within distance 2, or a prefix). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: {c: string; d: number} | undefined
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 0 : distance(word, c)
    if (best === undefined || d < best.d) best = {c, d}
  }
  return best !== undefined && best.d <= Math.max(2, Math.floor(word.length / 3)) ? best.c : undefined
}

/**
 * `--flag=true` → `--flag`, `--flag=false` → dropped (or `--no-flag` where the flag allows it), for the
 * boolean flags of a command; any other value is a usage error. Everything after `--` (kubectl's own
 * arguments) is left as given.
 */
export function booleanAssignments(argv: readonly string[], booleans: ReadonlyMap<string, {allowNo: boolean}>): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--') return [...out, ...argv.slice(i)]
    const m = /^--([A-Za-z0-9][A-Za-z0-9-]*)=(.*)$/s.exec(a)
    const flag = m ? booleans.get(m[1] as string) : undefined
    if (!m || flag === undefined) out.push(a)
    else if (m[2] !== 'true' && m[2] !== 'false') {
      throw new SafeDeployError('USAGE', `--${m[1]} is a boolean flag: give --${m[1]}, --${m[1]}=true or --${m[1]}=false, not "${m[2]}"`)
    } else if (m[2] === 'true') out.push(`--${m[1]}`)
    else if (flag.allowNo) out.push(`--no-${m[1]}`)
  }
  return out
}
