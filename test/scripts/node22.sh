#!/usr/bin/env bash
# Print the path of a Node >= 22 binary: the machine's node when new enough, else the repo's
# node@22 devDependency (node_modules/node/bin/node), installing dependencies first if needed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 22 ]; then
  command -v node; exit 0
fi
if [ ! -x "$root/node_modules/node/bin/node" ]; then
  (cd "$root" && npm ci --no-audit --no-fund >&2)
fi
echo "$root/node_modules/node/bin/node"
