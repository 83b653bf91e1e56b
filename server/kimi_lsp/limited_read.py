"""Reading a file a user or a workspace names: a regular file only, and never more than a limit."""

from __future__ import annotations

import os
import stat
from pathlib import Path

# O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever. It changes
# nothing for a regular file, the only kind read here.
_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


class UnreadableFile(OSError):
    """The path is not a regular file, or is larger than allowed; the message says which."""


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at `path` (symlinks followed), at most `limit` of them.

    The kind and size are checked with fstat on the opened file (what is read, not what the
    name pointed to a moment before); a device (/dev/zero), a FIFO or a directory is refused
    before any read, and a file that grows past `limit` while read is refused after reading
    at most `limit + 1` bytes. Raises OSError (UnreadableFile for the checks)."""
    fd = os.open(path, _FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"{path} is not a regular file")
        if info.st_size > limit:
            raise UnreadableFile(f"{path} is larger than {_size(limit)} ({_size(info.st_size)})")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    if left <= 0:
        raise UnreadableFile(f"{path} is larger than {_size(limit)} (it grew while read)")
    return b"".join(chunks)


def read_head(path: str | Path, count: int) -> bytes | None:
    """The first `count` bytes of a regular file, or None (not one, unreadable): never waits on
    a FIFO or reads a device."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, count)
    except OSError:
        return None
    finally:
        os.close(fd)


def _size(count: int) -> str:
    return f"{count / (1 << 20):.0f} MB" if count >= 1 << 20 else f"{count} bytes"
