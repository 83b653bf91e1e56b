"""The JSON form of scripted replies and faults (script files and the control endpoint)."""

from __future__ import annotations

from typing import Any

from .script import ErrorReply, Fault, Reply, ScriptItem, StreamFault, ToolCall

_REPLY_KEYS = {
    "content", "reasoning", "tool_calls", "finish_reason", "usage", "chunks", "delay",
    "chunk_delay", "gate", "fault", "repeat_prefix", "tool_call_id_style",
}  # fmt: skip
_NAMED = {
    "rate_limit": Fault.rate_limit,
    "overloaded": Fault.overloaded,
    "quota": Fault.quota,
    "auth": Fault.auth,
    "permission_denied": Fault.permission_denied,
    "not_found": Fault.not_found,
    "content_filter": Fault.content_filter,
    "server_error": Fault.server_error,
    "bad_gateway": Fault.bad_gateway,
    "unavailable": Fault.unavailable,
}
_NAMED_KEYS = {"error", "retry_after", "delay", "gate", "headers", "body", "model"}
_STATUS_KEYS = {"status", "type", "message", "retry_after", "headers", "body", "delay", "gate"}


def _check_keys(obj: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = set(obj) - allowed
    if unknown:
        raise ValueError(f"unknown key(s) in {what}: {', '.join(sorted(unknown))}")


def item_from_json(obj: Any) -> ScriptItem:
    """Parse one item of the JSON form, which is one of

    - a reply: `{"content": "text" | ["chunk", ...], "reasoning": ..., "chunks": 3,
      "tool_calls": [{"name": "read_file", "arguments": {...} | "json text", "id": "...",
      "fragments": 3}], "finish_reason": "stop", "usage": {"prompt_tokens": 10, ...},
      "delay": 0.0, "chunk_delay": 0.0, "gate": "name", "repeat_prefix": false,
      "tool_call_id_style": "functions.{name}:{n}", "fault": {"kind": "cut" | "malformed" |
      "stream_error" | "stall" | "content_filter", "after": 2, "line": "...", "error": {...}}}`;
    - a named fault: `{"error": "rate_limit" | "overloaded" | "quota" | "auth" |
      "permission_denied" | "not_found" | "content_filter" | "server_error" | "bad_gateway" |
      "unavailable", "retry_after": 0.5, "delay": 0.0, "gate": "name"}`;
    - any status: `{"status": 418, "type": "some_error", "message": "...", "retry_after": 1,
      "headers": {...}, "body": "raw text instead of the JSON"}`.
    Unknown keys are rejected so that typos show up.
    """
    if not isinstance(obj, dict):
        raise ValueError(f"a script item must be an object, got {type(obj).__name__}")
    if "error" in obj:
        _check_keys(obj, _NAMED_KEYS, "a named fault")
        factory = _NAMED.get(obj["error"])
        if factory is None:
            raise ValueError(f"unknown fault {obj['error']!r}; one of {', '.join(_NAMED)}")
        kwargs = {k: v for k, v in obj.items() if k != "error"}
        return factory(**kwargs)
    if "status" in obj:
        _check_keys(obj, _STATUS_KEYS, "a status fault")
        return ErrorReply(
            status=int(obj["status"]),
            type=str(obj.get("type", "server_error")),
            message=str(obj.get("message", "error")),
            retry_after=obj.get("retry_after"),
            headers=dict(obj.get("headers", {})),
            body=obj.get("body"),
            delay=float(obj.get("delay", 0.0)),
            gate=obj.get("gate"),
        )
    _check_keys(obj, _REPLY_KEYS, "a reply")
    kwargs = dict(obj)
    if "tool_calls" in kwargs:
        kwargs["tool_calls"] = tuple(_tool_call(c) for c in kwargs["tool_calls"])
    if "fault" in kwargs and kwargs["fault"] is not None:
        fault = kwargs["fault"]
        if not isinstance(fault, dict):
            raise ValueError("fault must be an object")
        _check_keys(fault, {"kind", "after", "line", "error"}, "a stream fault")
        kwargs["fault"] = StreamFault(**fault)
    return Reply(**kwargs)


def _tool_call(obj: Any) -> ToolCall:
    if not isinstance(obj, dict):
        raise ValueError("a tool call must be an object")
    _check_keys(obj, {"name", "arguments", "id", "fragments"}, "a tool call")
    return ToolCall(**obj)


def script_from_json(obj: Any) -> tuple[list[ScriptItem], ScriptItem | None]:
    """Parse a whole script: a list, one item, or `{"replies": [...], "default": item}`."""
    default: ScriptItem | None = None
    if isinstance(obj, dict) and ("replies" in obj or "default" in obj):
        _check_keys(obj, {"replies", "default"}, "a script")
        if obj.get("default") is not None:
            default = item_from_json(obj["default"])
        obj = obj.get("replies", [])
    items = obj if isinstance(obj, list) else [obj]
    return [item_from_json(item) for item in items], default
