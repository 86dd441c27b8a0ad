"""The room a run needs, judged from a file system's figures (statvfs results made here); real full, inode-less
and read-only file systems are refused in tests/integration/test_report_dirs.py."""

import os
import string
import tempfile

import pytest

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet, free_space
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import files

KIB = 1024


@pytest.fixture
def statvfs(monkeypatch):
    """``statvfs(bavail=..., favail=..., ...)`` makes every file system report those figures (4 KiB blocks,
    root's reserve of 100 blocks and 10 inodes beyond what others may use)."""
    def set_figures(bavail, favail=1000, frsize=4 * KIB, blocks=10 ** 6, files_total=10 ** 6, flag=0, euid=1000):
        figures = os.statvfs_result((frsize, frsize, blocks, bavail + 100, bavail, files_total, favail + 10, favail,
                                     flag, 255))
        monkeypatch.setattr(os, "statvfs", lambda path: figures)
        monkeypatch.setattr(os, "geteuid", lambda: euid)
    return set_figures


def reports(host_count, runs=1):
    return free_space.problems("tcp_audit_report_dir", "/srv/r", "/srv", free_space.REPORTS, host_count, runs)


@pytest.mark.parametrize("count, down, up", [(0, "0 bytes", "0 bytes"), (1023, "1023 bytes", "1023 bytes"),
                                             (1024, "1.0 KiB", "1.0 KiB"), (29 * KIB, "29 KiB", "29 KiB"),
                                             (int(69.95 * KIB), "69 KiB", "70 KiB"),
                                             (int(4.31 * KIB), "4.3 KiB", "4.4 KiB"),
                                             (3 * KIB * KIB + 400 * KIB, "3.3 MiB", "3.4 MiB"),
                                             (5 * KIB ** 4, "5120 GiB", "5120 GiB")])
def test_sizes_read_as_people_read_them_free_rounded_down_and_needed_up(count, down, up):
    assert (free_space.size(count), free_space.size(count, up=True)) == (down, up)


def test_below_the_least_the_reports_take_is_refused_naming_both_figures(statvfs):
    # 40 hosts: 8 KiB and 512 bytes per host, over the 7 blocks of its files
    statvfs(bavail=6)
    assert reports(40) == (["tcp_audit_report_dir: the file system of /srv/r has 24 KiB free; the reports of 40 hosts "
                            "take at least 28 KiB: free space there or choose another directory"], [])
    statvfs(bavail=10)
    assert reports(1000)[0] == ["tcp_audit_report_dir: the file system of /srv/r has 40 KiB free; the reports of 1000 "
                                "hosts take at least 508 KiB: free space there or choose another directory"]


def test_between_the_least_and_the_usual_is_a_warning_only(statvfs):
    statvfs(bavail=7)
    assert reports(40) == ([], ["tcp_audit_report_dir: the file system of /srv/r has 28 KiB free; the reports of 40 "
                                "hosts usually take about 684 KiB in full mode: the run may end unable to write them"])
    statvfs(bavail=171)
    assert reports(40) == ([], [])


def test_remediate_writes_two_runs(statvfs):
    statvfs(bavail=14)
    assert reports(1, runs=2) == ([], ["tcp_audit_report_dir: the file system of /srv/r has 56 KiB free; the reports "
                                       "of 1 host usually take about 120 KiB in full mode: the run may end unable to "
                                       "write them"])
    statvfs(bavail=13)
    assert "the reports of 1 host take at least 56 KiB" in reports(1, runs=2)[0][0]
    statvfs(bavail=10 ** 5, favail=13)
    assert "has 13 inodes free; a run creates at least 14 files" in reports(1, runs=2)[0][0]


def test_root_counts_the_reserved_blocks_and_inodes(statvfs):
    statvfs(bavail=0, favail=0, euid=0)  # 100 blocks and 10 inodes reserved
    assert reports(1) == ([], [])
    statvfs(bavail=0, favail=0)
    assert "has 0 inodes free" in reports(1)[0][0]


def test_too_few_inodes_is_refused_and_a_file_system_counting_none_is_not(statvfs):
    statvfs(bavail=10 ** 5, favail=6)
    assert reports(1) == (["tcp_audit_report_dir: the file system of /srv/r has 6 inodes free; a run creates at least "
                           "7 files: free some there or choose another directory"], [])
    statvfs(bavail=10 ** 5, favail=0, files_total=0)  # btrfs and others count no inodes
    assert reports(1) == ([], [])


def test_a_file_system_that_tells_no_size_or_cannot_be_read_is_not_judged(statvfs, monkeypatch):
    statvfs(bavail=0, blocks=0)  # FUSE without statfs
    assert reports(40) == ([], [])

    def unreadable(path):
        raise OSError(2, "No such file or directory")
    monkeypatch.setattr(os, "statvfs", unreadable)
    assert reports(40) == ([], [])
    assert free_space.unwritable("/srv/link") == "not reachable: No such file or directory"


def test_a_large_allocation_unit_counts_as_4_kib_per_file(statvfs):
    # NFS reports its transfer size (1 MiB here): 7 small files do not take 7 MiB
    statvfs(bavail=1, frsize=KIB * KIB)
    assert reports(40) == ([], [])


def test_unwritable_names_a_read_only_file_system(statvfs):
    statvfs(bavail=10, flag=os.ST_RDONLY)
    assert free_space.unwritable("/srv") == "on a read-only file system"
    statvfs(bavail=10)
    assert free_space.unwritable(tempfile.gettempdir()) is None


def test_the_slice_and_the_textfile_need_one_file_and_get_no_warning(statvfs):
    statvfs(bavail=0)
    assert free_space.problems("tcp_audit_textfile_dir", "/t", "/t", free_space.TEXTFILE, 10) == (
        ["tcp_audit_textfile_dir: the file system of /t has 0 bytes free; the .prom of 10 hosts takes at least 4.0 KiB: "
         "free space there or choose another directory"], [])
    statvfs(bavail=1)
    assert free_space.problems("tcp_audit_textfile_dir", "/t", "/t", free_space.TEXTFILE, 10) == ([], [])
    assert free_space.problems("tcp_audit_report_dir", "/r", "/r", free_space.SLICE, 10) == ([], [])
    statvfs(bavail=0)
    assert free_space.problems("tcp_audit_report_dir", "/r", "/r", free_space.SLICE, None) == (
        ["tcp_audit_report_dir: the file system of /r has 0 bytes free; the slice of a run takes at least 4.0 KiB: "
         "free space there or choose another directory"], [])


def _least_hosts(count):
    """``count`` unreachable hosts with the shortest names and no message: the least a host can take."""
    def name(index):
        letters = ""
        index += 1
        while index:
            letters += string.ascii_lowercase[index % 26]
            index //= 26
        return letters
    return dict((name(index), fleet.host_entry({"unreachable": True})) for index in range(count))


@pytest.mark.parametrize("count", [1, 1000])
def test_the_least_each_need_counts_is_no_more_than_the_writers_write(count, tmp_path):
    hosts = _least_hosts(count)
    rendered = files.render_reports(fleet.build_document(hosts, "2026-01-01T00:00:00Z"), 0)
    written = sum(len(text.encode("utf-8")) for text in rendered.values())
    assert written >= free_space.REPORTS.fixed + count * free_space.REPORTS.per_host
    assert len(rendered["prom"].encode("utf-8")) >= free_space.TEXTFILE.fixed + count * free_space.TEXTFILE.per_host
    slice_path = files.write_slice(str(tmp_path), "r", hosts, sorted(hosts))
    assert os.path.getsize(slice_path) >= free_space.SLICE.fixed + count * free_space.SLICE.per_host
    assert free_space.REPORTS.files == len(files.REPORT_NAMES) + 2  # the marker and the run's directory
