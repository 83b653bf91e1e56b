"""Fault matrix, terminal side: every fault × `kimi-lsp chat`, `edit --apply`, `doctor --online`.

Each cell is a subprocess against its own fake; the cells run a few at a time up front (a
process start costs ~1 s of CPU) and each test then checks one of them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.harness import server_env
from tests.fake_kimi import FakeKimi, Reply, Stats

from . import matrix
from .faults import CASES, FAST_ENV, MAX_RETRIES, FaultCase, kind_of, readable_problems
from .features import SOURCE, write_workspace
from .test_fault_matrix_lsp import closed_port_url, streams_balanced

COMMANDS = {
    "cli chat": ["chat", "What is wrong with add?", "--file", "pkg/calc.py"],
    "cli edit --apply": ["edit", "pkg/calc.py:2-2", "fix the bug", "--apply"],
    "cli doctor --online": ["doctor", "--online"],
}
# doctor only calls GET /models, where the fake can refuse the key or be unreachable.
CELLS = [
    (case, name)
    for case in CASES
    for name in COMMANDS
    if name != "cli doctor --online" or case.http or case.refused
]
FIXED = Reply(content="return a + b\n```")  # the edit's continuation, a fine chat answer too


@dataclass(frozen=True, slots=True)
class Ran:
    """What a CLI cell left behind."""

    returncode: int
    stdout: str
    stderr: str
    requests: int
    stats: Stats
    balanced: bool
    file_after: str
    leftovers: list[str]


def _run(case: FaultCase, name: str, root: Path) -> Ran:
    root = write_workspace(root)
    home = root.parent / "home"
    (home / "config" / "kimi-lsp").mkdir(parents=True)
    (home / "config" / "kimi-lsp" / "settings.json").write_text(
        json.dumps({"maxRetries": MAX_RETRIES})
    )
    keys = ("sk-someone-else",) if case.http and name == "cli doctor --online" else None
    with FakeKimi(**({"api_keys": keys} if keys else {})).start_in_thread() as fake:
        fake.set_default(FIXED)
        fake.enqueue(*case.items)
        base_url = closed_port_url() if case.refused else fake.base_url
        env = server_env({**FAST_ENV, "KIMI_BASE_URL": base_url}, home=home)
        done = subprocess.run(
            [sys.executable, "-m", "kimi_lsp", *COMMANDS[name]],
            cwd=root,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        fake.wait_for_idle_blocking()
        stats = fake.stats
        balanced = streams_balanced(fake)
        requests = len(fake.chat_requests)
    calc = root / "pkg"
    leftovers = sorted(p.name for p in calc.iterdir() if p.name not in ("calc.py", "app.py"))
    return Ran(
        done.returncode,
        done.stdout,
        done.stderr,
        requests,
        stats,
        balanced,
        (calc / "calc.py").read_text(),
        leftovers,
    )


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, str], Ran]]:
    """Every CLI cell, run three at a time."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            (case.name, name): pool.submit(_run, case, name, tmp_path_factory.mktemp("cli") / "p")
            for case, name in CELLS
        }
        yield {key: future.result() for key, future in futures.items()}


def _check(case: FaultCase, name: str, cell: Ran, seen: list[str]) -> None:
    assert cell.balanced and cell.stats.in_flight == 0, cell.stats
    assert "Traceback" not in cell.stderr, cell.stderr
    assert cell.leftovers == [], cell.leftovers  # no temporary file of an atomic write
    if case.kind is None:
        seen.append("ok" if cell.returncode == 0 else f"exit {cell.returncode}")
        assert cell.returncode == 0, cell.stderr
        assert cell.requests == case.attempts + 1
        if name == "cli edit --apply":
            assert cell.file_after == SOURCE.replace("a - b", "a + b")
        return
    # The error is the last line of stderr, a line of its own (after streamed text too).
    last = (cell.stderr.splitlines() or [""])[-1]
    message = last.removeprefix("kimi-lsp: ") if last.startswith("kimi-lsp: ") else ""
    if name == "cli doctor --online":
        [message] = [line for line in cell.stdout.splitlines() if "endpoint" in line]
        message = message.split("endpoint", 1)[1].strip()
        message = message[0].upper() + message[1:]
    seen.append(f"{kind_of(message)} (exit {cell.returncode})")
    assert cell.returncode == 1, (cell.returncode, cell.stderr)
    assert kind_of(message) == case.kind, message
    assert not readable_problems(message), (readable_problems(message), message)
    assert cell.file_after == SOURCE  # nothing written
    if name != "cli doctor --online":
        assert cell.requests == case.attempts


@pytest.mark.parametrize(("case", "name"), CELLS, ids=[f"{c.name}-{n}" for c, n in CELLS])
def test_cli_fault_cell(ran: dict[tuple[str, str], Ran], case: FaultCase, name: str) -> None:
    seen: list[str] = []
    passed = False
    try:
        _check(case, name, ran[(case.name, name)], seen)
        passed = True
    finally:
        matrix.record(case.name, name, passed, seen[0] if seen else "?")
