"""What a file imports, parsed per language, and the files those imports name in the workspace."""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass

from .languages import GO, JS_FAMILY, LUA, PYTHON, RUST, Masked, mask, normalize, parse_python

__all__ = ["FileSet", "ImportGraph", "ImportRef", "imports_of", "resolve_imports"]


@dataclass(frozen=True, slots=True)
class ImportRef:
    """One imported module as written, at a 0-based line.

    `spec` is the module as the language names it ("a.b", "..pkg", "./x", "crate::a::b",
    "example.com/m/pkg"); `names` are the names taken from it where the syntax says (Python's
    `from m import a, b`, JS's `{a, b}`, a Go alias, a Rust leaf); `kind` is "import" except
    for Rust's `mod x;` ("mod") and Lua's `dofile`/`loadfile` ("file").
    """

    spec: str
    line: int
    names: tuple[str, ...] = ()
    kind: str = "import"


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


# A scanner yields (offset of the statement, spec, names, kind) from masked code.
_Found = tuple[int, str, tuple[str, ...], str]


def _scan(
    text: str, language: str, scanner: Callable[[Masked], Iterable[_Found]]
) -> list[ImportRef]:
    masked = mask(text, language)
    found = sorted(scanner(masked), key=lambda item: item[0])
    lines = masked.lines_at(item[0] for item in found)
    return [ImportRef(spec, lines[at], names, kind) for at, spec, names, kind in found]


def _python_ast(tree: ast.Module) -> list[ImportRef]:
    found: list[tuple[int, int, ImportRef]] = []
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, node.col_offset, ImportRef(alias.name, node.lineno - 1)))
        elif isinstance(node, ast.ImportFrom):
            spec = "." * node.level + (node.module or "")
            names = tuple(alias.name for alias in node.names)
            found.append((node.lineno, node.col_offset, ImportRef(spec, node.lineno - 1, names)))
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
        names = tuple(n for n in _python_names(m.group("rest")) if _DOTTED.fullmatch(n))
        taken.add(m.start("kw"))
        if module and names:
            yield m.start(), module, names, "import"
    for m in _PY_IMPORT.finditer(masked.code):
        if m.start() not in taken and _free(masked.code, m.start()):
            for name in _python_names(m.group("rest")):
                if name != "*" and _DOTTED.fullmatch(name):
                    yield m.start(), name, (), "import"


def _python_names(rest: str) -> list[str]:
    parts = rest.replace("\\\n", " ").strip().strip("()").split(",")
    return [words[0] for part in parts if (words := part.split())]


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
                yield m.start(), spec, _js_names(clause) if clause else (), "import"


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
            yield at, masked.strings[at], (alias,) if alias else (), "import"


_RUST_MOD = re.compile(r"mod\s+(?:r#)?(?P<name>\w+)\s*;")
# Bounded: an unbounded `[^;]*` before a `;` that never comes backtracks quadratically.
_RUST_USE = re.compile(r"use\s+(?P<tree>[^;]{1,4000}?);")
_RUST_TREE = re.compile(r"[\w:{},*\s]+")


def _rust_scan(masked: Masked) -> Iterator[_Found]:
    for m in _RUST_MOD.finditer(masked.code):
        if _free(masked.code, m.start()):
            yield m.start(), m.group("name"), (m.group("name"),), "mod"
    for m in _RUST_USE.finditer(masked.code):
        if not _free(masked.code, m.start()) or not _RUST_TREE.fullmatch(m["tree"]):
            continue
        tree = re.sub(r"\s*(::|[{},])\s*", r"\1", " ".join(m.group("tree").split()))
        for path, name in _use_leaves("", tree.removeprefix("::")):
            yield m.start(), path, (name,), "import"


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
                yield m.start(), spec, (), kind


# -- resolution ------------------------------------------------------------------------------


class FileSet:
    """The workspace's files (posix paths relative to its root), indexed for resolution."""

    def __init__(self, files: Iterable[str]) -> None:
        self.files = frozenset(files)
        self._dirs: dict[str, list[str]] | None = None
        self._packages: dict[str, list[str]] | None = None
        self._crates: dict[str, str] | None = None

    def __contains__(self, rel: object) -> bool:
        return rel in self.files

    def first(self, *candidates: str) -> str | None:
        return next((c for c in candidates if c in self.files), None)

    def in_dir(self, directory: str) -> list[str]:
        """Files directly in `directory`, sorted."""
        if self._dirs is None:
            self._dirs = {}
            for rel in sorted(self.files):
                self._dirs.setdefault(_dir(rel), []).append(rel)
        return self._dirs.get(directory, [])

    def package_roots(self, top: str) -> list[str]:
        """Directories holding a top-level Python package named `top` (its parent is no package)."""
        if self._packages is None:
            self._packages = {}
            for rel in sorted(self.files):
                if rel.endswith("__init__.py") and _base(rel) == "__init__.py":
                    package = _dir(rel)
                    root = _dir(package)
                    if package and not self.first(_join(root, "__init__.py")):
                        self._packages.setdefault(_base(package), []).append(root)
        return self._packages.get(top, [])

    def crate_src(self, name: str) -> str | None:
        """The `src` directory of a workspace crate named `name` (dashes as underscores)."""
        if self._crates is None:
            self._crates = {}
            for rel in sorted(self.files):
                if rel.endswith(("src/lib.rs", "src/main.rs")):
                    src = _dir(rel)
                    crate = _base(_dir(src)).replace("-", "_")
                    if crate and _base(src) == "src":
                        self._crates.setdefault(crate, src)
        return self._crates.get(name)


def resolve_imports(
    from_rel: str,
    refs: Iterable[ImportRef],
    language: str,
    files: Collection[str] | FileSet,
    go_module: str | None = None,
) -> list[str]:
    """The workspace files `refs` (of the file `from_rel`) name, in order, without repeats."""
    language = normalize(language)
    fs = files if isinstance(files, FileSet) else FileSet(files)
    out: list[str] = []
    seen = {from_rel}
    for ref in refs:
        if language == PYTHON:
            found = _resolve_python(from_rel, ref, fs)
        elif language in JS_FAMILY:
            found = _resolve_js(from_rel, ref.spec, fs)
        elif language == GO:
            found = _resolve_go(ref.spec, fs, go_module)
        elif language == RUST:
            found = _resolve_rust(from_rel, ref, fs)
        elif language == LUA:
            found = _resolve_lua(from_rel, ref, fs)
        else:
            found = []
        for rel in found:
            if rel not in seen:
                seen.add(rel)
                out.append(rel)
    return out


def _dir(rel: str) -> str:
    return rel.rpartition("/")[0]


def _base(rel: str) -> str:
    return rel.rpartition("/")[2]


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def _up(directory: str, levels: int) -> str | None:
    for _ in range(levels):
        if not directory:
            return None
        directory = _dir(directory)
    return directory


def _resolve_python(from_rel: str, ref: ImportRef, fs: FileSet) -> list[str]:
    module = ref.spec.lstrip(".")
    level = len(ref.spec) - len(module)
    parts = module.split(".") if module else []
    if level:
        base = _up(_dir(from_rel), level - 1)
        return [] if base is None else _python_from(fs, base, parts, ref.names, False)
    directory = here = _dir(from_rel)
    while directory and fs.first(_join(directory, "__init__.py"), _join(directory, "__init__.pyi")):
        directory = _dir(directory)
    roots = [directory, "", "src", *fs.package_roots(parts[0])] if parts else []
    if directory != here:
        roots.remove(directory)
        roots.insert(0, directory)  # inside a package: its source root first
    for root in dict.fromkeys(roots):
        found = _python_from(fs, root, parts, ref.names, True)
        if found:
            return found
    return []


def _python_module(fs: FileSet, base: str) -> str | None:
    if not base:
        return None
    return fs.first(f"{base}.py", f"{base}/__init__.py", f"{base}.pyi", f"{base}/__init__.pyi")


def _python_from(
    fs: FileSet, root: str, parts: list[str], names: tuple[str, ...], shorter: bool
) -> list[str]:
    base = _join(root, *parts)
    subs = [s for n in names if n != "*" and (s := _python_module(fs, _join(base, n)))]
    module = _python_module(fs, base)
    if module and (not names or len(subs) < len(names)):
        subs.insert(0, module)  # some name is defined in the module itself
    if subs or not shorter:
        return subs
    for k in range(len(parts) - 1, 0, -1):  # `import os.path` → os.py
        module = _python_module(fs, _join(root, *parts[:k]))
        if module:
            return [module]
    return []


_JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_TS_FOR_JS = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}


def _resolve_js(from_rel: str, spec: str, fs: FileSet) -> list[str]:
    if not spec.startswith("."):
        return []  # a package (or a path alias): not a workspace file we can name
    target = posixpath.normpath(posixpath.join(_dir(from_rel), spec))
    if target == ".":
        target = ""
    elif target.startswith("../") or target == "..":
        return []
    stem, ext = posixpath.splitext(target)
    candidates = [target] if ext else []
    candidates += [stem + ts for ts in _TS_FOR_JS.get(ext, ())]  # TS's ESM: "./x.js" is x.ts
    candidates += [target + e for e in _JS_EXTENSIONS] if target else []
    candidates += [_join(target, "index" + e) for e in _JS_EXTENSIONS]
    found = fs.first(*candidates)
    return [found] if found else []


def _resolve_go(spec: str, fs: FileSet, go_module: str | None) -> list[str]:
    if not go_module or not (spec == go_module or spec.startswith(go_module + "/")):
        return []
    directory = spec[len(go_module) + 1 :]
    return [f for f in fs.in_dir(directory) if f.endswith(".go") and not f.endswith("_test.go")]


_RUST_ROOT_DIRS = ("bin", "tests", "examples", "benches")


def _rust_children(from_rel: str) -> list[str]:
    """Where the child modules of the module in `from_rel` live (the usual layout first)."""
    directory, name = _dir(from_rel), _base(from_rel)
    nested = _join(directory, name.removesuffix(".rs"))
    root_like = name in ("lib.rs", "main.rs", "mod.rs", "build.rs")
    if root_like or _base(directory) in _RUST_ROOT_DIRS:
        return [directory] if root_like else [directory, nested]
    return [nested]


def _rust_module_file(fs: FileSet, directory: str) -> str | None:
    return fs.first(
        _join(directory, "mod.rs"), f"{directory}.rs", _join(directory, "lib.rs"),
        _join(directory, "main.rs"),
    )  # fmt: skip


def _rust_lookup(fs: FileSet, base: str, segments: list[str]) -> str | None:
    for k in range(len(segments), 0, -1):
        path = _join(base, *segments[:k])
        found = fs.first(f"{path}.rs", f"{path}/mod.rs")
        if found:
            return found
    return None


def _resolve_rust(from_rel: str, ref: ImportRef, fs: FileSet) -> list[str]:
    if ref.kind == "mod":
        for directory in _rust_children(from_rel):
            found = _rust_lookup(fs, directory, [ref.spec])
            if found:
                return [found]
        return []
    head, *rest = ref.spec.split("::")
    if head == "crate":
        base = _dir(from_rel)
        while base and not fs.first(_join(base, "lib.rs"), _join(base, "main.rs")):
            base = _dir(base)
    elif head in ("self", "super"):
        base = _rust_children(from_rel)[0]
        while head == "super":
            base = _dir(base)
            head = rest.pop(0) if rest and rest[0] == "super" else ""
    else:  # 2018 paths may start at a child module; else another crate of the workspace
        base = _rust_children(from_rel)[0]
        if not _rust_lookup(fs, base, [head]):
            src = fs.crate_src(head)
            if src is None:
                return []
            base = src
        else:
            rest = [head, *rest]
    found = _rust_lookup(fs, base, rest) or _rust_module_file(fs, base)
    return [found] if found else []


def _resolve_lua(from_rel: str, ref: ImportRef, fs: FileSet) -> list[str]:
    spec = ref.spec.strip()
    if ref.kind == "file":
        found = fs.first(posixpath.normpath(spec), _join(_dir(from_rel), spec))
        return [found] if found else []
    module = spec.removesuffix(".lua").replace(".", "/")
    parts = from_rel.split("/")[:-1]
    roots = ["", "lua", "src"]
    if "lua" in parts:  # a Neovim plugin's lua/ directory, wherever the plugin lives
        roots.insert(0, "/".join(parts[: len(parts) - parts[::-1].index("lua")]))
    found = fs.first(
        *(c for r in roots for c in (f"{_join(r, module)}.lua", _join(r, module, "init.lua")))
    )
    return [found] if found else []


# -- the graph -------------------------------------------------------------------------------


class ImportGraph:
    """Who imports whom in the workspace, updated one file at a time.

    `update` parses one file; resolution is lazy and redone for all files only when the set of
    files changes (a new file may be what an old import names), for one file when its text does.
    Register files you do not parse with language "other" so imports can resolve to them.
    Python is scanned, not `ast`-parsed, unless `exact` (same imports on all of the stdlib).
    """

    def __init__(self, go_module: str | None = None, *, exact: bool = False) -> None:
        self._go_module = go_module
        self._exact = exact
        self._parsed: dict[str, tuple[str, list[ImportRef]]] = {}
        self._resolved: dict[str, list[str]] = {}
        self._importers: dict[str, set[str]] = {}
        self._stale: set[str] = set()
        self._all_stale = False
        self._files: FileSet | None = None

    @property
    def go_module(self) -> str | None:
        return self._go_module

    @go_module.setter
    def go_module(self, value: str | None) -> None:
        if value != self._go_module:
            self._go_module = value
            self._all_stale = True

    def __contains__(self, rel: object) -> bool:
        return rel in self._parsed

    def __len__(self) -> int:
        return len(self._parsed)

    def update(self, rel: str, language: str, text: str) -> None:
        if rel not in self._parsed:
            self._files = None
            self._all_stale = True
        self._parsed[rel] = (normalize(language), imports_of(text, language, exact=self._exact))
        self._stale.add(rel)

    def remove(self, rel: str) -> None:
        if self._parsed.pop(rel, None) is not None:
            self._files = None
            self._all_stale = True

    def refs(self, rel: str) -> list[ImportRef]:
        entry = self._parsed.get(rel)
        return list(entry[1]) if entry else []

    def imports(self, rel: str) -> list[str]:
        """Workspace files `rel` imports, in the order its imports are written."""
        self._sync()
        return list(self._resolved.get(rel, ()))

    def importers(self, rel: str) -> list[str]:
        """Workspace files that import `rel`, sorted."""
        self._sync()
        return sorted(self._importers.get(rel, ()))

    def files(self) -> FileSet:
        if self._files is None:
            self._files = FileSet(self._parsed)
        return self._files

    def _sync(self) -> None:
        if self._all_stale:
            self._resolved.clear()
            self._importers.clear()
            stale: Collection[str] = self._parsed
        else:
            stale = self._stale
        for rel in stale:
            for target in self._resolved.pop(rel, ()):
                self._importers[target].discard(rel)
            entry = self._parsed.get(rel)
            if entry is None:
                continue
            language, refs = entry
            targets = resolve_imports(rel, refs, language, self.files(), self._go_module)
            self._resolved[rel] = targets
            for target in targets:
                self._importers.setdefault(target, set()).add(rel)
        self._stale.clear()
        self._all_stale = False
