"""The real API's request validation for chat completions (400/404 with Moonshot's texts)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .tokens import estimate_prompt_tokens, message_text

PREFIX_STYLES = ("partial", "prefix_body", "prefix_message")
"""`partial`: Moonshot's `"partial": true` on the last assistant message; `prefix_body`:
`"prefix": true` in the body (Huawei-Cloud relay); `prefix_message`: `"prefix": true` on the
last assistant message (DeepSeek-style)."""

MAX_TOOLS = 128
TOOL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9-_]{2,63}")
ROLES = ("system", "user", "assistant", "tool")
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
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if value is not None and (type(value) is not int or value < 1):
            raise _bad(f"Invalid request: {key} must be a positive integer")
    tools = _check_tools(body.get("tools"))
    _check_tool_choice(body.get("tool_choice"), thinking)
    _check_messages(messages, thinking)
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


def _check_tools(tools: Any) -> list[Any] | None:
    if tools is None:
        return None
    if not isinstance(tools, list):
        raise _bad("Invalid request: tools must be an array")
    if len(tools) > MAX_TOOLS:
        raise _bad(
            f"Invalid request: too many tools: {len(tools)}, at most {MAX_TOOLS} are allowed"
        )
    names: set[str] = set()
    for i, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if (
            not isinstance(tool, dict)
            or tool.get("type") != "function"
            or not isinstance(function, dict)
        ):
            raise _bad(
                f'Invalid request: tools[{i}] must be {{"type": "function", "function": {{...}}}}'
            )
        name = function.get("name")
        if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
            raise _bad(
                f"Invalid request: tools[{i}].function.name {name!r} is invalid, "
                f"it must match ^[a-zA-Z_][a-zA-Z0-9-_]{{2,63}}$"
            )
        if name in names:
            raise _bad(f"Invalid request: duplicate tool name {name!r}")
        names.add(name)
        if function.get("parameters") is not None:
            _check_schema(function["parameters"], f"tools[{i}].function.parameters")
    return tools


def _check_schema(schema: Any, path: str) -> None:
    """Moonshot's strict JSON Schema subset for tool parameters."""
    if not isinstance(schema, dict):
        raise _bad(f"Invalid request: {path} must be a JSON Schema object")
    for keyword in ("format", "title"):
        if keyword in schema:
            raise _bad(f"Invalid request: {path}: '{keyword}' is not supported in tool schemas")
    ref = schema.get("$ref")
    if ref is not None and (not isinstance(ref, str) or not ref.startswith("#")):
        raise _bad(f"Invalid request: {path}: external $ref {ref!r} is not supported")
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for key, sub in properties.items():
            where = f"{path}.properties.{key}"
            if not isinstance(sub, dict):
                raise _bad(f"Invalid request: {where} must be a JSON Schema object")
            if "type" not in sub and not any(k in sub for k in ("$ref", "anyOf", "oneOf", "allOf")):
                raise _bad(f"Invalid request: {where}: property has no 'type'")
            _check_schema(sub, where)
    if isinstance(schema.get("items"), dict):
        _check_schema(schema["items"], f"{path}.items")
    for key in ("anyOf", "oneOf", "allOf"):
        for j, sub in enumerate(schema.get(key) or []):
            _check_schema(sub, f"{path}.{key}[{j}]")
    for key in ("$defs", "definitions"):
        for name, sub in (schema.get(key) or {}).items():
            _check_schema(sub, f"{path}.{key}.{name}")


def _check_tool_choice(choice: Any, thinking: bool) -> None:
    if choice is None or choice in ("auto", "none"):
        return
    if choice == "required" or isinstance(choice, dict):
        if thinking:
            raise _bad("tool_choice 'required' is incompatible with thinking enabled")
        return
    raise _bad(f"Invalid request: tool_choice {choice!r} is invalid")


def _check_messages(messages: list[Any], thinking: bool) -> None:
    seen_ids: set[str] = set()
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _bad(f"Invalid request: messages[{i}] must be an object")
        role = message.get("role")
        if role not in ROLES:
            raise _bad(f"Invalid request: messages[{i}].role {role!r} is invalid")
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            raise _bad(f"Invalid request: messages[{i}].content must be a string or an array")
        if role == "assistant" and message.get("tool_calls"):
            calls = message["tool_calls"]
            if not isinstance(calls, list):
                raise _bad(f"Invalid request: messages[{i}].tool_calls must be an array")
            if thinking and not isinstance(message.get("reasoning_content"), str):
                raise _bad(
                    "thinking is enabled but reasoning_content is missing in assistant tool "
                    f"call message at index {i}"
                )
            for j, call in enumerate(calls):
                call_id = call.get("id") if isinstance(call, dict) else None
                function = call.get("function") if isinstance(call, dict) else None
                if not isinstance(call_id, str) or not isinstance(function, dict):
                    raise _bad(f"Invalid request: messages[{i}].tool_calls[{j}] is invalid")
                if call_id in seen_ids:
                    raise _bad(
                        f"Invalid request: duplicate tool_call id {call_id!r} in messages[{i}]"
                    )
                seen_ids.add(call_id)
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str) or call_id not in seen_ids:
                raise _bad(
                    f"Invalid request: tool_call_id {call_id!r} of messages[{i}] is not found "
                    "in any preceding assistant tool call"
                )


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
