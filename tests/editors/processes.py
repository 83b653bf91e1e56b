"""Finding and killing what an editor test started, however it detached: each child inherits
KIMI_TEST_MARKER=<marker> in its environment."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


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
