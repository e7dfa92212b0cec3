/**
 * What the launcher (src/cli/launch.ts) did with the code cache of this run (src/adapters/fs/code-cache.ts), told to
 * the bundle it loaded, so that `--debug` can say it: a support question ("is the cache used?") answered without
 * looking at files.
 */
import type {CachedScript} from '../adapters/fs/code-cache.js'

export interface CodeCacheState {
  cache: CachedScript<unknown>['cache']
  /** The cache directory; undefined when the cache is turned off. */
  dir: string | undefined
}

let state: CodeCacheState | undefined

export function setCodeCacheState(s: CodeCacheState): void {
  state = s
}

/** The debug line, or undefined when the CLI did not start through the launcher (bin/dev.js, tests in-process). */
export function codeCacheLine(): string | undefined {
  if (state === undefined) return undefined
  const what = {
    off: 'off',
    missing: 'none yet (written at the end of this run)',
    used: 'used',
    rejected: 'refused by V8 (written again at the end of this run)',
  }[state.cache]
  return `code cache: ${what}${state.dir === undefined ? '' : ` (${state.dir})`}`
}
