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

// CommonJS packages that @oclif/core require()s when its modules load but calls only later, on paths a run
// rarely takes: tinyglobby (with fdir and picomatch) finds command files by pattern, which the explicit command
// strategy never does; semver serves oclif's own engine check, which bin/run.js has already made (and which,
// bundled, stops before calling it: it looks for oclif's package.json beside a __dirname an ES module lacks).
// Each require() of them from the bundle returns a stand-in that loads the real package on the first property
// read, so a start that never calls them never evaluates them.
const LAZY = /^(tinyglobby|semver)$/
const lazyRequire = {
  name: 'lazy-require',
  setup(b) {
    b.onResolve({filter: LAZY}, (args) =>
      args.kind === 'require-call' && args.namespace !== 'lazy' ? {path: args.path, namespace: 'lazy', pluginData: args.resolveDir} : undefined,
    )
    b.onLoad({filter: /.*/, namespace: 'lazy'}, (args) => ({
      contents:
        `let real\nconst load = () => (real ??= require(${JSON.stringify(args.path)}))\n` +
        'module.exports = new Proxy({}, {get: (_, key) => load()[key], has: (_, key) => key in load()})\n',
      resolveDir: args.pluginData,
      loader: 'js',
    }))
  },
}
// @oclif/core sorts each plugin's command ids with String#localeCompare as the plugin loads, on every run. The first
// localeCompare of a process builds ICU's collator, about 12 ms here (a tenth of `--help`), and nothing else on a
// normal start needs it. The ordinal comparison below is the one oclif's own help sorts commands with (util's
// compare); test/unit/cli/command-order.test.ts checks that both orders agree for every command id we ship. The build
// stops if oclif's source changes, rather than silently keep the slow sort.
const OCLIF_SORT = '.sort((a, b) => a.id.localeCompare(b.id));'
const ordinalSort = {
  name: 'oclif-ordinal-sort',
  setup(b) {
    b.onLoad({filter: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/}, (args) => {
      const source = readFileSync(args.path, 'utf8')
      if (source.split(OCLIF_SORT).length !== 2) throw new Error(`oclif-ordinal-sort: ${OCLIF_SORT} not found once in ${args.path}`)
      return {contents: source.replace(OCLIF_SORT, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));'), loader: 'js'}
    })
  },
}
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
  plugins: [lazyRequire, ordinalSort],
  // @oclif/core is CommonJS: its require() calls need a require in each ES module chunk.
  banner: {js: "import {createRequire as __sdCreateRequire} from 'node:module'; const require = __sdCreateRequire(import.meta.url);"},
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
})
// Read by test/unit/bundle.test.ts: what each command loads before it runs.
writeFileSync(outdir + '/meta.json', JSON.stringify(result.metafile))
