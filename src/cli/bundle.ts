/**
 * The entry of dist/bundle/cli.cjs (esbuild.config.mjs): the whole CLI in one CommonJS file, which src/cli/launch.ts
 * compiles with a code cache. The commands and the not-found hook load on first use (oclif asks for them only when
 * a command runs), so `--help` runs oclif without compiling or running them.
 */
export {main} from './main.js'
export {setCodeCacheState} from './code-cache-state.js'

export const loadCommands = async (): Promise<(typeof import('../commands/index.js'))['COMMANDS']> => (await import('../commands/index.js')).COMMANDS

export const loadNotFound = async (): Promise<(typeof import('../hooks/not-found.js'))['default']> => (await import('../hooks/not-found.js')).default
