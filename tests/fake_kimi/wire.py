"""Minimal HTTP/1.1 over asyncio streams: parsing, responses, SSE and disconnect watching."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
READ_SIZE = 64 * 1024


class BadRequest(Exception):
    """The bytes on the wire are not a request we can parse: answer 400 and close."""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    """Lower-cased names; repeated headers joined with ", "."""
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


class Connection:
    """One client connection. While a response is being produced, `watch()` keeps reading so
    that the client's EOF (it closed the stream) is seen at once: `gone` is set."""

    def __init__(self, conn_id: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.id = conn_id
        self._reader = reader
        self._writer = writer
        self._buf = bytearray()
        self._eof = False
        self._watch_task: asyncio.Task[None] | None = None
        self.gone = asyncio.Event()

    async def _fill(self) -> bool:
        try:
            data = await self._reader.read(READ_SIZE)
        except (ConnectionError, OSError):
            data = b""
        if not data:
            self._eof = True
            self.gone.set()
            return False
        self._buf += data
        return True

    async def _until(self, marker: bytes, limit: int) -> bytes:
        while (end := self._buf.find(marker)) < 0:
            if len(self._buf) > limit:
                raise BadRequest("request head too large")
            if self._eof or not await self._fill():
                raise BadRequest("connection closed mid-request")
        data = bytes(self._buf[:end])
        del self._buf[: end + len(marker)]
        return data

    async def _exactly(self, size: int) -> bytes:
        while len(self._buf) < size:
            if self._eof or not await self._fill():
                raise BadRequest("connection closed mid-body")
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data

    async def read_request(self) -> HttpRequest | None:
        """The next request, or None when the client closed an idle connection."""
        while not self._buf:
            if self._eof or not await self._fill():
                return None
        head = (await self._until(b"\r\n\r\n", MAX_HEAD)).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest(f"bad request line {request_line!r}")
        headers: dict[str, str] = {}
        for line in lines:
            name, sep, value = line.partition(":")
            if not sep:
                raise BadRequest(f"bad header line {line!r}")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._chunked_body()
        else:
            length = int(headers.get("content-length", "0") or 0)
            if not 0 <= length <= MAX_BODY:
                raise BadRequest("bad content-length")
            body = await self._exactly(length)
        return HttpRequest(parts[0], parts[1], parts[2], headers, body)

    async def _chunked_body(self) -> bytes:
        body = bytearray()
        while True:
            size = int((await self._until(b"\r\n", MAX_HEAD)).split(b";")[0], 16)
            if size == 0:
                while await self._until(b"\r\n", MAX_HEAD):  # trailers up to the blank line
                    pass
                return bytes(body)
            body += await self._exactly(size)
            await self._exactly(2)
            if len(body) > MAX_BODY:
                raise BadRequest("body too large")

    def watch(self) -> None:
        """Start noticing a client disconnect while a response is produced."""
        self._watch_task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        # Bytes a pipelining client sends meanwhile stay buffered for the next request.
        while len(self._buf) < MAX_BODY and await self._fill():
            pass

    async def unwatch(self) -> None:
        task, self._watch_task = self._watch_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def sleep(self, seconds: float) -> bool:
        """Wait `seconds`; True if the client left meanwhile (the wait ends at once then)."""
        if seconds <= 0:
            return self.gone.is_set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.gone.wait(), seconds)
        return self.gone.is_set()

    async def wait_for(self, event: asyncio.Event) -> bool:
        """Wait for `event` or the client leaving; True if the client left."""
        waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self.gone.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        return self.gone.is_set()

    async def write(self, data: bytes) -> bool:
        """Send bytes; False (and `gone` set) if the client is no longer there."""
        if self.gone.is_set() or self._writer.is_closing():
            self.gone.set()
            return False
        self._writer.write(data)
        try:
            await self._writer.drain()
        except (ConnectionError, OSError):
            self.gone.set()
            return False
        return True

    def abort(self) -> None:
        """Drop the connection abruptly (no FIN handshake courtesy, no pending data)."""
        self._writer.transport.abort()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()


def _head(status: int, headers: Iterable[tuple[str, str]]) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}", f"Date: {formatdate(usegmt=True)}", "Server: fake-kimi"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send_body(
    conn: Connection,
    status: int,
    body: bytes,
    content_type: str,
    keep_alive: bool,
    extra: Iterable[tuple[str, str]] = (),
) -> bool:
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Connection", "keep-alive" if keep_alive else "close"),
        *extra,
    ]
    return await conn.write(_head(status, headers) + body)


async def send_json(
    conn: Connection,
    status: int,
    payload: Any,
    keep_alive: bool,
    extra: Iterable[tuple[str, str]] = (),
) -> bool:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return await send_body(conn, status, body, "application/json", keep_alive, extra)


class SseWriter:
    """`text/event-stream` framed with chunked encoding (keep-alive) or delimited by close."""

    def __init__(self, conn: Connection, chunked: bool) -> None:
        self.conn = conn
        self.chunked = chunked

    async def start(self) -> bool:
        headers = [
            ("Content-Type", "text/event-stream; charset=utf-8"),
            ("Cache-Control", "no-cache"),
        ]
        if self.chunked:
            headers += [("Transfer-Encoding", "chunked"), ("Connection", "keep-alive")]
        else:
            headers.append(("Connection", "close"))
        return await self.conn.write(_head(200, headers))

    async def line(self, text: str) -> bool:
        """Send one event: `text` followed by the blank line that ends it."""
        data = (text + "\n\n").encode("utf-8")
        if self.chunked:
            data = f"{len(data):x}\r\n".encode() + data + b"\r\n"
        return await self.conn.write(data)

    async def data(self, payload: Any) -> bool:
        return await self.line("data: " + json.dumps(payload, ensure_ascii=False))

    async def end(self) -> bool:
        return await self.conn.write(b"0\r\n\r\n") if self.chunked else True
