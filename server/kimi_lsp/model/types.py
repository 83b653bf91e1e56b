"""Plain data of the model client: requests, stream events, tool calls, usage and results."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..purpose import Purpose

if TYPE_CHECKING:
    from ..config import Settings


# Rebuilds a request's messages for other settings (a fallback with a smaller window or another
# tokenizer): the host re-plans its context with that settings' budget. Typed loosely here so
# that model/ needs nothing from context/ (layer rule).
Replan = Callable[["Settings"], Awaitable[list[dict[str, Any]]]]


@dataclass(slots=True)
class ModelRequest:
    """One call to the model.

    `messages` are OpenAI chat messages (never mutated). `prefix` asks for a continuation of the
    assistant's text: the client appends it as the last assistant message in the form
    `settings.prefix_mode` names (see `client.ModelClient`). `max_output_tokens` defaults to
    `settings.max_output_tokens`; `request_id` to a fresh id."""

    messages: list[dict[str, Any]]
    purpose: Purpose = "chat"
    prefix: str | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | None = None
    max_output_tokens: int | None = None
    request_id: str | None = None
    replan: Replan | None = None
    """How to rebuild `messages` for a fallback whose window or tokenizer differs (None: the
    messages are sent as they are when they fit, else that fallback is skipped)."""


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """New answer text. Never repeats a continuation's prefix (see `ModelResult.content`)."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """New reasoning text (`reasoning_content`), streamed before the answer."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of tool call `index`: `id` and `name` on its first delta, then argument text."""

    index: int
    id: str | None
    name: str | None
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call; `id` is exactly what the API sent (send it back verbatim)."""

    id: str
    name: str
    arguments: str

    def to_message(self) -> dict[str, Any]:
        """The entry of an assistant message's `tool_calls` list."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens and cost of one request; `cached_tokens` are part of `prompt_tokens`.

    `model` is the model id that answered (empty for answers given without the model, such as
    a chat's local commands), `role` the purpose whose settings served it, `fallback` whether
    a fallback model served it, `estimated` whether the figures were counted locally because
    the endpoint reported none."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    currency: str = "USD"
    model: str = ""
    role: str = ""
    fallback: bool = False
    estimated: bool = False

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "promptTokens": self.prompt_tokens,
            "cachedTokens": self.cached_tokens,
            "completionTokens": self.completion_tokens,
            "cost": self.cost,
            "currency": self.currency,
        }
        if self.model:  # who answered: only for answers the model gave
            wire.update(
                model=self.model, role=self.role, fallback=self.fallback, estimated=self.estimated
            )
        return wire


@dataclass(slots=True)
class UsageTotals:
    """Sums over a session (or one refactor's calls) of successful (billed) requests.

    Who answered is kept for a result that sums several calls (`answer_wire`): the last
    model and role, and whether any call was served by a fallback or estimated."""

    requests: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    currency: str = "USD"
    model: str = ""
    role: str = ""
    fallback: bool = False
    estimated: bool = False

    def add(self, usage: Usage) -> None:
        self.requests += 1
        self.prompt_tokens += usage.prompt_tokens
        self.cached_tokens += usage.cached_tokens
        self.completion_tokens += usage.completion_tokens
        self.cost += usage.cost
        self.currency = usage.currency
        self._answered(usage.model, usage.role, usage.fallback, usage.estimated)

    def merge(self, part: UsageTotals) -> None:
        """Add another sum (a refactor step's) to this one."""
        self.requests += part.requests
        self.prompt_tokens += part.prompt_tokens
        self.cached_tokens += part.cached_tokens
        self.completion_tokens += part.completion_tokens
        self.cost += part.cost
        self.currency = part.currency or self.currency
        self._answered(part.model, part.role, part.fallback, part.estimated)

    def _answered(self, model: str, role: str, fallback: bool, estimated: bool) -> None:
        if model:
            self.model, self.role = model, role
        self.fallback = self.fallback or fallback
        self.estimated = self.estimated or estimated

    def copy(self) -> UsageTotals:
        return replace(self)

    def answer_wire(self) -> dict[str, Any]:
        """`to_wire()` plus who answered, for a result that sums several calls (a refactor)."""
        wire = self.to_wire()
        if self.model:
            wire.update(
                model=self.model, role=self.role, fallback=self.fallback, estimated=self.estimated
            )
        return wire

    def to_wire(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "promptTokens": self.prompt_tokens,
            "cachedTokens": self.cached_tokens,
            "completionTokens": self.completion_tokens,
            "cost": self.cost,
            "currency": self.currency,
        }


NO_REASONING = " "
"""Sent as the reasoning of a tool-call turn that streamed none while thinking was on."""


@dataclass(slots=True)
class ModelResult:
    """A finished answer.

    `content` is the full text: the caller's prefix + the reply when a continuation was sent
    (`continued`), else the reply; `reply` is always the model's new text only (what the
    `ContentDelta`s concatenate to). `reasoning` must go back with tool-call messages while
    thinking is on: `assistant_message()` builds that message."""

    content: str
    reasoning: str
    tool_calls: list[ToolCall]
    finish_reason: str
    usage: Usage
    request_id: str
    reply: str = ""
    continued: bool = False
    prefix_repeated: bool = False
    """The endpoint repeated the prefix and it was stripped from the reply."""
    attempts: int = 1
    thinking: bool = False

    @property
    def truncated(self) -> bool:
        """The answer was cut by `max_completion_tokens` (`finish_reason == "length"`)."""
        return self.finish_reason == "length"

    def assistant_message(self) -> dict[str, Any]:
        """This turn as an OpenAI assistant message for the next request's history."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.reasoning:
            message["reasoning_content"] = self.reasoning
        elif self.thinking and self.tool_calls:
            # The API refuses a tool-call turn without reasoning while thinking is on, and
            # takes "" for missing (K2.6): one space is the least it accepts.
            message["reasoning_content"] = NO_REASONING
        if self.tool_calls:
            message["tool_calls"] = [call.to_message() for call in self.tool_calls]
        return message


@dataclass(frozen=True, slots=True)
class Completed:
    """The last event of every successful stream."""

    result: ModelResult


StreamEvent = ContentDelta | ReasoningDelta | ToolCallDelta | Completed
