#!/usr/bin/env node
// The safe-deploy command. CommonJS (bin/package.json), like everything Node loads before a command runs
// (dist/bundle/main.cjs, cli.cjs): an ES module entry would start Node's module loader, about 4 ms of every start
// (docs/architecture.md#start-up).
'use strict'
const {existsSync, readFileSync} = require('node:fs')
const {join} = require('node:path')

// safe-deploy needs Node.js 22 or newer. Where the machine's node is older and the repo's own
// node@22 (a devDependency) is installed, re-run this script under it instead of failing.
const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  const local = join(__dirname, '..', 'node_modules', 'node', 'bin', 'node')
  if (existsSync(local)) {
    const r = require('node:child_process').spawnSync(local, [__filename, ...process.argv.slice(2)], {stdio: 'inherit'})
    process.exit(r.status ?? (r.signal ? 128 + 2 : 1))
  }
  process.stderr.write(`safe-deploy needs Node.js >= 22 (found ${process.version}). Install Node 22, or run \`npm ci\` in the repo to get node@22.\n`)
  process.exit(1)
}

// The package root, found from this file (npm's and krew's symlinks are resolved by Node), and its package.json,
// which oclif would otherwise look for by walking up from here.
const root = join(__dirname, '..')
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === 'version')) {
  // Fast path: the same line oclif prints, without loading the framework (cold start matters in CI loops).
  process.stdout.write(`${pjson.oclif?.bin ?? pjson.name}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // Reuse V8's compiled code across runs (Node >= 22.1) for the modules Node loads itself (the entry, the libraries
  // in node_modules); a no-op where unavailable or not writable.
  try {
    require('node:module').enableCompileCache?.()
  } catch {
    /* best effort */
  }
  // The bundled CLI (esbuild.config.mjs): main.cjs compiles oclif and the commands, one file, with a code cache of
  // its own (src/cli/launch.ts); heavy libraries load only in the commands that use them. bin/dev.js runs the
  // unbundled tsc build instead.
  const entry = join(root, 'dist', 'bundle', 'main.cjs')
  let launcher
  try {
    launcher = require(entry)
  } catch (err) {
    if (err?.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes(entry)) throw err
    process.stderr.write(`safe-deploy is not built: ${entry} is missing. Run \`npm run build\` in the package.\n`)
    process.exit(1)
  }
  launcher.main(root, pjson)
}
