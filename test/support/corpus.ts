/**
 * The real-world manifest corpora: third-party files, so they are not in this repository. They are
 * read from `../shared/corpus` and `../shared/corpus-2` beside the repository root (each has a README
 * with sources, commits and licences); SAFE_DEPLOY_CORPUS / SAFE_DEPLOY_CORPUS_2 override the paths.
 * Where a folder is absent, the tests that need it are skipped with a visible message
 * (docs/testing.md#corpus).
 */
import {existsSync, readdirSync} from 'node:fs'
import {relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describeOrSkip} from './optional.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export const CORPUS = process.env.SAFE_DEPLOY_CORPUS ?? resolve(ROOT, '..', 'shared', 'corpus')
export const CORPUS_2 = process.env.SAFE_DEPLOY_CORPUS_2 ?? resolve(ROOT, '..', 'shared', 'corpus-2')

/** The corpus folder as the skip message names it (relative to the repository root). */
export function corpusLabel(dir: string): string {
  return relative(ROOT, dir) || dir
}

export function corpusAvailable(dir: string): boolean {
  return existsSync(dir)
}

/** The YAML files of a corpus folder, sorted; [] when the folder is absent. */
export function corpusFiles(dir: string): string[] {
  return corpusAvailable(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .sort()
    : []
}

/** `describe(name, fn)` when the corpus folder exists; otherwise skipped, naming the missing folder (optional.ts). */
export function describeCorpus(dir: string, name: string, fn: () => void): void {
  describeOrSkip(corpusAvailable(dir), name, `corpus tests skipped: ${corpusLabel(dir)} not found`, fn)
}
