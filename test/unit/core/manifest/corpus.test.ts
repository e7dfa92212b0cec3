/**
 * The real-world corpora (../shared/corpus and ../shared/corpus-2, docs/testing.md#corpus): locate
 * finds exactly the image fields each file holds (path, line, value, container), nothing in the
 * traps (CRD schemas, ConfigMaps, args that mention images), and rewriting every one of them
 * changes only those bytes. Skipped with a message where a folder is absent.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from '@jest/globals'
import {parseManifest} from '../../../../src/core/manifest/parse.js'
import {locateImages} from '../../../../src/core/manifest/locate.js'
import {rewriteImages} from '../../../../src/core/manifest/rewrite.js'
import type {ImageSite} from '../../../../src/core/manifest/types.js'
import {parseWritten} from '../../../../src/core/reference/index.js'
import {CORPUS, CORPUS_2, corpusFiles, describeCorpus} from '../../../support/corpus.js'

interface Expected {
  kind: string
  name: string
  container: string | undefined
  path: string
  line: number
  image: string
}

/** `<name as written>@sha256:<64 hex>`, a different digest per site. */
function pinned(image: string, i: number): string {
  const w = parseWritten(image)
  const hex = (i.toString(16).padStart(8, '0') + 'ab'.repeat(32)).slice(0, 64)
  return `${w.name}@sha256:${hex}`
}

function siteView(s: ImageSite): Expected {
  return {kind: s.kind, name: s.name, container: s.container, path: s.pathString, line: s.line, image: s.image}
}

/** The properties every corpus file must have: exactly the expected sites, and byte-exact rewriting. */
function fileProperties(dir: string, file: string, expected: () => {documents: number; sites: Expected[]}): void {
  it('locate finds exactly the expected image fields', () => {
    const text = readFileSync(join(dir, file), 'utf8')
    const want = expected()
    const m = parseManifest(text, file)
    const sites = locateImages(m)
    expect(m.documents.length).toBe(want.documents)
    expect(sites.map(siteView)).toEqual(want.sites)
    for (const s of sites) {
      expect(s.file).toBe(file)
      expect(s.pathString).toMatch(s.role === 'volume' ? /\.image\.reference$/ : /\.image$/)
    }
  })

  it('rewriting every site changes only the image scalars', () => {
    const text = readFileSync(join(dir, file), 'utf8')
    const m = parseManifest(text, file)
    const sites = locateImages(m)
    expect(sites.length).toBeGreaterThan(0)
    const replacements = sites.map((site, i) => ({site, value: pinned(site.image, i)}))
    const out = rewriteImages(m, replacements)
    expect(out).not.toBe(text)

    // Re-locating finds the new values on the same lines, same paths.
    const m2 = parseManifest(out, file)
    const sites2 = locateImages(m2)
    expect(sites2.map((s) => [s.pathString, s.line, s.document])).toEqual(sites.map((s) => [s.pathString, s.line, s.document]))
    expect(sites2.map((s) => s.image)).toEqual(replacements.map((r) => r.value))

    // Writing the old values back yields the original, byte for byte.
    const back = rewriteImages(
      m2,
      sites2.map((site, i) => ({site, value: sites[i]!.image})),
    )
    expect(back).toBe(text)

    // Line by line: only the image lines differ, and only in the value.
    const a = text.split('\n')
    const b = out.split('\n')
    expect(b.length).toBe(a.length)
    const changed = new Set(sites.map((s) => s.line - 1))
    a.forEach((line, i) => {
      if (!changed.has(i)) expect(b[i]).toBe(line)
    })
    for (const [i, r] of replacements.entries()) {
      const line = b[r.site.line - 1]!
      expect(line).toContain(r.value)
      expect(line.replace(r.value, sites[i]!.image)).toBe(a[r.site.line - 1])
    }
  })
}

// ---------------------------------------------------------------------------------------------
// ../shared/corpus: the README lists every image field of every file.

/** The README tables, parsed: file → expected image sites (rows numbered "+" are embedded refs, not sites). */
function readExpectations(): Map<string, {documents: number; declared: number; sites: Expected[]}> {
  const readme = readFileSync(join(CORPUS, 'README.md'), 'utf8')
  const out = new Map<string, {documents: number; declared: number; sites: Expected[]}>()
  let current: {documents: number; declared: number; sites: Expected[]} | undefined
  for (const line of readme.split('\n')) {
    const header = /^## `([^`]+\.yaml)`/.exec(line)
    if (header) {
      current = {documents: -1, declared: -1, sites: []}
      out.set(header[1]!, current)
      continue
    }
    if (!current) continue
    const declared = /^- YAML documents: (\d+); image fields: (\d+)/.exec(line)
    if (declared) {
      current.documents = Number(declared[1])
      current.declared = Number(declared[2])
    }
    const row = /^\| (\d+) \| ([A-Za-z]+)\/(\S+) \((?:container `([^`]+)`|unnamed container)\) \| `([^`]+)` \| (\d+) \| `([^`]+)` \|/.exec(line)
    if (row) {
      current.sites.push({kind: row[2]!, name: row[3]!, container: row[4], path: row[5]!, line: Number(row[6]), image: row[7]!})
    }
  }
  return out
}

describeCorpus(CORPUS, 'corpus', () => {
  const files = corpusFiles(CORPUS)
  const expectations = readExpectations()

  it('has a README entry, with as many rows as declared image fields, for every file', () => {
    expect(files.length).toBeGreaterThanOrEqual(11)
    for (const f of files) {
      const e = expectations.get(f)
      expect(e).toBeDefined()
      expect(e!.sites.length).toBe(e!.declared)
    }
  })

  describe.each(files)('%s', (file) => {
    fileProperties(CORPUS, file, () => {
      const e = expectations.get(file)!
      return {documents: e.documents, sites: e.sites}
    })
  })

  const read = (prefix: string, suffix = ''): {file: string; text: string} => {
    const file = files.find((f) => f.startsWith(prefix) && f.endsWith(suffix))!
    return {file, text: readFileSync(join(CORPUS, file), 'utf8')}
  }

  it('the prometheus-operator args-embedded reference is not a site', () => {
    const {file, text} = read('prometheus-operator__')
    expect(text).toContain('--prometheus-config-reloader=quay.io/prometheus-operator/prometheus-config-reloader')
    const sites = locateImages(parseManifest(text, file))
    expect(sites.map((s) => s.image)).toEqual(['quay.io/prometheus-operator/prometheus-operator:v0.93.0'])
  })

  it('argo-cd: the CRD schemas mentioning "image" yield no site', () => {
    const {file, text} = read('argoproj__')
    const m = parseManifest(text, file)
    const sites: ImageSite[] = locateImages(m)
    expect((text.match(/image/g) ?? []).length).toBeGreaterThan(100)
    expect(new Set(sites.map((s) => s.kind))).toEqual(new Set(['Deployment', 'StatefulSet']))
    expect(m.documents.length).toBe(59)
  })

  it('flow style (init-containers.yaml) keeps double quotes, trailing commas and comments', () => {
    const {file, text} = read('', 'pods__init-containers.yaml')
    const m = parseManifest(text, file)
    const sites = locateImages(m)
    const D = 'sha256:' + 'c'.repeat(64)
    const out = rewriteImages(
      m,
      sites.map((site) => ({site, value: `${parseWritten(site.image).name}@${D}`})),
    )
    expect(out).toContain(`"nginx@${D}"`)
    expect(out).toContain(`"busybox@${D}"`)
    expect(out.replace(`"nginx@${D}"`, '"nginx"').replace(`"busybox@${D}"`, '"busybox:1.28"')).toBe(text)
  })

  it('job-sidecar.yaml keeps the missing final newline', () => {
    const {file, text} = read('', 'job-sidecar.yaml')
    expect(text.endsWith('\n')).toBe(false)
    const m = parseManifest(text, file)
    const out = rewriteImages(
      m,
      locateImages(m).map((site) => ({site, value: 'alpine@sha256:' + 'd'.repeat(64)})),
    )
    expect(out.endsWith('\n')).toBe(false)
    expect(out.split('\n').length).toBe(text.split('\n').length)
  })
})

// ---------------------------------------------------------------------------------------------
// ../shared/corpus-2: its README gives, per file, the number of documents and image sites; the
// sites themselves (below) were read from the files.

const C = 'spec.template.spec.containers'
const I = 'spec.template.spec.initContainers'
const LINKERD_CONTROLLER = 'cr.l5d.io/linkerd/controller:install-control-plane-version'
const LINKERD_PROXY = 'cr.l5d.io/linkerd/proxy:install-proxy-version'
const KNATIVE = 'gcr.io/knative-releases/knative.dev/serving/cmd'
const TEKTON = 'ghcr.io/tektoncd/pipeline'

type Row = [object: string, container: string | undefined, path: string, line: number, image: string]

const CORPUS_2_SITES: Readonly<Record<string, readonly Row[]>> = {
  'GoogleCloudPlatform__cloud-run-samples__multi-container__hello-nginx-sample__service.yaml': [
    ['Service/MC_SERVICE_NAME', 'nginx', `${C}[0].image`, 48, 'nginx'],
    ['Service/MC_SERVICE_NAME', 'hello', `${C}[1].image`, 74, 'us-docker.pkg.dev/cloudrun/container/hello'],
  ],
  'cert-manager__cert-manager__deploy__manifests__cert-manager.yaml': [
    ['Deployment/cert-manager-cainjector', 'cainjector', `${C}[0].image`, 1475, 'quay.io/jetstack/cert-manager-cainjector:v0.8.0-alpha.0'],
    ['Deployment/cert-manager-webhook', 'webhook', `${C}[0].image`, 1517, 'quay.io/jetstack/cert-manager-webhook:v0.8.0-alpha.0'],
    ['Deployment/cert-manager', 'cert-manager', `${C}[0].image`, 1571, 'quay.io/jetstack/cert-manager-controller:v0.8.0-alpha.0'],
  ],
  'fluent__fluentd-kubernetes-daemonset__fluentd-daemonset-elasticsearch-rbac.yaml': [
    ['DaemonSet/fluentd', 'fluentd', `${C}[0].image`, 66, 'fluent/fluentd-kubernetes-daemonset:v1-debian-elasticsearch'],
  ],
  'istio__istio__samples__addons__kiali.yaml': [['Deployment/kiali', 'kiali', `${C}[0].image`, 389, 'quay.io/kiali/kiali:v2.27']],
  'istio__istio__samples__addons__loki.yaml': [
    ['StatefulSet/loki', 'loki', `${C}[0].image`, 287, 'docker.io/grafana/loki:3.6.7'],
    ['StatefulSet/loki', 'loki-sc-rules', `${C}[1].image`, 331, 'docker.io/kiwigrid/k8s-sidecar:2.5.0'],
  ],
  'knative__operator__cmd__operator__kodata__knative-serving__1.23.0__2-serving-core.yaml': [
    [
      'Deployment/activator',
      'activator',
      `${C}[0].image`,
      8833,
      `${KNATIVE}/activator@sha256:e5ab46f3b73fa2e3898fe47f6a3a0c2bd765596f4fb36ceb4c28c35d0a74b2e5`,
    ],
    [
      'Deployment/autoscaler',
      'autoscaler',
      `${C}[0].image`,
      8989,
      `${KNATIVE}/autoscaler@sha256:879da127b23db65d862cafa6b23fb987381d0e44150f0027d44e1f5aee83bde2`,
    ],
    [
      'Deployment/controller',
      'controller',
      `${C}[0].image`,
      9114,
      `${KNATIVE}/controller@sha256:ca5062ece0329d002a81940cf4268d7898866434d70049bb93f27d3a786d3292`,
    ],
    ['Deployment/webhook', 'webhook', `${C}[0].image`, 9297, `${KNATIVE}/webhook@sha256:3846e9a416665c5b9ec2e4de246cfcb5c4ab0d01ba19348aa008caf30144b650`],
  ],
  'kubernetes__kubernetes__hack__testdata__list.yaml': [['Deployment/list-deployment-test', 'nginx', `items[1].${C}[0].image`, 32, 'nginx']],
  'kubernetes__kubernetes__hack__testdata__multi-resource-yaml.yaml': [
    ['ReplicationController/mock', 'mock-container', `${C}[0].image`, 30, 'k8s.gcr.io/pause:3.4.1'],
  ],
  'kubernetes__website__content__en__examples__pods__image-volumes.yaml': [
    ['Pod/image-volume', 'shell', 'spec.containers[0].image', 15, 'debian'],
    ['Pod/image-volume', undefined, 'spec.volumes[0].image.reference', 24, 'quay.io/crio/artifact:v2'],
  ],
  'linkerd__linkerd2__cli__cmd__testdata__install_default.golden.yaml': [
    ['Deployment/linkerd-identity', 'identity', `${C}[0].image`, 987, LINKERD_CONTROLLER],
    ['Deployment/linkerd-identity', 'linkerd-proxy', `${C}[1].image`, 1153, LINKERD_PROXY],
    ['Deployment/linkerd-identity', 'linkerd-init', `${I}[0].image`, 1207, LINKERD_PROXY],
    ['Deployment/linkerd-destination', 'destination', `${C}[0].image`, 1429, LINKERD_CONTROLLER],
    ['Deployment/linkerd-destination', 'sp-validator', `${C}[1].image`, 1466, LINKERD_CONTROLLER],
    ['Deployment/linkerd-destination', 'policy', `${C}[2].image`, 1520, LINKERD_CONTROLLER],
    ['Deployment/linkerd-destination', 'linkerd-init', `${I}[0].image`, 1575, LINKERD_PROXY],
    ['Deployment/linkerd-destination', 'linkerd-proxy', `${I}[1].image`, 1726, LINKERD_PROXY],
    ['CronJob/linkerd-heartbeat', 'heartbeat', 'spec.jobTemplate.spec.template.spec.containers[0].image', 1854, LINKERD_CONTROLLER],
    ['Deployment/linkerd-proxy-injector', 'proxy-injector', `${C}[0].image`, 1952, LINKERD_CONTROLLER],
    ['Deployment/linkerd-proxy-injector', 'linkerd-init', `${I}[0].image`, 2008, LINKERD_PROXY],
    ['Deployment/linkerd-proxy-injector', 'linkerd-proxy', `${I}[1].image`, 2159, LINKERD_PROXY],
  ],
  'open-policy-agent__gatekeeper__deploy__gatekeeper.yaml': [
    ['Deployment/gatekeeper-audit', 'manager', `${C}[0].image`, 5797, 'openpolicyagent/gatekeeper:v3.24.0-beta.0'],
    ['Deployment/gatekeeper-controller-manager', 'manager', `${C}[0].image`, 5916, 'openpolicyagent/gatekeeper:v3.24.0-beta.0'],
  ],
  'tektoncd__operator__cmd__kubernetes__operator__kodata__tekton-pipeline__1.2.0__00-pipelines.yaml': [
    [
      'Deployment/tekton-pipelines-controller',
      'tekton-pipelines-controller',
      `${C}[0].image`,
      25115,
      `${TEKTON}/controller-10a3e32792f33651396d02b6855a6e36:v1.2.0@sha256:4b7165f0e05309a8762f6de3b87ebbcde2e95cf7c40e45384715a8a0b5a34334`,
    ],
    [
      'Deployment/tekton-events-controller',
      'tekton-events-controller',
      `${C}[0].image`,
      25300,
      `${TEKTON}/events-a9042f7efb0cbade2a868a1ee5ddd52c:v1.2.0@sha256:c80b901bf9d03c030a67c4685830a331598b2575c46eda871b42002d1f9f73c2`,
    ],
    [
      'Deployment/tekton-pipelines-remote-resolvers',
      'controller',
      `${C}[0].image`,
      26035,
      `${TEKTON}/resolvers-ff86b24f130c42b88983d3c13993056d:v1.2.0@sha256:939102e67d09d277bdf19bc83b5fbc45ed3cbcf840017956b71995c3e68ed289`,
    ],
    [
      'Deployment/tekton-pipelines-webhook',
      'webhook',
      `${C}[0].image`,
      26266,
      `${TEKTON}/webhook-d4749e605405422fd87700164e31b2d1:v1.2.0@sha256:4a147b3f1cc208528f8bb8849c62035121c14328928a5783e825b80007c03484`,
    ],
  ],
}

function expectedRows(file: string): Expected[] {
  return (CORPUS_2_SITES[file] ?? []).map(([object, container, path, line, image]) => {
    const slash = object.indexOf('/')
    return {kind: object.slice(0, slash), name: object.slice(slash + 1), container, path, line, image}
  })
}

/** The README's table: file → documents and image sites, plus the declared totals. */
function readCorpus2Readme(): {files: Map<string, {documents: number; sites: number}>; totalFiles: number; totalSites: number} {
  const readme = readFileSync(join(CORPUS_2, 'README.md'), 'utf8')
  const files = new Map<string, {documents: number; sites: number}>()
  let totalFiles = -1
  let totalSites = -1
  for (const line of readme.split('\n')) {
    const cells = line.split(' | ')
    const file = /^\| `([^`]+\.yaml)`$/.exec(cells[0] ?? '')
    if (file && cells.length >= 7) files.set(file[1]!, {documents: Number(cells[4]), sites: Number(/^\d+/.exec(cells[5] ?? '')?.[0])})
    const totals = /^Totals: (\d+) files, (\d+) image sites/.exec(line)
    if (totals) {
      totalFiles = Number(totals[1])
      totalSites = Number(totals[2])
    }
  }
  return {files, totalFiles, totalSites}
}

describeCorpus(CORPUS_2, 'corpus-2', () => {
  const files = corpusFiles(CORPUS_2)
  const readme = readCorpus2Readme()

  it('every file has a README row and an expectation that agrees with it', () => {
    expect(files.length).toBe(readme.totalFiles)
    expect([...readme.files.keys()].sort()).toEqual(files)
    expect(Object.keys(CORPUS_2_SITES).sort()).toEqual(files)
    let sum = 0
    for (const f of files) {
      expect({file: f, sites: expectedRows(f).length}).toEqual({file: f, sites: readme.files.get(f)!.sites})
      sum += expectedRows(f).length
    }
    expect(sum).toBe(readme.totalSites)
  })

  describe.each(files)('%s', (file) => {
    fileProperties(CORPUS_2, file, () => ({documents: readme.files.get(file)!.documents, sites: expectedRows(file)}))
  })

  const read = (prefix: string): {file: string; text: string; sites: ImageSite[]} => {
    const file = files.find((f) => f.startsWith(prefix))!
    const text = readFileSync(join(CORPUS_2, file), 'utf8')
    return {file, text, sites: locateImages(parseManifest(text, file))}
  }
  const images = (sites: readonly ImageSite[]): string[] => sites.map((s) => s.image)

  it('knative: the `kind: Image` custom resource and the queue-sidecar-image ConfigMap key are not sites', () => {
    const {text, sites} = read('knative__')
    const queue = `${KNATIVE}/queue@sha256:a3cc71ce80dbc6df8781f15eac2cf3531a4c9815271799afd8776bef9e6aeaf2`
    expect(text).toMatch(/^kind: Image$/m)
    expect(text).toContain(`  image: ${queue}`)
    expect(text).toContain(`queue-sidecar-image: ${queue}`)
    expect(images(sites)).not.toContain(queue)
    expect(new Set(sites.map((s) => s.kind))).toEqual(new Set(['Deployment']))
  })

  it('kiali: the ConfigMap image_name / image_version keys are not sites', () => {
    const {text, sites} = read('istio__istio__samples__addons__kiali')
    expect(text).toContain('image_name: quay.io/kiali/kiali')
    expect(images(sites)).toEqual(['quay.io/kiali/kiali:v2.27'])
  })

  it('linkerd: image mappings in the linkerd-config ConfigMap are not sites', () => {
    const {text, sites} = read('linkerd__')
    expect(text).toContain('controllerImage: cr.l5d.io/linkerd/controller')
    expect(text).toContain('name: cr.l5d.io/linkerd/debug')
    expect(images(sites).some((i) => i.includes('debug'))).toBe(false)
    expect(sites.every((s) => s.kind !== 'ConfigMap')).toBe(true)
  })

  it('tekton: image references in flow-sequence args are not sites', () => {
    const {text, sites} = read('tektoncd__')
    expect(text).toContain('"-entrypoint-image", "ghcr.io/tektoncd/pipeline/entrypoint-')
    expect(images(sites).every((i) => /\/(controller|events|resolvers|webhook)-[0-9a-f]{32}:v1\.2\.0@sha256:/.test(i.slice(TEKTON.length)))).toBe(true)
  })

  it("kind: List: the Deployment item's image is found under items[1]", () => {
    const {sites} = read('kubernetes__kubernetes__hack__testdata__list')
    expect(sites.map((s) => [s.pathString, s.document, s.role])).toEqual([[`items[1].${C}[0].image`, 0, 'container']])
  })

  it('image volumes: volumes[].image.reference is a site of role volume, flow style kept on rewrite', () => {
    const {file, text} = read('kubernetes__website__content__en__examples__pods__image-volumes')
    const m = parseManifest(text, file)
    const sites = locateImages(m)
    expect(sites.map((s) => s.role)).toEqual(['container', 'volume'])
    const D = 'sha256:' + 'e'.repeat(64)
    const out = rewriteImages(
      m,
      sites.map((site) => ({site, value: `${parseWritten(site.image).name}@${D}`})),
    )
    expect(out).toContain(`image: "debian@${D}",`)
    expect(out).toContain(`reference: "quay.io/crio/artifact@${D}",`)
    expect(out.replace(`"debian@${D}"`, '"debian"').replace(`"quay.io/crio/artifact@${D}"`, '"quay.io/crio/artifact:v2"')).toBe(text)
  })

  it('cert-manager: Deployments of apps/v1beta1 are located; double quotes are kept', () => {
    const {file, text} = read('cert-manager__')
    expect(text).toContain('apiVersion: apps/v1beta1')
    const m = parseManifest(text, file)
    const sites = locateImages(m)
    expect(sites.map((s) => s.kind)).toEqual(['Deployment', 'Deployment', 'Deployment'])
    const out = rewriteImages(
      m,
      sites.map((site, i) => ({site, value: pinned(site.image, i)})),
    )
    for (const [i, s] of sites.entries()) expect(out).toContain(`image: "${pinned(s.image, i)}"`)
  })
})
