#!/usr/bin/env node
// Development entry: rebuild dist/ from src/ (incremental tsc), then run the CLI unbundled: the commands from
// dist/commands/index.js (tsc's build) instead of the published bundle (dist/bundle/, esbuild.config.mjs), and
// without oclif.manifest.json, so a flag added in src/ shows at once without `npm run build`.
'use strict'
const {execFileSync} = require('node:child_process')
const {readFileSync} = require('node:fs')
const {join} = require('node:path')

const root = join(__dirname, '..')
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {stdio: 'inherit'})
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
pjson.oclif.commands = {...pjson.oclif.commands, target: './dist/commands/index.js'}
pjson.oclif.hooks = {...pjson.oclif.hooks, command_not_found: './dist/hooks/not-found.js'}
// oclif is an ES module import here: the tsc build of the commands is ES modules.
import('@oclif/core').then(({execute}) => execute({loadOptions: {root, pjson, ignoreManifest: true}}))
