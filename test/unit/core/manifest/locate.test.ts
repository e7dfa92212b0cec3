import {describe, expect, it} from '@jest/globals'
import {parseManifest} from '../../../../src/core/manifest/parse.js'
import {classifyImageValue, formatPath, locateImages, parseRulePath, unpinnableError} from '../../../../src/core/manifest/locate.js'
import type {CustomImageRule} from '../../../../src/core/manifest/types.js'

const locate = (text: string, rules?: CustomImageRule[]) => locateImages(parseManifest(text, 'm.yaml'), rules)
const brief = (text: string, rules?: CustomImageRule[]) => locate(text, rules).map((s) => [s.pathString, s.line, s.image, s.role])

const podSpec = (indent: string) => `${indent}serviceAccountName: runner
${indent}initContainers:
${indent}- name: init
${indent}  image: busybox:1
${indent}containers:
${indent}- name: app
${indent}  image: gcr.io/p/app:1
`

describe('locateImages: pod spec location by kind', () => {
  it.each([
    ['v1', 'Pod', 'spec', ''],
    ['v1', 'PodTemplate', 'template.spec', 'template:\n  spec:\n'],
    ['v1', 'ReplicationController', 'spec.template.spec', 'spec:\n  template:\n    spec:\n'],
    ['apps/v1', 'Deployment', 'spec.template.spec', 'spec:\n  template:\n    spec:\n'],
    ['extensions/v1beta1', 'Deployment', 'spec.template.spec', 'spec:\n  template:\n    spec:\n'],
    ['apps/v1', 'ReplicaSet', 'spec.template.spec', 'spec:\n  template:\n    spec:\n'],
    ['apps/v1', 'StatefulSet', 'spec.template.spec', 'spec:\n  template:\n    spec:\n'],
    ['apps/v1', 'DaemonSet', 'spec.template.spec', 'spec:\n  template:\n    spec:\n'],
    ['batch/v1', 'Job', 'spec.template.spec', 'spec:\n  template:\n    spec:\n'],
    ['batch/v1', 'CronJob', 'spec.jobTemplate.spec.template.spec', 'spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n'],
    ['batch/v1beta1', 'CronJob', 'spec.jobTemplate.spec.template.spec', 'spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n'],
    ['serving.knative.dev/v1', 'Service', 'spec.template.spec', 'spec:\n  template:\n    spec:\n'],
    ['serving.knative.dev/v1', 'Configuration', 'spec.template.spec', 'spec:\n  template:\n    spec:\n'],
    ['serving.knative.dev/v1', 'Revision', 'spec', ''],
    ['run.googleapis.com/v1', 'Job', 'spec.template.spec.template.spec', 'spec:\n  template:\n    spec:\n      template:\n        spec:\n'],
  ])('%s %s → %s', (apiVersion, kind, specPath, wrapper) => {
    const depth = specPath.split('.').length
    const indent = '  '.repeat(depth)
    const body = wrapper === '' ? 'spec:\n' : wrapper
    const text = `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: x\n  namespace: prod\n${body}${podSpec(indent)}`
    const sites = locate(text)
    expect(sites.map((s) => [s.pathString, s.image, s.role, s.container])).toEqual([
      [`${specPath}.initContainers[0].image`, 'busybox:1', 'initContainer', 'init'],
      [`${specPath}.containers[0].image`, 'gcr.io/p/app:1', 'container', 'app'],
    ])
    for (const s of sites) {
      expect(s).toMatchObject({apiVersion, kind, name: 'x', namespace: 'prod', serviceAccount: 'runner', document: 0})
    }
    expect(sites.map((s) => s.line)).toEqual([
      text.split('\n').findIndex((l) => l.includes('busybox')) + 1,
      text.split('\n').findIndex((l) => l.includes('gcr.io')) + 1,
    ])
  })

  it.each([
    ['v1', 'Service'], // a core Service has no pod spec, even if it had these keys
    ['example.com/v1', 'Deployment'], // a CRD that happens to be called Deployment
    ['apps/v1', 'ConfigMap'],
    ['', 'Deployment'], // no apiVersion
  ])('ignores %s %s', (apiVersion, kind) => {
    const text = `apiVersion: ${apiVersion}\nkind: ${kind}\nspec:\n  template:\n    spec:\n${podSpec('      ')}`
    expect(locate(text)).toEqual([])
  })

  it('finds ephemeralContainers and image volumes, with the deprecated serviceAccount', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  serviceAccount: old-sa
  ephemeralContainers:
  - name: debug
    image: busybox:1.36
  volumes:
  - name: data
    image:
      reference: quay.io/crio/artifact:v1
      pullPolicy: IfNotPresent
  - name: cfg
    configMap: {name: c}
`
    expect(locate(text).map((s) => [s.pathString, s.line, s.role, s.serviceAccount, s.container])).toEqual([
      ['spec.ephemeralContainers[0].image', 8, 'ephemeralContainer', 'old-sa', 'debug'],
      ['spec.volumes[0].image.reference', 12, 'volume', 'old-sa', undefined],
    ])
  })

  it('reports sites in file order even when initContainers come after containers', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: a, image: a:1}
  initContainers:
  - {name: b, image: b:1}
  volumes:
  - name: v
    image: {reference: c:1}
`
    expect(brief(text)).toEqual([
      ['spec.containers[0].image', 6, 'a:1', 'container'],
      ['spec.initContainers[0].image', 8, 'b:1', 'initContainer'],
      ['spec.volumes[0].image.reference', 11, 'c:1', 'volume'],
    ])
  })

  it('kind: List → every item, paths start with items[i]', () => {
    const text = `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: a, namespace: n1}
  spec:
    template:
      spec:
        containers:
        - name: c
          image: a:1
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: cm}
  data: {image: not-me:1}
- apiVersion: v1
  kind: Pod
  metadata: {name: b}
  spec:
    containers:
    - name: c
      image: b:2
`
    const sites = locate(text)
    expect(sites.map((s) => [s.pathString, s.line, s.kind, s.name, s.document])).toEqual([
      ['items[0].spec.template.spec.containers[0].image', 12, 'Deployment', 'a', 0],
      ['items[2].spec.containers[0].image', 23, 'Pod', 'b', 0],
    ])
    expect(sites[0]!.path).toEqual(['items', 0, 'spec', 'template', 'spec', 'containers', 0, 'image'])
  })

  it('reads JSON input, including a JSON List', () => {
    const json = JSON.stringify(
      {
        apiVersion: 'v1',
        kind: 'List',
        items: [{apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'd'}, spec: {template: {spec: {containers: [{name: 'x', image: 'nginx:1.25'}]}}}}],
      },
      null,
      2,
    )
    const sites = locate(json)
    expect(sites.map((s) => [s.pathString, s.image])).toEqual([['items[0].spec.template.spec.containers[0].image', 'nginx:1.25']])
    expect(json.split('\n')[sites[0]!.line - 1]).toContain('"image": "nginx:1.25"')
  })

  it('counts documents including empty and comment-only ones', () => {
    const text = `# header comment
---
---
# only a comment
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: c, image: "nginx"}]}
`
    const m = parseManifest(text, 'm.yaml')
    const sites = locateImages(m)
    expect(sites.map((s) => [s.document, s.line])).toEqual([[m.documents.length - 1, 9]])
    expect(m.documents.filter((d) => !d.empty)).toHaveLength(1)
  })

  // kubectl sends an aliased container twice, so both uses are sites (the shared scalar is
  // rewritten once); the second look needs the same count on both sides (docs/kubectl-reading.md).
  it('follows aliases for structure and reports the shared scalar at each path it is used', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - &c {name: a, image: a:1}
  - *c
`
    expect(brief(text)).toEqual([
      ['spec.containers[0].image', 6, 'a:1', 'container'],
      ['spec.containers[1].image', 6, 'a:1', 'container'],
    ])
  })
})

describe('locateImages: built-in rules for third-party kinds', () => {
  /** An object of the kind, x in namespace prod, with this body. */
  const doc = (apiVersion: string, kind: string, body: string) => `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: x\n  namespace: prod\n${body}`
  const briefSites = (text: string) => locate(text).map((s) => [s.pathString, s.image, s.role, s.container ?? null])

  it('Argo Rollouts Rollout: spec.template is a pod template (service account, init containers, break-glass)', () => {
    const text = doc(
      'argoproj.io/v1alpha1',
      'Rollout',
      `spec:
  replicas: 3
  strategy: {canary: {steps: [{setWeight: 20}]}}
  template:
    metadata:
      annotations: {alpha.image-policy.k8s.io/break-glass: "true"}
    spec:
${podSpec('      ')}`,
    )
    const sites = locate(text)
    expect(sites.map((s) => [s.pathString, s.image, s.role, s.container])).toEqual([
      ['spec.template.spec.initContainers[0].image', 'busybox:1', 'initContainer', 'init'],
      ['spec.template.spec.containers[0].image', 'gcr.io/p/app:1', 'container', 'app'],
    ])
    for (const s of sites) expect(s).toMatchObject({kind: 'Rollout', name: 'x', namespace: 'prod', serviceAccount: 'runner', breakGlass: true})
  })

  it.each(['AnalysisTemplate', 'ClusterAnalysisTemplate', 'AnalysisRun'])('Argo Rollouts %s: a job metric runs a Job (pod template)', (kind) => {
    const text = doc(
      'argoproj.io/v1alpha1',
      kind,
      `spec:
  metrics:
  - name: success-rate
    provider: {prometheus: {address: http://prom:9090, query: up}}
  - name: smoke
    provider:
      job:
        spec:
          backoffLimit: 1
          template:
            spec:
              restartPolicy: Never
              containers:
              - {name: test, image: gcr.io/p/smoke:1}
`,
    )
    expect(briefSites(text)).toEqual([['spec.metrics[1].provider.job.spec.template.spec.containers[0].image', 'gcr.io/p/smoke:1', 'container', 'test']])
  })

  const argoTemplates = (indent: string) =>
    `${indent}templates:
${indent}- name: main
${indent}  steps: [[{name: a, template: build}]]
${indent}- name: build
${indent}  container: {image: gcr.io/p/build:1, command: [make]}
${indent}  initContainers:
${indent}  - {name: fetch, image: gcr.io/p/fetch:1}
${indent}  sidecars:
${indent}  - {name: dind, image: docker:24-dind}
${indent}- name: gen
${indent}  script:
${indent}    image: python:3.12
${indent}    source: print(1)
${indent}- name: set
${indent}  containerSet:
${indent}    containers:
${indent}    - {name: a, image: gcr.io/p/a:1}
`
  it.each([
    ['Workflow', 'spec', 'spec:\n'],
    ['WorkflowTemplate', 'spec', 'spec:\n'],
    ['ClusterWorkflowTemplate', 'spec', 'spec:\n'],
    ['CronWorkflow', 'spec.workflowSpec', 'spec:\n  schedule: "0 * * * *"\n  workflowSpec:\n'],
  ])('Argo Workflows %s: container, initContainers, sidecars, script and containerSet of every template under %s', (kind, at, wrapper) => {
    const text = doc('argoproj.io/v1alpha1', kind, wrapper + argoTemplates(at === 'spec' ? '  ' : '    '))
    expect(briefSites(text)).toEqual([
      [`${at}.templates[1].container.image`, 'gcr.io/p/build:1', 'custom', null],
      [`${at}.templates[1].initContainers[0].image`, 'gcr.io/p/fetch:1', 'custom', 'fetch'],
      [`${at}.templates[1].sidecars[0].image`, 'docker:24-dind', 'custom', 'dind'],
      [`${at}.templates[2].script.image`, 'python:3.12', 'custom', null],
      [`${at}.templates[3].containerSet.containers[0].image`, 'gcr.io/p/a:1', 'custom', 'a'],
    ])
  })

  it('KEDA ScaledJob: spec.jobTargetRef is a JobSpec (pod template)', () => {
    const text = doc(
      'keda.sh/v1alpha1',
      'ScaledJob',
      `spec:
  jobTargetRef:
    parallelism: 1
    template:
      spec:
${podSpec('        ')}  triggers:
  - type: rabbitmq
    metadata: {queueName: q}
`,
    )
    expect(briefSites(text)).toEqual([
      ['spec.jobTargetRef.template.spec.initContainers[0].image', 'busybox:1', 'initContainer', 'init'],
      ['spec.jobTargetRef.template.spec.containers[0].image', 'gcr.io/p/app:1', 'container', 'app'],
    ])
  })

  const taskSpec = (indent: string) =>
    `${indent}stepTemplate:
${indent}  image: gcr.io/p/base:1
${indent}steps:
${indent}- {name: build, image: gcr.io/p/go:1.22, script: go build}
${indent}- name: test
${indent}  image: gcr.io/p/go:1.22
${indent}sidecars:
${indent}- {name: db, image: postgres:16}
`
  it.each([
    ['tekton.dev/v1', 'Task', 'spec', 'spec:\n' + taskSpec('  ')],
    ['tekton.dev/v1beta1', 'ClusterTask', 'spec', 'spec:\n' + taskSpec('  ')],
    ['tekton.dev/v1', 'TaskRun', 'spec.taskSpec', 'spec:\n  taskSpec:\n' + taskSpec('    ')],
  ])('Tekton %s %s: steps, sidecars and stepTemplate', (apiVersion, kind, at, body) => {
    expect(briefSites(doc(apiVersion, kind, body))).toEqual([
      [`${at}.stepTemplate.image`, 'gcr.io/p/base:1', 'custom', null],
      [`${at}.steps[0].image`, 'gcr.io/p/go:1.22', 'custom', 'build'],
      [`${at}.steps[1].image`, 'gcr.io/p/go:1.22', 'custom', 'test'],
      [`${at}.sidecars[0].image`, 'postgres:16', 'custom', 'db'],
    ])
  })

  it.each([
    ['Pipeline', 'spec', 'spec:\n'],
    ['PipelineRun', 'spec.pipelineSpec', 'spec:\n  pipelineSpec:\n'],
  ])('Tekton %s: inline taskSpec of tasks and finally (a taskRef has no image)', (kind, at, wrapper) => {
    const i = at === 'spec' ? '  ' : '    '
    const body = `${wrapper}${i}tasks:
${i}- name: fetch
${i}  taskRef: {name: git-clone}
${i}- name: build
${i}  taskSpec:
${i}    steps:
${i}    - {name: make, image: gcr.io/p/make:1}
${i}finally:
${i}- name: notify
${i}  taskSpec:
${i}    steps:
${i}    - {name: say, image: gcr.io/p/notify:1}
`
    expect(briefSites(doc('tekton.dev/v1', kind, body))).toEqual([
      [`${at}.tasks[1].taskSpec.steps[0].image`, 'gcr.io/p/make:1', 'custom', 'make'],
      [`${at}.finally[0].taskSpec.steps[0].image`, 'gcr.io/p/notify:1', 'custom', 'say'],
    ])
  })

  it.each([
    ['example.com/v1', 'Rollout'], // same kind, another group
    ['tekton.dev/v1', 'Rollout'],
    ['argoproj.io/v1alpha1', 'Task'],
    ['', 'Workflow'], // no apiVersion: no group to match
  ])('only in their own API group: %s %s has no built-in sites', (apiVersion, kind) => {
    const text = `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n${podSpec('      ')}  steps:\n  - {name: s, image: a:1}\n`
    expect(locate(text)).toEqual([])
  })

  it('Knative Serving Service (and Cloud Run service YAML) was already a built-in kind', () => {
    const text = doc('serving.knative.dev/v1', 'Service', `spec:\n  template:\n    spec:\n      containers:\n      - image: gcr.io/p/svc:1\n`)
    expect(briefSites(text)).toEqual([['spec.template.spec.containers[0].image', 'gcr.io/p/svc:1', 'container', null]])
  })
})

describe('locateImages: custom rules', () => {
  const text = `apiVersion: example.com/v1
kind: Pipeline
metadata: {name: pipe}
spec:
  components:
  - name: a
    image: gcr.io/p/a:1
  - name: b
    image: gcr.io/p/b:1
  - name: c
  runner:
    image: gcr.io/p/runner:2
    images: [x:1, y:2]
`
  it('[*] selects every list element', () => {
    expect(locate(text, [{kind: 'Pipeline', path: 'spec.components[*].image'}]).map((s) => [s.pathString, s.line, s.image, s.role, s.container])).toEqual([
      ['spec.components[0].image', 7, 'gcr.io/p/a:1', 'custom', 'a'],
      ['spec.components[1].image', 9, 'gcr.io/p/b:1', 'custom', 'b'],
    ])
  })

  it('plain keys, indexes, lists of scalars, and apiVersion matching', () => {
    const rules: CustomImageRule[] = [
      {apiVersion: 'example.com/v1', kind: 'Pipeline', path: 'spec.runner.image'},
      {apiVersion: 'example.com', kind: 'Pipeline', path: 'spec.runner.images[*]'},
      {apiVersion: 'other.com/v1', kind: 'Pipeline', path: 'spec.components[*].image'},
      {apiVersion: 'example.com/*', kind: 'Pipeline', path: 'spec.components[1].image'},
    ]
    expect(brief(text, rules)).toEqual([
      ['spec.components[1].image', 9, 'gcr.io/p/b:1', 'custom'],
      ['spec.runner.image', 12, 'gcr.io/p/runner:2', 'custom'],
      ['spec.runner.images[0]', 13, 'x:1', 'custom'],
      ['spec.runner.images[1]', 13, 'y:2', 'custom'],
    ])
  })

  it('a rule on a built-in kind does not duplicate built-in sites', () => {
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: a:1}\n'
    expect(brief(pod, [{kind: 'Pod', path: 'spec.containers[*].image'}])).toEqual([['spec.containers[0].image', 6, 'a:1', 'container']])
  })

  it.each(['', 'spec..image', 'spec.x[a]', 'spec.x[*'])('rejects the rule path %j', (path) => {
    expect(() => parseRulePath(path)).toThrowWithCode('CONFIG_INVALID')
  })
})

describe('locateImages: values that are not strings', () => {
  const pod = (value: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: ${value}\n`
  it.each([
    ['42', /got number 42/],
    ['', /empty/],
    ['null', /null/],
    ['{a: b}', /a mapping/],
    ['[a, b]', /a list/],
    ['true', /got boolean true/],
  ])('image: %s → INVALID_INPUT naming path and line', (value, re) => {
    let err: unknown
    try {
      locate(pod(value))
    } catch (e) {
      err = e
    }
    expect(() => {
      throw err
    }).toThrowWithCode('INVALID_INPUT', re)
    expect((err as Error).message).toMatch(/^m\.yaml: document 1: spec\.containers\[0\]\.image \(line 7\): /)
  })

  it('an unquoted Helm template that YAML reads as a mapping is UNPINNABLE_VALUE', () => {
    expect(() => locate(pod('{{ .Values.image }}'))).toThrowWithCode(
      'UNPINNABLE_VALUE',
      /spec\.containers\[0\]\.image \(line 7\): "\{\{ \.Values\.image \}\}" is a Helm template/,
    )
  })

  it('an aliased image scalar is refused', () => {
    expect(() => locate(`x: &img nginx:1\n---\n` + pod('*img'))).toThrowWithCode('INVALID_INPUT')
  })
})

describe('classifyImageValue', () => {
  it.each([
    ['nginx', 'reference'],
    ['gcr.io/p/app:1@sha256:' + 'a'.repeat(64), 'reference'],
    ['{{ .Values.image }}', 'template'],
    ['{{ .Values.repo }}:{{ .Chart.AppVersion }}', 'template'],
    ['gcr.io/p/app:{{ .Values.tag }}', 'template'],
    ['${ARTIFACT_REGISTRY_IMAGE_URI}', 'template'],
    ['gcr.io/${gcp_project}/backend:${image_tag}', 'template'],
    ['$IMAGE', 'template'],
    ['ko://github.com/org/repo/cmd/app', 'ko'],
  ])('%s → %s', (value, kind) => {
    expect(classifyImageValue(value).kind).toBe(kind)
  })

  it('unpinnableError names file, document, path, line and the value, with a next step', () => {
    const site = {file: 'deploy.yaml', document: 1, pathString: 'spec.template.spec.containers[0].image', line: 14, image: '{{ .Values.image }}'}
    const cls = classifyImageValue(site.image)
    expect(cls.kind).toBe('template')
    const err = unpinnableError(site, cls.kind === 'reference' ? '' : cls.why)
    expect(err.code).toBe('UNPINNABLE_VALUE')
    expect(err.message).toBe(
      'deploy.yaml: document 2: spec.template.spec.containers[0].image (line 14): "{{ .Values.image }}" is a Helm template, not an image reference',
    )
    expect(err.hint).toMatch(/helm template/)
    expect(err.location).toMatchObject({file: 'deploy.yaml', document: 1, line: 14, path: site.pathString})
    expect(unpinnableError({...site, image: 'ko://x/y'}, 'is ko').hint).toMatch(/ko resolve/)
    expect(unpinnableError({...site, image: '${IMG}'}, 'is env').hint).toMatch(/envsubst/)
  })
})

describe('formatPath', () => {
  it.each([
    [['spec', 'containers', 0, 'image'], 'spec.containers[0].image'],
    [['items', 2, 'spec'], 'items[2].spec'],
    [['metadata', 'annotations', 'a.b/c'], 'metadata.annotations["a.b/c"]'],
  ])('%j → %s', (path, s) => {
    expect(formatPath(path)).toBe(s)
  })
})
