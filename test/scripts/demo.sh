#!/usr/bin/env bash
# `npm run demo`: the main job on the bundled example, from a fresh clone (installs what is missing).
source "$(dirname "$0")/prepare.sh"
rm -rf tmp/demo-build && npx tsc -p test/demo/tsconfig.json
node tmp/demo-build/test/demo/demo.js "$PWD"
