/**
 * Citations in code point at the repository's own docs: every `docs/<file>.md#<anchor>` cited in src/
 * or test/ names a file under docs/ and a heading of it (GitHub's anchor for the heading), and no
 * file under src/ cites notes that are not in the repository.
 */
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from '@jest/globals'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const DOCS = join(ROOT, 'docs')
const SOURCE_EXT = /\.(?:ts|js|mjs|cjs|sh)$/

function walk(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...walk(p))
    else if (SOURCE_EXT.test(e.name)) out.push(p)
  }
  return out.sort()
}

/** GitHub's heading anchor: lower case, punctuation dropped (letters, digits, `_`, `-` and spaces kept), spaces → `-`. */
function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-')
}

/** The anchors of a Markdown file's headings (fenced code skipped; repeated headings get -1, -2, … like GitHub). */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  let fence: string | undefined
  for (const line of markdown.split(/\r?\n/)) {
    const f = /^\s{0,3}(`{3,}|~{3,})/.exec(line)
    if (f) {
      const mark = f[1] as string
      if (fence === undefined) fence = mark
      else if (mark[0] === fence[0] && mark.length >= fence.length) fence = undefined
      continue
    }
    if (fence !== undefined) continue
    const h = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (!h) continue
    const base = githubSlug(h[1] as string)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    anchors.add(n === 0 ? base : `${base}-${n}`)
  }
  return anchors
}

const anchorCache = new Map<string, Set<string> | undefined>()
function anchorsOf(docFile: string): Set<string> | undefined {
  if (!anchorCache.has(docFile)) {
    const p = join(DOCS, docFile)
    anchorCache.set(docFile, existsSync(p) ? headingAnchors(readFileSync(p, 'utf8')) : undefined)
  }
  return anchorCache.get(docFile)
}

interface Citation {
  where: string
  doc: string
  anchor: string | undefined
}

const CITATION = /(?<![\w/.-])docs\/([\w.-]+\.md)(?:#([\w-]+))?/g

function citationsIn(files: readonly string[]): Citation[] {
  const out: Citation[] = []
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n')
    lines.forEach((line, i) => {
      for (const m of line.matchAll(CITATION)) out.push({where: `${relative(ROOT, file)}:${i + 1}`, doc: m[1] as string, anchor: m[2]})
    })
  }
  return out
}

function problems(citations: readonly Citation[]): string[] {
  const bad: string[] = []
  for (const c of citations) {
    const anchors = anchorsOf(c.doc)
    if (anchors === undefined) bad.push(`${c.where}: docs/${c.doc} does not exist`)
    else if (c.anchor !== undefined && !anchors.has(c.anchor)) bad.push(`${c.where}: docs/${c.doc} has no heading with anchor #${c.anchor}`)
  }
  return bad
}

/** Notes that live outside the repository (reference material, not shipped): src/ must not cite them. */
const OUTSIDE_NOTES: ReadonlyArray<[RegExp, string]> = [
  [/spec\.md/, 'a *spec.md note'],
  [/binauthz-spec/, 'binauthz-spec'],
  [/(?<![\w-])spec §/, 'a "spec §" section'],
  [/gcloud-facts/, 'gcloud-facts'],
  [/toolchain\.md/, 'toolchain.md'],
  [/test-infra\.md|test-infra §/, 'test-infra'],
  [/(?<![\w/-])design\.md/, 'design.md'],
  [/reference-grammar/, 'reference-grammar'],
  [/integrations\.md/, 'integrations.md'],
  [/\/work\/shared/, '/work/shared'],
  [/\.\.\/shared/, '../shared'],
]

describe('github heading anchors', () => {
  it.each([
    ['Rule selection', 'rule-selection'],
    ['Cloud Run: default rule only', 'cloud-run-default-rule-only'],
    ['Binary Authorization REST v1', 'binary-authorization-rest-v1'],
    ['`docker-reference` and the `type`', 'docker-reference-and-the-type'],
    ['Tags, digests & names (v0.6)', 'tags-digests--names-v06'],
    ['snake_case stays', 'snake_case-stays'],
  ])('%s → #%s', (heading, anchor) => {
    expect(githubSlug(heading)).toBe(anchor)
  })

  it('repeated headings get -1, -2; headings in fenced code are not headings', () => {
    const md = '# Title\n## Notes\ntext\n```\n## Not a heading\n```\n## Notes\n### Notes\n'
    expect([...headingAnchors(md)]).toEqual(['title', 'notes', 'notes-1', 'notes-2'])
  })
})

describe('docs citations', () => {
  const srcFiles = walk(join(ROOT, 'src'))
  const testFiles = walk(join(ROOT, 'test'))

  it('the docs exist', () => {
    for (const f of ['binauthz.md', 'google-apis.md', 'image-references.md', 'testing.md']) expect(anchorsOf(f)).toBeDefined()
  })

  it('every docs/<file>.md#<anchor> cited in src/ names an existing file and heading', () => {
    const citations = citationsIn(srcFiles)
    expect(citations.filter((c) => c.anchor !== undefined).length).toBeGreaterThanOrEqual(30)
    expect(problems(citations)).toEqual([])
  })

  it('every docs/<file>.md#<anchor> cited in test/ names an existing file and heading', () => {
    const citations = citationsIn(testFiles)
    expect(citations.length).toBeGreaterThan(0)
    expect(problems(citations)).toEqual([])
  })

  it('links between the docs name existing files and headings', () => {
    const bad: string[] = []
    for (const file of readdirSync(DOCS)
      .filter((f) => f.endsWith('.md'))
      .sort()) {
      const lines = readFileSync(join(DOCS, file), 'utf8').split('\n')
      lines.forEach((line, i) => {
        for (const m of line.matchAll(/\]\(([\w.-]+\.md)?(?:#([\w-]+))?\)/g)) {
          const target = m[1] ?? file
          if (m[1] === undefined && m[2] === undefined) continue
          const anchors = anchorsOf(target)
          if (anchors === undefined) bad.push(`docs/${file}:${i + 1}: ${target} does not exist`)
          else if (m[2] !== undefined && !anchors.has(m[2])) bad.push(`docs/${file}:${i + 1}: ${target} has no heading with anchor #${m[2]}`)
        }
      })
    }
    expect(bad).toEqual([])
  })

  it('no file under src/ cites notes from outside the repository', () => {
    const bad: string[] = []
    for (const file of srcFiles) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          for (const [re, what] of OUTSIDE_NOTES) if (re.test(line)) bad.push(`${relative(ROOT, file)}:${i + 1}: cites ${what}: ${line.trim()}`)
        })
    }
    expect(bad).toEqual([])
  })

  it('the checks catch a bad citation', () => {
    expect(problems([{where: 'x.ts:1', doc: 'binauthz.md', anchor: 'no-such-heading'}])).toEqual([
      'x.ts:1: docs/binauthz.md has no heading with anchor #no-such-heading',
    ])
    const missing = ['no', 'such-doc.md'].join('')
    expect(problems([{where: 'x.ts:1', doc: missing, anchor: undefined}])).toEqual([`x.ts:1: docs/${missing} does not exist`])
    const outside = [
      '// see binauthz-spec.md §2.2',
      '// gcloud-facts.md §1',
      '// (spec §6.1)',
      '// ../shared/reference-grammar.md',
      '// /work/shared/x',
      '// toolchain.md §4',
      '// design.md',
    ]
    for (const line of outside) expect(OUTSIDE_NOTES.some(([re]) => re.test(line))).toBe(true)
    expect(OUTSIDE_NOTES.some(([re]) => re.test('// docs/binauthz.md#rule-selection, docs/architecture.md#ports'))).toBe(false)
  })
})
