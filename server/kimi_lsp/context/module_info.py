"""What one file defines and binds at its top level, each part computed when first asked for."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cached_property

from .imports import ImportRef, imports_of
from .languages import PYTHON, mask, normalize
from .symbols import Symbol, outline, top_level

__all__ = ["ModuleInfo", "ModuleInfos", "module_info"]

# A top-level assignment (`StyleType = Union[str, "Style"]`, `x: int = 0`): a definition.
# Matched after a "\n" (a literal first: ~5x faster than `^` with re.M).
_ASSIGNED = re.compile(r"\n([A-Za-z_]\w*)[ \t]*(:[^=\n]*)?=(?!=)")
# ...and when what it assigns is another name (`_PyFuture = Future`): an alias to follow.
_ALIAS_TARGET = re.compile(r"[ \t]*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)[ \t]*(?=\n)")
MAX_ASSIGNMENT_LINES = 30
# `a = b = value` in a class body (at its indentation): the names bound
_CLASS_ASSIGN = re.compile(r"((?:[A-Za-z_]\w*[ \t]*=(?!=)[ \t]*)+)")
_SET_ON_SELF = r"^[ \t]+(?:self\.\w+[ \t]*,[ \t]*)*self\.{}\b[^=\n(]*?=(?!=)"
_ALL = re.compile(r"__all__[ \t]*\+?=[ \t]*([\[(])")  # at a line's start (checked)
_QUOTED = re.compile(r"""['"]([A-Za-z_]\w*)['"]""")


@dataclass(frozen=True, slots=True)
class _TopLevel:
    top: dict[str, Symbol]
    bindings: dict[str, tuple[ImportRef, str | None]]
    stars: tuple[ImportRef, ...]
    aliases: dict[str, tuple[str, ...]]
    exports: frozenset[str] | None
    alias_lines: dict[str, Symbol]  # an alias's own assignment, for when its target is unknown


class ModuleInfo:
    """What one file defines and binds at its top level, for resolving names in it.

    Each part is computed when first asked for: resolving a name through a file needs only its
    top level (its imports and top-level definitions, from a scan that skips the bodies of
    top-level blocks); the full outline (`symbols`, class members in `attributes`) is computed
    only for the files a slice or an outline is taken from. Safe to share between threads
    (a part computed twice at once is computed the same).
    """

    def __init__(self, text: str, language: str) -> None:
        self.text = text
        self.language = normalize(language)
        self._blocks: dict[tuple[int, int], tuple[Symbol, ...]] = {}  # (first, last line)

    @cached_property
    def symbols(self) -> tuple[Symbol, ...]:
        """The file's outline, class members included."""
        return tuple(outline(self.text, self.language, exact=False))

    @cached_property
    def top_symbols(self) -> tuple[Symbol, ...]:
        """The outline's top-level (depth 0) symbols, in order."""
        known = self.__dict__.get("symbols")  # the full outline, when already computed
        if known is not None:
            return tuple(s for s in known if s.depth == 0)
        return tuple(top_level(self.text, self.language))

    @cached_property
    def _top_level(self) -> _TopLevel:
        return _top_level(self.text, self.language, self.top_symbols)

    @property
    def top(self) -> dict[str, Symbol]:
        """Top-level definitions and assignments by name (the first of each name)."""
        return self._top_level.top

    @property
    def bindings(self) -> dict[str, tuple[ImportRef, str | None]]:
        """Local name → the import that binds it and the name taken (None: the module)."""
        return self._top_level.bindings

    @property
    def stars(self) -> tuple[ImportRef, ...]:
        """`from m import *`"""
        return self._top_level.stars

    @property
    def aliases(self) -> dict[str, tuple[str, ...]]:
        """`X = Y.z` at the top level."""
        return self._top_level.aliases

    @property
    def alias_lines(self) -> dict[str, Symbol]:  # `TclError = _tkinter.TclError` as a symbol
        return self._top_level.alias_lines

    @property
    def exports(self) -> frozenset[str] | None:
        """`__all__` when it is a literal list; None: everything."""
        return self._top_level.exports

    def members(self, symbol: Symbol) -> tuple[Symbol, ...]:
        """The outline of the block `symbol` heads: itself and what it holds, at any depth.
        In Python, without the full outline, only that block's lines are scanned."""
        end = symbol.line if symbol.end_line is None else symbol.end_line
        if self.language != PYTHON or "symbols" in self.__dict__:
            return tuple(s for s in self.symbols if symbol.line <= s.line <= end)
        key = (symbol.line, end)
        hit = self._blocks.get(key)
        if hit is None:
            hit = self._blocks[key] = _block_outline(self.text, symbol, end)
        return hit

    def attributes(self, cls: Symbol) -> frozenset[str] | None:
        """The names the body of the class `cls` binds (its members, `pack = configure = ...`);
        None when its body is not known."""
        if self.language != PYTHON or cls.end_line is None:
            return None
        block = self.members(cls)
        if not block or block[0].line != cls.line or block[0].kind != "class":
            return None
        lines = self.text.split("\n")[cls.line : cls.end_line + 1]
        code = mask("\n".join(lines), PYTHON).code
        shifted = tuple(replace(s, line=s.line - cls.line, end_line=_minus(s.end_line, cls.line))
                        for s in block)  # fmt: skip
        return _class_attributes(shifted, code).get(0)

    def set_on_self(self, cls: Symbol, member: str) -> Symbol | None:
        """The first statement in the class `cls` that sets `self.member` (`self.a, self.b =
        ...` too), as a symbol."""
        end = cls.line if cls.end_line is None else cls.end_line
        block = "\n".join(self.text.split("\n")[cls.line : end + 1]) + "\n"
        code = mask(block, self.language).code
        found = re.search(_SET_ON_SELF.format(re.escape(member)), code, re.M)
        if found is None:
            return None
        row = code.count("\n", 0, found.start())
        line = _assignment(code, block, found.start(), row, member)
        return replace(line, line=line.line + cls.line, end_line=_minus(line.end_line, -cls.line))


def _block_outline(text: str, symbol: Symbol, end: int) -> tuple[Symbol, ...]:
    """`outline` of the lines [symbol.line, end] alone, as lines and depths of the whole file:
    a block starts and ends outside any string or bracket, so it scans the same on its own."""
    lines = text.split("\n")[symbol.line : end + 1]
    return tuple(
        replace(s, line=s.line + symbol.line, end_line=_minus(s.end_line, -symbol.line),
                depth=s.depth + symbol.depth)
        for s in outline("\n".join(lines), PYTHON, exact=False)
    )  # fmt: skip


def _minus(line: int | None, offset: int) -> int | None:
    return None if line is None else line - offset


def module_info(text: str, language: str) -> ModuleInfo:
    """Outline and top-level bindings of a file, from a tolerant scan (no syntax tree)."""
    return ModuleInfo(text, language)


def _top_level(text: str, language: str, symbols: Iterable[Symbol]) -> _TopLevel:
    top: dict[str, Symbol] = {}
    for symbol in symbols:
        top.setdefault(symbol.name, symbol)
    bindings: dict[str, tuple[ImportRef, str | None]] = {}
    stars: list[ImportRef] = []
    for ref in imports_of(text, language, exact=False):
        if language != PYTHON:
            for name in ref.names:
                if name not in ("*", "default"):
                    bindings.setdefault(name, (ref, name))
        elif not ref.names:  # `import a.b` binds a (module a), `import a.b as c` binds c
            local = ref.bound[0] if ref.bound else ref.spec.partition(".")[0]
            head = ref.spec.partition(".")[0]
            spec = head if local == head else ref.spec
            bindings.setdefault(local, (ImportRef(spec, ref.line), None))
        else:
            for name, local in zip(ref.names, ref.bound or ref.names, strict=False):
                if name == "*":
                    stars.append(ref)
                else:
                    bindings.setdefault(local, (ref, name))
    aliases: dict[str, tuple[str, ...]] = {}
    alias_lines: dict[str, Symbol] = {}
    exports: frozenset[str] | None = None
    if language == PYTHON:
        code = mask(text, PYTHON).code
        lined = "\n" + code + "\n"  # every line starts after a "\n"
        assigned = list(_ASSIGNED.finditer(lined))
        for m in assigned:
            target = _ALIAS_TARGET.match(lined, m.end()) if m.group(2) is None else None
            if target is not None and target.group(1) not in ("None", "True", "False"):
                aliases.setdefault(m.group(1), tuple(target.group(1).split(".")))
        exports = _exports(text, code)
        line = last = 0  # lines counted as the matches go (in order): linear
        for m in assigned:
            name = m.group(1)
            into = alias_lines if name in aliases else top
            if name not in top and name not in into:
                line += code.count("\n", last, m.start(1) - 1)
                last = m.start(1) - 1
                into[name] = _assignment(code, text, last, line, name)
    return _TopLevel(top, bindings, tuple(stars), aliases, exports, alias_lines)


def _class_attributes(symbols: tuple[Symbol, ...], code: str) -> dict[int, frozenset[str]]:
    """Per class (by its line), the names its body binds: members and class-level assignments."""
    lines: list[str] | None = None
    out: dict[int, frozenset[str]] = {}
    for index, cls in enumerate(symbols):
        if cls.kind != "class" or cls.end_line is None:
            continue
        names: set[str] = set()
        for inner in symbols[index + 1 :]:
            if inner.line > cls.end_line:
                break  # the outline is in line order
            if inner.depth == cls.depth + 1:
                names.add(inner.name)
        lines = code.split("\n") if lines is None else lines
        body = lines[cls.line + 1 : cls.end_line + 1]
        indent = next((len(r) - len(r.lstrip()) for r in body if r.strip()), 0)
        for row in body:
            if "=" not in row or row[indent : indent + 1].isspace():
                continue  # most rows: no assignment, or deeper than the class body
            if (m := _CLASS_ASSIGN.match(row, indent)) and not row[:indent].strip():
                names.update(n.strip() for n in m.group(1).split("=") if n.strip())
        out[cls.line] = frozenset(names)
    return out


def _assignment(code: str, text: str, offset: int, line: int, name: str) -> Symbol:
    """A top-level assignment (at `offset`, on `line`) as a symbol: its lines run while its
    brackets are open (up to MAX_ASSIGNMENT_LINES whole lines)."""
    depth, end, pos = 0, line, offset
    for row in range(line, line + MAX_ASSIGNMENT_LINES):
        newline = code.find("\n", pos)
        if newline < 0:
            break
        piece = code[pos:newline]
        depth += sum(piece.count(c) for c in "([{") - sum(piece.count(c) for c in ")]}")
        end, pos = row, newline + 1
        if depth <= 0:
            break
    newline = text.find("\n", offset)
    header = text[offset : newline if newline >= 0 else len(text)]
    return Symbol(name, "variable", line, end, " ".join(header.split()))


def _exports(text: str, code: str) -> frozenset[str] | None:
    """The names of a literal `__all__` (all its assignments), None when it is computed."""
    names: set[str] = set()
    found = False
    for m in _ALL.finditer(code):
        if m.start() and code[m.start() - 1] != "\n":
            continue  # not at a line's start
        close = "]" if m.group(1) == "[" else ")"
        end = code.find(close, m.end())
        if end < 0 or re.search(r"[A-Za-z_]", code[m.end() : end].replace('""', "")
                                .replace("''", "")):  # fmt: skip
            return None  # built from other lists: every name may be exported
        names.update(_QUOTED.findall(text, m.end(), end))
        found = True
    return frozenset(names) if found else None


class ModuleInfos:
    """ModuleInfo per file, remembered by content (thread-safe, least recently used dropped
    past `entries` files or `chars` characters of text: an info keeps its file's text)."""

    def __init__(self, entries: int = 4_096, chars: int = 16_000_000) -> None:
        self._entries = entries
        self._chars = chars
        self._held = 0
        self._cache: OrderedDict[tuple[str, int, int], ModuleInfo] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, rel: str, text: str, language: str) -> ModuleInfo:
        key = (rel, hash(text), len(text))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        info = module_info(text, language)
        with self._lock:
            if key not in self._cache:
                self._held += len(text)
            self._cache[key] = info
            while len(self._cache) > 1 and (
                len(self._cache) > self._entries or self._held > self._chars
            ):
                self._held -= self._cache.popitem(last=False)[0][2]
        return info
