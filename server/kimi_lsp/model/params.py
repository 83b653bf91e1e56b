"""The chat-completions call for a request: messages, thinking, continuation, token limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import Settings, Thinking
from ..purpose import Purpose
from .prefix import continuation_message
from .types import ModelRequest

THINKING_PURPOSES: frozenset[str] = frozenset({"chat", "refactor"})
"""Purposes that think under `thinking: "auto"`; edits and continuations answer directly."""

FORBIDDEN = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty", "max_tokens")
"""Never sent: kimi-k2.6's sampling is fixed, and `max_tokens` is deprecated."""


@dataclass(frozen=True, slots=True)
class Call:
    """What to send, plus what the client must remember to read the answer."""

    kwargs: dict[str, Any]
    thinking: bool
    continued: bool
    prefix: str
    max_output_tokens: int


def thinking_enabled(
    setting: Thinking, purpose: Purpose, *, continued: bool, tool_choice: str | None
) -> bool:
    """Off for continuations (the continuation may not land in the answer otherwise) and for a
    forced tool choice (the API refuses it with thinking on); else per the setting, `auto`
    meaning on for chat/refactor and off for edit/continuation."""
    if continued or tool_choice not in (None, "auto", "none"):
        return False
    if setting == "auto":
        return purpose in THINKING_PURPOSES
    return setting == "enabled"


def build_call(settings: Settings, request: ModelRequest) -> Call:
    prefix = request.prefix or ""
    last = continuation_message(prefix, settings.prefix_mode) if prefix else None
    continued = last is not None
    messages = list(request.messages)
    if last is not None:
        messages.append(last)
    thinking = thinking_enabled(
        settings.thinking, request.purpose, continued=continued, tool_choice=request.tool_choice
    )
    extra_body: dict[str, Any] = {"thinking": {"type": "enabled" if thinking else "disabled"}}
    if continued and settings.prefix_mode == "prefix":
        extra_body["prefix"] = True
    max_output = request.max_output_tokens or settings.max_output_tokens
    kwargs: dict[str, Any] = {
        "model": settings.model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_completion_tokens": max_output,
        "extra_body": extra_body,
    }
    if request.tools:
        kwargs["tools"] = request.tools
    if request.tool_choice is not None:
        kwargs["tool_choice"] = request.tool_choice
    return Call(kwargs, thinking, continued, prefix if continued else "", max_output)
