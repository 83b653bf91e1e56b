"""One prediction in flight per document: a newer request supersedes (and cancels) the older."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class Ticket:
    """One request's turn for a document."""

    superseded: bool = False
    task: asyncio.Task[object] | None = field(default=None, repr=False)

    def supersede(self) -> bool:
        """Cancel this request's work; True when it was still running (its answer is then the
        caller's default, and its model call, if sent, is closed by the cancel)."""
        self.superseded = True
        if self.task is None or self.task.done():
            return False
        self.task.cancel()
        return True


class Scheduler:
    """Per-document turns: `begin` supersedes the document's running request; `run` does the
    work in a task of its own so that superseding it cancels only the work, and the request
    still answers (with `default`), while a cancel of the request itself propagates."""

    def __init__(self, on_superseded: Callable[[], None] | None = None) -> None:
        self._current: dict[str, Ticket] = {}
        self._on_superseded = on_superseded

    def begin(self, uri: str) -> Ticket:
        old = self._current.get(uri)
        if old is not None and old.supersede() and self._on_superseded is not None:
            self._on_superseded()
        ticket = Ticket()
        self._current[uri] = ticket
        return ticket

    def end(self, uri: str, ticket: Ticket) -> None:
        if self._current.get(uri) is ticket:
            del self._current[uri]

    def in_flight(self) -> int:
        return sum(1 for t in self._current.values() if t.task is not None and not t.task.done())

    async def run(
        self, uri: str, ticket: Ticket, work: Callable[[], Awaitable[T]], default: T
    ) -> T:
        """`work()`'s result, or `default` when a newer request for `uri` superseded it."""
        if ticket.superseded:
            return default
        task: asyncio.Task[T] = asyncio.ensure_future(work())
        ticket.task = task  # type: ignore[assignment]
        try:
            return await task
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if ticket.superseded and (me is None or not me.cancelling()):
                return default
            raise
        finally:
            self.end(uri, ticket)


async def debounce(seconds: float) -> None:
    """Wait before calling the model; a supersede during the wait cancels it (no call made)."""
    if seconds > 0:
        await asyncio.sleep(seconds)
