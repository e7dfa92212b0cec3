#!/usr/bin/env bash
# The whole test suite, from a fresh clone: machine packages, dependencies and Node 22 when missing,
# then typecheck, lint, format check (Prettier), build dist/, jest. A test checks that the committed oclif.manifest.json
# matches the commands (regenerate it with `npm run manifest`).
source "$(dirname "$0")/prepare.sh"
echo "node $(node --version)"
bash test/scripts/helm.sh >/dev/null   # the real helm for the Argo CD plugin's Helm tests (test/support/helm.ts)
# Type-check, lint and format check at once: each is one process on one core and none needs another's result
# (about 30 s instead of 50 s here, docs/testing.md#suite-time). Every failure is printed; any fails the run.
npx tsc --noEmit -p tsconfig.json &
typecheck=$!
npx eslint . &
lint=$!
npx prettier --check --log-level warn src test bin *.config.js *.config.mjs &
format=$!
failed=0
for job in $typecheck $lint $format; do wait "$job" || failed=1; done
if [ "$failed" -ne 0 ]; then
  echo "type-check, lint or format check failed (see above)" >&2
  exit 1
fi
node --experimental-vm-modules --disable-warning=ExperimentalWarning node_modules/jest/bin/jest.js "$@"
