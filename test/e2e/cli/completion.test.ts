/**
 * Dynamic shell completion (issue #16): the hidden `__complete` command of the built CLI, and the bash
 * snippet of README "Shell completion" run by bash with the words typed so far (COMP_WORDS), `safe-deploy`
 * on PATH being the built CLI. oclif's own completion function stands in (it needs its cache files).
 * Needs dist/ (npx tsc -p tsconfig.build.json).
 */
import {describe, expect, it} from '@jest/globals'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {execFileSync} from 'node:child_process'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BIN, ROOT, isolatedEnv, runCli} from '../../support/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'sd-completion-'))
const kubeconfig = join(dir, 'kubeconfig')
writeFileSync(
  kubeconfig,
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
    'users: [{name: u, user: {token: t}}]',
    'contexts: [{name: gke_acme-prod_us-east1_prod, context: {cluster: c, user: u}}, {name: kind-dev, context: {cluster: c, user: u}}]',
    '',
  ].join('\n'),
)
writeFileSync(join(dir, '.safe-deploy.yaml'), 'apiVersion: safe-deploy.dev/v1\nkind: Config\nprofiles:\n  staging: {target: gke}\n  prod: {target: gke}\n')
const env = () => isolatedEnv({KUBECONFIG: kubeconfig})

describe('safe-deploy __complete', () => {
  it('contexts and profiles, one a line; hidden from help', async () => {
    expect(await runCli(['__complete', 'contexts'], {cwd: dir, env: env()})).toMatchObject({
      code: 0,
      stdout: 'gke_acme-prod_us-east1_prod\nkind-dev\n',
      stderr: '',
    })
    expect(await runCli(['__complete', 'profiles'], {cwd: dir, env: env()})).toMatchObject({code: 0, stdout: 'staging\nprod\n', stderr: ''})
    expect((await runCli(['--help'], {env: env()})).stdout).not.toContain('__complete')
  })
})

describe('the README bash snippet', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const snippet = /### Shell completion[\s\S]*?```bash\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
  const bin = join(dir, 'bin')
  mkdirSync(bin, {recursive: true})
  writeFileSync(join(bin, 'safe-deploy'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`)
  chmodSync(join(bin, 'safe-deploy'), 0o755)

  /** COMPREPLY for the words typed (the last one being completed). */
  const complete = (...words: string[]): string[] =>
    execFileSync(
      'bash',
      [
        '-c',
        `_safe-deploy_autocomplete() { COMPREPLY=(oclif-completion); }\n${snippet}\nCOMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _safe_deploy_values; printf '%s\\n' "\${COMPREPLY[@]}"`,
        'bash',
        ...words,
      ],
      {cwd: dir, env: {...env(), PATH: `${bin}:/usr/bin:/bin`}, encoding: 'utf8'},
    )
      .split('\n')
      .filter(Boolean)

  it('completes --context from the kubeconfig and --profile from .safe-deploy.yaml, by prefix; anything else is oclif', () => {
    expect(snippet).toContain('complete -o default -F _safe_deploy_values safe-deploy')
    expect(complete('safe-deploy', 'apply', '--context', '')).toEqual(['gke_acme-prod_us-east1_prod', 'kind-dev'])
    expect(complete('safe-deploy', 'apply', '--context', 'ki')).toEqual(['kind-dev'])
    expect(complete('safe-deploy', 'preflight', '--profile', '')).toEqual(['staging', 'prod'])
    expect(complete('safe-deploy', 'preflight', '--profile', 'p')).toEqual(['prod'])
    expect(complete('safe-deploy', 'pre')).toEqual(['oclif-completion'])
  })
})
