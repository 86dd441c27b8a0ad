#!/usr/bin/env bash
# ansible-test sanity needs the collection at .../ansible_collections/<ns>/<name>: run it on a copy of the tree
# (the files git tracks plus new ones it does not ignore). The copy lives outside this work tree: inside it,
# ansible-test would ask this repo's git which files exist, find the copy ignored, and test nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/tcpops-sanity.XXXXXX")"
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/tcpops/timewait"
mkdir -p "$dest"
(cd "$root" && git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf -) | tar -xf - -C "$dest"
for f in "$root"/tests/sanity/ignore-*.txt; do
    if [ -s "$f" ]; then
        echo "sanity: $f must stay empty; fix the code instead" >&2
        exit 1
    fi
done
# ansible-test bootstraps pip in each sanity venv from a script it downloads from a host this machine
# cannot reach; give it the offline equivalent under the cache name it looks for.
ansible_test_dir="$(python3 -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')"
pip_version="$(grep -Po "pip='\K[0-9.]+" "$ansible_test_dir/_internal/python_requirements.py" | head -n1)"
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$cache")"
cp "$root/tests/sanity/pip-bootstrap.py" "$cache"
cd "$dest"
python_version="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
ansible-test sanity --venv --python "$python_version" --color no "$@" 2>&1 | tee "$work/sanity.log"
if grep -q "All targets skipped" "$work/sanity.log"; then
    echo "sanity: ansible-test found nothing to test in $dest" >&2
    exit 1
fi
