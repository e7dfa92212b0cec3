/**
 * The published CLI's entry (bin/run.js → dist/bundle/main.cjs): it loads the CLI's one CommonJS file,
 * dist/bundle/cli.cjs, with the code cache of src/adapters/fs/code-cache.ts, and runs it. dist/bundle/commands.cjs
 * and not-found.cjs, which oclif requires by the paths in package.json, hand over the same file's commands and hook
 * (esbuild.config.mjs writes them).
 */
import {fileURLToPath} from 'node:url'
import {cachePartition, codeCacheDir, runWithCodeCache} from '../adapters/fs/code-cache.js'
import type * as Bundle from './bundle.js'

let loaded: typeof Bundle | undefined

/** The CLI's code, compiled and run once per process. */
export function cli(): typeof Bundle {
  if (loaded) return loaded
  const file = fileURLToPath(new URL('./cli.cjs', import.meta.url))
  const dir = codeCacheDir(process.env)
  const run = runWithCodeCache<typeof Bundle>(
    file,
    dir,
    cachePartition(process.argv.slice(2), [...process.execArgv, process.env.NODE_OPTIONS ?? '']),
    (url) => import(url),
  )
  run.exports.setCodeCacheState({cache: run.cache, dir: run.cache === 'off' ? undefined : dir})
  // At the very end, when V8 has compiled everything this run needed; an interrupted run (Ctrl-C) saves nothing.
  process.once('exit', run.save)
  loaded = run.exports
  return loaded
}

export async function main(root: string, pjson: Parameters<(typeof Bundle)['main']>[1]): Promise<void> {
  await cli().main(root, pjson)
}
