"""Run by test_payload_import.py in a fresh interpreter: import modules from a zip archive the way a
module's payload is imported, and print as JSON what the import system made of each (its spec,
``__file__``, ``__path__``, the error it raised) and how many times each file of the archive was
compiled.

argv: the archive, ``finder`` or ``standard`` (call compile_each_file_once or not), the module names.
"""

import collections
import json
import sys

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
        "loader_prefix": getattr(spec.loader, "prefix", None),
    }


def _import_view(name):
    try:
        module = __import__(name, fromlist=["_"])
    except (ImportError, SyntaxError) as exc:
        return {"error": type(exc).__name__, "message": str(exc),
                "filename": getattr(exc, "filename", None), "lineno": getattr(exc, "lineno", None)}
    view = _spec_view(module)
    view["value"] = getattr(module, "VALUE", None)
    return view


def main():
    archive, how, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    sys.path.insert(0, archive)
    sys.addaudithook(_count_compiles)
    from ansible_collections.tcpops.timewait.plugins.module_utils import _payload_import
    if how == "finder":
        _payload_import.compile_each_file_once()
        _payload_import.compile_each_file_once()
    finders = [getattr(finder, "__name__", type(finder).__name__) for finder in sys.meta_path]
    imports = dict((name, _import_view(name)) for name in names)
    prefix = archive + "/"
    print(json.dumps({
        "imports": imports,
        "finders": finders,
        "compiles": dict((path[len(prefix):], count) for path, count in COMPILES.items() if path.startswith(prefix)),
    }))


if __name__ == "__main__":
    main()
