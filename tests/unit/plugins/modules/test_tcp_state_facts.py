"""The module end to end: main() with arguments, the JSON it exits with."""

import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.tcpops.timewait.plugins.modules import tcp_state_facts


def run_module(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            tcp_state_facts.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_full_on_fixture_proc_root(modern_proc, capsys):
    code, result = run_module({"proc_root": modern_proc, "backend": "proc", "top": 3}, capsys)
    assert code == 0
    assert result["changed"] is False
    state = result["ansible_facts"]["tcp_state"]
    assert state["backend"] == "proc"
    assert state["counts"]["total"] == 28 and state["counts"]["time_wait"] == 11
    # ranked by port usage: 10.0.0.9 has no TIME_WAIT but 4 live outbound sockets
    assert [item["address"] for item in state["time_wait"]["top_destinations"]] == ["10.0.0.5", "10.0.0.9", "2001:db8::1"]
    # the engine's warnings are also module warnings (ansible-core 2.19 wraps each one in a dict)
    assert "backlog unavailable" in json.dumps(result["warnings"])


def test_summary_in_check_mode(modern_proc, capsys):
    code, result = run_module({"proc_root": modern_proc, "mode": "summary", "_ansible_check_mode": True}, capsys)
    assert code == 0 and result["changed"] is False
    state = result["ansible_facts"]["tcp_state"]
    assert state["mode"] == "summary" and state["counts"] is None
    assert state["sockstat"]["tw"] == 11


def test_config_root_option_reads_the_sysctl_files_there(modern_proc, capsys):
    config_root = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "fixtures", "config_root", "folk")
    code, result = run_module({"proc_root": modern_proc, "mode": "summary", "config_root": config_root}, capsys)
    assert code == 0
    config = result["ansible_facts"]["tcp_state"]["sysctl_config"]
    assert [entry["path"] for entry in config["files"]] == ["/usr/lib/sysctl.d/50-default.conf", "/etc/sysctl.conf"]
    assert config["effective"]["net.ipv4.tcp_tw_recycle"] == {"value": "1", "path": "/etc/sysctl.conf", "line": 4}
    assert result["ansible_facts"]["tcp_state"]["sysctl"]["net.ipv4.tcp_tw_recycle"] is None


def test_missing_proc_fails_with_what_is_missing(tmp_path, capsys):
    code, result = run_module({"proc_root": str(tmp_path)}, capsys)
    assert code == 1 and result["failed"] is True
    assert "net/sockstat is not readable" in result["msg"]


def test_invalid_choice_is_rejected(modern_proc, capsys):
    code, result = run_module({"proc_root": modern_proc, "backend": "ss"}, capsys)
    assert code == 1 and "backend" in result["msg"]


def test_netlink_requested_but_refused_fails_clearly(netlink_refused, capsys):
    code, result = run_module({"backend": "netlink"}, capsys)
    assert code == 1 and result["failed"] is True
    assert result["msg"] == "backend netlink requested but not usable: netlink socket dump not allowed: Operation not permitted"


def test_auto_fallback_is_a_module_warning(netlink_refused, capsys):
    code, result = run_module({}, capsys)
    assert code == 0
    assert result["ansible_facts"]["tcp_state"]["backend"] == "proc"
    assert "netlink sock_diag not usable" in json.dumps(result["warnings"])


def test_odd_host_data_is_reported_and_the_facts_still_returned(modern_proc, tmp_path, capsys):
    directory = tmp_path / "etc" / "sysctl.d"
    directory.mkdir(parents=True)
    os.mkfifo(str(directory / "82-fifo.conf"))
    (directory / "83-nul.conf").write_bytes(b"net.ipv4.tcp_fin\x00_timeout = 30\nnet.core.somaxconn = 4096\n")
    code, result = run_module({"proc_root": modern_proc, "backend": "proc", "config_root": str(tmp_path)}, capsys)
    assert code == 0 and result.get("failed") is not True
    state = result["ansible_facts"]["tcp_state"]
    assert state["counts"]["total"] == 28
    assert state["sysctl_config"]["effective"]["net.core.somaxconn"]["value"] == "4096"
    assert state["errors"] == [
        "sysctl configuration: /etc/sysctl.d/82-fifo.conf: a FIFO, not a regular file: not read",
        "sysctl configuration: /etc/sysctl.d/83-nul.conf line 1: key 'net.ipv4.tcp_fin\\x00_timeout' holds a"
        " control character, a NUL byte, a space or invalid UTF-8"]
    assert state["errors_total"] == 2
    assert "82-fifo.conf: a FIFO" in json.dumps(result["warnings"])


def test_warnings_beyond_the_bound_are_counted_in_one_module_warning(make_proc_tree, capsys):
    from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state import collect as _tcp_state

    processes = dict((1000 + number, ("x", ["socket:[1001]"])) for number in range(_tcp_state.MAX_MESSAGES + 30))
    proc = make_proc_tree(processes, base="modern")
    for pid in processes:
        with open(os.path.join(proc, str(pid), "comm"), "wb") as handle:
            handle.write(b"\xff\n")
    code, result = run_module({"proc_root": proc, "backend": "proc"}, capsys)
    state = result["ansible_facts"]["tcp_state"]
    assert code == 0 and len(state["warnings"]) == _tcp_state.MAX_MESSAGES
    omitted = state["warnings_total"] - _tcp_state.MAX_MESSAGES
    assert omitted >= 30
    assert "%d more warnings not listed (tcp_state.warnings_total)" % omitted in json.dumps(result["warnings"])


# -- RETURN is the whole contract: every key collect() returns is documented there, and vice versa -----

# dicts keyed by data (sysctl names), not by a fixed set of names: their entries follow ``contains``
DATA_KEYED = {"tcp_state.sysctl_config.effective", "tcp_state.sysctl_config.files[].settings",
              "tcp_state.sysctl_config.files[].lines"}
RETURN_TYPES = {"int": int, "str": str, "bool": bool, "float": float, "list": list, "dict": dict, "complex": dict}


def documented_tcp_state():
    import yaml

    return yaml.safe_load(tcp_state_facts.RETURN)["ansible_facts"]["contains"]["tcp_state"]


def contract_problems(value, doc, where, problems):
    """Every mismatch between ``value`` and its RETURN entry ``doc``, as ``where: what`` lines."""
    if value is None:
        return problems  # every documented value may be null (the description says when)
    expected = RETURN_TYPES.get(doc["type"])
    if expected is not None and not isinstance(value, expected) or isinstance(value, bool) and doc["type"] != "bool":
        problems.append("%s: %r is not of the documented type %s" % (where, value, doc["type"]))
        return problems
    if doc["type"] == "list":
        for index, item in enumerate(value):
            element = {"type": doc.get("elements", "raw"), "contains": doc.get("contains")}
            contract_problems(item, element, where + "[]", problems)
        return problems
    contains = doc.get("contains")
    if not isinstance(value, dict) or contains is None:
        return problems
    if where in DATA_KEYED:
        for key, item in value.items():
            if isinstance(item, dict):
                contract_problems(item, {"type": "dict", "contains": contains}, where + "[key]", problems)
        return problems
    documented = set(contains)
    returned = set(value)
    if where == "tcp_state.sysctl":
        returned = set(key for key in value if key in documented)  # the others: checked by the caller
    for key in sorted(returned - documented):
        problems.append("%s.%s is returned but not documented in RETURN" % (where, key))
    for key in sorted(documented - returned):
        problems.append("%s.%s is documented in RETURN but not returned" % (where, key))
    for key in sorted(returned & documented):
        contract_problems(value[key], contains[key], "%s.%s" % (where, key), problems)
    return problems


@pytest.mark.parametrize("mode", ["full", "summary"])
def test_return_documents_every_key_collect_returns_and_nothing_else(make_proc_tree, tmp_path, mode):
    from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect import collect
    from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.files import plain_keys

    proc = make_proc_tree({4242: ("cw-leaker", ["socket:[1001]", "socket:[1002]"])}, base="modern")
    config_root = tmp_path / "root"
    (config_root / "etc" / "sysctl.d").mkdir(parents=True)
    (config_root / "etc" / "sysctl.d" / "50-app.conf").write_text(
        "-net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.conf.*.rp_filter = 2\nkernel.not_here = 1\nno equals sign\n")
    state = collect(mode=mode, backend="proc", top=3, proc_root=proc, config_root=str(config_root))
    if mode == "full":  # every list holds entries, so their elements are checked too
        assert state["time_wait"]["top_destinations"] and state["close_wait"]["top_processes"]
        assert state["listen"]["sockets"] and state["ephemeral_ports"]["reserved"]
    assert state["sysctl_config"]["files"] and state["sysctl_config"]["errors"]
    assert contract_problems(state, documented_tcp_state(), "tcp_state", []) == []
    # tcp_state.sysctl: the documented keys, then the plain keys the files set, nothing else
    extra = [key for key in state["sysctl"] if key not in documented_tcp_state()["contains"]["sysctl"]["contains"]]
    assert extra == [key for key in plain_keys(state["sysctl_config"]) if key in extra] == ["kernel.not_here"]


def test_the_contract_check_finds_an_undocumented_and_a_missing_key(modern_proc, tmp_path):
    from ansible_collections.tcpops.timewait.plugins.module_utils._socket_state.collect import collect

    state = collect(mode="summary", proc_root=modern_proc, config_root=str(tmp_path))
    state["sockstat"]["alloc"] = 3
    del state["netfilter"]["nat_loaded"]
    state["kernel"] = 6
    assert contract_problems(state, documented_tcp_state(), "tcp_state", []) == [
        "tcp_state.kernel: 6 is not of the documented type str",
        "tcp_state.netfilter.nat_loaded is documented in RETURN but not returned",
        "tcp_state.sockstat.alloc is returned but not documented in RETURN",
    ]


def test_sample_seconds_returns_documented_rates(modern_proc, capsys):
    code, result = run_module({"proc_root": modern_proc, "mode": "summary", "sample_seconds": 1}, capsys)
    assert code == 0
    state = result["ansible_facts"]["tcp_state"]
    assert state["rates"]["seconds"] >= 1.0 and state["boot_time"] == 1795968000
    assert contract_problems(state, documented_tcp_state(), "tcp_state", []) == []


@pytest.mark.parametrize("seconds", [-1, 61])
def test_sample_seconds_out_of_range_fails_naming_the_range(modern_proc, capsys, seconds):
    code, result = run_module({"proc_root": modern_proc, "sample_seconds": seconds}, capsys)
    assert code == 1 and result["failed"] is True
    assert result["msg"] == ("sample_seconds must be a whole number of seconds from 0 (no sample) to 60, got %d"
                             % seconds)
