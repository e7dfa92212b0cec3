#!/usr/bin/env bash
# The whole test suite, from a fresh clone: machine packages, dependencies and Node 22 when missing,
# then typecheck, lint, format check (Prettier), build dist/, jest. A test checks that the committed oclif.manifest.json
# matches the commands (regenerate it with `npm run manifest`).
source "$(dirname "$0")/prepare.sh"
echo "node $(node --version)"
npx tsc --noEmit -p tsconfig.json
npx eslint .
npx prettier --check --log-level warn src test bin *.config.js *.config.mjs
node --experimental-vm-modules --disable-warning=ExperimentalWarning node_modules/jest/bin/jest.js "$@"
