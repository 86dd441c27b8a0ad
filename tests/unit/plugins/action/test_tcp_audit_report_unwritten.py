"""A run whose files cannot be written still ends with its outcome: the failed result carries the summary, the
table and each host's status and reason, so the job's output keeps what the disk could not (the fleet was
gathered). The reports' side of it runs on a real full file system in tests/integration/test_report_dirs.py."""

import pytest

from ..child import child_cases


@pytest.fixture(scope="module")
def found():
    return child_cases(__file__, "unwritten_cases.py")


def test_a_slice_on_a_full_disk_fails_naming_the_run_and_keeps_every_hosts_outcome(found):
    result = found["full"]
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == ("cannot write the slice of run nightly-1 into /srv/reports: [Errno 28] No space left on "
                             "device; the outcome of the 2 hosts is in this result (summary, table, hosts)")
    assert result["run_id"] == "nightly-1" and "slice_file" not in result
    assert result["summary"]["by_status"]["unreachable"] == 1 and result["summary"]["by_status"]["error"] == 1
    assert result["hosts"]["web1"]["status"] == "unreachable"
    assert "Connection refused" in result["hosts"]["web1"]["reason"]
    assert result["hosts"]["web2"]["status"] == "error" and "python3: not found" in result["hosts"]["web2"]["reason"]
    assert result["table"][0].split() == ["HOST", "STATUS", "FAIL", "WARN", "TIME_WAIT", "CLOSE_WAIT", "FINDINGS"]
    assert result["table"][-1] == "2 hosts: 1 error, 1 unreachable"


def test_a_failed_slice_publishes_no_stats_for_the_workflow(found):
    # Ansible publishes ansible_stats from successful tasks only; a failed one has none to give
    assert "ansible_stats" not in found["full"] and "stats" not in found["full"]


def test_a_slice_refused_where_it_would_go_keeps_the_outcome_too(found):
    result = found["refused"]
    assert result["failed"] is True
    assert result["msg"].startswith("cannot write the slice of run nightly-1: runs-in-progress is a file; the outcome")
    assert sorted(result["hosts"]) == ["web1", "web2"] and result["table"][-1] == "2 hosts: 1 error, 1 unreachable"
