#!/usr/bin/env bash
# Install the machine packages the tests, the demo and the benchmarks need, when missing:
# the Debian docker-registry (a real OCI registry on 127.0.0.1), skopeo, htpasswd, openssl, jq, curl,
# unzip (test/scripts/helm.sh unpacks helm with it).
# kubectl ships with these machines (Google Cloud CLI); Debian's kubernetes-client clashes with it,
# so it is installed only where kubectl is missing.
set -euo pipefail
need=()
for pair in docker-registry:docker-registry skopeo:skopeo htpasswd:apache2-utils openssl:openssl jq:jq curl:curl python3:python3 unzip:unzip; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair##*:}")
done
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing packages: ${need[*]} — install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq "${need[@]}" >/dev/null
