"""Which files the repository map shows first: the import graph ranked around the focus."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from .import_graph import ImportGraph
from .imports import ImportRef
from .languages import PYTHON, language_of, normalize
from .rank import by_rank, pagerank
from .resolve import python_module, python_submodule, resolve_imports

__all__ = [
    "GraphFacts",
    "MapFocus",
    "edge_rows",
    "file_edges",
    "graph_facts",
    "imported_weights",
    "personalization",
    "rank_files",
]

Edges = dict[str, dict[str, float]]

# Teleport weights: the walk restarts mostly at the current file, less at the other open
# documents and at the current file's direct neighbours (its imports and importers).
CURRENT_WEIGHT = 4.0
OPEN_WEIGHT = 2.0
NEIGHBOUR_WEIGHT = 1.0
# Half of each step teleports back: the map is about the focus's neighbourhood, and with the
# usual 0.85 the walk drifts to the workspace's hubs (on the stdlib, at asyncio/tasks.py,
# types.py, abc.py and _weakrefset.py outranked tasks.py itself; at 0.5 its imports and
# importers come first, then the hubs).
MAP_DAMPING = 0.5


@dataclass(frozen=True, slots=True)
class MapFocus:
    """What the map is ranked around: the current file and the other open documents."""

    current: str | None = None
    open: tuple[str, ...] = ()

    def describe(self) -> str:
        """A few words for the manifest: `around a/b.py (and 2 open files)`."""
        others = len([rel for rel in self.open if rel != self.current])
        files = f"{others} open file{'s' if others > 1 else ''}"
        if self.current is not None:
            return f"around {self.current}" + (f" and {files}" if others else "")
        return f"around {files}" if others else "by how much the workspace imports each file"


def file_edges(graph: ImportGraph, files: Iterable[str]) -> Edges:
    """importer -> imported file -> weight: one for each file it imports (as the import graph
    resolved them), plus one per name a `from m import a, b` takes from m itself (a reference
    to a definition in it, not to a submodule), so a module whose definitions are used weighs
    more than one merely imported."""
    return {rel: row for rel, row in edge_rows(graph, files).items() if row is not None}


def edge_rows(graph: ImportGraph, files: Iterable[str]) -> dict[str, dict[str, float] | None]:
    """The rows of `file_edges` for these files (None for a file that imports none): a row
    depends only on the file's own imports and the set of files they resolve against."""
    references = _References(graph)
    rows: dict[str, dict[str, float] | None] = {}
    for rel in files:
        targets = graph.imports(rel)
        if not targets:
            rows[rel] = None
            continue
        row = dict.fromkeys(targets, 1.0)
        language = normalize(language_of(rel))
        for ref in graph.refs(rel):
            names = [name for name in ref.names if name != "*"]
            if names:
                for target, count in references.of(rel, ref, names, language):
                    if target in row:
                        row[target] += count
        rows[rel] = row
    return rows


class _References:
    """Which file defines the names a `from` import takes. Python modules are looked up once
    per directory: an import names the same module from every file of a directory."""

    def __init__(self, graph: ImportGraph) -> None:
        self._graph = graph
        self._fs = graph.files()
        self._modules: dict[tuple[str, str], str | None] = {}

    def of(
        self, rel: str, ref: ImportRef, names: list[str], language: str
    ) -> list[tuple[str, float]]:
        if language != PYTHON:  # `{a, b}` from one module
            targets = resolve_imports(rel, [ref], language, self._fs, self._graph.go_module)
            return [(targets[0], float(len(names)))] if targets else []
        key = (rel.rpartition("/")[0], ref.spec)
        if key not in self._modules:
            self._modules[key] = python_module(rel, ref.spec, self._fs)
        module = self._modules[key]
        if module is None:
            return []
        defined = sum(1 for name in names if python_submodule(self._fs, module, name) is None)
        return [(module, float(defined))] if defined else []


def personalization(
    focus: MapFocus, neighbours: Iterable[str], files: Collection[str]
) -> dict[str, float]:
    """The teleport weights of the walk (see the weights above), for the files in `files`;
    empty without a focus."""
    personal: dict[str, float] = {}
    for rel in neighbours:
        personal[rel] = max(personal.get(rel, 0.0), NEIGHBOUR_WEIGHT)
    for rel in focus.open:
        personal[rel] = max(personal.get(rel, 0.0), OPEN_WEIGHT)
    if focus.current is not None:
        personal[focus.current] = CURRENT_WEIGHT
    return {rel: weight for rel, weight in personal.items() if rel in files}


@dataclass(frozen=True, slots=True)
class GraphFacts:
    """What ranking any focus needs of one graph besides its edges, found once: the files,
    and the same files most imported first (by the weights of their in-edges, then by path)."""

    known: frozenset[str]
    by_imports: Sequence[str]


def imported_weights(edges: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Each imported file's in-edges' weights added up (files imported by none are absent)."""
    imported: dict[str, float] = {}
    for row in edges.values():
        for target, weight in row.items():
            imported[target] = imported.get(target, 0.0) + weight
    return imported


def graph_facts(
    files: Iterable[str],
    edges: Mapping[str, Mapping[str, float]],
    imported: Mapping[str, float] | None = None,
) -> GraphFacts:
    """The facts of `files` along `edges` (`imported`: their `imported_weights`, if known)."""
    weights = imported_weights(edges) if imported is None else imported
    known = frozenset(files)
    most = sorted(known.intersection(weights), key=lambda rel: (-weights[rel], rel))
    return GraphFacts(known, most + sorted(known.difference(weights)))


def rank_files(
    files: Sequence[str],
    edges: Mapping[str, Mapping[str, float]],
    focus: MapFocus,
    facts: GraphFacts | None = None,
) -> list[str]:
    """`files`, the most relevant to `focus` first (`facts`: `graph_facts` of them, if known).

    The walk runs over the files reachable from the focus only (a closed set: no edge leaves
    it, so the ranks are those of the whole graph), so its cost follows the focus's part of
    the workspace, not the workspace's size. The files it cannot reach follow, the most
    imported first (a walk teleporting anywhere would order them much the same), then by path.
    Without a focus: PageRank over the whole graph.
    """
    facts = facts or graph_facts(files, edges)
    neighbours: list[str] = []
    if focus.current is not None:
        neighbours.extend(edges.get(focus.current, {}))
        neighbours.extend(rel for rel, row in edges.items() if focus.current in row)
    personal = personalization(focus, neighbours, facts.known)
    if not personal:
        return by_rank(pagerank(files, edges))
    walk = _reachable(personal, edges, facts.known)
    reached = by_rank(pagerank(walk, edges, personal, MAP_DAMPING))
    return reached + [rel for rel in facts.by_imports if rel not in walk]


def _reachable(
    start: Iterable[str], edges: Mapping[str, Mapping[str, float]], known: Collection[str]
) -> set[str]:
    """The files of `known` that `start` leads to along `edges` (`start` included)."""
    found = set(start)
    stack = list(found)
    while stack:
        for target in edges.get(stack.pop(), {}):
            if target in known and target not in found:
                found.add(target)
                stack.append(target)
    return found
