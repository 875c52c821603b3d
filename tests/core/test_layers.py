"""The package's layering: the core loads without the connection, and no module imports another in a cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "stomper"
#: Modules that do I/O (sockets, TLS, threads, failover) or belong to the command line.
NOT_IN_THE_CORE = ("stomper.connection", "stomper.transport", "stomper.failover", "stomper_cli", "socket", "ssl", "select")


def test_import_stomper_loads_no_connection_transport_or_cli_code():
    script = "import sys, stomper, stomper.session; print('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert "stomper.session" in loaded
    assert [name for name in loaded if name.startswith(NOT_IN_THE_CORE)] == []


def test_import_stomper_connection_loads_no_websocket_or_tls_code():
    """wsproto is loaded when a ws:// or wss:// endpoint is opened, ssl when a TLS one is: not for a program that only speaks TCP."""
    script = "import sys, stomper.connection; print('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert "stomper.transport" in loaded
    assert [name for name in loaded if name.startswith(("wsproto", "h11", "stomper.websocket", "stomper.tls", "ssl", "_ssl"))] == []


def test_opening_a_websocket_endpoint_loads_the_websocket_transport():
    script = (
        "import sys\n"
        "from stomper.transport import transport_class, transport_name\n"
        "from stomper.url import parse_url\n"
        "name = transport_name(parse_url('wss://h/ws'))\n"
        "print(name, transport_class(name).__module__, 'wsproto' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert shown == ["wss", "stomper.websocket", "True"]


def _imports(path: Path) -> tuple[set[str], list[str]]:
    """The stomper modules `path` imports at its top level, and any imports made inside functions."""
    tree = ast.parse(path.read_text())
    top: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [alias.name for alias in node.names]
            top.update(f"stomper.{name}" for name in names)
    nested = [
        f"{path.name}:{inner.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(node)
        if isinstance(inner, ast.Import | ast.ImportFrom)
    ]
    return top, nested


def test_no_module_imports_inside_a_function():
    nested = [where for path in sorted(PACKAGE.glob("*.py")) for where in _imports(path)[1]]
    assert nested == []


def test_the_modules_import_each_other_without_cycles():
    graph = {f"stomper.{path.stem}": _imports(path)[0] for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, f"import cycle: {' -> '.join((*trail, module))}"
        if module in done:
            return
        for imported in graph.get(module, ()):
            visit(imported, (*trail, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())
    assert "stomper.engine" not in graph["stomper.frame"] and "stomper.parser" not in graph["stomper.frame"]


def test_the_classic_engine_and_logging_load_on_first_use():
    script = (
        "import sys, stomper\n"
        "before = sorted(name for name in ('logging', 'stomper.engine') if name in sys.modules)\n"
        "from stomper import Engine\n"
        "print(before, Engine.__module__, 'Engine' in dir(stomper), 'logging' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert shown == ["[]", "stomper.engine", "True", "True"]
