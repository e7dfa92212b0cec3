#!/usr/bin/env node
// Development entry: rebuild dist/ from src/ (incremental tsc), then run the CLI unbundled: the commands from
// dist/commands/index.js (tsc's build) instead of the published bundle (dist/bundle/, esbuild.config.mjs), and
// without oclif.manifest.json, so a flag added in src/ shows at once without `npm run build`.
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
execFileSync(process.execPath, [root + 'node_modules/typescript/bin/tsc', '-p', root + 'tsconfig.build.json'], {stdio: 'inherit'})
const pjson = JSON.parse(readFileSync(root + 'package.json', 'utf8'))
pjson.oclif.commands = {...pjson.oclif.commands, target: './dist/commands/index.js'}
pjson.oclif.hooks = {...pjson.oclif.hooks, command_not_found: './dist/hooks/not-found.js'}
const {execute} = await import('@oclif/core')
await execute({loadOptions: {root, pjson, ignoreManifest: true}})
