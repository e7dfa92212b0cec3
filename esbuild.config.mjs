// The published CLI: src/ bundled by esbuild into dist/bundle/ (docs/architecture.md#start-up). Node then reads a
// few files at start-up instead of hundreds (@oclif/core alone is about 180 modules), and the V8 compile cache
// (bin/run.js) covers them all. Heavy dependencies stay outside the bundle, in node_modules, and are reached
// only through dynamic import() on the paths that use them: esbuild turns each such import into its own chunk,
// so `pin` never reads the Google, Kubernetes, Sigstore, OpenPGP or prompt libraries.
// Usage: node esbuild.config.mjs (part of `npm run build`; tsc builds dist/ first for the programmatic API).
import {build} from 'esbuild'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {createRequire} from 'node:module'

const root = fileURLToPath(new URL('.', import.meta.url))
const pkg = JSON.parse(readFileSync(root + 'package.json', 'utf8'))
// Small and on every path: inside the bundle. So is client-node, large and on two paths (scan, the API applier),
// because from node_modules its 1,092 modules cost ~0.8 CPU-s to load (src/adapters/k8s/client-node.ts names the
// parts kept). Everything else a dependency brings stays external.
const BUNDLED = new Set(['@oclif/core', 'yaml', 'picocolors', 'p-limit', '@kubernetes/client-node'])
const external = [
  ...Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d)),
  // @oclif/core reaches typescript only to run .ts sources in development (bin/dev.js does not use the bundle).
  'typescript',
]
const outdir = root + 'dist/bundle'

// CommonJS packages that @oclif/core require()s when its modules load but calls only later, on paths a run
// rarely takes: tinyglobby (with fdir and picomatch) finds command files by pattern, which the explicit command
// strategy never does; semver serves oclif's own engine check, which bin/run.js has already made (and which,
// bundled, stops before calling it: it looks for oclif's package.json beside a __dirname an ES module lacks);
// minimatch matches plugin names that are patterns, which ours are not (the plugin-loader patch below); ejs renders
// help text that holds a template (an example's `<%= config.bin %>`), and cli-spinners (48 KB of JSON) draws
// oclif's spinner, which safe-deploy does not use.
// Each require() of them from the bundle returns a stand-in that loads the real package on the first property
// read, so a start that never calls them never evaluates them. oclif reads `__esModule` of each at once
// (TypeScript's __importDefault); the stand-in answers it as the real package does, read here at build time.
const LAZY = /^(tinyglobby|semver|minimatch|ejs|cli-spinners)$/
const requireHere = createRequire(import.meta.url)
const lazyRequire = {
  name: 'lazy-require',
  setup(b) {
    b.onResolve({filter: LAZY}, (args) =>
      args.kind === 'require-call' && args.namespace !== 'lazy' ? {path: args.path, namespace: 'lazy', pluginData: args.resolveDir} : undefined,
    )
    b.onLoad({filter: /.*/, namespace: 'lazy'}, (args) => {
      const esModule = requireHere(requireHere.resolve(args.path, {paths: [args.pluginData]})).__esModule
      return {
        contents:
          `let real\nconst load = () => (real ??= require(${JSON.stringify(args.path)}))\n` +
          `module.exports = new Proxy({}, {get: (_, key) => (key === '__esModule' ? ${JSON.stringify(esModule)} : load()[key]), has: (_, key) => key in load()})\n`,
        resolveDir: args.pluginData,
        loader: 'js',
      }
    })
  },
}
// node:crypto as src/ imports it, taken on first use: a module of src/ that imports a builtin loads it when that
// module loads, and node:crypto brings its key, cipher and WebCrypto modules along: about 3 ms of `pin -f`, which
// hashes and verifies nothing. Each import from src/ resolves to a module whose exports call the
// builtin's function through process.getBuiltinModule, as src/adapters/registry/transport.ts takes node:http. Only the
// names listed are exported: importing another name from src/ stops the build here, to be looked at (a class could
// not be wrapped like this, for `new` and instanceof). (node:child_process is not worth it: oclif requires it as it
// loads.) test/e2e/cli/bundle.test.ts checks that `pin -f` and `--help` do not load node:crypto.
const LAZY_BUILTINS = {
  'node:crypto': {functions: ['createHash', 'createPrivateKey', 'createPublicKey', 'randomBytes', 'randomUUID', 'sign', 'verify'], objects: ['constants']},
}
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({filter: new RegExp(`^(${Object.keys(LAZY_BUILTINS).join('|')})$`)}, (args) =>
      args.kind === 'import-statement' && args.importer.startsWith(root + 'src') ? {path: args.path, namespace: 'lazy-builtin'} : undefined,
    )
    b.onLoad({filter: /.*/, namespace: 'lazy-builtin'}, (args) => {
      const {functions, objects} = LAZY_BUILTINS[args.path]
      const real = `process.getBuiltinModule(${JSON.stringify(args.path)})`
      return {
        contents: [
          ...functions.map((f) => `export const ${f} = (...args) => ${real}.${f}(...args)`),
          ...objects.map((o) => `export const ${o} = new Proxy({}, {get: (_, key) => ${real}.${o}[key], has: (_, key) => key in ${real}.${o}})`),
        ].join('\n'),
        loader: 'js',
      }
    })
  },
}
// Lines of @oclif/core (and of string-width, which its help measures every line with) replaced in the bundle: six that
// cost runs time for nothing this CLI needs, and one that the bundle's format needs. Each must be found exactly as
// often as it says (once unless `count`), or the build stops: an update is then looked at, not silently left slow or
// broken.
// - lib/util/os.js names the platform `wsl` under Windows' Linux subsystem, by importing wsl-utils and is-wsl (their
//   own chunk, with node:child_process, node:util and node:fs/promises as ES modules, and reads of /proc): 3–5 ms of
//   every start here. Only oclif's user agent (`safe-deploy --version --debug`) shows it, and bin/run.js's --version
//   already prints process.platform there (`linux-x64` under WSL too); the bundle takes process.platform throughout.
// - lib/config/plugin-loader.js matches every dependency against every entry of oclif.plugins with minimatch, which
//   compiles a pattern for each pair: about 4 ms of every start, for two plugins named in full. An entry that is a
//   valid npm package name holds no glob syntax (npm names have no * ? [ ] { } ( ) ! +), so it is compared as it is
//   and only other entries go to minimatch; test/unit/cli/plugin-match.test.ts checks that both find the same plugins.
// - lib/config/plugin.js sorts each plugin's command ids with String#localeCompare as the plugin loads. The first
//   localeCompare of a process builds ICU's collator, about 12 ms here (a tenth of `--help`), and nothing else on a
//   normal start needs it. The ordinal comparison is the one oclif's help sorts commands with (util's compare);
//   test/unit/cli/command-order.test.ts checks that both orders agree for every command id we ship.
// - lib/help/util.js renders every help string (each flag's description, each summary) as an EJS template, which
//   compiles a function per string: about 7 ms of `pin --help`. A string with no EJS delimiter renders as itself
//   (test/unit/cli/help-render.test.ts checks it for every string of every command), so only the others go to EJS.
// - lib/module-loader.js imports the ES modules oclif loads by path (our commands.js and not-found.js, the plugins'
//   commands) with import(), which a script compiled by node:vm cannot run (dist/bundle/cli.cjs, below). It calls
//   __sdImport instead: the launcher's own import(), handed to the script by src/adapters/fs/code-cache.ts.
// - lib/util/find-root.js finds each plugin's directory with require.resolve(name, {paths: [root]}); the first such
//   call of a process loads Node's package-exports resolver, about 4 ms of every start here. It first looks for
//   <root>/node_modules/<name>/package.json, the first place require.resolve looks from root, and takes that directory;
//   elsewhere (a hoisted install) oclif's search runs as before. test/unit/cli/plugin-root.test.ts checks that oclif's
//   own findRoot finds each of our plugins in that very directory.
// - string-width (4.x, through oclif's help and wrap-ansi) strips ANSI codes and runs a regular expression of every
//   emoji over each string it measures: about 4 ms of `pin --help`. A string of printable ASCII alone (space to ~) has
//   no escape code and no emoji, and each of its characters is one column wide, so its width is its length;
//   test/unit/cli/string-width.test.ts checks both agree on every line of every help page.
const NPM_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/
const PATCHES = [
  {
    file: '@oclif/core/lib/util/os.js',
    from: "return (await import('wsl-utils')).isWsl ? 'wsl' : (0, node_os_1.platform)();",
    to: 'return (0, node_os_1.platform)();',
  },
  {
    file: '@oclif/core/lib/config/plugin-loader.js',
    from: 'return Object.keys(dependencies).filter((p) => patterns.some((w) => (0, minimatch_1.minimatch)(p, w)));',
    to: `return Object.keys(dependencies).filter((p) => patterns.some((w) => (${NPM_NAME}.test(w) ? p === w : (0, minimatch_1.minimatch)(p, w))));`,
  },
  {
    file: '@oclif/core/lib/config/plugin.js',
    from: '.sort((a, b) => a.id.localeCompare(b.id));',
    to: '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));',
  },
  {
    file: '@oclif/core/lib/help/util.js',
    from: 'return ejs_1.default.render(t, context);',
    to: "return t.includes('<%') || t.includes('%>') ? ejs_1.default.render(t, context) : t;",
  },
  {
    file: '@oclif/core/lib/module-loader.js',
    from: 'await import((0, node_url_1.pathToFileURL)(filePath).href)',
    to: 'await __sdImport((0, node_url_1.pathToFileURL)(filePath).href)',
    count: 3,
  },
  {
    file: '@oclif/core/lib/util/find-root.js',
    from: '            pkgPath = require.resolve(name, { paths: [root] });\n',
    to: "            if ((0, fs_1.existsSync)((0, node_path_1.join)(root, 'node_modules', name, 'package.json'))) return (0, node_path_1.join)(root, 'node_modules', name);\n            pkgPath = require.resolve(name, { paths: [root] });\n",
  },
  {
    file: 'string-width/index.js',
    from: "\tif (typeof string !== 'string' || string.length === 0) {\n\t\treturn 0;\n\t}\n",
    to: "\tif (typeof string !== 'string' || string.length === 0) {\n\t\treturn 0;\n\t}\n\tif (/^[\\x20-\\x7e]*$/.test(string)) {\n\t\treturn string.length;\n\t}\n",
  },
]
const patched = new Set()
const oclifPatches = {
  name: 'oclif-patches',
  setup(b) {
    // Every module of oclif's lib/ (and string-width's) comes here; PATCHES alone says which are changed.
    b.onLoad({filter: /node_modules[\\/](@oclif[\\/]core[\\/]lib[\\/].*|string-width[\\/]index)\.js$/}, (args) => {
      const path = args.path.replaceAll('\\', '/')
      const patches = PATCHES.filter((p) => path.endsWith('/node_modules/' + p.file))
      if (patches.length === 0) return undefined
      let source = readFileSync(args.path, 'utf8')
      for (const patch of patches) {
        const count = patch.count ?? 1
        if (source.split(patch.from).length !== count + 1) throw new Error(`oclif-patches: "${patch.from}" is not in ${args.path} exactly ${count} time(s)`)
        source = source.replaceAll(patch.from, patch.to)
        patched.add(patch.file)
      }
      return {contents: source, loader: 'js'}
    })
  },
}
// The Kubernetes client, cut down by src/adapters/k8s/client-node.ts, is a CommonJS file of its own beside cli.cjs
// (3.4 MB that only the scan and the API applier load): the CLI's dynamic import('./client-node.js') becomes a
// require of it, resolved from cli.cjs.
const clientNodeApart = {
  name: 'client-node-apart',
  setup(b) {
    b.onResolve({filter: /^\.\/client-node\.js$/}, (args) =>
      args.importer.endsWith('/src/adapters/k8s/api.ts') || args.importer.endsWith('/src/adapters/k8s/pods.ts')
        ? {path: './client-node.cjs', external: true}
        : undefined,
    )
  },
}
rmSync(outdir, {recursive: true, force: true})
// Both builds print CommonJS (.cjs). src/cli/init.ts and src/cli/launch.ts find files beside their own with
// import.meta.url, which CommonJS lacks: it is the output file's URL. dist/bundle/ is two levels below the package root,
// as dist/cli/ is, so templates/ is found the same way in both builds.
const common = {
  absWorkingDir: root,
  outdir,
  outExtension: {'.js': '.cjs'},
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  external,
  define: {'import.meta.url': '__sdImportMetaUrl'},
  banner: {js: "var __sdImportMetaUrl = require('node:url').pathToFileURL(__filename).href;"},
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
}
// 1. The CLI: src/ with oclif, yaml and the small libraries, one CommonJS file that src/cli/launch.ts compiles with a
// code cache taken after a run (src/adapters/fs/code-cache.ts). CommonJS because only a script, not an ES module, can
// be compiled with such a cache. A dynamic import() of a library becomes a require() inside the promise, so that the
// file holds no import() (a script compiled by node:vm has no module loader for it), and the libraries still load
// only on the paths that use them; require() of an ES-module library is Node 22's require(esm).
const cliBuild = await build({
  ...common,
  entryPoints: {cli: 'src/cli/bundle.ts', 'client-node': 'src/adapters/k8s/client-node.ts'},
  supported: {'dynamic-import': false},
  charset: 'ascii',
  minifyWhitespace: true,
  plugins: [lazyRequire, lazyBuiltins, oclifPatches, clientNodeApart],
})
// 2. The launcher bin/run.js requires, dist/bundle/main.cjs (src/cli/launch.ts): it loads cli.cjs once. CommonJS, as
// everything before a command runs: an ES module there would start Node's module loader (about 4 ms of a start).
const launchBuild = await build({
  ...common,
  entryPoints: {main: 'src/cli/launch.ts'},
})
// 3. The two files oclif requires by the paths in package.json (oclif.commands, oclif.hooks): the commands and the
// not-found hook of the cli.cjs that main.cjs loaded (one module instance: the one bin/run.js required).
writeFileSync(`${outdir}/commands.cjs`, `// Written by esbuild.config.mjs.\nmodule.exports = {COMMANDS: require('./main.cjs').cli().loadCommands()}\n`)
writeFileSync(`${outdir}/not-found.cjs`, `// Written by esbuild.config.mjs.\nmodule.exports = require('./main.cjs').cli().loadNotFound()\n`)
// cli.cjs in ASCII, which src/adapters/fs/code-cache.ts reads as Latin-1 (UTF-8 decoding cost about 4 ms of every
// start). esbuild escapes what it prints in strings and identifiers but copies regular expressions as they are, and
// one of oclif's libraries (ansis) has a raw U+009B in one. C1 control characters can only stand inside a literal or a
// comment (they are neither identifier characters nor whitespace in JavaScript), where \u00XX means the same
// character. bundle.test.ts checks that the file is ASCII; if a library ever brings another raw character, the
// loader decodes UTF-8 as before.
{
  const file = `${outdir}/cli.cjs`
  const text = readFileSync(file, 'utf8')
  writeFileSync(
    file,
    text.replace(/[\u0080-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  )
}
// Read by test/e2e/cli/bundle.test.ts and the start-up benchmark: what each output file holds and imports.
writeFileSync(outdir + '/meta.json', JSON.stringify({outputs: {...cliBuild.metafile.outputs, ...launchBuild.metafile.outputs}}))
// A patched file that no longer reaches the bundle (oclif moved it) must not pass unnoticed either.
const unpatched = PATCHES.filter((p) => !patched.has(p.file)).map((p) => p.file)
if (unpatched.length > 0) throw new Error(`oclif-patches: not in the bundle: ${unpatched.join(', ')}`)
