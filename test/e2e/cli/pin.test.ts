import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startRegistry, type TestRegistry} from '../../support/registry.js'
import {runCli} from '../../support/cli.js'
import {schemaErrors} from '../../support/schemas.js'
import {deployment} from '../../support/fixtures.js'
import {parseManifest} from '../../../src/core/manifest/parse.js'
import {locateImages} from '../../../src/core/manifest/locate.js'
import {parseWritten} from '../../../src/core/reference/index.js'
import {CORPUS, CORPUS_2, corpusFiles, describeCorpus} from '../../support/corpus.js'

const DIGEST_RE = /@sha256:[a-f0-9]{64}/

let reg: TestRegistry
let dir: string
let app: string
let multi: {digest: string; children?: Record<string, string>}

beforeAll(async () => {
  reg = await startRegistry()
  dir = mkdtempSync(join(tmpdir(), 'sd-pin-'))
  app = (await reg.pushImage('team/app', '1.4')).digest
  multi = await reg.pushImage('team/multi', 'v1', {platforms: ['linux/amd64', 'linux/arm64']})
  await reg.pushImage('team/sidecar', 'latest')
}, 60_000)
afterAll(async () => {
  await reg?.stop()
})

const insecure = () => ['--insecure-registry', reg.host]

/** Comments and flow style that pin must keep byte for byte; the image is on line 11. */
const web = (image: string): string =>
  deployment('web', image, {
    comment: 'a comment that must survive',
    nameComment: 'trailing comment',
    selector: false,
    container: 'app',
    containerLines: [`args: ["--flag", 'x']  # flow style stays`],
  })

describe('safe-deploy pin', () => {
  it('pins a tag to tag@digest on stdout, changing nothing else', async () => {
    const file = join(dir, 'd1.yaml')
    const src = web(`${reg.host}/team/app:1.4`)
    writeFileSync(file, src)
    const r = await runCli(['pin', '-f', file, ...insecure()])
    expect(r.stderr).toMatch(/pinned 1 image reference/)
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(src.replace(`${reg.host}/team/app:1.4`, `${reg.host}/team/app:1.4@${app}`))
    expect(readFileSync(file, 'utf8')).toBe(src)
  })

  it('--strip-tag writes name@digest; --json returns every site', async () => {
    const file = join(dir, 'd2.yaml')
    writeFileSync(file, web(`${reg.host}/team/app:1.4`))
    const r = await runCli(['pin', '-f', file, ...insecure(), '--strip-tag', '--json'])
    expect(r.code).toBe(0)
    const json = JSON.parse(r.stdout)
    expect(json).toMatchObject({apiVersion: 'safe-deploy.dev/v1', kind: 'PinResult'})
    expect(schemaErrors('pin', json)).toEqual([])
    expect(json.sites).toEqual([
      expect.objectContaining({
        file,
        document: 1,
        kind: 'Deployment',
        name: 'web',
        path: 'spec.template.spec.containers[0].image',
        line: 11,
        original: `${reg.host}/team/app:1.4`,
        pinned: `${reg.host}/team/app@${app}`,
        digest: app,
        status: 'pinned',
      }),
    ])
  })

  it('multi-arch: the index digest by default, the child with --platform', async () => {
    const file = join(dir, 'd3.yaml')
    writeFileSync(file, web(`${reg.host}/team/multi:v1`))
    const idx = await runCli(['pin', '-f', file, ...insecure(), '--json'])
    expect(JSON.parse(idx.stdout).sites[0].digest).toBe(multi.digest)
    const arm = await runCli(['pin', '-f', file, ...insecure(), '--json', '--platform', 'linux/arm64'])
    expect(JSON.parse(arm.stdout).sites[0].digest).toBe(multi.children?.['linux/arm64'])
  })

  it('reads stdin (helm template | safe-deploy pin -f -)', async () => {
    const src = web(`${reg.host}/team/sidecar`)
    const r = await runCli(['pin', '-f', '-', ...insecure()], {stdin: src})
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`image: ${reg.host}/team/sidecar@sha256:[a-f0-9]{64}\\n`))
  })

  it('--write is atomic and all-or-nothing: one unknown tag and no file is written (exit 4)', async () => {
    const sub = mkdtempSync(join(dir, 'w-'))
    const good = join(sub, 'a.yaml')
    const bad = join(sub, 'b.yaml')
    writeFileSync(good, web(`${reg.host}/team/app:1.4`))
    writeFileSync(bad, web(`${reg.host}/team/app:nope`))
    const r = await runCli(['pin', '-f', sub, '--write', ...insecure()])
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/REGISTRY_NOT_FOUND/)
    expect(r.stderr).toContain(bad)
    expect(r.stderr).toMatch(/nope/)
    expect(readFileSync(good, 'utf8')).not.toMatch(DIGEST_RE)
    expect(readdirSync(sub).sort()).toEqual(['a.yaml', 'b.yaml'])
  })

  it('--write rewrites files; --lock-output then --lock replays with no registry', async () => {
    const sub = mkdtempSync(join(dir, 'l-'))
    const f = join(sub, 'a.yaml')
    const lock = join(sub, 'images.lock.yaml')
    writeFileSync(f, web(`${reg.host}/team/app:1.4`))
    const w = await runCli(['pin', '-f', f, '--write', '--lock-output', lock, ...insecure()])
    expect(w.code).toBe(0)
    expect(readFileSync(f, 'utf8')).toContain(`team/app:1.4@${app}`)
    expect(readFileSync(lock, 'utf8')).toContain(app)
    const f2 = join(sub, 'b.yaml')
    writeFileSync(f2, web(`${reg.host}/team/app:1.4`))
    // The registry is not consulted: a bogus insecure host proves no call is needed.
    const replay = await runCli(['pin', '-f', f2, '--lock', lock])
    expect(replay.code).toBe(0)
    expect(replay.stdout).toContain(`team/app:1.4@${app}`)
    writeFileSync(f2, web(`${reg.host}/team/sidecar:latest`))
    const missing = await runCli(['pin', '-f', f2, '--lock', lock])
    expect(missing.code).toBe(3)
    expect(missing.stderr).toMatch(/LOCK_MISSING/)
  })

  it("reports drift when a tag@digest reference's tag moved, and leaves it alone", async () => {
    const old = (await reg.pushImage('team/moving', 'v1', {seed: 'first'})).digest
    const file = join(dir, 'drift.yaml')
    writeFileSync(file, web(`${reg.host}/team/moving:v1@${old}`))
    const now = (await reg.pushImage('team/moving', 'v1', {seed: 'second'})).digest
    expect(now).not.toBe(old)
    const r = await runCli(['pin', '-f', file, ...insecure(), '--json'])
    expect(r.code).toBe(0)
    const site = JSON.parse(r.stdout).sites[0]
    expect(site).toMatchObject({status: 'drift', digest: old, currentDigest: now, pinned: `${reg.host}/team/moving:v1@${old}`})
    expect(JSON.parse(r.stdout).warnings.join('\n')).toMatch(/drift/)
  })

  it('templates and invalid references fail with file, document, path and line (exit 3)', async () => {
    const file = join(dir, 'tpl.yaml')
    writeFileSync(file, web('"{{ .Values.image }}"') + '---\n' + web('Bad/Upper:1'))
    const r = await runCli(['pin', '-f', file, ...insecure()])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain(file)
    expect(r.stderr).toMatch(/document 1.*spec\.template\.spec\.containers\[0\]\.image.*line 11/)
    expect(r.stderr).toMatch(/Helm|template/i)
    expect(r.stderr).toMatch(/document 2/)
    expect(r.stderr).toMatch(/lowercase/)
    expect(r.stdout).toBe('')
  })

  it('malformed YAML names the file and line (exit 3); usage errors exit 2', async () => {
    const file = join(dir, 'broken.yaml')
    writeFileSync(file, 'apiVersion: v1\nkind: Pod\nspec: [unclosed\n')
    const r = await runCli(['pin', '-f', file])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain(file)
    const u = await runCli(['pin', '--no-such-flag'])
    expect(u.code).toBe(2)
    const none = await runCli(['pin'])
    expect(none.code).toBe(2)
  })

  it('error output is redacted in human and --json form (a credential in a flag value)', async () => {
    const file = join(dir, 'd-redact.yaml')
    writeFileSync(file, web(`${reg.host}/team/app:1.4`))
    const mirror = 'https://ci:Pa55-SECRET-x9@mirror.example'
    const human = await runCli(['pin', '-f', file, '--registry-mirror', mirror])
    expect(human.code).toBe(2)
    expect(human.stderr).toContain('--registry-mirror expects FROM=TO')
    expect(human.stderr).toContain('https://ci:[REDACTED]@mirror.example')
    const json = await runCli(['pin', '-f', file, '--registry-mirror', mirror, '--json'])
    expect(json.code).toBe(2)
    expect(json.stdout + json.stderr).not.toContain('Pa55-SECRET-x9')
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: {code: 'USAGE', message: expect.stringContaining('https://ci:[REDACTED]@mirror.example')},
      exitCode: 2,
    })
  })
})

for (const [dir, label, minFiles] of [
  [CORPUS, 'corpus', 11],
  [CORPUS_2, 'corpus-2', 12],
] as const) {
  describeCorpus(dir, `${label}: every real-world manifest pins, and only image values change`, () => {
    const files = corpusFiles(dir)
    it(`has the ${label}`, () => {
      expect(files.length).toBeGreaterThanOrEqual(minFiles)
    })

    it.each(files)('%s', async (name) => {
      const path = join(dir, name)
      const text = readFileSync(path, 'utf8')
      const sites = locateImages(parseManifest(text, path))
      const hosts = new Set<string>()
      for (const s of sites) {
        const w = parseWritten(s.image)
        hosts.add(w.domain)
        if (w.digest === undefined || w.tag !== undefined) await reg.pushImage(w.path, w.tag ?? 'latest', {seed: s.image})
      }
      const mirrors = [...hosts].flatMap((h) => ['--registry-mirror', `${h}=${reg.host}`])
      const r = await runCli(['pin', '-f', path, ...insecure(), ...mirrors, '--json'])
      expect(r.stderr).not.toMatch(/Error/)
      expect(r.code).toBe(0)
      const json = JSON.parse(r.stdout) as {sites: Array<{original: string; pinned: string; line: number; status: string}>}
      expect(json.sites).toHaveLength(sites.length)
      const out = await runCli(['pin', '-f', path, ...insecure(), ...mirrors])
      // Replace every pinned value back with its original: the result must be the input, byte for byte.
      const outLines = out.stdout.split('\n')
      for (const s of json.sites) {
        const i = s.line - 1
        expect(outLines[i]).toContain(s.pinned)
        outLines[i] = (outLines[i] as string).replace(s.pinned, s.original)
        if (s.status === 'pinned') expect(s.pinned).toMatch(DIGEST_RE)
      }
      // stdout always ends with a newline (a file without a final newline gets one there).
      expect(outLines.join('\n')).toBe(text.endsWith('\n') ? text : text + '\n')
    })
  })
}

describe('safe-deploy pin: kinds beyond the built-in workloads (issue #12)', () => {
  const rollout = (image: string): string => `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  replicas: 2
  strategy:
    canary:
      steps: [{setWeight: 20}, {pause: {}}]
  template:
    spec:
      containers:
      - name: app
        image: ${image}
`
  const myApp = (image: string): string => `apiVersion: example.com/v1
kind: MyApp
metadata:
  name: shop
spec:
  components:
  - name: web
    image: ${image}
`

  it('an Argo Rollout is pinned like a Deployment', async () => {
    const file = join(dir, 'rollout.yaml')
    const src = rollout(`${reg.host}/team/app:1.4`)
    writeFileSync(file, src)
    const r = await runCli(['pin', '-f', file, ...insecure(), '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).sites).toEqual([
      expect.objectContaining({
        kind: 'Rollout',
        name: 'web',
        path: 'spec.template.spec.containers[0].image',
        line: 14,
        pinned: `${reg.host}/team/app:1.4@${app}`,
      }),
    ])
    const text = await runCli(['pin', '-f', file, ...insecure()])
    expect(text.stdout).toBe(src.replace(`${reg.host}/team/app:1.4`, `${reg.host}/team/app:1.4@${app}`))
  })

  it('an image in a kind without rules: left as written, a warning naming file:line, kind, name and path with the imageRules entry', async () => {
    const file = join(dir, 'myapp.yaml')
    const src = web(`${reg.host}/team/app:1.4`) + '---\n' + myApp(`${reg.host}/team/sidecar:latest`)
    writeFileSync(file, src)
    const r = await runCli(['pin', '-f', file, ...insecure()])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain(
      `warning: ${file}:21: MyApp/shop: spec.components[0].image: "${reg.host}/team/sidecar:latest" was not examined (safe-deploy has no image rule for example.com/v1 MyApp): ` +
        'neither pinned nor pre-flighted; if it is an image, cover it in .safe-deploy.yaml: imageRules: [{apiVersion: example.com/v1, kind: MyApp, path: "spec.components[*].image"}]',
    )
    expect(r.stderr).toMatch(/pinned 1 image reference\(s\).*; 1 image-like value\(s\) NOT EXAMINED/)
    expect(r.stdout).toBe(src.replace(`${reg.host}/team/app:1.4`, `${reg.host}/team/app:1.4@${app}`))
    const json = JSON.parse((await runCli(['pin', '-f', file, ...insecure(), '--json'])).stdout)
    expect(schemaErrors('pin', json)).toEqual([])
    expect(json.unexamined).toEqual([
      {
        file,
        document: 2,
        line: 21,
        apiVersion: 'example.com/v1',
        kind: 'MyApp',
        name: 'shop',
        path: 'spec.components[0].image',
        value: `${reg.host}/team/sidecar:latest`,
        reason: 'no-rule',
        rule: {apiVersion: 'example.com/v1', kind: 'MyApp', path: 'spec.components[*].image'},
      },
    ])
    expect(json.summary.unexamined).toBe(1)

    // The suggested rule, in .safe-deploy.yaml, makes it an image like any other.
    const cfg = join(dir, 'myapp-config.yaml')
    writeFileSync(cfg, 'imageRules:\n  - {apiVersion: example.com/v1, kind: MyApp, path: "spec.components[*].image"}\n')
    const ruled = await runCli(['pin', '-f', file, ...insecure(), '--config', cfg, '--strict'])
    expect(ruled.stderr).not.toMatch(/warning|Error/)
    expect(ruled.code).toBe(0)
    expect(ruled.stdout).toMatch(new RegExp(`image: ${reg.host}/team/sidecar:latest@sha256:[a-f0-9]{64}\\n`))
  })

  it('--strict: exit 3 (INVALID_INPUT) listing every such value; nothing on stdout, no file written', async () => {
    const file = join(dir, 'myapp-strict.yaml')
    const src = myApp('nginx:1.25') + '---\n' + myApp('nginx:1.26').replace('name: shop', 'name: shop2')
    writeFileSync(file, src)
    const r = await runCli(['pin', '-f', file, ...insecure(), '--strict', '--write'])
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('Error [INVALID_INPUT]: 2 image-like value(s) that no image rule examined; nothing was written or deployed:')
    expect(r.stderr).toContain(
      `  - ${file}: document 1: spec.components[0].image (line 8): "nginx:1.25" was not examined: safe-deploy has no image rule for example.com/v1 MyApp`,
    )
    expect(r.stderr).toContain(`  - ${file}: document 2: spec.components[0].image (line 17): "nginx:1.26" was not examined`)
    expect(r.stderr).toContain(
      'Hint: if these are images, add to .safe-deploy.yaml:\nimageRules:\n  - {apiVersion: example.com/v1, kind: MyApp, path: "spec.components[*].image"}',
    )
    expect(readFileSync(file, 'utf8')).toBe(src)
    const json = await runCli(['pin', '-f', file, ...insecure(), '--strict', '--json'])
    expect(json.code).toBe(3)
    expect(JSON.parse(json.stdout)).toMatchObject({exitCode: 3, error: {code: 'INVALID_INPUT', errors: [{location: {line: 8}}, {location: {line: 17}}]}})
  })
})
