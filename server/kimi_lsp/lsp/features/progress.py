"""Work-done progress ($/progress) whose Cancel button cancels the operation's task."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from ..server import KimiServer

log = logging.getLogger(__name__)

_REPORT_INTERVAL = 0.1  # seconds between $/progress reports: enough for a spinner


class Progress:
    """One progress bar, started without waiting for the client: the operation begins at once
    and the bar appears when the client has acknowledged it (server-created tokens)."""

    def __init__(self, server: KimiServer, title: str, message: str) -> None:
        self._server = server
        self._title = title
        self._message = message
        self.token: str | int | None = None
        self._pending: asyncio.Task[None] | None = None
        self._last_report = 0.0
        self._ended = False

    @classmethod
    def start(
        cls, server: KimiServer, title: str, work_done_token: Any = None, message: str = ""
    ) -> Progress:
        """Call from inside the operation's task: its Cancel button cancels that task."""
        progress = cls(server, title, message)
        task = asyncio.current_task()
        if isinstance(work_done_token, str | int) and not isinstance(work_done_token, bool):
            progress._begin(work_done_token, task)
        elif server.client.work_done_progress:
            token = f"kimi-{uuid.uuid4().hex}"
            progress._pending = asyncio.ensure_future(progress._create(token, task))
        return progress

    async def _create(self, token: str, task: asyncio.Task[Any] | None) -> None:
        try:
            await self._server.protocol.send_request_async(
                types.WINDOW_WORK_DONE_PROGRESS_CREATE,
                types.WorkDoneProgressCreateParams(token=token),
            )
        except Exception as exc:
            log.info("The client declined a progress bar: %s", exc)
            return
        if not self._ended:
            self._begin(token, task)

    def _begin(self, token: str | int, task: asyncio.Task[Any] | None) -> None:
        self.token = token
        if task is not None:
            self._server.progress_tasks[token] = task
        begin = {"kind": "begin", "title": self._title, "cancellable": True}
        self._send(begin | {"message": self._message} if self._message else begin)

    def report(self, message: str, force: bool = False) -> None:
        now = time.monotonic()
        if self.token is None or (not force and now - self._last_report < _REPORT_INTERVAL):
            return
        self._last_report = now
        self._send({"kind": "report", "message": message})

    def end(self, message: str = "") -> None:
        # A create request still in flight is left to finish (cancelling it would make pygls
        # fail on the client's late answer); `_create` sees `_ended` and sends nothing.
        self._ended = True
        if self.token is None:
            return
        self._server.progress_tasks.pop(self.token, None)
        self._send({"kind": "end", "message": message} if message else {"kind": "end"})
        self.token = None

    def _send(self, value: dict[str, Any]) -> None:
        self._server.notify("$/progress", {"token": self.token, "value": value})


def register(server: KimiServer) -> None:
    @server.registry.notification(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def cancel(params: Any) -> None:
        token = params.get("token") if isinstance(params, dict) else None
        task = server.progress_tasks.pop(token, None) if token is not None else None
        if task is None:
            log.info("Cancel for progress %r, which is not running", token)
            return
        log.info("Cancelling the operation of progress %r at the user's request", token)
        task.cancel()
