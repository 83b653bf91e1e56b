"""Supporting files: used imports first, big ones as outlines, the ones left out named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kimi_lsp.context.builder import ContextRequest, build_plan
from kimi_lsp.context.slices import Slice

from .test_builder import COUNTER, FakeSources, _slice, no_redaction, python_file, request


def test_big_imports_go_as_outlines_small_ones_whole_used_ones_first() -> None:
    files = {"small.py": python_file("s", 3), "big.py": python_file("b", 400)}
    sources = FakeSources(
        files,
        {"main.py": ["small.py", "big.py"]},
        definitions=[_slice("big.py", (0, 2), "defines `b_0`, used at line 1")],
    )
    plan = build_plan(request("x = b_0(1)\n"), sources, COUNTER, no_redaction, 10_000)
    imports = [s for s in plan.sections if s.kind == "import"]
    assert [s.uri for s in imports] == ["file:///ws/big.py", "file:///ws/small.py"]  # used first
    big, small = imports
    assert big.text.startswith("## Outline of big.py") and big.lines is None
    assert big.reason == "imported by main.py; its outline (801 lines are too many to send whole)"
    assert small.reason == "imported by main.py" and small.lines == (0, 7)
    assert "def s_2(x):\n    return x + 2" in small.text


def test_imports_that_do_not_fit_are_listed_as_left_out() -> None:
    files = {f"m{i}.py": python_file(f"m{i}", 60) for i in range(8)}
    sources = FakeSources(files, {"main.py": sorted(files)})
    plan = build_plan(request(python_file("main", 200)), sources, COUNTER, no_redaction, 4_000)
    packed = {s.uri for s in plan.sections if s.kind == "import"}
    left = {uri for uri, reason in plan.excluded if reason.startswith("left out")}
    assert left and not packed & left
    assert packed | left == {f"file:///ws/m{i}.py" for i in range(8)}
    assert ("file:///ws/m7.py", "left out: did not fit the 4000-token budget") in plan.excluded
    assert plan.total_tokens <= 4_000


def test_a_truncated_outline_carries_no_line_range() -> None:
    files = {"big.py": python_file("b", 400)}
    sources = FakeSources(files, {"main.py": ["big.py"]})
    plan = build_plan(request("x = 1\n"), sources, COUNTER, no_redaction, 4_000)
    (big,) = [s for s in plan.sections if s.kind == "import"]
    assert big.truncated and big.text.startswith("## Outline of big.py (first ")
    assert big.lines is None  # its kept lines are outline lines, not the file's
    assert "range" not in big.manifest()


class _StartRecorder:
    """A counter that notes which blocks had their counts started (and in which order)."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def count(self, text: str) -> int:
        return COUNTER.count(text)

    def start(self, text: str) -> Callable[[], int]:
        self.started.append(text)
        tokens = COUNTER.count(text)
        return lambda: tokens


class _Watching(FakeSources):
    """Notes which counts had started when the definitions were asked for."""

    def __init__(self, counter: _StartRecorder, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counter = counter
        self.before: list[str] = []

    def definitions(self, request: ContextRequest) -> list[Slice]:
        self.before = list(self.counter.started)
        return super().definitions(request)


def test_imports_that_all_fit_are_counted_while_the_definitions_are_resolved() -> None:
    files = {"small.py": python_file("s", 3), "big.py": python_file("b", 400)}
    files["near.py"] = python_file("n", 2)
    counter = _StartRecorder()
    used = [_slice("big.py", (0, 2), "defines `b_0`, used at line 1")]
    sources = _Watching(counter, files, {"main.py": ["small.py", "big.py"]}, definitions=used)
    plan = build_plan(request("x = b_0(1)\n"), sources, counter, no_redaction, 10_000)
    before = [text.partition("\n")[0] for text in sources.before]
    assert before == [
        "## Current file: main.py",
        "## File: small.py",  # the imports in statement order, then what follows them
        "## Outline of big.py",
        "## File: near.py",
    ]
    packed = [(s.kind, s.uri) for s in plan.sections if s.kind in ("import", "related", "nearby")]
    assert packed == [  # the used import first, as when nothing is taken early
        ("import", "file:///ws/big.py"),
        ("import", "file:///ws/small.py"),
        ("related", "file:///ws/near.py"),
    ]


def test_imports_that_may_not_fit_wait_for_the_definitions_order() -> None:
    files = {f"m{i}.py": python_file(f"m{i}", 60) for i in range(8)}
    counter = _StartRecorder()
    sources = _Watching(counter, files, {"main.py": sorted(files)})
    plan = build_plan(request(python_file("main", 200)), sources, counter, no_redaction, 4_000)
    assert [text.partition("\n")[0] for text in sources.before] == ["## Current file: main.py"]
    assert any(s.kind == "import" for s in plan.sections)


def test_the_repo_map_is_counted_early_when_the_supporting_files_leave_it_room() -> None:
    files = {"small.py": python_file("s", 3), "near.py": python_file("n", 2)}
    counter = _StartRecorder()
    sources = FakeSources(files, {"main.py": ["small.py"]})
    plan = build_plan(request("x = 1\n"), sources, counter, no_redaction, 50_000)
    (repo,) = [s for s in plan.sections if s.kind == "repo_map"]
    assert repo.text in counter.started  # its count began before the packing reached it


def test_the_repo_map_is_not_guessed_when_the_supporting_files_fill_the_budget() -> None:
    files = {f"m{i}.py": python_file(f"m{i}", 60) for i in range(8)}
    counter = _StartRecorder()
    sources = FakeSources(files, {"main.py": sorted(files)})
    plan = build_plan(request(python_file("main", 200)), sources, counter, no_redaction, 4_000)
    assert not any(text.startswith("## Repository map") for text in counter.started)
    assert plan.total_tokens <= 4_000
