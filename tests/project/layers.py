"""Reads the package's imports (as written, no importing) and checks the layer rules on them."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "kimi_lsp"
LSP_LIBRARIES = ("pygls", "lsprotocol", "pytest_lsp")
OUTER = ("lsp", "cli")  # may import the core; the core never imports them
# unit -> the units it must never import (docs/architecture.md, "Rules")
FORBIDDEN = {
    "model": ("context", "edits", "agent"),
    "context": ("model", "edits", "agent"),
    "edits": ("model", "context", "agent"),
    "predict": ("agent", "chat"),
}


@dataclass(frozen=True, slots=True)
class Import:
    importer: str  # module name, e.g. kimi_lsp.model.errors
    imported: str  # module name (or module.attribute), e.g. kimi_lsp.secrets.redact
    line: int
    type_checking: bool  # inside `if TYPE_CHECKING:`: not an import at run time


def read_package(root: Path) -> dict[str, str]:
    """Module name -> source, for every .py file under `root` (the package's directory)."""
    sources: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        sources[".".join(parts)] = path.read_text(encoding="utf-8")
    return sources


def imports(module: str, source: str, is_package: bool) -> Iterator[Import]:
    """Every import statement of a module, at any depth (function-level ones included)."""
    tree = ast.parse(source)
    guarded = _type_checking_lines(tree)
    base = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno, node.lineno in guarded)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)]
                target = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                # `from . import x` may name a submodule: record both; unit() looks at the
                # longest name that is a module, so an attribute adds no false edge.
                yield Import(module, f"{target}.{alias.name}", node.lineno, node.lineno in guarded)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                for inner in ast.walk(child):
                    if hasattr(inner, "lineno"):
                        lines.add(inner.lineno)
    return lines


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def unit(module: str, modules: Mapping[str, str]) -> str | None:
    """The layer unit of a module of ours: its subpackage (`context`, `lsp`, ...) or, for a
    module at the package root, its own name (`config`, `documents`); None for outsiders."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    while len(parts) > 1 and ".".join(parts) not in modules:
        parts.pop()  # `kimi_lsp.x.attr` -> `kimi_lsp.x`
    return parts[1] if len(parts) > 1 else None


def violations(modules: Mapping[str, str]) -> list[str]:
    """Every broken rule, as a sentence naming the file and line."""
    problems: list[str] = []
    edges: dict[str, set[str]] = {}
    for module, source in modules.items():
        is_package = _is_package(module, modules)
        mine = unit(module, modules)
        for item in imports(module, source, is_package):
            top = item.imported.split(".")[0]
            if top in LSP_LIBRARIES and mine != "lsp":
                problems.append(f"{module}:{item.line} imports {top} outside lsp/")
            if item.type_checking:
                continue
            theirs = unit(item.imported, modules)
            if mine is None or theirs is None or theirs == mine:
                continue
            edges.setdefault(mine, set()).add(theirs)
            if theirs in OUTER and mine not in OUTER and mine != "__main__":
                problems.append(f"{module}:{item.line} (core) imports {theirs}/")
            if mine == "lsp" and theirs == "cli":
                problems.append(f"{module}:{item.line} (lsp/) imports cli/")
            if theirs in FORBIDDEN.get(mine, ()):
                problems.append(f"{module}:{item.line} ({mine}/) imports {theirs}/")
    problems.extend(f"import cycle between {' -> '.join(c)}" for c in cycles(edges))
    return problems


def _is_package(module: str, modules: Mapping[str, str]) -> bool:
    return any(other.startswith(module + ".") for other in modules)


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one unit (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found
