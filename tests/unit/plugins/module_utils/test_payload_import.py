"""compile_each_file_once: the collection's modules imported from a zip archive (the shape of a module's
payload) are compiled once each, and every import, the finder's or not, comes out exactly as the standard
import system makes it: the same module, ``__file__``, ``__path__``, spec and error. Each case runs in a
fresh interpreter (payload_import_probe.py) on archives built here, under every Python 3 found on this
machine (this one's, /usr/bin/python3*, pyenv's)."""

import glob
import json
import os
import py_compile
import subprocess
import sys
import zipfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(HERE, "payload_import_probe.py")
FINDER_SOURCE = os.path.join(HERE, "..", "..", "..", "..", "plugins", "module_utils", "_payload_import.py")
UTILS = "ansible_collections/tcpops/timewait/plugins/module_utils/"
PACKAGE = "ansible_collections.tcpops.timewait.plugins.module_utils."
PACKAGES = ["ansible_collections/", "ansible_collections/tcpops/", "ansible_collections/tcpops/timewait/",
            "ansible_collections/tcpops/timewait/plugins/", UTILS]
ARCHIVE_FILES = {
    UTILS + "sample/__init__.py": "FROM_INIT = 1\n",
    UTILS + "sample/leaf.py": "from . import FROM_INIT\n\nVALUE = FROM_INIT + 1\n",
    UTILS + "sample/deeper/__init__.py": "",
    UTILS + "sample/deeper/leaf.py": "from ..leaf import VALUE as UP\n\nVALUE = UP + 1\n",
    UTILS + "sample/broken.py": "VALUE = 1\n\ndef broken(:\n    pass\n",
    UTILS + "sample/twin.py": "VALUE = 1\n",
    UTILS + "sample/both.py": "VALUE = 'source'\n",
    UTILS + "portion/": "",
    UTILS + "portion/only.py": "VALUE = 4\n",
    "other_package/__init__.py": "",
    "other_package/leaf.py": "VALUE = 5\n",
}
# bytecode made by this interpreter: another Python finds a magic number it does not take
BYTECODE = {UTILS + "sample/compiled.pyc": "VALUE = 'bytecode'\n", UTILS + "sample/both.pyc": "VALUE = 'bytecode'\n"}
SECOND_FILES = {UTILS + "sample/twin.py": "VALUE = 2\n", UTILS + "sample/only_second.py": "VALUE = 6\n"}
COMPILED_ONCE = ["sample/__init__.py", "sample/leaf.py", "sample/deeper/__init__.py", "sample/deeper/leaf.py",
                 "sample/broken.py", "sample/twin.py", "portion/only.py"]
NAMES = [PACKAGE + name for name in ("sample", "sample.leaf", "sample.deeper", "sample.deeper.leaf", "sample.broken",
                                     "sample.missing", "sample.twin", "sample.compiled", "sample.both",
                                     "portion.only")] + ["other_package.leaf"]


def _pythons():
    found = [sys.executable] + sorted(glob.glob("/usr/bin/python3.[0-9]*") + glob.glob(
        os.path.expanduser("~/.pyenv/versions/3.*/bin/python")))
    kept, versions = [], set()
    for python in found:
        if not os.access(python, os.X_OK) or python.endswith("-config"):
            continue
        done = subprocess.run([python, "-I", "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True, check=False)
        version = tuple(int(part) for part in done.stdout.split()) if done.returncode == 0 else ()
        if version >= (3, 8) and version not in versions:
            versions.add(version)
            kept.append(python)
    return kept


PYTHONS = _pythons()


def _zip(path, files):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in PACKAGES:
            archive.writestr(name + "__init__.py", "")
        for name, text in files.items():
            archive.writestr(name, text)


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """The archives and the directory the cases import from."""
    root = tmp_path_factory.mktemp("payload")
    files = dict(ARCHIVE_FILES)
    with open(FINDER_SOURCE) as source:
        files[UTILS + "_payload_import.py"] = source.read()
    for name, text in BYTECODE.items():
        source = root / "bytecode.py"
        source.write_text(text)
        compiled = root / "bytecode.pyc"
        py_compile.compile(str(source), str(compiled), doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        files[name] = compiled.read_bytes()
    _zip(str(root / "payload.zip"), files)
    _zip(str(root / "second.zip"), SECOND_FILES)
    on_disk = root / "on-disk-sample"
    on_disk.mkdir()
    (on_disk / "twin.py").write_text("VALUE = 3\n")
    return root


# case: (the archive as a relative path, the probe's options (a path under the fixture's directory), names)
CASES = {
    "archive": (False, [], NAMES),
    "relative archive path": (True, [], NAMES),
    "second archive after": (False, [("--last", "second.zip/" + UTILS + "sample")],
                             [PACKAGE + "sample.twin", PACKAGE + "sample.only_second"]),
    "second archive first": (False, [("--first", "second.zip/" + UTILS + "sample")],
                             [PACKAGE + "sample.twin", PACKAGE + "sample.leaf", PACKAGE + "sample.only_second"]),
    "file system first": (False, [("--first", "on-disk-sample")], [PACKAGE + "sample.twin", PACKAGE + "sample.leaf"]),
    "no importer cached": (False, [("--uncached", None)], [PACKAGE + "sample.leaf", PACKAGE + "sample.twin"]),
}


def _probe(python, place, case, how):
    relative, options, names = CASES[case]
    argv = [python, "-I", PROBE, "payload.zip" if relative else str(place / "payload.zip"), how]
    for option, value in options:
        argv += [option] if value is None else [option, str(place / value)]
    done = subprocess.run(argv + names, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          cwd=str(place), check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def probes(place):
    """{(python, case, how): what the probe printed}, each run once."""
    cache = {}

    def probe(python, case, how):
        key = (python, case, how)
        if key not in cache:
            cache[key] = _probe(python, place, case, how)
        return cache[key]
    return probe


def test_every_python_found_is_probed():
    assert sys.executable in PYTHONS


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_each_import_comes_out_as_the_standard_import_makes_it(python, case, probes):
    standard, with_finder = probes(python, case, "standard"), probes(python, case, "finder")
    for name in CASES[case][2]:
        assert with_finder["imports"][name] == standard["imports"][name], name


@pytest.mark.parametrize("python", PYTHONS)
def test_the_finder_is_installed_once_just_ahead_of_the_path_based_finder(python, probes):
    standard, with_finder = probes(python, "archive", "standard"), probes(python, "archive", "finder")
    expected = list(standard["finders"])
    if with_finder["loads_from_spec"]:
        expected.insert(expected.index("PathFinder"), "CompileOnceFinder")
    assert with_finder["finders"] == expected


def _archive_compiles(found, place, archive):
    prefix = str(place / archive) + "/"
    return dict((path[len(prefix):], count) for path, count in found["compiles"].items() if path.startswith(prefix))


@pytest.mark.parametrize("python", PYTHONS)
def test_the_collections_source_files_are_compiled_once_each_where_the_finder_runs(python, probes, place):
    standard = _archive_compiles(probes(python, "archive", "standard"), place, "payload.zip")
    with_finder = _archive_compiles(probes(python, "archive", "finder"), place, "payload.zip")
    if not probes(python, "archive", "finder")["loads_from_spec"]:
        reloaded = UTILS + "_payload_import.py"  # the probe reloads it to call it again
        assert dict(with_finder, **{reloaded: None}) == dict(standard, **{reloaded: None})
        return
    assert dict((name, with_finder[UTILS + name]) for name in COMPILED_ONCE) == dict.fromkeys(COMPILED_ONCE, 1)
    for name in ("other_package/__init__.py", "other_package/leaf.py"):
        assert with_finder[name] == standard[name], name


@pytest.mark.parametrize("python", PYTHONS)
def test_where_the_finder_steps_aside_the_compiles_are_the_standard_imports(python, probes, place):
    for case, archive in (("relative archive path", "payload.zip"), ("second archive first", "payload.zip")):
        standard = _archive_compiles(probes(python, case, "standard"), place, archive)
        with_finder = _archive_compiles(probes(python, case, "finder"), place, archive)
        assert with_finder.get(UTILS + "sample/leaf.py") == standard.get(UTILS + "sample/leaf.py"), case


def test_the_imports_themselves_worked(probes):
    imports = probes(sys.executable, "archive", "standard")["imports"]
    assert imports[PACKAGE + "sample.deeper.leaf"]["value"] == 3
    assert imports[PACKAGE + "sample.deeper.leaf"]["file"].endswith(UTILS + "sample/deeper/leaf.py")
    assert imports[PACKAGE + "sample.deeper"]["path"][0].endswith(UTILS + "sample/deeper")
    assert imports[PACKAGE + "sample.broken"]["error"] == "SyntaxError"
    assert imports[PACKAGE + "sample.broken"]["filename"].endswith(UTILS + "sample/broken.py")
    assert imports[PACKAGE + "sample.missing"]["error"] == "ModuleNotFoundError"
    assert imports[PACKAGE + "sample.compiled"]["value"] == "bytecode"
    assert imports[PACKAGE + "sample.compiled"]["file"].endswith(UTILS + "sample/compiled.pyc")
    assert imports[PACKAGE + "portion.only"]["value"] == 4
    assert imports["other_package.leaf"]["value"] == 5
    second_after = probes(sys.executable, "second archive after", "standard")["imports"]
    assert [second_after[PACKAGE + name]["value"] for name in ("sample.twin", "sample.only_second")] == [1, 6]
    second_first = probes(sys.executable, "second archive first", "standard")["imports"]
    assert [second_first[PACKAGE + name]["value"] for name in ("sample.twin", "sample.leaf")] == [2, 2]
    assert probes(sys.executable, "file system first", "standard")["imports"][PACKAGE + "sample.twin"]["value"] == 3
    uncached = probes(sys.executable, "no importer cached", "standard")["imports"]
    assert uncached[PACKAGE + "sample.leaf"]["error"] == "ModuleNotFoundError"
    relative = probes(sys.executable, "relative archive path", "standard")["imports"]
    assert relative[PACKAGE + "sample.leaf"]["file"] == "payload.zip/" + UTILS + "sample/leaf.py"
