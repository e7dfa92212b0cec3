#!/usr/bin/env node
// safe-deploy needs Node.js 22 or newer. Where the machine's node is older and the repo's own
// node@22 (a devDependency) is installed, re-run this script under it instead of failing.
import {existsSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  const local = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url))
  if (existsSync(local)) {
    const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {stdio: 'inherit'})
    process.exit(r.status ?? (r.signal ? 128 + 2 : 1))
  }
  process.stderr.write(`safe-deploy needs Node.js >= 22 (found ${process.version}). Install Node 22, or run \`npm ci\` in the repo to get node@22.\n`)
  process.exit(1)
}
const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
