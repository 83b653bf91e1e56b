"""Replay cases for bench/predict.py, cut from code nobody here wrote (stdlib, pygls), seeded."""

from __future__ import annotations

import ast
import bisect
import functools
import random
import re
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SEED = 18
MAX_BLOCK_LINES = 16  # the ghost-text line limit of the replay rule
MIN_LINES, MAX_LINES = 40, 3_000  # source files outside this are skipped (too small / too slow)
MAX_FUNCTION_LINES = 60
PER_FILE = 3  # ghost-text cuts drawn from each file picked
MAX_OCCURRENCES = 12
SUFFIXES = ("_new", "_value", "2", "_arg", "_item")
# Directories of the standard library that are tests, demos or vendored code, not library code.
# encodings/ is generated charmap tables.
SKIP_PARTS = {"test", "tests", "idlelib", "lib2to3", "turtledemo", "site-packages", "__pycache__"}
SKIP_PARTS |= {"encodings"}


@dataclass(frozen=True)
class Source:
    """One Python file of a corpus."""

    corpus: str
    name: str  # path relative to the corpus root
    text: str


@dataclass(frozen=True)
class GhostCase:
    """The document is F[:cut] + F[end:]; the true continuation is F[cut:]."""

    corpus: str
    name: str
    text: str
    cut: int
    end: int
    kind: str  # "line" (the rest of a line) or "block" (whole lines ending a block)

    @property
    def document(self) -> str:
        return self.text[: self.cut] + self.text[self.end :]

    @property
    def expected(self) -> str:
        return self.text[self.cut : self.end]

    @property
    def line(self) -> int:
        """1-based line of the cut."""
        return self.text.count("\n", 0, self.cut) + 1


@dataclass(frozen=True)
class RenameCase:
    """A parameter or local of one function renamed: the user edits its first occurrence."""

    corpus: str
    name: str
    text: str
    function: str
    old: str
    new: str
    offsets: tuple[int, ...]  # every occurrence of `old` in the function, in order
    typed: bool  # the new name is typed char by char (after deleting the old one)

    @property
    def first_line(self) -> int:
        return self.text.count("\n", 0, self.offsets[0]) + 1

    @property
    def truth(self) -> str:
        """The text with every occurrence renamed."""
        return _replace_at(self.text, self.offsets, len(self.old), self.new)

    @property
    def after_user_edit(self) -> str:
        """The text with only the first occurrence renamed (the user's edit)."""
        return _replace_at(self.text, self.offsets[:1], len(self.old), self.new)


def _replace_at(text: str, offsets: tuple[int, ...], width: int, new: str) -> str:
    out = text
    for offset in sorted(offsets, reverse=True):
        out = out[:offset] + new + out[offset + width :]
    return out


# -- sources ----------------------------------------------------------------------------------


def corpus_roots() -> dict[str, Path]:
    """The running interpreter's standard library and the installed pygls package."""
    import pygls

    return {
        "stdlib": Path(sysconfig.get_paths()["stdlib"]),
        "pygls": Path(pygls.__file__).resolve().parent,
    }


def sources(corpus: str, root: Path) -> list[Source]:
    """Every parseable file of a sensible size under `root`, sorted by name."""
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if SKIP_PARTS & set(rel.parts[:-1]):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "\r" in text or "\t" in text or not MIN_LINES <= text.count("\n") <= MAX_LINES:
            continue  # one line ending and no tabs: the cut rules count plain characters
        out.append(Source(corpus, rel.as_posix(), text))
    return out


@functools.lru_cache(maxsize=64)
def parsed(text: str) -> ast.Module | None:
    """The file's tree (None when this interpreter cannot parse it), parsed once."""
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def line_starts(text: str) -> list[int]:
    starts = [0]
    starts += [m.end() for m in re.finditer("\n", text)]
    return starts


# -- ghost-text cuts --------------------------------------------------------------------------


def _line_cut(src: Source, rng: random.Random, starts: list[int]) -> GhostCase | None:
    lines = src.text.split("\n")
    for _ in range(20):
        index = rng.randrange(len(lines))
        line = lines[index]
        indent = len(line) - len(line.lstrip(" "))
        if len(line) - indent < 2:
            continue
        column = rng.randrange(indent, len(line) - 1)
        if not line[column:].strip():
            continue
        start = starts[index]
        return GhostCase(src.corpus, src.name, src.text, start + column, start + len(line), "line")
    return None


def _bodies(tree: ast.AST) -> Iterator[list[ast.stmt]]:
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            body = getattr(node, name, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                yield body
        for handler in getattr(node, "handlers", []) or []:
            yield handler.body


def _first_line(stmt: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(stmt, "decorator_list", []) or []
    return min([stmt.lineno] + [d.lineno for d in decorators])


def _block_cuts(src: Source, tree: ast.AST) -> list[tuple[int, int]]:
    """(first line, last line), 1-based, of every tail of a block within the line limit."""
    lines = src.text.split("\n")
    out = []
    for body in _bodies(tree):
        last = body[-1].end_lineno or body[-1].lineno
        for stmt in body:
            first = _first_line(stmt)
            head = lines[first - 1]
            starts_line = head[: len(head) - len(head.lstrip(" "))] == head[: stmt.col_offset]
            if last - first + 1 > MAX_BLOCK_LINES or not starts_line:
                continue
            if stmt.col_offset == 0 and body is getattr(tree, "body", None):
                continue  # module level: not a block
            out.append((first, last))
    return sorted(set(out))


def _block_cut(
    src: Source, rng: random.Random, starts: list[int], cuts: list[tuple[int, int]]
) -> GhostCase | None:
    if not cuts:
        return None
    first, last = rng.choice(cuts)
    line = src.text.split("\n")[first - 1]
    indent = len(line) - len(line.lstrip(" "))
    cut = starts[first - 1] + (indent if rng.random() < 0.5 else 0)  # auto-indented or not
    end = starts[last - 1] + len(src.text.split("\n")[last - 1])
    if not src.text[cut:end].strip():
        return None
    return GhostCase(src.corpus, src.name, src.text, cut, end, "block")


def ghost_cases(srcs: list[Source], count: int, seed: int = SEED) -> list[GhostCase]:
    """`count` cuts, half rest-of-line and half block tails, from files picked at random."""
    rng = random.Random(f"{seed}:ghost:{srcs[0].corpus if srcs else ''}")
    out: list[GhostCase] = []
    seen: set[tuple[str, int, int]] = set()
    tries = 0
    while len(out) < count and tries < count * 20:
        tries += 1
        src = rng.choice(srcs)
        starts = line_starts(src.text)
        tree = parsed(src.text)
        if tree is None:
            continue
        cuts = _block_cuts(src, tree)
        for _ in range(PER_FILE):  # a few per file: fewer files to parse
            if len(out) % 2 == 0:
                case = _line_cut(src, rng, starts)
            else:
                case = _block_cut(src, rng, starts, cuts)
            if case is not None and (src.name, case.cut, case.end) not in seen:
                seen.add((src.name, case.cut, case.end))
                out.append(case)
    return out[:count]


# -- renames ----------------------------------------------------------------------------------


def _names_in(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Parameters (self/cls aside) then locals, in order of appearance."""
    args = func.args
    params = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    params += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    stores = [
        n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    ]
    out: list[str] = []
    for name in params + stores:
        if name not in out and name not in ("self", "cls") and len(name) > 1:
            out.append(name)
    return out


def _nested_scopes(func: ast.AST) -> bool:
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    return any(isinstance(n, scopes) for n in ast.walk(func) if n is not func)


def _binding_counts(func: ast.AST) -> dict[str, int]:
    """How many times each name appears as a variable or parameter node in `func`."""
    counts: dict[str, int] = {}
    for node in ast.walk(func):
        name = node.id if isinstance(node, ast.Name) else getattr(node, "arg", None)
        if isinstance(node, ast.Name | ast.arg) and isinstance(name, str):
            counts[name] = counts.get(name, 0) + 1
    return counts


def _occurrences(text: str, span: tuple[int, int], name: str, nodes: int) -> tuple[int, ...] | None:
    """Offsets of `name` in the span when every textual match is the variable itself."""
    begin, end = span
    matches = [begin + m.start() for m in re.finditer(rf"\b{name}\b", text[begin:end])]
    if len(matches) != nodes or not 2 <= len(matches) <= MAX_OCCURRENCES:
        return None  # a string, comment, attribute or keyword spells it too: no clear truth
    return tuple(matches)


@functools.lru_cache(maxsize=8)
def _line_counts(text: str) -> tuple[list[str], dict[str, int]]:
    lines = text.split("\n")
    counts: dict[str, int] = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    return lines, counts


def _lines_unique(text: str, offsets: tuple[int, ...], starts: list[int]) -> bool:
    """Whether each line holding one of `offsets` appears once in the file: a region holding it
    then has one place and one truth (a copy of the same lines elsewhere would have two)."""
    lines, counts = _line_counts(text)
    for offset in offsets:
        index = bisect.bisect_right(starts, offset) - 1
        if counts[lines[index]] > 1:
            return False
    return True


@functools.lru_cache(maxsize=256)
def _rename_candidates(src: Source) -> list[tuple[str, str, tuple[int, ...]]]:
    tree = parsed(src.text)
    if tree is None:
        return []
    starts = line_starts(src.text)
    out = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef) or _nested_scopes(func):
            continue
        if (func.end_lineno or func.lineno) - func.lineno + 1 > MAX_FUNCTION_LINES:
            continue
        end_line = func.end_lineno or func.lineno
        span = (
            starts[_first_line(func) - 1],
            starts[end_line] if end_line < len(starts) else len(src.text),
        )
        counts = _binding_counts(func)
        for name in _names_in(func):
            offsets = _occurrences(src.text, span, name, counts.get(name, 0))
            if offsets is not None and _lines_unique(src.text, offsets[1:], starts):
                out.append((func.name, name, offsets))
    return out


def rename_cases(srcs: list[Source], count: int, seed: int = SEED) -> list[RenameCase]:
    """`count` renames from files picked at random, half typed char by char."""
    rng = random.Random(f"{seed}:rename:{srcs[0].corpus if srcs else ''}")
    out: list[RenameCase] = []
    seen: set[tuple[str, int]] = set()
    tries = 0
    while len(out) < count and tries < count * 20:
        tries += 1
        src = rng.choice(srcs)
        candidates = _rename_candidates(src)
        if not candidates:
            continue
        function, old, offsets = rng.choice(candidates)
        new = old + rng.choice(SUFFIXES)
        if re.search(rf"\b{new}\b", src.text) or (src.name, offsets[0]) in seen:
            continue
        seen.add((src.name, offsets[0]))
        typed = len(out) % 2 == 1
        out.append(RenameCase(src.corpus, src.name, src.text, function, old, new, offsets, typed))
    return out


def corpus(ghost: int, renames: int, seed: int = SEED) -> tuple[list[GhostCase], list[RenameCase]]:
    """Two thirds of each from the standard library, one third from pygls."""
    roots = corpus_roots()
    std = sources("stdlib", roots["stdlib"])
    third = sources("pygls", roots["pygls"])
    g_third, r_third = ghost // 3, renames // 3
    cuts = ghost_cases(std, ghost - g_third, seed) + ghost_cases(third, g_third, seed)
    edits = rename_cases(std, renames - r_third, seed) + rename_cases(third, r_third, seed)
    return cuts, edits
