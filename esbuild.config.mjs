// The published CLI: src/ bundled by esbuild into dist/bundle/ (docs/architecture.md#start-up). Node then reads a
// few files at start-up instead of hundreds (@oclif/core alone is about 180 modules), and the V8 compile cache
// (bin/run.js) covers them all. Heavy dependencies stay outside the bundle, in node_modules, and are reached
// only through dynamic import() on the paths that use them: esbuild turns each such import into its own chunk,
// so `pin` never reads the Google, Kubernetes, Sigstore, OpenPGP or prompt libraries.
// Usage: node esbuild.config.mjs (part of `npm run build`; tsc builds dist/ first for the programmatic API).
import {build} from 'esbuild'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('.', import.meta.url))
const pkg = JSON.parse(readFileSync(root + 'package.json', 'utf8'))
// Small and on every path: inside the bundle. Everything else a dependency brings stays external.
const BUNDLED = new Set(['@oclif/core', 'yaml', 'picocolors', 'p-limit'])
const external = [
  ...Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d)),
  // @oclif/core reaches typescript only to run .ts sources in development (bin/dev.js does not use the bundle).
  'typescript',
]
const outdir = root + 'dist/bundle'
rmSync(outdir, {recursive: true, force: true})
const result = await build({
  absWorkingDir: root,
  entryPoints: {main: 'src/cli/main.ts', commands: 'src/commands/index.ts', 'not-found': 'src/hooks/not-found.ts'},
  // Chunks beside the entries: dist/bundle/ is two levels below the package root, as dist/cli/ is, so
  // src/cli/init.ts finds templates/ the same way in both builds.
  chunkNames: 'chunk-[hash]',
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external,
  // @oclif/core is CommonJS: its require() calls need a require in each ES module chunk.
  banner: {js: "import {createRequire as __sdCreateRequire} from 'node:module'; const require = __sdCreateRequire(import.meta.url);"},
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
})
// Read by test/unit/bundle.test.ts: what each command loads before it runs.
writeFileSync(outdir + '/meta.json', JSON.stringify(result.metafile))
