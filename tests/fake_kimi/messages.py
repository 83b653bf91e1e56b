"""The real API's checks of a request's messages: roles, empty texts, tool calls and results."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

ROLES = ("system", "user", "assistant", "tool")


class MessageError(ValueError):
    """A message the API refuses (400 `invalid_request_error` with this text)."""


def check_messages(messages: list[Any], thinking: bool) -> None:
    """Every message of the conversation, in order; raises `MessageError`.

    - A message's content must not be empty (an assistant message carrying tool calls may have
      none); a text part must not be empty.
    - With thinking on, an assistant tool-call message needs a non-empty `reasoning_content`.
    - Tool-call ids are unique; each call of an assistant message is answered by exactly one
      `tool` message before the next non-tool message; a `tool` message answers a call of the
      assistant message before it."""
    seen: set[str] = set()
    pending: dict[str, None] = {}  # the latest tool-call turn's unanswered ids, in order
    opened_at = -1
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise MessageError(f"Invalid request: messages[{i}] must be an object")
        role = message.get("role")
        if role not in ROLES:
            raise MessageError(f"Invalid request: messages[{i}].role {role!r} is invalid")
        _check_content(i, role, message)
        if role == "tool":
            _answer(i, message, seen, pending)
            continue
        if pending:
            raise _unanswered(opened_at, pending)
        if role == "assistant" and message.get("tool_calls") is not None:
            pending = dict.fromkeys(_calls(i, message, thinking, seen))
            opened_at = i
    if pending:
        raise _unanswered(opened_at, pending)


def _check_content(i: int, role: str, message: dict[str, Any]) -> None:
    content = message.get("content")
    if content is not None and not isinstance(content, str | list):
        raise MessageError(f"Invalid request: messages[{i}].content must be a string or an array")
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text" and not part.get("text"):
                raise MessageError("Invalid request: text content is empty")
    if role == "assistant" and message.get("tool_calls"):
        return
    if not content:
        raise MessageError(
            f"Invalid request: the message at position {i} with role '{role}' must not be empty"
        )


def _calls(i: int, message: dict[str, Any], thinking: bool, seen: set[str]) -> list[str]:
    """The ids of an assistant message's tool calls (checked and added to `seen`)."""
    calls = message["tool_calls"]
    if not isinstance(calls, list) or not calls:
        raise MessageError(f"Invalid request: messages[{i}].tool_calls must be a non-empty array")
    reasoning = message.get("reasoning_content")
    # Moonshot treats an empty string as missing (K2.6: a single space is the least it takes).
    if thinking and (not isinstance(reasoning, str) or reasoning == ""):
        raise MessageError(
            "thinking is enabled but reasoning_content is missing in assistant tool call "
            f"message at index {i}"
        )
    ids: list[str] = []
    for j, call in enumerate(calls):
        call_id = call.get("id") if isinstance(call, dict) else None
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(call_id, str) or not call_id or not isinstance(function, dict):
            raise MessageError(f"Invalid request: messages[{i}].tool_calls[{j}] is invalid")
        if call_id in seen:
            raise MessageError(
                f"Invalid request: duplicate tool_call id {call_id!r} in messages[{i}]"
            )
        seen.add(call_id)
        ids.append(call_id)
    return ids


def _answer(i: int, message: dict[str, Any], seen: set[str], pending: dict[str, None]) -> None:
    call_id = message.get("tool_call_id")
    if isinstance(call_id, str) and call_id in pending:
        del pending[call_id]
        return
    if isinstance(call_id, str) and call_id in seen:
        raise MessageError(
            f"Invalid request: tool_call_id {call_id!r} of messages[{i}] was answered already"
        )
    raise MessageError(
        f"Invalid request: tool_call_id {call_id!r} of messages[{i}] is not found in any "
        "preceding assistant tool call"
    )


def _unanswered(opened_at: int, pending: dict[str, None]) -> MessageError:
    ids = ", ".join(repr(call_id) for call_id in pending)
    return MessageError(
        f"Invalid request: an assistant message with 'tool_calls' must be followed by tool "
        f"messages responding to each 'tool_call_id'; messages[{opened_at}] has no response "
        f"for: {ids}"
    )


def unissued_ids(messages: list[dict[str, Any]], issued: Collection[str]) -> str | None:
    """The first assistant tool-call id the endpoint never sent, as an error text (or None).

    The real API is stateless and cannot refuse this; rewritten ids make the model stop calling
    tools after a few rounds instead. The fake refuses them so tests see the mistake at once."""
    for i, message in enumerate(messages):
        if message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or ():
            call_id = call.get("id")
            if call_id not in issued:
                return (
                    f"Invalid request: tool_call id {call_id!r} in messages[{i}] was never "
                    "issued by this API: send tool call ids back verbatim"
                )
    return None
