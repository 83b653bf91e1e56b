"""What a file imports, parsed per language (the modules as written, not yet resolved)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .languages import GO, JS_FAMILY, LUA, PYTHON, RUST, Masked, mask, normalize, parse_python

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
    strings and comments skipped: the same imports for valid code, several times faster.
    """
    language = normalize(language)
    if language == PYTHON:
        tree = parse_python(text) if exact else None
        return _python_ast(tree) if tree is not None else _scan(text, PYTHON, _python_scan)
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
    taken = set()
    for m in _PY_FROM.finditer(masked.code):
        if not _free(masked.code, m.start()):
            continue
        module = "".join(m.group("mod").split())
        pairs = [p for p in _python_names(m.group("rest")) if _DOTTED.fullmatch(p[0])]
        taken.add(m.start("kw"))
        if module and pairs:
            names, bound = tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
            yield m.start(), module, names, "import", bound
    for m in _PY_IMPORT.finditer(masked.code):
        if m.start() not in taken and _free(masked.code, m.start()):
            for name, local in _python_names(m.group("rest")):
                if name != "*" and _DOTTED.fullmatch(name):
                    yield m.start(), name, (), "import", (local,)


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


_JS_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"import\s+(?:type\s+)?(?P<clause>[\w$*{},\s]{1,2000}?)\s*\bfrom\s*(?P<q>[\"'])",
        r"import\s*(?P<q>[\"'])",
        r"export\s+(?:type\s+)?(?P<clause>\*(?:\s+as\s+[\w$]+)?|\{[^}]{0,2000}\})"
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
            if spec is not None and m.start("q") not in seen and _free(masked.code, m.start()):
                seen.add(m.start("q"))
                clause = m.groupdict().get("clause")
                yield m.start(), spec, _js_names(clause) if clause else (), "import", ()


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
