# -*- coding: utf-8 -*-
# Copyright: tcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Import this collection's host code from a module's zip payload compiling each file once, not twice.

Ansible runs a module from a zip archive of its code. CPython's ``zipimporter`` compiles a source
file to name it while the import system builds the module's spec (``get_filename``), then compiles
it again to run it (https://github.com/python/cpython/issues/141276, open for 3.13 to 3.15). For the
host code the facts module loads that first compile is wasted time on every host of every run.

``compile_each_file_once`` puts a finder in ``sys.meta_path`` just ahead of the path-based finder
(the one that would have asked the ``zipimporter``). It answers only for this collection's modules
found in a zip archive: it names the file from the archive's table of contents and leaves loading
to the archive's own ``zipimporter``, so the module, its ``__file__`` and its ``__path__`` are the
ones ``zipimporter`` would give. Anything else (a module of another package,
code on the file system, a Python whose ``zipimporter`` cannot load from a spec, any surprise while
looking) is left to the standard import system. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys
import zipimport
from importlib.machinery import PathFinder
from importlib.util import spec_from_file_location

COLLECTION_PREFIX = "ansible_collections.tcpops.timewait."
LOOKUP_ERRORS = (zipimport.ZipImportError, OSError, AttributeError, TypeError, ValueError)


def _archive_importer(entry):
    """The ``zipimporter`` of ``entry`` (a path inside a zip archive), or None for any other entry."""
    importer = sys.path_importer_cache.get(entry)
    if isinstance(importer, zipimport.zipimporter):
        return importer
    if importer is not None:
        return None
    try:
        return zipimport.zipimporter(entry)
    except LOOKUP_ERRORS:
        return None


def _spec_in_archive(fullname, entry):
    importer = _archive_importer(entry)
    if importer is None:
        return None
    try:
        is_package = importer.is_package(fullname)
    except LOOKUP_ERRORS:
        return None
    path = "%s/%s%s" % (importer.archive, importer.prefix, fullname.rpartition(".")[2])
    location = path + "/__init__.py" if is_package else path + ".py"
    return spec_from_file_location(fullname, location, loader=importer,
                                   submodule_search_locations=[] if is_package else None)


class CompileOnceFinder:
    """Finds this collection's modules in the first entry of their package's path when it is a zip archive."""

    def find_spec(self, fullname, path=None, target=None):
        if not path or not fullname.startswith(COLLECTION_PREFIX):
            return None
        try:
            return _spec_in_archive(fullname, list(path)[0])
        except LOOKUP_ERRORS:
            return None


def compile_each_file_once():
    """Put ``CompileOnceFinder`` just ahead of the path-based finder, once, where ``zipimporter`` loads from a spec."""
    if not hasattr(zipimport.zipimporter, "exec_module"):
        return
    if any(isinstance(finder, CompileOnceFinder) for finder in sys.meta_path):
        return
    for index, finder in enumerate(sys.meta_path):
        if finder is PathFinder:
            sys.meta_path.insert(index, CompileOnceFinder())
            return
