"""Deterministic token estimates (documented approximations): prompt, completion, cache."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

CACHE_BLOCK = 256


def _text_bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def message_text(message: Mapping[str, Any]) -> str:
    """The text of a message that counts towards its tokens: its content (a string, or the
    `text` of its parts), its `reasoning_content`, and the name + arguments of its tool calls."""
    parts: list[str] = []
    content = message.get("content")
    if isinstance(content, str):
        parts.append(content)
    elif isinstance(content, list):
        parts.extend(p["text"] for p in content if isinstance(p, dict) and "text" in p)
    reasoning = message.get("reasoning_content")
    if isinstance(reasoning, str):
        parts.append(reasoning)
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            parts.append(str(function.get("name", "")))
            parts.append(str(function.get("arguments", "")))
    return "".join(parts)


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def estimate_prompt_tokens(
    messages: Sequence[Mapping[str, Any]], tools: Sequence[Any] | None = None
) -> int:
    """The prompt tokens the fake reports (and checks against the context window):
    ceil(utf-8 bytes of every message's `message_text` / 4) + 4 per message, plus
    ceil(utf-8 bytes of the compact JSON of `tools` / 4) when tools are sent. An approximation
    of the real tokenizer (not available offline), but deterministic, so tests can compute it."""
    total = sum(_text_bytes(message_text(m)) for m in messages)
    tokens = math.ceil(total / 4) + 4 * len(messages)
    if tools:
        tokens += math.ceil(_text_bytes(compact_json(list(tools))) / 4)
    return tokens


def estimate_completion_tokens(texts: Iterable[str]) -> int:
    """The completion tokens the fake reports: ceil(utf-8 bytes of the streamed reasoning,
    content, tool names and arguments / 4)."""
    return math.ceil(sum(_text_bytes(t) for t in texts) / 4)


def cache_key(messages: Sequence[Any], tools: Sequence[Any] | None = None) -> str:
    """What the prefix cache compares: the compact JSON of the tools, then of the messages."""
    return compact_json(list(tools or [])) + compact_json(list(messages))


def cached_tokens(previous_key: str | None, key: str, prompt_tokens: int) -> int:
    """Tokens of `key` served from the prefix cache after a request with `previous_key`: the
    longest common prefix (utf-8 bytes) / 4, rounded down to a multiple of 256 (the cache works
    in 256-token blocks), capped at the prompt tokens. Keys come from `cache_key`."""
    if not previous_key:
        return 0
    # Binary search on slice equality: the comparisons run in C, even for megabyte prompts.
    common, high = 0, min(len(previous_key), len(key))
    while common < high:
        middle = (common + high + 1) // 2
        if previous_key[:middle] == key[:middle]:
            common = middle
        else:
            high = middle - 1
    blocks = (_text_bytes(key[:common]) // 4) // CACHE_BLOCK
    return min(prompt_tokens, blocks * CACHE_BLOCK)
