/**
 * The differential check, shared by the class table (test/e2e/differential) and the generator
 * (test/fuzz/differential.test.ts): for each input, safe-deploy either refuses it, or the real
 * kubectl would send only images that safe-deploy located — for the input as written, for the
 * pinned text that `pin` writes, and for the objects `apply` sends.
 */
import {createHash} from 'node:crypto'
import {kubectlInput, manifestObjects, rewrittenMustMatch} from '../../../src/core/manifest/objects.js'
import {rewriteText} from '../../../src/core/manifest/rewrite.js'
import {scanOutcome} from '../../../src/core/manifest/scan.js'
import type {KubectlOracle, KubectlView} from '../../support/kubectl-oracle.js'

export interface OurReading {
  /** Refused, with the message; or the images located, the pinned text and what apply would send. */
  refused?: string
  images: string[]
  pinned: string[]
  pinnedText: string
  applyInput: string
}

/** A deterministic fake digest per image, so the pinned text can be checked without a registry. */
export function fakePin(image: string): string {
  if (image.includes('@sha256:')) return image
  return `${image}@sha256:${createHash('sha256').update(image).digest('hex')}`
}

/** An error as the user reads it: the message, then each problem it lists (one per line). */
function said(err: Error & {errors?: readonly Error[]}): string {
  return [err.message, ...(err.errors ?? []).map((e) => e.message)].join('\n')
}

/** safe-deploy's reading of one input: the same steps pin and apply take, with fake digests. */
export function ourReading(text: string, file = 'input.yaml'): OurReading {
  const outcome = scanOutcome(text, file)
  if (!outcome.ok) return {refused: said(outcome.error), images: [], pinned: [], pinnedText: '', applyInput: ''}
  try {
    const reps = outcome.sites.filter((s) => fakePin(s.image) !== s.image).map((site) => ({site, value: fakePin(site.image)}))
    const pinnedText = reps.length === 0 ? text : rewriteText(text, reps)
    const evaluated = outcome.sites.map((site) => ({site, image: fakePin(site.image)}))
    rewrittenMustMatch(pinnedText, file, evaluated)
    return {
      images: outcome.sites.map((s) => s.image),
      pinned: evaluated.map((e) => e.image),
      pinnedText,
      applyInput: kubectlInput(manifestObjects(pinnedText, file)),
    }
  } catch (err) {
    return {refused: said(err as Error), images: [], pinned: [], pinnedText: '', applyInput: ''}
  }
}

/** Images kubectl would send that are not in `ours` (as a multiset; `exact` also wants none missing). */
export function differences(kubectl: readonly string[], ours: readonly string[], exact: boolean): string[] {
  const left = new Map<string, number>()
  for (const o of ours) left.set(o, (left.get(o) ?? 0) + 1)
  const out: string[] = []
  for (const k of kubectl) {
    const n = left.get(k) ?? 0
    if (n === 0) out.push(`kubectl would send ${k}, which safe-deploy did not evaluate`)
    else left.set(k, n - 1)
  }
  if (exact) for (const [o, n] of left) if (n > 0) out.push(`safe-deploy evaluated ${o} (x${n}), which kubectl would not send`)
  return out
}

export interface BatchResult {
  inputs: number
  refused: number
  compared: number
  /** Refused inputs (of those run through kubectl) on which kubectl would have sent an image the `yaml` package does not see there. */
  refusedWithHiddenImage: number
  /** Refused inputs that were run through kubectl. */
  refusedChecked?: number
  failures: Array<{index: number; text: string; problems: string[]}>
}

/**
 * kubectl's view of each text, in as few kubectl runs as possible: the texts go to kubectl as one
 * directory. A file kubectl cannot parse makes it print nothing at all, but it names every such file
 * (`error parsing FILE: …`), so those are run alone and the others together again. A failed run that
 * names no file is split in halves until each failing file stands alone. Images are attributed by
 * prefix (`prefixOf(i)` for `texts[i]`).
 */
export async function viewsOf(oracle: KubectlOracle, texts: readonly string[], prefixOf: (i: number) => string): Promise<KubectlView[]> {
  if (texts.length === 0) return []
  if (texts.length === 1) return [await oracle.read(texts[0] as string)]
  const run = await oracle.readMany(texts)
  if (run.status === 0) {
    return texts.map((_t, i) => ({status: 0, stderr: '', objects: [], images: run.images.filter((im) => im.startsWith(prefixOf(i)))}))
  }
  const unparsed = new Set(run.files.flatMap((f, i) => (run.stderr.includes(`error parsing ${f}:`) ? [i] : [])))
  // Each part is a list of indexes into texts; a part is viewed on its own, then the views go back in place.
  const all = texts.map((_t, i) => i)
  const mid = Math.ceil(all.length / 2)
  const parts: number[][] = unparsed.size === 0 ? [all.slice(0, mid), all.slice(mid)] : [...[...unparsed].map((i) => [i]), all.filter((i) => !unparsed.has(i))]
  const views: KubectlView[] = []
  for (const part of parts) {
    const partViews = await viewsOf(
      oracle,
      part.map((i) => texts[i] as string),
      (k) => prefixOf(part[k] as number),
    )
    part.forEach((i, k) => (views[i] = partViews[k] as KubectlView))
  }
  return views
}

/**
 * Check a batch of inputs against kubectl, in three views (original texts, pinned texts, apply
 * inputs). Images are attributed to inputs by a prefix the inputs carry (`prefixOf(i)`).
 */
export async function checkBatch(
  oracle: KubectlOracle,
  texts: readonly string[],
  prefixOf: (i: number) => string,
  opts: {refusedSample?: number} = {},
): Promise<BatchResult> {
  const ours = texts.map((t, i) => ourReading(t, `input-${i}.yaml`))
  const accepted = ours.flatMap((r, i) => (r.refused === undefined ? [i] : []))
  // Refused inputs are run through kubectl only to count the real holes among them (a sample, when asked).
  const refused = ours.flatMap((r, i) => (r.refused === undefined ? [] : [i])).slice(0, opts.refusedSample ?? Infinity)
  const acceptedPrefix = (k: number): string => prefixOf(accepted[k] as number)
  const refusedPrefix = (k: number): string => prefixOf(refused[k] as number)
  const original = await viewsOf(
    oracle,
    accepted.map((i) => texts[i] as string),
    acceptedPrefix,
  )
  const pinned = await viewsOf(
    oracle,
    accepted.map((i) => (ours[i] as OurReading).pinnedText),
    acceptedPrefix,
  )
  const applied = await viewsOf(
    oracle,
    accepted.map((i) => (ours[i] as OurReading).applyInput),
    acceptedPrefix,
  )
  const refusedViews = await viewsOf(
    oracle,
    refused.map((i) => texts[i] as string),
    refusedPrefix,
  )
  const result: BatchResult = {
    inputs: texts.length,
    refused: texts.length - accepted.length,
    compared: accepted.length,
    refusedWithHiddenImage: 0,
    failures: [],
  }
  result.refusedChecked = refused.length
  for (const [k, view] of refusedViews.entries()) {
    const own = view.images.filter((im) => im.startsWith(refusedPrefix(k)))
    if (own.some((im) => im.includes('evil') || im.includes('hidden'))) result.refusedWithHiddenImage++
  }
  const unattributed: string[] = []
  for (const [k, i] of accepted.entries()) {
    const r = ours[i] as OurReading
    const mine = (v: KubectlView): string[] => {
      for (const im of v.images) if (!texts.some((_t, j) => im.startsWith(prefixOf(j)))) unattributed.push(im)
      return v.images.filter((im) => im.startsWith(prefixOf(i)))
    }
    const o = original[k] as KubectlView
    const p = pinned[k] as KubectlView
    const a = applied[k] as KubectlView
    const problems = [
      ...differences(mine(o), r.images, o.status === 0).map((d) => `as written: ${d}`),
      ...differences(mine(p), r.pinned, p.status === 0).map((d) => `pinned text: ${d}`),
      ...mine(p)
        .filter((im) => !im.includes('@sha256:'))
        .map((im) => `pinned text: kubectl would send ${im} unpinned`),
      ...differences(mine(a), r.pinned, true).map((d) => `apply: ${d}`),
      ...(a.status === 0 ? [] : [`apply: kubectl failed on what safe-deploy sends: ${a.stderr.slice(0, 300)}`]),
    ]
    if (problems.length > 0) result.failures.push({index: i, text: texts[i] as string, problems})
  }
  if (unattributed.length > 0) result.failures.push({index: -1, text: '', problems: unattributed.map((im) => `kubectl would send ${im}, from no known input`)})
  return result
}
