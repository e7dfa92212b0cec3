#!/usr/bin/env bash
# `npm run bench`: the figures for the issues' benchmarks (test/bench/bench.ts, then scan: test/bench/scan.ts, then evidence files: test/bench/evidence.ts).
source "$(dirname "$0")/prepare.sh"
rm -rf tmp/bench-build && npx tsc -p test/bench/tsconfig.json
node tmp/bench-build/test/bench/bench.js "$PWD"
node tmp/bench-build/test/bench/scan.js "$PWD"
node tmp/bench-build/test/bench/evidence.js "$PWD"
