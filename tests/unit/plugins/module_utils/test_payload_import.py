"""compile_each_file_once: the collection's modules imported from a zip archive (the shape of a module's
payload) are compiled once each and come out exactly as the standard import system makes them; every
other import is the standard import system's own. Each case runs in a fresh interpreter
(payload_import_probe.py) on an archive built here."""

import json
import os
import subprocess
import sys
import zipfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(HERE, "payload_import_probe.py")
FINDER_SOURCE = os.path.join(HERE, "..", "..", "..", "..", "plugins", "module_utils", "_payload_import.py")
UTILS = "ansible_collections/tcpops/timewait/plugins/module_utils/"
PACKAGE = "ansible_collections.tcpops.timewait.plugins.module_utils."
ARCHIVE_FILES = {
    "ansible_collections/__init__.py": "",
    "ansible_collections/tcpops/__init__.py": "",
    "ansible_collections/tcpops/timewait/__init__.py": "",
    "ansible_collections/tcpops/timewait/plugins/__init__.py": "",
    UTILS + "__init__.py": "",
    UTILS + "sample/__init__.py": "FROM_INIT = 1\n",
    UTILS + "sample/leaf.py": "from . import FROM_INIT\n\nVALUE = FROM_INIT + 1\n",
    UTILS + "sample/deeper/__init__.py": "",
    UTILS + "sample/deeper/leaf.py": "from ..leaf import VALUE as UP\n\nVALUE = UP + 1\n",
    UTILS + "sample/broken.py": "VALUE = 1\n\ndef broken(:\n    pass\n",
    UTILS + "portion/": "",
    UTILS + "portion/only.py": "VALUE = 4\n",
    "other_package/__init__.py": "",
    "other_package/leaf.py": "VALUE = 5\n",
}
NAMES = [PACKAGE + "sample", PACKAGE + "sample.leaf", PACKAGE + "sample.deeper", PACKAGE + "sample.deeper.leaf",
         PACKAGE + "sample.broken", PACKAGE + "sample.missing", PACKAGE + "portion.only", "other_package.leaf"]
LOADS_FROM_SPEC = sys.version_info >= (3, 10)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("payload") / "payload.zip")
    with open(FINDER_SOURCE) as source:
        finder = source.read()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as payload:
        for name, text in ARCHIVE_FILES.items():
            payload.writestr(name, text)
        payload.writestr(UTILS + "_payload_import.py", finder)
    return path


def _probe(archive, how):
    done = subprocess.run([sys.executable, "-I", PROBE, archive, how] + NAMES, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def standard(archive):
    return _probe(archive, "standard")


@pytest.fixture(scope="module")
def with_finder(archive):
    return _probe(archive, "finder")


def test_the_finder_is_installed_once_just_ahead_of_the_path_based_finder(with_finder, standard):
    expected = list(standard["finders"])
    if LOADS_FROM_SPEC:
        expected.insert(expected.index("PathFinder"), "CompileOnceFinder")
    assert with_finder["finders"] == expected


@pytest.mark.parametrize("name", NAMES)
def test_each_import_comes_out_as_the_standard_import_system_makes_it(name, with_finder, standard):
    assert with_finder["imports"][name] == standard["imports"][name]


def test_the_imports_themselves_worked(standard):
    imports = standard["imports"]
    assert imports[PACKAGE + "sample.deeper.leaf"]["value"] == 3
    assert imports[PACKAGE + "sample.deeper.leaf"]["file"].endswith(UTILS + "sample/deeper/leaf.py")
    assert imports[PACKAGE + "sample.deeper"]["path"][0].endswith(UTILS + "sample/deeper")
    assert imports[PACKAGE + "sample.broken"]["error"] == "SyntaxError"
    assert imports[PACKAGE + "sample.broken"]["filename"].endswith(UTILS + "sample/broken.py")
    assert imports[PACKAGE + "sample.missing"]["error"] == "ModuleNotFoundError"
    assert imports[PACKAGE + "portion.only"]["value"] == 4
    assert imports["other_package.leaf"]["value"] == 5


def test_the_collections_files_are_compiled_once_each(with_finder, standard):
    if not LOADS_FROM_SPEC:
        assert with_finder["compiles"] == standard["compiles"]
        return
    compiles = with_finder["compiles"]
    for name in ("sample/__init__.py", "sample/leaf.py", "sample/deeper/__init__.py", "sample/deeper/leaf.py",
                 "sample/broken.py", "portion/only.py"):
        assert compiles[UTILS + name] == 1, (name, compiles)


def test_what_the_finder_leaves_alone_compiles_as_before(with_finder, standard):
    for name in ("other_package/__init__.py", "other_package/leaf.py", UTILS + "_payload_import.py"):
        assert with_finder["compiles"][name] == standard["compiles"][name], name
