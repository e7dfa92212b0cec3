/** Shared pieces of the onboarding tests (init, wizard, config, policy lint/explain). */
import {expect} from '@jest/globals'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

export const GOLDEN = fileURLToPath(new URL('./golden', import.meta.url))
export const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1'

export const DIGEST = 'sha256:' + 'a'.repeat(64)

export function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sd-onb-${prefix}-`))
}

/** Every file under dir, relative, sorted (dotfiles included). */
export function listFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else out.push(relative(dir, p))
    }
  }
  walk(dir)
  return out.sort()
}

/**
 * Compare `files` under `dir` byte for byte with test/e2e/onboarding/golden/<name>/, and check that the golden
 * set is exactly these files. UPDATE_GOLDEN=1 rewrites the golden files instead.
 */
export function expectGolden(name: string, dir: string, files: string[]): void {
  const gdir = join(GOLDEN, name)
  if (UPDATE_GOLDEN) {
    for (const f of files) {
      mkdirSync(dirname(join(gdir, f)), {recursive: true})
      writeFileSync(join(gdir, f), readFileSync(join(dir, f)))
    }
  }
  expect(existsSync(gdir)).toBe(true)
  expect(files.slice().sort()).toEqual(listFiles(gdir))
  for (const f of files) {
    const got = readFileSync(join(dir, f))
    const want = readFileSync(join(gdir, f))
    // toEqual on strings first for a readable diff, then the bytes.
    expect({file: f, text: got.toString('utf8')}).toEqual({file: f, text: want.toString('utf8')})
    expect(got.equals(want)).toBe(true)
  }
}

/** A kubeconfig with one gke_PROJECT_LOCATION_NAME context per name (never contacted). */
export function writeKubeconfig(file: string, contexts: string[]): string {
  const yaml =
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      ...contexts.flatMap((c) => [`- name: ${c}`, '  cluster: {server: "https://127.0.0.1:9"}']),
      'contexts:',
      ...contexts.flatMap((c) => [`- name: ${c}`, `  context: {cluster: ${c}, user: u}`]),
      'users:',
      '- name: u',
      '  user: {token: unused}',
      `current-context: ${contexts[0] ?? ''}`,
    ].join('\n') + '\n'
  writeFileSync(file, yaml)
  return file
}
