"""The TCP listener: one client at a time, each with a fresh server, until a client exits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import pygls_adapter as pygls
from .tcp_auth import is_loopback
from .tcp_peer import foreign_user

if TYPE_CHECKING:
    from .server import KimiServer

log = logging.getLogger(__name__)

ServerFactory = Callable[[], "KimiServer"]
HANDSHAKE_ENV = "KIMI_LSP_TCP_HANDSHAKE_SECONDS"  # tuning (and fast tests)
HANDSHAKE_SECONDS = 10.0
"""With a token, a connection that has not sent initialize with it by then is closed: the
listener serves one client at a time, and a silent stranger must not keep the user out."""


def serve(
    fresh: ServerFactory,
    host: str,
    port: int,
    token: str | None = None,
    ready: Callable[[int], None] | None = None,
) -> int:
    """Listen on host:port until a client sends `exit`; returns the process exit code.

    Each client gets a server from `fresh()`: the documents, settings and in-memory state of
    one client never reach the next. A connection that ends any other way (EOF, reset, frames
    that are not LSP's, a refused token) ends its session only; the listener stays."""
    listener = Listener(fresh, token)
    try:
        asyncio.run(listener.run(host, port, ready))
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:  # the `exit` notification: LSP says the process ends
        return exc.code if isinstance(exc.code, int) else 0
    finally:
        # The loop is closed by now (its tasks were cancelled with it); what is left to end
        # is pygls's side of the last session.
        with contextlib.suppress(RuntimeError):
            listener.end_session()
    return 0


class Listener:
    """Owns the listening socket and the one session it serves at a time."""

    def __init__(self, fresh: ServerFactory, token: str | None) -> None:
        self._fresh = fresh
        self._token = token
        self.session: Session | None = None

    async def run(self, host: str, port: int, ready: Callable[[int], None] | None) -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Connection(self), host, port)
        bound = server.sockets[0].getsockname()[1]
        log.info("Serving LSP on %s:%s", host, bound)
        if ready is not None:
            ready(bound)
        async with server:
            await server.serve_forever()

    def open_session(self, transport: asyncio.Transport) -> Session | None:
        """A session for a new connection, or None (and the connection closed) when busy."""
        if self._token is None and _foreign(transport):
            # Without a token, the key this process holds is its user's: another local user
            # (a shared machine) must not get a session that can point baseUrl elsewhere.
            log.warning("Closed a connection from %s: another user's process", _peer(transport))
            transport.abort()
            return None
        if self.session is not None and self.session.hung_up:
            self.end_session()  # its EOF was read; connection_lost is merely still queued
        if self.session is not None:
            # Said in the log only: the second client learns nothing, not even that we are
            # an LSP server, and none of its bytes is read.
            log.warning("Closed a connection from %s: a client is being served", _peer(transport))
            transport.abort()
            return None
        log.info("Serving the client at %s", _peer(transport))
        self.session = Session(self._fresh(), transport, self._token)
        return self.session

    def end_session(self, session: Session | None = None) -> None:
        current = self.session
        if current is None or (session is not None and session is not current):
            return
        self.session = None
        current.end()


class Session:
    """One client's server, wired to its socket."""

    def __init__(self, server: KimiServer, transport: asyncio.Transport, token: str | None):
        self.server = server
        self._transport = transport
        self._writer = SocketWriter(transport)
        server.protocol.set_writer(self._writer)
        server.dispatcher.guard_connection(transport.close, token)
        self._deadline: asyncio.TimerHandle | None = None
        if token is not None:
            seconds = _env_seconds(server.env.get(HANDSHAKE_ENV), HANDSHAKE_SECONDS)
            self._deadline = asyncio.get_running_loop().call_later(seconds, self._expire)

    def _expire(self) -> None:
        if not self.server.dispatcher.admitted:
            self.server.dispatcher.close("no initialize with the token in time")

    @property
    def hung_up(self) -> bool:
        return self._transport.is_closing()

    def feed(self, data: bytes) -> None:
        self.server.dispatcher.feed(data)

    def end(self) -> None:
        """Stop everything the client started; nothing more is written to its socket."""
        self._writer.detach()
        if self._deadline is not None:
            self._deadline.cancel()
        server = self.server
        server.dispatcher.disconnect()
        for task in list(server.progress_tasks.values()):
            task.cancel()
        futures = pygls.request_futures(server.protocol)
        for future in list(futures.values()):
            future.cancel()
        if server.logs is not None:
            server.logs.unbridge()
        server.shutdown()  # type: ignore[no-untyped-call]
        pygls.forget_protocols()
        log.info("The client disconnected; listening for the next one")


class SocketWriter:
    """pygls's writer for a socket: writes from worker threads (log records) hop to the loop,
    and after the client left everything is dropped."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport: asyncio.Transport | None = transport
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    def write(self, data: bytes) -> None:
        if threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(self.write, data)
            return
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    def close(self) -> None:
        # pygls calls this before exiting the process; the socket closes with it.
        pass

    def detach(self) -> None:
        self._transport = None


class _Connection(asyncio.Protocol):
    """One accepted socket. Whether it is served is decided one loop turn after it arrives:
    a client that closed and reconnected at once is then not refused, because the EOF of
    its old connection, read in the same turn, has ended that session first."""

    def __init__(self, listener: Listener) -> None:
        self._listener = listener
        self._session: Session | None = None
        self._transport: asyncio.Transport | None = None
        self._early: list[bytes] | None = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        asyncio.get_running_loop().call_soon(self._decide)

    def _decide(self) -> None:
        early, self._early = self._early, None
        transport = self._transport
        if transport is None or transport.is_closing() or early is None:
            return  # it left before we decided
        self._session = self._listener.open_session(transport)
        if self._session is not None:
            for data in early:
                self._session.feed(data)

    def data_received(self, data: bytes) -> None:
        if self._early is not None:
            self._early.append(data)
        elif self._session is not None:
            self._session.feed(data)

    def eof_received(self) -> bool:
        return False  # close our side too: a half-open LSP connection is of no use

    def connection_lost(self, exc: Exception | None) -> None:
        self._early = None
        if self._session is not None:
            self._listener.end_session(self._session)
            self._session = None


def _peer(transport: asyncio.BaseTransport) -> Any:
    peer = transport.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else peer


def _foreign(transport: asyncio.BaseTransport) -> bool:
    """A loopback peer known to run as another local user (never known off Linux)."""
    peer, ours = transport.get_extra_info("peername"), transport.get_extra_info("sockname")
    if not (isinstance(peer, tuple) and isinstance(ours, tuple)) or not is_loopback(peer[0]):
        return False
    return foreign_user(peer[1], ours[1])


def _env_seconds(value: str | None, default: float) -> float:
    try:
        seconds = float(value) if value else default
    except ValueError:
        return default
    return seconds if seconds > 0 else default
