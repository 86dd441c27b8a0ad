"""The restore file contract: what the role writes reads back; every damaged or foreign shape is refused by name."""

import json
import os

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import restore as restore_file

SYSCTL_FILE = "/etc/sysctl.d/90-tcpops-timewait.conf"
STATE_FILE = "/var/lib/tcpops-timewait/tcp_tuning.json"
KINDS = {"net.ipv4.tcp_tw_reuse": "int", "net.ipv4.ip_local_port_range": "port_range",
         "net.ipv4.ip_local_reserved_ports": "port_list", "net.ipv4.tcp_tw_recycle": "int"}
GOOD = {"net.ipv4.tcp_tw_reuse": "2", "net.ipv4.ip_local_port_range": "32768 60999",
        "net.ipv4.ip_local_reserved_ports": ""}


def place(root, payload):
    path = root / STATE_FILE.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload if isinstance(payload, bytes) else payload.encode("utf-8"))
    return path


def read(root):
    return restore_file.read(str(root), STATE_FILE, SYSCTL_FILE, KINDS)


def as_json(**changes):
    data = restore_file.content(SYSCTL_FILE, GOOD)
    for key, value in changes.items():
        if value is restore_file:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data)


def test_what_the_role_writes_reads_back(tmp_path):
    place(tmp_path, json.dumps(restore_file.content(SYSCTL_FILE, GOOD)))
    assert read(tmp_path) == (True, GOOD)
    assert restore_file.content(SYSCTL_FILE, GOOD)["version"] == 1


def test_no_file_means_nothing_saved(tmp_path):
    assert read(tmp_path) == (False, {})


def test_a_file_from_before_versioning_is_read_as_version_0(tmp_path):
    place(tmp_path, as_json(version=restore_file))
    assert read(tmp_path) == (True, GOOD)


@pytest.mark.parametrize("payload, fragment", [
    ("", "is empty"),
    ("  \n\t\n", "is empty"),
    ("garbage {", "is not JSON"),
    (b"\xff\xfe\x00garbage", "is not UTF-8 text"),
    ('{"role": "tcpops.timewait.tcp_tuning", "version": 1,', "is not JSON"),
    ("[]", "holds a JSON list, not the role's object"),
    ('"saved"', "holds a JSON str"),
    ("null", "holds a JSON NoneType"),
    ("42", "holds a JSON int"),
    ('{"saved": {"net.ipv4.tcp_tw_reuse": "2"}}', "was not written by tcpops.timewait.tcp_tuning (role: None)"),
    (as_json(role="someone.else"), "was not written by tcpops.timewait.tcp_tuning (role: 'someone.else')"),
    (as_json(version=2), "has version 2; this role reads versions 0, 1"),
    (as_json(version="1"), "has version '1'"),
    (as_json(version=True), "has version True"),
    (as_json(extra=1), "has fields the role never writes: extra"),
    (as_json(file="/etc/sysctl.d/80-other.conf"), "belongs to the sysctl file '/etc/sysctl.d/80-other.conf'"),
    (as_json(saved=restore_file), "has no 'saved' object"),
    (as_json(saved=["net.ipv4.tcp_tw_reuse"]), "has no 'saved' object"),
    (as_json(saved={"net.ipv4.ip_forward": "1"}), "names net.ipv4.ip_forward, a key this role never manages"),
    (as_json(saved={"net.ipv4.tcp_tw_reuse": 2}), "holds net.ipv4.tcp_tw_reuse = 2 (int), not the text"),
    (as_json(saved={"net.ipv4.tcp_tw_reuse": None}), "holds net.ipv4.tcp_tw_reuse = None (NoneType)"),
    (as_json(saved={"net.ipv4.tcp_tw_reuse": "lots"}), "holds net.ipv4.tcp_tw_reuse = 'lots', not a valid int"),
    (as_json(saved={"net.ipv4.ip_local_port_range": "32768"}), "not a valid port_range value"),
    (as_json(saved={"net.ipv4.ip_local_reserved_ports": "9-x"}), "not a valid port_list value"),
])
def test_every_damaged_or_foreign_shape_is_refused_by_name(tmp_path, payload, fragment):
    place(tmp_path, payload)
    with pytest.raises(restore_file.RestoreFileError) as caught:
        read(tmp_path)
    assert fragment in str(caught.value)


def test_a_huge_file_is_refused_before_parsing(tmp_path):
    place(tmp_path, " " * (restore_file.MAX_BYTES + 1))
    with pytest.raises(restore_file.RestoreFileError, match="larger than"):
        read(tmp_path)


def test_a_link_or_directory_in_its_place_is_refused(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps(restore_file.content(SYSCTL_FILE, GOOD)))
    path = tmp_path / STATE_FILE.lstrip("/")
    path.parent.mkdir(parents=True)
    os.symlink(str(target), str(path))
    with pytest.raises(restore_file.RestoreFileError, match="is not a regular file"):
        read(tmp_path)
    path.unlink()
    path.mkdir()
    with pytest.raises(restore_file.RestoreFileError, match="is not a regular file"):
        read(tmp_path)
