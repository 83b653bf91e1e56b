"""bench/scale.py's pure parts: /proc parsing, settling, growth, workspace reuse, bench/run rows."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
import scale  # noqa: E402


def _bench_run() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("bench_run", str(BENCH / "run"))
    spec = importlib.util.spec_from_loader("bench_run", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # its dataclass looks its module up there
    loader.exec_module(module)
    return module


def test_a_stat_line_with_parentheses_in_the_name_parses() -> None:
    line = "4242 (python (kimi) x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 3 0 100 0 0\n"
    stat = scale.parse_stat(line, 100)
    assert stat.state == "S"
    assert stat.cpu_s == pytest.approx(3.0)


def test_our_own_process_stat_counts_cpu() -> None:
    stat = scale.proc_stat(os.getpid())
    assert stat.state == "R"  # it is running this very line
    assert stat.cpu_s > 0


def test_cpu_settles_only_after_a_flat_window() -> None:
    rising = [(0.0, 1.0), (0.5, 1.5), (1.0, 2.0), (1.5, 2.5), (2.0, 3.0)]
    assert not scale.settled(rising, 1.5, 0.02)
    flat = [(0.0, 1.0), (0.5, 2.0), (1.0, 2.0), (1.5, 2.0), (2.0, 2.01)]
    assert scale.settled(flat, 1.5, 0.02)
    assert not scale.settled(flat[:3], 1.5, 0.02)  # not watched long enough yet
    assert not scale.settled([], 1.5, 0.02)


def test_growth_is_relative_to_one_copy() -> None:
    assert scale.growth({1: 2.0, 3: 5.0, 10: 21.0}) == {1: 1.0, 3: 2.5, 10: 10.5}
    assert scale.growth({3: 5.0}) == {}


def test_index_ready_wants_the_deep_index() -> None:
    assert scale.index_ready({"version": "x"}) is None  # no `index`: CPU settling decides
    assert scale.index_ready({"index": {"state": "indexing", "deep": False}}) is False
    assert scale.index_ready({"index": {"state": "ready", "deep": False}}) is False
    assert scale.index_ready({"index": {"state": "ready", "deep": True}}) is True
    assert scale.index_ready({"index": {"state": "ready"}}) is True


def test_a_workspace_is_built_from_the_recipe_once(tmp_path: Path) -> None:
    stdlib = tmp_path / "lib"
    for rel in ("os.py", "asyncio/tasks.py", "test/test_os.py", "idlelib/x.py", "a/__pycache__/b"):
        (stdlib / rel).parent.mkdir(parents=True, exist_ok=True)
        (stdlib / rel).write_text("x = 1\n")
    cache = tmp_path / "cache"
    cache.mkdir()
    root = scale.workspace(2, cache, stdlib)
    copied = sorted(str(p.relative_to(root)) for p in root.rglob("*.py") if ".git" not in p.parts)
    assert copied == [
        "copy0/asyncio/tasks.py",
        "copy0/os.py",
        "copy1/asyncio/tasks.py",
        "copy1/os.py",
    ]
    assert (root / ".git").is_dir()
    assert scale.tree_size(root) == (4, 24)
    (root / "copy0" / "mark").write_text("kept")
    assert scale.workspace(2, cache, stdlib) == root
    assert (root / "copy0" / "mark").exists()  # reused, not rebuilt
    (cache / "stdlib-x2.json").write_text("{}")  # another recipe: rebuilt
    assert scale.workspace(2, cache, stdlib) == root
    assert not (root / "copy0" / "mark").exists()
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root / "copy1",
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert Path(top.stdout.strip()) == root.resolve()


def _size(copies: int, cpu: float, rss: float = 100.0) -> dict[str, Any]:
    run = {"index_cpu_s": cpu, "rss_mb": rss, "ready_s": 0.5, "ready_after_initialize_s": 0.2}
    cli = {"wall_s": 1.0, "cpu_s": 0.9, "max_rss_mb": 80.0}
    return {"copies": copies, "files": 617 * copies, "server": run, "restart": run,
            "cli_cold": cli, "cli_warm": cli}  # fmt: skip


def test_summary_checks_targets_at_ten_copies_and_linear_growth() -> None:
    summary = scale.summarize({1: _size(1, 0.5), 3: _size(3, 1.2), 10: _size(10, 5.5)}, False)
    checks = {c["metric"]: c["pass"] for c in summary["checks"]}
    assert checks == {
        "index_cpu_s": False,  # 5.5 s > 5 s
        "server_rss_mb": True,
        "cli_cold_wall_s": True,
        "cli_warm_wall_s": True,
        "restart_ready_s": True,
        "index_cpu_growth_3x": True,  # 2.4 <= 3
        "index_cpu_growth_10x": False,  # 11 > 10
    }
    quick = scale.summarize({1: _size(1, 0.5), 3: _size(3, 1.2)}, True)
    assert [c["metric"] for c in quick["checks"]] == ["index_cpu_growth_3x"]


def test_bench_run_makes_rows_from_the_json_report() -> None:
    rows = {1: _size(1, 0.5), 3: _size(3, 1.2), 10: _size(10, 4.0)}
    summary = scale.summarize(rows, False)
    # What bench/run reads comes through JSON: its keys are strings.
    report = json.loads(json.dumps({"sizes": {str(n): r for n, r in rows.items()}, **summary}))
    made = _bench_run().scale(report)
    assert [r.bench for r in made] == ["scale"] * 6
    assert made[0].metric == "deep index CPU, 10x stdlib, 6,170 files"
    assert (made[0].ours, made[0].passed) == ("4.00 s", True)
    assert made[-1].ours == "3x 2.40, 10x 8.00"
    assert made[-1].passed is True
    quick = scale.summarize({1: rows[1], 3: rows[3]}, True)
    report = json.loads(json.dumps({"sizes": {"1": rows[1], "3": rows[3]}, **quick}))
    made = _bench_run().scale(report)
    assert [r.passed for r in made[:5]] == [None] * 5  # the targets are for 10x
    assert made[-1].ours == "3x 2.40"
