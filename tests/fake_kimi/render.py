"""Turns a scripted `Reply` into Moonshot-shaped stream chunks or a non-streamed completion."""

from __future__ import annotations

import json
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

from .dialects import bounded
from .script import Reply, ToolCall
from .tokens import estimate_completion_tokens
from .validate import ChatRequest

TOOL_CALL_ID_STYLES = {
    "functions.name:N": "functions.{name}:{n}",
    "name:N": "{name}:{n}",
    "name_N": "{name}_{n}",
}
"""Aliases for the tool-call id styles seen in the wild; any `str.format` pattern using
`{name}` and `{n}` (the call's index in the whole conversation) is accepted too."""


@dataclass(frozen=True)
class Planned:
    """A reply resolved against its request: the deltas to send, in order, and the ending."""

    deltas: list[dict[str, Any]]
    finish_reason: str
    usage: dict[str, int]
    usage_in_finish: bool = True


@dataclass(frozen=True)
class ChunkMeta:
    """The envelope every chunk of one response shares."""

    id: str
    created: int
    model: str

    @classmethod
    def new(cls, model: str) -> ChunkMeta:
        return cls(f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time()), model)


def split_text(text: str | list[str], chunks: int) -> list[str]:
    """Split text into at most `chunks` non-empty, nearly equal pieces (lists are kept)."""
    if isinstance(text, list):
        return list(text)
    if not text:
        return []
    size = math.ceil(len(text) / max(1, chunks))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _arguments(call: ToolCall) -> str:
    if isinstance(call.arguments, str):
        return call.arguments
    return json.dumps(dict(call.arguments), ensure_ascii=False, separators=(",", ":"))


def _earlier_tool_calls(request: ChatRequest) -> int:
    return sum(
        len(m.get("tool_calls") or []) for m in request.messages if m.get("role") == "assistant"
    )


def plan(
    reply: Reply,
    request: ChatRequest,
    *,
    id_style: str,
    repeat_prefix: bool,
    cached_tokens: int,
) -> Planned:
    """Resolve `reply` into deltas (the first is the role delta) and the usage to report."""
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    if request.thinking:
        deltas += [{"reasoning_content": p} for p in split_text(reply.reasoning, reply.chunks)]
    content = reply.content
    continuation = request.continuation
    if continuation is not None and (repeat_prefix or reply.repeat_prefix):
        content = (
            [continuation.prefix, *content]
            if isinstance(content, list)
            else continuation.prefix + content
        )
    cut = False
    if request.output_limit is not None or request.runaway_tokens:
        content, cut = bounded(content, request.output_limit, request.runaway_tokens)
    deltas += [{"content": p} for p in split_text(content, reply.chunks)]
    pattern = TOOL_CALL_ID_STYLES.get(
        reply.tool_call_id_style or id_style, reply.tool_call_id_style or id_style
    )
    first_n = _earlier_tool_calls(request)
    for index, call in enumerate(reply.tool_calls):
        call_id = call.id or pattern.format(name=call.name, n=first_n + index)
        head = {"name": call.name, "arguments": ""}
        deltas.append(
            {"tool_calls": [{"index": index, "id": call_id, "type": "function", "function": head}]}
        )
        arguments = _arguments(call)
        fragments = (
            call.fragments
            if isinstance(call.fragments, list)
            else split_text(arguments, call.fragments)
        )
        deltas += [
            {"tool_calls": [{"index": index, "function": {"arguments": f}}]} for f in fragments
        ]
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    finish = "length" if cut else finish
    if reply.fault is not None and reply.fault.kind == "content_filter":
        deltas, finish = deltas[: max(1, reply.fault.after)], "content_filter"
    override = dict(reply.usage or {})
    prompt = override.get("prompt_tokens", request.prompt_tokens)
    completion = override.get("completion_tokens", estimate_completion_tokens(_texts(deltas)))
    cached = override.get("cached_tokens", min(cached_tokens, prompt))
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cached_tokens": cached,
    }
    return Planned(deltas, finish, usage, request.usage_in_finish)


def _texts(deltas: list[dict[str, Any]]) -> list[str]:
    texts: list[str] = []
    for delta in deltas:
        texts.append(delta.get("reasoning_content", ""))
        texts.append(delta.get("content", ""))
        for call in delta.get("tool_calls", []):
            texts.append(call["function"].get("name", ""))
            texts.append(call["function"].get("arguments", ""))
    return texts


def _with_details(usage: dict[str, int]) -> dict[str, Any]:
    return {**usage, "prompt_tokens_details": {"cached_tokens": usage["cached_tokens"]}}


def chunk(
    meta: ChunkMeta,
    delta: dict[str, Any],
    finish_reason: str | None = None,
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    if usage is not None:
        choice["usage"] = usage
    return {
        "id": meta.id,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "model": meta.model,
        "choices": [choice],
    }


def stream_payloads(planned: Planned, meta: ChunkMeta, include_usage: bool) -> list[dict[str, Any]]:
    """Every `data:` JSON payload of a stream, in order (`[DONE]` excluded).

    Moonshot puts usage in `choices[0].usage` of the finishing chunk even without
    `stream_options`; `include_usage` adds the OpenAI-style trailing `choices: []` chunk."""
    payloads = [chunk(meta, delta) for delta in planned.deltas]
    finish_usage = planned.usage if planned.usage_in_finish else None
    payloads.append(chunk(meta, {}, planned.finish_reason, finish_usage))
    if include_usage:
        payloads.append(
            {
                "id": meta.id,
                "object": "chat.completion.chunk",
                "created": meta.created,
                "model": meta.model,
                "choices": [],
                "usage": _with_details(planned.usage),
            }
        )
    return payloads


def completion_body(planned: Planned, meta: ChunkMeta) -> dict[str, Any]:
    """The non-streamed response: the deltas merged into one message."""
    message: dict[str, Any] = {"role": "assistant", "content": ""}
    reasoning = "".join(d.get("reasoning_content", "") for d in planned.deltas)
    if reasoning:
        message["reasoning_content"] = reasoning
    message["content"] = "".join(d.get("content", "") for d in planned.deltas)
    calls: list[dict[str, Any]] = []
    for delta in planned.deltas:
        for part in delta.get("tool_calls", []):
            if "id" in part:
                calls.append(
                    {"id": part["id"], "type": "function", "function": dict(part["function"])}
                )
            else:
                calls[part["index"]]["function"]["arguments"] += part["function"]["arguments"]
    if calls:
        message["tool_calls"] = calls
    return {
        "id": meta.id,
        "object": "chat.completion",
        "created": meta.created,
        "model": meta.model,
        "choices": [{"index": 0, "message": message, "finish_reason": planned.finish_reason}],
        "usage": _with_details(planned.usage),
    }
