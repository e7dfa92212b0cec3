/** The ports of `safe-deploy init` (src/app/init.ts): templates/ of the installed package, the target directory, the terminal. */
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {writeFilesAtomic} from '../adapters/fs/atomic.js'
import {fileExists, makeDirectory, readTextFile} from '../adapters/fs/files.js'
import type {InitPorts} from '../app/init.js'
import {terminalQuestions} from './init-wizard.js'

/** templates/ next to dist/ (or src/): shipped with the package. */
export function templatesDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../templates')
}

/** Ports that read and write under `dir` and ask in the terminal (only asked when init runs interactively). */
export function initPorts(dir: string, tdir = templatesDir()): InitPorts {
  return {
    // A missing template is a broken installation, not a user error.
    readTemplate: (path) => readTextFile(join(tdir, path), 'template', {code: 'INTERNAL'}),
    readExisting: (path) => (fileExists(join(dir, path)) ? readTextFile(join(dir, path), 'existing file') : undefined),
    writeFiles: async (files) => {
      const targets = files.map((f) => ({path: join(dir, f.path), text: f.text}))
      for (const t of targets) makeDirectory(dirname(t.path))
      await writeFilesAtomic(targets)
    },
    ask: terminalQuestions,
    confirmOverwrite: (path) => terminalQuestions.confirm(`${path} exists. Overwrite?`, false),
  }
}

/**
 * The action reference `init` writes into GitHub workflows when --action-ref is not given: the
 * package's GitHub repository (package.json `repository`) at this version's release tag, vVERSION,
 * which carries the compiled CLI the composite action runs (README "GitHub Action").
 */
export function defaultActionRef(pjson: {version: string; repository?: unknown}): string | undefined {
  const repo = pjson.repository
  const url = typeof repo === 'string' ? repo : typeof repo === 'object' && repo !== null ? (repo as {url?: unknown}).url : undefined
  if (typeof url !== 'string') return undefined
  const m = /^(?:github:|(?:git\+)?(?:https?|ssh|git):\/\/(?:git@)?github\.com\/|git@github\.com:)?([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+?)(?:\.git)?\/?$/.exec(url)
  return m ? `${m[1]}/${m[2]}@v${pjson.version}` : undefined
}
