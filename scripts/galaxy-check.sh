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

# What the tarball holds: exactly the files of these top-level entries that are in the work tree
# (tracked, or new and not ignored), less those kept out on purpose, plus the two manifests.
shipped_top_level='README.md COPYING changelogs docs extensions meta monitoring playbooks plugins roles'
kept_out='docs/examples/execution-environment.yml'
(cd "$root" && git ls-files -z --cached --others --exclude-standard) | python3 -c '
import os, subprocess, sys
root, tarball, top_level, kept_out = sys.argv[1], sys.argv[2], set(sys.argv[3].split()), set(sys.argv[4].split())
listing = subprocess.check_output(["tar", "tzf", tarball], text=True).split("\n")
shipped = {f for f in listing if f and not f.endswith("/")}
expected = {f for f in sys.stdin.read().split("\0")
            if f and f.split("/")[0] in top_level and f not in kept_out and os.path.isfile(os.path.join(root, f))}
expected |= {"MANIFEST.json", "FILES.json"}
extra, missing = sorted(shipped - expected), sorted(expected - shipped)
for f in extra:
    print("tarball: ships %s, which it should not (galaxy.yml build_ignore)" % f)
for f in missing:
    print("tarball: lacks %s" % f)
sys.exit(1 if extra or missing else 0)
' "$root" "$tarball" "$shipped_top_level" "$kept_out" || {
    echo "the content of $tarball is not what galaxy.yml should give" >&2
    exit 1
}
echo "tarball: $(basename "$tarball") holds $(tar tzf "$tarball" | grep -vc '/$') files, all of them shipped on purpose"
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
