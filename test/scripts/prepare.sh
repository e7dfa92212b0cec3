# Sourced by test.sh, demo.sh and bench.sh: machine packages and dependencies when missing,
# Node >= 22 first on PATH, and a fresh dist/ build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash test/scripts/setup-machine.sh
PATH="$(bash test/scripts/node22.sh):$PATH"
export PATH
rm -rf dist && npx tsc -p tsconfig.build.json
