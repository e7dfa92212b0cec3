/** The -o renderers over plain data: YAML of the document (key order kept), name lines, wide tables. */
import {describe, expect, it} from '@jest/globals'
import {parse} from 'yaml'
import {applyNames, pinNames, preflightNames, renderPinWide, renderYamlDocument, runNames, table} from '../../../src/render/output.js'
import {renderPreflightText} from '../../../src/render/preflight.js'
import {jsonDocumentNumbers} from '../../../src/render/json.js'
import {renderApplyResult, renderRunResult} from '../../../src/render/text.js'
import type {PinSiteJson} from '../../../src/app/pin.js'
import type {PlanImageResult, PreflightResult} from '../../../src/core/preflight.js'

const D1 = 'sha256:' + '1'.repeat(64)
const D2 = 'sha256:' + '2'.repeat(64)
// eslint-disable-next-line no-control-regex
const ESC = /\u001b\[/

const site = (name: string, original: string, pinned: string, line: number): PinSiteJson => ({
  file: 'k8s/app.yaml',
  document: 1,
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  name,
  path: 'spec.template.spec.containers[0].image',
  line,
  original,
  pinned,
  digest: pinned.slice(pinned.indexOf('@') + 1),
  status: 'pinned',
})

const image = (original: string, digest: string | undefined, verdict: PlanImageResult['verdict'] = 'ALLOW'): PlanImageResult => ({
  image: digest ? `${original}@${digest}` : original,
  original,
  ...(digest ? {digest} : {}),
  evaluatedImage: original,
  verdict,
  rule: {kind: 'namespace', key: 'prod', evaluationMode: 'ALWAYS_ALLOW', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG'},
  attestors: [],
  reasons: verdict === 'ALLOW' ? [] : ['denied'],
  notes: [],
  nextSteps: [],
  namespace: 'prod',
  serviceAccount: 'api-sa',
  workload: 'Deployment/web',
  container: 'web',
  file: 'k8s/app.yaml',
  line: 12,
})

describe('renderYamlDocument', () => {
  it('is the same document, keys in the same order, long references on one line', () => {
    const doc = {apiVersion: 'safe-deploy.dev/v1', kind: 'PinResult', sites: [site('web', 'r.example/very/long/name:1', `r.example/very/long/name:1@${D1}`, 3)]}
    const text = renderYamlDocument(doc)
    expect(parse(text)).toEqual(doc)
    expect(Object.keys(parse(text) as object)).toEqual(['apiVersion', 'kind', 'sites'])
    expect(text).toContain(`pinned: r.example/very/long/name:1@${D1}\n`)
  })

  it('writes an object used twice out twice, as JSON does (no anchors or aliases)', () => {
    const rule = {kind: 'default', evaluationMode: 'ALWAYS_ALLOW'}
    const text = renderYamlDocument({rule, candidates: [rule]})
    expect(text).not.toMatch(/[&*]a1/)
    expect(parse(text)).toEqual({rule, candidates: [rule]})
  })
})

describe('-o name', () => {
  it('pin: each pinned reference once, in order', () => {
    const sites = [site('a', 'x:1', `x:1@${D1}`, 1), site('b', 'y:2', `y:2@${D2}`, 9), site('c', 'x:1', `x:1@${D1}`, 20)]
    expect(pinNames({sites})).toBe(`x:1@${D1}\ny:2@${D2}\n`)
    expect(pinNames({sites: []})).toBe('')
  })

  it('preflight: repository@digest (tag and written digest replaced), as written without a digest', () => {
    const images = [
      image('localhost:5000/team/app:1.0', D1),
      image('nginx:1.25', undefined),
      image(`gcr.io/p/x@${D2}`, D2),
      image('localhost:5000/team/app:1.0', D1),
    ]
    expect(preflightNames({images})).toBe(`localhost:5000/team/app@${D1}\nnginx:1.25\ngcr.io/p/x@${D2}\n`)
  })

  it("apply: kubectl's kind/name; run: the service and its revision", () => {
    expect(
      applyNames({
        objects: [
          {kind: 'Deployment', name: 'web'},
          {kind: 'Service', name: 'web', apiVersion: 'v1'},
          {kind: 'Deployment', name: 'w', apiVersion: 'apps/v1'},
        ],
      }),
    ).toBe('deployment/web\nservice/web\ndeployment.apps/w\n')
    expect(runNames({service: 'api', revision: 'api-00002-abc'})).toBe('service.serving.knative.dev/api\nrevision.serving.knative.dev/api-00002-abc\n')
    expect(runNames({service: 'api'})).toBe('service.serving.knative.dev/api\n')
  })
})

describe('-o wide', () => {
  it('table: columns two spaces apart, no trailing blanks', () => {
    expect(
      table(
        ['A', 'LONGER'],
        [
          ['xx', 'y'],
          ['z', ''],
        ],
      ),
    ).toBe('A   LONGER\nxx  y\nz\n')
  })

  it('pin: one row per site with file:line, object, path, original, pinned, status', () => {
    const text = renderPinWide({sites: [site('web', 'x:1', `x:1@${D1}`, 7)]})
    const [header, row] = text.split('\n')
    expect(header?.split(/\s{2,}/)).toEqual(['WHERE', 'OBJECT', 'PATH', 'IMAGE', 'PINNED', 'STATUS'])
    expect(row?.split(/\s{2,}/)).toEqual(['k8s/app.yaml:7', 'Deployment/web', 'spec.template.spec.containers[0].image', 'x:1', `x:1@${D1}`, 'pinned'])
  })

  it('preflight: the image line adds namespace, service account, the rule and the full digest', () => {
    const r: PreflightResult = {
      verdict: 'DENY',
      target: {platform: 'gke', cluster: 'us-central1.prod', namespace: 'prod'},
      policy: {source: 'policy.yaml'},
      images: [image('app:1', D1, 'DENY')],
      notes: [],
    }
    const normal = renderPreflightText(r)
    const wide = renderPreflightText(r, {wide: true})
    expect(normal).not.toContain('sa api-sa')
    expect(normal).not.toContain(D1)
    expect(wide).toContain(`DENY  app:1@${D1}  (container web, Deployment/web, ns prod, sa api-sa)  k8s/app.yaml:12  namespace rule prod: ALWAYS_ALLOW`)
  })

  it('apply: objects with their namespace', () => {
    const r = {
      outcome: 'applied' as const,
      objects: [{kind: 'Deployment', name: 'web', namespace: 'prod', action: 'configured'}],
      applier: 'kubectl',
      verdict: 'ALLOW',
      auditId: 'id1',
    }
    expect(renderApplyResult(r, {wide: true})).toContain('deployment/web configured  (ns prod)\n')
    expect(renderApplyResult(r)).toContain('deployment/web configured\n')
  })
})

describe('deploy results in colour only when asked', () => {
  it('apply and run: verdict and outcome coloured on a terminal, plain otherwise', () => {
    const a = {outcome: 'applied' as const, objects: [], applier: 'api', verdict: 'ALLOW', auditId: 'id1'}
    expect(renderApplyResult(a)).not.toMatch(ESC)
    expect(renderApplyResult(a, {color: true})).toContain('\u001b[32mALLOW')
    const blocked = renderRunResult({outcome: 'blocked', service: 's', verdict: 'DENY', auditId: 'id'}, {color: true})
    expect(blocked).toContain('\u001b[31mBLOCKED')
    expect(renderRunResult({outcome: 'deployed', service: 's', created: true, verdict: 'ALLOW', auditId: 'id'})).toBe('created s; verdict ALLOW; audit id id')
  })
})

describe('--json documents say each field once (render/json.ts)', () => {
  it("an attestor check's details keep only what the check does not already say", () => {
    const check = {attestor: 'projects/p/attestors/a', satisfied: false, reason: 'no attestation'}
    const doc = {images: [{document: 0, attestors: [{...check, details: {...check, checks: [], warnings: ['expired key']}}]}]}
    expect(jsonDocumentNumbers(doc)).toEqual({images: [{document: 1, attestors: [{...check, details: {checks: [], warnings: ['expired key']}}]}]})
    // A value that differs from the check's is information, and stays.
    const differs = {images: [{attestors: [{...check, details: {reason: 'more detail', cause: 'x'}}]}]}
    expect(jsonDocumentNumbers(differs)).toEqual(differs)
  })
})
