#!/usr/bin/env bash
# Make sure dependencies (with the node@22 devDependency) are installed, then print a directory to put
# first on PATH so that `node` is Node >= 22: the machine's when new enough, else node_modules/.bin.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -x "$root/node_modules/node/bin/node" ] || [ ! -d "$root/node_modules/jest" ]; then
  (cd "$root" && npm ci --no-audit --no-fund >&2)
fi
echo "$root/node_modules/.bin"
