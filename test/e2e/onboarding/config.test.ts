/**
 * .safe-deploy.yaml: validation errors that name the line, and the precedence
 * flags > environment variables (SAFE_DEPLOY_PROFILE) > config file > defaults, one level at a time.
 */
import {beforeAll, describe, expect, it} from '@jest/globals'
import {cpSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseConfigText, selectProfile} from '../../../src/core/config.js'
import {SafeDeployError} from '../../../src/core/errors.js'
import {runCli, isolatedEnv} from '../../support/cli.js'
import {makeAttestor} from '../../support/trust.js'
import {DIGEST, GOLDEN, tmp} from './helpers.js'

function configErrors(text: string): Array<{line: number | undefined; message: string}> {
  try {
    parseConfigText(text, '.safe-deploy.yaml')
  } catch (err) {
    expect(err).toBeInstanceOf(SafeDeployError)
    const e = err as SafeDeployError
    expect(e.code).toBe('CONFIG_INVALID')
    return e.errors.map((s) => ({line: s.location?.line, message: s.message}))
  }
  throw new Error('expected CONFIG_INVALID')
}

const VALID = `apiVersion: safe-deploy.dev/v1
kind: Config
defaultProfile: dev
profiles:
  dev:
    platform: cloudrun
    project: acme-run
    policy: policies/dev.yaml
`

describe('.safe-deploy.yaml validation names the line', () => {
  it('accepts the files init generates', () => {
    for (const setup of ['gke', 'cloudrun']) {
      const cfg = parseConfigText(readFileSync(join(GOLDEN, setup, '.safe-deploy.yaml'), 'utf8'), '.safe-deploy.yaml')
      expect(Object.keys(cfg.profiles)).toEqual(['dev', 'staging', 'prod'])
      expect(cfg.defaultProfile).toBe('dev')
      expect(cfg.profiles.prod).toMatchObject({name: 'prod', policy: 'policies/prod.yaml', requireEnforcement: true, reportMd: 'preflight.md'})
    }
  })

  it('an unknown profile setting: its line, the key path and the known keys', () => {
    expect(configErrors(VALID + '    contxt: gke_acme_us-central1_dev\n')).toEqual([
      {line: 9, message: expect.stringMatching(/^\.safe-deploy\.yaml:9: profiles\.dev\.contxt: unknown setting \(known: target, context, /)},
    ])
  })

  it('an unknown top-level key', () => {
    expect(configErrors('profile:\n  dev: {}\n' + VALID.replace('apiVersion', 'apiversion'))).toEqual([
      {line: 1, message: '.safe-deploy.yaml:1: unknown top-level key "profile" (known: apiVersion, kind, imageRules, profiles, defaultProfile)'},
      {line: 3, message: '.safe-deploy.yaml:3: unknown top-level key "apiversion" (known: apiVersion, kind, imageRules, profiles, defaultProfile)'},
    ])
  })

  it('a wrong type: the line of the value, what was expected and what was found', () => {
    expect(configErrors(VALID + '    requireEnforcement: "yes"\n    namespace: 42\n')).toEqual([
      {line: 9, message: '.safe-deploy.yaml:9: profiles.dev.requireEnforcement: expected a boolean, got "yes"'},
      {line: 10, message: '.safe-deploy.yaml:10: profiles.dev.namespace: expected a string, got 42'},
    ])
    expect(configErrors(VALID.replace('platform: cloudrun', 'platform: k8s'))).toEqual([
      {line: 6, message: '.safe-deploy.yaml:6: profiles.dev.platform: expected gke or cloudrun, got k8s'},
    ])
    expect(configErrors(VALID + '  prod: policies/prod.yaml\n')).toEqual([{line: 9, message: '.safe-deploy.yaml:9: profiles.prod: expected a mapping'}])
  })

  it('target: is the setting; the old platform: means target:, with a warning naming its line (#12 item 11)', () => {
    const current = parseConfigText(VALID.replace('platform: cloudrun', 'target: cloudrun'), '.safe-deploy.yaml')
    expect(current.profiles.dev).toMatchObject({target: 'cloudrun'})
    expect(current.warnings).toBeUndefined()
    const old = parseConfigText(VALID, '.safe-deploy.yaml')
    expect(old.profiles.dev).toMatchObject({target: 'cloudrun'})
    expect(old.warnings).toEqual(['.safe-deploy.yaml:6: profiles.dev.platform is deprecated: use target: cloudrun'])
    expect(configErrors(VALID.replace('platform: cloudrun', 'target: k8s'))).toEqual([
      {line: 6, message: '.safe-deploy.yaml:6: profiles.dev.target: expected gke or cloudrun, got k8s'},
    ])
    expect(configErrors(VALID + '    target: gke\n')).toEqual([
      {line: 6, message: '.safe-deploy.yaml:6: profiles.dev.platform: deprecated spelling of target, and target is set too: remove platform'},
    ])
  })

  it('an undefined defaultProfile: its line and the profiles that exist', () => {
    expect(configErrors(VALID.replace('defaultProfile: dev', 'defaultProfile: production'))).toEqual([
      {line: 3, message: '.safe-deploy.yaml:3: defaultProfile "production" is not defined under profiles (defined: dev)'},
    ])
  })

  it('a YAML syntax error: its line', () => {
    const errs = configErrors(VALID + '    region: [europe-west2\n')
    expect(errs).toHaveLength(1)
    expect(errs[0]?.message).toMatch(/^\.safe-deploy\.yaml:\d+: /)
    expect(errs[0]?.line).toBeGreaterThanOrEqual(9)
  })

  it('an unknown --profile lists the defined ones; inherited object keys are not profiles', () => {
    const cfg = parseConfigText(VALID, '.safe-deploy.yaml')
    for (const name of ['prod', 'toString', 'constructor', '__proto__']) {
      expect(() => selectProfile(cfg, name)).toThrow(
        expect.objectContaining({
          code: 'USAGE',
          message: `profile "${name}" is not defined in .safe-deploy.yaml`,
          hint: expect.stringContaining('defined profiles: dev'),
        }),
      )
    }
    expect(selectProfile(cfg, undefined)?.name).toBe('dev')
    expect(selectProfile({imageRules: [], profiles: {}}, undefined)).toBeUndefined()
  })

  it('through the CLI: exit 3 (INPUT), every problem with file:line', async () => {
    const d = tmp('cfg-bad')
    writeFileSync(join(d, '.safe-deploy.yaml'), VALID.replace('defaultProfile: dev', 'defaultProfile: prod') + '    colour: blue\n')
    const r = await runCli(['preflight', '--image', `gcr.io/p/app@${DIGEST}`, '--no-resolve', '--policy', 'x.yaml', '--attestors', d, '--attestations', d], {
      cwd: d,
    })
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('Error [CONFIG_INVALID]: invalid config file')
    expect(r.stderr).toContain('.safe-deploy.yaml:3: defaultProfile "prod" is not defined under profiles (defined: dev)')
    expect(r.stderr).toContain('.safe-deploy.yaml:9: profiles.dev.colour: unknown setting')
    // --config names another file explicitly
    const other = join(d, 'other.yaml')
    writeFileSync(other, 'profiles:\n  ci:\n    requireEnforcement: maybe\n')
    const r2 = await runCli(['preflight', '--config', other, '--image', `gcr.io/p/app@${DIGEST}`, '--no-resolve', '--policy', 'x.yaml'], {
      cwd: tmp('cfg-other'),
    })
    expect(r2.code).toBe(3)
    expect(r2.stderr).toContain(`${other}:3: profiles.ci.requireEnforcement: expected a boolean, got "maybe"`)
  })
})

describe('precedence: flags > environment > file > defaults', () => {
  let d: string
  let bare: string
  const image = `us-docker.pkg.dev/acme-run/app/app@${DIGEST}`

  beforeAll(() => {
    d = tmp('prec')
    bare = tmp('prec-bare')
    cpSync(join(GOLDEN, 'cloudrun', 'policies'), join(d, 'policies'), {recursive: true})
    makeAttestor(join(d, 'attestors'), join(d, 'keys'), 'acme-run', 'built-by-ci')
    mkdirSync(join(d, 'attestations'))
    const profile = (name: string) =>
      [
        `  ${name}:`,
        '    platform: cloudrun',
        '    project: acme-run',
        `    policy: policies/${name}.yaml`,
        '    attestors: attestors',
        '    attestations: attestations',
      ].join('\n')
    writeFileSync(join(d, '.safe-deploy.yaml'), ['defaultProfile: dev', 'profiles:', profile('dev'), profile('staging'), profile('prod'), ''].join('\n'))
  })

  const preflight = async (args: string[], env: Record<string, string> = {}, cwd = d) => {
    const r = await runCli(['preflight', '--image', image, '--no-resolve', '--json', ...args], {cwd, env: isolatedEnv(env)})
    expect(r.stderr).not.toMatch(/Error \[/)
    return JSON.parse(r.stdout) as {verdict: string; policy: {source: string}; target: {platform: string; namespace: string; project?: string}}
  }

  it('defaults: no config file → GKE, namespace "default", nothing from a profile', async () => {
    cpSync(join(d, 'policies'), join(bare, 'policies'), {recursive: true})
    const out = await preflight(['--policy', 'policies/dev.yaml', '--attestors', join(d, 'attestors'), '--attestations', join(d, 'attestations')], {}, bare)
    expect(out.target).toEqual({platform: 'gke', namespace: 'default'})
    expect(out.policy.source).toMatch(/(^|\/)policies\/dev\.yaml$/)
  })

  it('file: defaultProfile chooses the profile, whose settings apply', async () => {
    const out = await preflight([])
    expect(out.policy.source).toMatch(/(^|\/)policies\/dev\.yaml$/)
    expect(out.target).toMatchObject({platform: 'cloudrun', project: 'acme-run'})
    expect(out.verdict).toBe('ALLOW')
  })

  it('environment: SAFE_DEPLOY_PROFILE beats defaultProfile', async () => {
    const out = await preflight([], {SAFE_DEPLOY_PROFILE: 'prod'})
    expect(out.policy.source).toMatch(/(^|\/)policies\/prod\.yaml$/)
    expect(out.verdict).toBe('DENY')
  })

  it("flags: --profile beats SAFE_DEPLOY_PROFILE, and a flag beats the profile's setting", async () => {
    const out = await preflight(['--profile', 'staging'], {SAFE_DEPLOY_PROFILE: 'prod'})
    expect(out.policy.source).toMatch(/(^|\/)policies\/staging\.yaml$/)
    expect(out.verdict).toBe('DRYRUN_DENY')
    const flag = await preflight(['--profile', 'prod', '--policy', 'policies/dev.yaml', '--platform', 'gke', '-n', 'shop'])
    expect(flag.policy.source).toMatch(/(^|\/)policies\/dev\.yaml$/)
    expect(flag.target).toMatchObject({platform: 'gke', namespace: 'shop', project: 'acme-run'})
  })

  it('an unknown profile from the environment is a usage error naming it', async () => {
    const r = await runCli(['preflight', '--image', image, '--no-resolve'], {cwd: d, env: isolatedEnv({SAFE_DEPLOY_PROFILE: 'qa'})})
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('profile "qa" is not defined in')
    expect(r.stderr).toContain('defined profiles: dev, staging, prod')
  })
})
