/**
 * Fuzz the manifest locator (src/core/manifest): arbitrary YAML-ish text never throws anything
 * but a SafeDeployError; for every document that parses, locate → rewrite with the same values is
 * the identity (byte for byte), and rewriting to pinned values is found again by locate.
 */
import {afterAll, describe, expect, it} from '@jest/globals'
import fc from 'fast-check'
import {SafeDeployError} from '../../src/core/errors.js'
import {parseManifest} from '../../src/core/manifest/parse.js'
import {locateImages} from '../../src/core/manifest/locate.js'
import {isPlainSafe, rewriteImages, rewriteText} from '../../src/core/manifest/rewrite.js'
import {readBackStretches, rewrittenMustMatch, rewrittenStretchesMustMatch} from '../../src/core/manifest/objects.js'
import {sitesAfterSwap} from '../../src/core/manifest/swap-reading.js'
import {parseWritten} from '../../src/core/reference/index.js'
import type {ImageSite} from '../../src/core/manifest/types.js'
import {FUZZ_TIMEOUT_MS, makeTally} from './runner.js'
import {referenceish, validReference} from './arbitraries.js'
import {stringify} from 'yaml'

const tally = makeTally('manifest')
afterAll(() => tally.report())

const chars = (s: string): fc.Arbitrary<string> => fc.constantFrom(...s.split(''))
const YAMLISH = 'abcimagekindspec: -[]{}\n\n  #&*!|>\'",?%@`~\t\\\ufeff\u00e9'
const yamlish = fc.string({
  unit: fc.oneof(
    {weight: 30, arbitrary: chars(YAMLISH)},
    {weight: 1, arbitrary: fc.constantFrom('---\n', '...\n', 'image: ', 'containers:\n', '- ', '&a ', '*a', '!!str ', '<<: ', 'kind: Pod\n')},
  ),
  maxLength: 400,
})

const imageValue = fc.oneof(
  {weight: 6, arbitrary: validReference},
  {weight: 2, arbitrary: referenceish},
  {weight: 1, arbitrary: fc.constantFrom('', '~', 'null', '123', 'true', '{{ .Values.image }}', '${IMAGE}', 'ko://x', 'a b')},
)
/** One scalar, in one of YAML's styles (some of which are invalid for some values: that is the point). */
const styled = (v: string): fc.Arbitrary<string> => fc.constantFrom(v, `'${v.replace(/'/g, "''")}'`, JSON.stringify(v), `"${v}"`, `!!str ${v}`, `&img ${v}`)
const container = fc
  .tuple(fc.constantFrom('c', 'app', 'side-car'), imageValue.chain(styled), fc.boolean(), fc.constantFrom('', '  # a comment', ' #x'))
  .map(([name, img, flow, comment]) => (flow ? `- {name: ${name}, image: ${img}}${comment}` : `- name: ${name}${comment}\n  image: ${img}${comment}`))
const containers = fc.array(container, {minLength: 0, maxLength: 3}).map((cs) => cs.map((c) => c.replace(/^/gm, '      ')).join('\n'))
const workload = fc
  .record({
    kind: fc.constantFrom('Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'Pod', 'CronJob', 'Service', 'ConfigMap', 'Widget'),
    name: fc.constantFrom('web', 'w-1', '"quoted"', "'single'"),
    ns: fc.option(fc.constantFrom('prod', 'default'), {nil: undefined}),
    cs: containers,
    init: fc.option(containers, {nil: undefined}),
    extra: fc.option(fc.jsonValue({maxDepth: 2}), {nil: undefined}),
  })
  .map(({kind, name, ns, cs, init, extra}) => {
    const apiVersion =
      kind === 'Service'
        ? 'serving.knative.dev/v1'
        : kind === 'Job' || kind === 'CronJob'
          ? 'batch/v1'
          : kind === 'Pod' || kind === 'ConfigMap'
            ? 'v1'
            : 'apps/v1'
    const pod = `    spec:\n      containers:\n${cs || '      []'}\n${init ? `      initContainers:\n${init || '      []'}\n` : ''}`
    const body =
      kind === 'Pod'
        ? pod.replace(/^ {4}/gm, '')
        : kind === 'CronJob'
          ? `spec:\n  jobTemplate:\n    spec:\n      template:\n${pod.replace(/^/gm, '    ')}`
          : `spec:\n  template:\n${pod}`
    const meta = `metadata:\n  name: ${name}\n${ns ? `  namespace: ${ns}\n` : ''}`
    const x = extra === undefined ? '' : `x-extra: ${JSON.stringify(extra)}\n`
    return `# generated\napiVersion: ${apiVersion}\nkind: ${kind}\n${meta}${x}${body}`
  })
const stream = fc.tuple(fc.array(workload, {minLength: 1, maxLength: 4}), fc.constantFrom('\n', '\r\n'), fc.boolean()).map(([docs, eol, finalNewline]) => {
  const t = docs.join('---\n').replace(/\n/g, eol)
  return finalNewline ? t : t.replace(/(\r?\n)+$/, '')
})
/** Small corruptions of a valid stream: a deleted, duplicated or inserted character. */
const mutated = fc.tuple(stream, fc.nat(), fc.constantFrom('del', 'dup', 'ins'), chars(YAMLISH)).map(([s, n, op, c]) => {
  const i = s.length === 0 ? 0 : n % s.length
  return op === 'del' ? s.slice(0, i) + s.slice(i + 1) : op === 'dup' ? s.slice(0, i) + s[i] + s.slice(i) : s.slice(0, i) + c + s.slice(i)
})
/** Objects with a Kubernetes shape, serialized by the yaml library (always valid YAML). */
const objects = fc
  .tuple(fc.constantFrom('Deployment', 'Pod', 'Job'), fc.array(imageValue, {maxLength: 3}), fc.jsonValue({maxDepth: 3}))
  .map(([kind, images, extra]) =>
    stringify({
      apiVersion: kind === 'Job' ? 'batch/v1' : kind === 'Pod' ? 'v1' : 'apps/v1',
      kind,
      metadata: {name: 'x'},
      extra,
      spec:
        kind === 'Pod'
          ? {containers: images.map((image, i) => ({name: `c${i}`, image}))}
          : {template: {spec: {containers: images.map((image, i) => ({name: `c${i}`, image}))}}},
    }),
  )

/** Parse + locate; undefined when refused with a SafeDeployError; any other exception fails. */
function load(text: string): {m: ReturnType<typeof parseManifest>; sites: ImageSite[]} | undefined {
  try {
    const m = parseManifest(text, 'fuzz.yaml')
    return {m, sites: locateImages(m)}
  } catch (e) {
    if (e instanceof SafeDeployError) return undefined
    throw e
  }
}

/**
 * What `pin` rewrites: sites whose value is an image reference (anything else is UNPINNABLE_VALUE
 * and never rewritten; unchanged sites are skipped by pinLoaded). See docs/RELIABILITY.md for the
 * two non-reference cases the fuzzer found (re-quoting, an empty scalar before a comment).
 */
function isReference(v: string): boolean {
  try {
    parseWritten(v)
    return true
  } catch {
    return false
  }
}

/**
 * locate → rewrite with the same values. Byte-identical when every value is an image reference
 * (what `pin` rewrites) written plain-safe or quoted on one line without escapes. Otherwise rewrite may re-render the scalar
 * (a PLAIN `true` / `${IMAGE}` is quoted, a double-quoted "\u0000" becomes "\0"), and the text must
 * still parse and locate to exactly the same values. Empty values are left out
 * (UNPINNABLE_VALUE: `pin` never rewrites them; see docs/RELIABILITY.md, fuzz findings).
 */
function identity(text: string): void {
  const r = load(text)
  if (!r) return
  const sites = r.sites.filter((s) => s.image !== '')
  const exact = sites.every((s) => {
    const src = text.slice(s.valueRange[0], s.valueRange[1])
    return isReference(s.image) && (src === `'${s.image}'` || src === `"${s.image}"` || (src === s.image && isPlainSafe(s.image)))
  })
  let out: string
  try {
    out = rewriteImages(
      r.m,
      sites.map((site) => ({site, value: site.image})),
    )
  } catch (e) {
    // A reasoned refusal (e.g. a `|+` block scalar keeps a line break no reference has) is fine; INTERNAL is not.
    if (!exact && e instanceof SafeDeployError && e.code !== 'INTERNAL') return
    throw e
  }
  if (exact) {
    expect(out).toBe(text)
  } else {
    const again = load(out)
    expect(again).toBeDefined()
    expect(again!.sites.map((s) => s.image)).toEqual(r.sites.map((s) => s.image))
  }
}

/** ok, or the message of the SafeDeployError thrown; any other exception fails. */
function verdict(f: () => void): string {
  try {
    f()
    return 'ok'
  } catch (e) {
    if (e instanceof SafeDeployError) return e.message
    throw e
  }
}

/** Streams pinned, and those the read-back by stretches settled without the whole read-back (it must, often). */
const stretches = {pinned: 0, settled: 0, swapped: 0}
const siteKey = (s: ImageSite): string =>
  [s.document, s.apiVersion, s.kind, s.name, s.namespace, s.container, s.serviceAccount, s.pathString, s.line, s.image, s.role, s.scalarType].join(' ')

/**
 * pin's read-back by stretches (rewrittenStretchesMustMatch, src/core/manifest/objects.ts) against the whole
 * read-back: the same verdict and message for a stream with some of its references pinned (`mask` picks which),
 * and for what a bug upstream could hand it: the evaluated list with one site left out, or one value changed.
 * Stretches of about 64 characters, so that these small streams are cut into several.
 */
function stretchesAgree([text, mask]: [string, number]): void {
  const r = load(text)
  if (!r) return
  const located = r.sites
  const evaluated = located.map((site, i) => ({
    site,
    image: isReference(site.image) && (mask >> i % 30) & 1 ? `registry.example/app${i}@sha256:${String(i).padStart(64, '0')}` : site.image,
  }))
  let rewritten: string
  try {
    rewritten = rewriteText(
      text,
      evaluated.filter((e) => e.image !== e.site.image).map((e) => ({site: e.site, value: e.image})),
    )
  } catch (e) {
    if (e instanceof SafeDeployError && e.code !== 'INTERNAL') return // e.g. a block scalar that cannot hold the value
    throw e
  }
  if (readBackStretches({file: 'fuzz.yaml', original: text, located, rewritten, evaluated, partChars: 64}) !== undefined) stretches.settled++
  stretches.pinned++
  // Where the lexemes alone give the sites of the rewritten text (swap-reading.ts), locating it again finds those.
  const swaps = evaluated.filter((e) => e.image !== e.site.image).map((e) => ({site: e.site, value: e.image}))
  const answer = sitesAfterSwap(text, rewritten, located, swaps)
  if (answer !== undefined && swaps.length > 0) {
    stretches.swapped++
    expect(answer.map(siteKey)).toEqual(load(rewritten)?.sites.map(siteKey))
  }
  const k = evaluated.length === 0 ? -1 : mask % evaluated.length
  const variants = [evaluated, evaluated.filter((_, i) => i !== k), evaluated.map((e, i) => (i === k ? {...e, image: e.image + 'x'} : e))]
  for (const ev of variants) {
    const whole = verdict(() => rewrittenMustMatch(rewritten, 'fuzz.yaml', ev))
    const byStretches = verdict(() => rewrittenStretchesMustMatch({file: 'fuzz.yaml', original: text, located, rewritten, evaluated: ev, partChars: 64}))
    expect(byStretches).toBe(whole)
  }
}

describe('manifest locator', () => {
  it(
    'arbitrary YAML-ish text: only SafeDeployError',
    () => {
      tally.run('YAML-ish strings', yamlish, (t) => {
        identity(t)
      })
    },
    FUZZ_TIMEOUT_MS,
  )
  it(
    'Kubernetes-shaped streams with mixed scalar styles, and small corruptions of them: only SafeDeployError; locate→rewrite(same) is the identity',
    () => {
      tally.run('k8s-shaped streams: locate→rewrite identity', stream, (t) => {
        identity(t)
      })
      tally.run('corrupted k8s streams', mutated, (t) => {
        identity(t)
      })
      tally.run('yaml.stringify(k8s objects)', objects, (t) => {
        identity(t)
      })
      tally.run('read-back by stretches = whole read-back', fc.tuple(stream, fc.nat()), stretchesAgree)
      expect(stretches.settled).toBeGreaterThan(stretches.pinned / 4)
      console.log(`read-back by stretches: ${stretches.settled} of ${stretches.pinned} pinned streams settled, ${stretches.swapped} by their lexemes alone`)
      expect(stretches.swapped).toBeGreaterThan(stretches.pinned / 10)
    },
    FUZZ_TIMEOUT_MS,
  )
  it(
    'rewriting every image to a pinned value: locate finds exactly the new values, nothing else changes length-wise outside them',
    () => {
      tally.run('rewrite to pinned, relocate', stream, (t) => {
        const r = load(t)
        const refs = r?.sites.filter((s) => isReference(s.image)) ?? []
        if (!r || refs.length === 0 || refs.length !== r.sites.length) return
        const pinned = refs.map((site, i) => ({site, value: `registry.example/app${i}:v@sha256:${String(i).padStart(64, '0')}`}))
        let out: string
        try {
          out = rewriteImages(r.m, pinned)
        } catch (e) {
          if (e instanceof SafeDeployError && e.code !== 'INTERNAL') return // e.g. a block scalar that cannot hold the value
          throw e
        }
        const again = load(out)
        expect(again).toBeDefined()
        expect(again!.sites.map((s) => s.image)).toEqual(pinned.map((p) => p.value))
      })
    },
    FUZZ_TIMEOUT_MS,
  )
})
