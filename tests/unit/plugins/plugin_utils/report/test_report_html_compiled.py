"""The page template compiled once per machine: Jinja2's bytecode cache in its private directory under the
temp directory, and a page written the same when that cache is damaged, not ours or not writable."""

import os
import tempfile

import jinja2
import pytest

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.tests.unit.fixtures.audit_files import load
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import html_report


def _doc():
    result = {"ansible_facts": {"tcp_state": load("tcp_state_clean.json")}}
    return fleet.build_document({"web-1": fleet.host_entry(result)}, "2026-01-01T00:00:00Z")


@pytest.fixture
def temp_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _cache_dir(temp_dir):
    return temp_dir / ("_jinja2-cache-%d" % os.getuid())


def _compiling_fails(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("the template was compiled again")
    monkeypatch.setattr(jinja2.Environment, "compile", refuse)


def test_the_second_run_reads_the_compiled_template(temp_dir, monkeypatch):
    first = html_report.render(_doc())
    entries = list(_cache_dir(temp_dir).iterdir())
    assert len(entries) == 1 and oct(_cache_dir(temp_dir).stat().st_mode & 0o777) == "0o700"
    _compiling_fails(monkeypatch)
    assert html_report.render(_doc()) == first


def test_a_damaged_cache_entry_is_compiled_again(temp_dir):
    first = html_report.render(_doc())
    for entry in _cache_dir(temp_dir).iterdir():
        entry.write_bytes(b"not a compiled template")
    assert html_report.render(_doc()) == first
    (entry,) = _cache_dir(temp_dir).iterdir()
    entry.write_bytes(entry.read_bytes()[:40])  # right header, truncated code
    assert html_report.render(_doc()) == first


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to make the directory another user's")
def test_a_cache_directory_that_is_not_ours_is_never_read(temp_dir, monkeypatch):
    first = html_report.render(_doc())
    os.chown(str(_cache_dir(temp_dir)), 65534, 65534)
    for entry in _cache_dir(temp_dir).iterdir():
        entry.write_bytes(b"planted by another user")
    compiled = []
    real_compile = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda self, *args, **kwargs: compiled.append(1) or real_compile(self, *args, **kwargs))
    assert html_report.render(_doc()) == first
    assert compiled


def test_an_unwritable_temp_directory_only_means_compiling_every_time(temp_dir, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(temp_dir / "missing" / "deeper"))
    first = html_report.render(_doc())
    assert html_report.render(_doc()) == first
    assert not (temp_dir / "missing").exists()
