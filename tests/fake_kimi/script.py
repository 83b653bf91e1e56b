"""The scripting model: what the fake answers to each chat-completions request."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

StreamFaultKind = Literal["cut", "malformed", "stream_error", "stall", "content_filter"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


@dataclass(frozen=True)
class ToolCall:
    """One tool call the model emits.

    `arguments` is the JSON text (a mapping is serialised compactly); `fragments` is how many
    argument deltas to stream (or the explicit fragments, which must join to the arguments);
    `id` overrides the generated id (sent verbatim)."""

    name: str
    arguments: str | Mapping[str, Any] = "{}"
    id: str | None = None
    fragments: int | list[str] = 3


@dataclass(frozen=True)
class StreamFault:
    """A fault that strikes after `after` SSE events were sent (event 1 is the role chunk).

    - `cut`: the connection is closed abruptly (no terminating chunk, no [DONE]);
    - `malformed`: a non-JSON `data:` line (`line`), then the stream goes on;
    - `stream_error`: an in-stream `data: {"error": ...}` event, then the stream ends (no [DONE]);
    - `stall`: nothing more is sent; the connection stays open until the client leaves;
    - `content_filter`: the reply stops with `finish_reason: "content_filter"` (+ usage, [DONE]).
    """

    kind: StreamFaultKind
    after: int = 1
    line: str = "data: {not json"
    error: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Reply:
    """A successful answer, streamed or not depending on the request's `stream` flag.

    `content` / `reasoning` are split into `chunks` deltas unless given as explicit lists of
    chunks. Reasoning is streamed only when thinking is on. `content` is the continuation when
    the request continues a prefix (it is not repeated unless `repeat_prefix`). `usage` overrides
    any of `prompt_tokens`, `completion_tokens`, `cached_tokens`. `gate` holds the request
    (before any response byte) until `FakeKimi.open_gate(gate)`; `delay` is waited before the
    first chunk (after the 200 headers) or before a non-streamed response; `chunk_delay` between
    chunks. Every wait ends at once if the client disconnects."""

    content: str | list[str] = ""
    reasoning: str | list[str] = ""
    tool_calls: tuple[ToolCall, ...] | list[ToolCall] = ()
    finish_reason: FinishReason | None = None
    usage: Mapping[str, int] | None = None
    chunks: int = 3
    delay: float = 0.0
    chunk_delay: float = 0.0
    gate: str | None = None
    fault: StreamFault | None = None
    repeat_prefix: bool = False
    tool_call_id_style: str | None = None


@dataclass(frozen=True)
class ErrorReply:
    """An HTTP error response with Moonshot's error JSON `{"error": {"message", "type"}}`.

    `retry_after` (seconds) becomes a `Retry-After` header; `body` replaces the JSON body with
    raw text (e.g. a gateway's HTML page)."""

    status: int
    type: str
    message: str
    retry_after: float | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    delay: float = 0.0
    gate: str | None = None

    def error_json(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type}}


ScriptItem = Reply | ErrorReply
Responder = Callable[[dict[str, Any]], ScriptItem]
"""A dynamic script: called with the parsed request body, returns what to answer."""
Scripted = ScriptItem | Responder

QUOTA_MESSAGE = (
    "Your account is suspended due to insufficient balance, please recharge your account "
    "and check your balance"
)
CONTENT_FILTER_MESSAGE = "The request was rejected because it was considered high risk"


class Fault:
    """Ready-made faults with the real API's status codes, error types and messages."""

    @staticmethod
    def status(
        status: int, type: str, message: str, retry_after: float | None = None, **kw: Any
    ) -> ErrorReply:
        return ErrorReply(status, type, message, retry_after=retry_after, **kw)

    @staticmethod
    def rate_limit(retry_after: float | None = 1.0, **kw: Any) -> ErrorReply:
        message = (
            "Your account request reached organization max RPM: 3, please try again after 1 seconds"
        )
        return ErrorReply(429, "rate_limit_reached_error", message, retry_after=retry_after, **kw)

    @staticmethod
    def overloaded(retry_after: float | None = 1.0, **kw: Any) -> ErrorReply:
        message = "The engine is currently overloaded, please try again later"
        return ErrorReply(429, "engine_overloaded_error", message, retry_after=retry_after, **kw)

    @staticmethod
    def quota(**kw: Any) -> ErrorReply:
        return ErrorReply(429, "exceeded_current_quota_error", QUOTA_MESSAGE, **kw)

    @staticmethod
    def auth(type: str = "invalid_authentication_error", **kw: Any) -> ErrorReply:
        return ErrorReply(401, type, "Invalid Authentication", **kw)

    @staticmethod
    def permission_denied(**kw: Any) -> ErrorReply:
        message = "The API you are accessing is not open to your account (permission denied)"
        return ErrorReply(403, "permission_denied_error", message, **kw)

    @staticmethod
    def not_found(model: str = "kimi-k2.6", **kw: Any) -> ErrorReply:
        message = f"Not found the model {model} or Permission denied"
        return ErrorReply(404, "resource_not_found_error", message, **kw)

    @staticmethod
    def content_filter(**kw: Any) -> ErrorReply:
        return ErrorReply(400, "content_filter", CONTENT_FILTER_MESSAGE, **kw)

    @staticmethod
    def server_error(**kw: Any) -> ErrorReply:
        return ErrorReply(500, "server_error", "Internal server error, please retry later", **kw)

    @staticmethod
    def bad_gateway(**kw: Any) -> ErrorReply:
        return ErrorReply(502, "server_error", "Bad gateway", **kw)

    @staticmethod
    def unavailable(retry_after: float | None = None, **kw: Any) -> ErrorReply:
        message = "Service temporarily unavailable"
        return ErrorReply(503, "server_error", message, retry_after=retry_after, **kw)

    @staticmethod
    def cut(after: int = 2, reply: Reply | None = None) -> Reply:
        return _with_fault(reply, StreamFault("cut", after))

    @staticmethod
    def malformed(
        after: int = 2, reply: Reply | None = None, line: str = "data: {not json"
    ) -> Reply:
        return _with_fault(reply, StreamFault("malformed", after, line=line))

    @staticmethod
    def stream_error(
        after: int = 2, reply: Reply | None = None, error: Mapping[str, Any] | None = None
    ) -> Reply:
        return _with_fault(reply, StreamFault("stream_error", after, error=error))

    @staticmethod
    def stall(after: int = 2, reply: Reply | None = None) -> Reply:
        return _with_fault(reply, StreamFault("stall", after))

    @staticmethod
    def content_filter_midstream(after: int = 2, reply: Reply | None = None) -> Reply:
        return _with_fault(reply, StreamFault("content_filter", after))


DEFAULT_STREAM_ERROR: dict[str, Any] = {
    "message": "The engine encountered an internal error, please retry",
    "type": "server_error",
}
DEFAULT_REPLY_TEXT = "the quick brown fox jumps over the lazy dog " * 4


def _with_fault(reply: Reply | None, fault: StreamFault) -> Reply:
    base = reply if reply is not None else Reply(content=DEFAULT_REPLY_TEXT.strip(), chunks=8)
    return dataclasses.replace(base, fault=fault)


def resolve(item: Scripted, body: dict[str, Any]) -> ScriptItem:
    """Turn a queued item into a concrete answer (calling it if it is dynamic)."""
    if isinstance(item, Reply | ErrorReply):
        return item
    result = item(body)
    if not isinstance(result, Reply | ErrorReply):
        raise TypeError(f"script callable returned {type(result).__name__}, not Reply/ErrorReply")
    return result
