/**
 * The published CLI is the bundle (esbuild.config.mjs, docs/architecture.md#start-up): a command reads a few files
 * of dist/bundle/, and the heavy libraries load only on the paths that use them. Checked twice: on esbuild's
 * metafile (what the entries import statically) and on real runs (every module Node loads, recorded by a hook).
 * Needs dist/ (npm run build:dist).
 */
import {describe, expect, it} from '@jest/globals'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BIN, ROOT, isolatedEnv} from '../../support/cli.js'
import {bundleMetaFile, chunksHolding, packageOf, readBundleMeta, type BundleMeta} from '../../support/bundle-meta.js'

const HEAVY = /^(@google-cloud\/|@grpc\/|google-auth-library|@kubernetes\/|@sigstore\/|@inquirer\/|openpgp)/
const META = bundleMetaFile(ROOT)

/**
 * What an entry reaches through static imports only (what loads before the command runs): the external packages,
 * and the output files of the bundle.
 */
function staticallyReached(meta: BundleMeta, entries: string[]): {externals: string[]; outputs: string[]} {
  const seen = new Set<string>()
  const found = new Set<string>()
  const walk = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    for (const i of meta.outputs[file]?.imports ?? []) {
      if (i.kind !== 'import-statement') continue
      if (i.external) found.add(i.path)
      else walk(i.path)
    }
  }
  entries.forEach(walk)
  return {externals: [...found].sort(), outputs: [...seen]}
}

/** Runs the CLI with a module hook: its exit code and every module URL Node loaded. */
function run(args: string[], cwd: string): {code: number | null; stderr: string; modules: string[]} {
  const hook = `import module from 'node:module'; import {writeSync} from 'node:fs'; const seen = new Set();
    module.registerHooks({load(url, ctx, next) { seen.add(url); return next(url, ctx) }});
    process.on('exit', () => writeSync(2, '\\nLOADED ' + JSON.stringify([...seen]) + '\\n'))`
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, BIN, ...args], {
    cwd,
    env: isolatedEnv({CI: '1'}),
    encoding: 'utf8',
  })
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '))
  return {code: r.status, stderr: r.stderr, modules: line ? (JSON.parse(line.slice('LOADED '.length)) as string[]) : []}
}

const IMAGE = 'us-docker.pkg.dev/p/shop/frontend@sha256:' + 'ab'.repeat(32)

describe('the bundled CLI loads only what the command runs', () => {
  it('no heavy library is imported statically by the entry or the commands (esbuild metafile)', () => {
    if (!existsSync(META)) return console.warn('skipped: dist/bundle/meta.json is missing (npm run build:dist)')
    const meta = readBundleMeta(ROOT)
    const entries = ['dist/bundle/main.js', 'dist/bundle/commands.js']
    for (const e of entries) expect(meta.outputs[e]).toBeDefined()
    const reached = staticallyReached(meta, entries)
    expect(reached.externals.filter((p) => HEAVY.test(p))).toEqual([])
    // client-node is bundled (src/adapters/k8s/client-node.ts): none of its code is in what the entries load.
    const bundledHeavy = reached.outputs.flatMap((o) => Object.keys(meta.outputs[o]?.inputs ?? {}).map(packageOf)).filter((p) => p && HEAVY.test(p))
    expect([...new Set(bundledHeavy)]).toEqual([])
    // ...and they are in the build, behind dynamic imports (an empty list above would otherwise prove nothing).
    const dynamic = Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.external && HEAVY.test(i.path)).map((i) => i.path))
    expect(dynamic).toEqual(expect.arrayContaining(['openpgp', '@sigstore/verify']))
    const clientNodeChunks = chunksHolding(meta, '@kubernetes/client-node')
    expect(clientNodeChunks).toHaveLength(1)
    expect(dynamic).not.toContain('@kubernetes/client-node')
    // Cut down to the names src/adapters/k8s/client-node.ts exports: the whole package bundles to about 17 MB.
    const chunk = clientNodeChunks[0] as string
    expect(readFileSync(join(ROOT, chunk)).length).toBeLessThan(10_000_000)
  })

  it("oclif's four patched lines are in the bundle (esbuild.config.mjs `oclif-patches`): no WSL probe, no minimatch for plugin names, no ICU collator, no EJS for plain help text", () => {
    if (!existsSync(META)) return console.warn('skipped: dist/bundle/meta.json is missing (npm run build:dist)')
    const meta = readBundleMeta(ROOT)
    const code = Object.keys(meta.outputs)
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(ROOT, f), 'utf8'))
      .join('\n')
    expect(code).toMatch(/patterns\.some\(\(w\) => \/\^\(\?:@\[a-z0-9-~\][^\n]*\.test\(w\) \? p === w : \(0, minimatch_1\.minimatch\)\(p, w\)\)/)
    expect(code).not.toContain('patterns.some((w) => (0, minimatch_1.minimatch)(p, w))')
    expect(code).not.toMatch(/isWsl \? "wsl" : \(0, node_os_1\.platform\)\(\)/)
    expect(code).toMatch(/async function getPlatform\(\) \{\s*return \(0, node_os_1\.platform\)\(\);/)
    expect(code).toContain('.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)')
    expect(code).not.toContain('a.id.localeCompare(b.id)')
    expect(code).toContain(`return t.includes("<%") || t.includes("%>") ? ejs_1.default.render(t, context) : t;`)
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
    // oclif's WSL probe (wsl-utils, is-wsl) is its own chunk, which the patched getPlatform no longer imports.
    if (existsSync(META)) {
      const wsl = chunksHolding(readBundleMeta(ROOT), 'is-wsl')
      expect(wsl).toHaveLength(1)
      expect(r.modules.filter((u) => wsl.some((c) => u.endsWith('/' + c)))).toEqual([])
    }
  })
})
