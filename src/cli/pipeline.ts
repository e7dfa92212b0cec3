/**
 * Composition root for the shared front half of pin / preflight / apply: read inputs, parse,
 * locate image sites, pin them through the registry (or a lock file), rewrite the files.
 */
import {parse as parseYaml} from 'yaml'
import {SafeDeployError, worstExit} from '../core/errors.js'
import {rewriteText} from '../core/manifest/rewrite.js'
import {rewrittenMustMatch} from '../core/manifest/objects.js'
import type {ImageSite, CustomImageRule} from '../core/manifest/types.js'
import {pinSites, parseLockObject, lookupForValue, LOCK_API_VERSION, type LockFile, type PinResult} from '../core/pin.js'
import {readInputs} from '../adapters/fs/inputs.js'
import {scanFiles, scanFilesStreaming} from '../core/manifest/scan-files.js'
import {writeFileAtomic} from '../adapters/fs/atomic.js'
import {readTextFile} from '../adapters/fs/files.js'
export {writeFilesAtomic} from '../adapters/fs/atomic.js'
import {RegistryResolver, type RegistryMirror} from '../adapters/registry/index.js'
import pLimit, {type LimitFunction} from 'p-limit'
import {stringify as stringifyYaml} from 'yaml'
import type {DigestResolver, ResolveOutcome, ResolveRequest} from '../core/ports.js'

export interface InputFlags {
  filename?: string[] | undefined
  recursive?: boolean | undefined
  kustomize?: string[] | undefined
}

export interface RegistryFlags {
  'registry-ca-cert'?: string | undefined
  'insecure-registry'?: string[] | undefined
  'registry-mirror'?: string[] | undefined
  concurrency: number
  'registry-timeout': number
  retries: number
}

export interface LoadedFile {
  file: string
  /** The text as read; every site's valueRange points into it (no parsed documents are kept). */
  text: string
}

export interface Loaded {
  files: LoadedFile[]
  sites: ImageSite[]
  /** The custom image rules the sites were located with (the rewritten text is read back with them). */
  rules?: readonly CustomImageRule[]
}

/**
 * A resolver that starts lookups as soon as image sites are found (while the rest of the input is
 * still being parsed) and answers pinSites from those in-flight results. Only exact image sites are
 * looked up — the same requests pinSites would make — so nothing extra reaches a registry.
 */
export class PrefetchingResolver implements DigestResolver {
  private readonly inFlight = new Map<string, Promise<ResolveOutcome>>()
  /**
   * `limit` lookups in flight at most (the registry concurrency), started in the order asked for;
   * a queued lookup starts only when one finishes, so its per-request timeout never runs while it waits.
   */
  private readonly limit: LimitFunction
  constructor(private readonly inner: DigestResolver, limit = 16) {
    this.limit = pLimit(Math.max(1, Math.floor(limit)))
  }

  /** Start the lookups these sites need (each reference once). */
  prefetch(sites: readonly ImageSite[]): void {
    for (const site of sites) {
      const req = lookupForValue(site.image, true)
      // Started, not awaited: pinSites asks for the same promise later (lookup() handles a rejection nobody asks for).
      if (req) void this.lookup(req)
    }
  }

  async resolveAll(requests: readonly ResolveRequest[]): Promise<ResolveOutcome[]> {
    return Promise.all(requests.map((r) => this.lookup(r)))
  }

  private lookup(req: ResolveRequest): Promise<ResolveOutcome> {
    let p = this.inFlight.get(req.image)
    if (p === undefined) {
      p = this.limit(async () => (await this.inner.resolveAll([req]))[0] as ResolveOutcome)
      // A prefetch nobody asks for again (the input failed to parse) must not be an unhandled rejection.
      p.catch(() => undefined)
      this.inFlight.set(req.image, p)
    }
    return p
  }
}

export async function loadManifests(flags: InputFlags, rules: CustomImageRule[], prefetch?: PrefetchingResolver): Promise<Loaded> {
  const files = flags.filename ?? []
  const kustomizeDirs = flags.kustomize ?? []
  if (files.length === 0 && kustomizeDirs.length === 0) {
    throw new SafeDeployError('USAGE', 'no input: give manifests with -f FILE|DIR|- or -k DIR', {
      hint: 'e.g. `safe-deploy pin -f k8s/ -R`, or `helm template ./chart | safe-deploy pin -f -`',
    })
  }
  // stdin is read by readInputs itself: bounded and decoded as strict UTF-8, like files.
  const inputs = await readInputs({files, recursive: flags.recursive === true, kustomizeDirs})
  const scanned = prefetch
    ? await scanFilesStreaming(inputs, rules, (sites) => prefetch.prefetch(sites))
    : scanFiles(inputs, rules)
  const loaded: LoadedFile[] = []
  const sites: ImageSite[] = []
  // YAML problems of every file first, then locate problems (as when parsing preceded locating).
  const problems: SafeDeployError[] = [
    ...scanned.flatMap((f) => (f.error && f.stage === 'parse' ? [f.error] : [])),
    ...scanned.flatMap((f) => (f.error && f.stage === 'locate' ? [f.error] : [])),
  ]
  for (const f of scanned) {
    if (f.error && f.stage === 'parse') continue
    loaded.push({file: f.file, text: f.text})
    for (const s of f.sites ?? []) sites.push(s)
  }
  if (problems.length > 0) throw aggregate(problems, 'input')
  return {files: loaded, sites, rules}
}

/** Several errors as one: the first one's code when alone, else a summary with all of them listed. */
export function aggregate(errors: SafeDeployError[], what: string): SafeDeployError {
  if (errors.length === 1) return errors[0] as SafeDeployError
  const exit = worstExit(errors)
  const lead = errors.find((e) => e.exitCode === exit) ?? (errors[0] as SafeDeployError)
  return new SafeDeployError(lead.code, `${errors.length} ${what} problems; nothing was written or deployed:`, {errors, hint: lead.hint})
}

/** `--registry-mirror FROM=TO` values, parsed once into what the registry client uses. */
export function parseMirrors(values: string[] | undefined): Map<string, RegistryMirror> {
  const out = new Map<string, RegistryMirror>()
  for (const v of values ?? []) {
    const i = v.indexOf('=')
    const to = v.slice(i + 1)
    const host = to.replace(/^https?:\/\//, '').replace(/\/+$/, '')
    if (i <= 0 || host === '') {
      throw new SafeDeployError('USAGE', `--registry-mirror expects FROM=TO (e.g. docker.io=mirror.example.com:5000), got "${v}"`)
    }
    out.set(v.slice(0, i), {host, ...(to.startsWith('http://') ? {insecure: true} : {})})
  }
  return out
}

export function buildResolver(flags: RegistryFlags, platform: string | undefined, debug: (line: string) => void): DigestResolver {
  return new RegistryResolver({
    concurrency: flags.concurrency,
    timeoutMs: flags['registry-timeout'] * 1000,
    retries: flags.retries,
    insecureRegistries: flags['insecure-registry'] ?? [],
    mirrors: parseMirrors(flags['registry-mirror']),
    ...(flags['registry-ca-cert'] ? {caCertFile: flags['registry-ca-cert']} : {}),
    ...(platform ? {platform} : {}),
    debug,
  })
}

export function readLockFile(path: string): LockFile {
  const text = readTextFile(path, 'lock file', {location: true})
  let obj: unknown
  try {
    obj = parseYaml(text, {maxAliasCount: 0})
  } catch (err) {
    throw new SafeDeployError('INVALID_INPUT', `${path}: lock file is not valid YAML: ${(err as Error).message.split('\n')[0]}`, {location: {file: path}})
  }
  return parseLockObject(obj, path)
}

export interface PinRun extends Loaded {
  result: PinResult
  /** Rewritten text per file (same order as files). */
  outputs: Array<{file: string; text: string; changed: boolean}>
}

export async function pinLoaded(loaded: Loaded, deps: {resolver?: DigestResolver; lock?: LockFile}, opts: {stripTag: boolean}): Promise<PinRun> {
  const result = await pinSites(loaded.sites, {...deps, clock: {now: () => new Date()}}, {stripTag: opts.stripTag})
  if (result.errors.length > 0) throw aggregate(result.errors, 'image')
  const byFile = new Map<string, Array<{site: ImageSite; value: string}>>()
  for (const s of result.sites) {
    if (s.pinned === s.original) continue
    const list = byFile.get(s.site.file) ?? []
    list.push({site: s.site, value: s.pinned})
    byFile.set(s.site.file, list)
  }
  const outputs = loaded.files.map((f) => {
    const reps = byFile.get(f.file)
    if (!reps || reps.length === 0) return {file: f.file, text: f.text, changed: false}
    return {file: f.file, text: rewriteText(f.text, reps), changed: true}
  })
  return {...loaded, result, outputs}
}

/**
 * The second look for what `pin` emits (docs/kubectl-reading.md#the-second-look): every rewritten
 * file is read back and must hold exactly the pinned values. apply and run replace do not send the
 * rewritten text, so they check the objects they send instead (secondLook).
 */
export function readBackPinned(run: PinRun): void {
  const evaluated = new Map<string, Array<{site: ImageSite; image: string}>>()
  for (const s of run.result.sites) {
    const list = evaluated.get(s.site.file) ?? []
    list.push({site: s.site, image: s.pinned})
    evaluated.set(s.site.file, list)
  }
  for (const o of run.outputs) {
    if (o.changed) rewrittenMustMatch(o.text, o.file, evaluated.get(o.file) ?? [], run.rules ?? [])
  }
}

export async function writeLock(path: string, result: PinResult): Promise<void> {
  const lock: LockFile = {apiVersion: LOCK_API_VERSION, kind: 'ImageLock', images: result.lock}
  await writeFileAtomic(path, '# Generated by safe-deploy pin. Replay with --lock.\n' + stringifyYaml(lock))
}

/** Join several files' YAML for stdout, with document separators between files. */
export function joinYamlStreams(texts: string[]): string {
  return texts.map((t, i) => {
    const body = t.endsWith('\n') ? t : t + '\n'
    return i === 0 || /^---/.test(body) ? body : '---\n' + body
  }).join('')
}
