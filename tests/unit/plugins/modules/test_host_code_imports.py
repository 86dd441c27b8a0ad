"""Every module that runs the collection's host code installs the compile-once finder before it imports
that code: an import above the call would be compiled twice on every host (see _payload_import)."""

import ast
import os

MODULES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules")
HOST_CODE = "ansible_collections.tcpops.timewait.plugins.module_utils"
FINDER = HOST_CODE + "._payload_import"


def _imported(node):
    """The module names an import statement names, a relative one as ``.module`` (host code too)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return ["." * node.level + (node.module or "")]


def _step(node):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        names = _imported(node)
        if names == [FINDER]:
            return "finder import"
        if any(name.startswith((HOST_CODE, ".")) for name in names):
            return "host code import"
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "compile_each_file_once":
        return "finder call"
    return None


def _host_code_steps(tree):
    """Anywhere in the module (in a try or an if, in a function), in the order of the source."""
    nodes = sorted((node for node in ast.walk(tree) if _step(node)), key=lambda node: (node.lineno, node.col_offset))
    return [_step(node) for node in nodes]


def test_each_module_installs_the_finder_before_it_imports_host_code():
    importing = {}
    for name in sorted(os.listdir(MODULES)):
        if not name.endswith(".py") or name == "__init__.py":
            continue
        with open(os.path.join(MODULES, name)) as source:
            steps = _host_code_steps(ast.parse(source.read()))
        if "host code import" in steps:
            importing[name] = steps
    assert sorted(importing) == ["tcp_state_facts.py", "tcp_tuning_live.py", "tcp_tuning_plan.py"]
    for name, steps in importing.items():
        assert steps[:2] == ["finder import", "finder call"], (name, steps)
        assert set(steps[2:]) == {"host code import"}, (name, steps)


def test_the_check_sees_imports_in_every_form():
    source = ("import ansible_collections.tcpops.timewait.plugins.module_utils._tuning.plan\n"
              "try:\n    from ..module_utils._sysctl import keys\nexcept ImportError:\n    pass\n"
              "def main():\n    compile_each_file_once()\n")
    assert _host_code_steps(ast.parse(source)) == ["host code import", "host code import", "finder call"]
