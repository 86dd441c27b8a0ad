#!/usr/bin/env bash
# Check an execution-environment definition without a container engine: build the collection tarball
# where the definition takes it from, let `ansible-builder create` write the build context and check
# that its Containerfile installs that very tarball; then install the tarball and check that
# `ansible-builder introspect` finds the collection's meta/execution-environment.yml and reads no
# Python or system package from it (a planted package proves that it reads those files at all).
set -euo pipefail
definition="$(realpath "${1:?usage: ee-check.sh DEFINITION BUILD_DIR}")"
build="${2:?usage: ee-check.sh DEFINITION BUILD_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
fail() {
    echo "ee-check: $*" >&2
    exit 1
}

version="$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$root/galaxy.yml")"
tarball_name="tcpops-timewait-$version.tar.gz"

# The definition names the tarball twice: where to copy it from, and what to install.
read -r src dest wanted < <(python3 - "$definition" <<'EOF'
import sys, yaml
ee = yaml.safe_load(open(sys.argv[1]))
files = [f for f in ee.get("additional_build_files", []) if f["src"].endswith(".tar.gz")]
wanted = [c["name"] for c in ee["dependencies"]["galaxy"]["collections"] if c.get("type") == "file"]
if len(files) != 1 or len(wanted) != 1:
    sys.exit("%s: expected one collection tarball in additional_build_files and one in "
             "dependencies.galaxy, found %d and %d" % (sys.argv[1], len(files), len(wanted)))
print(files[0]["src"], files[0]["dest"], wanted[0])
EOF
)
[ "$(basename "$src")" = "$tarball_name" ] \
    || fail "$definition takes $(basename "$src") but galaxy.yml's version $version builds $tarball_name: rename it there"
[ "$wanted" = "$dest/$tarball_name" ] \
    || fail "$definition installs $wanted but copies the tarball to $dest/$tarball_name"

tarball_dir="$(realpath -m "$(dirname "$definition")/$(dirname "$src")")"
mkdir -p "$tarball_dir"
ansible-galaxy collection build --force --output-path "$tarball_dir" "$root" >/dev/null
tarball="$tarball_dir/$tarball_name"

# 1. The build context, as `ansible-builder build` would hand it to podman.
context="$build/ee"
rm -rf "$context"
log="$build/ee-create.log"
ansible-builder create --file "$definition" --context "$context" --output-filename Containerfile -v3 >"$log" 2>&1 \
    || { cat "$log"; fail "ansible-builder create failed on $definition"; }
if grep -E 'No matches|does not exist' "$log"; then
    fail "ansible-builder create could not find a file that $definition names (above)"
fi
containerfile="$context/Containerfile"
cmp -s "$tarball" "$context/_build/$wanted" || fail "the build context has no copy of $tarball at _build/$wanted"
python3 - "$context/_build/requirements.yml" "$wanted" <<'EOF' || fail "the context's requirements.yml does not install $wanted"
import sys, yaml
reqs = yaml.safe_load(open(sys.argv[1]))
assert reqs["collections"] == [{"name": sys.argv[2], "type": "file"}], reqs
EOF
grep -qx 'COPY _build /build' "$containerfile" || fail "$containerfile does not copy the tarball into the image"
grep -qE '^RUN .*ansible-galaxy collection install .*-r requirements\.yml ' "$containerfile" \
    || fail "$containerfile installs no collection"
grep -qx 'ARG PKGMGR="/usr/bin/dnf"' "$containerfile" || fail "$containerfile does not install with dnf (RPM-based base)"
echo "ee-check: $containerfile installs $tarball_name from the build context"

# 2. What ansible-builder reads from the installed collection.
work="$build/ee-introspect"
rm -rf "$work"
ANSIBLE_COLLECTIONS_PATH="$work/installed" \
    ansible-galaxy collection install --offline --force -p "$work/installed" "$tarball" >/dev/null
collection="$work/installed/ansible_collections/tcpops/timewait"
[ -f "$collection/meta/execution-environment.yml" ] || fail "$tarball has no meta/execution-environment.yml"

# Prints what ansible-builder introspect finds under a collections directory, as one line of JSON.
introspect() {
    local out
    out="$(ansible-builder introspect "$1" 2>&1)" || { echo "$out" >&2; fail "ansible-builder introspect failed on $1"; }
    python3 -c '
import json, sys, yaml
head, sep, data = sys.stdin.read().partition("\n---\n")
sys.exit(1) if not sep else print(json.dumps(yaml.safe_load(data), sort_keys=True))' <<<"$out" \
        || { echo "$out" >&2; fail "ansible-builder introspect printed no dependency data for $1"; }
}

# The planted control: the same collection with one package in each of its meta files.
control="$work/control/ansible_collections/tcpops"
mkdir -p "$control"
cp -a "$collection" "$control/"
echo 'tcpops-planted-python-package' >>"$control/timewait/meta/ee-requirements.txt"
echo 'tcpops-planted-system-package [platform:rpm]' >>"$control/timewait/meta/ee-bindep.txt"
planted="$(introspect "$work/control")"
expected_planted='{"python": ["tcpops-planted-python-package  # from collection tcpops.timewait"], "system": ["tcpops-planted-system-package [platform:rpm]  # from collection tcpops.timewait"]}'
[ "$planted" = "$expected_planted" ] \
    || fail "ansible-builder introspect did not read the planted packages from meta/: $planted"

found="$(introspect "$work/installed")"
[ "$found" = '{"python": [], "system": []}' ] \
    || fail "ansible-builder introspect lists dependencies for tcpops.timewait: $found"
echo "ee-check: ansible-builder introspect reads meta/execution-environment.yml and lists no Python or system package"
