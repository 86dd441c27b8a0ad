#!/usr/bin/env bash
# Build the Debian test images from scratch (no registry needed): debootstrap a minimal
# root file system, then `podman import` it.
#
#   tests/containers/build-image.sh [VERSION...]    VERSION: 12 (bookworm), 13 (trixie); default: both
#
# Produces localhost/tcpops-debian:VERSION. An image that already exists and was built
# from the same recipe is left alone; set TCPOPS_REBUILD_IMAGES=1 to force a rebuild.
# The Debian mirror comes from apt's own sources unless TCPOPS_DEBIAN_MIRROR is set.
# Needs root (debootstrap, podman).
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$repo/build/images"
image_repo="localhost/tcpops-debian"
packages="python3,iproute2,procps,kmod"
# Bump when the way an image is made changes, so existing images get rebuilt.
recipe_version=1

declare -A suite_of=([12]=bookworm [13]=trixie)

log() { printf 'build-image: %s\n' "$*" >&2; }

# The first plain Debian archive URI in apt's sources (one-line or deb822 format).
debian_mirror() {
    if [ -n "${TCPOPS_DEBIAN_MIRROR:-}" ]; then
        echo "$TCPOPS_DEBIAN_MIRROR"
        return
    fi
    local files=() uri
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    uri="$(grep -hv '^[[:space:]]*#' "${files[@]}" /dev/null \
        | grep -oE '(https?|file)://[^ ]+/debian/?( |$)' | head -n1 | tr -d ' ')"
    if [ -z "$uri" ]; then
        log "no Debian mirror in /etc/apt/sources.list*; set TCPOPS_DEBIAN_MIRROR"
        exit 1
    fi
    echo "${uri%/}"
}

# Changes whenever what goes into the image changes, so a stale image gets rebuilt.
recipe_id() {
    printf '%s %s %s\n' "$recipe_version" "$1" "$packages" | sha256sum | cut -c1-16
}

image_is_current() {
    local image="$1" recipe="$2" label
    podman image exists "$image" || return 1
    label="$(podman image inspect --format '{{ index .Labels "tcpops.recipe" }}' "$image" 2>/dev/null || true)"
    [ "$label" = "$recipe" ]
}

build_one() {
    local version="$1"
    local suite="${suite_of[$version]:-}"
    if [ -z "$suite" ]; then
        log "unknown Debian version '$version' (known: ${!suite_of[*]})"
        return 2
    fi
    local image="$image_repo:$version" recipe
    recipe="$(recipe_id "$suite")"
    if [ "${TCPOPS_REBUILD_IMAGES:-0}" != 1 ] && image_is_current "$image" "$recipe"; then
        log "$image is up to date"
        return 0
    fi

    local rootfs="$work/$suite-rootfs" started=$SECONDS mirror previous
    previous="$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
    mirror="$(debian_mirror)"
    rm -rf "$rootfs"
    mkdir -p "$work/cache-$suite"
    log "debootstrap $suite from $mirror"
    debootstrap --variant=minbase --include="$packages" --cache-dir="$work/cache-$suite" \
        "$suite" "$rootfs" "$mirror" >"$work/$suite-debootstrap.log" 2>&1 || {
        tail -n 20 "$work/$suite-debootstrap.log" >&2
        log "debootstrap $suite failed; full log: $work/$suite-debootstrap.log"
        return 1
    }
    # Package indexes and downloaded .debs are not needed inside the image.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb

    tar --numeric-owner --xattrs -C "$rootfs" -c . | podman import --quiet \
        --change 'CMD ["sleep", "infinity"]' \
        --change "LABEL tcpops.recipe=$recipe" \
        --change "LABEL tcpops.suite=$suite" \
        - "$image" >/dev/null
    rm -rf "$rootfs"
    # The image this one replaces is left untagged; drop it unless a container still uses it.
    if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect --format '{{.Id}}' "$image")" ]; then
        podman image rm "$previous" >/dev/null 2>&1 || true
    fi
    log "built $image in $((SECONDS - started)) s"
}

main() {
    [ "$(id -u)" -eq 0 ] || { log "needs root (debootstrap, podman import)"; exit 1; }
    local versions=("$@")
    [ ${#versions[@]} -gt 0 ] || versions=(12 13)
    mkdir -p "$work"
    local version
    for version in "${versions[@]}"; do
        build_one "$version"
    done
}

main "$@"
