"""Which workspace files an import names, per language (Python, JS/TS, Go, Rust, Lua)."""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable

from .imports import ImportRef
from .languages import GO, JS_FAMILY, LUA, PYTHON, RUST, normalize

__all__ = ["FileSet", "python_module", "python_submodule", "resolve_imports"]


class FileSet:
    """The workspace's files (posix paths relative to its root), indexed for resolution."""

    def __init__(self, files: Iterable[str], root_name: str | None = None) -> None:
        self.files = frozenset(files)
        # The workspace root's directory name: a package opened as the root (`rich/` with an
        # `__init__.py`) imports itself absolutely (`from rich.cells import ...`).
        self.root_name = root_name
        self._dirs: dict[str, list[str]] | None = None
        self._packages: dict[str, list[str]] | None = None
        self._crates: dict[str, str] | None = None
        self._source_roots: dict[str, str] = {}

    def __contains__(self, rel: object) -> bool:
        return rel in self.files

    def first(self, *candidates: str) -> str | None:
        files = self.files
        for candidate in candidates:
            if candidate in files:
                return candidate
        return None

    def source_root(self, directory: str) -> str:
        """The nearest ancestor of `directory` (itself included) that is no Python package:
        where its package's absolute imports start (asked per import; kept per directory)."""
        found = self._source_roots.get(directory)
        if found is None:
            found = directory
            while found and self.first(_join(found, "__init__.py"), _join(found, "__init__.pyi")):
                found = _dir(found)
            self._source_roots[directory] = found
        return found

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
            # Sorted after filtering (the same order, a tenth of the sorting)
            for rel in sorted(r for r in self.files if r.endswith("__init__.py")):
                if _base(rel) == "__init__.py":
                    package = _dir(rel)
                    root = _dir(package)
                    if package and not self.first(_join(root, "__init__.py")):
                        self._packages.setdefault(_base(package), []).append(root)
        return self._packages.get(top, [])

    def crate_src(self, name: str) -> str | None:
        """The `src` directory of a workspace crate named `name` (dashes as underscores)."""
        if self._crates is None:
            self._crates = {}
            for rel in sorted(r for r in self.files if r.endswith(("src/lib.rs", "src/main.rs"))):
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
    return "/".join(filter(None, parts))


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
    found = _python_self(fs, parts, ref.names)
    if found:
        return found
    here = _dir(from_rel)
    directory = fs.source_root(here)
    roots = [directory, "", "src", *fs.package_roots(parts[0])] if parts else []
    if directory != here:
        roots.remove(directory)
        roots.insert(0, directory)  # inside a package: its source root first
    for root in dict.fromkeys(roots):
        found = _python_from(fs, root, parts, ref.names, True)
        if found:
            return found
    return []


def _python_self(fs: FileSet, parts: list[str], names: tuple[str, ...]) -> list[str]:
    """An absolute import of the package the workspace root itself is (its name first)."""
    if not parts or parts[0] != fs.root_name:
        return []
    init = fs.first("__init__.py", "__init__.pyi")
    if init is None:
        return []
    if len(parts) > 1:
        return _python_from(fs, "", parts[1:], names, True)
    subs = [s for n in names if n != "*" and (s := _python_module(fs, n))]
    if not names or len(subs) < len(names):
        subs.insert(0, init)  # some name is defined in the package's __init__
    return subs


def python_module(from_rel: str, spec: str, fs: FileSet) -> str | None:
    """The workspace file of the Python module `spec` (`a.b`, `.m`, `..`) seen from `from_rel`."""
    found = _resolve_python(from_rel, ImportRef(spec, 0), fs)
    return found[0] if found else None


def python_submodule(fs: FileSet, module_rel: str, name: str) -> str | None:
    """The module `name` inside the package whose `__init__` is `module_rel`, if there is one."""
    if _base(module_rel) not in ("__init__.py", "__init__.pyi"):
        return None
    return _python_module(fs, _join(_dir(module_rel), name))


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
