/**
 * The differential check, shared by the class table (test/differential) and the generator
 * (test/fuzz/differential.test.ts): for each input, safe-deploy either refuses it, or the real
 * kubectl would send only images that safe-deploy located — for the input as written, for the
 * pinned text that `pin` writes, and for the objects `apply` sends.
 */
import {createHash} from 'node:crypto'
import {kubectlInput, manifestObjects, rewrittenMustMatch} from '../../src/core/manifest/objects.js'
import {rewriteText} from '../../src/core/manifest/rewrite.js'
import {scanOutcome} from '../../src/core/manifest/scan.js'
import type {KubectlOracle} from '../support/kubectl-oracle.js'

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

/** safe-deploy's reading of one input: the same steps pin and apply take, with fake digests. */
export function ourReading(text: string, file = 'input.yaml'): OurReading {
  const outcome = scanOutcome(text, file)
  if (!outcome.ok) return {refused: outcome.error.message, images: [], pinned: [], pinnedText: '', applyInput: ''}
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
    return {refused: (err as Error).message, images: [], pinned: [], pinnedText: '', applyInput: ''}
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
  /** Refused inputs on which kubectl would have sent an image the `yaml` package does not see there. */
  refusedWithHiddenImage: number
  failures: Array<{index: number; text: string; problems: string[]}>
}

/**
 * Check a batch of inputs against kubectl in three runs (original texts, pinned texts, apply
 * inputs). Images are attributed to inputs by a prefix the inputs carry (`prefixOf(i)`).
 */
export async function checkBatch(oracle: KubectlOracle, texts: readonly string[], prefixOf: (i: number) => string): Promise<BatchResult> {
  const ours = texts.map((t, i) => ourReading(t, `input-${i}.yaml`))
  const accepted = ours.flatMap((r, i) => (r.refused === undefined ? [i] : []))
  const original = await oracle.readMany(texts)
  const pinned = await oracle.readMany(accepted.map((i) => (ours[i] as OurReading).pinnedText))
  const applied = await oracle.readMany(accepted.map((i) => (ours[i] as OurReading).applyInput))
  const byPrefix = (images: readonly string[], i: number): string[] => images.filter((im) => im.startsWith(prefixOf(i)))
  const failedFile = (files: readonly string[], stderr: string, k: number): boolean => stderr.includes(files[k] as string)
  const result: BatchResult = {inputs: texts.length, refused: texts.length - accepted.length, compared: accepted.length, refusedWithHiddenImage: 0, failures: []}
  const unattributed = [...original.images, ...pinned.images, ...applied.images].filter((im) => !texts.some((_t, i) => im.startsWith(prefixOf(i))))
  for (const [i, r] of ours.entries()) {
    const kOriginal = byPrefix(original.images, i)
    if (r.refused !== undefined) {
      if (kOriginal.some((im) => im.includes('evil'))) result.refusedWithHiddenImage++
      continue
    }
    const k = accepted.indexOf(i)
    const problems = [
      ...differences(kOriginal, r.images, !failedFile(original.files, original.stderr, i)).map((p) => `as written: ${p}`),
      ...differences(byPrefix(pinned.images, i), r.pinned, false).map((p) => `pinned text: ${p}`),
      ...byPrefix(pinned.images, i).filter((im) => !im.includes('@sha256:')).map((im) => `pinned text: kubectl would send ${im} unpinned`),
      ...differences(byPrefix(applied.images, i), r.pinned, true).map((p) => `apply: ${p}`),
      ...(failedFile(applied.files, applied.stderr, k) ? [`apply: kubectl failed on what safe-deploy sends: ${applied.stderr.slice(0, 300)}`] : []),
    ]
    if (problems.length > 0) result.failures.push({index: i, text: texts[i] as string, problems})
  }
  if (unattributed.length > 0) result.failures.push({index: -1, text: '', problems: unattributed.map((im) => `kubectl would send ${im}, from no known input`)})
  return result
}
