/**
 * The published CLI is the bundle (esbuild.config.mjs, docs/architecture.md#start-up): a small CommonJS launcher and
 * one CommonJS file, dist/bundle/cli.cjs, compiled with a code cache; the heavy libraries stay outside it and load
 * only on the paths that use them. Checked on esbuild's metafile (what each file holds and imports), on real runs
 * (every module Node loads, recorded by a hook), and on the code cache a run leaves behind.
 * Needs dist/ (npm run build:dist).
 */
import {describe, expect, it} from '@jest/globals'
import {existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {isAscii} from 'node:buffer'
import {spawnSync} from 'node:child_process'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BIN, ROOT, isolatedEnv, runCli} from '../../support/cli.js'
import {bundleMetaFile, chunksHolding, packageOf, readBundleMeta, type BundleMeta} from '../../support/bundle-meta.js'

const HEAVY = /^(@google-cloud\/|@grpc\/|google-auth-library|@kubernetes\/|@sigstore\/|@inquirer\/|openpgp)/
const META = bundleMetaFile(ROOT)

/** Runs the CLI with a module hook: its exit code, its output and every module URL Node loaded. */
function run(args: string[], cwd: string, env: Record<string, string> = {}): {code: number | null; stdout: string; stderr: string; modules: string[]} {
  const hook = `import module from 'node:module'; import {writeSync} from 'node:fs'; const seen = new Set();
    module.registerHooks({load(url, ctx, next) { seen.add(url); return next(url, ctx) }});
    process.on('exit', () => writeSync(2, '\\nLOADED ' + JSON.stringify([...seen]) + '\\n'))`
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, BIN, ...args], {
    cwd,
    env: isolatedEnv({CI: '1', ...env}),
    encoding: 'utf8',
  })
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '))
  return {code: r.status, stdout: r.stdout, stderr: r.stderr, modules: line ? (JSON.parse(line.slice('LOADED '.length)) as string[]) : []}
}

const IMAGE = 'us-docker.pkg.dev/p/shop/frontend@sha256:' + 'ab'.repeat(32)

describe('the bundled CLI loads only what the command runs', () => {
  it('no heavy library is in cli.cjs or the entries; the Kubernetes client is a file of its own (esbuild metafile)', () => {
    if (!existsSync(META)) return console.warn('skipped: dist/bundle/meta.json is missing (npm run build:dist)')
    const meta = readBundleMeta(ROOT)
    for (const f of ['dist/bundle/main.cjs', 'dist/bundle/cli.cjs']) expect(meta.outputs[f]).toBeDefined()
    // The launcher requires node: builtins, nothing else (cli.cjs it reads and compiles itself).
    const launcher = meta.outputs['dist/bundle/main.cjs'] as BundleMeta['outputs'][string]
    expect(launcher.imports.filter((i) => !i.path.startsWith('node:'))).toEqual([])
    expect(launcher.imports.length).toBeGreaterThan(0)
    const cli = meta.outputs['dist/bundle/cli.cjs'] as BundleMeta['outputs'][string]
    expect([...new Set(Object.keys(cli.inputs).map(packageOf))].filter((p) => p && HEAVY.test(p))).toEqual([])
    // ...and cli.cjs reaches them (by require() inside the paths that use them: the runs below show none at start).
    const required = cli.imports.filter((i) => i.external).map((i) => i.path)
    expect(required).toEqual(expect.arrayContaining(['openpgp', '@sigstore/verify', '@google-cloud/run', './client-node.cjs']))
    expect(required).not.toContain('@kubernetes/client-node')
    expect(chunksHolding(meta, '@kubernetes/client-node')).toEqual(['dist/bundle/client-node.cjs'])
    // Cut down to the names src/adapters/k8s/client-node.ts exports: the whole package bundles to about 17 MB.
    expect(readFileSync(join(ROOT, 'dist/bundle/client-node.cjs')).length).toBeLessThan(10_000_000)
  })

  it("oclif's patched lines are in the bundle (esbuild.config.mjs `oclif-patches`): no WSL probe, no minimatch for plugin names, no ICU collator, no EJS for plain help text, the launcher's import(), string-width's ASCII shortcut, plugins found in node_modules first", () => {
    if (!existsSync(META)) return console.warn('skipped: dist/bundle/meta.json is missing (npm run build:dist)')
    // cli.cjs is printed without whitespace; so are the expected lines here.
    const code = readFileSync(join(ROOT, 'dist/bundle/cli.cjs'), 'utf8').replace(/\s+/g, '')
    const has = (text: string): boolean => code.includes(text.replace(/\s+/g, ''))
    expect(code).toMatch(/patterns\.some\(\(?w\)?=>\/\^\(\?:@\[a-z0-9-~\][^\n]*\.test\(w\)\?p===w:\(0,minimatch_1\.minimatch\)\(p,w\)\)/)
    expect(has('patterns.some((w) => (0, minimatch_1.minimatch)(p, w))')).toBe(false)
    expect(has('isWsl ? "wsl" : (0, node_os_1.platform)()')).toBe(false)
    expect(code).toMatch(/asyncfunctiongetPlatform\(\)\{return\(0,node_os_1\.platform\)\(\);?\}/)
    expect(has('.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)')).toBe(true)
    expect(has('a.id.localeCompare(b.id)')).toBe(false)
    expect(has('return t.includes("<%") || t.includes("%>") ? ejs_1.default.render(t, context) : t')).toBe(true)
    expect(code.split('await__sdImport((0,node_url_1.pathToFileURL)(filePath).href)')).toHaveLength(4)
    expect(code).toContain('if(/^[\\x20-\\x7e]*$/.test(string2)){returnstring2.length}')
    expect(
      has(
        'if ((0, fs_1.existsSync)((0, node_path_1.join)(root, "node_modules", name, "package.json"))) return (0, node_path_1.join)(root, "node_modules", name); pkgPath = require.resolve(name, { paths: [root] });',
      ),
    ).toBe(true)
    // ASCII, which the code cache loader reads as Latin-1 (esbuild.config.mjs escapes the one raw C1 character).
    expect(isAscii(readFileSync(join(ROOT, 'dist/bundle/cli.cjs')))).toBe(true)
    expect(has('await import((0, node_url_1.pathToFileURL)(filePath).href)')).toBe(false)
  })

  it.each([
    ['--help', ['--help']],
    ['pin --help', ['pin', '--help']],
    ['pin -f (already pinned)', ['pin', '-f', 'one.yaml']],
  ])('`%s` reads no module of node_modules, only the bundle', (_name, args) => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-bundle-'))
    writeFileSync(join(dir, 'one.yaml'), `apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n    - name: a\n      image: ${IMAGE}\n`)
    const r = run(args, dir)
    expect(r.code).toBe(0)
    expect(r.modules.length).toBeGreaterThan(0)
    expect(r.modules.map(packageOf).filter(Boolean)).toEqual([])
    expect(r.modules.filter((u) => u.includes('/dist/') && !u.includes('/dist/bundle/'))).toEqual([])
    // node:crypto is taken on first use (esbuild.config.mjs `lazy-builtins`): none of these runs hashes or verifies.
    expect(r.modules).not.toContain('node:crypto')
  })
})

describe('the code cache of cli.cjs (src/adapters/fs/code-cache.ts)', () => {
  const POD = `apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n    - name: a\n      image: ${IMAGE}\n`
  /** A new directory holding one.yaml, a Pod whose image is pinned already. */
  const podDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-code-cache-'))
    writeFileSync(join(dir, 'one.yaml'), POD)
    return dir
  }

  it('the first run of a command writes its cache, the next runs use it and leave it as it is, with the same output', () => {
    const dir = podDir()
    const cache = join(dir, 'cache')
    const env = {SAFE_DEPLOY_CODE_CACHE: cache}
    const first = run(['pin', '-f', 'one.yaml'], dir, env)
    expect(first.code).toBe(0)
    const files = readdirSync(cache)
    expect(files).toHaveLength(1)
    // run() starts Node with a module hook (--import): that Node option is part of the cache's name.
    expect(files[0]).toMatch(/-pin\.[0-9a-z]+\.v8cache$/)
    const path = join(cache, files[0] as string)
    const written = statSync(path)
    expect(written.size).toBeGreaterThan(100_000)
    expect(written.mode & 0o777).toBe(0o600)
    for (let i = 0; i < 2; i++) {
      const again = run(['pin', '-f', 'one.yaml'], dir, env)
      expect(again.code).toBe(0)
      expect(again.stdout).toBe(first.stdout)
      expect(again.stderr.replace(/ in [\d.]+s;/, '')).toBe(first.stderr.replace(/ in [\d.]+s;/, ''))
    }
    // Used, not refused: a refused cache would have been written again. --debug says so too.
    expect(readdirSync(cache)).toEqual(files)
    expect(statSync(path).mtimeMs).toBe(written.mtimeMs)
    expect(run(['pin', '-f', 'one.yaml', '--debug'], dir, env).stderr).toContain(`debug: code cache: used (${cache})`)
    // Help compiles other code: a cache of its own.
    expect(run(['--help'], dir, env).code).toBe(0)
    expect(readdirSync(cache).filter((f) => /-root\.[0-9a-z]+\.help\.v8cache$/.test(f))).toHaveLength(1)
  })

  it('four first runs at once all succeed and leave one whole cache, which the next run uses', async () => {
    const dir = podDir()
    const cache = join(dir, 'cache')
    const env = isolatedEnv({CI: '1', SAFE_DEPLOY_CODE_CACHE: cache})
    const runs = await Promise.all([0, 1, 2, 3].map(() => runCli(['pin', '-f', 'one.yaml'], {cwd: dir, env})))
    for (const r of runs) {
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(IMAGE)
    }
    const files = readdirSync(cache)
    expect(files).toHaveLength(1)
    const path = join(cache, files[0] as string)
    const mtime = statSync(path).mtimeMs
    expect((await runCli(['pin', '-f', 'one.yaml'], {cwd: dir, env})).code).toBe(0)
    expect(statSync(path).mtimeMs).toBe(mtime)
  })

  it('runs with and without a Node option, taking turns, keep a cache each and use it (V8 refuses a cache made under other flags)', () => {
    const dir = podDir()
    const env = isolatedEnv({CI: '1', SAFE_DEPLOY_CODE_CACHE: join(dir, 'cache')})
    const pin = (nodeOptions: string[]) =>
      spawnSync(process.execPath, [...nodeOptions, BIN, 'pin', '-f', 'one.yaml', '--debug'], {cwd: dir, env, encoding: 'utf8'}).stderr
    for (let round = 0; round < 2; round++) {
      pin([])
      pin(['--max-semi-space-size=8'])
    }
    expect(readdirSync(join(dir, 'cache'))).toHaveLength(2)
    expect(pin([])).toContain('debug: code cache: used')
    expect(pin(['--max-semi-space-size=8'])).toContain('debug: code cache: used')
  })

  it('--debug says when there is no cache yet', () => {
    const dir = podDir()
    const cache = join(dir, 'cache')
    const r = run(['pin', '-f', 'one.yaml', '--debug'], dir, {SAFE_DEPLOY_CODE_CACHE: cache})
    expect(r.code).toBe(0)
    expect(r.stderr).toContain(`debug: code cache: none yet (written at the end of this run) (${cache})`)
    expect(readdirSync(cache)).toHaveLength(1)
  })

  it('SAFE_DEPLOY_DISABLE_CODE_CACHE=1 runs the same without reading or writing one', () => {
    const dir = podDir()
    const cache = join(dir, 'cache')
    const r = run(['pin', '-f', 'one.yaml'], dir, {SAFE_DEPLOY_CODE_CACHE: cache, SAFE_DEPLOY_DISABLE_CODE_CACHE: '1'})
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(IMAGE)
    expect(existsSync(cache)).toBe(false)
    expect(run(['pin', '-f', 'one.yaml', '--debug'], dir, {SAFE_DEPLOY_DISABLE_CODE_CACHE: '1'}).stderr).toContain('debug: code cache: off\n')
  })
})
