"""bench/relevance.py: a packed definition counts as a hit, one nowhere packed as a miss."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

BENCH = Path(__file__).resolve().parents[2] / "bench"

SHAPES = '''"""Shapes."""


class Circle:
    """A circle."""

    def __init__(self, radius: float) -> None:
        self.radius = radius

    def area(self) -> float:
        return 3.14159 * self.radius**2
'''

APP = '''"""The app."""

from shapes import Circle


def main() -> float:
    return Circle(2.0).area()
'''


def relevance() -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("relevance")
    finally:
        sys.path.remove(str(BENCH))


def tiny_cases(tmp_path: Path) -> Path:
    """A two-file workspace and two cases at the same use site: the real definition (a tiny
    imported file, packed whole at any budget) and one in a file that does not exist."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "shapes.py").write_text(SHAPES)
    (workspace / "app.py").write_text(APP)
    use = {"corpus": "tiny", "file": "app.py", "line": 7, "column": 11, "name": "Circle"}
    use["use_text"] = "return Circle(2.0).area()"
    real = {**use, "def_file": "shapes.py", "def_line": 4, "def_type": "class"}
    real["def_text"] = "class Circle:"
    bogus = {**real, "def_file": "nowhere/shapes.py"}
    corpus = {"name": "tiny", "root": str(workspace), "exclude": [], "quota": 2}
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"key": {}, "corpora": [corpus], "cases": [real, bogus]}))
    return path


def test_the_bench_counts_a_packed_definition_and_misses_a_bogus_one(tmp_path: Path) -> None:
    cases = tiny_cases(tmp_path)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, str(BENCH / "relevance.py"), "--quick", "--json", "--cases", str(cases)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["cases"] == 2 and report["cases_by_corpus"] == {"tiny": 2}
    assert set(report["budgets"]) == {"4096", "8192", "16384", "32768"}
    for size, budget in report["budgets"].items():
        assert 0.0 <= budget["recall"] <= 1.0
        assert budget["recall"] == 0.5 and budget["by_corpus"] == {"tiny": 0.5}
        assert 0 < budget["tokens_median"] <= int(size)
        assert budget["build_ms_median"] > 0
    real, bogus = report["results"]
    assert real["hits"] == {"4K": True, "8K": True, "16K": True, "32K": True}
    assert bogus["hits"] == {"4K": False, "8K": False, "16K": False, "32K": False}
    assert [c["metric"] for c in report["checks"]] == ["recall_4K", "recall_16K"]
    assert [c["pass"] for c in report["checks"]] == [False, False] and report["pass"] is False
    for purpose in ("edit", "chat"):
        default = report["defaults"][purpose]
        assert default["recall"] == 0.5 and default["budget"] >= 4_096
        expected = default["tokens_median"] * report["pricing"]["input_per_million"] / 1e6
        assert default["cost_uncached_usd"] == expected > default["cost_cached_usd"] > 0


def _section(kind: str, path: Path, lines: tuple[int, int] | None, text: str = "") -> Any:
    return SimpleNamespace(kind=kind, uri=path.as_uri(), lines=lines, text=text)


def test_a_hit_needs_the_definition_line_in_range_or_its_signature_in_an_outline(
    tmp_path: Path,
) -> None:
    bench = relevance()
    target, other = tmp_path / "shapes.py", tmp_path / "other.py"
    line, text = 40, "def area(self) -> float:  # the area"
    assert bench.signature(text) == "def area(self) -> float"

    def hit(*sections: Any) -> bool:
        plan = SimpleNamespace(sections=list(sections))
        return bool(bench.is_hit(plan, target.resolve(), line, text))

    assert hit(_section("definition", target, (39, 45)))  # 0-based 39 is line 40
    assert not hit(_section("definition", target, (40, 45)))
    assert not hit(_section("import", target, (0, 25)))  # truncated before the definition
    assert not hit(_section("import", other, (0, 1_000)))  # another file
    outline = "12: class Shape:\n40:   def   area(self) -> float\n"
    assert hit(_section("outline", target, (0, 80), outline))
    assert hit(_section("import", target, None, outline))  # an outline without a line range
    assert not hit(_section("outline", target, (0, 80), "12: class Shape:\n"))
    # A truncated outline of an import has a range, but of the outline's lines.
    assert not hit(_section("import", target, (0, 50), "## Outline of shapes.py\n1: x = 1"))
    assert hit(_section("import", target, (0, 50), f"## Outline of shapes.py\n{outline}"))
