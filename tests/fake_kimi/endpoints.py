"""The small routes beside chat completions: `GET /models` and the token estimate."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .tokens import estimate_prompt_tokens
from .validate import ApiError, ModelSpec, Rules, lookup_model


def models_payload(models: Sequence[ModelSpec]) -> dict[str, Any]:
    """`GET /models`: OpenAI's list plus Moonshot's `context_length` and `supports_reasoning`."""
    created = int(time.time())
    data = [
        {
            "id": m.id,
            "object": "model",
            "created": created,
            "owned_by": "moonshot",
            "context_length": m.context_length,
            "supports_reasoning": m.supports_reasoning,
        }
        for m in models
    ]
    return {"object": "list", "data": data}


def estimate_payload(body: Any, rules: Rules) -> dict[str, Any]:
    """`POST /tokenizers/estimate-token-count` `{model, messages}` -> `{"data": {"total_tokens"}}`.

    The count is `tokens.estimate_prompt_tokens` (an approximation of the real tokenizer, the
    same number the fake reports as `prompt_tokens`); `tools`, undocumented, count if sent."""
    lookup_model(body, rules)
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise ApiError(400, "invalid_request_error", "Invalid request: messages must be an array")
    tools = body.get("tools") if isinstance(body.get("tools"), list) else None
    total = estimate_prompt_tokens(messages, tools)
    return {"code": 0, "data": {"total_tokens": total}, "scode": "0x0", "status": True}
