"""Starting, finding and killing what an editor test runs, however it detached: each child
inherits KIMI_TEST_MARKER=<marker> in its environment."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable
from pathlib import Path


def marked_env(home: Path, marker: str, cleared: Iterable[str]) -> dict[str, str]:
    """This environment without `cleared` (keys, editor variables), with a private HOME and XDG
    directories under `home`, and KIMI_TEST_MARKER=marker for `marked` to find its children."""
    drop = set(cleared)
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "KIMI_TEST_MARKER": marker,
        }
    )
    return env


def marked(marker: str) -> set[int]:
    """Processes whose environment carries KIMI_TEST_MARKER=marker."""
    proc = Path("/proc")
    if not proc.is_dir():
        return set()
    needle = f"KIMI_TEST_MARKER={marker}".encode()
    found: set[int] = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.add(int(entry.name))
    return found


def kill_marked(marker: str) -> None:
    """SIGKILL every process `marked` finds."""
    for pid in marked(marker):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
