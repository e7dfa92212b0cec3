import {describe, expect, it} from '@jest/globals'
import {readdirSync} from 'node:fs'
import {join, relative} from 'node:path'
import {COMMANDS} from '../../../src/commands/index.js'

/** The command ids oclif's pattern strategy would find in src/commands: what the explicit list must hold. */
function commandIds(dir: string, root = dir): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return commandIds(path, root)
    if (!e.name.endsWith('.ts') || path === join(root, 'index.ts')) return []
    return [
      relative(root, path)
        .replace(/\.ts$/, '')
        .replace(/\/index$/, '')
        .split('/')
        .join(':'),
    ]
  })
}

describe('src/commands/index.ts (oclif explicit command strategy)', () => {
  it('lists every command file under its id, and nothing else: a command missing here would not exist in the built CLI', () => {
    expect(Object.keys(COMMANDS).sort()).toEqual(commandIds(join(import.meta.dirname, '../../../src/commands')).sort())
  })
})
