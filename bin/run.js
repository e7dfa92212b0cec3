#!/usr/bin/env node
// safe-deploy needs Node.js 22 or newer. Where the machine's node is older and the repo's own
// node@22 (a devDependency) is installed, re-run this script under it instead of failing.
import {existsSync, readFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import module from 'node:module'

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

const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === 'version')) {
  // Fast path: the same line oclif prints, without loading the framework (cold start matters in CI loops).
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${pkg.oclif?.bin ?? pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // Reuse V8's compiled code across runs (Node >= 22.1) for the modules Node loads itself (the entry, the libraries
  // in node_modules); a no-op where unavailable or not writable.
  try {
    module.enableCompileCache?.()
  } catch {
    /* best effort */
  }
  // The bundled CLI (esbuild.config.mjs): main.js compiles oclif and the commands, one file, with a code cache of
  // its own (src/cli/launch.ts); heavy libraries load only in the commands that use them. bin/dev.js runs the
  // unbundled tsc build instead.
  const entry = new URL('../dist/bundle/main.js', import.meta.url)
  let main
  try {
    ;({main} = await import(entry.href))
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes(fileURLToPath(entry))) throw err
    process.stderr.write(`safe-deploy is not built: ${fileURLToPath(entry)} is missing. Run \`npm run build\` in the package.\n`)
    process.exit(1)
  }
  await main(import.meta.url)
}
