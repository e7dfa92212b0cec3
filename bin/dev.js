#!/usr/bin/env node
// Development entry: rebuild dist/ from src/ (incremental tsc), then run the CLI.
import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
execFileSync(process.execPath, [root + 'node_modules/typescript/bin/tsc', '-p', root + 'tsconfig.build.json'], {stdio: 'inherit'})
const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
