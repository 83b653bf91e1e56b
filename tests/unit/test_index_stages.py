"""The deep index in two stages: imports and importers first, search terms when wanted."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any, cast

import pytest

from kimi_lsp.config import Settings
from kimi_lsp.context.engine import ContextEngine, _Sources
from kimi_lsp.context.index_store import FileRecord, IndexStore, store_path
from kimi_lsp.context.standalone import file_focus, plan_for_focus
from kimi_lsp.lsp.features.context import ContextService
from kimi_lsp.purpose import Purpose
from kimi_lsp.tokens.counter import TokenCounter

QUERY = "def plot(v):\n    return v.norm_squared_of_vector()\n"


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    write(root, "pkg/__init__.py", "")
    padding = "# a line the import is sent with\n" * 50  # whole, and more than the budget
    write(root, "pkg/geometry.py", "class Vector:\n    def norm_squared_of_vector(self):\n"
          f"        return 0\n{padding}")  # fmt: skip
    write(root, "pkg/physics.py", "from pkg.geometry import Vector\n\ndef speed(v: Vector):\n"
          "    return v.norm_squared_of_vector() ** 0.5\n")  # fmt: skip
    write(root, "tools/report.py", "def report(v):\n    return v.norm_squared_of_vector()\n")
    write(root, "tools/other.py", "def unrelated_helper():\n    return 1\n")
    return root


def offline(cache: Path) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(cache), "KIMI_LSP_TOKENIZER_DOWNLOAD": "0"}


def engine(ws: Path, index_dir: Path | None, *, search: bool, on_demand: bool) -> ContextEngine:
    built = ContextEngine(TokenCounter(env=offline(ws.parent / "tokens")), index_dir)
    built.configure([ws], [], 1_000_000)
    built.search_on_demand = on_demand
    built.build_index()
    built.build_deep(search=search)
    return built


def unsearched(ws: Path, cache: Path) -> int:
    """Files in the CLI's store whose search terms are not stored yet."""
    path = store_path(cache / "kimi-lsp" / "index", [ws.resolve()])
    with contextlib.closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT count(*) FROM files WHERE words IS NULL").fetchone()[0])


def cli_manifest(ws: Path, cache: Path, purpose: Purpose, budget: int) -> dict[str, Any]:
    """`kimi-lsp context pkg/physics.py:4` with its cache in `cache`."""
    counter = TokenCounter(env=offline(cache))
    focus = file_focus(ws / "pkg" / "physics.py", 3)
    plan = plan_for_focus(focus, purpose, "speed it up", Settings(), counter, budget=budget)
    manifest = plan.manifest()
    assert isinstance(manifest, dict)
    return manifest


def kinds(manifest: dict[str, Any]) -> list[str]:
    return [section["kind"] for section in manifest["sections"]]


def test_the_cli_builds_search_only_when_related_files_are_asked_for(
    ws: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    # 300 tokens: the import fills the budget, related files are never asked for
    small = cli_manifest(ws, cache, "edit", 300)
    assert "import" in kinds(small) and "related" not in kinds(small)
    assert unsearched(ws, cache) == 5  # no file's search terms were read
    assert cli_manifest(ws, cache, "edit", 300) == small
    big = cli_manifest(ws, cache, "chat", 8_000)  # asks: the search stage runs
    assert "related" in kinds(big)
    assert unsearched(ws, cache) == 0  # and is kept for the next run
    assert cli_manifest(ws, cache, "chat", 8_000) == big  # warm: the same plan


def test_a_cold_cli_plan_is_the_plan_over_a_fully_built_index(ws: Path, tmp_path: Path) -> None:
    cold = cli_manifest(ws, tmp_path / "cold", "chat", 8_000)
    assert "related" in kinds(cold) and "importer" not in kinds(cold)
    # both stages built at once (as before the stages), then the CLI over that store
    full = engine(ws, tmp_path / "full" / "kimi-lsp" / "index", search=True, on_demand=False)
    full.deep.store.close()
    assert unsearched(ws, tmp_path / "full") == 0
    assert cli_manifest(ws, tmp_path / "full", "chat", 8_000) == cold


def test_related_before_the_search_stage_builds_it_once_in_the_cli(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lazy = engine(ws, tmp_path / "index", search=False, on_demand=True)
    assert lazy.deep_ready.is_set() and not lazy.search_ready.is_set()
    assert lazy.graph.importers("pkg/geometry.py") == ["pkg/physics.py"]  # stage 1 is enough
    calls: list[int] = []
    build = lazy.deep.build_search

    def counted(max_size: int) -> None:
        calls.append(max_size)
        build(max_size)

    monkeypatch.setattr(lazy.deep, "build_search", counted)
    sources = _Sources(lazy, {})
    first = sources.related(QUERY, 12, set())
    assert sources.related(QUERY, 12, set()) == first
    assert len(calls) == 1 and lazy.search_ready.is_set()
    full = engine(ws, tmp_path / "full", search=True, on_demand=False)
    assert first == full.deep.related(QUERY, 12, set())
    assert {rel for rel, _ in first} >= {"pkg/geometry.py", "tools/report.py"}


def test_the_server_answers_no_related_files_until_the_search_stage_is_done(
    ws: Path, tmp_path: Path
) -> None:
    staged = engine(ws, tmp_path / "index", search=False, on_demand=False)
    sources = _Sources(staged, {})
    assert sources.importers("pkg/geometry.py") == ["pkg/physics.py"]
    assert sources.related(QUERY, 12, set()) == []
    assert not staged.search_ready.is_set()  # not built by the request
    staged.build_search()
    assert sources.related(QUERY, 12, set()) == staged.deep.related(QUERY, 12, set()) != []


def test_a_restart_finds_both_stages_in_the_store(ws: Path, tmp_path: Path) -> None:
    first = engine(ws, tmp_path / "index", search=False, on_demand=False)  # stage 1, then exit
    first.deep.store.close()
    again = engine(ws, tmp_path / "index", search=True, on_demand=False)
    assert again.deep.progress.from_cache == 5  # the imports: stored by the first
    expected = again.deep.related(QUERY, 12, set())
    again.deep.store.close()
    once_more = engine(ws, tmp_path / "index", search=False, on_demand=False)
    assert not once_more.search_ready.is_set()
    assert all(f.searched for f in once_more.deep.store.load().values())
    once_more.build_search()  # nothing left to read: the store holds every file's terms
    assert once_more.deep.related(QUERY, 12, set()) == expected != []


def test_terms_are_stored_only_for_the_stamp_they_were_read_at(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "x.sqlite3", version="v1")
    store.save([FileRecord(rel, 10, 1_000, True, "python", (), None) for rel in ("a.py", "b.py")])
    assert not any(f.searched for f in store.load().values())
    assert store.rank(["rare_word"], 5) == []
    store.save_terms([("a.py", 10, 1_000, "rare_word other"), ("b.py", 11, 1_000, "rare_word")])
    assert [rel for rel, _ in store.rank(["rare_word"], 5)] == ["a.py"]  # b.py changed since
    store.save_terms([("a.py", 10, 1_000, "replaced")])  # a.py has its terms: kept
    assert store.rank(["replaced"], 5) == []
    store.save([FileRecord("a.py", 12, 1_000, True, "python", (), "fresh_word")])
    assert [rel for rel, _ in store.rank(["fresh_word"], 5)] == ["a.py"]
    assert store.rank(["rare_word"], 5) == []  # the old terms left the search index
    assert store.terms() == {"a.py": "fresh_word"}


def test_kimi_status_says_which_stage_is_ready(ws: Path, tmp_path: Path) -> None:
    service = ContextService(cast(Any, None))
    staged = engine(ws, tmp_path / "index", search=False, on_demand=False)
    service._engine = staged
    service._indexed.set()
    service._deep = cast(Any, object())  # the deep index was asked for
    index = service.index_status()
    assert (index["state"], index["deep"], index["search"]) == ("indexing", True, False)
    assert index["files"] == 5
    staged.build_search()
    index = service.index_status()
    assert (index["state"], index["deep"], index["search"]) == ("ready", True, True)
