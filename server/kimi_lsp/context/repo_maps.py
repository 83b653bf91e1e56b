"""The engine's repository maps: ranked around a focus, kept by key, outlined within a budget."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING

from .map_graph import MapGraph
from .map_rank import Edges, MapFocus
from .repomap import RepoMap, ranked_map, repo_map
from .symbols import Symbol

if TYPE_CHECKING:
    from .engine import ContextEngine

log = logging.getLogger(__name__)

# What one request may outline for the map, in bytes of source: outlines run at ~18 MB/s (this
# Python's stdlib, one core), so ~30 ms. The map of a whole window can need ~800 files (~1 s);
# the files past this are shown by path and outlined in the background for the next map.
MAP_FRESH_BYTES = 512_000
MAP_ENTRIES = 4  # the builder's early guess and the map it ends with, for two foci


class FreshBudget:
    """How many bytes of source a request may still outline (`limit` None: no limit).

    Files are taken in the order asked while any budget is left, so one big file may overrun
    it; which files are taken depends only on the order and sizes (deterministic)."""

    def __init__(self, limit: int | None) -> None:
        self.left = limit
        self.deferred: list[str] = []  # asked for after the budget ran out, in order

    def take(self, rel: str, size: int) -> bool:
        """Whether `rel` (`size` bytes) may be outlined now; else it is remembered as deferred."""
        if self.left is None:
            return True
        if self.left <= 0:
            self.deferred.append(rel)
            return False
        self.left -= size
        return True


class MapCache:
    """The last few maps (thread-safe): by key (the layout's index generation, or the ranked
    graph's version and the focus) and the size each was made for, each with the files it
    looked at (None: it holds paths not outlined yet, or it is the layout), so that a change
    to other files keeps it.

    A map made for a size fits a smaller one as it is when its text does: the map made for
    the smaller size would be the same (the files that fit are a prefix of the ranking, the
    names per file the most that fit), so it is reused: the builder's early guess at the map
    when the map ends up smaller, and the next request's map when an edit left it less room
    (while files are outlined in the background, a map made again could differ)."""

    def __init__(self, entries: int = MAP_ENTRIES) -> None:
        self._entries = entries
        self._maps: OrderedDict[tuple[Hashable, int], tuple[RepoMap, frozenset[str] | None]]
        self._maps = OrderedDict()
        self._lock = threading.Lock()
        self.forgotten = 0  # how many times maps were forgotten: see `put`

    def get(self, key: Hashable, size: int) -> RepoMap | None:
        with self._lock:
            found = self._maps.get((key, size))
            if found is None:
                fitting = [
                    (made_for, kept)
                    for (other, made_for), kept in self._maps.items()
                    if other == key and made_for > size and len(kept[0].text) <= size
                ]
                if not fitting:
                    return None
                size, found = min(fitting, key=lambda pair: pair[0])
            self._maps.move_to_end((key, size))
            return found[0]

    def put(
        self,
        key: Hashable,
        size: int,
        made: RepoMap,
        looked: frozenset[str] | None = None,
        since: int | None = None,
    ) -> None:
        """Keep `made`, unless files changed since `since` (`forgotten` when it was begun):
        it may hold what they held before."""
        with self._lock:
            if since is not None and since != self.forgotten:
                return
            self._maps[(key, size)] = (made, looked)
            self._maps.move_to_end((key, size))
            while len(self._maps) > self._entries:
                self._maps.popitem(last=False)

    def forget(self, changed: set[str]) -> None:
        """Drop the maps that looked at any of these files (or that do not say what they did)."""
        with self._lock:
            self.forgotten += 1
            for entry, (_, looked) in list(self._maps.items()):
                if looked is None or not looked.isdisjoint(changed):
                    del self._maps[entry]

    def clear(self) -> None:
        with self._lock:
            self._maps.clear()


class Warmer:
    """Runs jobs one at a time on a daemon thread, a key's job once while it is pending.

    Jobs wait for `start`: a request submits them while it plans and starts them when done;
    and while any request is planned (`paused`), a job waits at its next step (`wait_idle`):
    it would take the interpreter's lock from the request half of the time."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[Hashable, Callable[[], None]] = OrderedDict()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0  # requests being planned
        self._thread: threading.Thread | None = None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold the jobs' next steps while the block runs (a request being planned)."""
        with self._lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1
                if not self._busy:
                    self._idle.notify_all()

    def wait_idle(self) -> None:
        """A job's step: wait while a request is being planned."""
        with self._lock:
            while self._busy:
                self._idle.wait()

    def submit(self, key: Hashable, job: Callable[[], None]) -> None:
        with self._lock:
            self._jobs.setdefault(key, job)

    def start(self) -> None:
        """Run the jobs submitted so far (and any submitted while they run) in the background."""
        with self._lock:
            if self._jobs and self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kimi-map", daemon=True)
                self._thread.start()

    def join(self) -> None:
        """Wait until the jobs started so far have run."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._jobs:
                    self._thread = None
                    return
                _, job = self._jobs.popitem(last=False)
            try:
                job()
            except Exception:  # a cache warming up: the next map outlines what it needs itself
                log.exception("Outlining files for the repository map failed")


class RepoMaps:
    """The engine's maps: once the import graph is built, the files ranked around a focus with
    their symbols, best first (map_rank.py, repomap.py); before that the bare layout.

    A map is kept for its key (the ranking's version, the focus, its size) and the same map
    returned until the ranking changes or a file it looked at does, so consecutive requests
    share it (the prompt's prefix), across saves of the current file too. The graph's edges
    and the rankings are kept across saves and made again only where a file's imports changed
    (map_graph.py). A map outlines the files it shows within a budget of `fresh_bytes`; the
    files past that are shown by path and outlined (and stored) in the background: the next
    map made (after any save, for another file) shows their names, at no cost to its
    request."""

    def __init__(self, engine: ContextEngine) -> None:
        self._engine = engine
        self._maps = MapCache()
        self._graph = MapGraph()
        self.fresh_bytes: int | None = MAP_FRESH_BYTES  # None: all it needs (the CLI)
        self.warmer = Warmer()

    def clear(self) -> None:
        """Forget every map (the engine was configured again: generations start again)."""
        self._maps.clear()
        with self._engine._lock:
            self._graph.clear()

    def changed(self, rels: list[str]) -> None:
        """The engine updated these files in the import graph (or removed them): their edges
        are made again, and the maps that looked at them are dropped. A map that looked at
        none of them stays (a save of the current file, whose names no map shows, keeps the
        map it was sent with) as long as the ranking stays the same."""
        with self._engine._lock:
            self._graph.changed(rels)
        self._maps.forget(set(rels))

    def get(self, max_chars: int, focus: MapFocus, fresh: FreshBudget | None = None) -> RepoMap:
        """The map of at most `max_chars` around `focus`; `fresh`: what it may outline (one
        request's budget, shared by the sizes it asks for; default `fresh_bytes`)."""
        engine = self._engine
        since = self._maps.forgotten
        files = engine.all_rels()
        if not engine.deep_ready.is_set():
            key: Hashable = ("layout", engine.index.generation)
            made = self._maps.get(key, max_chars)
            if made is None:
                made = RepoMap(repo_map(files, {}, max_chars), "layout of the workspace")
                self._maps.put(key, max_chars, made)
            return made
        with engine._lock:  # the graph is filled under it
            ranked = self._graph.ranked(engine.graph, files, focus)
            key = (self._graph.version, focus)
        made = self._maps.get(key, max_chars)
        if made is not None:
            return made
        fresh = fresh or FreshBudget(self.fresh_bytes)
        looked: list[str] = []
        symbols_of = partial(self._symbols, focus.current, fresh, looked)
        text, shown = ranked_map(ranked, symbols_of, max_chars)
        left = f", {len(files) - shown:,} left out" if shown < len(files) else ""
        reason = f"files ranked by imports {focus.describe()}: {shown:,} of {len(files):,}"
        made = RepoMap(text, reason + left + _pending(fresh.deferred, ranked[:shown]))
        if fresh.deferred:  # kept until any file changes, then made with the names outlined
            generation = engine.index.generation
            warm = partial(self._warm, generation, ranked, focus.current, max_chars)
            self.warmer.submit((key, max_chars), warm)
            self._maps.put(key, max_chars, made, since=since)
        else:
            self._maps.put(key, max_chars, made, frozenset(looked), since)
        return made

    def _symbols(
        self, current: str | None, fresh: FreshBudget, looked: list[str], rel: str
    ) -> list[Symbol] | None:
        """The names the map shows of `rel` (noted in `looked`), None when it is not outlined
        yet (`fresh` is spent). None of the current file's, which is sent itself (and whose
        names change as it is written: the map stays the same across its saves)."""
        if rel == current:
            return []
        looked.append(rel)
        deferred = len(fresh.deferred)
        symbols = self._engine.symbols_within(rel, fresh)
        if symbols is None and len(fresh.deferred) == deferred:
            return []  # not indexed or unreadable: its path alone, as in a map made later
        return symbols

    def _warm(self, generation: int, ranked: list[str], current: str | None, size: int) -> None:
        """Outline (and store) all that the map of `ranked` shows (on the warmer's thread)."""
        if self._engine.index.generation == generation:
            ranked_map(ranked, partial(self._symbols_later, generation, current), size)

    def _symbols_later(self, generation: int, current: str | None, rel: str) -> list[Symbol] | None:
        self.warmer.wait_idle()  # a file at a time, none while a request is planned
        if self._engine.index.generation != generation:
            return None  # the workspace changed: the next map asks for what it needs
        return self._symbols(current, FreshBudget(None), [], rel)

    def edges(self, files: list[str]) -> Edges:
        """The import graph's weighted edges (map_rank.file_edges) of `files`, as kept."""
        engine = self._engine
        with engine._lock:  # the graph is filled under it
            return self._graph.edges(engine.graph, files)


def _pending(deferred: list[str], shown: list[str]) -> str:
    """The reason's note on the files shown by path until they are outlined."""
    pending = len(set(deferred).intersection(shown))
    return f" ({pending:,} by path: their names follow once outlined)" if pending else ""
