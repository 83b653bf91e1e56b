"""Small modules and short functions: no module in server/ over 500 lines, no function over 80."""

from __future__ import annotations

import ast
from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "server"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
DATA_TABLES: set[str] = set()  # "path:function" of functions that are data, not logic


def long_functions(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            where = f"{name}:{node.name}"
            if length > MAX_FUNCTION_LINES and where not in DATA_TABLES:
                found.append(f"{where} has {length} lines")
    return found


def test_no_module_is_over_500_lines() -> None:
    sizes = {p: p.read_text(encoding="utf-8").count("\n") for p in SERVER.rglob("*.py")}
    assert len(sizes) > 50
    assert [f"{p.relative_to(SERVER)}: {n}" for p, n in sizes.items() if n > MAX_MODULE_LINES] == []


def test_no_function_is_over_80_lines() -> None:
    found: list[str] = []
    for path in sorted(SERVER.rglob("*.py")):
        found += long_functions(path.read_text(encoding="utf-8"), str(path.relative_to(SERVER)))
    assert found == []


def test_the_length_check_sees_nested_and_async_functions() -> None:
    body = "\n".join(f"        x{i} = {i}" for i in range(80))
    source = f"class A:\n    async def run(self):\n{body}\n"
    assert long_functions(source, "m.py") == ["m.py:run has 81 lines"]
    assert long_functions("def f():\n    return 1\n", "m.py") == []
