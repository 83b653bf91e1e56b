"""`POST /chat/completions`: validation, the script, streaming and the fault modes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from .config import FakeConfig
from .dialects import validate_local
from .messages import unissued_ids
from .records import Outcome, RecordedRequest, Recorder, ValidationError
from .render import ChunkMeta, Planned, completion_body, plan, stream_payloads
from .script import DEFAULT_STREAM_ERROR, ErrorReply, Reply, ScriptItem, StreamFault
from .tokens import cache_key, cached_tokens
from .validate import ApiError, ChatRequest, Rules, validate_chat
from .wire import Connection, SseWriter, send_body, send_json

_PREFIX_FIELDS = {
    "partial": "messages[-1].partial",
    "prefix_body": "prefix",
    "prefix_message": "messages[-1].prefix",
}

Done = tuple[Outcome, bool]
"""How the response ended, and whether the connection may serve another request."""


class ChatEndpoint:
    """Answers chat-completions requests; one instance per fake (it remembers the previous
    request's prompt for the prefix-cache numbers)."""

    def __init__(
        self,
        config: FakeConfig,
        recorder: Recorder,
        next_item: Callable[[dict[str, Any]], ScriptItem],
        gate: Callable[[str], asyncio.Event],
    ) -> None:
        self._config = config
        self.rules: Rules = config.rules()
        self._recorder = recorder
        self._next_item = next_item
        self._gate = gate
        self._previous_key: str | None = None
        # Every tool-call id this fake sent (the real API's model only knows its own ids).
        self.issued_ids: set[str] = set(config.issued_tool_call_ids)

    async def handle(self, conn: Connection, record: RecordedRequest, keep_alive: bool) -> Done:
        try:
            if self.rules.dialect == "moonshot":
                request = validate_chat(record.body, self.rules)
                self._check_issued(request)
            else:
                request = validate_local(record.body, self.rules)
            repeat = self._continuation(request, record)
        except ApiError as error:
            entry = ValidationError(record.seq, error.status, error.type, error.message)
            self._recorder.update(lambda: self._recorder.counts.validation_errors.append(entry))
            return await self.send_error(conn, record, error, keep_alive)
        key = cache_key(request.messages, request.tools)
        cached = cached_tokens(self._previous_key, key, request.prompt_tokens)
        self._previous_key = key
        try:
            item = self._next_item(request.body)
        except Exception as exc:  # a broken script callable: make it loud in the test
            failure = ApiError(500, "server_error", f"fake_kimi script failed: {exc!r}")
            return await self.send_error(conn, record, failure, keep_alive)
        if item.gate is not None and await conn.wait_for(self._gate(item.gate)):
            return "client_disconnected", False
        # A stream answers its headers at once and waits `delay` before the first chunk.
        streaming = request.stream and isinstance(item, Reply)
        if not streaming and await conn.sleep(item.delay):
            return "client_disconnected", False
        if isinstance(item, ErrorReply):
            return await self._send_scripted_error(conn, record, item, keep_alive)
        planned = plan(
            item,
            request,
            id_style=self._config.tool_call_id_style,
            repeat_prefix=repeat,
            cached_tokens=cached,
        )
        self._set(record, usage=planned.usage)
        self._issue(planned)
        meta = ChunkMeta.new(request.model.id)
        if request.stream:
            include_usage = request.include_usage and self._config.honor_include_usage
            return await self._stream(conn, record, item, planned, meta, include_usage)
        return await self._complete(conn, record, item, planned, meta, keep_alive)

    def _check_issued(self, request: ChatRequest) -> None:
        if not self._config.check_issued_ids:
            return
        # Only the fake's own loop touches `issued_ids`: no lock needed.
        message = unissued_ids(request.messages, self.issued_ids)
        if message is not None:
            raise ApiError(400, "invalid_request_error", message)

    def _issue(self, planned: Planned) -> None:
        ids = [
            part["id"]
            for delta in planned.deltas
            for part in delta.get("tool_calls", ())
            if "id" in part
        ]
        self.issued_ids.update(ids)

    def _continuation(self, request: ChatRequest, record: RecordedRequest) -> bool:
        """Record the continuation; True if the reply must repeat the prefix."""
        continuation = request.continuation
        if continuation is None:
            return False
        info = {
            "styles": list(continuation.styles),
            "honored": continuation.honored,
            "prefix": continuation.prefix,
        }
        self._set(record, continuation=info)
        if continuation.honored:
            return self._config.repeat_prefix
        if self._config.unaccepted_prefix == "reject":
            fields = ", ".join(_PREFIX_FIELDS[style] for style in continuation.styles)
            raise ApiError(
                400, "invalid_request_error", f"Invalid request: unsupported field(s): {fields}"
            )
        return self._config.repeat_prefix or self._config.unaccepted_prefix == "repeat"

    async def send_error(
        self, conn: Connection, record: RecordedRequest, error: ApiError, keep_alive: bool
    ) -> Done:
        payload = error.error_json()
        self._set(record, status=error.status, error=payload)
        sent = await send_json(conn, error.status, payload, keep_alive)
        return ("completed", keep_alive) if sent else ("client_disconnected", False)

    async def _send_scripted_error(
        self, conn: Connection, record: RecordedRequest, item: ErrorReply, keep_alive: bool
    ) -> Done:
        extra = list(item.headers.items())
        if item.retry_after is not None:
            value = item.retry_after
            extra.append(("Retry-After", str(int(value)) if value == int(value) else str(value)))
        payload = item.error_json()
        self._set(record, status=item.status, error=payload)
        if item.body is not None:
            body = item.body.encode("utf-8")
            sent = await send_body(conn, item.status, body, "text/html", keep_alive, extra)
        else:
            sent = await send_json(conn, item.status, payload, keep_alive, extra)
        return ("completed", keep_alive) if sent else ("client_disconnected", False)

    async def _complete(
        self,
        conn: Connection,
        record: RecordedRequest,
        reply: Reply,
        planned: Planned,
        meta: ChunkMeta,
        keep_alive: bool,
    ) -> Done:
        fault = reply.fault
        kind = fault.kind if fault is not None else None
        if kind == "cut":
            conn.abort()
            return "cut", False
        if kind == "stall":
            await conn.gone.wait()
            return "client_disconnected", False
        self._set(record, status=200)
        if kind == "malformed" and fault is not None:
            body = fault.line.encode("utf-8")
            sent = await send_body(conn, 200, body, "application/json", keep_alive)
        elif kind == "stream_error" and fault is not None:
            payload = {"error": dict(fault.error or DEFAULT_STREAM_ERROR)}
            self._set(record, status=500, error=payload)
            sent = await send_json(conn, 500, payload, keep_alive)
        else:
            sent = await send_json(conn, 200, completion_body(planned, meta), keep_alive)
        return ("completed", keep_alive) if sent else ("client_disconnected", False)

    async def _stream(
        self,
        conn: Connection,
        record: RecordedRequest,
        reply: Reply,
        planned: Planned,
        meta: ChunkMeta,
        include_usage: bool,
    ) -> Done:
        chunked = self._config.sse_framing == "chunked"
        writer = SseWriter(conn, chunked)
        if not await writer.start():
            return "client_disconnected", False

        def opened() -> None:
            record.stream, record.status = True, 200
            self._recorder.counts.streams_opened += 1

        self._recorder.update(opened)
        if await conn.sleep(reply.delay):
            return "client_disconnected", False
        lines = [f"data: {_dumps(p)}" for p in stream_payloads(planned, meta, include_usage)]
        lines.append("data: [DONE]")
        fault = reply.fault if reply.fault and reply.fault.kind != "content_filter" else None
        strike = min(max(0, fault.after), len(lines) - 1) if fault else -1
        for index, line in enumerate(lines):
            if index == strike and fault is not None:
                ending = await self._strike(writer, fault)
                if ending is not None:
                    return ending
            if index > 0 and await conn.sleep(reply.chunk_delay):
                return "client_disconnected", False
            if not await writer.line(line):
                return "client_disconnected", False
            self._recorder.update(lambda: setattr(record, "events_sent", record.events_sent + 1))
        if not await writer.end():
            return "client_disconnected", False
        return "completed", chunked

    async def _strike(self, writer: SseWriter, fault: StreamFault) -> Done | None:
        """Apply a stream fault; None when the stream goes on afterwards."""
        conn = writer.conn
        if fault.kind == "cut":
            conn.abort()
            return "cut", False
        if fault.kind == "stall":
            await conn.gone.wait()
            return "client_disconnected", False
        if fault.kind == "malformed":
            return None if await writer.line(fault.line) else ("client_disconnected", False)
        error = {"error": dict(fault.error or DEFAULT_STREAM_ERROR)}
        if not (await writer.data(error) and await writer.end()):
            return "client_disconnected", False
        return "stream_error", writer.chunked

    def _set(self, record: RecordedRequest, **fields: Any) -> None:
        def change() -> None:
            for name, value in fields.items():
                setattr(record, name, value)

        self._recorder.update(change)


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)
