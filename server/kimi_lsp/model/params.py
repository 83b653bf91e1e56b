"""The chat-completions call for a request: messages, thinking, continuation, token limit,
in the parameter dialect of the model family behind the endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import PrefixMode, Settings, Thinking, is_kimi_model
from ..purpose import Purpose
from .prefix import continuation_body, continuation_message
from .types import ModelRequest

THINKING_PURPOSES: frozenset[str] = frozenset({"chat", "refactor"})
"""Purposes that think under `thinking: "auto"`; edits and continuations answer directly."""

FORBIDDEN = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty", "max_tokens")
"""Never sent to a Kimi K2.x model (unless `tokenLimitParam` asks for `max_tokens`): its
sampling is fixed, and `max_tokens` is deprecated there."""


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


def prefix_mode_for(settings: Settings) -> PrefixMode:
    """The continuation style to use: a Kimi K2.x model's setting as it is; another model
    continues a prefix only in a mode set for it explicitly (`partial`/`prefix` are Moonshot's
    and relays' spellings, which a self-hosted server does not understand)."""
    if is_kimi_model(settings.model) or settings.prefix_mode_explicit:
        return settings.prefix_mode
    return "none"


def token_limit_param(settings: Settings) -> str:
    """`max_completion_tokens` for Kimi K2.x (`max_tokens` is deprecated there), `max_tokens`
    for any other model under "auto": llama.cpp's server ignores `max_completion_tokens`."""
    if settings.token_param != "auto":
        return settings.token_param
    return "max_completion_tokens" if is_kimi_model(settings.model) else "max_tokens"


def build_call(settings: Settings, request: ModelRequest) -> Call:
    kimi = is_kimi_model(settings.model)
    mode = prefix_mode_for(settings)
    prefix = request.prefix or ""
    last = continuation_message(prefix, mode) if prefix else None
    continued = last is not None
    messages = list(request.messages)
    if last is not None:
        messages.append(last)
    # Thinking is a Moonshot field: other models are sent no `thinking` and read as not
    # thinking (their reasoning text, if any, still streams as reasoning).
    thinking = kimi and thinking_enabled(
        settings.thinking, request.purpose, continued=continued, tool_choice=request.tool_choice
    )
    extra_body: dict[str, Any] = {}
    if kimi:
        extra_body["thinking"] = {"type": "enabled" if thinking else "disabled"}
    if continued:
        extra_body.update(continuation_body(mode))
    max_output = request.max_output_tokens or settings.max_output_tokens
    kwargs: dict[str, Any] = {
        "model": settings.model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        token_limit_param(settings): max_output,
    }
    if not kimi and settings.temperature is not None:
        kwargs["temperature"] = settings.temperature
    if extra_body:
        kwargs["extra_body"] = extra_body
    if request.tools:
        kwargs["tools"] = request.tools
    if request.tool_choice is not None:
        kwargs["tool_choice"] = request.tool_choice
    return Call(kwargs, thinking, continued, prefix if continued else "", max_output)
