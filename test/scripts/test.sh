#!/usr/bin/env bash
# The whole test suite: typecheck, lint, build (dist + oclif manifest), jest.
# Run through `npm test`, so node_modules/.bin (with node@22) is first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "node $(node --version)"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 22 ] || { echo "Node >= 22 required (run npm ci to get node@22)"; exit 1; }
npx tsc --noEmit -p tsconfig.json
npx eslint .
npm run -s build >/dev/null
node --experimental-vm-modules --disable-warning=ExperimentalWarning node_modules/jest/bin/jest.js "$@"
