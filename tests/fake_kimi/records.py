"""Thread-safe records of every request the fake served, with waits usable from any loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Outcome = Literal["in_progress", "completed", "client_disconnected", "cut", "stream_error"]
"""`completed`: the whole response was sent; `client_disconnected`: the client left first;
`cut`: the fake dropped the connection (fault); `stream_error`: the stream ended with an
in-stream error event (fault)."""


@dataclass
class RecordedRequest:
    """One request as the fake saw it (headers keep the Authorization value verbatim)."""

    seq: int
    connection_id: int
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    arrived_at: float
    """`time.monotonic()` when the request was parsed."""
    ended_at: float | None = None
    """`time.monotonic()` when the response ended (or the disconnect was detected)."""
    outcome: Outcome = "in_progress"
    status: int | None = None
    stream: bool = False
    events_sent: int = 0
    """`data:` events written (the role chunk is the first)."""
    error: dict[str, Any] | None = None
    """The error JSON returned, if any."""
    continuation: dict[str, Any] | None = None
    """`{"styles": [...], "honored": bool, "prefix": str}` when the request continued a prefix."""
    usage: dict[str, int] | None = None

    @property
    def is_chat(self) -> bool:
        return self.path.endswith("/chat/completions")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["raw_body"] = self.raw_body.decode("utf-8", "replace")
        return data


@dataclass(frozen=True)
class ValidationError:
    seq: int
    status: int
    type: str
    message: str


@dataclass
class Stats:
    """Counters; read them through `Recorder.stats()` for a consistent copy."""

    connections_opened: int = 0
    streams_opened: int = 0
    streams_completed: int = 0
    streams_client_closed: int = 0
    """Streams the client closed before the end (stalled streams included)."""
    disconnects: int = 0
    """Requests of any kind whose client left before the response ended."""
    in_flight: int = 0
    """Chat requests between arrival and the end of their response."""
    max_in_flight: int = 0
    validation_errors: list[ValidationError] = field(default_factory=list)


class Recorder:
    """All records live behind one lock; every change wakes the sync and async waiters."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.RLock())
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.requests: list[RecordedRequest] = []
        self.counts = Stats()

    def update(self, change: Callable[[], object]) -> None:
        """Apply `change` under the lock, then wake every waiter."""
        with self._cond:
            change()
            self._cond.notify_all()
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, future)

    def read(self, query: Callable[[], Any]) -> Any:
        with self._cond:
            return query()

    def add(self, record: RecordedRequest) -> None:
        def change() -> None:
            self.requests.append(record)
            if record.is_chat:
                self.counts.in_flight += 1
                self.counts.max_in_flight = max(self.counts.max_in_flight, self.counts.in_flight)

        self.update(change)

    def finish(self, record: RecordedRequest, outcome: Outcome) -> None:
        """Close a record; the first ending wins (later calls are ignored)."""

        def change() -> None:
            if record.outcome != "in_progress":
                return
            record.outcome = outcome
            record.ended_at = time.monotonic()
            if record.is_chat:
                self.counts.in_flight -= 1
            if outcome == "client_disconnected":
                self.counts.disconnects += 1
                if record.stream:
                    self.counts.streams_client_closed += 1
            elif outcome == "completed" and record.stream:
                self.counts.streams_completed += 1

        self.update(change)

    def reset(self) -> None:
        def change() -> None:
            self.requests = [r for r in self.requests if r.outcome == "in_progress"]
            in_flight = sum(1 for r in self.requests if r.is_chat)
            self.counts = Stats(in_flight=in_flight, max_in_flight=in_flight)

        self.update(change)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Wait (on any event loop) until `predicate()` holds; raises `TimeoutError`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._cond:
                if predicate():
                    return
                future: asyncio.Future[None] = loop.create_future()
                self._waiters.append((loop, future))
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                await asyncio.wait_for(future, remaining)
            except TimeoutError:
                with self._cond:
                    if predicate():
                        return
                    self._waiters = [w for w in self._waiters if w[1] is not future]
                raise TimeoutError(f"condition not met within {timeout} s") from None

    def wait_until_blocking(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Block this thread until `predicate()` holds; never call it on the fake's own loop."""
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise TimeoutError(f"condition not met within {timeout} s")


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
