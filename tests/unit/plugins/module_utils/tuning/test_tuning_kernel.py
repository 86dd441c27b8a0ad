"""The live sysctl tree through the proc_root seam: reads, writability, and what tcp_tw_reuse accepts."""

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._tuning.kernel import KernelSysctl


def test_read_folds_the_tab_of_the_port_range(tmp_path, tuning_kernel_proc):
    kernel = KernelSysctl(tuning_kernel_proc(tmp_path, "linux-6.12-container"))
    assert kernel.read("net.ipv4.ip_local_port_range") == "32768 60999"
    assert kernel.read("net.ipv4.ip_local_reserved_ports") == ""
    assert kernel.read("net.ipv4.tcp_tw_recycle") is None
    assert kernel.release() == "6.12.48+deb13-amd64"


def test_a_0444_key_is_not_writable_even_for_root(tmp_path, tuning_kernel_proc):
    kernel = KernelSysctl(tuning_kernel_proc(tmp_path, "linux-6.12-container"))
    assert not kernel.writable("net.netfilter.nf_conntrack_max")
    assert kernel.writable("net.netfilter.nf_conntrack_tcp_timeout_time_wait")
    assert not kernel.writable("net.ipv4.tcp_tw_recycle")


def test_write_then_read(tmp_path, tuning_kernel_proc):
    kernel = KernelSysctl(tuning_kernel_proc(tmp_path, "linux-6.12-container"))
    kernel.write("net.ipv4.tcp_tw_reuse", 1)
    assert kernel.read("net.ipv4.tcp_tw_reuse") == "1"


@pytest.mark.parametrize("name, accepted", [
    ("linux-6.12-container", [0, 1, 2]),
    ("linux-4.9-tw_recycle", [0, 1]),
    ("linux-4.14-no-reuse-2", [0, 1]),
])
def test_tw_reuse_values_are_proven_from_the_tree(tmp_path, tuning_kernel_proc, name, accepted):
    assert KernelSysctl(tuning_kernel_proc(tmp_path, name)).tw_reuse_values() == accepted
