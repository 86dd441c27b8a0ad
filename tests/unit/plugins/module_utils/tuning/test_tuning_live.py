"""Writing live values: only what differs, nothing in check mode, and a read-back that must agree."""

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.kernel import KernelSysctl
from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.live import LiveWriteError, diff_text, set_live

KINDS = {"net.ipv4.ip_local_port_range": "port_range", "net.ipv4.ip_local_reserved_ports": "port_list"}


@pytest.fixture
def kernel(tmp_path):
    ipv4 = tmp_path / "sys" / "net" / "ipv4"
    ipv4.mkdir(parents=True)
    (ipv4 / "tcp_tw_reuse").write_text("2\n")
    (ipv4 / "ip_local_port_range").write_text("32768\t60999\n")
    (ipv4 / "ip_local_reserved_ports").write_text("\n")
    return KernelSysctl(str(tmp_path))


def test_writes_only_differing_keys(kernel):
    changes = set_live(kernel, {"net.ipv4.tcp_tw_reuse": 1, "net.ipv4.ip_local_port_range": "32768 60999",
                                "net.ipv4.ip_local_reserved_ports": "20000,8080"}, KINDS)
    assert changes == [
        {"key": "net.ipv4.ip_local_reserved_ports", "before": "", "after": "8080,20000"},
        {"key": "net.ipv4.tcp_tw_reuse", "before": "2", "after": "1"},
    ]
    assert kernel.read("net.ipv4.tcp_tw_reuse") == "1"
    assert set_live(kernel, {"net.ipv4.tcp_tw_reuse": "1"}, KINDS) == []


def test_check_mode_writes_nothing(kernel):
    changes = set_live(kernel, {"net.ipv4.tcp_tw_reuse": 0}, KINDS, check_mode=True)
    assert changes == [{"key": "net.ipv4.tcp_tw_reuse", "before": "2", "after": "0"}]
    assert kernel.read("net.ipv4.tcp_tw_reuse") == "2"
    assert diff_text(changes, "before") == "net.ipv4.tcp_tw_reuse = 2\n"


def test_restoring_an_empty_list(kernel):
    kernel.write("net.ipv4.ip_local_reserved_ports", "20000")
    assert set_live(kernel, {"net.ipv4.ip_local_reserved_ports": ""}, KINDS)[0]["after"] == ""
    assert kernel.read("net.ipv4.ip_local_reserved_ports") == ""


def test_missing_key_is_an_error_not_a_silent_skip(kernel):
    with pytest.raises(LiveWriteError, match="no net.ipv4.tcp_tw_recycle"):
        set_live(kernel, {"net.ipv4.tcp_tw_recycle": 0}, KINDS)


def test_a_value_the_kernel_does_not_keep_is_an_error(kernel, monkeypatch):
    # a kernel that clamps or rejects silently: the file keeps its old content
    monkeypatch.setattr(kernel, "write", lambda key, value: None)
    with pytest.raises(LiveWriteError, match="reads back '2' after writing '1'"):
        set_live(kernel, {"net.ipv4.tcp_tw_reuse": 1}, KINDS)


def test_every_key_is_checked_before_anything_is_written(kernel):
    # tcp_tw_reuse sorts after the port range and would be written first without the check
    with pytest.raises(LiveWriteError, match="no net.ipv4.tcp_tw_recycle; nothing was written"):
        set_live(kernel, {"net.ipv4.ip_local_port_range": "10240 65535", "net.ipv4.tcp_tw_recycle": 0}, KINDS)
    assert kernel.read("net.ipv4.ip_local_port_range") == "32768 60999"
    with pytest.raises(LiveWriteError, match="'lots' is not a valid int value"):
        set_live(kernel, {"net.ipv4.ip_local_port_range": "10240 65535", "net.ipv4.tcp_tw_reuse": "lots"}, KINDS)
    assert kernel.read("net.ipv4.ip_local_port_range") == "32768 60999"


def test_a_read_only_key_stops_the_run_before_any_write(kernel, tmp_path):
    (tmp_path / "sys" / "net" / "ipv4" / "tcp_tw_reuse").chmod(0o444)
    with pytest.raises(LiveWriteError, match="net.ipv4.tcp_tw_reuse is not writable here"):
        set_live(kernel, {"net.ipv4.ip_local_port_range": "10240 65535", "net.ipv4.tcp_tw_reuse": 1}, KINDS)
    assert kernel.read("net.ipv4.ip_local_port_range") == "32768 60999"


def test_a_failed_write_rolls_back_the_keys_written_before_it(kernel, monkeypatch):
    real_write = kernel.write

    def write(key, value):
        if key == "net.ipv4.tcp_tw_reuse":
            raise OSError(22, "Invalid argument")
        real_write(key, value)

    monkeypatch.setattr(kernel, "write", write)
    with pytest.raises(LiveWriteError) as caught:
        set_live(kernel, {"net.ipv4.ip_local_port_range": "10240 65535", "net.ipv4.tcp_tw_reuse": 1}, KINDS)
    assert "writing net.ipv4.tcp_tw_reuse = 1 failed: Invalid argument" in str(caught.value)
    assert "rolled back (net.ipv4.ip_local_port_range)" in str(caught.value)
    assert kernel.read("net.ipv4.ip_local_port_range") == "32768 60999"
