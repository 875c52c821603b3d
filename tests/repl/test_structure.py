"""The REPL's modules depend one way (prompt -> commands -> session) and import nothing lazily."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "stomper_cli"
MODULES = ("repl", "repl_session", "repl_commands", "repl_prompt")


def imports(module: str) -> tuple[set[str], list[int]]:
    """(the stomper_cli modules `module` imports, the line numbers of imports inside functions)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            imported.add(node.module or "")
    lazy = [inner.lineno for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            for inner in ast.walk(node) if isinstance(inner, ast.Import | ast.ImportFrom)]
    return imported, lazy


@pytest.mark.parametrize("module", MODULES[1:])
def test_no_lazy_imports(module):
    """repl.py itself is the exception: `stomper --help` loads it to list it, so it defers the heavy session modules."""
    assert imports(module)[1] == []


def test_the_dependency_points_one_way():
    session, _ = imports("repl_session")
    commands, _ = imports("repl_commands")
    prompt, _ = imports("repl_prompt")
    assert not session & {"repl_commands", "repl_prompt", "repl"}
    assert "repl_session" in commands and not commands & {"repl_prompt", "repl"}
    assert "repl" not in prompt
