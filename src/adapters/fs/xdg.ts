/**
 * The XDG base directories safe-deploy keeps its own files under: the audit log in the state directory, the code
 * cache in the cache directory (https://specifications.freedesktop.org/basedir-spec/latest/). Node builtins only:
 * the launcher loads this before every command (src/adapters/fs/code-cache.ts).
 */
import {homedir} from 'node:os'
import {join} from 'node:path'

type Env = Readonly<Record<string, string | undefined>>

/** `$XDG_STATE_HOME/safe-deploy`, or `~/.local/state/safe-deploy`. */
export function stateDir(env: Env): string {
  return join(base(env, 'XDG_STATE_HOME', ['.local', 'state']), 'safe-deploy')
}

/** `$XDG_CACHE_HOME/safe-deploy`, or `~/.cache/safe-deploy`. */
export function cacheDir(env: Env): string {
  return join(base(env, 'XDG_CACHE_HOME', ['.cache']), 'safe-deploy')
}

function base(env: Env, variable: 'XDG_STATE_HOME' | 'XDG_CACHE_HOME', fallback: readonly string[]): string {
  const value = env[variable]
  // The specification: a relative path is invalid and must be ignored.
  return value !== undefined && value.startsWith('/') ? value : join(env.HOME ?? homedir(), ...fallback)
}
