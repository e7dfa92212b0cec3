/**
 * The entry of dist/bundle/cli.cjs (esbuild.config.mjs): the whole CLI in one CommonJS file, which src/cli/launch.ts
 * compiles with a code cache. The commands and the not-found hook load on first use (oclif asks for them only when
 * a command runs), so `--help` runs oclif without compiling or running them. They are require()d: esbuild bundles a
 * require() of a module of src/ and runs that module on the first call, synchronously, which is what oclif's
 * CommonJS command target needs (dist/bundle/commands.cjs). This file runs only in the bundle.
 */
export {main} from './main.js'
export {setCodeCacheState} from './code-cache-state.js'

type Commands = (typeof import('../commands/index.js'))['COMMANDS']
type NotFound = (typeof import('../hooks/not-found.js'))['default']

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const loadCommands = (): Commands => (require('../commands/index.js') as {COMMANDS: Commands}).COMMANDS

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const loadNotFound = (): NotFound => (require('../hooks/not-found.js') as {default: NotFound}).default
