"""Bulk-reading stdio and TCP transports that parse JSON-RPC frames from a buffer."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import threading
from collections.abc import Callable
from typing import BinaryIO

log = logging.getLogger(__name__)

_HEADER_END = b"\r\n\r\n"
_MAX_HEADER = 8192


class FrameParser:
    """Splits a byte stream into `Content-Length` framed message bodies.

    pygls reads every header line through a thread hop; parsing frames out of large reads
    costs one event-loop wakeup per read instead of three per message.

    `strict` (TCP) accepts only header blocks made of `Content-Length`/`Content-Type` lines:
    anything else (an HTTP request a web page sent to localhost) sets `rejected` and ends the
    stream, so the connection can be closed with nothing of it executed. Otherwise (stdio, a
    pipe only our client holds) junk around a header is skipped and the stream resyncs, but a
    frame wrapped in HTTP is still dropped whole, its body included.
    """

    def __init__(self, strict: bool = False) -> None:
        self._buffer = bytearray()
        self._strict = strict
        self.rejected: str | None = None

    def feed(self, data: bytes) -> list[bytes]:
        if self.rejected is not None:
            return []
        buffer = self._buffer
        buffer += data
        bodies: list[bytes] = []
        start = 0
        while True:
            end = buffer.find(_HEADER_END, start)
            if end < 0:
                if len(buffer) - start > _MAX_HEADER:
                    if self._reject(f"a header block longer than {_MAX_HEADER} bytes"):
                        return bodies
                    log.error("Dropping %d bytes without a message header", len(buffer) - start)
                    start = len(buffer)
                break
            header = bytes(buffer[start:end])
            body_start = end + len(_HEADER_END)
            if self._strict:
                problem, length = _strict_length(header)
                if problem is not None:
                    self._reject(problem)
                    return bodies
            else:
                length = _content_length(header)
                # One line can only be the Content-Length line itself: no HTTP request.
                if length is not None and b"\n" in header and _http_shaped(header):
                    log.error("Dropping a frame whose header is not LSP's (an HTTP request?)")
                    if len(buffer) - body_start < length:
                        break  # skip its body too, once all of it is here
                    start = body_start + length
                    continue
            if length is None:
                log.error("Dropping a message header without Content-Length")
                start = body_start
                continue
            if len(buffer) - body_start < length:
                break
            bodies.append(bytes(buffer[body_start : body_start + length]))
            start = body_start + length
        if start:
            del buffer[:start]
        return bodies

    def _reject(self, problem: str) -> bool:
        if not self._strict:
            return False
        log.error("Closing the connection: %s", problem)
        self.rejected = problem
        self._buffer.clear()
        return True


# The last Content-Length field of a header block, wherever its line starts: after a frame
# whose length was too short, the rest of its body precedes the next header, and matching
# only at a line start would lose every following message.
_LENGTH_FIELD = re.compile(rb"content-length[ \t]*:[ \t]*(\d+)[ \t]*(?:\r\n|$)", re.IGNORECASE)
# What makes a header block HTTP rather than LSP with junk before it: a request line, or a
# header field LSP does not have (Host, Origin, ...) on a line of its own.
_REQUEST_LINE = re.compile(rb"^[A-Za-z]+ \S+ HTTP/\d")
_FIELD_NAME = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*:")
_LSP_FIELDS = (b"content-length", b"content-type")
_STRICT_FIELD = re.compile(rb"(content-length|content-type)[ \t]*:[ \t]*(.*)", re.IGNORECASE)


def _content_length(header: bytes) -> int | None:
    matches = list(_LENGTH_FIELD.finditer(header))
    if not matches:
        return None
    found = matches[-1]
    if found.start() and header[found.start() - 1 : found.start()] != b"\n":
        log.error("Skipping %d bytes of garbage before a message header", found.start())
    return int(found.group(1))


def _http_shaped(header: bytes) -> bool:
    """Whether a header block carries HTTP's request line or a field that is not LSP's.

    A line holding a Content-Length field is left out: junk before it is tolerated."""
    for line in header.split(b"\r\n"):
        if _LENGTH_FIELD.search(line):
            continue
        if _REQUEST_LINE.match(line):
            return True
        name = _FIELD_NAME.match(line)
        if name is not None and name.group(1).lower() not in _LSP_FIELDS:
            return True
    return False


def _strict_length(header: bytes) -> tuple[str | None, int | None]:
    """(problem, Content-Length) of a header block that must be LSP's and nothing else."""
    length: int | None = None
    for line in header.split(b"\r\n"):
        field = _STRICT_FIELD.fullmatch(line)
        if field is None:
            return f"a header line that is not Content-Length or Content-Type ({line[:40]!r})", None
        if field.group(1).lower() == b"content-length":
            value = field.group(2).strip()
            if length is not None or not value.isdigit():
                return "a missing, repeated or malformed Content-Length", None
            length = int(value)
    if length is None:
        return "a header block without Content-Length", None
    return None, length


class LockedWriter:
    """A synchronous writer safe to call from worker threads (log records may come from any)."""

    def __init__(self, write: Callable[[bytes], object], flush: Callable[[], object]) -> None:
        self._write = write
        self._flush = flush
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            self._write(data)
            self._flush()

    def close(self) -> None:
        pass


class _PipeProtocol(asyncio.Protocol):
    def __init__(self, on_data: Callable[[bytes], None], done: asyncio.Future[None]) -> None:
        self._on_data = on_data
        self._done = done

    def data_received(self, data: bytes) -> None:
        self._on_data(data)

    def eof_received(self) -> bool:
        if not self._done.done():
            self._done.set_result(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._done.done():
            self._done.set_result(None)


async def read_stdin(stdin: BinaryIO, on_data: Callable[[bytes], None]) -> None:
    """Feed stdin to `on_data` in large chunks until EOF."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    try:
        transport, _ = await loop.connect_read_pipe(lambda: _PipeProtocol(on_data, done), stdin)
    except (ValueError, OSError, NotImplementedError):
        # Regular files and some platforms cannot be watched by the loop: read in a thread.
        await _read_in_thread(stdin, on_data)
        return
    try:
        await done
    finally:
        transport.close()


async def _read_in_thread(stdin: BinaryIO, on_data: Callable[[bytes], None]) -> None:
    loop = asyncio.get_running_loop()
    fd = stdin.fileno()
    while True:
        data = await loop.run_in_executor(None, os.read, fd, 1 << 16)
        if not data:
            return
        on_data(data)


def stdout_writer(stdout: BinaryIO | None = None) -> LockedWriter:
    out = stdout or sys.stdout.buffer
    return LockedWriter(out.write, out.flush)
