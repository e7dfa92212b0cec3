/**
 * `kubectl safe-deploy …` through the machine's real kubectl (issue #16): kubectl finds the
 * `kubectl-safe_deploy` bin entry on PATH (linked as `npm install -g` and krew link it: a symlink to
 * the package's file) and runs it with the remaining arguments and its environment. The krew manifest
 * template's fields are the ones §1.5 of the integration notes requires, and its `bin` is the file
 * linked here. Needs dist/ (npm run build:dist) and kubectl on PATH.
 */
import {afterAll, beforeAll, describe, expect, it, jest} from '@jest/globals'
import {execFile} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {ROOT, isolatedEnv} from '../../support/cli.js'
import {deployment} from '../../support/fixtures.js'
import {startRegistry, type TestRegistry} from '../../support/registry.js'

jest.setTimeout(60_000)

let reg: TestRegistry
let dir: string
let pathDir: string
let env: Record<string, string>

interface KrewPlugin {
  apiVersion: string
  kind: string
  metadata: {name: string}
  spec: {
    version: string
    homepage: string
    shortDescription: string
    description: string
    caveats?: string
    platforms: Array<{selector: unknown; uri: string; sha256: string; files: Array<{from: string; to: string}>; bin: string}>
  }
}

const KREW_FILE = join(ROOT, 'templates/krew/safe-deploy.yaml')
const krew = (): KrewPlugin =>
  parseYaml(
    readFileSync(KREW_FILE, 'utf8').replaceAll('{{version}}', '0.1.0').replaceAll('{{org}}', 'acme').replaceAll('{{sha256}}', 'a'.repeat(64)),
  ) as KrewPlugin

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sd-kubectl-plugin-'))
  pathDir = join(dir, 'bin')
  // What krew does: link the manifest's `bin` (relative to the unpacked archive: here the package itself) as kubectl-safe_deploy.
  const bin = krew().spec.platforms[0]?.bin as string
  mkdirSync(pathDir)
  symlinkSync(join(ROOT, bin), join(pathDir, 'kubectl-safe_deploy'))
  env = isolatedEnv({PATH: `${pathDir}:${process.env.PATH ?? '/usr/bin:/bin'}`})
  reg = await startRegistry()
  await reg.pushImage('team/app', '1.4')
})

afterAll(async () => {
  await reg?.stop()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

function kubectl(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    execFile('kubectl', args, {cwd: dir, env, encoding: 'utf8'}, (err, stdout, stderr) => {
      resolve({code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr})
    })
  })
}

describe('kubectl plugin', () => {
  it('kubectl finds it: `kubectl plugin list` names kubectl-safe_deploy', async () => {
    const r = await kubectl(['plugin', 'list'])
    expect(r.stdout).toContain(join(pathDir, 'kubectl-safe_deploy'))
  })

  it('`kubectl safe-deploy --version` and `kubectl safe_deploy --version` run the CLI', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {version: string}
    for (const name of ['safe-deploy', 'safe_deploy']) {
      const r = await kubectl([name, '--version'])
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`^safe-deploy/${pkg.version.replaceAll('.', '\\.')} `))
    }
  })

  it('`kubectl safe-deploy pin -f …` pins against the registry, arguments passed as given', async () => {
    const file = join(dir, 'deploy.yaml')
    writeFileSync(file, deployment('app', `${reg.host}/team/app:1.4`))
    const {digest} = await reg.pushImage('team/app', '1.4')
    const r = await kubectl(['safe-deploy', 'pin', '-f', file, '--insecure-registry', reg.host])
    expect(r.stderr).toMatch(/pinned/i)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`image: ${reg.host}/team/app:1.4@${digest}`)
    // A failure keeps safe-deploy's exit status through kubectl (3: the input has no such file).
    const missing = await kubectl(['safe-deploy', 'pin', '-f', join(dir, 'nope.yaml')])
    expect(missing.code).toBe(3)
  })

  it('the krew manifest template: v-prefixed version, name matching the file, a bin the package has', () => {
    const k = krew()
    expect(k.apiVersion).toBe('krew.googlecontainertools.github.com/v1alpha2')
    expect(k.kind).toBe('Plugin')
    expect(k.metadata.name).toBe('safe-deploy')
    expect(k.spec.version).toBe('v0.1.0')
    expect(k.spec.shortDescription.length).toBeLessThanOrEqual(80)
    expect(k.spec.caveats).toMatch(/Node\.js 22/)
    for (const p of k.spec.platforms) {
      expect(p.uri).toMatch(/^https:\/\/.*\.tar\.gz$/)
      expect(p.sha256).toMatch(/^[0-9a-f]{64}$/)
      expect(existsSync(join(ROOT, p.bin))).toBe(true)
      expect(p.files).toEqual([{from: 'safe-deploy/*', to: '.'}])
    }
  })
})
