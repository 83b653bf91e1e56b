"""Where the names a window uses are defined: through imports, re-exports and attribute chains."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property

from .identifiers import Uses, return_chain
from .imports import ImportRef, imports_of
from .languages import PYTHON, mask, normalize
from .resolve import FileSet, python_module, python_submodule, resolve_imports
from .symbols import Symbol, outline, top_level

__all__ = ["Found", "ModuleInfo", "ModuleInfos", "Resolver", "module_info"]

MAX_DEPTH = 8  # re-exports followed this deep (package __init__ → module → alias)
INHERITED_LEVELS = 2  # a member not in its class is looked up in bases this far up
_DEFINING_KINDS = frozenset(
    {"class", "function", "interface", "struct", "enum", "trait", "type", "module", "macro"}
)
# A top-level assignment (`StyleType = Union[str, "Style"]`, `x: int = 0`): a definition.
# Matched after a "\n" (a literal first: ~5x faster than `^` with re.M).
_ASSIGNED = re.compile(r"\n([A-Za-z_]\w*)[ \t]*(:[^=\n]*)?=(?!=)")
# ...and when what it assigns is another name (`_PyFuture = Future`): an alias to follow.
_ALIAS_TARGET = re.compile(r"[ \t]*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)[ \t]*(?=\n)")
MAX_ASSIGNMENT_LINES = 30
# `a = b = value` in a class body (at its indentation): the names bound
_CLASS_ASSIGN = re.compile(r"((?:[A-Za-z_]\w*[ \t]*=(?!=)[ \t]*)+)")
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


@dataclass(frozen=True, slots=True)
class Found:
    """Where a chain led: a definition (`symbol`) in `rel`, or the module `rel` itself."""

    rel: str
    symbol: Symbol | None
    members: tuple[str, ...] = ()  # the rest of the chain past a class: members it uses


@dataclass(slots=True)
class Resolver:
    """Follows names from one file to their definitions in the workspace."""

    files: FileSet
    info: Callable[[str], ModuleInfo | None]  # None: not a readable workspace file
    language: str
    _names: dict[tuple[str, str], Found | None] = field(default_factory=dict)

    def chain(self, rel: str, chain: tuple[str, ...]) -> Found | None:
        """The definition `chain` (`futures._PyFuture`, `Task`) names, seen from `rel`."""
        found = self.name(rel, chain[0])
        rest = chain[1:]
        while found is not None and rest:
            if found.symbol is None:  # a module: its attribute is a name defined in it
                inner = self.name(found.rel, rest[0])
                if inner is None:
                    return found
                found, rest = inner, rest[1:]
            else:
                owner = self._defining(found, rest[0], INHERITED_LEVELS) or found
                return Found(owner.rel, owner.symbol, rest[:1])
        return found

    def _defining(self, cls: Found, member: str, levels: int) -> Found | None:
        """The class that defines `member`: `cls`, or the first of its workspace bases (in
        order, this many levels up) that does; `cls` when its body is unknown."""
        info = self.info(cls.rel)
        if info is None or cls.symbol is None:
            return None
        names = info.attributes(cls.symbol)
        if names is None or member in names:
            return cls
        if levels <= 0:
            return None
        for base in _bases(cls.symbol.signature):
            inner = self._class(cls.rel, base)
            owner = self._defining(inner, member, levels - 1) if inner else None
            if owner is not None:
                return owner
        return None

    def _class(self, rel: str, chain: tuple[str, ...]) -> Found | None:
        """The class a base names (`Base`, `mod.Base`), through modules only (no members)."""
        found = self.name(rel, chain[0])
        for part in chain[1:]:
            if found is None or found.symbol is not None:
                return None
            found = self.name(found.rel, part)
        if found is None or found.symbol is None or found.symbol.kind != "class":
            return None
        return found

    def name(self, rel: str, name: str, depth: int = 0) -> Found | None:
        key = (rel, name)
        if key not in self._names:
            self._names[key] = None  # a cycle of re-exports ends here
            self._names[key] = self._name(rel, name, depth) if depth <= MAX_DEPTH else None
        return self._names[key]

    def _name(self, rel: str, name: str, depth: int) -> Found | None:
        info = self.info(rel)
        if info is None:
            return None
        symbol = info.top.get(name)
        if symbol is not None and symbol.kind in _DEFINING_KINDS:
            return Found(rel, symbol)
        alias = info.aliases.get(name)
        unknown = False  # an alias whose target the workspace does not define
        if alias is not None and alias[0] != name:
            target = self.chain(rel, alias)
            unknown = target is None or self._unknown(target)
            if target is not None and target.symbol is not None and not unknown:
                return target
        if symbol is not None:
            return Found(rel, symbol)
        bound = info.bindings.get(name)
        if bound is not None:
            return self._imported(rel, *bound, depth)
        for ref in info.stars:
            module = self._module(rel, ref)
            inner = self.info(module) if module else None
            if module and inner and (inner.exports is None or name in inner.exports):
                found = self.name(module, name, depth + 1)
                if found is not None:
                    return found
        if normalize(self.language) == PYTHON:
            sub = python_submodule(self.files, rel, name)
            if sub:
                return Found(sub, None)
        # An alias of what the workspace does not define (`TclError = _tkinter.TclError`, a
        # C module): its own line is the definition a reader gets.
        own = info.alias_lines.get(name) if unknown else None
        return Found(rel, own) if own is not None else None

    def _unknown(self, found: Found) -> bool:
        """`found` is an alias's own line (its target unknown): an alias of it (`Lock =
        _allocate_lock`) is then defined by that nearer line."""
        info, symbol = self.info(found.rel), found.symbol
        return bool(info and symbol and info.alias_lines.get(symbol.name) is symbol)

    def _imported(self, rel: str, ref: ImportRef, taken: str | None, depth: int) -> Found | None:
        if taken is not None and normalize(self.language) == PYTHON:
            sub = self._submodule(rel, ref.spec, taken)
            if sub is not None:
                return Found(sub, None)  # `from . import futures`: a module
        module = self._module(rel, ref)
        if module is None:
            return None
        if taken is None:
            return Found(module, None)
        return self.name(module, taken, depth + 1)

    def _submodule(self, rel: str, spec: str, name: str) -> str | None:
        joined = f"{spec}{name}" if spec.endswith(".") else f"{spec}.{name}"
        found = python_module(rel, joined, self.files)
        if found is None:
            return None
        stem = "/" + found.removesuffix(".pyi").removesuffix(".py").removesuffix("/__init__")
        if stem.endswith(f"/{name}"):  # not a shorter prefix of the dotted name
            return found
        return None

    def _module(self, rel: str, ref: ImportRef) -> str | None:
        if normalize(self.language) == PYTHON:
            found = python_module(rel, ref.spec, self.files)
            rest = _unmatched(found, ref.spec) if found else ()
            if found and rest:  # `os.path` is os.py's `path`: `import posixpath as path`
                inner = self.chain(found, rest)
                if inner is not None and inner.symbol is None:
                    return inner.rel
            return found
        files = resolve_imports(rel, [ImportRef(ref.spec, ref.line, (), ref.kind)], self.language,
                                self.files)  # fmt: skip
        return files[0] if files else None


def _returned(
    resolver: Resolver, rel: str, called: tuple[str, ...], rest: tuple[str, ...]
) -> Found | None:
    """The definition `rest` names on what the function `called` returns (its annotation)."""
    function = resolver.chain(rel, called)
    if function is None or function.symbol is None or function.members:
        return None
    returned = return_chain(function.symbol.signature)
    if returned is None:
        return None
    return resolver.chain(function.rel, returned + rest)


def _bases(signature: str) -> list[tuple[str, ...]]:
    """The base classes a `class X(A, m.B, metaclass=M):` header names, as chains."""
    opened, closed = signature.find("("), signature.rfind(")")
    if opened < 0 or closed < opened:
        return []
    out = []
    for part in signature[opened + 1 : closed].split(","):
        chain = tuple(p.strip() for p in part.split("."))
        if "=" not in part and chain[0] and all(p.isidentifier() for p in chain):
            out.append(chain)
    return out


def _unmatched(found: str, spec: str) -> tuple[str, ...]:
    """The tail of a dotted module name past the file it resolved to (`os.path` in os.py:
    `path`), () when the file is the whole name."""
    parts = spec.lstrip(".").split(".") if spec.lstrip(".") else []
    stem = "/" + found.removesuffix(".pyi").removesuffix(".py").removesuffix("__init__")
    stem = stem.rstrip("/")
    if not parts or stem.endswith("/" + parts[-1]):
        return ()
    for k in range(len(parts) - 1, 0, -1):
        if stem.endswith("/" + parts[k - 1]):
            return tuple(parts[k:])
    return ()


def resolve_uses(
    resolver: Resolver, rel: str, uses: Uses, here: ModuleInfo
) -> list[tuple[Found, tuple[str, ...], list[int]]]:
    """(definition, chain as written, lines it is used on) for every chain the workspace
    defines outside `rel` (names the current file defines itself are already sent)."""
    out = []
    for written, lines in uses.chains.items():
        chain = written
        for size in (2, 1):  # a typed local: `t.done()` with `t: Task` → Task.done
            typed = uses.types.get(written[:size])
            if typed is not None and len(written) >= size:
                chain = typed + written[size:]
                break
        if chain[0] in ("self", "cls", "super") or (chain[0] in here.top and chain == written):
            continue
        found = resolver.chain(rel, chain)
        called = uses.returns.get(written[:1]) if chain == written else None
        if called is not None:  # `ctx = get_context()`; `ctx.x` → what get_context returns
            found = _returned(resolver, rel, called, written[1:]) or found
        if found is None or found.rel == rel:
            continue
        out.append((found, written, lines))
    return out
