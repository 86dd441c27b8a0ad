"""Sliced runs through the real playbooks: slices of one run id running at the same time, then
tcpops.timewait.merge, give the report an unsliced run gives (compared with the previous whole run,
`latest`, retention); a slice that fails leaves its hosts missing in the merged report, never `pass`.

The hosts are inventory names reached with the local connection (each one audits this machine), so
that the slicing and merging is what is tested, not the transport.
"""

import json
import os
import re
import subprocess

HOST_PYTHON = "/usr/bin/python3"

HOSTS = ["web-%d" % i for i in range(1, 5)] + ["db-%d" % i for i in range(1, 5)]


def inventory(tmp_path, python):
    path = tmp_path / "inventory.ini"
    path.write_text("[web]\n%s\n[db]\n%s\n[all:vars]\nansible_connection=local\nansible_python_interpreter=%s\n"
                    % ("\n".join(h for h in HOSTS if h.startswith("web")),
                       "\n".join(h for h in HOSTS if h.startswith("db")), python))
    return str(path)


def start(playbook, inv, base, name, *extra):
    """The playbook in the background; its output ends with what it published for a workflow (CUSTOM STATS)."""
    args = list(playbook.argv(name, str(base), None, inv))
    env = dict(playbook.env(), ANSIBLE_SHOW_CUSTOM_STATS="1")
    return subprocess.Popen(args[:-1] + list(extra) + [args[-1]], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, cwd=str(base.parent))


def finish(process):
    out, _err = process.communicate(timeout=600)
    return process.returncode, out


def run(playbook, inv, base, name, *extra):
    return finish(start(playbook, inv, base, name, *extra))


def latest_doc(base):
    with open(str(base / "latest" / "tcp-audit.json")) as handle:
        return json.load(handle)


def test_slices_at_the_same_time_then_merge_give_the_report_of_the_whole_fleet(tmp_path, playbook, reportdirs):
    inv = inventory(tmp_path, HOST_PYTHON)
    base = tmp_path / "reports"
    rc, out = run(playbook, inv, base, "report")
    assert rc == 0, out
    whole = latest_doc(base)
    assert sorted(whole["hosts"]) == sorted(HOSTS)

    slices = [start(playbook, inv, base, "report", "-e", "tcp_audit_run_id=nightly-1", "-e", "tcp_audit_merge=false",
                    "--limit", group) for group in ("web", "db")]
    for process in slices:
        rc, out = finish(process)
        assert rc == 0, out
        assert "slice of run nightly-1" in out
        published = out[out.index("CUSTOM STATS"):]
        assert "scope: slice" in published and "tcp_audit_run_id: nightly-1" in published, out
    in_progress = base / "runs-in-progress" / "nightly-1"
    assert len([n for n in os.listdir(str(in_progress)) if n.startswith("slice-")]) == 2
    runs_before = sorted(n for n in os.listdir(str(base)) if n[0].isdigit())
    assert len(runs_before) == 1, "a slice must not publish a run of its own"

    rc, out = run(playbook, inv, base, "merge", "-e", "tcp_audit_run_id=nightly-1", "-e", "tcp_report_keep=5")
    assert rc == 0, out
    published = out[out.index("CUSTOM STATS"):]
    assert "scope: fleet" in published and "hosts: %d " % len(HOSTS) in published, published
    assert "tcp_audit_run_id: nightly-1" in published, published
    merged = latest_doc(base)
    assert sorted(merged["hosts"]) == sorted(HOSTS)
    assert merged["summary"]["hosts"] == len(HOSTS)
    assert dict((h, e["status"]) for h, e in merged["hosts"].items()) == \
        dict((h, e["status"]) for h, e in whole["hosts"].items())
    comparison = merged["comparison"]
    assert comparison["previous_generated_at"] == whole["generated_at"]
    assert all(change["comparable"] for change in comparison["hosts"].values()), comparison["hosts"]
    assert "not in this run" not in json.dumps(comparison)
    prom = (base / "latest" / "tcp-audit.prom").read_text()
    for host in HOSTS:
        assert 'host="%s"' % host in prom
    runs = sorted(n for n in os.listdir(str(base)) if n[0].isdigit())
    assert len(runs) == 2 and os.readlink(str(base / "latest")) == runs[-1]
    marker = json.loads((base / runs[-1] / ".tcpops-run.json").read_text())
    assert marker["run_id"] == "nightly-1" and marker["slices"] == 2
    assert not (base / "runs-in-progress").exists()
    reportdirs.assert_history(base)


def test_a_failed_slice_leaves_its_hosts_missing_never_pass(tmp_path, playbook):
    inv = inventory(tmp_path, HOST_PYTHON)
    base = tmp_path / "reports"
    good = start(playbook, inv, base, "report", "-e", "tcp_audit_run_id=r2", "-e", "tcp_audit_merge=false",
                 "--limit", "web")
    # a survey answer that is not a mapping stops this slice before it contacts a host or writes anything
    bad = start(playbook, inv, base, "report", "-e", "tcp_audit_run_id=r2", "-e", "tcp_audit_merge=false",
                "-e", "tcp_audit_thresholds=[1,2]", "--limit", "db")
    rc, out = finish(good)
    assert rc == 0, out
    rc, out = finish(bad)
    assert rc != 0
    assert "tcp_audit_thresholds must be a mapping of threshold names to numbers" in " ".join(out.split())
    assert "nothing was gathered or written" in " ".join(out.split())

    rc, out = run(playbook, inv, base, "merge", "-e", "tcp_audit_run_id=r2")
    assert rc == 0, out  # tcp_audit_fail_on=never: the merge ends 0, the report says what is missing
    merged = latest_doc(base)
    for host in HOSTS:
        entry = merged["hosts"][host]
        if host.startswith("db"):
            assert entry["status"] == "error"
            assert entry["reason"].startswith("missing:")
        else:
            assert entry["status"] != "error"
    assert merged["summary"]["by_status"]["error"] == 4
    assert merged["summary"]["worst_status"] == "error"
    junit = (base / "latest" / "tcp-audit.junit.xml").read_text()
    assert junit.count("missing: no slice of this run reported this host") >= 4


def test_findings_never_fail_a_slice_only_the_merge(tmp_path, playbook):
    """Every host at least warn (no live tcp_max_tw_buckets reaches a max_tw_buckets_min of 2**31) and
    tcp_audit_fail_on=warn: the slice ends 0 with its table, the merge of the run fails naming the reports."""
    inv = inventory(tmp_path, HOST_PYTHON)
    base = tmp_path / "reports"
    warn_all = ("-e", "tcp_audit_fail_on=warn", "-e", "{\"tcp_audit_thresholds\": {\"max_tw_buckets_min\": 2147483648}}")
    rc, out = run(playbook, inv, base, "audit", "-e", "tcp_audit_run_id=r3", "-e", "tcp_audit_merge=false", *warn_all)
    assert rc == 0, out
    assert "slice of run r3" in out and "Audit status" not in out, out
    rc, out = run(playbook, inv, base, "merge", "-e", "tcp_audit_run_id=r3", *warn_all)
    assert rc != 0, out
    html = base / os.readlink(str(base / "latest")) / "tcp-audit.html"
    assert re.search(r"Audit status (warn|fail) reaches tcp_audit_fail_on=warn; see %s\b" % re.escape(str(html)), out), out
    assert "scope: fleet" in out[out.index("CUSTOM STATS"):], out


def test_merge_without_slices_or_run_id_fails_clearly_and_writes_nothing(tmp_path, playbook):
    inv = inventory(tmp_path, HOST_PYTHON)
    base = tmp_path / "reports"
    rc, out = run(playbook, inv, base, "merge")
    assert rc != 0 and "tcpops.timewait.merge needs tcp_audit_run_id" in out
    rc, out = run(playbook, inv, base, "merge", "-e", "tcp_audit_run_id=nothing-here")
    assert rc != 0 and "run nothing-here has no slice in" in out
    rc, out = run(playbook, inv, base, "merge", "-e", "tcp_audit_run_id=../escape")
    assert rc != 0 and "must be 1 to 64 letters" in out
    assert not base.exists() or os.listdir(str(base)) == []


def test_merge_names_and_deletes_runs_in_progress_never_merged(tmp_path, playbook):
    inv = inventory(tmp_path, HOST_PYTHON)
    base = tmp_path / "reports"
    rc, out = run(playbook, inv, base, "report", "-e", "tcp_audit_run_id=abandoned-1", "-e", "tcp_audit_merge=false",
                  "--limit", "web")
    assert rc == 0, out
    abandoned = base / "runs-in-progress" / "abandoned-1"
    eight_days_ago = os.stat(str(abandoned)).st_mtime - 8 * 86400
    for path in [abandoned] + [abandoned / name for name in os.listdir(str(abandoned))]:
        os.utime(str(path), (eight_days_ago, eight_days_ago))
    rc, out = run(playbook, inv, base, "report", "-e", "tcp_audit_run_id=nightly-2", "-e", "tcp_audit_merge=false",
                  "--limit", "db")
    assert rc == 0, out
    assert abandoned.is_dir(), "a slice is no retention: only a fleet report deletes stale runs"

    rc, out = run(playbook, inv, base, "merge", "-e", "tcp_audit_run_id=nightly-2")
    assert rc == 0, out
    assert "runs in progress never merged (deleted by retention): abandoned-1" in out
    assert "retention deleted 1 runs" in out and "abandoned-1 (1 slices, 8.0 days)" in out
    assert not os.path.lexists(str(abandoned)) and not os.path.lexists(str(base / "runs-in-progress"))


def test_each_hosts_thresholds_are_templated_with_its_own_variables(tmp_path, playbook):
    """Thresholds from group variables that are templates, rendered per host with that host's variables (the
    report task reads each host's variables once, as they are, and templates only what may hold templates)."""
    path = tmp_path / "inventory.ini"
    path.write_text("[web]\nweb-1 warn_at=11\nweb-2 warn_at=12\n"
                    "[web:vars]\ntcp_audit_thresholds={\"close_wait_warn\": \"{{ warn_at }}\"}\n"
                    "[all:vars]\nansible_connection=local\nansible_python_interpreter=%s\n" % HOST_PYTHON)
    base = tmp_path / "reports"
    rc, out = run(playbook, str(path), base, "report")
    assert rc == 0, out
    doc = latest_doc(base)
    assert [doc["hosts"][name]["thresholds"]["close_wait_warn"] for name in ("web-1", "web-2")] == [11, 12]
    assert all(doc["hosts"][name]["status"] != "error" for name in ("web-1", "web-2"))
    bad = tmp_path / "bad.ini"
    bad.write_text(path.read_text().replace("warn_at=12", "warn_at=twelve"))
    rc, out = run(playbook, str(bad), tmp_path / "bad-reports", "report")
    assert rc == 0, out
    wrong = latest_doc(tmp_path / "bad-reports")["hosts"]
    assert wrong["web-1"]["thresholds"]["close_wait_warn"] == 11
    assert wrong["web-2"]["status"] == "error" and "close_wait_warn" in wrong["web-2"]["reason"], wrong["web-2"]
