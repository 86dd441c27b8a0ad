#!/usr/bin/env bash
# Build the collection tarball, then let galaxy-importer judge it: any ERROR or WARNING line fails the check.
set -euo pipefail
build="${1:?usage: galaxy-check.sh BUILD_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$build/importer-venv"
stamp="$venv/.installed-$(cksum < "$root/requirements/galaxy-importer.txt" | cut -d' ' -f1)"
if [ ! -e "$stamp" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/requirements/galaxy-importer.txt"
    touch "$stamp"
fi
out="$build/galaxy"
rm -rf "$out"
mkdir -p "$out"
ansible-galaxy collection build --force --output-path "$out" "$root"
tarball="$(ls "$out"/tcpops-timewait-*.tar.gz)"
log="$out/importer.log"
(cd "$out" && GALAXY_IMPORTER_CONFIG="$root/tests/galaxy-importer.cfg" PATH="$venv/bin:$PATH" \
    "$venv/bin/python" -m galaxy_importer.main "$tarball" >"$log" 2>&1) || {
    cat "$log"
    echo "galaxy-importer failed on $tarball" >&2
    exit 1
}
if grep -E '^(WARNING|ERROR)|[[:space:]](WARNING|ERROR):' "$log"; then
    echo "galaxy-importer reported the problems above for $tarball" >&2
    exit 1
fi
echo "galaxy-importer: $(basename "$tarball") imported with no error or warning"
