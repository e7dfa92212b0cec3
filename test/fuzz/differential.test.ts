/**
 * Generated parser-differential inputs against the real kubectl: fast-check mixes YAML features
 * (anchors and aliases, merge keys, tags, flow and block styles, odd line breaks, separators, BOMs,
 * JSON, lists of every shape) around image fields. For every input, safe-deploy refuses it, or
 * kubectl would send only what safe-deploy located (as written, pinned, and as apply sends it).
 *
 * Inputs are checked in batches (one kubectl run per view per batch, test/e2e/differential/compare.ts).
 * Count: FUZZ_RUNS x 0.58 (CI's 2,000 → 1,160 inputs; `npm run fuzz`'s 35,000 → 20,300).
 */
import {afterAll, beforeAll, expect, it} from '@jest/globals'
import fc from 'fast-check'
import {KubectlOracle} from '../support/kubectl-oracle.js'
import {checkBatch, type BatchResult} from '../e2e/differential/compare.js'
import {FUZZ_TIMEOUT_MS, RUNS, SEED, makeTally} from './runner.js'

const WEIGHT = 0.58
const BATCH = 250

type Tail = 'none' | 'oddBreak' | 'dupKey' | 'aliasKey' | 'binaryKey' | 'mergeFlow' | 'mergeAlias' | 'strKey'
type Value = 'plain' | 'single' | 'double' | 'escaped' | 'binaryTag' | 'customTag' | 'strTag' | 'yaml11' | 'blockLiteral'
type Shape = 'pod' | 'deployment' | 'podList' | 'list' | 'itemsOnDeployment' | 'nestedList' | 'itemsNull' | 'json' | 'jsonDupKey'
type Separator = '---' | '--- # c' | '---\t' | '---#' | '--- junk' | '...\n---' | '...' | '---\n\uFEFF'

interface Container {
  value: Value
  tail: Tail
  br: string
}
interface Doc {
  shape: Shape
  flow: boolean
  containers: Container[]
  anchorContainer: boolean
}
interface Input {
  docs: Doc[]
  separators: Separator[]
  crlf: boolean
  leadingBom: boolean
}

const container: fc.Arbitrary<Container> = fc.record({
  value: fc.oneof(
    {weight: 30, arbitrary: fc.constantFrom<Value>('plain', 'single', 'double', 'escaped', 'strTag', 'blockLiteral')},
    {weight: 2, arbitrary: fc.constantFrom<Value>('binaryTag', 'customTag', 'yaml11')},
  ),
  tail: fc.oneof(
    {weight: 40, arbitrary: fc.constantFrom<Tail>('none', 'strKey')},
    {weight: 2, arbitrary: fc.constantFrom<Tail>('oddBreak', 'dupKey', 'aliasKey', 'binaryKey', 'mergeFlow', 'mergeAlias')},
  ),
  br: fc.constantFrom('\u2028', '\u2029', '\u0085', '\r'),
})
const doc: fc.Arbitrary<Doc> = fc.record({
  shape: fc.oneof(
    {weight: 20, arbitrary: fc.constantFrom<Shape>('pod', 'deployment', 'podList', 'list', 'itemsOnDeployment', 'itemsNull', 'json')},
    {weight: 1, arbitrary: fc.constantFrom<Shape>('nestedList', 'jsonDupKey')},
  ),
  flow: fc.boolean(),
  containers: fc.array(container, {minLength: 1, maxLength: 2}),
  anchorContainer: fc.boolean(),
})
const input: fc.Arbitrary<Input> = fc.integer({min: 1, max: 3}).chain((n) =>
  fc.record({
    docs: fc.array(doc, {minLength: n, maxLength: n}),
    separators: fc.array(
      fc.oneof(
        {weight: 30, arbitrary: fc.constantFrom<Separator>('---', '--- # c', '---\t', '...\n---')},
        {weight: 2, arbitrary: fc.constantFrom<Separator>('---#', '--- junk', '...', '---\n\uFEFF')},
      ),
      {minLength: n, maxLength: n},
    ),
    crlf: fc.boolean(),
    leadingBom: fc.boolean(),
  }),
)

/** Render one input; every image value carries the prefix `p` so kubectl's images can be attributed. */
function render(inp: Input, p: string): string {
  let k = 0
  const parts = inp.docs.map((d, i) => renderDoc(d, p, i, () => k++))
  let text = inp.leadingBom ? '\uFEFF' : ''
  parts.forEach((part, i) => {
    text += (i === 0 ? '' : (inp.separators[i] as string) + '\n') + part
  })
  return inp.crlf ? text.replace(/\n/g, '\r\n') : text
}

function value(v: Value, image: string): string {
  switch (v) {
    case 'plain':
      return image
    case 'single':
      return `'${image}'`
    case 'double':
      return `"${image}"`
    case 'escaped':
      return `"${image.replace(/-/g, '\\x2d')}"`
    case 'binaryTag':
      return `!!binary ${Buffer.from(image).toString('base64')}`
    case 'customTag':
      return `!foo ${image}`
    case 'strTag':
      return `!!str ${image}`
    case 'yaml11':
      return 'y'
    case 'blockLiteral':
      return `|-\n          ${image}`
  }
}

function renderContainer(c: Container, p: string, n: number, ind: string, anchor: boolean): string {
  const good = `${p}good${n}:1`
  const evil = `${p}evil${n}:1`
  const a = anchor ? `&c${n} ` : ''
  let out = `${ind}- ${a}name: c${n}\n`
  switch (c.tail) {
    case 'aliasKey':
      return out + `${ind}  &k${n} image: ${good}\n${ind}  *k${n} : ${evil}\n`
    case 'oddBreak':
      return out + `${ind}  image: ${good} # x${c.br}${ind}  image: ${evil}\n`
    default:
      out += `${ind}  image: ${value(c.value, good).replace(/\n {10}/g, `\n${ind}    `)}\n`
  }
  switch (c.tail) {
    case 'dupKey':
      return out + `${ind}  image: ${evil}\n`
    case 'binaryKey':
      return out + `${ind}  !!binary aW1hZ2U=: ${evil}\n`
    case 'mergeFlow':
      return out + `${ind}  <<: {image: ${evil}}\n`
    case 'mergeAlias':
      return out + `${ind}  <<: *m${n}\n`
    case 'strKey':
      return out + `${ind}  !!str imagePullPolicy: Always\n`
    default:
      return out
  }
}

function renderDoc(d: Doc, p: string, index: number, next: () => number): string {
  const ids = d.containers.map(() => next())
  const prelude = d.containers.map((c, j) => (c.tail === 'mergeAlias' ? `x${ids[j]}: &m${ids[j]} {image: ${p}evil${ids[j]}:1}\n` : '')).join('')
  const name = `w${index}`
  const containersAt = (ind: string): string => {
    let out = d.containers.map((c, j) => renderContainer(c, p, ids[j] as number, ind, d.anchorContainer && j === 0)).join('')
    if (d.anchorContainer) out += `${ind}- *c${ids[0]}\n`
    return out
  }
  const podSpec = (ind: string): string => `${ind}containers:\n${containersAt(ind)}`
  const image0 = `${p}good${ids[0]}:1`
  switch (d.shape) {
    case 'json':
      return JSON.stringify({apiVersion: 'v1', kind: 'Pod', metadata: {name}, spec: {containers: [{name: 'a', image: image0}]}}) + '\n'
    case 'jsonDupKey':
      return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"${name}"},"spec":{"containers":[{"name":"a","image":"${image0}","image":"${p}evil${ids[0]}:1"}]}}\n`
    case 'pod':
      if (d.flow) return prelude + `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec: {containers: [{name: a, image: "${image0}"}]}\n`
      return prelude + `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n${podSpec('  ')}`
    case 'deployment':
    case 'itemsOnDeployment':
    case 'itemsNull': {
      let out =
        prelude +
        `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n${podSpec('      ')}`
      if (d.shape === 'itemsOnDeployment')
        out += `items:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: ${name}-hidden}\n  spec: {containers: [{name: h, image: "${p}hidden${ids[0]}:1"}]}\n`
      if (d.shape === 'itemsNull') out += 'items: null\n'
      return out
    }
    case 'podList':
      return prelude + `apiVersion: v1\nkind: PodList\nitems:\n- metadata:\n    name: ${name}\n  spec:\n${podSpec('    ')}`
    case 'list':
      return prelude + `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: ${name}\n  spec:\n${podSpec('    ')}`
    case 'nestedList':
      return (
        prelude +
        `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: v1\n    kind: Pod\n    metadata:\n      name: ${name}\n    spec:\n${podSpec('      ')}`
      )
  }
}

let oracle: KubectlOracle
beforeAll(async () => {
  oracle = await KubectlOracle.start()
})
afterAll(async () => oracle.stop())

it(
  'generated inputs: refused, or kubectl sends only what safe-deploy located (as written, pinned, applied)',
  async () => {
    const total = Math.max(BATCH, Math.round(RUNS * WEIGHT))
    const t0 = Date.now()
    const samples = fc.sample(input, {numRuns: total, seed: SEED})
    let checkedRefused = 0
    const sum: BatchResult = {inputs: 0, refused: 0, compared: 0, refusedWithHiddenImage: 0, failures: []}
    for (let start = 0; start < samples.length; start += BATCH) {
      const texts = samples.slice(start, start + BATCH).map((s, i) => render(s, `g${start + i}-`))
      // Refused inputs need no comparison; a sample of each batch goes through kubectl to count the
      // real holes among them (each file kubectl cannot parse costs a run of its own, viewsOf).
      const r = await checkBatch(oracle, texts, (i) => `g${start + i}-`, {refusedSample: 40})
      sum.inputs += r.inputs
      sum.refused += r.refused
      sum.compared += r.compared
      sum.refusedWithHiddenImage += r.refusedWithHiddenImage
      checkedRefused += r.refusedChecked ?? 0
      sum.failures.push(...r.failures.map((f) => ({...f, index: f.index < 0 ? f.index : start + f.index})))
    }
    const ms = Date.now() - t0
    const tally = makeTally('differential')
    tally.add('kubectl differential (generated)', sum.inputs, ms)
    tally.report()
    console.log(
      `differential: ${sum.inputs.toLocaleString('en-US')} generated inputs against kubectl in ${ms} ms: ` +
        `${sum.compared.toLocaleString('en-US')} accepted and compared (3 views each), ${sum.refused.toLocaleString('en-US')} refused, ` +
        `of ${checkedRefused.toLocaleString('en-US')} refused inputs run through kubectl, ${sum.refusedWithHiddenImage.toLocaleString('en-US')} are real holes (kubectl would send an image the YAML 1.2 reading does not see there); ` +
        `${sum.failures.length} differences (FUZZ_SEED=${SEED})`,
    )
    expect(sum.failures.slice(0, 3)).toEqual([])
    // The generator must exercise both sides: inputs both read alike, and real holes.
    expect(sum.compared).toBeGreaterThan(sum.inputs / 10)
    expect(sum.refusedWithHiddenImage).toBeGreaterThan(0)
  },
  FUZZ_TIMEOUT_MS,
)
