"""The repository map's weighted import graph, kept up to date one changed file at a time."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

from .import_graph import ImportGraph
from .map_rank import (
    Edges,
    GraphFacts,
    MapFocus,
    edge_rows,
    file_edges,
    graph_facts,
    imported_weights,
    rank_files,
)
from .resolve import FileSet

__all__ = ["MapGraph"]

RANKINGS = 8  # the rankings kept per graph: a few foci (the open files)


class MapGraph:
    """`map_rank.file_edges` of the import graph, its `graph_facts` and the rankings made
    from them, kept across index generations (every save moves the generation).

    A file's row depends only on its own imports and on what they resolve against: the set of
    files (and the root's name and Go module). So while that stays the same (the graph's
    FileSet, which it makes anew when a file comes or goes, and the list of files asked for),
    only the rows of the files `changed` names are made again; else all of them (the import
    graph's rule too: a new file may be what an old import names). The facts and rankings are
    kept until a row actually changes: most saves change no import.

    Not thread-safe: call it under the lock the import graph is filled under."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget everything (a new workspace, a new graph)."""
        self._edges: Edges = {}
        self._imported: dict[str, float] = {}  # map_rank.imported_weights of the edges
        self._files: Sequence[str] = ()
        self._known: frozenset[str] = frozenset()
        self._file_set: FileSet | None = None  # the graph's, when the rows were made
        self._go_module: str | None = None
        self._dirty: set[str] = set()
        self.version = 0  # moves whenever the edges or the files do
        self.rebuilds = 0  # how many times every row was made (for tests and logs)
        self._facts: tuple[int, GraphFacts] | None = None
        self._rankings: OrderedDict[MapFocus, tuple[int, list[str]]] = OrderedDict()

    def changed(self, rels: Iterable[str]) -> None:
        """These files were updated in (or removed from) the import graph."""
        self._dirty.update(rels)

    def edges(self, graph: ImportGraph, files: Sequence[str]) -> Edges:
        """`file_edges(graph, files)`, made again only where something changed."""
        file_set = graph.files()
        same_files = files is self._files or files == self._files
        if not same_files or file_set is not self._file_set or graph.go_module != self._go_module:
            self._edges = file_edges(graph, files)
            self._imported = imported_weights(self._edges)
            self._files, self._known = files, frozenset(files)
            self._file_set, self._go_module = file_set, graph.go_module
            self._dirty.clear()
            self.version += 1
            self.rebuilds += 1
            return self._edges
        if self._dirty:
            todo = [rel for rel in sorted(self._dirty) if rel in self._known]
            self._dirty.clear()
            moved = False
            for rel, row in edge_rows(graph, todo).items():
                old = self._edges.get(rel)
                if row == old:
                    continue
                moved = True
                self._weigh(old, -1.0)
                self._weigh(row, 1.0)
                if row is None:
                    del self._edges[rel]
                else:
                    self._edges[rel] = row
            if moved:
                self.version += 1
        return self._edges

    def _weigh(self, row: dict[str, float] | None, sign: float) -> None:
        """Add a row's weights to the imported weights (`sign` -1: take them away). The weights
        are whole numbers, so the sums are exactly those of `imported_weights`."""
        for target, weight in (row or {}).items():
            total = self._imported.get(target, 0.0) + sign * weight
            if total:
                self._imported[target] = total
            else:
                del self._imported[target]

    def ranked(self, graph: ImportGraph, files: Sequence[str], focus: MapFocus) -> list[str]:
        """`rank_files(files, edges, focus)`, kept for the focus while the edges stay the same."""
        edges = self.edges(graph, files)
        kept = self._rankings.get(focus)
        if kept is not None and kept[0] == self.version:
            self._rankings.move_to_end(focus)
            return kept[1]
        if self._facts is None or self._facts[0] != self.version:
            self._facts = (self.version, graph_facts(files, edges, self._imported))
        ranked = rank_files(files, edges, focus, self._facts[1])
        self._rankings[focus] = (self.version, ranked)
        self._rankings.move_to_end(focus)
        while len(self._rankings) > RANKINGS:
            self._rankings.popitem(last=False)
        return ranked
