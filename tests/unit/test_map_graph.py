"""The map's graph kept up to date a changed file at a time (context/map_graph.py): always the
edges, weights and rankings that making them all again gives."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from kimi_lsp.context import map_graph
from kimi_lsp.context.engine import ContextEngine
from kimi_lsp.context.import_graph import ImportGraph
from kimi_lsp.context.map_graph import MapGraph
from kimi_lsp.context.map_rank import (
    MapFocus,
    file_edges,
    graph_facts,
    imported_weights,
    rank_files,
)
from kimi_lsp.tokens.counter import TokenCounter

# Module names the random sources import; some exist at first, others are created later (a new
# file is what an old import names) and some are deleted.
NAMES = [f"m{i}" for i in range(8)]


def _source(rng: random.Random) -> str:
    lines = []
    for name in rng.sample(NAMES, rng.randint(0, 4)):
        form = rng.randrange(4)
        if form == 0:
            lines.append(f"from .{name} import f_{name}, g_{name}")
        elif form == 1:
            lines.append(f"import pkg.{name}")
        elif form == 2:
            lines.append(f"from . import {name}")  # a submodule, not a definition
        else:
            lines.append(f"from pkg.{name} import *")
    lines.append(f"\ndef f_{rng.randrange(99)}():\n    return {rng.randrange(99)}\n")
    return "\n".join(lines)


def _step(rng: random.Random, present: set[str]) -> tuple[str, str | None]:
    """(name, new source or None: delete): an edit, a creation or a deletion."""
    name = rng.choice(NAMES)
    if name in present and rng.random() < 0.25:
        return name, None
    return name, _source(rng)


def _check(maps: MapGraph, graph: ImportGraph, files: list[str]) -> None:
    edges = maps.edges(graph, files)
    full = file_edges(graph, files)
    assert edges == full
    assert maps._imported == imported_weights(full)
    for focus in (MapFocus("pkg/m0.py"), MapFocus("pkg/m3.py", ("pkg/m5.py",)), MapFocus()):
        expected = rank_files(files, full, focus)
        assert maps.ranked(graph, files, focus) == expected
        assert rank_files(files, full, focus, graph_facts(files, full)) == expected


@pytest.mark.parametrize("seed", range(6))
def test_edges_kept_a_file_at_a_time_equal_edges_made_again(seed: int) -> None:
    rng = random.Random(seed)
    graph = ImportGraph()
    graph.root_name = "ws"
    present = set(NAMES[:5])
    graph.update("pkg/__init__.py", "python", "")
    for name in sorted(present):
        graph.update(f"pkg/{name}.py", "python", _source(rng))
    maps = MapGraph()
    _check(maps, graph, sorted(graph.files().files))
    rebuilds = maps.rebuilds
    for _ in range(60):
        name, text = _step(rng, present)
        rel = f"pkg/{name}.py"
        created_or_deleted = (text is None) or name not in present
        if text is None:
            graph.remove(rel)
            present.discard(name)
        else:
            graph.update(rel, "python", text)
            present.add(name)
        maps.changed([rel])
        files = ["pkg/__init__.py", *sorted(f"pkg/{n}.py" for n in present)]
        _check(maps, graph, files)
        # an edit makes only its own row again; a file come or gone, every row
        assert maps.rebuilds == rebuilds + created_or_deleted
        rebuilds = maps.rebuilds


def test_a_changed_go_module_or_root_makes_every_row_again() -> None:
    graph = ImportGraph()
    graph.update("a.py", "python", "import b\n")
    graph.update("b.py", "python", "")
    maps = MapGraph()
    files = ["a.py", "b.py"]
    assert maps.edges(graph, files) == {"a.py": {"b.py": 1.0}}
    version = maps.version
    maps.edges(graph, files)
    assert (maps.rebuilds, maps.version) == (1, version)  # nothing changed: nothing made
    graph.go_module = "example.com/m"
    maps.edges(graph, files)
    graph.root_name = "other"
    maps.edges(graph, files)
    assert maps.rebuilds == 3
    maps.edges(graph, ["a.py"])  # fewer files asked for
    assert maps.rebuilds == 4 and maps.edges(graph, ["a.py"]) == file_edges(graph, ["a.py"])


def test_a_save_that_changes_no_import_keeps_the_ranking() -> None:
    graph = ImportGraph()
    graph.update("a.py", "python", "import b\n")
    graph.update("b.py", "python", "")
    maps = MapGraph()
    files = ["a.py", "b.py"]
    first = maps.ranked(graph, files, MapFocus("a.py"))
    graph.update("a.py", "python", "import b\n# saved\n")
    maps.changed(["a.py"])
    assert maps.ranked(graph, files, MapFocus("a.py")) is first
    graph.update("a.py", "python", "")
    maps.changed(["a.py"])
    assert maps.ranked(graph, files, MapFocus("a.py")) == ["a.py", "b.py"]
    assert maps.edges(graph, files) == {}


def _write(path: Path, text: str, stamp: list[int]) -> None:
    path.write_text(text)
    stamp[0] += 1_000_000_000  # a distinct mtime for each write, however fast they come
    os.utime(path, ns=(stamp[0], stamp[0]))


def test_the_engine_keeps_the_map_edges_across_edits_creations_and_deletions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(7)
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    package = root / "pkg"
    package.mkdir()
    stamp = [1_700_000_000_000_000_000]
    _write(package / "__init__.py", "", stamp)
    present = set(NAMES[:5])
    for name in sorted(present):
        _write(package / f"{name}.py", _source(rng), stamp)
    engine = ContextEngine(TokenCounter())
    engine.configure([root], [], 1_000_000)
    engine.build_index()
    engine.build_deep(search=False)
    made: list[int] = []
    real = file_edges

    def counting(*args: object) -> object:
        made.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(map_graph, "file_edges", counting)
    engine.maps.edges(engine.all_rels())
    for _ in range(25):
        name, text = _step(rng, present)
        path = package / f"{name}.py"
        created_or_deleted = text is None or name not in present
        if text is None:
            path.unlink()
            present.discard(name)
        else:
            _write(path, text, stamp)
            present.add(name)
        engine.refresh([path])
        files = engine.all_rels()
        assert sorted(files) == ["pkg/__init__.py", *sorted(f"pkg/{n}.py" for n in present)]
        made.clear()
        assert engine.maps.edges(files) == real(engine.graph, files)
        assert made == ([1] if created_or_deleted else [])
