/**
 * The real-world corpus (/work/shared/corpus): locate finds exactly the image fields listed in its
 * README (path, line, value, container), and rewriting every one of them changes only those bytes.
 */
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from '@jest/globals'
import {parseManifest} from '../../src/core/manifest/parse.js'
import {locateImages} from '../../src/core/manifest/locate.js'
import {rewriteImages} from '../../src/core/manifest/rewrite.js'
import type {ImageSite} from '../../src/core/manifest/types.js'
import {parseWritten} from '../../src/core/reference/index.js'
import {CORPUS} from '../support/corpus.js'


interface Expected {
  kind: string
  name: string
  container: string | undefined
  path: string
  line: number
  image: string
}

/** The README tables, parsed: file → expected image sites (rows numbered "+" are embedded refs, not sites). */
function readExpectations(): Map<string, {declared: number; sites: Expected[]}> {
  const readme = readFileSync(join(CORPUS, 'README.md'), 'utf8')
  const out = new Map<string, {declared: number; sites: Expected[]}>()
  let current: {declared: number; sites: Expected[]} | undefined
  for (const line of readme.split('\n')) {
    const header = /^## `([^`]+\.yaml)`/.exec(line)
    if (header) {
      current = {declared: -1, sites: []}
      out.set(header[1]!, current)
      continue
    }
    if (!current) continue
    const declared = /image fields: (\d+)/.exec(line)
    if (declared && line.startsWith('- YAML documents')) current.declared = Number(declared[1])
    const row = /^\| (\d+) \| ([A-Za-z]+)\/(\S+) \((?:container `([^`]+)`|unnamed container)\) \| `([^`]+)` \| (\d+) \| `([^`]+)` \|/.exec(line)
    if (row) {
      current.sites.push({kind: row[2]!, name: row[3]!, container: row[4], path: row[5]!, line: Number(row[6]), image: row[7]!})
    }
  }
  return out
}

const expectations = readExpectations()
const files = readdirSync(CORPUS).filter((f) => f.endsWith('.yaml')).sort()

/** `<name as written>@sha256:<64 hex>`, a different digest per site. */
function pinned(image: string, i: number): string {
  const w = parseWritten(image)
  const hex = (i.toString(16).padStart(8, '0') + 'ab'.repeat(32)).slice(0, 64)
  return `${w.name}@sha256:${hex}`
}

describe('corpus', () => {
  it('has a README entry for every file', () => {
    expect(files.length).toBeGreaterThanOrEqual(11)
    for (const f of files) expect(expectations.has(f)).toBe(true)
  })

  describe.each(files)('%s', (file) => {
    const text = readFileSync(join(CORPUS, file), 'utf8')
    const expected = expectations.get(file)!

    it('locate finds exactly the listed image fields', () => {
      const m = parseManifest(text, file)
      const sites = locateImages(m)
      expect(expected.sites.length).toBe(expected.declared)
      expect(sites.map((s) => ({kind: s.kind, name: s.name, container: s.container, path: s.pathString, line: s.line, image: s.image}))).toEqual(expected.sites)
      for (const s of sites) {
        expect(s.file).toBe(file)
        expect(s.pathString.endsWith('.image')).toBe(true)
      }
    })

    it('rewriting every site changes only the image scalars', () => {
      const m = parseManifest(text, file)
      const sites = locateImages(m)
      const replacements = sites.map((site, i) => ({site, value: pinned(site.image, i)}))
      const out = rewriteImages(m, replacements)
      expect(out).not.toBe(text)

      // Re-locating finds the new values on the same lines, same paths.
      const m2 = parseManifest(out, file)
      const sites2 = locateImages(m2)
      expect(sites2.map((s) => [s.pathString, s.line, s.document])).toEqual(sites.map((s) => [s.pathString, s.line, s.document]))
      expect(sites2.map((s) => s.image)).toEqual(replacements.map((r) => r.value))

      // Writing the old values back yields the original, byte for byte.
      const back = rewriteImages(m2, sites2.map((site, i) => ({site, value: sites[i]!.image})))
      expect(back).toBe(text)

      // Line by line: only the image lines differ, and only in the value.
      const a = text.split('\n')
      const b = out.split('\n')
      expect(b.length).toBe(a.length)
      const changed = new Set(sites.map((s) => s.line - 1))
      a.forEach((line, i) => {
        if (!changed.has(i)) expect(b[i]).toBe(line)
      })
    })
  })

  it('the prometheus-operator args-embedded reference is not a site', () => {
    const file = files.find((f) => f.startsWith('prometheus-operator__'))!
    const text = readFileSync(join(CORPUS, file), 'utf8')
    expect(text).toContain('--prometheus-config-reloader=quay.io/prometheus-operator/prometheus-config-reloader')
    const sites = locateImages(parseManifest(text, file))
    expect(sites.map((s) => s.image)).toEqual(['quay.io/prometheus-operator/prometheus-operator:v0.93.0'])
  })

  it('argo-cd: the CRD schemas mentioning "image" yield no site', () => {
    const file = files.find((f) => f.startsWith('argoproj__'))!
    const text = readFileSync(join(CORPUS, file), 'utf8')
    const m = parseManifest(text, file)
    const sites: ImageSite[] = locateImages(m)
    expect((text.match(/image/g) ?? []).length).toBeGreaterThan(100)
    expect(new Set(sites.map((s) => s.kind))).toEqual(new Set(['Deployment', 'StatefulSet']))
    expect(m.documents.length).toBe(59)
  })

  it('flow style (init-containers.yaml) keeps double quotes, trailing commas and comments', () => {
    const file = files.find((f) => f.endsWith('pods__init-containers.yaml'))!
    const text = readFileSync(join(CORPUS, file), 'utf8')
    const m = parseManifest(text, file)
    const sites = locateImages(m)
    const D = 'sha256:' + 'c'.repeat(64)
    const out = rewriteImages(m, sites.map((site) => ({site, value: `${parseWritten(site.image).name}@${D}`})))
    expect(out).toContain(`"nginx@${D}"`)
    expect(out).toContain(`"busybox@${D}"`)
    expect(out.replace(`"nginx@${D}"`, '"nginx"').replace(`"busybox@${D}"`, '"busybox:1.28"')).toBe(text)
  })

  it('job-sidecar.yaml keeps the missing final newline', () => {
    const file = files.find((f) => f.endsWith('job-sidecar.yaml'))!
    const text = readFileSync(join(CORPUS, file), 'utf8')
    expect(text.endsWith('\n')).toBe(false)
    const m = parseManifest(text, file)
    const out = rewriteImages(m, locateImages(m).map((site) => ({site, value: 'alpine@sha256:' + 'd'.repeat(64)})))
    expect(out.endsWith('\n')).toBe(false)
    expect(out.split('\n').length).toBe(text.split('\n').length)
  })
})
