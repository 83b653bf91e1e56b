"""`FakeKimi`: the HTTP server, its routes, the script queue, records and waits."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any

from .chat import ChatEndpoint, Done
from .config import FakeConfig
from .control import handle_control
from .endpoints import estimate_payload, models_payload
from .jsonform import script_from_json
from .records import Outcome, RecordedRequest, Recorder, Stats, ValidationError
from .script import Scripted, ScriptItem, resolve
from .validate import ApiError
from .wire import BadRequest, Connection, HttpRequest, send_json

HANG_GUARD = 30.0
"""Seconds a wait for something that must happen may take before it counts as a hang: never
what a test waits for (the wait ends at the event), only its backstop on a loaded machine."""


class FakeKimi:
    """A local Kimi (Moonshot) chat-completions API.

    In an async test: `async with FakeKimi() as fake: ... fake.base_url`. From sync code or for
    a server in a subprocess: `with FakeKimi().start_in_thread() as fake: ...` (or `.stop()`).
    Keyword arguments override fields of `FakeConfig`."""

    def __init__(self, config: FakeConfig | None = None, **overrides: Any) -> None:
        self.config = dataclasses.replace(config or FakeConfig(), **overrides)
        self.recorder = Recorder()
        self._lock = threading.Lock()
        self._queue: deque[Scripted] = deque()
        self._default: Scripted = self.config.default_reply
        self._open_gates: set[str] = set()
        self._gate_events: dict[str, asyncio.Event] = {}
        self._chat = ChatEndpoint(self.config, self.recorder, self._next_item, self._gate)
        self._conn_ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._conns: set[Connection] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._stop_requested: asyncio.Event | None = None
        self.port = 0

    # ---------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        if not self.port:
            raise RuntimeError("FakeKimi is not started")
        return f"http://{self.config.host}:{self.port}/v1"

    async def start(self) -> FakeKimi:
        """Listen on the running loop."""
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(
            self._on_connection, self.config.host, self.config.port
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def aclose(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for conn in list(self._conns):
            conn.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> FakeKimi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def start_in_thread(self, timeout: float = 10.0) -> FakeKimi:
        """Serve from a background thread with its own event loop; returns self."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            try:
                asyncio.run(self._serve_in_thread(ready))
            except BaseException as exc:
                failure.append(exc)
                ready.set()

        self._thread = threading.Thread(target=main, name="fake-kimi", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("FakeKimi did not start in time")
        if failure:
            raise failure[0]
        return self

    async def _serve_in_thread(self, ready: threading.Event) -> None:
        self._stop_requested = asyncio.Event()
        await self.start()
        ready.set()
        try:
            await self._stop_requested.wait()
        finally:
            await self.aclose()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop a fake started with `start_in_thread()`."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._loop is not None and self._stop_requested is not None:
            self._loop.call_soon_threadsafe(self._stop_requested.set)
        thread.join(timeout)

    def __enter__(self) -> FakeKimi:
        return self if self._thread is not None else self.start_in_thread()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------- scripting (thread-safe)

    def enqueue(self, *items: Scripted) -> None:
        """Queue replies, faults or callables `(request_body) -> Reply | ErrorReply`; each chat
        request consumes one (FIFO); the default reply answers when the queue is empty."""
        with self._lock:
            self._queue.extend(items)

    def enqueue_json(self, script: Any) -> int:
        """Queue items in the JSON form (see `jsonform`); returns how many were queued."""
        items, default = script_from_json(script)
        self.enqueue(*items)
        if default is not None:
            self.set_default(default)
        return len(items)

    def set_default(self, item: Scripted) -> None:
        with self._lock:
            self._default = item

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def clear_queue(self) -> None:
        with self._lock:
            self._queue.clear()

    def _next_item(self, body: dict[str, Any]) -> ScriptItem:
        with self._lock:
            item = self._queue.popleft() if self._queue else self._default
        return resolve(item, body)

    def open_gate(self, name: str) -> None:
        """Release every reply held on `name`, now and later (until `close_gate`)."""
        with self._lock:
            self._open_gates.add(name)
            event = self._gate_events.get(name)
        if event is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(event.set)

    def close_gate(self, name: str) -> None:
        with self._lock:
            self._open_gates.discard(name)
            event = self._gate_events.get(name)
        if event is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(event.clear)

    def _gate(self, name: str) -> asyncio.Event:
        with self._lock:
            event = self._gate_events.setdefault(name, asyncio.Event())
            if name in self._open_gates:
                event.set()
        return event

    # ---------------------------------------------------------------- records (thread-safe)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request (control endpoints excepted), in arrival order."""
        result: list[RecordedRequest] = self.recorder.read(lambda: list(self.recorder.requests))
        return result

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.is_chat]

    @property
    def last_request(self) -> RecordedRequest:
        chats = self.chat_requests
        if not chats:
            raise LookupError("no chat request was recorded")
        return chats[-1]

    @property
    def stats(self) -> Stats:
        """A consistent copy of the counters."""

        def copy() -> Stats:
            counts = self.recorder.counts
            return dataclasses.replace(counts, validation_errors=list(counts.validation_errors))

        result: Stats = self.recorder.read(copy)
        return result

    @property
    def validation_errors(self) -> list[ValidationError]:
        return self.stats.validation_errors

    @property
    def issued_tool_call_ids(self) -> frozenset[str]:
        """Every tool-call id the fake sent (or was told to take as sent)."""
        return frozenset(self._chat.issued_ids)

    def issue_tool_call_ids(self, *ids: str) -> None:
        """Take `ids` as sent by the fake, for a history a test writes by hand."""
        self._chat.issued_ids.update(ids)

    def reset(self) -> None:
        """Forget finished records and counters, and empty the script queue (the issued
        tool-call ids are kept: a conversation may go on across a reset)."""
        self.clear_queue()
        self.recorder.reset()

    # ---------------------------------------------------------------- waits

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = HANG_GUARD) -> None:
        """Wait on any event loop until `predicate()` holds (re-checked on every change)."""
        await self.recorder.wait_until(predicate, timeout)

    def wait_for_blocking(self, predicate: Callable[[], bool], timeout: float = HANG_GUARD) -> None:
        """The same from a plain thread (never from the fake's own loop)."""
        self.recorder.wait_until_blocking(predicate, timeout)

    def _disconnected(self, count: int) -> Callable[[], bool]:
        return lambda: self.recorder.counts.disconnects >= count

    def _nth_disconnected(self, count: int) -> RecordedRequest:
        gone = [r for r in self.requests if r.outcome == "client_disconnected"]
        gone.sort(key=lambda r: r.ended_at or 0.0)
        return gone[count - 1]

    async def wait_for_disconnect(
        self, timeout: float = HANG_GUARD, count: int = 1
    ) -> RecordedRequest:
        """Wait until `count` requests in all were left by their client; returns the last.
        `timeout` only guards against a hang: a loaded machine may take seconds to notice."""
        await self.wait_for(self._disconnected(count), timeout)
        return self._nth_disconnected(count)

    def wait_for_disconnect_blocking(
        self, timeout: float = HANG_GUARD, count: int = 1
    ) -> RecordedRequest:
        self.wait_for_blocking(self._disconnected(count), timeout)
        return self._nth_disconnected(count)

    async def wait_for_requests(
        self, count: int, timeout: float = HANG_GUARD
    ) -> list[RecordedRequest]:
        """Wait until `count` chat requests arrived."""
        await self.wait_for(
            lambda: sum(r.is_chat for r in self.recorder.requests) >= count, timeout
        )
        return self.chat_requests

    async def wait_for_in_flight(self, count: int, timeout: float = HANG_GUARD) -> None:
        await self.wait_for(lambda: self.recorder.counts.in_flight >= count, timeout)

    async def wait_for_idle(self, timeout: float = HANG_GUARD) -> None:
        """Wait until every recorded request has ended (its record is final)."""
        await self.wait_for(
            lambda: all(r.outcome != "in_progress" for r in self.recorder.requests), timeout
        )

    def wait_for_idle_blocking(self, timeout: float = HANG_GUARD) -> None:
        self.wait_for_blocking(
            lambda: all(r.outcome != "in_progress" for r in self.recorder.requests), timeout
        )

    # ---------------------------------------------------------------- serving

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        conn = Connection(next(self._conn_ids), reader, writer)
        self._conns.add(conn)
        self.recorder.update(self._count_connection)
        try:
            while True:
                try:
                    request = await conn.read_request()
                except BadRequest as exc:
                    error = {"error": {"message": str(exc), "type": "invalid_request_error"}}
                    await send_json(conn, 400, error, keep_alive=False)
                    break
                if request is None:
                    break
                conn.watch()
                try:
                    keep = await self._dispatch(conn, request)
                finally:
                    await conn.unwatch()
                if not keep or conn.gone.is_set():
                    break
        except asyncio.CancelledError:
            # Shutdown: end quietly (asyncio's stream callback would print a cancelled
            # connection task's CancelledError as an unhandled exception).
            pass
        except Exception:
            traceback.print_exc(file=sys.stderr)
        finally:
            self._conns.discard(conn)
            with contextlib.suppress(asyncio.CancelledError):
                await conn.close()
            if task is not None:
                self._tasks.discard(task)

    def _count_connection(self) -> None:
        self.recorder.counts.connections_opened += 1

    async def _dispatch(self, conn: Connection, request: HttpRequest) -> bool:
        keep_alive = request.keep_alive
        if request.path.startswith("/_control/"):
            return await handle_control(self, conn, request, keep_alive)
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            body = None
        record = RecordedRequest(
            seq=next(self._seq),
            connection_id=conn.id,
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            body=body,
            raw_body=request.body,
            arrived_at=time.monotonic(),
        )
        self.recorder.add(record)
        outcome: Outcome = "cut"
        keep = False
        try:
            outcome, keep = await self._route(conn, request, record, keep_alive)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            failure = ApiError(500, "server_error", f"fake_kimi failed: {exc!r}")
            outcome, keep = await self._chat.send_error(conn, record, failure, False)
        finally:
            self.recorder.finish(record, outcome)
        return keep and outcome != "client_disconnected"

    def _authorized(self, request: HttpRequest) -> bool:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return False
        keys = self.config.api_keys
        return keys is None or key.strip() in keys

    async def _route(
        self, conn: Connection, request: HttpRequest, record: RecordedRequest, keep_alive: bool
    ) -> Done:
        send_error = self._chat.send_error
        if not self._authorized(request):
            error = ApiError(401, "invalid_authentication_error", "Invalid Authentication")
            return await send_error(conn, record, error, keep_alive)
        path, method = request.path, request.method
        if method == "POST" and request.body and record.body is None:
            error = ApiError(
                400, "invalid_request_error", "Invalid request: body is not valid JSON"
            )
            return await send_error(conn, record, error, keep_alive)
        if path.endswith("/chat/completions") and method == "POST":
            return await self._chat.handle(conn, record, keep_alive)
        if path.endswith("/models") and method == "GET":
            return await self._send(conn, record, models_payload(self.config.models), keep_alive)
        if path.endswith("/tokenizers/estimate-token-count") and method == "POST":
            try:
                payload = estimate_payload(record.body, self._chat.rules)
            except ApiError as invalid:
                return await send_error(conn, record, invalid, keep_alive)
            return await self._send(conn, record, payload, keep_alive)
        error = ApiError(404, "resource_not_found_error", f"Not found: {method} {path}")
        return await send_error(conn, record, error, keep_alive)

    async def _send(
        self, conn: Connection, record: RecordedRequest, payload: Any, keep_alive: bool
    ) -> Done:
        self.recorder.update(lambda: setattr(record, "status", 200))
        sent = await send_json(conn, 200, payload, keep_alive)
        return ("completed", keep_alive) if sent else ("client_disconnected", False)
