"""Where the names a window uses are defined: through imports, re-exports and attribute chains."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .identifiers import Uses, return_chain
from .imports import ImportRef
from .languages import PYTHON, normalize
from .module_info import ModuleInfo, ModuleInfos, module_info
from .resolve import FileSet, python_module, python_submodule, resolve_imports
from .symbols import Symbol

__all__ = ["Found", "ModuleInfo", "ModuleInfos", "Resolver", "module_info"]

MAX_DEPTH = 8  # re-exports followed this deep (package __init__ → module → alias)
INHERITED_LEVELS = 3  # a member not in its class is looked up this far up (tkinter: Text → Misc)
WHOLE_LINES = 60  # a definition this long or shorter goes whole (slicing.py)
_DEFINING_KINDS = frozenset(
    {"class", "function", "interface", "struct", "enum", "trait", "type", "module", "macro"}
)


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
            else:  # a class: the member, else the line of `__init__` that sets `self.member`
                owner = self._defining(found, rest[0], INHERITED_LEVELS)
                if owner is None or self._declared(owner, rest[0]):
                    cls = owner or found
                    owner = self._set_on(cls, rest[0], INHERITED_LEVELS) or cls
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

    def _declared(self, cls: Found, member: str) -> bool:
        """`member` is only declared in the class body (`command: Command`, no value)."""
        info = self.info(cls.rel)
        if info is None or cls.symbol is None or cls.symbol.kind != "class":
            return False
        depth = cls.symbol.depth + 1
        return any(s.name == member and s.depth == depth and s.kind == "field"
                   and "=" not in s.signature for s in info.members(cls.symbol))  # fmt: skip

    def _set_on(self, cls: Found, member: str, levels: int) -> Found | None:
        """The first `self.member = ...` in the methods of `cls` or its workspace bases."""
        info = self.info(cls.rel)
        if info is None or cls.symbol is None or cls.symbol.kind != "class":
            return None
        line = info.set_on_self(cls.symbol, member)
        if line is not None:  # a small class goes whole, that line with it
            small = (cls.symbol.end_line or cls.symbol.line) - cls.symbol.line < WHOLE_LINES
            return cls if small else Found(cls.rel, line)
        for base in _bases(cls.symbol.signature) if levels > 0 else []:
            inner = self._class(cls.rel, base)
            owner = self._set_on(inner, member, levels - 1) if inner else None
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
