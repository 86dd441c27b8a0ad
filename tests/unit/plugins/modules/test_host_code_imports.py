"""Every module that runs the collection's host code installs the compile-once finder before it imports
that code: an import above the call would be compiled twice on every host (see _payload_import)."""

import ast
import os

MODULES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules")
HOST_CODE = "ansible_collections.tcpops.timewait.plugins.module_utils."
FINDER = HOST_CODE + "_payload_import"


def _host_code_steps(tree):
    """The module's top-level statements that import host code or call compile_each_file_once, in order."""
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(HOST_CODE):
            yield "finder import" if node.module == FINDER else "host code import"
        elif (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
              and getattr(node.value.func, "id", None) == "compile_each_file_once"):
            yield "finder call"


def _modules():
    for name in sorted(os.listdir(MODULES)):
        if name.endswith(".py") and name != "__init__.py":
            with open(os.path.join(MODULES, name)) as source:
                yield name, ast.parse(source.read())


def test_each_module_installs_the_finder_before_it_imports_host_code():
    importing = {}
    for name, tree in _modules():
        steps = list(_host_code_steps(tree))
        if "host code import" in steps:
            importing[name] = steps[:2] + sorted(set(steps[2:]))
    assert importing == {
        "tcp_state_facts.py": ["finder import", "finder call", "host code import"],
        "tcp_tuning_live.py": ["finder import", "finder call", "host code import"],
        "tcp_tuning_plan.py": ["finder import", "finder call", "host code import"],
    }
