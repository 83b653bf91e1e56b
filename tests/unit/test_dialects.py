"""Parameter dialects: what each model family is sent (Kimi K2.x vs other OpenAI-compatible)."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_lsp.config import Settings, Source, resolve
from kimi_lsp.model.params import FORBIDDEN, build_call, prefix_mode_for, token_limit_param
from kimi_lsp.model.prefix import PrefixStripper
from kimi_lsp.model.types import ModelRequest

USER = [{"role": "user", "content": "hi"}]
LOCAL = "http://127.0.0.1:8080/v1"


def _settings(values: dict[str, Any], role: str = "chat") -> Settings:
    resolved = resolve([Source("client settings", values)], {})
    assert resolved.problems == []
    return resolved.settings.for_role(role)


def _body(settings: Settings, request: ModelRequest) -> dict[str, Any]:
    kwargs = dict(build_call(settings, request).kwargs)
    return {
        **{k: v for k, v in kwargs.items() if k != "extra_body"},
        **kwargs.get("extra_body", {}),
    }


def test_kimi_gets_moonshot_fields_and_no_sampling() -> None:
    s = _settings({"models": {"chat": {"model": "kimi-k2.6", "maxOutputTokens": 500}}})
    body = _body(s, ModelRequest(USER, "chat"))
    assert body["thinking"] == {"type": "enabled"} and body["max_completion_tokens"] == 500
    assert not set(FORBIDDEN) & set(body)


def test_another_model_gets_max_tokens_its_temperature_and_no_moonshot_fields() -> None:
    s = _settings(
        {
            "models": {
                "chat": {
                    "model": "gemma-3-270m",
                    "baseUrl": LOCAL,
                    "temperature": 0.3,
                    "maxOutputTokens": 64,
                    "thinking": "enabled",
                }
            }
        }
    )
    body = _body(s, ModelRequest(USER, "chat", prefix="def f("))
    assert body["max_tokens"] == 64 and "max_completion_tokens" not in body
    assert body["temperature"] == 0.3
    assert "thinking" not in body and "partial" not in str(body) and "prefix" not in body
    # The default prefixMode ("partial") is Moonshot's: another model gets no continuation.
    assert body["messages"] == USER and prefix_mode_for(s) == "none"
    assert build_call(s, ModelRequest(USER, "chat")).thinking is False


@pytest.mark.parametrize(
    ("model", "setting", "expected"),
    [
        ("kimi-k2.6", "auto", "max_completion_tokens"),
        ("moonshotai/Kimi-K2.6", "auto", "max_completion_tokens"),
        ("qwen3-coder", "auto", "max_tokens"),
        ("qwen3-coder", "max_completion_tokens", "max_completion_tokens"),
        ("kimi-k2.6", "max_tokens", "max_tokens"),
    ],
)
def test_token_limit_parameter(model: str, setting: str, expected: str) -> None:
    s = _settings({"models": {"edit": {"model": model, "tokenLimitParam": setting}}}, "edit")
    assert token_limit_param(s) == expected
    body = _body(s, ModelRequest(USER, "edit", max_output_tokens=77))
    assert body[expected] == 77
    assert ({"max_tokens", "max_completion_tokens"} - {expected}).isdisjoint(body)


def test_continue_final_message_for_self_hosted_servers() -> None:
    s = _settings(
        {
            "models": {
                "edit": {"model": "qwen3", "baseUrl": LOCAL, "prefixMode": "continue_final_message"}
            }
        },
        "edit",
    )
    call = build_call(s, ModelRequest(USER, "edit", prefix="x = "))
    body = _body(s, ModelRequest(USER, "edit", prefix="x = "))
    assert body["messages"][-1] == {"role": "assistant", "content": "x = "}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    assert "partial" not in str(body["messages"]) and "prefix" not in body
    assert call.continued and call.prefix == "x = "
    # The reply does not repeat the prefix; when a server does, the stripper still removes it.
    stripper = PrefixStripper("def longer_prefix(")
    assert stripper.feed("def longer_prefix(a") == "a" and stripper.repeated


def test_an_explicit_moonshot_mode_is_honoured_for_another_model() -> None:
    s = _settings({"models": {"edit": {"model": "deepseek-chat", "prefixMode": "prefix"}}}, "edit")
    body = _body(s, ModelRequest(USER, "edit", prefix="x = "))
    assert body["messages"][-1] == {"role": "assistant", "content": "x = ", "prefix": True}
    assert body["prefix"] is True and "thinking" not in body


def test_kimi_continuation_keeps_partial_mode_by_default() -> None:
    s = _settings({})
    body = _body(s, ModelRequest(USER, "edit", prefix="x = "))
    assert body["messages"][-1] == {"role": "assistant", "content": "x = ", "partial": True}
    assert body["thinking"] == {"type": "disabled"}


def test_a_fallback_gets_its_own_dialect() -> None:
    top = resolve(
        [Source("c", {"fallback": [{"model": "llama", "baseUrl": LOCAL, "temperature": 0.2}]})],
        {},
    ).settings
    primary, (fallback,) = top.for_role("chat"), top.fallback_chain("chat")
    assert "max_completion_tokens" in _body(primary, ModelRequest(USER, "chat"))
    body = _body(fallback, ModelRequest(USER, "chat"))
    assert "max_tokens" in body and body["temperature"] == 0.2 and "thinking" not in body
