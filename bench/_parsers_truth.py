"""Ground truth for bench/parsers.py: what Python's `ast` says, and how close a parser comes.

Every parser's answer is reduced to the same plain items so they compare as multisets:
imports `(line, module, names)`, definitions `(line, name, "class" | "def")`, identifiers
their names (one per occurrence). Lines are 0-based, like the server's.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

ImportItem = tuple[int, str, tuple[str, ...]]
DefItem = tuple[int, str, str]

# search.py's notion of an identifier worth indexing; both sides are filtered by it, so the
# comparison is about which names a parser finds, not about the length rule.
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


@dataclass
class Score:
    """Items found against items expected, summed over files (micro-averaged)."""

    expected: int = 0
    found: int = 0
    matched: int = 0
    files: int = 0
    files_exact: int = 0

    def add(self, truth: Iterable[Hashable], found: Iterable[Hashable]) -> None:
        want, got = Counter(truth), Counter(found)
        self.expected += sum(want.values())
        self.found += sum(got.values())
        self.matched += sum((want & got).values())
        self.files += 1
        self.files_exact += want == got

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "found": self.found,
            "matched": self.matched,
            "precision": self.precision,
            "recall": self.recall,
            "files": self.files,
            "files_exact": self.files_exact,
        }


def parse(text: str) -> ast.Module | None:
    """The tree, or None for a file `ast` rejects (it then has no ground truth)."""
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def ast_imports(tree: ast.Module) -> list[ImportItem]:
    """Every import statement, nested ones included: `import a, b` is two items."""
    out: list[ImportItem] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno - 1, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            out.append((node.lineno - 1, module, tuple(a.name for a in node.names)))
    return sorted(out)


def ast_definitions(tree: ast.Module) -> list[DefItem]:
    """`def` and `class` at module or class level (inside if/try/with too), not in functions."""
    out: list[DefItem] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                out.append((child.lineno - 1, child.name, "def"))
            elif isinstance(child, ast.ClassDef):
                out.append((child.lineno - 1, child.name, "class"))
                visit(child)
            elif isinstance(child, ast.stmt | ast.excepthandler | ast.match_case):
                visit(child)

    visit(tree)
    return sorted(out)


def ast_identifiers(tree: ast.Module, stop: frozenset[str] = frozenset()) -> list[str]:
    """Name and Attribute names, one per occurrence, as search.py would keep them."""
    names = (
        node.id if isinstance(node, ast.Name) else node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Name | ast.Attribute)
    )
    return sorted(indexable(names, stop))


def indexable(names: Iterable[str], stop: frozenset[str] = frozenset()) -> Iterator[str]:
    """The names search.py's rule keeps: three or more ASCII word characters, no stop word."""
    return (n for n in names if _WORD.fullmatch(n) and n not in stop)


def ref_items(refs: Iterable[Any]) -> list[ImportItem]:
    """context/imports.py's ImportRefs as items."""
    return sorted((r.line, r.spec, tuple(r.names)) for r in refs)


def symbol_items(symbols: Iterable[Any]) -> list[DefItem]:
    """context/symbols.py's outline as items: its classes, functions and methods."""
    kinds = {"class": "class", "function": "def", "method": "def"}
    return sorted((s.line, s.name, kinds[s.kind]) for s in symbols if s.kind in kinds)


def counted(counts: Counter[str]) -> list[str]:
    """search.py's Counter as one item per occurrence."""
    return sorted(counts.elements())


def mid_edit(text: str) -> tuple[str, int]:
    """The file as it is while someone types: an unclosed call inserted before its middle line
    (with that line's indent). Returns the text and the inserted line's index."""
    lines = text.split("\n")
    at = len(lines) // 2
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip(" \t"))]
    lines.insert(at, indent + "result = compute(value,")
    return "\n".join(lines), at


def shifted(items: Iterable[tuple[Any, ...]], at: int) -> list[tuple[Any, ...]]:
    """Items of the original file placed where they are once a line is inserted at `at`."""
    return sorted((item[0] + (item[0] >= at), *item[1:]) for item in items)
