#!/usr/bin/env bash
# `npm run bench`: the figures for the issues' benchmarks (test/bench/bench.ts, the start-up rows: test/bench/startup.ts,
# then scan: test/bench/scan.ts, then evidence files: test/bench/evidence.ts). `npm run bench -- --quick` (CI) runs each row once or twice, only to catch a broken
# benchmark, not to judge time.
if [ "${1:-}" = "--quick" ]; then
  export BENCH_QUICK=1 BENCH_RUNS="${BENCH_RUNS:-1}"
fi
source "$(dirname "$0")/prepare.sh"
rm -rf tmp/bench-build && npx tsc -p test/bench/tsconfig.json
node tmp/bench-build/test/bench/bench.js "$PWD"
node tmp/bench-build/test/bench/startup.js "$PWD"
node tmp/bench-build/test/bench/scan.js "$PWD"
node tmp/bench-build/test/bench/evidence.js "$PWD"
