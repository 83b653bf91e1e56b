"""Unit tests for the repository map's ranking (context/map_rank.py) and the engine's map."""

from __future__ import annotations

import os
from pathlib import Path

from kimi_lsp.context.builder import ContextRequest, OpenDocument
from kimi_lsp.context.engine import ContextEngine
from kimi_lsp.context.import_graph import ImportGraph
from kimi_lsp.context.map_rank import (
    MapFocus,
    file_edges,
    personalization,
    rank_files,
)
from kimi_lsp.context.prompt import SYSTEM_PROMPTS
from kimi_lsp.secrets.redact import Redactor
from kimi_lsp.tokens.counter import TokenCounter

from .engines import deep_engine

SOURCES = {
    "pkg/__init__.py": "",
    "pkg/core.py": "class Engine:\n    pass\n\ndef run():\n    pass\n",
    "pkg/util.py": "def helper():\n    pass\n",
    "pkg/app.py": "from .core import Engine, run\nfrom . import util\nimport pkg.util\n",
    "other/x.py": "import pkg.core\n",
    "README.md": "# readme\n",
}


def _graph() -> ImportGraph:
    graph = ImportGraph()
    for rel, text in SOURCES.items():
        graph.update(rel, "python" if rel.endswith(".py") else "other", text)
    return graph


def test_edges_count_imported_files_and_the_definitions_a_from_import_names() -> None:
    edges = file_edges(_graph(), sorted(SOURCES))
    assert edges == {
        # the import + two names defined in core.py; `from . import util` names a submodule
        # (no definition in pkg/__init__.py), and `import pkg.util` names the same file again
        "pkg/app.py": {"pkg/core.py": 3.0, "pkg/util.py": 1.0},
        "other/x.py": {"pkg/core.py": 1.0},
    }


def test_personalization_favours_the_current_file_then_open_files_then_neighbours() -> None:
    files = set(SOURCES)
    focus = MapFocus("pkg/app.py", ("README.md", "pkg/app.py", "closed.py"))
    personal = personalization(focus, ["pkg/core.py", "README.md"], files)
    assert personal == {"pkg/app.py": 4.0, "README.md": 2.0, "pkg/core.py": 1.0}
    assert personalization(MapFocus(), [], files) == {}
    assert personalization(MapFocus("gone.py"), [], files) == {}


def test_files_rank_around_the_focus() -> None:
    files = sorted(SOURCES)
    edges = file_edges(_graph(), files)
    assert rank_files(files, edges, MapFocus("pkg/app.py"))[:3] == [
        "pkg/app.py",
        "pkg/core.py",
        "pkg/util.py",
    ]
    assert rank_files(files, edges, MapFocus("other/x.py"))[:2] == ["other/x.py", "pkg/core.py"]
    # no focus: PageRank over the whole graph, files nothing imports in path order
    assert rank_files(files, edges, MapFocus()) == [
        "pkg/core.py",
        "pkg/util.py",
        "README.md",
        "other/x.py",
        "pkg/__init__.py",
        "pkg/app.py",
    ]


def test_files_the_focus_cannot_reach_follow_the_most_imported_first() -> None:
    edges = {
        "a.py": {"b.py": 1.0},
        "b.py": {"c.py": 1.0},
        "x.py": {"hub.py": 2.0, "y.py": 1.0},
        "z.py": {"hub.py": 1.0},
    }
    files = ["a.py", "b.py", "c.py", "hub.py", "x.py", "y.py", "z.py", "zz.md"]
    # the walk around a.py: a.py's importers and imports (b.py) are neighbours, c.py is reached
    assert rank_files(files, edges, MapFocus("a.py")) == [
        "a.py",
        "b.py",
        "c.py",
        "hub.py",  # imported with weight 3
        "y.py",  # 1
        "x.py",  # 0, then by path
        "z.py",
        "zz.md",
    ]


def test_describe() -> None:
    assert MapFocus("a.py").describe() == "around a.py"
    assert MapFocus("a.py", ("a.py", "b.py", "c.py")).describe() == "around a.py and 2 open files"
    assert MapFocus(None, ("b.py",)).describe() == "around 1 open file"
    assert MapFocus().describe() == "by how much the workspace imports each file"


def _workspace(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for i in range(40):
        body = "".join(f"def function_{i}_{j}():\n    pass\n" for j in range(6))
        (package / f"mod{i:02}.py").write_text(body)
    main = "from .mod37 import function_37_0\nfrom . import mod21\n\ndef entry():\n    pass\n"
    (package / "main.py").write_text(main)
    return tmp_path


def test_the_engine_maps_the_files_around_the_focus_and_says_so(tmp_path: Path) -> None:
    _workspace(tmp_path)
    engine = ContextEngine(TokenCounter())
    engine.configure([tmp_path], [], 1_000_000)
    engine.build_index()
    before = engine.repo_map_for(600, MapFocus("pkg/main.py"))
    assert before.reason == "layout of the workspace" and "function_" not in before.text
    engine.build_deep()
    made = engine.repo_map_for(600, MapFocus("pkg/main.py"))
    assert len(made.text) <= 600
    lines = made.text.splitlines()
    assert lines[0] == "pkg/" and lines[-1].endswith("more files, ranked lower")
    shown = [line.split(":")[0].strip() for line in lines[1:-1]]
    assert {"main.py", "mod37.py", "mod21.py"} <= set(shown)
    assert "  main.py" in lines  # the current file without its names: it is sent itself
    # the others tie (nothing leads to them): they come in path order after the ranked ones
    assert "mod36.py" not in shown and "mod38.py" not in shown
    total = 42
    assert made.reason == (
        f"files ranked by imports around pkg/main.py: {len(shown)} of {total}, "
        f"{total - len(shown)} left out"
    )
    assert engine.repo_map_for(600, MapFocus("pkg/main.py")) is made  # cached
    elsewhere = engine.repo_map_for(600, MapFocus("pkg/mod05.py"))
    assert "mod05.py" in elsewhere.text and elsewhere.text != made.text
    assert engine.repo_map_text(600) == engine.repo_map_for(600, MapFocus()).text


def test_the_manifest_says_why_the_map_holds_what_it_holds(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    engine = deep_engine(root, tmp_path / "cache")

    def document(rel: str) -> OpenDocument:
        path = root / rel
        return OpenDocument(path.as_uri(), rel, path.read_text(encoding="utf-8"), "python")

    request = ContextRequest(
        purpose="chat",
        instruction="Explain.",
        system_prompt=SYSTEM_PROMPTS["chat"],
        current=document("pkg/main.py"),
    )
    opened = {"pkg/mod05.py": document("pkg/mod05.py")}
    plan = engine.plan(request, 6_000, Redactor(None, True), opened)
    [section] = [s for s in plan.manifest()["sections"] if s["kind"] == "repo_map"]
    assert section["reason"].startswith(
        "files ranked by imports around pkg/main.py and 1 open file: "
    )
    [text] = [s.text for s in plan.sections if s.kind == "repo_map"]
    assert "main.py" in text and "mod37.py" in text and "mod05.py" in text


def test_saving_the_current_file_leaves_its_map_as_it_was(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    engine = ContextEngine(TokenCounter())
    engine.configure([root], [], 1_000_000)
    engine.build_index()
    engine.build_deep()
    focus = MapFocus("pkg/main.py")
    before = engine.repo_map_for(600, focus)
    main = root / "pkg" / "main.py"
    main.write_text(main.read_text() + "\ndef added_while_writing():\n    pass\n")
    stat = main.stat()
    os.utime(main, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    generation = engine.index.generation
    engine.refresh([main])
    assert engine.index.generation != generation  # a new generation of the index...
    assert engine.repo_map_for(600, focus) is before  # ...keeps the map: not even made again
    other = root / "pkg" / "mod37.py"
    other.write_text(other.read_text() + "\ndef new_api():\n    pass\n")
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    engine.refresh([other])
    assert "mod37.py" in before.text and engine.repo_map_for(600, focus) is not before
    assert "new_api()" in engine.repo_map_for(2_000, focus).text  # other files' names follow
