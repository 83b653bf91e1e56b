"""Who imports whom in the workspace: parsed imports, resolved lazily, kept one file at a time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Sequence

from .imports import ImportRef, imports_of
from .languages import normalize
from .resolve import FileSet, resolve_imports

__all__ = ["ImportGraph", "Refs"]

# A file's imports, or what decodes them when first needed (the index store's: a restart whose
# resolved imports are stored never needs most of them)
Refs = Sequence[ImportRef] | Callable[[], Sequence[ImportRef]]


class ImportGraph:
    """Who imports whom in the workspace, updated one file at a time.

    `update` parses one file; resolution is lazy and redone for all files only when the set of
    files changes (a new file may be what an old import names), for one file when its text does.
    Register files you do not parse with language "other" so imports can resolve to them.
    Python is scanned, not `ast`-parsed, unless `exact` (same imports on all of the stdlib).
    """

    def __init__(self, go_module: str | None = None, *, exact: bool = False) -> None:
        self._go_module = go_module
        self._root_name: str | None = None
        self._exact = exact
        self._parsed: dict[str, tuple[str, Refs]] = {}
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

    @property
    def root_name(self) -> str | None:
        """The single workspace root's directory name (Python packages opened as the root)."""
        return self._root_name

    @root_name.setter
    def root_name(self, value: str | None) -> None:
        if value != self._root_name:
            self._root_name = value
            self._files = None
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

    def put(self, rel: str, language: str, refs: Sequence[ImportRef]) -> None:
        """Like `update`, with the imports already parsed (the index store's)."""
        if rel not in self._parsed:
            self._files = None
            self._all_stale = True
        self._parsed[rel] = (normalize(language), list(refs))
        self._stale.add(rel)

    def load(self, files: Iterable[tuple[str, str, Refs, Sequence[str] | None]]) -> None:
        """Replace the graph by (rel, language, imports, targets or None) of every file; the
        targets given are taken as resolved (right only against this same set of files: see
        `key`), the others are resolved when needed."""
        self._parsed, self._resolved, self._importers = {}, {}, {}
        self._stale, self._all_stale, self._files = set(), False, None
        for rel, language, refs, targets in files:
            self._parsed[rel] = (normalize(language), refs)
            if targets is None:
                self._stale.add(rel)
                continue
            self._resolved[rel] = list(targets)
            for target in targets:
                self._importers.setdefault(target, set()).add(rel)

    def key(self, rels: Iterable[str] | None = None) -> str:
        """What resolution depends on besides each file's own imports: the set of files (these
        `rels`, by default the graph's), the root's name and the Go module."""
        digest = hashlib.sha256(f"{self._root_name}\n{self._go_module}\n".encode())
        digest.update("\n".join(sorted(self._parsed if rels is None else rels)).encode())
        return digest.hexdigest()[:24]

    def resolved(self, rels: Iterable[str]) -> dict[str, list[str]]:
        """What these files' imports resolve to (resolving what is stale first)."""
        self._sync()
        return {rel: list(self._resolved.get(rel, ())) for rel in rels if rel in self._parsed}

    def remove(self, rel: str) -> None:
        if self._parsed.pop(rel, None) is not None:
            self._files = None
            self._all_stale = True

    def refs(self, rel: str) -> list[ImportRef]:
        return list(self._refs(rel))

    def _refs(self, rel: str) -> Sequence[ImportRef]:
        entry = self._parsed.get(rel)
        if entry is None:
            return ()
        language, refs = entry
        if callable(refs):
            refs = refs()
            self._parsed[rel] = (language, refs)
        return refs

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
            self._files = FileSet(self._parsed, self._root_name)
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
            targets = resolve_imports(rel, self._refs(rel), entry[0], self.files(), self._go_module)
            self._resolved[rel] = targets
            for target in targets:
                self._importers.setdefault(target, set()).add(rel)
        self._stale.clear()
        self._all_stale = False
