/**
 * CI output through the built CLI (issue #16): with GITHUB_ACTIONS=true, annotations at the problem's
 * file and line relative to GITHUB_WORKSPACE (on stderr: pin's stdout stays the YAML), GitHub's
 * per-step limit kept with the full list in the step summary, outputs in $GITHUB_OUTPUT, a failed pin
 * annotated at the image that did not resolve, policy lint at the policy line; --ci-format none turns
 * it off; --report-codequality writes GitLab's JSON. Needs dist/ (npm run build:dist).
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {isolatedEnv, runCli} from '../../support/cli.js'
import {deployment, startTrustSetup, type TrustSetup} from '../../support/fixtures.js'
import {parseAnnotations} from '../../support/ci-runners.js'

let trust: TrustSetup
let ws: string

beforeAll(async () => {
  trust = await startTrustSetup({prefix: 'sd-ci-out-'})
  await trust.reg.pushImage('team/app', '1.0')
  ws = join(trust.dir, 'repo')
  mkdirSync(join(ws, 'k8s'), {recursive: true})
}, 60_000)
afterAll(async () => {
  await trust?.stop()
})

function github(extra: Record<string, string> = {}): {env: Record<string, string>; output: string; summary: string} {
  const output = join(ws, `.out-${Math.random().toString(36).slice(2)}`)
  const summary = output + '-summary'
  writeFileSync(output, '')
  writeFileSync(summary, '')
  return {env: isolatedEnv({GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: ws, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...extra}), output, summary}
}

const trustArgs = () => ['--policy', trust.policy, '--attestors', trust.attestors, '--attestations', trust.atts, '--insecure-registry', trust.reg.host]

describe('GitHub annotations, outputs and summary through the CLI', () => {
  it('preflight: 12 denials, 10 annotated (in file order, lines right), all 12 in the summary; outputs; Code Quality JSON', async () => {
    const docs = Array.from({length: 12}, (_, i) => deployment(`w${i}`, `${trust.reg.host}/team/app:1.0`, {namespace: 'prod', selector: false}))
    writeFileSync(join(ws, 'k8s/many.yaml'), docs.join('---\n'))
    const lines = readFileSync(join(ws, 'k8s/many.yaml'), 'utf8').split('\n')
    const imageLines = lines.flatMap((l, i) => (l.includes('image:') ? [i + 1] : []))
    const g = github()
    const r = await runCli(['preflight', '-f', 'k8s/many.yaml', ...trustArgs(), '--report-codequality', 'cq.json'], {cwd: ws, env: g.env})
    expect(r.code).toBe(5)
    expect(r.stdout).toBe('')
    const errors = parseAnnotations(r.stderr).filter((a) => a.level === 'error')
    expect(errors).toHaveLength(10)
    expect(errors.map((a) => [a.props.file, Number(a.props.line)])).toEqual(imageLines.slice(0, 10).map((l) => ['k8s/many.yaml', l]))
    const summary = readFileSync(g.summary, 'utf8')
    expect(summary).toContain('2 more problem(s) than GitHub annotates per step')
    expect(summary).toContain('### safe-deploy problems (12)')
    expect(summary).toContain(`\`k8s/many.yaml:${imageLines[11]}\``)
    const out = readFileSync(g.output, 'utf8')
    expect(out).toMatch(/^verdict=DENY$/m)
    expect(out).toMatch(/^denied-count=12$/m)
    const digests = JSON.parse(/^digests=(.*)$/m.exec(out)?.[1] ?? '{}') as Record<string, string>
    expect(Object.keys(digests)).toEqual([`${trust.reg.host}/team/app:1.0`])
    const cq = JSON.parse(readFileSync(join(ws, 'cq.json'), 'utf8')) as Array<{location: {path: string; lines: {begin: number}}; severity: string}>
    expect(cq).toHaveLength(12)
    expect(cq.map((i) => i.location.lines.begin)).toEqual(imageLines)
    expect(new Set(cq.map((i) => `${i.location.path} ${i.severity}`))).toEqual(new Set(['k8s/many.yaml critical']))
  })

  it('--ci-format none: no annotations, no outputs', async () => {
    writeFileSync(join(ws, 'k8s/one.yaml'), deployment('one', `${trust.reg.host}/team/app:1.0`, {namespace: 'prod'}))
    const g = github()
    const r = await runCli(['preflight', '-f', 'k8s/one.yaml', ...trustArgs(), '--ci-format', 'none'], {cwd: ws, env: g.env})
    expect(r.code).toBe(5)
    expect(parseAnnotations(r.stderr)).toEqual([])
    expect(readFileSync(g.output, 'utf8')).toBe('')
  })

  it('pin: a tag that does not resolve is annotated at its line; stdout stays empty of workflow commands', async () => {
    writeFileSync(join(ws, 'k8s/bad.yaml'), deployment('bad', `${trust.reg.host}/team/app:nope`, {namespace: 'prod'}))
    const line =
      readFileSync(join(ws, 'k8s/bad.yaml'), 'utf8')
        .split('\n')
        .findIndex((l) => l.includes(':nope')) + 1
    const g = github()
    const r = await runCli(['pin', '-f', 'k8s/bad.yaml', '--insecure-registry', trust.reg.host], {cwd: ws, env: g.env})
    expect(r.code).toBe(4)
    expect(r.stdout).not.toContain('::')
    const [a] = parseAnnotations(r.stderr)
    expect(a).toMatchObject({level: 'error', props: {file: 'k8s/bad.yaml', line: String(line), title: 'safe-deploy: REGISTRY_NOT_FOUND'}})
    expect(a?.message).toMatch(/^cannot resolve .*team\/app:nope/)
    expect(readFileSync(g.output, 'utf8')).toMatch(/^verdict=ERROR$/m)
    expect(readFileSync(g.summary, 'utf8')).toContain('### safe-deploy failed (1)')
  })

  it('pin: the pinned YAML on stdout, the digests as an output', async () => {
    const g = github()
    const r = await runCli(['pin', '-f', 'k8s/one.yaml', '--insecure-registry', trust.reg.host], {cwd: ws, env: g.env})
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/image: .*team\/app:1\.0@sha256:/)
    expect(readFileSync(g.output, 'utf8')).toMatch(/^digests=\{".*team\/app:1\.0":"sha256:[0-9a-f]{64}"\}$/m)
  })

  it('policy lint: each finding at its policy line', async () => {
    writeFileSync(join(ws, 'policy-bad.yaml'), 'defaultAdmissionRule:\n  evaluationMode: SOMETIMES\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n')
    const g = github()
    const r = await runCli(['policy', 'lint', 'policy-bad.yaml'], {cwd: ws, env: g.env})
    expect(r.code).toBe(7)
    const errors = parseAnnotations(r.stderr).filter((a) => a.level === 'error')
    expect(errors.length).toBeGreaterThan(0)
    expect(errors[0]?.props.file).toBe('policy-bad.yaml')
    expect(errors[0]?.props.line).toBe('2')
    expect(readFileSync(g.output, 'utf8')).toMatch(/^errors=[1-9]/m)
  })
})
