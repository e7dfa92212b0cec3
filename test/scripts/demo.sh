#!/usr/bin/env bash
# `npm run demo`: the main job on the bundled example, from a fresh clone (installs what is missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/scripts/setup-machine.sh
PATH="$(bash test/scripts/node22.sh):$PATH"
export PATH
rm -rf dist && npx tsc -p tsconfig.build.json
rm -rf tmp/demo-build && npx tsc -p test/demo/tsconfig.json
node tmp/demo-build/test/demo/demo.js "$PWD"
