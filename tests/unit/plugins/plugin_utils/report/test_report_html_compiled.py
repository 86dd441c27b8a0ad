"""The page template compiled once per controller and user: Jinja2's compiled code kept in a directory of
this user's alone, read only from files nobody else could have written, and a page written the same
when that cache is damaged, foreign, or cannot be made."""

import os
import shutil

import jinja2
import pytest

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import compiled_templates
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import html_report
from ansible_collections.tcpops.timewait.tests.unit.fixtures.audit_files import load

NOBODY = 65534


def _doc():
    result = {"ansible_facts": {"tcp_state": load("tcp_state_clean.json")}}
    return fleet.build_document({"web-1": fleet.host_entry(result)}, "2026-01-01T00:00:00Z")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / compiled_templates.CACHE_NAME


@pytest.fixture
def compiles(monkeypatch):
    """How many times a template was compiled since the fixture was made."""
    count = []
    real = jinja2.Environment.compile

    def counted(self, *args, **kwargs):
        count.append(1)
        return real(self, *args, **kwargs)
    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    return count


def _entry(cache):
    (entry,) = cache.iterdir()
    return entry


def test_the_second_run_reads_the_compiled_template(cache, compiles):
    first = html_report.render(_doc())
    assert len(compiles) == 1
    assert oct(cache.stat().st_mode & 0o777) == "0o700" and oct(_entry(cache).stat().st_mode & 0o777) == "0o600"
    assert html_report.render(_doc()) == first
    assert len(compiles) == 1


@pytest.mark.parametrize("damage", [
    lambda data: b"not a compiled template",
    lambda data: data[:40],  # cut inside the pickled checksum
    lambda data: data[:60] + bytes([data[60] ^ 0xFF]) + data[61:],
    lambda data: data[:-100],  # cut inside the code
])
def test_a_damaged_entry_is_compiled_again(cache, compiles, damage):
    first = html_report.render(_doc())
    entry = _entry(cache)
    entry.write_bytes(damage(entry.read_bytes()))
    assert html_report.render(_doc()) == first
    assert len(compiles) == 2


@pytest.mark.parametrize("exposed", ["group-writable", "world-readable", "a link", "not ours"])
def test_an_entry_someone_else_could_have_written_is_never_read(cache, compiles, exposed, tmp_path):
    first = html_report.render(_doc())
    entry = _entry(cache)
    if exposed == "group-writable":
        entry.chmod(0o620)
    elif exposed == "world-readable":
        entry.chmod(0o604)
    elif exposed == "a link":
        elsewhere = tmp_path / "elsewhere.cache"
        shutil.move(str(entry), str(elsewhere))
        entry.symlink_to(elsewhere)
    else:
        if os.getuid() != 0:
            pytest.skip("needs root to give the entry to another user")
        os.chown(str(entry), NOBODY, NOBODY)
    # the entry is intact: only its owner, mode or kind keeps it from being read
    assert html_report.render(_doc()) == first
    assert len(compiles) == 2


def test_a_cache_directory_others_can_enter_or_that_is_not_ours_is_not_used(cache):
    html_report.render(_doc())
    cache.chmod(0o755)
    assert html_report.environment().bytecode_cache is None
    cache.chmod(0o700)
    assert html_report.environment().bytecode_cache is not None
    if os.getuid() == 0:
        os.chown(str(cache), NOBODY, NOBODY)
        assert html_report.environment().bytecode_cache is None


def test_other_environment_options_or_jinja2_versions_never_share_an_entry(cache, monkeypatch):
    loader = jinja2.DictLoader({"t": "{% if true %}\nA\n{% endif %}\nB"})

    def render(**options):
        bytecode_cache = compiled_templates.compiled_templates(options)
        return jinja2.Environment(loader=loader, bytecode_cache=bytecode_cache, **options).get_template("t").render()

    trimmed = render(trim_blocks=True)
    assert render(trim_blocks=False) != trimmed  # compiled apart, not the trimmed code read back
    assert render(trim_blocks=True) == trimmed
    assert len(list(cache.iterdir())) == 2
    monkeypatch.setattr(jinja2, "__version__", "0.0.0")
    render(trim_blocks=True)
    assert len(list(cache.iterdir())) == 3


def test_a_cache_that_cannot_be_made_only_means_compiling_every_time(tmp_path, monkeypatch, compiles):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    first = html_report.render(_doc())
    assert html_report.render(_doc()) == first
    assert len(compiles) == 2
