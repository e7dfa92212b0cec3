# Sourced by test.sh, demo.sh and bench.sh: machine packages and dependencies when missing,
# Node >= 22 first on PATH, and a fresh dist/ build (tsc, then the bundle).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash test/scripts/setup-machine.sh
PATH="$(bash test/scripts/node22.sh):$PATH"
export PATH
npm run --silent build:dist   # tsc for the programmatic API, then the bundled CLI (esbuild.config.mjs)
