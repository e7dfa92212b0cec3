/**
 * oclif finds each plugin's directory with require.resolve(name, {paths: [root]}); the first such call of a process
 * loads Node's package-exports resolver (about 4 ms of every start here, for two plugins). The bundle first looks for
 * `<root>/node_modules/<name>/package.json` (the `oclif-patches` plugin of esbuild.config.mjs), which is the first
 * place require.resolve looks from `root`. That is the same directory only if oclif's own findRoot, unpatched, finds
 * each plugin there: checked here for every entry of package.json `oclif.plugins`, from the package root as
 * bin/run.js loads it (test/e2e/cli/bundle.test.ts checks that the bundle holds the patched line).
 */
import {describe, expect, it} from '@jest/globals'
import {existsSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {ROOT} from '../../support/cli.js'

// oclif's own find-root module, as published (the bundle's copy is the patched one).
const {findRoot} = createRequire(join(ROOT, 'node_modules/@oclif/core/lib/config/plugin.js'))(join(ROOT, 'node_modules/@oclif/core/lib/util/find-root.js')) as {
  findRoot: (name: string | undefined, root: string) => Promise<string | undefined>
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {oclif: {plugins: string[]}}

describe("oclif finds each plugin in the package's own node_modules, where the bundle looks first", () => {
  it.each(pkg.oclif.plugins)('%s', async (name) => {
    const direct = join(ROOT, 'node_modules', name)
    expect(existsSync(join(direct, 'package.json'))).toBe(true)
    await expect(findRoot(name, ROOT)).resolves.toBe(direct)
  })
})
