/**
 * The pre-flight renderers over plain data (no evaluation, no I/O): the terminal text (one line per
 * image, one reason per unmet requirement, the next step; colour only when asked), the Markdown report
 * and the JUnit report, with the container named everywhere.
 */
import {describe, expect, it} from '@jest/globals'
import {renderPreflightJunit, renderPreflightMarkdown, renderPreflightText} from '../../../src/render/preflight.js'
import type {PlanImageResult, PreflightResult} from '../../../src/core/preflight.js'

const CI = 'projects/acme-prod/attestors/built-by-ci'
const SCAN = 'projects/acme-prod/attestors/scanned'
const NO_ATT = 'No attestations found that were valid and signed by a key trusted by the attestor'
const WORKER_DIGEST = 'sha256:9f8e7d6c' + '0'.repeat(56)
const REDIS_DIGEST = 'sha256:55555555' + '1'.repeat(56)
// eslint-disable-next-line no-control-regex
const ESC = /\u001b\[/

function denied(container: string, line: number): PlanImageResult {
  const image = `us-docker.pkg.dev/acme-prod/shop/worker:1.4.2@${WORKER_DIGEST}`
  return {
    image,
    original: 'us-docker.pkg.dev/acme-prod/shop/worker:1.4.2',
    digest: WORKER_DIGEST,
    evaluatedImage: image,
    verdict: 'DENY',
    rule: {kind: 'default', evaluationMode: 'REQUIRE_ATTESTATION', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG'},
    attestors: [
      {attestor: CI, satisfied: false, reason: NO_ATT},
      {attestor: SCAN, satisfied: true, reason: 'valid attestation'},
    ],
    reasons: [`Image ${image} denied by Binary Authorization default admission rule.`, `Image ${image} denied by attestor ${CI}: ${NO_ATT}`],
    notes: [],
    nextSteps: [`safe-deploy attest --image us-docker.pkg.dev/acme-prod/shop/worker@${WORKER_DIGEST} --attestor ${CI}`],
    namespace: 'shop',
    serviceAccount: 'default',
    workload: 'Deployment/worker',
    container,
    file: 'k8s/shop.yaml',
    document: 2,
    path: `spec.template.spec.${container === 'migrate' ? 'initContainers' : 'containers'}[0].image`,
    line,
  }
}

const allowed: PlanImageResult = {
  image: `redis:7.2@${REDIS_DIGEST}`,
  original: `redis:7.2@${REDIS_DIGEST}`,
  digest: REDIS_DIGEST,
  evaluatedImage: `redis:7.2@${REDIS_DIGEST}`,
  verdict: 'ALLOW',
  rule: {kind: 'default', evaluationMode: 'REQUIRE_ATTESTATION', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG'},
  exemption: {kind: 'allowlist', pattern: 'redis:7.2@*'},
  attestors: [],
  reasons: [`Image redis:7.2@${REDIS_DIGEST} allowed: matches allowlist pattern redis:7.2@*.`],
  notes: [],
  nextSteps: [],
  namespace: 'shop',
  serviceAccount: 'default',
  workload: 'Deployment/worker',
  container: 'cache',
  file: 'k8s/shop.yaml',
  document: 2,
  path: 'spec.template.spec.containers[1].image',
  line: 55,
}

/** One image used by an init container and a container, plus an allowlisted one. */
const result: PreflightResult = {
  verdict: 'DENY',
  target: {platform: 'gke', cluster: 'us-central1.prod', namespace: 'default'},
  policy: {source: 'policy.yaml'},
  images: [denied('migrate', 49), denied('worker', 53), allowed],
  notes: [],
  unexamined: [],
}

describe('renderPreflightText', () => {
  const text = renderPreflightText(result, {color: false})
  const lines = text.split('\n')

  it('gives each image one line: verdict, the image as written with a short digest, container, workload, file:line', () => {
    const heads = lines.filter((l) => !l.startsWith(' ') && /^(DENY|ok|DRY|BRK)\b/.test(l))
    expect(heads).toEqual([
      'DENY  us-docker.pkg.dev/acme-prod/shop/worker:1.4.2@sha256:9f8e7d6c…  (container migrate, Deployment/worker, ns shop)  k8s/shop.yaml:49',
      'DENY  us-docker.pkg.dev/acme-prod/shop/worker:1.4.2@sha256:9f8e7d6c…  (container worker, Deployment/worker, ns shop)  k8s/shop.yaml:53',
      'ok    redis:7.2@sha256:55555555…  (container cache, Deployment/worker, ns shop)  k8s/shop.yaml:55  allowlist redis:7.2@*',
    ])
  })

  it('says each unmet requirement once, then the next step; the full digest appears only in the command to run', () => {
    const block = text.slice(0, text.indexOf('DENY', 10))
    expect(block).toBe(
      'DENY  us-docker.pkg.dev/acme-prod/shop/worker:1.4.2@sha256:9f8e7d6c…  (container migrate, Deployment/worker, ns shop)  k8s/shop.yaml:49\n' +
        `      default admission rule requires attestor ${CI}: ${NO_ATT}\n` +
        `      next: safe-deploy attest --image us-docker.pkg.dev/acme-prod/shop/worker@${WORKER_DIGEST} --attestor ${CI}\n`,
    )
    expect(text.split(NO_ATT).length - 1).toBe(2) // once per denied image
    expect(text.split(WORKER_DIGEST).length - 1).toBe(2) // only in the two attest commands
  })

  it('names the rule of an ALWAYS_DENY denial and what a dry-run would be', () => {
    const image = 'nginx:1.25@' + REDIS_DIGEST
    const dry: PlanImageResult = {
      ...allowed,
      exemption: undefined as never,
      image,
      original: 'nginx:1.25',
      verdict: 'DRYRUN_DENY',
      wouldBe: 'DENY',
      rule: {kind: 'cluster', key: 'us-central1.prod', evaluationMode: 'ALWAYS_DENY', enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY'},
      reasons: [`Image ${image} denied by Binary Authorization cluster-specific admission rule for us-central1.prod.`, 'Denied by always_deny admission rule'],
      nextSteps: ['the cluster rule denies every image not allowlisted: to exempt this one add "- namePattern: nginx@*"'],
    }
    delete (dry as {exemption?: unknown}).exemption
    const t = renderPreflightText({...result, verdict: 'DRYRUN_DENY', images: [dry]}, {color: false})
    expect(t).toContain(
      'DRY   nginx:1.25@sha256:55555555…  (container cache, Deployment/worker, ns shop)  k8s/shop.yaml:55  would be DENY (dry-run)\n' +
        '      cluster admission rule us-central1.prod (dry-run): Denied by always_deny admission rule\n' +
        '      next: the cluster rule denies',
    )
  })

  it('has no escape codes without colour, and colours the verdicts with it', () => {
    expect(text).not.toMatch(ESC)
    const coloured = renderPreflightText(result, {color: true})
    expect(coloured).toMatch(ESC)
    expect(coloured).toContain('\u001b[31m') // red: DENY
    expect(coloured).toContain('\u001b[32m') // green: ok
    // eslint-disable-next-line no-control-regex
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).toBe(text)
  })

  it('names the attestors whose attestations admitted an allowed image, and their verification warnings', () => {
    const ok: PlanImageResult = {
      ...denied('worker', 53),
      verdict: 'ALLOW',
      attestors: [{attestor: CI, satisfied: true, reason: 'verified', details: {warnings: ['PGP key expired']}}],
      reasons: [],
      nextSteps: [],
    }
    const t = renderPreflightText({...result, verdict: 'ALLOW', images: [ok]}, {color: false})
    expect(t).toContain(`k8s/shop.yaml:53  default admission rule: valid attestation by ${CI}\n      warning: ${CI}: PGP key expired\n`)
  })

  it('defaults to no colour (apply and run deploy print it through their own ports)', () => {
    expect(renderPreflightText(result)).toBe(text)
  })
})

describe('renderPreflightMarkdown', () => {
  const md = renderPreflightMarkdown(result)

  it('gives an image used by an init container and a container two rows and two details blocks', () => {
    const rows = md.split('\n').filter((l) => l.startsWith('| `us-docker.pkg.dev/acme-prod/shop/worker:1.4.2`'))
    expect(rows).toHaveLength(2)
    expect(rows[0]).toContain('| migrate |')
    expect(rows[1]).toContain('| worker |')
    const summaries = md.split('\n').filter((l) => l.startsWith('<details>'))
    expect(summaries).toEqual([
      '<details><summary>us-docker.pkg.dev/acme-prod/shop/worker:1.4.2 (container migrate, k8s/shop.yaml:49): DENY</summary>',
      '<details><summary>us-docker.pkg.dev/acme-prod/shop/worker:1.4.2 (container worker, k8s/shop.yaml:53): DENY</summary>',
    ])
  })

  it('links file:line relative to the report', () => {
    const linked = renderPreflightMarkdown(result, {links: {cwd: '/repo', reportDir: '/repo/reports'}})
    expect(linked).toContain('[k8s/shop.yaml:49](../k8s/shop.yaml#L49)')
    expect(linked).toContain('[k8s/shop.yaml:55](../k8s/shop.yaml#L55)')
    // Without a report location (the step summary), file:line is plain text.
    expect(md).toContain('`k8s/shop.yaml:49`')
    expect(md).not.toContain('](')
  })
})

describe('renderPreflightJunit', () => {
  it('gives every image its own test case: unique classname/name pairs, the container named', () => {
    const xml = renderPreflightJunit(result)
    const cases = [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"/g)].map((m) => `${m[1]} ${m[2]}`)
    expect(cases).toEqual([
      'Deployment/worker container migrate: us-docker.pkg.dev/acme-prod/shop/worker:1.4.2',
      'Deployment/worker container worker: us-docker.pkg.dev/acme-prod/shop/worker:1.4.2',
      `Deployment/worker container cache: redis:7.2@${REDIS_DIGEST}`,
    ])
    expect(new Set(cases).size).toBe(cases.length)
  })

  it('keeps cases unique when nothing names a container (the same image twice in one workload)', () => {
    const anon = (line: number): PlanImageResult => {
      const d = denied('x', line)
      delete (d as {container?: string}).container
      return d
    }
    const xml = renderPreflightJunit({...result, images: [anon(10), anon(20)]})
    const names = [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"/g)].map((m) => `${m[1]} ${m[2]}`)
    expect(new Set(names).size).toBe(2)
  })
})

describe('registry signatures in the reports', () => {
  const signed: PlanImageResult = {
    ...allowed,
    signatures: {
      satisfied: true,
      couldNotCheck: false,
      signatures: [{format: 'bundle', kind: 'signature', location: 'r@sha256:… (referrer)', verified: true, verifiedBy: 'ci.pub'}],
      attestations: [],
      reason: 'verified by ci.pub (bundle)',
      notes: [],
      failedLookups: [],
    },
  }
  const unsigned: PlanImageResult = {
    ...allowed,
    container: 'other',
    verdict: 'DENY',
    reasons: [`Image redis:7.2@${REDIS_DIGEST} denied by the registry signature requirement: no signature found`],
    nextSteps: [`safe-deploy attest --sigstore --image redis@${REDIS_DIGEST} --private-key KEY.pem`],
    signatures: {...(signed.signatures as NonNullable<PlanImageResult['signatures']>), satisfied: false, signatures: [], reason: 'no signature found'},
  }
  const r: PreflightResult = {...result, verdict: 'DENY', images: [signed, unsigned]}

  it('text: what verified on an allowed line; the requirement (not a policy rule) on a denied one', () => {
    const text = renderPreflightText(r, {color: false})
    expect(text).toContain('allowlist redis:7.2@*; signed by ci.pub (bundle)')
    expect(text).toContain('      registry signatures required: no signature found\n')
    expect(text).not.toMatch(/default admission rule: Image .* denied by the registry signature requirement/)
  })

  it('Markdown: a Signatures column only when a requirement is in force', () => {
    const md = renderPreflightMarkdown(r)
    expect(md).toContain('| Image | Container | Where | Digest | Verdict | Rule | Attestors | Signatures |')
    expect(md).toContain('| ✅ signed by ci.pub (bundle) |')
    expect(md).toContain('| ❌ no signature found |')
    expect(renderPreflightMarkdown(result)).not.toContain('Signatures |')
  })

  it('JUnit: the signature reason is the failure', () => {
    expect(renderPreflightJunit(r)).toContain('<failure message="Image redis:7.2@sha256:55555555')
  })
})
