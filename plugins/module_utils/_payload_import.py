# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Import this collection's host code from a module's zip payload compiling each file once, not twice.

Ansible runs a module from a zip archive of its code. CPython's ``zipimporter`` compiles a source
file to name it while the import system builds the module's spec (``get_filename``), then compiles
it again to run it (https://github.com/python/cpython/issues/141276). For the host code a module
loads, that first compile is wasted time on every host of every run.

``compile_each_file_once`` puts a finder in ``sys.meta_path`` just ahead of the path-based finder
(the one that would have asked the ``zipimporter``). It answers only for this collection's modules
in the first entry of their package's path, and only where that entry is inside a zip archive with
an absolute path and the module has source and no bytecode there (what Ansible's payloads hold). It
names the file from the archive's table of contents and leaves loading to the archive's own
``zipimporter``, cached as the path-based finder caches it, so the module, its ``__file__`` and its
``__path__`` are the ones the standard import would give. Everything else (another package, code on
the file system, an entry the path-based finder has no importer for, a Python whose ``zipimporter``
has no ``exec_module``) is left to the standard import, and so is a name whose lookup fails here: it
looks again and gives its own answer or error. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import zipimport
from importlib.machinery import PathFinder
from importlib.util import spec_from_file_location

COLLECTION_PREFIX = __name__.rpartition(".plugins.")[0] + "."
LOOKUP_ERRORS = (ImportError, OSError, TypeError, ValueError)
NOT_CACHED = object()


def _archive_importer(entry):
    """The ``zipimporter`` the path-based finder has, or would make first, for ``entry``; None for an
    entry it caches something else for. Raises ``ZipImportError`` for an entry outside an archive."""
    importer = sys.path_importer_cache.get(entry, NOT_CACHED)
    if importer is NOT_CACHED:
        if not sys.path_hooks or sys.path_hooks[0] is not zipimport.zipimporter:
            return None
        importer = sys.path_importer_cache.setdefault(entry, zipimport.zipimporter(entry))
    return importer if isinstance(importer, zipimport.zipimporter) else None


def _spec_in_archive(fullname, entry):
    """The spec ``zipimporter`` would give ``fullname`` in ``entry``, made without compiling; None where the
    standard import could name it otherwise (a relative archive path, bytecode in the archive)."""
    importer = _archive_importer(entry)
    if importer is None or not os.path.isabs(importer.archive):
        return None
    is_package = importer.is_package(fullname)
    path = os.path.join(importer.archive, importer.prefix + fullname.rpartition(".")[2])
    location = os.path.join(path, "__init__.py") if is_package else path + ".py"
    try:
        importer.get_data(location + "c")
    except OSError:
        return spec_from_file_location(fullname, location, loader=importer,
                                       submodule_search_locations=[] if is_package else None)
    return None


class CompileOnceFinder:
    """Finds this collection's modules in a zip archive as ``zipimporter`` does, without compiling them."""

    def find_spec(self, fullname, path=None, target=None):
        if path is None or not fullname.startswith(COLLECTION_PREFIX):
            return None
        entry = next(iter(path), None)
        if entry is None:
            return None
        try:
            return _spec_in_archive(fullname, entry)
        except LOOKUP_ERRORS:
            return None


def _installed():
    return any(type(finder).__name__ == CompileOnceFinder.__name__ for finder in sys.meta_path)


def compile_each_file_once():
    """Put ``CompileOnceFinder`` just ahead of the path-based finder, once, where ``zipimporter`` has
    ``exec_module`` (Python 3.10 and later)."""
    if not hasattr(zipimport.zipimporter, "exec_module") or _installed():
        return
    for index, finder in enumerate(sys.meta_path):
        if finder is PathFinder:
            sys.meta_path.insert(index, CompileOnceFinder())
            return
