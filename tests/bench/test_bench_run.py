"""`bench/run` runs every benchmark and reads every report (quick sizes; figures not judged)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH_RUN = Path(__file__).resolve().parents[2] / "bench" / "run"


def test_bench_run_collects_every_benchmark_into_one_table() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH_RUN), "--quick", "--markdown"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Machine: ") and "cores" in lines[0]
    rows = [line for line in lines if line.startswith("| ")]
    assert rows[0].startswith("| bench | metric | kimi-lsp")
    benches = {row.split(" | ")[0].removeprefix("| ") for row in rows[2:]}
    assert benches == {
        "plumbing",
        "streaming",
        "context",
        "edits",
        "refactor",
        "relevance",
        "parsers",
        "scale",
        "fallback",
        "predict",
        "unit_speed",
    }
    metrics = [row.split(" | ")[1] for row in rows[2:]]
    assert "code-action menu, p99" in metrics
    assert "20 files, c = 4, calls streamed" in metrics
    assert "superseded: upstream stream closed" in metrics
    recall = [m for m in metrics if m.startswith("definition packed, ")]
    assert [m.split(",")[1] for m in recall] == [" 4K budget", " 16K budget"]
    assert not [line for line in lines if line.startswith("bench/")], done.stdout  # no errors
