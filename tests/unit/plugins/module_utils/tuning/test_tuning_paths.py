"""Where the role may write: the sysctl file, the restore file and their directories, in a fixture tree."""

import os

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning import paths

OWN = "/etc/sysctl.d/90-tcpops-timewait.conf"


@pytest.fixture
def root(tmp_path):
    (tmp_path / "etc" / "sysctl.d").mkdir(parents=True)
    (tmp_path / "etc" / "sysctl.conf").write_text("vm.swappiness = 10\n")
    return tmp_path


@pytest.mark.parametrize("path, fragment", [
    ("relative.conf", "is not an absolute path"),
    ("etc/sysctl.d/90-x.conf", "is not an absolute path"),
    ("/etc/sysctl.d/../sysctl.d/90-x.conf", "is not a normalised path"),
    ("//etc/sysctl.d/90-x.conf", "is not a normalised path"),
    ("/etc/sysctl.conf", "directly under a sysctl directory"),
    ("/etc/tcp.conf", "directly under a sysctl directory"),
    ("/etc/sysctl.d/sub/90-x.conf", "directly under a sysctl directory"),
    ("/etc/sysctl.d/90-x.txt", "must end in .conf"),
    ("/etc/sysctl.d/.conf", "must end in .conf"),
    ("/etc/sysctl.d/.hidden.conf", "must end in .conf"),
])
def test_sysctl_file_only_a_conf_directly_under_a_sysctl_directory(root, path, fragment):
    errors = paths.check_sysctl_file(str(root), path)
    assert any(fragment in error for error in errors), errors


@pytest.mark.parametrize("path", [OWN, "/run/sysctl.d/90-x.conf", "/usr/local/lib/sysctl.d/90-x.conf"])
def test_sysctl_file_accepted_where_sysctl_reads_it(root, path):
    assert paths.check_sysctl_file(str(root), path) == []


def test_an_existing_file_the_role_did_not_write_is_never_taken(root):
    (root / "etc" / "sysctl.d" / "90-tcpops-timewait.conf").write_text("net.core.somaxconn = 1024\n")
    errors = paths.check_sysctl_file(str(root), OWN)
    assert len(errors) == 1 and "was not written by this role" in errors[0]
    (root / "etc" / "sysctl.d" / "90-tcpops-timewait.conf").write_text(
        "# Ansible managed\n# tcpops.timewait.tcp_tuning: profile client\nnet.ipv4.tcp_tw_reuse = 1\n")
    assert paths.check_sysctl_file(str(root), OWN) == []


def test_a_link_at_the_sysctl_file_is_never_replaced(root):
    os.symlink("/dev/null", str(root / "etc" / "sysctl.d" / "90-tcpops-timewait.conf"))
    assert "is not a regular file" in paths.check_sysctl_file(str(root), OWN)[0]


@pytest.mark.parametrize("path, fragment", [
    ("tcp_tuning.json", "is not an absolute path"),
    ("/var/lib/x/../tcp_tuning.json", "is not a normalised path"),
    ("/etc/sysctl.d/tcp_tuning.json", "lies in a sysctl directory"),
    ("/proc/sys/tcp_tuning.json", "virtual tree /proc"),
    ("/sys/tcp_tuning.json", "virtual tree /sys"),
    ("/tcp_tuning.json", "lies directly in /"),
])
def test_state_file_paths_refused(root, path, fragment):
    errors = paths.check_state_file(str(root), path, OWN)
    assert any(fragment in error for error in errors), errors


def test_state_file_may_live_in_an_existing_directory(root):
    assert paths.check_state_file(str(root), "/etc/tcp_tuning.json", OWN) == []


def test_writable_walks_up_to_the_directory_the_role_will_create(root):
    assert paths.directory_missing(str(root), "/var/lib/tcpops-timewait/tcp_tuning.json")
    assert paths.check_writable(str(root), "/var/lib/tcpops-timewait/tcp_tuning.json", "tcp_tuning_state_file") == []
    assert not paths.directory_missing(str(root), "/etc/tcp_tuning.json")


def test_a_missing_sysctl_directory_or_a_file_in_a_directorys_place_is_refused(root):
    errors = paths.check_writable(str(root), "/run/sysctl.d/90-x.conf", "tcp_tuning_sysctl_file", must_exist=True)
    assert errors == ["tcp_tuning_sysctl_file = /run/sysctl.d/90-x.conf: the directory /run/sysctl.d does not "
                      "exist on this host"]
    (root / "var").write_text("not a directory")
    errors = paths.check_writable(str(root), "/var/lib/tcpops-timewait/tcp_tuning.json", "tcp_tuning_state_file")
    assert errors == ["tcp_tuning_state_file = /var/lib/tcpops-timewait/tcp_tuning.json: /var is not a directory"]
