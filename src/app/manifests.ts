/**
 * The front half every manifest command shares (pin, preflight, apply, run replace): read the
 * inputs, locate the image sites as kubectl would read them, pin them through the resolver port
 * (registry or replayed lock file), and rewrite only the image values. Nothing is written here.
 */
import {SafeDeployError, aggregateErrors} from '../core/errors.js'
import {rewriteText} from '../core/manifest/rewrite.js'
import {rewrittenStretchesMustMatch} from '../core/manifest/objects.js'
import {scanFiles, scanFilesStreaming} from '../core/manifest/scan-files.js'
import {noObjectsProblem} from '../core/manifest/whole-input.js'
import {pinSites, type PinResult} from '../core/pin.js'
import type {CustomImageRule, ImageSite, UnexaminedValue} from '../core/manifest/types.js'
import type {DigestResolver, InputReader, InputText, ManifestInputs, Progress, ResolveOutcome} from '../core/ports.js'
import {step} from './progress.js'

export interface Loaded {
  /** The text as read; every site's valueRange points into it (no parsed documents are kept). */
  files: InputText[]
  sites: ImageSite[]
  /** Image-like values no rule examined: neither pinned nor pre-flighted (docs/image-rules.md#unexamined-image-like-values). */
  unexamined: UnexaminedValue[]
  /** The custom image rules the sites were located with (the rewritten text is read back with them). */
  rules: readonly CustomImageRule[]
}

export interface PinRun extends Loaded {
  result: PinResult
  /** Rewritten text per file (same order as files). */
  outputs: Array<{file: string; text: string; changed: boolean}>
}

export function hasManifests(inputs: ManifestInputs): boolean {
  return inputs.files.length > 0 || inputs.kustomizeDirs.length > 0 || (inputs.helmCharts?.length ?? 0) > 0
}

/**
 * Read and scan every input; all YAML problems, then all locate problems, reported at once. An
 * input with no object at all (an empty stdin) is refused, as kubectl refuses it.
 */
export async function loadManifests(
  inputs: ManifestInputs,
  rules: readonly CustomImageRule[],
  ports: {reader: InputReader; resolver?: DigestResolver | undefined},
): Promise<Loaded> {
  if (!hasManifests(inputs)) {
    throw new SafeDeployError('USAGE', 'no input: give manifests with -f FILE|DIR|- or -k DIR', {
      hint: 'e.g. `safe-deploy pin -f k8s/ -R`, or `helm template ./chart | safe-deploy pin -f -`',
    })
  }
  const texts = await ports.reader.read(inputs)
  const prefetch = ports.resolver?.prefetch?.bind(ports.resolver)
  // With a prefetching resolver, lookups start while the rest of the input is still being parsed.
  const scanned = prefetch ? await scanFilesStreaming(texts, rules, prefetch) : scanFiles(texts, rules)
  const problems: SafeDeployError[] = [
    ...scanned.flatMap((f) => (f.error && f.stage === 'parse' ? [f.error] : [])),
    ...scanned.flatMap((f) => (f.error && f.stage === 'locate' ? [f.error] : [])),
  ]
  if (problems.length > 0) throw aggregateErrors(problems, 'input')
  const files = scanned.map((f) => ({file: f.file, text: f.text}))
  const sites = scanned.flatMap((f) => f.sites ?? [])
  // An image site is an object: only an input without any is read again for objects.
  const empty = sites.length === 0 ? noObjectsProblem(files) : undefined
  if (empty) throw empty
  return {files, sites, unexamined: scanned.flatMap((f) => f.unexamined ?? []), rules}
}

/** Pin every site (all failures at once), then rewrite each file's image values in place. */
export async function pinLoaded(
  loaded: Loaded,
  resolver: DigestResolver,
  opts: {stripTag: boolean; checkDrift: boolean; now?: () => Date; progress?: Progress | undefined},
): Promise<PinRun> {
  const counted = opts.progress ? countingResolver(resolver, opts.progress) : resolver
  const result = await pinSites(
    loaded.sites,
    {resolver: counted, clock: {now: opts.now ?? (() => new Date())}},
    {stripTag: opts.stripTag, checkDrift: opts.checkDrift},
  )
  if (result.errors.length > 0) throw aggregateErrors(result.errors, 'image')
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
 * The resolver with one progress step per batch, ticked as each lookup completes. The batch is asked one
 * reference at a time; the resolver still dedupes and bounds concurrency (across calls) and retries.
 */
export function countingResolver(resolver: DigestResolver, progress: Progress): DigestResolver {
  return {
    ...(resolver.prefetch ? {prefetch: resolver.prefetch.bind(resolver)} : {}),
    resolveAll: (requests) =>
      step(
        progress,
        'resolving image digests',
        () =>
          Promise.all(
            requests.map(async (req) => {
              const [outcome] = await resolver.resolveAll([req])
              progress.tick()
              return outcome as ResolveOutcome
            }),
          ),
        requests.length,
      ),
  }
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
  const located = new Map<string, ImageSite[]>()
  for (const s of run.sites) {
    const list = located.get(s.file) ?? []
    list.push(s)
    located.set(s.file, list)
  }
  for (const [i, o] of run.outputs.entries()) {
    if (!o.changed) continue
    // Only the stretches the rewrite changed are parsed again (a CRD-heavy install.yaml is not read twice whole).
    rewrittenStretchesMustMatch({
      file: o.file,
      original: (run.files[i] as InputText).text,
      located: located.get(o.file) ?? [],
      rewritten: o.text,
      evaluated: evaluated.get(o.file) ?? [],
      rules: run.rules,
    })
  }
}
