"""`doctor --online`'s probes: tiny requests that tell what an endpoint and model understand."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from ..config import PrefixMode, Settings, is_kimi_model
from ..model.errors import scrub
from ..model.params import build_call, prefix_mode_for, token_limit_param
from ..model.types import ModelRequest

COUNT = [{"role": "user", "content": "Count from 1 to 40, separated by commas and spaces."}]
PREFIX = "1, 2, 3, 4,"
RUN_ON_CHARS = 48
"""More answer text than a 1-token limit allows: the limit was ignored (the probe stops
reading here, so an endpoint that ignores the limit cannot keep the doctor waiting)."""
TOKEN_PARAMS = ("max_completion_tokens", "max_tokens")


@dataclass(frozen=True, slots=True)
class Answer:
    """What a streamed probe got: the HTTP status, the text read, and how it ended."""

    status: int
    text: str = ""
    finish: str | None = None
    error: str = ""

    @property
    def ran_on(self) -> bool:
        return len(self.text) >= RUN_ON_CHARS


def headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}


def _body(settings: Settings, request: ModelRequest) -> dict[str, Any]:
    kwargs = build_call(settings, request).kwargs
    body = {key: value for key, value in kwargs.items() if key != "extra_body"}
    body.update(kwargs.get("extra_body", {}))
    return body


def stream_probe(settings: Settings, body: dict[str, Any], timeout: float) -> Answer:
    """POST a streamed chat completion and read it until it ends or has run on."""
    import httpx2

    url = settings.base_url.rstrip("/") + "/chat/completions"
    text, finish = "", None
    try:
        with httpx2.stream(
            "POST", url, json=body, headers=headers(settings), timeout=timeout
        ) as response:
            if response.status_code >= 400:
                response.read()
                return Answer(response.status_code, error=_error_text(response.text, settings))
            for line in response.iter_lines():
                if not line.startswith("data:") or line[5:].strip() == "[DONE]":
                    continue
                chunk = json.loads(line[5:])
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    text += (delta.get("content") or "") + (delta.get("reasoning_content") or "")
                    finish = choice.get("finish_reason") or finish
                if finish or len(text) >= RUN_ON_CHARS:
                    break
            return Answer(response.status_code, text, finish)
    except (httpx2.HTTPError, ValueError) as exc:
        return Answer(0, error=scrub(f"{type(exc).__name__}: {exc}", settings.api_key))


def _error_text(text: str, settings: Settings) -> str:
    try:
        message = json.loads(text).get("error", {}).get("message") or text
    except (ValueError, AttributeError):
        message = text
    return scrub(str(message), settings.api_key)[:160]


def token_limit(settings: Settings, param: str, timeout: float) -> str:
    """Whether `param: 1` bounds an answer: "honoured", "ignored", or why it cannot be told."""
    body = _body(settings, ModelRequest(COUNT, "edit", max_output_tokens=1))
    for name in TOKEN_PARAMS:
        body.pop(name, None)
    body[param] = 1
    answer = stream_probe(settings, body, timeout)
    if answer.status != 200:
        return f"refused (HTTP {answer.status}: {answer.error})"
    if answer.ran_on:
        return "ignored (the answer ran on)"
    if answer.finish == "length":
        return "honoured"
    return "not told (the answer ended by itself)"


def continuation(settings: Settings, mode: PrefixMode, timeout: float) -> str:
    """Whether the endpoint continues an assistant prefix in `mode`."""
    probe = replace(settings, prefix_mode=mode, prefix_mode_explicit=True)
    body = _body(probe, ModelRequest(COUNT, "edit", prefix=PREFIX, max_output_tokens=8))
    answer = stream_probe(probe, body, timeout)
    if answer.status != 200:
        return f"refused (HTTP {answer.status}: {answer.error})"
    text = answer.text.lstrip()
    if text.startswith("5"):
        return "understood"
    if text.startswith("1"):
        return "not understood (the answer started over)"
    return "not told (the answer was neither)"


def dialect(settings: Settings) -> str:
    """The parameter dialect kimi-lsp uses for these settings, in words."""
    family = (
        "Kimi K2.x (thinking field, fixed sampling)"
        if is_kimi_model(settings.model)
        else (
            "OpenAI-compatible"
            + (
                f", temperature {settings.temperature:g}"
                if settings.temperature is not None
                else ""
            )
        )
    )
    return f"{family}; {token_limit_param(settings)}; continuation {prefix_mode_for(settings)}"
