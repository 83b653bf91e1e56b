"""Turns stream chunks into delta events and accumulates the answer, tool calls and usage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .prefix import PrefixStripper
from .pricing import field_of as field
from .pricing import merge_usage
from .types import ContentDelta, ReasoningDelta, ToolCall, ToolCallDelta

Delta = ContentDelta | ReasoningDelta | ToolCallDelta


@dataclass(slots=True)
class _PartialCall:
    id: str | None = None
    name: str = ""
    arguments: str = ""


class Assembler:
    """One attempt's answer as it streams in.

    Content passes through a `PrefixStripper`, so `ContentDelta`s never carry a repeated
    prefix. Usage may come in `choices[0].usage` (Moonshot) and in a trailing `usage` chunk;
    both are the same request's numbers: the more detailed one is kept, never summed."""

    __slots__ = ("_calls", "_content", "_reasoning", "chunks", "finish_reason", "stripper", "usage")

    def __init__(self, stripper: PrefixStripper) -> None:
        self.stripper = stripper
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, _PartialCall] = {}
        self.finish_reason: str | None = None
        self.usage: Any = None
        self.chunks = 0

    def feed(self, chunk: Any) -> list[Delta]:
        self.chunks += 1
        events: list[Delta] = []
        usage = field(chunk, "usage")
        if usage is not None:
            self.usage = merge_usage(self.usage, usage)
        for choice in field(chunk, "choices") or ():
            if (field(choice, "index") or 0) != 0:
                continue
            choice_usage = field(choice, "usage")
            if choice_usage is not None:
                self.usage = merge_usage(self.usage, choice_usage)
            delta = field(choice, "delta")
            if delta is not None:
                self._delta(delta, events)
            reason = field(choice, "finish_reason")
            if reason:
                self.finish_reason = str(reason)
        return events

    def _delta(self, delta: Any, events: list[Delta]) -> None:
        reasoning = field(delta, "reasoning_content") or field(delta, "reasoning")
        if isinstance(reasoning, str) and reasoning:
            self._reasoning.append(reasoning)
            events.append(ReasoningDelta(reasoning))
        content = field(delta, "content")
        if isinstance(content, str) and content:
            self._emit(self.stripper.feed(content), events)
        for position, call in enumerate(field(delta, "tool_calls") or ()):
            self._tool_call(position, call, events)

    def _emit(self, text: str, events: list[Delta]) -> None:
        if text:
            self._content.append(text)
            events.append(ContentDelta(text))

    def _tool_call(self, position: int, call: Any, events: list[Delta]) -> None:
        index = field(call, "index")
        index = index if isinstance(index, int) else position
        partial = self._calls.setdefault(index, _PartialCall())
        call_id = field(call, "id")
        function = field(call, "function")
        name = field(function, "name")
        arguments = field(function, "arguments")
        new_id = call_id if isinstance(call_id, str) and call_id and partial.id is None else None
        if new_id is not None:
            partial.id = new_id
        new_name = name if isinstance(name, str) and name and not partial.name else None
        if new_name is not None:
            partial.name = new_name
        text = arguments if isinstance(arguments, str) else ""
        partial.arguments += text
        if new_id is not None or new_name is not None or text:
            events.append(ToolCallDelta(index, new_id, new_name, text))

    def finish(self) -> list[Delta]:
        """Events still held back (a reply shorter than the prefix it resembled)."""
        events: list[Delta] = []
        self._emit(self.stripper.flush(), events)
        return events

    @property
    def reply(self) -> str:
        return "".join(self._content)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    def tool_calls(self, request_id: str) -> list[ToolCall]:
        """Complete calls in index order; an id the endpoint never sent is made up."""
        return [
            ToolCall(call.id or f"call_{request_id}_{index}", call.name, call.arguments)
            for index, call in sorted(self._calls.items())
        ]
