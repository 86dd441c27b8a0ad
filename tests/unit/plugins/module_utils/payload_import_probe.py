"""Run by test_payload_import.py in a fresh interpreter (any Python 3.8 or later): import modules from a
zip archive the way a module's payload is imported, and print as JSON what the import system made of
each (its spec, ``__file__``, ``__path__``, the error it raised) and how many times each file of the
archives was compiled.

    payload_import_probe.py ARCHIVE standard|finder [--first ENTRY] [--last ENTRY] [--uncached] NAME...

``finder`` calls compile_each_file_once (twice, and once more after reloading its module);
``--first``/``--last`` put ENTRY before or after the entries of ``SAMPLE``'s path, as
``pkgutil.extend_path`` would; ``--uncached`` caches "no importer" for the first one, as the path-based
finder does for an entry no path hook takes.
"""

import argparse
import collections
import importlib
import json
import sys
import zipimport

SAMPLE = "ansible_collections.tcpops.timewait.plugins.module_utils.sample"
COMPILES = collections.Counter()


def _count_compiles(event, args):
    if event == "compile" and args[1] is not None:
        COMPILES[str(args[1])] += 1


def _spec_view(module):
    spec = module.__spec__
    return {
        "file": getattr(module, "__file__", None),
        "path": list(module.__path__) if hasattr(module, "__path__") else None,
        "origin": spec.origin,
        "search": None if spec.submodule_search_locations is None else list(spec.submodule_search_locations),
        "has_location": spec.has_location,
        "cached": spec.cached,
        "parent": spec.parent,
        "loader": type(spec.loader).__name__,
        "loader_archive": getattr(spec.loader, "archive", None),
        "loader_prefix": getattr(spec.loader, "prefix", None),
    }


def _import_view(name):
    try:
        module = importlib.import_module(name)
    except (ImportError, SyntaxError) as exc:
        return {"error": type(exc).__name__, "message": str(exc),
                "filename": getattr(exc, "filename", None), "lineno": getattr(exc, "lineno", None)}
    view = _spec_view(module)
    view["value"] = getattr(module, "VALUE", None)
    return view


def _arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("how", choices=["standard", "finder"])
    parser.add_argument("--first")
    parser.add_argument("--last")
    parser.add_argument("--uncached", action="store_true")
    parser.add_argument("names", nargs="+")
    return parser.parse_args()


def _shape_sample_path(arguments):
    if not (arguments.first or arguments.last or arguments.uncached):
        return
    sample = importlib.import_module(SAMPLE)
    if arguments.first:
        sample.__path__.insert(0, arguments.first)
    if arguments.last:
        sample.__path__.append(arguments.last)
    if arguments.uncached:
        sys.path_importer_cache[sample.__path__[0]] = None


def main():
    arguments = _arguments()
    sys.path.insert(0, arguments.archive)
    sys.addaudithook(_count_compiles)
    from ansible_collections.tcpops.timewait.plugins.module_utils import _payload_import
    if arguments.how == "finder":
        _payload_import.compile_each_file_once()
        _payload_import.compile_each_file_once()
        importlib.reload(_payload_import).compile_each_file_once()
    finders = [getattr(finder, "__name__", type(finder).__name__) for finder in sys.meta_path]
    _shape_sample_path(arguments)
    imports = dict((name, _import_view(name)) for name in arguments.names)
    print(json.dumps({
        "imports": imports,
        "finders": finders,
        "loads_from_spec": hasattr(zipimport.zipimporter, "exec_module"),
        "compiles": dict(COMPILES),
    }))


if __name__ == "__main__":
    main()
