"""The context engine: the workspace index, import graph and search index behind build_plan."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..secrets.files import secret_file_reason
from ..secrets.redact import Redactor
from ..tokens.counter import TokenCounter
from .builder import ContextRequest, OpenDocument, build_plan, line_span
from .deep_index import DeepIndex, read_file
from .definitions import ModuleInfo, ModuleInfos, Resolver, resolve_uses
from .identifiers import uses_in_window, window_of
from .import_graph import ImportGraph
from .imports import imports_of
from .languages import OTHER, language_of, normalize
from .map_rank import MapFocus
from .plan import ContextPlan
from .repo_maps import FreshBudget, RepoMaps
from .repomap import RepoMap
from .resolve import FileSet, resolve_imports
from .rules import RuleFile, read_rules
from .slices import Slice
from .slicing import group_uses, make_slices
from .symbols import Symbol, outline_text
from .workspace import FileEntry, WorkspaceIndex

log = logging.getLogger(__name__)


def uri_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


INLINE_COUNT_CHARS = 1_024  # shorter blocks are counted on the caller's thread


class BlockCounts:
    """Token counts of rendered blocks, remembered across requests, counted on counting threads.

    Keys are (hash, length) of the block text; the cache empties when the tokenizer changes.
    Between two requests only the blocks that changed (usually the current file) are counted.
    """

    def __init__(self, counter: TokenCounter, entries: int = 8_192) -> None:
        self.counter = counter
        self._entries = entries
        self._cache: OrderedDict[tuple[int, int], int] = OrderedDict()
        self._generation = counter.generation
        self._lock = threading.Lock()
        self._running: dict[tuple[int, int], Future[int]] = {}

    def _check_generation(self) -> None:
        if self.counter.generation != self._generation:
            self._running.clear()
            self._cache.clear()
            self._generation = self.counter.generation

    def count(self, text: str) -> int:
        """The block's count: from the cache, or counted now (on the counting threads)."""
        return self.start(text)()

    def start(self, text: str) -> Callable[[], int]:
        """Begin counting `text` on a counting thread and return what waits for the count.

        tiktoken releases the GIL while it encodes, so the caller goes on rendering the next
        blocks meanwhile; short texts are counted at once (a thread hop costs more). A text
        already being counted is not counted twice."""
        key = (hash(text), len(text))
        with self._lock:
            self._check_generation()
            hit = self._cache.get(key)
            running = self._running.get(key)
        if hit is not None:
            return lambda: hit
        if running is not None:
            return running.result
        if len(text) < INLINE_COUNT_CHARS:
            tokens = self.counter.count(text)
            self._remember(key, tokens)
            return lambda: tokens
        future = self.counter.submit(text)
        with self._lock:
            self._running[key] = future
        future.add_done_callback(partial(self._finished, key))
        return future.result

    def _finished(self, key: tuple[int, int], future: Future[int]) -> None:
        with self._lock:
            self._running.pop(key, None)
        if not future.cancelled() and future.exception() is None:
            self._remember(key, future.result())

    def _remember(self, key: tuple[int, int], tokens: int) -> None:
        with self._lock:
            self._cache[key] = tokens
            while len(self._cache) > self._entries:
                self._cache.popitem(last=False)


class CachedRedactor:
    """Redaction results remembered by content, so unchanged files are not scanned again."""

    def __init__(self, entries: int = 4_096) -> None:
        self._entries = entries
        self._cache: OrderedDict[tuple[int, int, str | None, int, bool], tuple[str, int]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def __call__(self, redactor: Redactor, text: str) -> tuple[str, int]:
        others = hash(redactor.other_keys)
        key = (hash(text), len(text), redactor.api_key, others, redactor.patterns)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        result = redactor(text)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self._entries:
                self._cache.popitem(last=False)
        return result


class ContextEngine:
    """Owns the workspace's derived data; `plan()` is pure CPU work, run it in a thread."""

    def __init__(self, counter: TokenCounter, index_dir: Path | None = None) -> None:
        """`index_dir`: where the on-disk index of each workspace lives (None: in memory)."""
        self.counter = counter
        self.blocks = BlockCounts(counter)
        self._redactions = CachedRedactor()
        self.index = WorkspaceIndex([])
        self._max_file_size = 1_000_000
        self.graph = ImportGraph()
        self.index_ready = threading.Event()
        self.deep_ready = threading.Event()  # the import graph: importers
        self.search_ready = threading.Event()  # the search terms: related files
        # Whether `related` builds the search stage itself when it is first asked (the CLI:
        # one request, which may not get that far) rather than answer nothing until it is built
        self.search_on_demand = False
        self._search_lock = threading.Lock()
        self._lock = threading.RLock()
        self.deep = DeepIndex(self.graph, self._lock, index_dir)  # imports, search, symbols
        self._outlines: dict[tuple[str, int], str] = {}
        self._all_rels: tuple[int, list[str]] | None = None
        self._entries: tuple[int, dict[str, FileEntry]] | None = None
        self.maps = RepoMaps(self)  # the repository maps, ranked around each request's focus
        self.infos = ModuleInfos()  # per file, by content: what definitions resolve through
        self._file_set: tuple[int, FileSet] | None = None
        self.timings: dict[str, float] = {}

    # -- building ---------------------------------------------------------------------
    def configure(self, roots: Sequence[Path], exclude: Sequence[str], max_file_size: int) -> None:
        self.index = WorkspaceIndex(list(roots), exclude=exclude, max_file_size=max_file_size)
        self._max_file_size = max_file_size
        self.deep.configure(self.index.roots)
        with self._lock:
            self.graph.root_name = self.root_name()
            self._file_set = None
        self.maps.clear()  # kept by the index's generation, which starts again
        self.index_ready.clear()
        self.deep_ready.clear()
        self.search_ready.clear()

    def build_index(self) -> None:
        """Walk the workspace (blocking: call from a worker thread)."""
        started = time.perf_counter()
        self.index.build()
        self.timings["index"] = time.perf_counter() - started
        self.index_ready.set()

    def build_deep(self, search: bool = True) -> None:
        """Build the import graph, then (if `search`) the search index (blocking): from the
        on-disk index for the files unchanged since it was written, reading and parsing only
        the others. Importers are available (`deep_ready`) as soon as the graph is."""
        started = time.perf_counter()
        entries = [(self.entry_rel(entry), entry) for entry in self.index.files()]
        self.deep.build(entries, self._max_file_size)
        self.timings["deep"] = time.perf_counter() - started
        self.deep_ready.set()
        if search:
            self.build_search()

    def build_search(self) -> None:
        """Store the search terms of the files the on-disk index has none of (blocking; once
        per deep build: later calls return when the first is done)."""
        with self._search_lock:
            if self.search_ready.is_set() or not self.deep_ready.is_set():
                return
            started = time.perf_counter()
            self.deep.build_search(self._max_file_size)
            self.timings["search"] = time.perf_counter() - started
            self.search_ready.set()

    def refresh(self, paths: Iterable[Path]) -> None:
        """Files were created, changed or deleted on disk (blocking)."""
        paths = list(paths)
        self.index.refresh(paths)
        if not self.deep_ready.is_set():
            return
        changed: list[str] = []
        for path in paths:
            rel = self.rel(path)
            if rel is None:
                continue
            entry = self.index.lookup(path)
            text = read_file(entry, self._max_file_size) if entry is not None else None
            if entry is None or text is None:
                self.deep.remove(rel)
            else:
                self.deep.update(rel, entry, text)
            changed.append(rel)
        self.maps.changed(changed)  # their edges in the map's graph, made again

    # -- lookups ----------------------------------------------------------------------
    def file_symbols(self, rel: str) -> list[Symbol] | None:
        """The symbols of one indexed file as on disk (None when it is not indexed or unreadable).

        Outlined on first ask and kept (in memory and in the on-disk index) while the file's
        size and mtime stay the same, so only the files someone looks at (the repo map's) are
        ever outlined."""
        return self.symbols_within(rel, FreshBudget(None))

    def symbols_within(self, rel: str, fresh: FreshBudget) -> list[Symbol] | None:
        """`file_symbols`, outlining the file only if `fresh` allows (else None: deferred)."""
        entry = self.entries().get(rel)
        if entry is None:
            return None

        def read() -> str | None:  # called only when the symbols are neither kept nor stored
            if not fresh.take(rel, entry.size):
                return None
            return read_file(entry, self._max_file_size)

        return self.deep.symbols(rel, (entry.size, entry.mtime_ns), read)

    def entry_rel(self, entry: FileEntry) -> str:
        """An indexed file's key: its path relative to its root (prefixed when multi-root)."""
        if len(self.index.roots) > 1:
            return f"{entry.root.name}/{entry.rel}"
        return entry.rel

    def all_rels(self) -> list[str]:
        """Every indexed file's key, cached per index generation."""
        generation = self.index.generation
        if self._all_rels is None or self._all_rels[0] != generation:
            self._all_rels = (generation, self._keys(self.index.files()))
        return self._all_rels[1]

    def _keys(self, entries: list[FileEntry]) -> list[str]:
        """`entry_rel` of each entry (one root: their own rel, without a call per file)."""
        if len(self.index.roots) > 1:
            return [self.entry_rel(entry) for entry in entries]
        return [entry.rel for entry in entries]

    def entries(self) -> dict[str, FileEntry]:
        """Every indexed file by key, per index generation (a map looks up thousands)."""
        generation = self.index.generation
        cached = self._entries
        if cached is None or cached[0] != generation:
            files = self.index.files()
            cached = self._entries = (generation, dict(zip(self._keys(files), files, strict=True)))
        return cached[1]

    def file_set(self) -> FileSet:
        """Every indexed file, indexed for import resolution (the import graph's once deep)."""
        if self.deep_ready.is_set():
            with self._lock:
                return self.graph.files()
        generation = self.index.generation
        if self._file_set is None or self._file_set[0] != generation:
            self._file_set = (generation, FileSet(self.all_rels(), self.root_name()))
        return self._file_set[1]

    def root_name(self) -> str | None:
        """The directory name of the single root (multi-root keys already start with it)."""
        roots = self.index.roots
        return roots[0].name if len(roots) == 1 else None

    def rel(self, path: Path) -> str | None:
        root = self.index.root_of(path)
        if root is None:
            return None
        try:
            rel = path.resolve().relative_to(root).as_posix()
        except ValueError:
            return None
        roots = self.index.roots
        return f"{root.name}/{rel}" if len(roots) > 1 else rel

    def rel_of_uri(self, uri: str) -> str | None:
        path = uri_to_path(uri)
        return self.rel(path) if path is not None else None

    def path_of(self, rel: str) -> Path | None:
        roots = self.index.roots
        if not roots:
            return None
        if len(roots) > 1:
            head, _, rest = rel.partition("/")
            root = next((r for r in roots if r.name == head), None)
            return root / rest if root else None
        return roots[0] / rel

    def secret_reason(self, uri: str) -> str | None:
        path = uri_to_path(uri)
        name = path.name if path else uri.rsplit("/", 1)[-1]
        return secret_file_reason(self.rel_of_uri(uri) or name)

    # -- planning ---------------------------------------------------------------------
    def plan(
        self,
        request: ContextRequest,
        budget: int,
        redactor: Redactor,
        open_documents: Mapping[str, OpenDocument],
    ) -> ContextPlan:
        sources = _Sources(self, open_documents)

        def redact_cached(text: str) -> tuple[str, int]:
            return self._redactions(redactor, text)

        with self.maps.warmer.paused():  # the map's background outlining waits meanwhile
            plan = build_plan(
                request, sources, self.blocks, redact_cached, budget, self.counter.describe()
            )
        self.maps.warmer.start()  # what the map left to outline, now that the request is done
        return plan

    def outline_of(self, rel: str, text: str, language: str) -> str:
        key = (rel, hash(text))
        cached = self._outlines.get(key)
        if cached is None:  # the symbols definitions resolve through, computed once
            cached = outline_text(self.infos.get(rel, text, language).symbols)
            if len(self._outlines) > 4_096:
                self._outlines.clear()
            self._outlines[key] = cached
        return cached

    def repo_map_text(self, max_chars: int, focus: MapFocus | None = None) -> str:
        return self.repo_map_for(max_chars, focus or MapFocus()).text

    def repo_map_for(self, max_chars: int, focus: MapFocus) -> RepoMap:
        """The repository map around `focus` (repo_maps.RepoMaps.get)."""
        made = self.maps.get(max_chars, focus)
        self.maps.warmer.start()  # what it left to outline
        return made


class _Sources:
    """The builder's view of the workspace for one request (open documents override disk)."""

    def __init__(self, engine: ContextEngine, open_documents: Mapping[str, OpenDocument]) -> None:
        self._engine = engine
        self._open = open_documents
        self._texts: dict[str, str | None] = {}
        # one request's outlining for the map: the builder may ask for two sizes of it
        self._map_fresh = FreshBudget(engine.maps.fresh_bytes)

    def _all(self) -> list[str]:
        return self._engine.all_rels()

    def text(self, rel: str) -> str | None:
        if rel in self._open:
            return self._open[rel].text
        # One read per file and request: the builder asks for most files twice (its estimate,
        # then its block), and each read checks the path and stats the file again.
        if rel in self._texts:
            return self._texts[rel]
        path = self._engine.path_of(rel)
        text = self._engine.index.read_text(path) if path is not None else None
        self._texts[rel] = text
        return text

    def uri(self, rel: str) -> str:
        if rel in self._open:
            return self._open[rel].uri
        path = self._engine.path_of(rel)
        return path.as_uri() if path is not None else rel

    def language(self, rel: str) -> str:
        return language_of(rel)

    def imports(self, rel: str, text: str, language: str) -> list[str]:
        refs = imports_of(text, language, exact=False)
        return resolve_imports(rel, refs, language, self._engine.file_set())

    def importers(self, rel: str) -> list[str]:
        if not self._engine.deep_ready.is_set():
            return []
        with self._engine._lock:
            return list(self._engine.graph.importers(rel))

    def related(self, query: str, limit: int, exclude: set[str]) -> list[tuple[str, float]]:
        engine = self._engine
        if not engine.search_ready.is_set():
            if not engine.search_on_demand:
                return []
            engine.build_search()  # the CLI's first ask (a no-op when the store had them all)
            if not engine.search_ready.is_set():
                return []
        return engine.deep.related(query, limit, exclude)

    def nearby(self, rel: str | None) -> list[str]:
        if rel is None:
            return []
        directory = rel.rsplit("/", 1)[0] if "/" in rel else ""
        return [
            f
            for f in self._all()
            if (f.rsplit("/", 1)[0] if "/" in f else "") == directory and f != rel
        ]

    def outline(self, rel: str, text: str, language: str) -> str:
        return self._engine.outline_of(rel, text, language)

    def repo_map(self, max_chars: int, request: ContextRequest) -> RepoMap:
        current = request.current.rel if request.current is not None else None
        focus = MapFocus(current, tuple(sorted(self._open)))
        return self._engine.maps.get(max_chars, focus, self._map_fresh)  # warmed after the plan

    def rules(self, request: ContextRequest) -> list[RuleFile]:
        """The project rules for the request's file (AGENTS.md files, .kimi/rules.md)."""
        current = uri_to_path(request.current.uri) if request.current is not None else None
        return read_rules(self._engine.index, current, self._rule_text)

    def _rule_text(self, path: Path) -> tuple[str, str] | None:
        rel = self._engine.rel(path)
        text = self.text(rel) if rel is not None else None
        return (rel, text) if rel is not None and text is not None else None

    def definitions(self, request: ContextRequest) -> list[Slice]:
        """Definitions of what the selection or cursor window uses, resolved in the workspace
        through the current file's imports, best first (identifiers.py, definitions.py)."""
        current = request.current
        if current is None or current.rel is None or normalize(current.language) == OTHER:
            return []
        rel, language = current.rel, normalize(current.language)
        here = self._engine.infos.get(rel, current.text, language)
        if request.selection is not None and request.selection[0] != request.selection[1]:
            span = line_span(current.text, *sorted(request.selection))
            lines: tuple[int, int] | None = span
            cursor = span[0]
        else:
            lines, cursor = None, request.cursor_line or 0
        window = window_of(current.text, lines, cursor)
        uses = uses_in_window(current.text, language, window, here.symbols, cursor)
        resolver = Resolver(self._engine.file_set(), partial(self._info, rel, here), language)
        grouped = group_uses(resolve_uses(resolver, rel, uses, here), uses.members)
        return make_slices(grouped, cursor, self._read, self.uri)

    def _info(self, current: str, here: ModuleInfo, rel: str) -> ModuleInfo | None:
        if rel == current:
            return here
        loaded = self._read(rel)
        return loaded[2] if loaded else None

    def _read(self, rel: str) -> tuple[str, str, ModuleInfo] | None:
        text = self.text(rel)
        if text is None:
            return None
        language = language_of(rel)
        return text, language, self._engine.infos.get(rel, text, language)

    def excluded(self) -> list[tuple[str, str]]:
        out = []
        for name, reason in self._engine.index.excluded():
            path = self._engine.path_of(name)
            out.append((path.as_uri() if path else name, reason))
        return out
