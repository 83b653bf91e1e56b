"""Usage counted locally for an endpoint that reports none (llama.cpp's server, some relays)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from ..config import Pricing
from .pricing import cost
from .types import ToolCall, Usage


class Counter(Protocol):
    """What the estimate needs of `tokens.TokenCounter` (so tests can pass a stand-in)."""

    def count(self, text: str) -> int: ...

    def count_messages(
        self, messages: Iterable[Mapping[str, Any]], *, raw: bool = False
    ) -> int: ...


def estimate_usage(
    messages: Sequence[Mapping[str, Any]],
    content: str,
    reasoning: str,
    counter: Counter,
    *,
    tool_calls: Sequence[ToolCall] = (),
    tools: Sequence[Mapping[str, Any]] | None = None,
    pricing: Pricing | None = None,
) -> Usage:
    """The prompt (the messages sent, and the tool schemas) and the answer (its content,
    reasoning and tool calls) counted with the token counter, marked `estimated`. Without
    `pricing` the cost is 0: a local model's price is unknown unless its role sets one."""
    prompt = counter.count_messages(messages)
    if tools:
        prompt += counter.count(json.dumps(list(tools), ensure_ascii=False))
    answer = [content, reasoning, *(call.name + call.arguments for call in tool_calls)]
    completion = sum(counter.count(text) for text in answer if text)
    return Usage(
        prompt_tokens=prompt,
        cached_tokens=0,
        completion_tokens=completion,
        cost=cost(prompt, 0, completion, pricing) if pricing is not None else 0.0,
        currency=pricing.currency if pricing is not None else "USD",
        estimated=True,
    )
