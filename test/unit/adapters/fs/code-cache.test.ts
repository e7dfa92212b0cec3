/**
 * The code cache the published CLI is compiled with (src/adapters/fs/code-cache.ts), on small CommonJS files run
 * through the real node:vm: where it lives, when it is used, refused, written or left alone.
 */
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from '@jest/globals'
import {CACHE_MAX_AGE_MS, cacheFileName, cachePartition, codeCacheDir, pruneOld, runWithCodeCache} from '../../../../src/adapters/fs/code-cache.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sd-code-cache-'))
})
afterEach(() => {
  rmSync(dir, {recursive: true, force: true})
})

const noImport = (): Promise<unknown> => Promise.reject(new Error('no import in this test'))

/** A CommonJS file whose functions run when it loads, so that V8 has compiled them by the time the cache is made. */
function script(name: string, body = ''): string {
  const file = join(dir, name)
  writeFileSync(
    file,
    `const path = require('node:path')\nfunction twice(x) { return x * 2 }\nexports.value = twice(21)\nexports.base = path.basename(__filename)\nexports.dir = __dirname\n${body}\n`,
  )
  return file
}

describe('codeCacheDir', () => {
  it('is $SAFE_DEPLOY_CODE_CACHE, else $XDG_CACHE_HOME/safe-deploy/code-cache, else ~/.cache/safe-deploy/code-cache', () => {
    expect(codeCacheDir({SAFE_DEPLOY_CODE_CACHE: '/c', XDG_CACHE_HOME: '/x', HOME: '/h'})).toBe('/c')
    expect(codeCacheDir({XDG_CACHE_HOME: '/x', HOME: '/h'})).toBe('/x/safe-deploy/code-cache')
    expect(codeCacheDir({HOME: '/h'})).toBe('/h/.cache/safe-deploy/code-cache')
    // XDG: a relative $XDG_CACHE_HOME is invalid and ignored; an empty setting is no setting.
    expect(codeCacheDir({XDG_CACHE_HOME: 'rel', HOME: '/h'})).toBe('/h/.cache/safe-deploy/code-cache')
    expect(codeCacheDir({SAFE_DEPLOY_CODE_CACHE: '', HOME: '/h'})).toBe('/h/.cache/safe-deploy/code-cache')
  })

  it('is off with SAFE_DEPLOY_DISABLE_CODE_CACHE set (to anything but empty or 0)', () => {
    expect(codeCacheDir({SAFE_DEPLOY_DISABLE_CODE_CACHE: '1', SAFE_DEPLOY_CODE_CACHE: '/c'})).toBeUndefined()
    expect(codeCacheDir({SAFE_DEPLOY_DISABLE_CODE_CACHE: 'true', HOME: '/h'})).toBeUndefined()
    expect(codeCacheDir({SAFE_DEPLOY_DISABLE_CODE_CACHE: '0', HOME: '/h'})).toBe('/h/.cache/safe-deploy/code-cache')
    expect(codeCacheDir({SAFE_DEPLOY_DISABLE_CODE_CACHE: '', HOME: '/h'})).toBe('/h/.cache/safe-deploy/code-cache')
  })
})

describe('cachePartition', () => {
  it('is the command word, with .help for help, root without a word, other for anything else', () => {
    expect(cachePartition(['pin', '-f', 'a.yaml'])).toBe('pin')
    expect(cachePartition(['-f', 'a.yaml'])).toBe('other')
    expect(cachePartition(['run', 'deploy', '--service', 's'])).toBe('run')
    expect(cachePartition(['pin', '--help'])).toBe('pin.help')
    expect(cachePartition(['preflight', '-h'])).toBe('preflight.help')
    expect(cachePartition([])).toBe('root')
    expect(cachePartition(['--help'])).toBe('root.help')
    expect(cachePartition(['../../etc'])).toBe('other')
    expect(cachePartition(['PIN'])).toBe('other')
  })

  it('runs with other Node options (execArgv, NODE_OPTIONS) get another cache, the same options the same one', () => {
    expect(cachePartition(['pin'], [])).toBe('pin')
    expect(cachePartition(['pin'], ['', ' '])).toBe('pin')
    const a = cachePartition(['pin', '-f', 'x'], ['--max-old-space-size=4096'])
    expect(a).toMatch(/^pin\.[0-9a-z]+$/)
    expect(cachePartition(['pin'], ['--max-old-space-size=4096'])).toBe(a)
    expect(cachePartition(['pin'], ['--max-old-space-size=8192'])).not.toBe(a)
    expect(cachePartition(['pin', '--help'], ['--max-old-space-size=4096'])).toBe(`${a}.help`)
  })
})

describe('cacheFileName', () => {
  const st = {dev: 2049, ino: 1234, size: 1_400_000, mtimeMs: 1_700_000_000_000.5, ctimeMs: 1_700_000_000_000.5}
  it('names the Node version, the architecture and the partition', () => {
    const name = cacheFileName(st, 'pin')
    expect(name.startsWith(`${process.version}-${process.arch}-`)).toBe(true)
    expect(name.endsWith('-pin.v8cache')).toBe(true)
  })

  it('changes with every stat field: a bundle written again, even to the same length and mtime, gets another name', () => {
    const base = cacheFileName(st, 'pin')
    for (const k of ['dev', 'ino', 'size', 'mtimeMs', 'ctimeMs'] as const) {
      expect(cacheFileName({...st, [k]: st[k] + (k.endsWith('Ms') ? 0.001 : 1)}, 'pin')).not.toBe(base)
    }
  })
})

describe('runWithCodeCache', () => {
  it('runs the file as CommonJS (require, __filename, __dirname) and hands it the given import()', async () => {
    const file = script('a.cjs', 'exports.imported = __sdImport("x")')
    const imported: string[] = []
    const run = runWithCodeCache<{value: number; base: string; dir: string; imported: Promise<unknown>}>(file, undefined, 'pin', (url) => {
      imported.push(url)
      return Promise.resolve('module')
    })
    expect(run.cache).toBe('off')
    expect(run.exports.value).toBe(42)
    expect(run.exports.base).toBe('a.cjs')
    expect(run.exports.dir).toBe(dir)
    await expect(run.exports.imported).resolves.toBe('module')
    expect(imported).toEqual(['x'])
  })

  it("keeps the file's line numbers in stack traces", () => {
    const file = join(dir, 'throws.cjs')
    writeFileSync(file, `// line 1\n// line 2\nexports.fail = () => { throw new Error('here') }\n`)
    const run = runWithCodeCache<{fail: () => void}>(file, undefined, 'x', noImport)
    let stack = ''
    try {
      run.exports.fail()
    } catch (e) {
      stack = (e as Error).stack ?? ''
    }
    expect(stack).toContain(`${file}:3:`)
  })

  it('writes the cache at save() when there was none, and the next run uses it and writes nothing', () => {
    const file = script('a.cjs')
    const cache = join(dir, 'cache')
    const first = runWithCodeCache<{value: number}>(file, cache, 'pin', noImport)
    expect(first.cache).toBe('missing')
    expect(readdirSync(cache)).toEqual([])
    first.save()
    const [name] = readdirSync(cache)
    expect(name).toBe(cacheFileName(statSync(file), 'pin'))
    const written = statSync(join(cache, name as string))
    expect(written.size).toBeGreaterThan(0)
    expect(written.mode & 0o777).toBe(0o600)
    expect(statSync(cache).mode & 0o777).toBe(0o700)

    const second = runWithCodeCache<{value: number}>(file, cache, 'pin', noImport)
    expect(second.cache).toBe('used')
    expect(second.exports.value).toBe(42)
    second.save()
    expect(readdirSync(cache)).toEqual([name])
    expect(statSync(join(cache, name as string)).mtimeMs).toBe(written.mtimeMs)
  })

  it('a cache V8 refuses (garbage) is not used and is written again at save()', () => {
    // A source this process has not compiled yet: V8 keeps what it compiled in memory and would not look at the cache.
    const file = script('a.cjs', `exports.garbage = ${Date.now()}`)
    const cache = join(dir, 'cache')
    mkdirSync(cache, {mode: 0o700})
    const path = join(cache, cacheFileName(statSync(file), 'pin'))
    writeFileSync(path, Buffer.alloc(4096, 7))
    const run = runWithCodeCache<{value: number}>(file, cache, 'pin', noImport)
    expect(run.cache).toBe('rejected')
    expect(run.exports.value).toBe(42)
    run.save()
    expect(readFileSync(path).equals(Buffer.alloc(4096, 7))).toBe(false)
    expect(runWithCodeCache(file, cache, 'pin', noImport).cache).toBe('used')
  })

  it('the file written again (same length, same mtime) does not meet the old cache: its new code runs', () => {
    const cache = join(dir, 'cache')
    const file = join(dir, 'v.cjs')
    // As npm installs a package: every file's mtime is 1985-10-26.
    const npmTime = new Date('1985-10-26T08:15:00Z')
    writeFileSync(file, 'exports.version = () => "one"\nexports.v = exports.version()\n')
    utimesSync(file, npmTime, npmTime)
    runWithCodeCache(file, cache, 'pin', noImport).save()
    writeFileSync(file, 'exports.version = () => "two"\nexports.v = exports.version()\n')
    utimesSync(file, npmTime, npmTime)
    // V8 alone would take the old cache (it checks the source's length) and run the old code: "one".
    const run = runWithCodeCache<{v: string}>(file, cache, 'pin', noImport)
    expect(run.cache).toBe('missing')
    expect(run.exports.v).toBe('two')
  })

  it('does not use or write a cache directory that other users can write to', () => {
    const file = script('a.cjs')
    const cache = join(dir, 'shared')
    runWithCodeCache(file, cache, 'pin', noImport).save()
    chmodSync(cache, 0o777)
    const run = runWithCodeCache<{value: number}>(file, cache, 'pin', noImport)
    expect(run.cache).toBe('off')
    expect(run.exports.value).toBe(42)
    // The cache written while the directory was private is not read either.
    expect(readdirSync(cache)).toHaveLength(1)
  })

  it('runs without a cache where the directory cannot be made, and save() throws nothing', () => {
    const file = script('a.cjs')
    writeFileSync(join(dir, 'not-a-dir'), '')
    const run = runWithCodeCache<{value: number}>(file, join(dir, 'not-a-dir', 'cache'), 'pin', noImport)
    expect(run.cache).toBe('off')
    expect(run.exports.value).toBe(42)
    expect(() => run.save()).not.toThrow()
  })

  it('writing a cache deletes the caches not written for 30 days and dead temporary files, and nothing else', () => {
    const cache = join(dir, 'cache')
    mkdirSync(cache, {mode: 0o700})
    const old = new Date(Date.now() - CACHE_MAX_AGE_MS - 60_000)
    const files = {old: 'v0-x64-a-pin.v8cache', recent: 'v0-x64-b-pin.v8cache', deadTemp: 'v0-x64-c-pin.v8cache.9.tmp', other: 'notes.txt'}
    for (const f of Object.values(files)) writeFileSync(join(cache, f), 'x')
    for (const f of [files.old, files.deadTemp, files.other]) utimesSync(join(cache, f), old, old)
    const file = script('a.cjs')
    runWithCodeCache(file, cache, 'pin', noImport).save()
    expect(readdirSync(cache).sort()).toEqual([cacheFileName(statSync(file), 'pin'), files.other, files.recent].sort())
  })

  it('pruneOld keeps a temporary file of a write that may still be going on (under an hour old)', () => {
    writeFileSync(join(dir, 'a.v8cache.1.tmp'), 'x')
    pruneOld(dir, Date.now())
    expect(readdirSync(dir)).toEqual(['a.v8cache.1.tmp'])
  })
})
