"""File texts read from disk: decoded as UTF-8 or recognised as binary, cached by mtime and size."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections import OrderedDict

SNIFF_BYTES = 8192  # a NUL byte in these first bytes makes a file binary
MAX_INVALID_UTF8 = 0.01  # text with more invalid UTF-8 than this share is treated as binary
TEXT_CACHE_CHARS = 64_000_000  # texts kept by read (least recently used dropped)
MAX_BINARY_VERDICTS = 200_000  # binary-or-not answers kept before they are forgotten at once


class FileTexts:
    """Texts of files and whether they are binary, remembered by (path, mtime, size).

    Binary: a NUL byte in the first 8 KiB, or more than 1% of it invalid UTF-8 (a few invalid
    bytes, as in a Latin-1 comment, become U+FFFD). Safe to call from any thread."""

    def __init__(self) -> None:
        self._texts: OrderedDict[str, tuple[int, int, str]] = OrderedDict()
        self._text_chars = 0
        self._binary: dict[str, tuple[int, int, bool]] = {}
        self._lock = threading.Lock()

    def read(self, p: str, st: os.stat_result) -> str | None:
        """The text of the file at `p` (whose stat is `st`), or None when binary or unreadable."""
        key = (st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._texts.get(p)
            if cached is not None and cached[:2] == key:
                self._texts.move_to_end(p)
                return cached[2]
        data = read_bytes(p, st.st_size)
        if data is None:
            return None
        text = decode(data)
        with self._lock:
            self._binary[p] = (*key, text is None)
            if text is not None:
                old = self._texts.pop(p, None)
                self._text_chars += len(text) - (len(old[2]) if old else 0)
                self._texts[p] = (*key, text)
                while self._text_chars > TEXT_CACHE_CHARS and len(self._texts) > 1:
                    self._text_chars -= len(self._texts.popitem(last=False)[1][2])
        return text

    def is_binary(self, p: str, st: os.stat_result) -> bool:
        """Whether the file at `p` is binary, from its first bytes only."""
        key = (st.st_mtime_ns, st.st_size)
        cached = self._binary.get(p)
        if cached is not None and cached[:2] == key:
            return cached[2]
        head = b""
        with contextlib.suppress(OSError):
            fd = os.open(p, _READ_FLAGS)
            try:
                head = os.read(fd, SNIFF_BYTES)
            finally:
                os.close(fd)
        # A multi-byte character cut at the sniff's end is not invalid.
        binary = decode(head[:-3] if len(head) == SNIFF_BYTES else head) is None
        with self._lock:
            if len(self._binary) > MAX_BINARY_VERDICTS:
                self._binary.clear()
            self._binary[p] = (*key, binary)
        return binary


# O_NONBLOCK: a FIFO put where a file was (a repository can make one) would block the open
# until a writer came; for a regular file, the only kind read, it changes nothing.
_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def read_bytes(p: str, size: int, limit: int | None = None) -> bytes | None:
    """The whole file (None when unreadable, or longer than `limit` bytes if given), read with
    os.read into a buffer of its stat's `size`: a file object costs more than the read itself
    on small files (~10 us each)."""
    try:
        fd = os.open(p, _READ_FLAGS)
    except OSError:
        return None
    try:
        parts: list[bytes] = []
        total = 0
        checked = False
        # one byte more than expected: the end, or a file that grew
        want = (size if limit is None else min(size, limit)) + 1
        while part := os.read(fd, want):
            parts.append(part)
            total += len(part)
            if total > size and not checked:
                # More than the caller's stat said: a file that grew, or no file at all (the
                # path swapped for /dev/zero or a FIFO since; a repository can do that): only
                # a regular file, which cannot be endless, is read on. Checked only when the
                # size differs, as an fstat per read would cost a quarter of a small file's.
                if not _regular(fd):
                    return None
                checked = True
            if limit is not None:
                if total > limit:
                    return None
                want = limit + 1 - total
        if total < size and not _regular(fd):
            return None  # less than the stat said: e.g. a FIFO without a writer
    except OSError:
        return None
    finally:
        os.close(fd)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _regular(fd: int) -> bool:
    return stat.S_ISREG(os.fstat(fd).st_mode)


def decode(data: bytes) -> str | None:
    """The bytes as text (a BOM dropped), or None when they look binary."""
    if b"\0" in data[:SNIFF_BYTES]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        if text.count("\ufffd") > MAX_INVALID_UTF8 * len(text):
            return None
    return text.removeprefix("\ufeff")
