"""The deep index: each file's imports, then its search terms, read once and kept on disk."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..secrets.redact import redact
from .file_texts import decode, read_bytes
from .import_graph import ImportGraph, Refs
from .imports import imports_of
from .index_store import FileRecord, IndexStore, prune, store_path
from .languages import language_of
from .search import IdentifierIndex, identifiers, index_terms
from .symbols import Symbol, outline
from .workspace import FileEntry

log = logging.getLogger(__name__)

BATCH = 512  # files per write transaction: another server waits at most one batch
SYMBOL_CACHE = 4_096  # files whose symbols stay in memory (the repo map's, mostly)

Stamp = tuple[int, int]  # (size, mtime_ns)


@dataclass
class Progress:
    """How far the deep index is, for kimi/status: files read or taken from the store."""

    files: int = 0
    from_cache: int = 0
    seconds: float = 0.0  # both stages'


def read_file(entry: FileEntry, max_size: int) -> str | None:
    """An indexed file's text, read without the engine's text cache (a whole workspace would
    fill it); None when binary, unreadable or grown past the size limit since the walk."""
    data = read_bytes(entry.file, entry.size, limit=max_size)
    return decode(data) if data is not None else None


def record_of(rel: str, stamp: Stamp, text: str | None, terms: bool = True) -> FileRecord:
    """The file's record; without its search terms unless `terms` (the search stage's)."""
    if text is None:
        return FileRecord(rel, *stamp, False, "", (), "")
    language = language_of(rel)
    refs = imports_of(text, language, exact=False)
    return FileRecord(rel, *stamp, True, language, refs, index_terms(text) if terms else None)


class DeepIndex:
    """Fills the import graph from the store and the files that changed since it was written
    (`build`), then the search terms of the files the store has none of (`build_search`: a
    whole workspace's terms cost more than its imports, and only `related` needs them);
    answers `related` from the store's full-text index (or memory when SQLite lacks FTS5) and
    keeps symbols computed on demand. The graph is shared with the engine under its lock."""

    def __init__(self, graph: ImportGraph, lock: threading.RLock, directory: Path | None) -> None:
        self.graph = graph
        self._lock = lock
        self._directory = directory
        self._roots: list[Path] = []
        self._store: IndexStore | None = None
        self._store_lock = threading.Lock()
        self._memory_search: IdentifierIndex | None = None
        self._symbols: OrderedDict[str, tuple[Stamp, list[Symbol]]] = OrderedDict()
        self._unsearched: list[tuple[str, FileEntry]] = []  # what `build_search` reads
        self.progress = Progress()

    def configure(self, roots: Sequence[Path]) -> None:
        """Use the store of these roots (opened when first needed, off the event loop)."""
        with self._store_lock:
            if list(roots) != self._roots and self._store is not None:
                self._store.close()
                self._store = None
            self._roots = list(roots)
        self._symbols.clear()
        self._unsearched = []
        self.progress = Progress()

    @property
    def store(self) -> IndexStore:
        with self._store_lock:
            if self._store is None:
                path = store_path(self._directory, self._roots) if self._directory else None
                self._store = IndexStore(path)
                if self._directory is not None:
                    for gone in prune(self._directory):
                        log.info("Deleted the index of a workspace unused for long: %s", gone)
                if not self._store.fts:
                    log.info("SQLite has no FTS5: the search index is kept in memory")
                    self._memory_search = IdentifierIndex()
            return self._store

    def cached(self) -> bool:
        """Whether the on-disk index holds files of these roots (blocking: opens it)."""
        return self.store.has_files()

    # -- building ---------------------------------------------------------------------
    def build(self, entries: Sequence[tuple[str, FileEntry]], max_size: int) -> None:
        """Bring the graph and the store's imports up to date with `entries` (blocking): files
        whose size and mtime match the store are taken from it, the others read and parsed;
        what imports resolve to is taken from the store too while the set of files is the same.
        The files whose search terms the store lacks are left to `build_search`."""
        started = time.perf_counter()
        store = self.store
        stored = store.load()
        self.progress = progress = Progress()
        fresh: list[FileRecord] = []
        files: list[tuple[str, str, Refs, list[str] | None]] = []
        unsearched: list[tuple[str, FileEntry]] = []
        current: set[str] = set()
        for rel, entry in entries:
            current.add(rel)
            old = stored.get(rel)
            if old is not None and (old.size, old.mtime_ns) == (entry.size, entry.mtime_ns):
                if old.text:
                    files.append((rel, old.language, old.lazy_refs(), old.resolved()))
                    if not old.searched:
                        unsearched.append((rel, entry))
                progress.from_cache += 1
            else:
                stamp = (entry.size, entry.mtime_ns)
                record = record_of(rel, stamp, read_file(entry, max_size), terms=False)
                if record.text:
                    files.append((rel, record.language, record.imports, None))
                    unsearched.append((rel, entry))
                fresh.append(record)
                if len(fresh) >= BATCH:
                    store.save(fresh)
                    fresh.clear()
            progress.files += 1
        store.save(fresh)
        store.remove(stored.keys() - current)
        self._load_graph(store, files)
        self._unsearched = unsearched
        progress.seconds = time.perf_counter() - started

    def build_search(self, max_size: int) -> None:
        """Read the files `build` found without search terms and store theirs (blocking)."""
        started = time.perf_counter()
        store = self.store
        todo, self._unsearched = self._unsearched, []
        batch: list[tuple[str, int, int, str]] = []
        for rel, entry in todo:
            text = read_file(entry, max_size)
            if text is not None:
                batch.append((rel, entry.size, entry.mtime_ns, index_terms(text)))
            if len(batch) >= BATCH:
                store.save_terms(batch)
                batch.clear()
        store.save_terms(batch)
        if self._memory_search is not None:
            self._fill_memory_search(store)
        self.progress.seconds += time.perf_counter() - started

    def _load_graph(
        self, store: IndexStore, files: list[tuple[str, str, Refs, list[str] | None]]
    ) -> None:
        """Fill the graph, resolve what the store did not hold and store that."""
        with self._lock:
            key = self.graph.key(rel for rel, *_ in files)
            same = key == store.file_set()
            self.graph.load(f if same else (*f[:3], None) for f in files)
            todo = [f[0] for f in files if not same or f[3] is None]
            resolved = self.graph.resolved(todo)  # here in the background, not in a request
        if resolved or not same:
            store.save_targets(key, resolved)

    def _fill_memory_search(self, store: IndexStore) -> None:
        search = IdentifierIndex()
        for rel, terms in store.terms().items():
            search.update(rel, terms)
        with self._lock:
            self._memory_search = search

    def update(self, rel: str, entry: FileEntry, text: str) -> None:
        """One file changed on disk (blocking)."""
        record = record_of(rel, (entry.size, entry.mtime_ns), text)
        with self._lock:
            self.graph.put(rel, record.language, record.imports)
            if self._memory_search is not None:
                self._memory_search.update(rel, record.terms or "")
        self.store.save([record])

    def remove(self, rel: str) -> None:
        """One file was deleted (or may no longer be read)."""
        with self._lock:
            self.graph.remove(rel)
            if self._memory_search is not None:
                self._memory_search.remove(rel)
            self._symbols.pop(rel, None)
        self.store.remove([rel])

    # -- lookups ----------------------------------------------------------------------
    def related(self, query: str, limit: int, exclude: Collection[str]) -> list[tuple[str, float]]:
        """Files sharing the query's rarest identifiers, best first (BM25)."""
        terms = identifiers(query).keys()
        store = self.store
        if self._memory_search is not None:
            with self._lock:
                return self._memory_search.rank_terms(terms, limit, exclude)
        return store.rank(terms, limit, exclude)

    def symbols(
        self, rel: str, stamp: Stamp, read: Callable[[], str | None]
    ) -> list[Symbol] | None:
        """The file's symbols: from memory, the store, or outlined now from `read()` (called
        only then) and stored."""
        with self._lock:
            cached = self._symbols.get(rel)
            if cached is not None and cached[0] == stamp:
                self._symbols.move_to_end(rel)
                return cached[1]
        store = self.store
        symbols = store.symbols(rel, *stamp)
        if symbols is None:
            source = read()
            if source is None:
                return None
            symbols = _redacted(outline(source, language_of(rel), exact=False))
            store.save_symbols(rel, *stamp, symbols)
        with self._lock:
            self._symbols[rel] = (stamp, symbols)
            while len(self._symbols) > SYMBOL_CACHE:
                self._symbols.popitem(last=False)
        return symbols


def _redacted(symbols: list[Symbol]) -> list[Symbol]:
    """The symbols with secret-looking text in their headers (`API_KEY = "sk-..."`) replaced by
    markers, as the prompt would show them: the store must not keep a copy of a key."""
    found = redact("\n".join(s.signature for s in symbols))
    if not found.count:
        return symbols
    out = []
    for symbol in symbols:
        header = redact(symbol.signature).text
        if header == symbol.signature:
            out.append(symbol)
        else:
            out.append(
                Symbol(symbol.name, symbol.kind, symbol.line, symbol.end_line, header, symbol.depth)
            )
    return out
