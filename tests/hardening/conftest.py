"""Shared by the hardening tests: the fault matrix's grid, printed and written after the run."""

from __future__ import annotations

from typing import Any

from . import matrix


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the fault × feature grid and write it to tests/hardening/fault-matrix.md."""
    grid = matrix.cells()
    if not grid:
        return
    table = matrix.render(grid)
    terminalreporter.section("fault matrix")
    terminalreporter.write(table)
    path = matrix.output_path()
    path.write_text("# Fault matrix\n\n" + table, encoding="utf-8")
    terminalreporter.write_line(f"written to {path}")


def pytest_addoption(parser: Any) -> None:
    """`--soak-long`: the soak test at full size (as KIMI_SOAK=full does)."""
    parser.addoption("--soak-long", action="store_true", help="run the soak test at full size")


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "serial: spawns servers and measures time or memory; never run in parallel"
    )
