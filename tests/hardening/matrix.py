"""The fault × feature grid: cells recorded by the matrix tests, rendered at the end of the run."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

OUTPUT_ENV = "KIMI_FAULT_MATRIX"  # where to write the grid instead of DEFAULT_OUTPUT
DEFAULT_OUTPUT = Path(__file__).with_name("fault-matrix.md")


@dataclass(frozen=True, slots=True)
class Cell:
    """One fault × feature outcome: `observed` is the error kind, "ok" or what went wrong."""

    fault: str
    feature: str
    passed: bool
    observed: str


_cells: dict[tuple[str, str], Cell] = {}
_lock = threading.Lock()


def record(fault: str, feature: str, passed: bool, observed: str) -> None:
    with _lock:
        _cells[(fault, feature)] = Cell(fault, feature, passed, observed)


def cells() -> list[Cell]:
    with _lock:
        return list(_cells.values())


def render(grid: list[Cell]) -> str:
    """A Markdown table: one row per fault, one column per feature, ✓/✗ and the kind seen."""
    faults = list(dict.fromkeys(c.fault for c in grid))
    features = list(dict.fromkeys(c.feature for c in grid))
    by_key = {(c.fault, c.feature): c for c in grid}
    lines = [
        "| fault | " + " | ".join(features) + " |",
        "|---|" + "---|" * len(features),
    ]
    for fault in faults:
        row = []
        for feature in features:
            cell = by_key.get((fault, feature))
            if cell is None:
                row.append("n/a")
            else:
                row.append(("✓ " if cell.passed else "✗ ") + cell.observed)
        lines.append(f"| {fault} | " + " | ".join(row) + " |")
    passed = sum(c.passed for c in grid)
    lines.append("")
    lines.append(
        f"{len(grid)} cells ({len(faults)} faults × {len(features)} features, n/a = the fault "
        f"cannot reach that feature): {passed} ✓, {len(grid) - passed} ✗."
    )
    return "\n".join(lines) + "\n"


def output_path() -> Path:
    return Path(os.environ.get(OUTPUT_ENV) or DEFAULT_OUTPUT)
