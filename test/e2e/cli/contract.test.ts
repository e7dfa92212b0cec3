import {describe, expect, it} from '@jest/globals'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {execFileSync} from 'node:child_process'
import {EXIT_TABLE, ERROR_CODES} from '../../../src/core/errors.js'
import {runCli, ROOT} from '../../support/cli.js'

/** What the manifest says about a command, reduced to what users rely on. */
function shape(commands: Record<string, {flags?: Record<string, {type?: string; options?: string[]; multiple?: boolean}>; args?: Record<string, unknown>}>) {
  return Object.fromEntries(
    Object.entries(commands)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, c]) => [
        id,
        {
          flags: Object.fromEntries(
            Object.entries(c.flags ?? {})
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([n, f]) => [n, {type: f.type, options: f.options ?? null, multiple: f.multiple ?? false}]),
          ),
          args: Object.keys(c.args ?? {}).sort(),
        },
      ]),
  )
}

describe('oclif.manifest.json is in sync with the commands (regenerate: npm run manifest)', () => {
  it('matches the commands built in dist/', async () => {
    const committed = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8'))
    // Load the command classes in a plain Node child (jest's VM modules cannot link oclif's dynamic imports);
    // the manifest covers safe-deploy's own commands, not the plugins' (help, autocomplete).
    const script = `const {Config} = await import('@oclif/core'); const c = await Config.load({root: process.argv[1], ignoreManifest: true});
      const out = {}; for (const cmd of c.commands) { if (cmd.pluginName !== c.name) continue; const k = await cmd.load(); out[cmd.id] = {flags: Object.fromEntries(Object.entries({...k.baseFlags, ...k.flags, ...(k.enableJsonFlag ? {json: {type: 'boolean'}} : {})}).map(([n, f]) => [n, {type: f.type, options: f.options, multiple: f.multiple}])), args: k.args ?? {}} }
      process.stdout.write(JSON.stringify(out))`
    const live = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, ROOT], {cwd: ROOT, encoding: 'utf8'})) as Record<string, never>
    expect(shape(committed.commands)).toEqual(shape(live as never))
    expect(committed.version).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version)
  })
})

describe('the exit-code table is one table: errors.ts, --help and the README agree', () => {
  const rows = EXIT_TABLE.map((r) => `${String(r.code).padStart(2)}  ${r.name}`)

  it.each(['pin', 'preflight', 'apply', 'attest', 'run deploy', 'policy lint'])('`%s --help` prints every row', async (cmd) => {
    const r = await runCli([...cmd.split(' '), '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/EXIT CODES/)
    for (const row of EXIT_TABLE) expect(r.stdout).toMatch(new RegExp(`\\b${row.code}\\s+${row.name}\\b`))
    expect(rows.length).toBe(10)
  })

  it('the README table lists the same codes, names and meanings', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const section = readme.split(/^## Exit codes/m)[1]?.split(/^## /m)[0] ?? ''
    const table = [...section.matchAll(/^\| (\d+) \| `(\w+)` \| (.+?) \|$/gm)].map((m) => ({code: Number(m[1]), name: m[2], meaning: m[3]}))
    expect(table).toEqual(EXIT_TABLE.map((r) => ({code: r.code, name: r.name, meaning: r.meaning})))
  })

  it('every error code maps to a row of the table', () => {
    const codes = new Set(EXIT_TABLE.map((r) => r.code))
    for (const exit of Object.values(ERROR_CODES)) expect(codes.has(exit)).toBe(true)
  })
})

describe('the package main export is the programmatic API', () => {
  it('import {parseReference} from "safe-deploy" (self-reference, built dist/)', () => {
    const script = `const m = await import('safe-deploy'); const r = m.parseReference('nginx:1.25');
      let code; try { m.parseReference('Nginx') } catch (e) { code = e instanceof m.SafeDeployError ? e.code : 'other' }
      process.stdout.write(JSON.stringify({r, code, hasEvaluate: typeof m.evaluatePolicy, hasOclif: Object.keys(m).some((k) => /oclif/i.test(k))}))`
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], {cwd: ROOT, encoding: 'utf8'}))
    expect(out).toEqual({
      r: {domain: 'docker.io', path: 'library/nginx', tag: '1.25', digest: undefined},
      code: 'INVALID_REFERENCE',
      hasEvaluate: 'function',
      hasOclif: false,
    })
  })
})
