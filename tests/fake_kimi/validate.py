"""The real API's request validation for chat completions (400/404 with Moonshot's texts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .messages import MessageError, check_messages
from .schemas import ToolError, check_tools
from .tokens import estimate_prompt_tokens, message_text

PREFIX_STYLES = ("partial", "prefix_body", "prefix_message")
"""`partial`: Moonshot's `"partial": true` on the last assistant message; `prefix_body`:
`"prefix": true` in the body (Huawei-Cloud relay); `prefix_message`: `"prefix": true` on the
last assistant message (DeepSeek-style)."""

SAMPLING = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty")


@dataclass(frozen=True)
class ModelSpec:
    """A model the fake serves. With `fixed_sampling`, sampling parameters may only carry the
    fixed values (temperature depends on thinking)."""

    id: str
    context_length: int = 262_144
    supports_reasoning: bool = True
    thinking_default: bool = True
    fixed_sampling: bool = True
    temperature_thinking: float = 1.0
    temperature_non_thinking: float = 0.6
    top_p: float = 0.95
    n: int = 1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0

    def fixed_value(self, name: str, thinking: bool) -> float:
        if name == "temperature":
            return self.temperature_thinking if thinking else self.temperature_non_thinking
        return float(getattr(self, name))


DEFAULT_MODELS = (ModelSpec("kimi-k2.6"), ModelSpec("kimi-k2.5"))


@dataclass(frozen=True)
class Rules:
    """What validation depends on, taken from the fake's configuration."""

    models: Mapping[str, ModelSpec]
    prefix_styles: frozenset[str] = frozenset({"partial"})
    strict_sampling: bool = False
    default_max_tokens: int = 0
    dialect: str = "moonshot"
    runaway_tokens: int = 2_048
    bound_output: bool = False


class ApiError(Exception):
    """An error response in Moonshot's shape `{"error": {"message", "type"}}`."""

    def __init__(self, status: int, type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message

    def error_json(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type}}


@dataclass(frozen=True)
class Continuation:
    """A request that continues the last assistant message (the prefix)."""

    styles: tuple[str, ...]
    honored: bool
    prefix: str


@dataclass(frozen=True)
class ChatRequest:
    """A validated chat-completions request."""

    body: dict[str, Any]
    model: ModelSpec
    stream: bool
    include_usage: bool
    thinking: bool
    messages: list[dict[str, Any]]
    tools: list[Any] | None
    continuation: Continuation | None
    prompt_tokens: int
    output_limit: int | None = None
    """The output limit the endpoint honours (self-hosted dialects; Moonshot's is not enforced)."""
    runaway_tokens: int = 0
    """When > 0 the answer runs on to this many tokens (no limit the endpoint understands)."""
    usage_in_finish: bool = True
    """Moonshot also puts usage in the finishing chunk's choice; other servers do not."""


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message)


def not_found_model(model: str) -> ApiError:
    return ApiError(
        404, "resource_not_found_error", f"Not found the model {model} or Permission denied"
    )


def lookup_model(body: Any, rules: Rules) -> ModelSpec:
    if not isinstance(body, dict):
        raise _bad("Invalid request: the body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("Invalid request: model is required")
    spec = rules.models.get(model)
    if spec is None:
        raise not_found_model(model)
    return spec


def validate_chat(body: Any, rules: Rules) -> ChatRequest:
    """Validate like the real API; raises `ApiError` with the real status, type and text."""
    spec = lookup_model(body, rules)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("Invalid request: messages must be a non-empty array")
    thinking = _thinking(body.get("thinking"), spec)
    stream = body.get("stream") is True
    options = body.get("stream_options")
    include_usage = stream and isinstance(options, dict) and options.get("include_usage") is True
    _check_sampling(body, spec, thinking, rules.strict_sampling)
    _check_token_limits(body)
    try:
        tools = check_tools(body.get("tools"))
        check_messages(messages, thinking)
    except (ToolError, MessageError) as error:
        raise _bad(str(error)) from None
    _check_tool_choice(body.get("tool_choice"), tools, thinking)
    continuation = _continuation(body, messages, rules.prefix_styles)
    response_format = body.get("response_format")
    if (
        continuation is not None
        and continuation.honored
        and isinstance(response_format, dict)
        and response_format.get("type") == "json_object"
    ):
        raise _bad(
            "Invalid request: partial mode is not supported with response_format json_object"
        )
    prompt_tokens = estimate_prompt_tokens(messages, tools)
    max_out = (
        body.get("max_completion_tokens") or body.get("max_tokens") or rules.default_max_tokens
    )
    if prompt_tokens + max_out > spec.context_length:
        raise _bad(f"Your request exceeded model token limit : {spec.context_length}")
    requested = body.get("max_completion_tokens") or body.get("max_tokens")
    return ChatRequest(
        body,
        spec,
        stream,
        include_usage,
        thinking,
        messages,
        tools,
        continuation,
        prompt_tokens,
        output_limit=requested if rules.bound_output else None,
    )


def _thinking(value: Any, spec: ModelSpec) -> bool:
    if value is None:
        return spec.supports_reasoning and spec.thinking_default
    if not isinstance(value, dict) or value.get("type") not in ("enabled", "disabled"):
        raise _bad("Invalid request: thinking.type must be 'enabled' or 'disabled'")
    return spec.supports_reasoning and value["type"] == "enabled"


def _check_sampling(body: dict[str, Any], spec: ModelSpec, thinking: bool, strict: bool) -> None:
    for name in SAMPLING:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(f"invalid {name}: must be a number")
        if not spec.fixed_sampling:
            continue
        allowed = spec.fixed_value(name, thinking)
        # strict mode: the fixed parameters must not be sent at all (temperature keeps its rule)
        if value != allowed or (strict and name != "temperature"):
            raise _bad(f"invalid {name}: only {allowed:g} is allowed for this model")


def _check_token_limits(body: dict[str, Any]) -> None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if value is not None and (type(value) is not int or value < 1):
            raise _bad(f"Invalid request: {key} must be a positive integer")
    # `max_tokens` alone is deprecated but taken; both at once is unknown: refused (stricter).
    if body.get("max_tokens") is not None and body.get("max_completion_tokens") is not None:
        raise _bad(
            "Invalid request: max_tokens is deprecated, set only max_completion_tokens (not both)"
        )


def _check_tool_choice(choice: Any, tools: list[Any] | None, thinking: bool) -> None:
    if choice is None:
        return
    if not tools:  # unknown on Moonshot; OpenAI refuses it: the stricter reading
        raise _bad("Invalid request: tool_choice is only allowed when tools are specified")
    if choice in ("auto", "none"):
        return
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        names = [t["function"]["name"] for t in tools]
        if choice.get("type") != "function" or name not in names:
            raise _bad(f"Invalid request: tool_choice names no tool of this request: {name!r}")
    elif choice != "required":
        raise _bad(f"Invalid request: tool_choice {choice!r} is invalid")
    if thinking:
        raise _bad("tool_choice 'required' is incompatible with thinking enabled")


def _continuation(
    body: dict[str, Any], messages: list[dict[str, Any]], accepted: frozenset[str]
) -> Continuation | None:
    last = len(messages) - 1
    last_is_assistant = messages[last].get("role") == "assistant"
    # A flag the endpoint does not know is an unknown field: ignored, not checked.
    for flag, style in (("partial", "partial"), ("prefix", "prefix_message")):
        if style not in accepted:
            continue
        for i, message in enumerate(messages):
            if message.get(flag) is True and (i != last or message.get("role") != "assistant"):
                raise _bad(
                    f"Invalid request: {flag} is only supported on the last message, "
                    "which must be an assistant message"
                )
    if body.get("prefix") is True and "prefix_body" in accepted and not last_is_assistant:
        raise _bad("Invalid request: prefix requires the last message to be an assistant message")
    if not last_is_assistant:
        return None
    flags = {
        "partial": messages[last].get("partial") is True,
        "prefix_body": body.get("prefix") is True,
        "prefix_message": messages[last].get("prefix") is True,
    }
    styles = tuple(style for style in PREFIX_STYLES if flags[style])
    if not styles:
        return None
    honored = any(style in accepted for style in styles)
    return Continuation(styles, honored, message_text({"content": messages[last].get("content")}))
