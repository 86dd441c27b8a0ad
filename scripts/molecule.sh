#!/usr/bin/env bash
# Run the molecule scenarios under extensions/molecule/ on podman containers.
#
#   scripts/molecule.sh [SCENARIO...]     default: every directory holding a molecule.yml
#
# Builds the Debian test images first when they are missing (tests/containers/build-image.sh),
# runs `molecule test` once per scenario, prints one PASS/FAIL line per scenario with its
# duration, and exits non-zero when any scenario failed. Each scenario's full output goes to
# build/molecule/SCENARIO.log; when a scenario fails, the output of its failing step is printed
# and its containers are destroyed.
#
# Environment:
#   TCPOPS_MOLECULE_JOBS      scenarios run at the same time (default 2; docs/testing.md has timings)
#   TCPOPS_MOLECULE_TIMEOUT   seconds one scenario may take before it is stopped (default 1200)
#   TCPOPS_MOLECULE_VERBOSE   1: stream molecule's output too (best with one job)
#
# Needs root (podman as root, debootstrap) and the venv (`make venv collection`).
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 1

# The same environment the Makefile exports, for runs by hand.
export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$root/build/collections}"
export PYTHONPATH="${PYTHONPATH:-$root/build/collections}"
export ANSIBLE_CONFIG="${ANSIBLE_CONFIG:-$root/ansible.cfg}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$root/tests/containers/containers.conf}"
[ -d "$root/.venv/bin" ] && export PATH="$root/.venv/bin:$PATH"
# Molecule finds scenarios from the collection root (galaxy.yml) under extensions/molecule/.
unset MOLECULE_GLOB

scenario_root="extensions/molecule"
base_config="$scenario_root/config.yml"
logs="$root/build/molecule"
jobs="${TCPOPS_MOLECULE_JOBS:-2}"
timeout_s="${TCPOPS_MOLECULE_TIMEOUT:-1200}"
verbose="${TCPOPS_MOLECULE_VERBOSE:-0}"

say() { printf 'molecule.sh: %s\n' "$*"; }

destroy() {
    [ -f "$scenario_root/$1/molecule.yml" ] || return 0
    molecule -c "$base_config" destroy -s "$1" >"$logs/$1.destroy.log" 2>&1
}

# What failed: the output just before molecule's first "Executed: Failed", else the log's end.
failure_excerpt() {
    local plain line
    plain="$(sed 's/\x1b\[[0-9;]*m//g' "$1")"
    line="$(grep -n -m1 'Executed: Failed' <<<"$plain" | cut -d: -f1)"
    if [ -n "$line" ]; then
        sed -n "$((line > 50 ? line - 50 : 1)),${line}p" <<<"$plain"
    else
        tail -n 40 <<<"$plain"
    fi
}

# A scenario whose verifier finds no test file still "passes" in molecule: refuse it here.
unverifiable() {
    local dir="$scenario_root/$1"
    if [ ! -f "$dir/molecule.yml" ]; then
        echo "no $dir/molecule.yml"
    elif ! compgen -G "$dir/tests/test_*.py" >/dev/null && [ ! -f "$dir/verify.yml" ]; then
        echo "no tests/test_*.py and no verify.yml in $dir: nothing would be verified"
    else
        return 1
    fi
}

declare -A running=()   # pid of `timeout molecule test` -> scenario
declare -A began=()     # scenario -> $SECONDS at its start
failed=()

start() {
    local name="$1" log="$logs/$1.log"
    began[$name]=$SECONDS
    if unverifiable "$name" >"$log"; then
        false &
    else
        # In the background: a signal to this script is then handled at once (see the trap).
        local command=(timeout --signal=TERM --kill-after=30 "$timeout_s"
                       molecule -c "$base_config" test -s "$name")
        if [ "$verbose" = 1 ]; then
            "${command[@]}" > >(tee "$log") 2>&1 &
        else
            "${command[@]}" >"$log" 2>&1 &
        fi
    fi
    running[$!]="$name"
}

# Wait for any running scenario, clean up after it, print its line.
finish_one() {
    local pid rc name seconds
    wait -n -p pid "${!running[@]}"
    rc=$?
    name="${running[$pid]}"
    unset "running[$pid]"
    [ "$rc" -ne 124 ] || echo "stopped after ${timeout_s} s" >>"$logs/$name.log"
    # A passing `molecule test` has destroyed its containers as its last step; a failed,
    # stopped or timed-out one may have left them.
    [ "$rc" -eq 0 ] || destroy "$name"
    seconds=$((SECONDS - began[$name]))
    if [ "$rc" -eq 0 ]; then
        say "PASS $name ($seconds s)"
    else
        say "FAIL $name ($seconds s), full log: $logs/$name.log"
        failure_excerpt "$logs/$name.log" | sed 's/^/    /'
        failed+=("$name")
    fi
}

interrupted() {
    local pid
    for pid in "${!running[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${!running[@]}"; do
        wait "$pid" 2>/dev/null
        say "interrupted during '${running[$pid]}': destroying its containers"
        destroy "${running[$pid]}"
    done
    exit 130
}
trap interrupted INT TERM

# Scenario directories, or the ones named on the command line.
scenarios=()
if [ $# -gt 0 ]; then
    scenarios=("$@")
else
    for dir in "$scenario_root"/*/; do
        name="$(basename "$dir")"
        if [ -f "$dir/molecule.yml" ]; then
            scenarios+=("$name")
        else
            say "SKIP $name: no molecule.yml, so not a scenario"
        fi
    done
fi
if [ ${#scenarios[@]} -eq 0 ]; then
    say "no scenario under $scenario_root/"
    exit 1
fi

mkdir -p "$logs"
started=$SECONDS
"$root/tests/containers/build-image.sh" || { say "FAIL: the test images could not be built"; exit 1; }
say "images ready in $((SECONDS - started)) s"

for name in "${scenarios[@]}"; do
    while [ ${#running[@]} -ge "$jobs" ]; do
        finish_one
    done
    start "$name"
done
while [ ${#running[@]} -gt 0 ]; do
    finish_one
done

say "${#scenarios[@]} scenario(s), ${#failed[@]} failed, $((SECONDS - started)) s in total"
[ ${#failed[@]} -eq 0 ]
