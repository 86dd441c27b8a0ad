#!/usr/bin/env bash
# Debian packages the tests and benchmarks need (openssh-client: the SSH part of make bench-fleet).
# Installs only what is missing; needs root (or sudo).
set -euo pipefail
packages=(podman runc debootstrap iproute2 procps net-tools chromium prometheus-node-exporter prometheus git shellcheck
          openssh-client)
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
