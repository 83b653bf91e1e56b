"""What a file imports, parsed per language (the modules as written, not yet resolved)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .languages import (  # the tokens mask() blanks: a window is masked exactly alike
    _PY_SPLIT,
    GO,
    JS_FAMILY,
    LUA,
    PYTHON,
    RUST,
    Masked,
    _blank_inside,
    mask,
    normalize,
    parse_python,
)

__all__ = ["ImportRef", "imports_of"]


@dataclass(frozen=True, slots=True)
class ImportRef:
    """One imported module as written, at a 0-based line.

    `spec` is the module as the language names it ("a.b", "..pkg", "./x", "crate::a::b",
    "example.com/m/pkg"); `names` are the names taken from it where the syntax says (Python's
    `from m import a, b`, JS's `{a, b}`, a Go alias, a Rust leaf); `kind` is "import" except
    for Rust's `mod x;` ("mod") and Lua's `dofile`/`loadfile` ("file").
    `bound` (Python) is the local name each import binds: one per name of a `from` import
    (`from m import a as b` → ("b",)), else the alias or the first part (`import a.b` → ("a",)).
    It is left out of comparisons: it only adds what `as` says.
    """

    spec: str
    line: int
    names: tuple[str, ...] = ()
    kind: str = "import"
    bound: tuple[str, ...] = field(default=(), compare=False)


def imports_of(text: str, language: str, *, exact: bool = True) -> list[ImportRef]:
    """The imports of a source file in source order; [] for languages we do not parse.

    Python is parsed with `ast` when `exact` (and the file parses), else scanned as tokens with
    strings and comments skipped: the same imports for valid code, ~20x faster than `ast`.
    """
    language = normalize(language)
    if language == PYTHON:
        tree = parse_python(text) if exact else None
        return _python_ast(tree) if tree is not None else _python_lines(text)
    if language in JS_FAMILY:
        return _scan(text, language, _js_scan)
    scanner = {GO: _go_scan, RUST: _rust_scan, LUA: _lua_scan}.get(language)
    return _scan(text, language, scanner) if scanner else []


# A scanner yields (offset of the statement, spec, names, kind, bound) from masked code.
_Found = tuple[int, str, tuple[str, ...], str, tuple[str, ...]]


def _scan(
    text: str, language: str, scanner: Callable[[Masked], Iterable[_Found]]
) -> list[ImportRef]:
    masked = mask(text, language)
    found = sorted(scanner(masked), key=lambda item: item[0])
    lines = masked.lines_at(item[0] for item in found)
    return [
        ImportRef(spec, lines[at], names, kind, bound) for at, spec, names, kind, bound in found
    ]


def _python_ast(tree: ast.Module) -> list[ImportRef]:
    found: list[tuple[int, int, ImportRef]] = []
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = (alias.asname or alias.name.partition(".")[0],)
                ref = ImportRef(alias.name, node.lineno - 1, bound=local)
                found.append((node.lineno, node.col_offset, ref))
        elif isinstance(node, ast.ImportFrom):
            spec = "." * node.level + (node.module or "")
            names = tuple(alias.name for alias in node.names)
            bound = tuple(alias.asname or alias.name for alias in node.names)
            ref = ImportRef(spec, node.lineno - 1, names, bound=bound)
            found.append((node.lineno, node.col_offset, ref))
    found.sort(key=lambda item: item[:2])
    return [ref for _, _, ref in found]


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement, nested ones included (imports inside functions count), no expressions."""
    for node in body:
        yield node
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(node, name, None)
            if isinstance(inner, list):
                yield from _statements(inner)
        for handler in getattr(node, "handlers", ()):
            yield from _statements(handler.body)
        for case in getattr(node, "cases", ()):
            yield from _statements(case.body)


# With strings and comments blanked, `import` only ever starts (or continues) an import.
_PY_FROM = re.compile(
    r"from[ \t]+(?P<mod>\.*[ \t]*[\w.]*)[ \t]*(?:\\\n[ \t]*)?(?P<kw>import)\b[ \t]*"
    r"(?P<rest>\([\w\s,\\]*\)?|(?:[^\n;\\]|\\\n)*)"
)
_PY_IMPORT = re.compile(r"import[ \t]+(?P<rest>(?:[^\n;\\]|\\\n)*)")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*|\*")


def _free(code: str, at: int) -> bool:
    """No identifier character or member dot right before `at` (patterns start with a literal
    so `re` can search for it quickly; a lookbehind there makes them ~30x slower)."""
    return at == 0 or not (code[at - 1].isalnum() or code[at - 1] in "_.$:")


def _python_scan(masked: Masked) -> Iterator[_Found]:
    """Every import of a whole masked file (the reference `_python_lines` must agree with)."""
    return iter(_python_found(masked.code)[0])


def _python_found(code: str) -> tuple[list[_Found], int]:
    """The imports in masked code, and where the last match (taken or not) ended."""
    found: list[_Found] = []
    taken, reach = set(), 0
    for m in _PY_FROM.finditer(code):
        reach = m.end()
        if not _free(code, m.start()):
            continue
        module = "".join(m.group("mod").split())
        pairs = [p for p in _python_names(m.group("rest")) if _DOTTED.fullmatch(p[0])]
        taken.add(m.start("kw"))
        if module and pairs:
            names, bound = tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
            found.append((m.start(), module, names, "import", bound))
    for m in _PY_IMPORT.finditer(code):
        reach = max(reach, m.end())
        if m.start() not in taken and _free(code, m.start()):
            for name, local in _python_names(m.group("rest")):
                if name != "*" and _DOTTED.fullmatch(name):
                    found.append((m.start(), name, (), "import", (local,)))
    found.sort(key=lambda item: item[0])
    return found, reach


# Masking a whole file costs ~19 ms per MB; its imports sit on a few lines. Every import holds
# the word `import`, so only the logical lines around that word are masked and matched. All
# that must be known between them is whether a spot is code, and only a triple-quoted string
# (or a string continued with a backslash) carries that state from one line to the next.
_IMPORT_WORD = re.compile(r"import\b")


def _python_lines(text: str) -> list[ImportRef]:
    """The imports `_python_scan` finds in the whole masked file, masking only their lines."""
    refs: list[ImportRef] = []
    done = 0  # everything before it is settled, and it is never inside a string or comment
    line, line_at = 0, 0
    triples = _Triples(text)
    hits = [m.start() for m in _IMPORT_WORD.finditer(text)]
    for i, hit in enumerate(hits):
        if hit < done:
            continue
        start = _logical_start(text, hit, done)
        while (quote := triples.after(done)) < start:
            done = _token_at(text, _logical_start(text, quote, done), quote)
        start = max(start, done)
        inside = _token_at(text, start, hit) if hit >= done else done
        if inside > hit:
            done = inside
            continue
        found, code, done = _python_window(text, start, _line_end(text, _run_end(hits, i)))
        line += text.count("\n", line_at, start)
        line_at = start
        lines = Masked(code).lines_at(item[0] for item in found)
        refs += [
            ImportRef(spec, line + lines[at], names, kind, bound)
            for at, spec, names, kind, bound in found
        ]
    return refs


def _run_end(hits: list[int], i: int) -> int:
    """The last of the hits that follow `hits[i]` closely: a block of imports is one window."""
    while i + 1 < len(hits) and hits[i + 1] - hits[i] < _RUN_GAP:
        i += 1
    return hits[i]


_RUN_GAP = 400  # characters: masking this much costs less than matching one more window


def _python_window(text: str, start: int, end: int) -> tuple[list[_Found], str, int]:
    """The imports of the lines from `start` (a code position) to at least `end`, the masked
    window, and where it ends: grown until no statement could run past it."""
    while True:
        code, end = _mask_lines(text, start, end)
        found, reach = _python_found(code)
        if end >= len(text) or (reach < len(code) and not code.endswith("\\\n")):
            return found, code, end
        end = _line_end(text, end + (end - start))  # doubling keeps a runaway statement linear


def _mask_lines(text: str, start: int, end: int) -> tuple[str, int]:
    """`mask(text).code[start:end]` for `start` a code position, with `end` moved past any
    string that crosses it (to the end of that string's line)."""
    pieces: list[str] = []
    at = start
    while (token := _PY_SPLIT.search(text, at, end)) is not None:
        begin, stop = token.span()
        if stop == end:  # it may go on past the window: take it whole
            whole = _PY_SPLIT.match(text, begin)
            stop = whole.end() if whole else stop
            end = max(end, _line_end(text, stop))
        pieces += (text[at:begin], _blank_inside(text[begin:stop]))
        at = stop
    pieces.append(text[at:end])
    return "".join(pieces), end


def _token_at(text: str, start: int, at: int) -> int:
    """The end of the string or comment that holds `at` (or starts there), tokenizing from
    `start`, a code position on the same logical line; `at` itself when `at` is code."""
    for token in _PY_SPLIT.finditer(text, start):
        if token.end() > at:
            return token.end() if token.start() <= at else at
    return at


def _logical_start(text: str, at: int, floor: int) -> int:
    """The start of the line holding `at`, or of the first line it continues with a trailing
    backslash (a string can run on that way), but not before `floor`."""
    start = text.rfind("\n", floor, at) + 1
    while start > floor and start >= 2 and text[start - 2] == "\\":
        start = text.rfind("\n", floor, start - 1) + 1
    return max(start, floor)


def _line_end(text: str, at: int) -> int:
    """Just past the newline that ends the line holding `at` (or the end of the text)."""
    newline = text.find("\n", at)
    return len(text) if newline < 0 else newline + 1


class _Triples:
    """The next `\"\"\"` or `'''` at or after a position, each found once in a forward scan."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._next = [-1, -1]

    def after(self, at: int) -> int:
        for i, quote in enumerate(('"""', "'''")):
            if self._next[i] < at:
                found = self._text.find(quote, at)
                self._next[i] = len(self._text) if found < 0 else found
        return min(self._next)


def _python_names(rest: str) -> list[tuple[str, str]]:
    """(name, the local name it binds) per part: `a.b as c` → ("a.b", "c"), `a.b` → ("a.b", "a")."""
    parts = rest.replace("\\\n", " ").strip().strip("()").split(",")
    out = []
    for part in parts:
        words = part.split()
        if words:
            local = words[2] if len(words) > 2 and words[1] == "as" else words[0].partition(".")[0]
            out.append((words[0], local))
    return out


# Minified code leaves out the space where a brace or star follows: `import{a}from"b"`.
_JS_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"import(?:\s+type)?(?:\s+|(?=[{*]))(?P<clause>[\w$*{},\s]{1,2000}?)\s*\bfrom\s*"
        r"(?P<q>[\"'])",
        r"import\s*(?P<q>[\"'])",
        r"export\s*(?:type\s*)?(?P<clause>\*(?:\s*as\s+[\w$]+)?|\{[^}]{0,2000}\})"
        r"\s*from\s*(?P<q>[\"'])",
        r"require\s*\(\s*(?P<q>[\"'])",
        r"import\s*\(\s*(?P<q>[\"'])",
    )
)


def _js_scan(masked: Masked) -> Iterator[_Found]:
    seen = set()
    for pattern in _JS_PATTERNS:
        for m in pattern.finditer(masked.code):
            spec = masked.strings.get(m.start("q"))
            if spec is not None and m.start("q") not in seen and _js_free(masked.code, m.start()):
                seen.add(m.start("q"))
                clause = m.groupdict().get("clause")
                yield m.start(), spec, _js_names(clause) if clause else (), "import", ()


def _js_free(code: str, at: int) -> bool:
    """No identifier character or member dot right before `at`; a spread's dots
    (`...require("x")`) and an object key's colon (`{fs:require("fs")}`) are no member access."""
    if at == 0:
        return True
    before = code[at - 1]
    if before == ".":
        return code.endswith("...", 0, at)
    return not (before.isalnum() or before in "_$#")


def _js_names(clause: str) -> tuple[str, ...]:
    """`D, {a, b as c}` → ("default", "a", "b"); `* as ns` → ("*",)."""
    braced = re.search(r"\{([^}]*)\}", clause)
    outside = clause[: braced.start()] + clause[braced.end() :] if braced else clause
    names = [
        "*" if p.strip().startswith("*") else "default" for p in outside.split(",") if p.strip()
    ]
    for part in braced.group(1).split(",") if braced else ():
        words = [w for w in part.split() if w != "type"]
        names += words[:1]
    return tuple(names)


_GO_BLOCK = re.compile(r"import\s*\((?P<body>[^)]{0,20000})\)")
_GO_SPEC = re.compile(r"(?:(?P<alias>[\w.]+)\s+)?(?P<q>[\"`])")
_GO_SINGLE = re.compile(r"import\s+(?:(?P<alias>[\w.]+)\s+)?(?P<q>[\"`])")


def _go_scan(masked: Masked) -> Iterator[_Found]:
    specs = [
        (b.start("body") + m.start("q"), m.group("alias"))
        for b in _GO_BLOCK.finditer(masked.code)
        for m in _GO_SPEC.finditer(b.group("body"))
    ]
    specs += [(m.start("q"), m.group("alias")) for m in _GO_SINGLE.finditer(masked.code)]
    for at, alias in specs:
        if at in masked.strings:
            yield at, masked.strings[at], (alias,) if alias else (), "import", ()


_RUST_MOD = re.compile(r"mod\s+(?:r#)?(?P<name>\w+)\s*;")
# Bounded: an unbounded `[^;]*` before a `;` that never comes backtracks quadratically.
_RUST_USE = re.compile(r"use\s+(?P<tree>[^;]{1,4000}?);")
_RUST_TREE = re.compile(r"[\w:{},*\s]+")


def _rust_scan(masked: Masked) -> Iterator[_Found]:
    for m in _RUST_MOD.finditer(masked.code):
        if _free(masked.code, m.start()):
            yield m.start(), m.group("name"), (m.group("name"),), "mod", ()
    for m in _RUST_USE.finditer(masked.code):
        if not _free(masked.code, m.start()) or not _RUST_TREE.fullmatch(m["tree"]):
            continue
        tree = re.sub(r"\s*(::|[{},])\s*", r"\1", " ".join(m.group("tree").split()))
        for path, name in _use_leaves("", tree.removeprefix("::")):
            yield m.start(), path, (name,), "import", ()


def _use_leaves(prefix: str, tree: str) -> Iterator[tuple[str, str]]:
    """Expand a `use` tree: `a::{b, c::{d as e, self}}` → ("a::b", "b"), ("a::c::d", "e"), …"""
    brace = tree.find("{")
    if brace < 0:
        path, _, alias = tree.partition(" as ")
        path = _rust_path(prefix, path.strip().removesuffix("::"))
        if path.endswith("::*"):
            yield path[:-3], "*"
        elif path:
            path = path.removesuffix("::self")
            yield path, alias.strip() or path.rsplit("::", 1)[-1]
        return
    head = _rust_path(prefix, tree[:brace].removesuffix("::"))
    depth, start, body = 0, 0, tree[brace + 1 : tree.rfind("}")] + ","
    for i, ch in enumerate(body):  # split at the top level's commas
        depth += (ch == "{") - (ch == "}")
        if ch == "," and depth == 0:
            if body[start:i]:
                yield from _use_leaves(head, body[start:i])
            start = i + 1


def _rust_path(prefix: str, path: str) -> str:
    return f"{prefix}::{path}" if prefix and path else prefix or path


_LUA_PATTERNS = (
    (re.compile(r"require\s*\(?\s*(?P<q>[\"'\[])"), "import"),
    (re.compile(r"pcall\s*\(\s*require\s*,\s*(?P<q>[\"'\[])"), "import"),
    (re.compile(r"(?:dofile|loadfile)\s*\(?\s*(?P<q>[\"'\[])"), "file"),
)


def _lua_scan(masked: Masked) -> Iterator[_Found]:
    for pattern, kind in _LUA_PATTERNS:
        for m in pattern.finditer(masked.code):
            spec = masked.strings.get(m.start("q"))
            if spec and _free(masked.code, m.start()):
                yield m.start(), spec, (), kind, ()
