#!/usr/bin/env bash
# Make this checkout importable as the collection tcpops.timewait: DIR/ansible_collections/tcpops/timewait -> checkout.
set -euo pipefail
dest="${1:?usage: link-collection.sh DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$dest/ansible_collections/tcpops"
ln -sfn "$root" "$dest/ansible_collections/tcpops/timewait"
