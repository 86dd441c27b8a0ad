"""The owner of a process from its cgroup file, parsed without regular expressions: the cases, and the
parser held against the regular expressions it replaces on many generated paths."""

import random
import re

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import cgroup_owner

DOCKER_ID = "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b"
POD_UID = "6f1c2a47-9b3e-4c1d-8a2b-0e5f6d7c8b9a"


@pytest.mark.parametrize("text, owner", [
    ("0::/system.slice/docker-%s.scope\n" % DOCKER_ID, {"kind": "container", "id": DOCKER_ID[:12]}),
    ("0::/machine.slice/libpod-%s.scope/container\n" % DOCKER_ID, {"kind": "container", "id": DOCKER_ID[:12]}),
    ("9:name=systemd:/libpod_parent/libpod-%s\n8:pids:/libpod_parent/libpod-%s\n" % (DOCKER_ID, DOCKER_ID),
     {"kind": "container", "id": DOCKER_ID[:12]}),
    ("0::/system.slice/crio-%s.scope\n" % DOCKER_ID, {"kind": "container", "id": DOCKER_ID[:12]}),
    ("0::/system.slice/cri-containerd-%s.scope\n" % DOCKER_ID, {"kind": "container", "id": DOCKER_ID[:12]}),
    ("12:memory:/docker/%s\n0::/\n" % DOCKER_ID, {"kind": "container", "id": DOCKER_ID[:12]}),
    # a pod's containers share the pod's namespace: the pod wins over its container
    ("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/cri-containerd-%s.scope\n"
     % (POD_UID.replace("-", "_"), DOCKER_ID), {"kind": "pod", "id": POD_UID}),
    ("0::/kubepods/besteffort/pod%s/%s\n" % (POD_UID, DOCKER_ID), {"kind": "pod", "id": POD_UID}),
    ("0::/system.slice/nginx.service\n", {"kind": "unit", "id": "nginx.service"}),
    ("0::/system.slice/app@2.service/worker\n", {"kind": "unit", "id": "app@2.service"}),
    # v2 first: the v1 line names another unit
    ("1:name=systemd:/system.slice/old.service\n0::/system.slice/new.service\n", {"kind": "unit", "id": "new.service"}),
    ("0::/user.slice/user-0.slice/session-3.scope\n", None),
    ("0::/\n", None),
    ("", None),
    ("garbage without colons\n0::/system.slice/docker-tooshort.scope\n", None),
])
def test_owner_from_cgroup(text, owner):
    assert cgroup_owner.cgroup_owner(text) == owner


# what the owner was read with before: the reference the parser must agree with
REFERENCE_POD = re.compile(
    r"kubepods.*?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})")
REFERENCE_CONTAINER = re.compile(
    r"(?:^|[/-])(?:docker|libpod|crio|cri-containerd|containerd)[-/]([0-9a-f]{64})(?:\.scope)?(?:/|$)")
REFERENCE_UNIT = re.compile(r"^[A-Za-z0-9:_.@\\-]+\.service$")

PIECES = ["kubepods", "pod", "-", "_", "/", ".slice", ".scope", ".service", "docker", "libpod", "crio",
          "cri-containerd", "containerd", "cri-", "system", "user@0", "x\\x2d", "besteffort", "burstable", ".",
          "A", "z", "9", "g", " "]


def _hex(rng, length):
    return "".join(rng.choice("0123456789abcdef" if rng.random() < 0.97 else "0123456789abcdefG") for _position in range(length))


def _uid(rng):
    groups = [_hex(rng, size) for size in (8, 4, 4, 4, 12)]
    if rng.random() < 0.1:
        groups[rng.randrange(5)] += "0"
    return "".join(group + (rng.choice("-_") if index < 4 else "") for index, group in enumerate(groups))


def _path(rng):
    parts = []
    for _part in range(rng.randrange(1, 12)):
        roll = rng.random()
        if roll < 0.15:
            parts.append(_uid(rng))
        elif roll < 0.3:
            parts.append(_hex(rng, rng.choice([63, 64, 64, 64, 65])))
        else:
            parts.append(rng.choice(PIECES))
    return "".join(parts)


def test_the_parser_agrees_with_the_regular_expressions_it_replaces():
    rng = random.Random(20261130)
    kinds = set()
    for _path_number in range(40000):
        path = _path(rng)
        pod = REFERENCE_POD.search(path)
        assert cgroup_owner.pod_uid(path) == (pod.group(1).replace("_", "-") if pod else None), path
        container = REFERENCE_CONTAINER.search(path)
        assert cgroup_owner.container_id(path) == (container.group(1)[:12] if container else None), path
        units = [part for part in reversed(path.split("/")) if REFERENCE_UNIT.match(part)]
        assert cgroup_owner.unit_name(path) == (units[0] if units else None), path
        kinds.update(kind for kind, found in (("pod", pod), ("container", container), ("unit", units)) if found)
    # the generated paths reach every kind of owner, so the agreement covers each parser
    assert kinds == {"pod", "container", "unit"}
