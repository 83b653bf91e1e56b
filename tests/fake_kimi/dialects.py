"""Self-hosted OpenAI-compatible servers the fake can imitate instead of Moonshot's API.

`llamacpp` (llama-cpp-python's server): serves whatever model id is asked for, honours only
`max_tokens` (an answer asked with `max_completion_tokens` alone runs on until the context is
full), ignores `partial`/`prefix`/`thinking`, takes any sampling, and its stream carries no
usage. `vllm`: serves its configured ids, honours `max_completion_tokens` and `max_tokens`,
continues the last assistant message with `continue_final_message: true` +
`add_generation_prompt: false`, refuses unknown message fields such as `partial` (400, vLLM's
error shape), and streams usage only when `stream_options.include_usage` asks for it."""

from __future__ import annotations

import dataclasses
from typing import Any

from .tokens import estimate_prompt_tokens, message_text
from .validate import ApiError, ChatRequest, Continuation, ModelSpec, Rules, _continuation

DIALECTS = ("moonshot", "llamacpp", "vllm")
RUNAWAY_FILLER = " and so on"
BOTH_FLAGS = "Cannot set both `continue_final_message` and `add_generation_prompt` to True."
# transformers' apply_chat_template, reached when add_generation_prompt is left at its default.
TEMPLATE_CONFLICT = (
    "continue_final_message and add_generation_prompt are not compatible. Use "
    "continue_final_message when you want the model to continue the final message, and "
    "add_generation_prompt when you want to add a header that will prompt it to start a new "
    "assistant message instead."
)


class LocalError(ApiError):
    """An error in the OpenAI shape these servers use (`param` and `code` included)."""

    def error_json(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": None,
                "code": self.status,
            }
        }


def _bad(message: str) -> LocalError:
    return LocalError(400, "BadRequestError", message)


def _model(body: dict[str, Any], rules: Rules) -> ModelSpec:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("model is required")
    spec = rules.models.get(model)
    if spec is None and rules.dialect == "vllm":
        raise LocalError(404, "NotFoundError", f"The model `{model}` does not exist.")
    if spec is None:  # llama.cpp answers with its one loaded model whatever the id says
        first = next(iter(rules.models.values()), ModelSpec(model))
        spec = dataclasses.replace(first, id=model)
    # Self-hosted: no fixed sampling, and reasoning only as the model's own text.
    return dataclasses.replace(spec, fixed_sampling=False, supports_reasoning=False)


def output_limit(body: dict[str, Any], dialect: str) -> int | None:
    """The output limit the server honours, None when the request sets none it understands."""
    names = ("max_tokens",) if dialect == "llamacpp" else ("max_completion_tokens", "max_tokens")
    for name in names:
        value = body.get(name)
        if value is not None:
            if type(value) is not int or value < 1:
                raise _bad(f"{name} must be a positive integer")
            return value
    return None


def _vllm_continuation(body: dict[str, Any], messages: list[dict[str, Any]]) -> Continuation | None:
    for i, message in enumerate(messages):
        for field in ("partial", "prefix"):
            if field in message:
                raise _bad(
                    f"[{{'type': 'extra_forbidden', 'loc': ('body', 'messages', {i}, "
                    f"'{field}'), 'msg': 'Extra inputs are not permitted'}}]"
                )
    if body.get("continue_final_message") is not True:
        return None
    if body.get("add_generation_prompt") is True:
        raise _bad(BOTH_FLAGS)
    if body.get("add_generation_prompt") is not False:
        raise _bad(TEMPLATE_CONFLICT)
    if messages[-1].get("role") != "assistant":
        raise _bad("continue_final_message requires the last message to be an assistant message")
    return Continuation(("continue_final_message",), True, message_text(messages[-1]))


def validate_local(body: Any, rules: Rules) -> ChatRequest:
    """Validate a request the way the dialect's server does (looser than Moonshot's API)."""
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    spec = _model(body, rules)
    messages = body.get("messages")
    if (
        not isinstance(messages, list)
        or not messages
        or not all(
            isinstance(m, dict) and m.get("role") in ("system", "user", "assistant", "tool")
            for m in messages
        )
    ):
        raise _bad("messages must be a non-empty list of chat messages")
    for name in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _bad(f"{name} must be a number")
    tools = body.get("tools") if isinstance(body.get("tools"), list) else None
    stream = body.get("stream") is True
    options = body.get("stream_options")
    asked_usage = stream and isinstance(options, dict) and options.get("include_usage") is True
    if rules.dialect == "vllm":
        continuation = _vllm_continuation(body, messages)
    else:  # llama.cpp: the flags are unknown fields, ignored
        continuation = _continuation(body, messages, frozenset())
    limit = output_limit(body, rules.dialect)
    prompt = estimate_prompt_tokens(messages, tools)
    if prompt + (limit or 0) > spec.context_length:
        raise _bad(
            f"This model's maximum context length is {spec.context_length} tokens. However, "
            f"you requested {prompt + (limit or 0)} tokens ({prompt} in the messages, "
            f"{limit or 0} in the completion)."
        )
    llamacpp = rules.dialect == "llamacpp"
    return ChatRequest(
        body,
        spec,
        stream,
        asked_usage and not llamacpp,
        False,
        messages,
        tools,
        continuation,
        prompt,
        output_limit=limit,
        runaway_tokens=rules.runaway_tokens if llamacpp and limit is None else 0,
        usage_in_finish=False,
    )


def bounded(content: str | list[str], limit: int | None, runaway: int) -> tuple[str, bool]:
    """The answer text as the server produces it: cut at `limit` tokens (4 bytes a token, the
    fake's estimate), or run on with filler to `runaway` tokens; and whether it was cut."""
    text = content if isinstance(content, str) else "".join(content)
    if runaway:
        while len(text.encode("utf-8")) < runaway * 4:
            text += RUNAWAY_FILLER
        return text.encode("utf-8")[: runaway * 4].decode("utf-8", "ignore"), True
    if limit is not None and len(text.encode("utf-8")) > limit * 4:
        return text.encode("utf-8")[: limit * 4].decode("utf-8", "ignore"), True
    return text, False
