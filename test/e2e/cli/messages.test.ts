/**
 * Error messages as printed (issue #12 items 5 and 7): each cause said once, each location said once,
 * failures shared by many images grouped by cause and host, and next steps that run as printed.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startRegistry, type TestRegistry} from '../../support/registry.js'
import {runCli} from '../../support/cli.js'
import {schemaErrors} from '../../support/schemas.js'
import {makeAttestor, requireAttestationPolicy} from '../../support/trust.js'
import {startMetadataTrap} from '../../support/metadata-trap.js'

let reg: TestRegistry
let dir: string

beforeAll(async () => {
  reg = await startRegistry()
  dir = mkdtempSync(join(tmpdir(), 'sd-msg-'))
}, 60_000)
afterAll(async () => {
  await reg?.stop()
})

const pod = (name: string, image: string): string =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  containers:\n  - name: c\n    image: ${image}\n`

const count = (text: string, what: string): number => text.split(what).length - 1

describe('one cause, said once', () => {
  it('an unpinnable value names its location once', async () => {
    const file = join(dir, 'helm.yaml')
    writeFileSync(file, pod('p', '"{{ .Values.image }}"'))
    const r = await runCli(['pin', '-f', file])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain(`Error [UNPINNABLE_VALUE]: ${file}: document 1: spec.containers[0].image (line 7): "{{ .Values.image }}" is a Helm template`)
    expect(count(r.stderr, 'document 1')).toBe(1)
  })

  it('an image that cannot be resolved names its location once', async () => {
    const file = join(dir, 'missing.yaml')
    writeFileSync(file, pod('p', `${reg.host}/team/none:1`))
    const r = await runCli(['pin', '-f', file, '--insecure-registry', reg.host])
    expect(r.code).toBe(4)
    expect(r.stderr).toContain(`Error [REGISTRY_NOT_FOUND]: ${file}: document 1: spec.containers[0].image (line 7): cannot resolve ${reg.host}/team/none:1: `)
    expect(count(r.stderr, 'document 1')).toBe(1)
  })

  it('YAML problems in one file are each listed once', async () => {
    const file = join(dir, 'bad-yaml.yaml')
    writeFileSync(file, 'a: 1\na: 2\n---\nb: 1\nb: 2\n')
    const r = await runCli(['pin', '-f', file])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain(`Error [INVALID_INPUT]: ${file}: 2 problems reading the manifest:`)
    expect(count(r.stderr, `${file}: document 1`)).toBe(1)
    expect(count(r.stderr, `${file}: document 2`)).toBe(1)
  })

  describe('an invalid policy file', () => {
    const policy = (): string => {
      const file = join(dir, 'bad-policy.yaml')
      writeFileSync(
        file,
        'defaultAdmissionRule:\n  evaluationMode: SOMETIMES\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\nglobalPolicyEvaluationMode: MAYBE\n',
      )
      return file
    }

    it('preflight lists each problem once, with its line once', async () => {
      const file = policy()
      const trust = join(dir, 'empty-trust')
      mkdirSync(trust, {recursive: true})
      const r = await runCli([
        'preflight',
        '--policy',
        file,
        '--attestors',
        trust,
        '--attestations',
        trust,
        '--image',
        `${reg.host}/a@sha256:${'0'.repeat(64)}`,
      ])
      expect(r.code).toBe(7)
      expect(r.stderr).toContain(`Error [POLICY_INVALID]: ${file}: invalid Binary Authorization policy (2 problems):\n`)
      expect(count(r.stderr, 'SOMETIMES')).toBe(1)
      expect(count(r.stderr, 'MAYBE')).toBe(1)
      expect(r.stderr).toContain(`  - ${file}:2: defaultAdmissionRule.evaluationMode: expected one of`)
      expect(count(r.stderr, 'defaultAdmissionRule.evaluationMode')).toBe(1)
      const json = await runCli([
        'preflight',
        '--json',
        '--policy',
        file,
        '--attestors',
        trust,
        '--attestations',
        trust,
        '--image',
        `${reg.host}/a@sha256:${'0'.repeat(64)}`,
      ])
      const err = JSON.parse(json.stdout).error
      expect(err.errors.map((e: {location: {line: number}}) => e.location.line)).toEqual([2, 4])
    })

    it('policy lint names each problem once, without repeating file and line', async () => {
      const file = policy()
      const r = await runCli(['policy', 'lint', file])
      expect(r.code).toBe(7)
      expect(r.stdout + r.stderr).toContain(`${file}:2: error E_POLICY_INVALID: defaultAdmissionRule.evaluationMode: expected one of`)
      expect(count(r.stdout + r.stderr, 'SOMETIMES')).toBe(1)
      expect(count(r.stdout + r.stderr, `${file}:2:`)).toBe(1)
    })
  })

  describe('many images behind a plain-HTTP registry', () => {
    const many = (name: string, image: (i: number) => string, n = 400): string => {
      const file = join(dir, name)
      writeFileSync(file, Array.from({length: n}, (_, i) => pod(`p${i}`, image(i))).join('---\n'))
      return file
    }

    it('one line for the cause and the host, with the count and a few examples', async () => {
      const file = many('plain.yaml', (i) => `${reg.host}/team/app${i}:1`)
      const r = await runCli(['pin', '-f', file], {timeoutMs: 120_000})
      expect(r.code).toBe(4)
      expect(r.stderr).toContain(`Error [REGISTRY_TLS]: 400 image problems; nothing was written or deployed:`)
      expect(r.stderr).toContain(`  - ${reg.host} answered plain HTTP to a TLS request (400 images)\n`)
      expect(r.stderr).toContain(`      ${file}: document 1: spec.containers[0].image (line 7): image ${reg.host}/team/app0:1\n`)
      expect(r.stderr).toContain('      and 397 more (every one with --json)\n')
      expect(r.stderr).toContain(`Hint: pass --insecure-registry ${reg.host} `)
      expect(r.stderr).not.toMatch(/openssl|SSL routines/i)
      expect(r.stderr.trim().split('\n').length).toBeLessThan(10)
    }, 120_000)

    it('names the mirror actually contacted', async () => {
      const file = many('mirrored.yaml', (i) => `team/app${i}:1`)
      const r = await runCli(['pin', '-f', file, '--registry-mirror', `docker.io=${reg.host}`], {timeoutMs: 120_000})
      expect(r.code).toBe(4)
      expect(r.stderr).toContain(`  - ${reg.host} (mirror of docker.io) answered plain HTTP to a TLS request (400 images)\n`)
      expect(r.stderr).toContain(`Hint: pass --insecure-registry ${reg.host} `)
      expect(r.stderr.trim().split('\n').length).toBeLessThan(10)
    }, 120_000)

    it('--json keeps every image error', async () => {
      const file = many('plain-json.yaml', (i) => `${reg.host}/team/app${i}:1`)
      const r = await runCli(['pin', '-f', file, '--json'], {timeoutMs: 120_000})
      expect(r.code).toBe(4)
      const doc = JSON.parse(r.stdout)
      expect(schemaErrors('error', doc)).toEqual([])
      const err = doc.error
      expect(err.errors).toHaveLength(400)
      expect(err.errors[399]).toMatchObject({
        code: 'REGISTRY_TLS',
        host: reg.host,
        location: {file, document: 400, image: `${reg.host}/team/app399:1`},
      })
      expect(err.errors[399].message).toContain(`cannot resolve ${reg.host}/team/app399:1: ${reg.host} answered plain HTTP to a TLS request`)
    }, 120_000)

    it('different causes stay apart', async () => {
      const file = join(dir, 'mixed.yaml')
      const text = [pod('a', `${reg.host}/team/a:1`), pod('b', `${reg.host}/team/b:1`), pod('c', '127.0.0.1:1/team/c:1')].join('---\n')
      writeFileSync(file, text)
      const r = await runCli(['pin', '-f', file], {timeoutMs: 120_000})
      expect(r.code).toBe(4)
      expect(r.stderr).toContain(`  - ${reg.host} answered plain HTTP to a TLS request (2 images)\n`)
      expect(r.stderr).toContain('connection to 127.0.0.1:1 refused')
    }, 120_000)
  })
})

describe('the suggested next step works as printed', () => {
  it('a denial with files prints an attest command that, given a key, makes the pre-flight pass', async () => {
    const d = join(dir, 'next-step')
    const who = makeAttestor(join(d, 'attestors'), join(d, 'keys'), 'test-proj', 'built-by-ci')
    mkdirSync(join(d, 'atts'), {recursive: true})
    writeFileSync(join(d, 'policy.yaml'), requireAttestationPolicy([who.name]))
    const {digest} = await reg.pushImage('team/next', '1')
    writeFileSync(join(d, 'deploy.yaml'), pod('p', `${reg.host}/team/next:1`))
    const args = ['preflight', '-f', join(d, 'deploy.yaml'), '--policy', join(d, 'policy.yaml'), '--attestors', join(d, 'attestors')]
    args.push('--attestations', join(d, 'atts'), '--insecure-registry', reg.host)
    const denied = await runCli(args)
    expect(denied.code).toBe(5)
    const step = /next: (safe-deploy attest .*)/.exec(denied.stderr)?.[1]
    expect(step).toBe(
      `safe-deploy attest --image ${reg.host}/team/next@${digest} --attestor ${who.name} --attestors ${join(d, 'attestors')} --output-dir ${join(d, 'atts')} --private-key KEY.pem`,
    )
    // As printed, with the placeholder filled in (no quoting needed for these paths).
    const words = (step as string).replace('KEY.pem', who.privateKeyFile).split(' ')
    const attested = await runCli(words.slice(1))
    expect(attested.stderr).not.toMatch(/Error/)
    expect(attested.code).toBe(0)
    expect((await runCli(args)).code).toBe(0)
  })
})

describe('missing Google credentials', () => {
  const digest = `sha256:${'1'.repeat(64)}`
  const setup = () => {
    const d = mkdtempSync(join(dir, 'adc-'))
    const who = makeAttestor(join(d, 'attestors'), join(d, 'keys'), 'test-proj', 'built-by-ci')
    writeFileSync(join(d, 'policy.yaml'), requireAttestationPolicy([who.name]))
    return d
  }

  it.each([
    ['no ADC file and no metadata server', false],
    ['GOOGLE_APPLICATION_CREDENTIALS naming no file', true],
  ])('say so after the first failure, with how to log in (%s)', async (_what, withAdcVariable) => {
    const trap = await startMetadataTrap()
    try {
      const d = setup()
      const env = trap.env(d)
      if (!withAdcVariable) delete env['GOOGLE_APPLICATION_CREDENTIALS']
      const common = ['--policy', join(d, 'policy.yaml'), '--attestors', join(d, 'attestors'), '--image', `${reg.host}/team/x@${digest}`]
      // Attestations from Container Analysis (gRPC) and the policy from Binary Authorization (REST), at ports nothing listens on.
      for (const args of [
        ['preflight', '--project', 'test-proj', ...common, '--containeranalysis-endpoint', '127.0.0.1:9'],
        [
          'preflight',
          '--project',
          'test-proj',
          '--image',
          `${reg.host}/team/x@${digest}`,
          '--binauthz-endpoint',
          '127.0.0.1:9',
          '--containeranalysis-endpoint',
          '127.0.0.1:9',
        ],
      ]) {
        const r = await runCli(args, {env})
        expect(r.code).toBe(4)
        expect(r.stderr).toMatch(/^Error \[API_AUTH\]: .*: no Google credentials \(/)
        expect(r.stderr).toContain('Hint: run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS')
        expect(r.stderr).not.toMatch(/attempts|network/)
        expect(r.stderr).not.toMatch(/MetadataLookupWarning|\(node:\d+\)/)
      }
    } finally {
      await trap.stop()
    }
  })
})
