# -*- coding: utf-8 -*-
"""The one reader of host files: regular files only, capped, never blocking, decoded with replacement."""

import os
import socket

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils import _host_files as hf


def test_regular_file_read_with_invalid_utf8_replaced(tmp_path):
    path = tmp_path / "x.conf"
    path.write_bytes(b"a = \xff\xfe\n")
    assert hf.read_text(str(path)) == u"a = \ufffd\ufffd\n"


def test_proc_files_have_size_zero_and_are_still_read():
    assert os.stat("/proc/self/status").st_size == 0
    assert hf.read_text("/proc/self/status").startswith("Name:")


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = str(tmp_path / "81-fifo.conf")
    os.mkfifo(fifo)  # nobody writes: a blocking open or read would hang the test
    with pytest.raises(hf.HostFileError, match="81-fifo.conf: a FIFO, not a regular file"):
        hf.read_text(fifo)


def test_link_to_dev_zero_is_refused(tmp_path):
    link = str(tmp_path / "81-x.conf")
    os.symlink("/dev/zero", link)
    with pytest.raises(hf.HostFileError, match="81-x.conf: a character device"):
        hf.read_text(link)


def test_directory_and_socket_file_are_refused(tmp_path):
    directory = tmp_path / "d.conf"
    directory.mkdir()
    with pytest.raises(hf.HostFileError, match="a directory"):
        hf.read_text(str(directory))
    listener = socket.socket(socket.AF_UNIX)
    try:
        listener.bind(str(tmp_path / "s.conf"))
        with pytest.raises(hf.HostFileError, match="s.conf"):
            hf.read_text(str(tmp_path / "s.conf"))
    finally:
        listener.close()


def test_dangling_link_is_absent_and_a_link_loop_is_refused(tmp_path):
    os.symlink(str(tmp_path / "nowhere"), str(tmp_path / "dangling.conf"))
    with pytest.raises(hf.HostFileError) as dangling:
        hf.read_text(str(tmp_path / "dangling.conf"))
    assert hf.is_absent(dangling.value)
    os.symlink("loop-b.conf", str(tmp_path / "loop-a.conf"))
    os.symlink("loop-a.conf", str(tmp_path / "loop-b.conf"))
    with pytest.raises(hf.HostFileError, match="loop-a.conf: Too many levels of symbolic links") as loop:
        hf.read_text(str(tmp_path / "loop-a.conf"))
    assert not hf.is_absent(loop.value)


def test_nul_in_a_name_is_an_error_not_a_value_error():
    with pytest.raises(hf.HostFileError, match="NUL byte"):
        hf.read_text("/proc/sys/net/ipv4/tcp\x00fin_timeout")


def test_file_over_the_cap_is_refused_after_reading_cap_plus_one(tmp_path):
    path = tmp_path / "big.conf"
    path.write_bytes(b"x" * 101)
    assert len(hf.read_bytes(str(path), 101)) == 101
    with pytest.raises(hf.HostFileError, match="larger than 100 bytes: not read"):
        hf.read_bytes(str(path), 100)


def test_proc_file_larger_than_a_page_is_read_whole():
    """/proc seq files answer a read with at most their buffer: the reads go on to the end."""
    with open("/proc/self/smaps", "rb") as handle:  # many pages for any process
        expected_start = handle.read(200)
    data = hf.read_bytes("/proc/self/smaps")
    assert len(data) > 3 * 4096
    assert data.startswith(expected_start)
    assert data.endswith(b"\n")


def test_sysctl_value_matches_one_whole_read():
    path = "/proc/sys/net/ipv4/ip_local_port_range"
    with open(path, "rb") as handle:
        assert hf.read_bytes(path) == handle.read()


def test_short_reads_are_joined_and_later_reads_ask_no_more_than_came(tmp_path, monkeypatch):
    path = tmp_path / "short.conf"
    path.write_bytes(b"abcdefghij" * 1000)
    asked = []
    real_read = os.read

    def short_read(fd, size):
        asked.append(size)
        return real_read(fd, min(size, 3000))  # a source that answers in short pieces

    monkeypatch.setattr(hf.os, "read", short_read)
    assert hf.read_bytes(str(path), 20000) == b"abcdefghij" * 1000
    assert asked == [20001, 4095, 4095, 4095, 4095]
    del asked[:]
    with pytest.raises(hf.HostFileError, match="larger than 9999 bytes: not read"):
        hf.read_bytes(str(path), 9999)
    assert asked == [10000, 4095, 4000, 1000]  # the last reads ask only for what reaches cap + 1


def test_a_read_error_midway_is_an_error_naming_the_file_and_closes_it(tmp_path, monkeypatch):
    import errno

    path = tmp_path / "eio.conf"
    path.write_bytes(b"x" * 10000)
    real_read, reads, closed = os.read, [], []
    real_close = os.close

    def failing_read(fd, size):
        reads.append(fd)
        if len(reads) == 2:
            raise OSError(errno.EIO, "Input/output error")
        return real_read(fd, min(size, 3000))

    def close(fd):
        closed.append(fd)
        real_close(fd)

    monkeypatch.setattr(hf.os, "read", failing_read)
    monkeypatch.setattr(hf.os, "close", close)
    with pytest.raises(hf.HostFileError, match="eio.conf: Input/output error"):
        hf.read_bytes(str(path))
    assert closed == [reads[0]]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
def test_unreadable_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "secret.conf"
    path.write_text("a = 1\n")
    os.chmod(str(path), 0o600)
    os.chmod(str(tmp_path), 0o755)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child drops to nobody and reports what the reader said
        try:
            os.setuid(65534)
            try:
                hf.read_text(str(path))
                message = "read"
            except hf.HostFileError as exc:
                message = str(exc)
            os.write(writer, message.encode())
        finally:
            os._exit(0)
    os.close(writer)
    output = os.read(reader, 4096)
    os.close(reader)
    os.waitpid(child, 0)
    assert output.decode().strip() == "%s: Permission denied" % path


def test_printable_escapes_control_characters_and_cuts():
    assert hf.printable(u"a\nb\x00c\x1bd") == "a\\x0ab\\x00c\\x1bd"
    assert hf.printable(u"\ufffd ok") == u"\ufffd ok"
    assert hf.printable("x" * 100, 10) == "x" * 10 + "..."


def test_problems_keep_the_first_and_count_the_rest():
    problems = hf.Problems(3)
    for number in range(100000):
        problems.add("line %d" % number)
    assert problems.messages == ["line 0", "line 1", "line 2"]
    assert (problems.total, problems.omitted()) == (100000, 99997)
