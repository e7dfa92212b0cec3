#!/usr/bin/env bash
# `npm run bench`: build, then run test/bench/bench.ts (figures for the issues' benchmarks).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/scripts/setup-machine.sh
PATH="$(bash test/scripts/node22.sh):$PATH"
export PATH
rm -rf dist && npx tsc -p tsconfig.build.json
rm -rf tmp/bench-build && npx tsc -p test/bench/tsconfig.json
node tmp/bench-build/test/bench/bench.js "$PWD"
