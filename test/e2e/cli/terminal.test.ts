/**
 * The terminal experience through a real pseudo-terminal (test/support/pty.ts) and through pipes:
 * colour on a terminal (not with --no-color, NO_COLOR or CI; FORCE_COLOR forces it into a pipe), and
 * progress on stderr for resolution that takes more than a moment (never in CI or into a pipe). The
 * registry answers slowly through the fault proxy, one lookup at a time, so progress has time to show.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {isolatedEnv, runCli} from '../../support/cli.js'
import {drivePty} from '../../support/pty.js'
import {deployment, startTrustSetup, type TrustSetup} from '../../support/fixtures.js'
import {startFaultProxy, type FaultProxy} from '../../support/fault-proxy.js'

// eslint-disable-next-line no-control-regex
const ESC = /\u001b\[/
// eslint-disable-next-line no-control-regex
const COLOUR = /\u001b\[3[0-9]m/
const TAGS = ['1.0', '1.1', '1.2', '1.3', '1.4', '1.5']

let trust: TrustSetup
let proxy: FaultProxy
let manifest: string
let base: string[]

beforeAll(async () => {
  trust = await startTrustSetup({prefix: 'sd-term-'})
  for (const t of TAGS) await trust.reg.pushImage('team/app', t)
  proxy = await startFaultProxy(trust.reg.url)
  // Every manifest lookup takes 300 ms; with --concurrency 1 the six take about two seconds.
  proxy.script((req) => (req.url.includes('/manifests/') ? {delayMs: 300} : undefined))
  manifest = join(trust.dir, 'six.yaml')
  writeFileSync(manifest, TAGS.map((t, i) => deployment(`app${i}`, `${proxy.host}/team/app:${t}`, {namespace: 'prod', container: 'web'})).join('---\n'))
  base = ['--insecure-registry', proxy.host, '--concurrency', '1']
}, 90_000)

afterAll(async () => {
  await proxy?.stop()
  await trust?.reg.stop()
})

/** A terminal's environment: isolated, without NO_COLOR (isolatedEnv sets it for the piped tests). */
function ttyEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = isolatedEnv({TERM: 'xterm', ...extra})
  if (!('NO_COLOR' in extra)) delete env.NO_COLOR
  return env
}

const preflightArgs = (): string[] => [
  'preflight',
  '-f',
  manifest,
  '--policy',
  trust.policy,
  '--attestors',
  trust.attestors,
  '--attestations',
  trust.atts,
  ...base,
]

describe('on a terminal', () => {
  it('pin shows resolution progress with counts and rate on stderr, then how it ended', async () => {
    const r = await drivePty(['pin', '-f', manifest, ...base], ttyEnv(), [])
    expect(r.exitCode).toBe(0)
    expect(r.output).toMatch(/resolving image digests\.\.\. .* [1-5]\/6 \(\d+\/s\)/)
    expect(r.output).toMatch(/resolving image digests\.\.\. 6\/6 in \d+\.\ds/)
    expect(r.output).toMatch(/@sha256:[0-9a-f]{64}/) // the pinned YAML still arrives whole
  })

  it('preflight colours the verdicts, one line per image with its container and file:line', async () => {
    const r = await drivePty(preflightArgs(), ttyEnv(), [])
    expect(r.exitCode).toBe(5)
    expect(r.raw).toContain('\u001b[31mDENY') // red
    expect(r.output).toMatch(
      new RegExp(
        `DENY  ${proxy.host.replace(/\./g, '\\.')}/team/app:1\\.0@sha256:[0-9a-f]{8}…  \\(container web, Deployment/app0, ns prod\\)  ${manifest}:\\d+`,
      ),
    )
    expect(r.output).toMatch(/resolving image digests\.\.\. 6\/6 in/)
  })

  it.each([
    ['--no-color', ['--no-color'], {}],
    ['NO_COLOR=1', [], {NO_COLOR: '1'}],
  ])('%s: no colour (progress stays)', async (_name, flags, env) => {
    const r = await drivePty([...preflightArgs(), ...flags], ttyEnv(env), [])
    expect(r.exitCode).toBe(5)
    // Progress redraws with cursor moves; what the pre-flight printed has no colour at all.
    expect(r.raw).not.toMatch(COLOUR)
    expect(r.output).toMatch(/^DENY {2}/m)
  })

  it('CI set: neither colour nor progress', async () => {
    const r = await drivePty(['pin', '-f', manifest, ...base], ttyEnv({CI: 'true'}), [], true)
    expect(r.exitCode).toBe(0)
    expect(r.raw).not.toMatch(ESC)
    expect(r.output).not.toMatch(/resolving/)
    const p = await drivePty(preflightArgs(), ttyEnv({CI: 'true'}), [], true)
    expect(p.exitCode).toBe(5)
    expect(p.raw).not.toMatch(ESC)
    expect(p.output).toMatch(/^DENY {2}/m)
  })
})

describe('into pipes', () => {
  it('no escape codes and no progress, even with NO_COLOR unset', async () => {
    const env = isolatedEnv()
    delete env.NO_COLOR
    const pin = await runCli(['pin', '-f', manifest, ...base], {env})
    expect(pin.code).toBe(0)
    expect(pin.stdout + pin.stderr).not.toMatch(ESC)
    expect(pin.stderr).not.toMatch(/resolving/)
    const pre = await runCli(preflightArgs(), {env})
    expect(pre.code).toBe(5)
    expect(pre.stdout + pre.stderr).not.toMatch(ESC)
    expect(pre.stderr).not.toMatch(/resolving|checking attestations/)
    expect(pre.stdout).toBe('')
    expect(pre.stderr).toMatch(/^DENY {2}/m)
  })

  it('FORCE_COLOR=1 colours the pre-flight text in a pipe (no progress: stderr is not a terminal)', async () => {
    const env = isolatedEnv({FORCE_COLOR: '1'})
    delete env.NO_COLOR
    const pre = await runCli(preflightArgs(), {env})
    expect(pre.code).toBe(5)
    expect(pre.stderr).toContain('\u001b[31mDENY')
    expect(pre.stderr).not.toMatch(/resolving/)
  })
})
