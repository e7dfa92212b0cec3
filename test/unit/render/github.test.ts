/**
 * CI renderers over plain data (issue #16): GitHub workflow-command annotations (escaping, paths
 * relative to GITHUB_WORKSPACE, most important first, at most ten per level), $GITHUB_OUTPUT lines
 * (heredoc for multi-line values), the step summary's 1 MiB cap, and GitLab Code Quality JSON.
 */
import {describe, expect, it} from '@jest/globals'
import {
  annotation,
  capStepSummary,
  escapeData,
  escapeProperty,
  renderAnnotations,
  renderOutputs,
  renderProblemsMarkdown,
  workspacePath,
} from '../../../src/render/github.js'
import {renderCodeQuality} from '../../../src/render/codequality.js'
import {errorProblems, lintProblems, preflightProblems, type Problem} from '../../../src/render/problems.js'
import type {PlanImageResult, PreflightResult} from '../../../src/core/preflight.js'
import {SafeDeployError} from '../../../src/core/errors.js'

const WS = {workspace: '/repo', cwd: '/repo'}
const DIGEST = 'sha256:' + 'a'.repeat(64)
const CI = 'projects/acme-prod/attestors/built-by-ci'

function image(verdict: PlanImageResult['verdict'], line: number, file = 'k8s/api.yaml'): PlanImageResult {
  return {
    image: `us-docker.pkg.dev/p/r/api:1.0@${DIGEST}`,
    original: `us-docker.pkg.dev/p/r/api:${line}`,
    digest: DIGEST,
    evaluatedImage: `us-docker.pkg.dev/p/r/api:1.0@${DIGEST}`,
    verdict,
    rule: {kind: 'default', evaluationMode: 'REQUIRE_ATTESTATION', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG'},
    attestors: verdict === 'ALLOW' ? [] : [{attestor: CI, satisfied: false, reason: 'No attestations found'}],
    reasons: [],
    notes: [],
    nextSteps: verdict === 'ALLOW' ? [] : [`safe-deploy attest --image x@${DIGEST} --attestor ${CI}`],
    namespace: 'prod',
    serviceAccount: 'default',
    workload: 'Deployment/api',
    container: 'api',
    file,
    document: 0,
    path: 'spec.template.spec.containers[0].image',
    line,
  }
}

const result = (images: PlanImageResult[]): PreflightResult => ({
  verdict: images.some((i) => i.verdict === 'DENY') ? 'DENY' : 'ALLOW',
  target: {platform: 'gke', namespace: 'prod'},
  policy: {source: 'policy.yaml'},
  images,
  notes: [],
  unexamined: [],
})

describe('GitHub workflow commands', () => {
  it('escapes the message (%, CR, LF) and properties (also : and ,) as @actions/core does', () => {
    expect(escapeData('100% done\r\nnext: a,b')).toBe('100%25 done%0D%0Anext: a,b')
    expect(escapeProperty('k8s/a:b,c%.yaml')).toBe('k8s/a%3Ab%2Cc%25.yaml')
  })

  it('annotates a denial at its file and line, relative to the workspace, title escaped', () => {
    const [p] = preflightProblems(result([image('DENY', 23)]))
    const line = annotation(p as Problem, {workspace: '/repo', cwd: '/repo/deploy'})
    expect(line).toMatch(/^::error file=deploy\/k8s\/api\.yaml,line=23,title=Binary Authorization would deny this image::/)
    expect(line).toContain('requires attestor projects/acme-prod/attestors/built-by-ci: No attestations found')
    expect(line).toContain('%0Anext: safe-deploy attest')
    expect(line.split('\n')).toHaveLength(1)
  })

  it('names a file outside the workspace (or stdin) in the message, not as file=', () => {
    expect(workspacePath('/elsewhere/a.yaml', WS)).toBeUndefined()
    expect(workspacePath('-', WS)).toBeUndefined()
    const [p] = preflightProblems(result([image('DENY', 4, '/elsewhere/a.yaml')]))
    const line = annotation(p as Problem, WS)
    expect(line).not.toContain('file=')
    expect(line).toContain('::/elsewhere/a.yaml:4: ')
  })

  it('puts errors first and keeps at most ten per level, counting what was left to the summary', () => {
    const images = [...Array.from({length: 12}, (_, i) => image('DRYRUN_DENY', 100 + i)), ...Array.from({length: 13}, (_, i) => image('DENY', i + 1))]
    const problems = preflightProblems(result(images))
    const {lines, dropped} = renderAnnotations(problems, WS)
    expect(lines.filter((l) => l.startsWith('::error '))).toHaveLength(10)
    expect(lines.filter((l) => l.startsWith('::warning '))).toHaveLength(10)
    expect(lines[0]).toContain('line=1,')
    expect(lines[10]).toMatch(/^::warning .*line=100,/)
    expect(dropped).toBe(5)
    const md = renderProblemsMarkdown(problems, WS)
    expect(md).toContain('### safe-deploy problems (25)')
    expect(md.split('\n').filter((l) => l.startsWith('| error |'))).toHaveLength(13)
    expect(md).toContain('`k8s/api.yaml:13`')
  })

  it('an allowed pre-flight has no problems', () => {
    expect(preflightProblems(result([image('ALLOW', 3)]))).toEqual([])
  })

  it('lint findings and failed commands become problems at their lines', () => {
    const lint = lintProblems({
      file: 'policy.yaml',
      findings: [
        {code: 'PERMISSIVE_PROD', severity: 'warning', line: 9, message: 'ALWAYS_ALLOW on prod', fix: 'require attestations'},
        {code: 'BAD_MODE', severity: 'error', line: 4, message: 'unknown evaluationMode', fix: 'use REQUIRE_ATTESTATION'},
      ],
    })
    expect(lint.map((p) => [p.severity, p.line])).toEqual([
      ['error', 4],
      ['warning', 9],
    ])
    const err = new SafeDeployError('REGISTRY_NOT_FOUND', '2 images could not be resolved', {
      errors: [new SafeDeployError('REGISTRY_NOT_FOUND', 'tag not found', {location: {file: 'k8s/api.yaml', line: 23, image: 'x:1'}})],
    })
    expect(annotation(errorProblems(err)[0] as Problem, WS)).toBe('::error file=k8s/api.yaml,line=23,title=safe-deploy%3A REGISTRY_NOT_FOUND::tag not found')
  })
})

describe('$GITHUB_OUTPUT and the step summary', () => {
  it('writes name=value, and the heredoc form for multi-line values', () => {
    expect(renderOutputs({verdict: 'DENY', 'denied-count': '2', digests: '{"a:1":"sha256:x"}'}, 'ghadelimiter_1')).toBe(
      'verdict=DENY\ndenied-count=2\ndigests={"a:1":"sha256:x"}\n',
    )
    expect(renderOutputs({notes: 'one\ntwo'}, 'ghadelimiter_1')).toBe('notes<<ghadelimiter_1\none\ntwo\nghadelimiter_1\n')
    expect(() => renderOutputs({notes: 'a\nghadelimiter_1'}, 'ghadelimiter_1')).toThrow(/delimiter/)
  })

  it('caps the summary at the limit, at a line end, with a note naming the full report', () => {
    const md = Array.from({length: 1000}, (_, i) => `| row ${i} | é |`).join('\n')
    const capped = capStepSummary(md, 2000, 'report.md')
    expect(Buffer.byteLength(capped)).toBeLessThanOrEqual(2000)
    expect(capped).toMatch(
      /\| é \|\n\n> \*\*Truncated\*\*: this summary was \d+ bytes, over GitHub's 2000-byte step summary limit; the full report is report\.md\.\n$/,
    )
    expect(capStepSummary('short', 2000)).toBe('short')
  })
})

describe('GitLab Code Quality', () => {
  it('one issue per problem with the fields GitLab reads; fingerprints stable across runs', () => {
    const problems = preflightProblems(result([image('DENY', 23), image('DRYRUN_DENY', 40)]))
    const issues = JSON.parse(renderCodeQuality(problems, WS)) as Array<Record<string, unknown>>
    expect(issues).toHaveLength(2)
    expect(issues[0]).toMatchObject({
      check_name: 'binauthz-deny',
      severity: 'critical',
      location: {path: 'k8s/api.yaml', lines: {begin: 23}},
    })
    expect(issues[1]).toMatchObject({check_name: 'binauthz-dryrun-deny', severity: 'major', location: {lines: {begin: 40}}})
    expect(String(issues[0]?.description)).toMatch(/^Binary Authorization would deny this image: us-docker\.pkg\.dev/)
    expect(issues[0]?.fingerprint).toMatch(/^[0-9a-f]{64}$/)
    expect(issues[0]?.fingerprint).not.toBe(issues[1]?.fingerprint)
    expect(JSON.parse(renderCodeQuality(problems, WS))).toEqual(issues)
    expect(Object.keys(issues[0] as object).sort()).toEqual(['check_name', 'description', 'fingerprint', 'location', 'severity'])
  })
})
