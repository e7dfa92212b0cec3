import {chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {readInputs} from '../../../../src/adapters/fs/inputs.js'

let dir: string
const opts = {recursive: false, kustomizeDirs: [] as string[]}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sd-inputs-'))
  mkdirSync(join(dir, 'm/sub'), {recursive: true})
  writeFileSync(join(dir, 'm/b.yaml'), 'b: 1\n')
  writeFileSync(join(dir, 'm/a.yml'), 'a: 1\n')
  writeFileSync(join(dir, 'm/c.json'), '{"c": 1}')
  writeFileSync(join(dir, 'm/README.md'), '# not a manifest\n')
  writeFileSync(join(dir, 'm/sub/d.yaml'), 'd: 1\n')
  symlinkSync(join(dir, 'missing.yaml'), join(dir, 'm/dangling.yaml'))
  writeFileSync(join(dir, 'latin1.yaml'), Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]))
  writeFileSync(join(dir, 'big.yaml'), 'x'.repeat(2048))
  mkdirSync(join(dir, 'empty'))
  mkdirSync(join(dir, 'kust'))
  writeFileSync(join(dir, 'kust/kustomization.yaml'), 'resources:\n- pod.yaml\nnamespace: prod\n')
  writeFileSync(join(dir, 'kust/pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:1.25\n')
  mkdirSync(join(dir, 'badkust'))
  writeFileSync(join(dir, 'badkust/kustomization.yaml'), 'resources:\n- nope.yaml\n')
})

afterAll(() => {
  rmSync(dir, {recursive: true, force: true})
})

describe('readInputs', () => {
  it('reads files in the order given', async () => {
    const got = await readInputs({...opts, files: [join(dir, 'm/b.yaml'), join(dir, 'm/a.yml')]})
    expect(got).toEqual([
      {file: join(dir, 'm/b.yaml'), text: 'b: 1\n'},
      {file: join(dir, 'm/a.yml'), text: 'a: 1\n'},
    ])
  })

  it('a directory lists *.yaml, *.yml and *.json, sorted, without subdirectories', async () => {
    const got = await readInputs({...opts, files: [join(dir, 'm')]})
    expect(got.map((g) => g.file)).toEqual(['a.yml', 'b.yaml', 'c.json'].map((f) => join(dir, 'm', f)))
  })

  it('recursive includes subdirectories', async () => {
    const got = await readInputs({...opts, recursive: true, files: [join(dir, 'm')]})
    expect(got.map((g) => g.file)).toEqual(['a.yml', 'b.yaml', 'c.json', 'sub/d.yaml'].map((f) => join(dir, 'm', f)))
  })

  it('a file named twice (directly and through its directory) is read once', async () => {
    const got = await readInputs({...opts, files: [join(dir, 'm/b.yaml'), join(dir, 'm')]})
    expect(got.map((g) => g.file)).toEqual(['b.yaml', 'a.yml', 'c.json'].map((f) => join(dir, 'm', f)))
  })

  it('- reads stdin once', async () => {
    let calls = 0
    const stdin = async () => {
      calls++
      return 'kind: Pod\n'
    }
    const got = await readInputs({...opts, files: ['-', join(dir, 'm/a.yml'), '-'], stdin})
    expect(got).toEqual([
      {file: '-', text: 'kind: Pod\n'},
      {file: join(dir, 'm/a.yml'), text: 'a: 1\n'},
    ])
    expect(calls).toBe(1)
  })

  it('a missing path → INVALID_INPUT naming it', async () => {
    await expect(readInputs({...opts, files: [join(dir, 'nope.yaml')]})).toThrowWithCode(
      'INVALID_INPUT',
      /nope\.yaml: cannot read the input: no such file or directory/,
    )
  })

  it('a directory without manifests → INVALID_INPUT; -R is suggested only when it has subdirectories', async () => {
    await expect(readInputs({...opts, files: [join(dir, 'empty')]})).toThrowWithCode('INVALID_INPUT', /no \*\.yaml/)
    await expect(readInputs({...opts, files: [join(dir, 'empty')]})).rejects.toMatchObject({hint: expect.not.stringContaining('-R')})
    mkdirSync(join(dir, 'only-subdirs/a'), {recursive: true})
    writeFileSync(join(dir, 'only-subdirs/a/x.yaml'), 'x: 1\n')
    writeFileSync(join(dir, 'only-subdirs/notes.txt'), 'not a manifest\n')
    await expect(readInputs({...opts, files: [join(dir, 'only-subdirs')]})).rejects.toMatchObject({hint: 'use -R to include its subdirectories (a)'})
    await expect(readInputs({...opts, recursive: true, files: [join(dir, 'only-subdirs')]})).resolves.toHaveLength(1)
  })

  it('non-UTF-8 bytes → INVALID_INPUT naming the file', async () => {
    await expect(readInputs({...opts, files: [join(dir, 'latin1.yaml')]})).toThrowWithCode('INVALID_INPUT', /latin1\.yaml: expected UTF-8/)
  })

  it('an input over the size limit is refused', async () => {
    await expect(readInputs({...opts, files: [join(dir, 'big.yaml')], maxBytes: 1024})).toThrowWithCode(
      'INVALID_INPUT',
      /big\.yaml: input is 2 KiB, over the 1 KiB limit/,
    )
    await expect(readInputs({...opts, files: ['-'], stdin: async () => 'y'.repeat(2000), maxBytes: 1024})).toThrowWithCode('INVALID_INPUT', /<stdin>/)
  })

  it('unreadable file → INVALID_INPUT', async () => {
    const p = join(dir, 'm/a.yml')
    if (process.getuid?.() === 0) return // root reads anything
    chmodSync(p, 0o000)
    try {
      await expect(readInputs({...opts, files: [p]})).toThrowWithCode('INVALID_INPUT', /permission denied/)
    } finally {
      chmodSync(p, 0o644)
    }
  })

  describe('kustomize (real kubectl)', () => {
    it('runs kubectl kustomize DIR and names the output kustomize:DIR', async () => {
      const k = join(dir, 'kust')
      const got = await readInputs({...opts, files: [], kustomizeDirs: [k]})
      expect(got).toHaveLength(1)
      expect(got[0]!.file).toBe(`kustomize:${k}`)
      expect(got[0]!.text).toMatch(/namespace: prod/)
      expect(got[0]!.text).toMatch(/image: nginx:1\.25/)
    })

    it('a kubectl failure → INVALID_INPUT with its stderr', async () => {
      const k = join(dir, 'badkust')
      await expect(readInputs({...opts, files: [], kustomizeDirs: [k]})).toThrowWithCode('INVALID_INPUT', /kubectl kustomize .*badkust failed: .*nope\.yaml/)
    })

    it('kubectl missing → INVALID_INPUT saying so', async () => {
      await expect(readInputs({...opts, files: [], kustomizeDirs: [join(dir, 'kust')], kubectl: join(dir, 'no-kubectl')})).toThrowWithCode(
        'INVALID_INPUT',
        /not found/,
      )
    })
  })
})
