/**
 * `safe-deploy pin`: read → locate → pin (registry or lock, one port) → read back what will be
 * emitted → write the files (all or nothing) and the lock file. The command renders the outcome.
 */
import {SafeDeployError} from '../core/errors.js'
import {lockFileText} from '../core/lock.js'
import type {PinStatus} from '../core/pin.js'
import {unexaminedError, unexaminedWarning} from '../core/manifest/unexamined.js'
import type {CustomImageRule, UnexaminedValue} from '../core/manifest/types.js'
import type {DigestResolver, InputReader, ManifestInputs, Progress} from '../core/ports.js'
import {loadManifests, pinLoaded, readBackPinned, type PinRun} from './manifests.js'

export interface PinOptions {
  inputs: ManifestInputs
  rules: readonly CustomImageRule[]
  stripTag: boolean
  /** Rewrite the input files in place (all or nothing) instead of printing. */
  write: boolean
  lockOutput?: string | undefined
  /** Replaying a lock file: tag@digest references are not looked up for drift. */
  replayingLock: boolean
  /** --strict: an image-like value no rule examined is an input error instead of a warning. */
  strict?: boolean
}

export interface PinPorts {
  reader: InputReader
  resolver: DigestResolver
  /** Write every file or none (atomic). */
  writeFiles(files: Array<{path: string; text: string}>): Promise<void>
  now?: () => Date
  /** Resolution progress (the terminal's; absent or a no-op elsewhere). */
  progress?: Progress | undefined
}

export interface PinSiteJson {
  file: string
  document: number
  apiVersion: string
  kind: string
  name: string
  path: string
  line: number
  original: string
  pinned: string
  digest: string
  status: PinStatus
  currentDigest?: string
  platform?: string
}

export interface PinSummary {
  sites: number
  unique: number
  pinned: number
  alreadyPinned: number
  drift: number
  files: number
  /** Image-like values no rule examined (left as written). */
  unexamined: number
}

/** What `pin --json` prints. */
export interface PinJson {
  sites: PinSiteJson[]
  summary: PinSummary
  warnings: string[]
  /** Image-like values no rule examined: left as written, neither pinned nor checked (docs/image-rules.md#unexamined-image-like-values). */
  unexamined: UnexaminedValue[]
  written: string[]
}

export interface PinOutcome extends PinJson {
  run: PinRun
  /** Seconds spent pinning (after the input was read and scanned). */
  seconds: number
  lockOutput?: string
}

export async function pin(options: PinOptions, ports: PinPorts): Promise<PinOutcome> {
  if (options.write && options.inputs.files.includes('-')) {
    throw new SafeDeployError('USAGE', '--write cannot rewrite stdin', {hint: 'drop --write to get the pinned YAML on stdout'})
  }
  const loaded = await loadManifests(options.inputs, options.rules, ports)
  if (options.strict === true && loaded.unexamined.length > 0) throw unexaminedError(loaded.unexamined, {deploy: false})
  const started = Date.now()
  const run = await pinLoaded(loaded, ports.resolver, {
    stripTag: options.stripTag,
    checkDrift: !options.replayingLock,
    ...(ports.now ? {now: ports.now} : {}),
    progress: ports.progress,
  })
  readBackPinned(run)

  const written: string[] = []
  if (options.write) {
    const changed = run.outputs.filter((o) => o.changed)
    await ports.writeFiles(changed.map((o) => ({path: o.file, text: o.text})))
    written.push(...changed.map((o) => o.file))
  }
  if (options.lockOutput !== undefined) await ports.writeFiles([{path: options.lockOutput, text: lockFileText(run.result.lock)}])

  const sites = run.result.sites
  return {
    run,
    seconds: (Date.now() - started) / 1000,
    ...(options.lockOutput !== undefined ? {lockOutput: options.lockOutput} : {}),
    sites: sites.map((s) => ({
      file: s.site.file,
      document: s.site.document,
      apiVersion: s.site.apiVersion,
      kind: s.site.kind,
      name: s.site.name,
      path: s.site.pathString,
      line: s.site.line,
      original: s.original,
      pinned: s.pinned,
      digest: s.digest,
      status: s.status,
      ...(s.currentDigest ? {currentDigest: s.currentDigest} : {}),
      ...(s.platform ? {platform: s.platform} : {}),
    })),
    summary: {
      sites: sites.length,
      unique: new Set(sites.map((s) => s.original)).size,
      pinned: sites.filter((s) => s.status === 'pinned').length,
      alreadyPinned: sites.filter((s) => s.status !== 'pinned').length,
      drift: sites.filter((s) => s.status === 'drift').length,
      files: run.files.length,
      unexamined: run.unexamined.length,
    },
    warnings: [...run.result.warnings, ...run.unexamined.map(unexaminedWarning)],
    unexamined: run.unexamined,
    written,
  }
}
