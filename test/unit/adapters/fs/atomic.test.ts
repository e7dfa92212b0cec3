import {chmodSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from '@jest/globals'
import {writeFileAtomic, writeFilesAtomic} from '../../../../src/adapters/fs/atomic.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sd-atomic-'))
})
afterEach(() => {
  rmSync(dir, {recursive: true, force: true})
})

const noTemps = (d: string) => expect(readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([])

describe('writeFilesAtomic', () => {
  it('writes every file and keeps the original mode', async () => {
    const a = join(dir, 'a.yaml')
    const b = join(dir, 'b.yaml')
    writeFileSync(a, 'old a\n')
    chmodSync(a, 0o640)
    await writeFilesAtomic([
      {path: a, text: 'new a\n'},
      {path: b, text: 'new b\n'},
    ])
    expect(readFileSync(a, 'utf8')).toBe('new a\n')
    expect(readFileSync(b, 'utf8')).toBe('new b\n')
    expect(statSync(a).mode & 0o777).toBe(0o640)
    noTemps(dir)
  })

  it('a failure mid-way leaves every original intact and no temp file behind', async () => {
    const a = join(dir, 'a.yaml')
    const c = join(dir, 'c.yaml')
    writeFileSync(a, 'old a\n')
    writeFileSync(c, 'old c\n')
    const missingDir = join(dir, 'no-such-dir', 'b.yaml')
    await expect(
      writeFilesAtomic([
        {path: a, text: 'new a\n'},
        {path: missingDir, text: 'new b\n'},
        {path: c, text: 'new c\n'},
      ]),
    ).toThrowWithCode('INVALID_INPUT', /no-such-dir\/b\.yaml: cannot write/)
    expect(readFileSync(a, 'utf8')).toBe('old a\n')
    expect(readFileSync(c, 'utf8')).toBe('old c\n')
    noTemps(dir)
  })

  it('a target that is a directory is refused before anything is written', async () => {
    const a = join(dir, 'a.yaml')
    writeFileSync(a, 'old a\n')
    mkdirSync(join(dir, 'd.yaml'))
    await expect(
      writeFilesAtomic([
        {path: a, text: 'new\n'},
        {path: join(dir, 'd.yaml'), text: 'x'},
      ]),
    ).toThrowWithCode('INVALID_INPUT', /not a regular file/)
    expect(readFileSync(a, 'utf8')).toBe('old a\n')
    noTemps(dir)
  })

  it('the same file twice is refused', async () => {
    const a = join(dir, 'a.yaml')
    writeFileSync(a, 'old\n')
    await expect(
      writeFilesAtomic([
        {path: a, text: '1'},
        {path: a, text: '2'},
      ]),
    ).toThrowWithCode('INTERNAL')
    expect(readFileSync(a, 'utf8')).toBe('old\n')
    noTemps(dir)
  })

  it('a symlinked file is written through (the link stays a link)', async () => {
    const real = join(dir, 'real.yaml')
    const link = join(dir, 'link.yaml')
    writeFileSync(real, 'old\n')
    symlinkSync(real, link)
    await writeFileAtomic(link, 'new\n')
    expect(readlinkSync(link)).toBe(real)
    expect(readFileSync(real, 'utf8')).toBe('new\n')
    noTemps(dir)
  })

  it('writeFileAtomic creates a new file byte for byte', async () => {
    const p = join(dir, 'new.yaml')
    const text = 'a: é\r\nb: 1'
    await writeFileAtomic(p, text)
    expect(readFileSync(p, 'utf8')).toBe(text)
    noTemps(dir)
  })
})
