"""The engine's repository maps (context/repo_maps.py): kept by key, outlined within a budget."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kimi_lsp.context import repo_maps
from kimi_lsp.context.builder import ContextRequest, OpenDocument
from kimi_lsp.context.engine import ContextEngine
from kimi_lsp.context.map_rank import MapFocus
from kimi_lsp.context.prompt import SYSTEM_PROMPTS
from kimi_lsp.context.repo_maps import FreshBudget, MapCache, Warmer
from kimi_lsp.context.repomap import RepoMap, ranked_map
from kimi_lsp.secrets.redact import Redactor
from kimi_lsp.tokens.counter import TokenCounter

from .engines import deep_engine


def test_a_fresh_budget_takes_files_while_some_is_left_and_remembers_the_rest() -> None:
    fresh = FreshBudget(100)
    assert fresh.take("a.py", 60) and fresh.take("b.py", 60)  # the last one may overrun it
    assert not fresh.take("c.py", 1) and not fresh.take("d.py", 0)
    assert fresh.deferred == ["c.py", "d.py"]
    unlimited = FreshBudget(None)
    assert all(unlimited.take(f"{i}.py", 10**9) for i in range(3)) and not unlimited.deferred


def test_the_map_cache_keeps_a_few_maps_and_reuses_a_bigger_one_that_fits() -> None:
    cache = MapCache(entries=2)
    short, long = RepoMap("x" * 50, "short"), RepoMap("y" * 90, "long")
    cache.put("k", 100, short)
    assert cache.get("k", 100) is short
    assert cache.get("k", 60) is short  # made for more room, and fits in 60 as it is
    assert cache.get("k", 40) is None  # does not fit
    assert cache.get("k", 120) is None  # more room may show more
    assert cache.get("other", 100) is None
    cache.put("k", 200, long)
    assert cache.get("k", 150) is long and cache.get("k", 95) is short  # made for the least
    cache.put("j", 100, short)  # a third entry: the least recently used goes
    assert cache.get("k", 200) is None and cache.get("k", 100) is short
    cache.clear()
    assert cache.get("k", 100) is None


def test_the_warmer_runs_jobs_once_each_after_start() -> None:
    warmer = Warmer()
    ran: list[str] = []
    warmer.submit("a", lambda: ran.append("a"))
    warmer.submit("a", lambda: ran.append("a again"))  # pending already
    warmer.submit("b", lambda: ran.append("b"))
    warmer.join()  # not started: nothing to wait for
    assert ran == []
    warmer.start()
    warmer.join()
    assert ran == ["a", "b"]


def test_a_job_waits_while_a_request_is_planned() -> None:
    warmer = Warmer()
    entered = threading.Event()
    seen: list[str] = []

    def job() -> None:
        entered.set()
        warmer.wait_idle()
        seen.append("job")

    with warmer.paused():
        warmer.submit("k", job)
        warmer.start()
        assert entered.wait(timeout=30)
        seen.append("plan")  # the job is held at wait_idle until the block ends
    warmer.join()
    assert seen == ["plan", "job"]


def _workspace(root: Path, modules: int = 30) -> Path:
    (root / ".git").mkdir()
    package = root / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    imports = "".join(f"from .mod{i:02} import api_{i}\n" for i in range(modules))
    (package / "main.py").write_text(imports + "\ndef entry():\n    pass\n")
    for i in range(modules):
        body = (
            f"def api_{i}():\n    pass\n\n\nclass Thing{i}:\n    def method(self):\n        pass\n"
        )
        (package / f"mod{i:02}.py").write_text(body)
    return root


def _engine(root: Path, fresh_bytes: int | None) -> ContextEngine:
    engine = ContextEngine(TokenCounter())
    engine.configure([root], [], 1_000_000)
    engine.maps.fresh_bytes = fresh_bytes
    engine.build_index()
    engine.build_deep()
    return engine


def test_a_map_outlines_within_its_budget_and_the_rest_in_the_background(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    focus = MapFocus("pkg/main.py")
    whole = _engine(root, None).repo_map_for(4_000, focus)  # outlines all it shows
    assert "api_29()" in whole.text and "class Thing29" in whole.text

    size = len((root / "pkg" / "mod00.py").read_bytes())
    engine = _engine(root, 3 * size)  # room to outline three files in a request
    first = engine.repo_map_for(4_000, focus)
    lines = first.text.splitlines()
    named = [line for line in lines if "api_" in line]
    by_path = [line for line in lines if line.startswith("  mod") and ":" not in line]
    assert len(named) == 3 and len(by_path) > 3  # the others by path alone
    # each counted as if it had names: the map lists fewer files than the one with names
    assert "mod29.py" not in first.text and lines[-1].endswith("more files, ranked lower")
    assert f"({len(by_path)} by path: their names follow once outlined)" in first.reason
    assert engine.repo_map_for(4_000, focus) is first  # kept: the prompt's prefix stays
    engine.maps.warmer.join()
    assert engine.repo_map_for(4_000, focus) is first  # until the key changes
    assert engine.repo_map_for(4_001, focus).text == whole.text  # now all are outlined
    stored = engine.deep.store.symbols("pkg/mod29.py", *_stamp(root / "pkg" / "mod29.py"))
    assert stored is not None and [s.name for s in stored] == ["api_29", "Thing29", "method"]


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def test_a_request_makes_its_map_once_and_the_next_one_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _workspace(tmp_path, modules=60)
    engine = deep_engine(root, tmp_path / "cache")
    made: list[int] = []
    real = ranked_map

    def counting(*args: object, **kwargs: object) -> tuple[str, int]:
        made.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(repo_maps, "ranked_map", counting)
    main = root / "pkg" / "main.py"
    text = main.read_text()

    def plan(source: str) -> str:
        current = OpenDocument(main.as_uri(), "pkg/main.py", source, "python")
        request = ContextRequest("chat", "Explain.", SYSTEM_PROMPTS["chat"], current)
        built = engine.plan(request, 6_000, Redactor(None, True), {})
        [repo] = [s.text for s in built.sections if s.kind == "repo_map"]
        return repo

    first = plan(text)
    assert 1 <= len(made) <= 2  # the builder's early guess at its size, and maybe the real one
    made.clear()
    assert plan(text + "\n# an edit that leaves the map less room\n") == first
    assert plan(text) == first
    assert made == []  # both sizes kept, or the bigger one reused where it fits


def test_the_map_cache_forgets_the_maps_that_looked_at_a_changed_file() -> None:
    cache = MapCache()
    looked, unsure, other = RepoMap("a", "a"), RepoMap("b", "b"), RepoMap("c", "c")
    cache.put("k", 100, looked, frozenset({"x.py"}))
    cache.put("k", 200, unsure)  # says nothing of what it looked at
    cache.put("j", 100, other, frozenset({"y.py"}))
    since = cache.forgotten
    cache.forget({"y.py"})
    assert cache.get("k", 100) is looked
    assert cache.get("k", 200) is None and cache.get("j", 100) is None
    # a map begun before files changed may hold what they held before: not kept
    cache.put("j", 100, other, frozenset({"z.py"}), since)
    assert cache.get("j", 100) is None
    cache.put("j", 100, other, frozenset({"z.py"}), cache.forgotten)
    assert cache.get("j", 100) is other


def test_a_save_keeps_the_maps_that_did_not_look_at_the_file(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    engine = _engine(root, None)
    focus = MapFocus("pkg/main.py")
    small = engine.repo_map_for(300, focus)
    assert "mod29.py" not in small.text and "more files, ranked lower" in small.text
    unseen = root / "pkg" / "mod29.py"
    unseen.write_text(unseen.read_text() + "\ndef later():\n    pass\n")
    engine.refresh([unseen])
    assert engine.repo_map_for(300, focus) is small
    seen = root / "pkg" / "mod00.py"
    assert "mod00.py" in small.text
    seen.write_text(seen.read_text() + "\ndef aaa_first():\n    pass\n")
    engine.refresh([seen])
    again = engine.repo_map_for(300, focus)
    assert again is not small and "aaa_first()" in again.text

    size = len(seen.read_bytes())
    pending = _engine(root, size)  # one file outlined per request: the others by path
    first = pending.repo_map_for(4_000, focus)
    assert "by path" in first.reason
    pending.maps.warmer.join()
    pending.refresh([unseen])  # any change: made again, with the names outlined meanwhile
    assert "by path" not in pending.repo_map_for(4_000, focus).reason
