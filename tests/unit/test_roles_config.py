"""Roles and fallback settings: validation, key-by-key merging, derived settings, keys."""

from __future__ import annotations

import logging
from pathlib import Path

from kimi_lsp.config import (
    NO_KEY_IN_A_ROLE,
    Pricing,
    RoleOverrides,
    Settings,
    Source,
    client_section,
    is_kimi_model,
    resolve,
)
from kimi_lsp.settings_store import SettingsStore

TOP_KEY = "sk-top-fake-abcdefghijklmnopqrstuvwxyz"
RELAY_KEY = "sk-relay-fake-abcdefghijklmnopqrstuvwxyz"
LOCAL_URL = "http://127.0.0.1:8080/v1"


def _resolve(values: dict[str, object], env: dict[str, str] | None = None) -> tuple[Settings, str]:
    resolved = resolve([Source("client settings", values)], env or {})
    return resolved.settings, " ".join(resolved.problems)


def test_kimi_k2_ids_are_recognised_case_insensitively() -> None:
    for model in ("kimi-k2.6", "kimi-k2-0905-preview", "moonshotai/Kimi-K2.6", "KIMI-K2-turbo"):
        assert is_kimi_model(model), model
    for model in ("gemma-3-270m", "kimi-latest", "moonshot-v1-8k", "qwen3-coder", "kimi-k20x"):
        assert not is_kimi_model(model), model


def test_defaults_have_no_roles_and_no_fallback() -> None:
    s, problems = _resolve({})
    assert s.models == {} and s.fallback == () and problems == ""
    assert (s.temperature, s.token_param, s.role, s.fallback_rank) == (None, "auto", "", 0)
    chat = s.for_role("chat")
    assert chat.role == "chat" and chat.model == s.model and s.fallback_chain("chat") == ()


def test_a_role_overrides_the_top_level_and_reads_its_key_from_the_environment() -> None:
    s, problems = _resolve(
        {
            "apiKey": TOP_KEY,
            "models": {
                "prediction": {
                    "model": "gemma-3-270m",
                    "baseUrl": LOCAL_URL + "/",
                    "apiKeyEnv": "LOCAL_KEY",
                    "prefixMode": "continue_final_message",
                    "maxOutputTokens": 256,
                    "contextWindow": 8192,
                    "temperature": 0.3,
                    "tokenLimitParam": "max_tokens",
                    "pricing": {"inputPerMillion": 0, "outputPerMillion": 0},
                }
            },
        },
        {"LOCAL_KEY": "local-secret"},
    )
    assert problems == ""
    p = s.for_role("prediction")
    assert (p.model, p.base_url, p.api_key) == ("gemma-3-270m", LOCAL_URL, "local-secret")
    assert (p.prefix_mode, p.prefix_mode_explicit) == ("continue_final_message", True)
    assert (p.max_output_tokens, p.context_window, p.temperature) == (256, 8192, 0.3)
    assert p.token_param == "max_tokens" and p.role == "prediction" and p.fallback_rank == 0
    assert p.pricing == Pricing(0.0, 0.16, 0.0, "USD")
    # The other roles keep the top-level settings.
    edit = s.for_role("edit")
    assert (edit.model, edit.api_key, edit.role) == ("kimi-k2.6", TOP_KEY, "edit")


def test_the_top_level_key_never_goes_to_another_endpoint() -> None:
    s, _ = _resolve(
        {
            "apiKey": TOP_KEY,
            "models": {
                "chat": {"model": "kimi-k2.6", "baseUrl": "https://relay.example/v1"},
                "edit": {"model": "kimi-k2.6", "baseUrl": "https://api.moonshot.ai/v1"},
            },
            "fallback": [{"model": "kimi-k2.6", "baseUrl": "https://relay.example/v1"}],
        }
    )
    assert s.for_role("chat").api_key is None
    assert s.for_role("edit").api_key == TOP_KEY  # the same endpoint as the top level
    assert s.fallback_chain("chat")[0].api_key is None


def test_fallback_chain_is_ordered_over_the_top_level_settings() -> None:
    s, problems = _resolve(
        {
            "apiKey": TOP_KEY,
            "models": {"chat": {"model": "chat-model", "maxOutputTokens": 999}},
            "fallback": [
                {
                    "model": "kimi-k2.6",
                    "baseUrl": "https://api.apiyi.com/v1",
                    "apiKeyEnv": "APIYI_KEY",
                    "prefixMode": "prefix",
                },
                {"model": "qwen3", "baseUrl": LOCAL_URL},
            ],
        },
        {"APIYI_KEY": RELAY_KEY},
    )
    assert problems == ""
    first, second = s.fallback_chain("chat")
    assert (first.model, first.api_key, first.prefix_mode) == ("kimi-k2.6", RELAY_KEY, "prefix")
    assert (first.role, first.fallback_rank, second.fallback_rank) == ("chat", 1, 2)
    # Over the top level, not over the chat role.
    assert first.max_output_tokens == s.max_output_tokens != 999
    assert (second.model, second.api_key, second.prefix_mode_explicit) == ("qwen3", None, False)
    assert s.api_keys() == frozenset({TOP_KEY, RELAY_KEY})


def test_a_key_in_a_role_is_refused_and_never_echoed() -> None:
    s, problems = _resolve({"models": {"chat": {"model": "m", "apiKey": RELAY_KEY}}})
    assert NO_KEY_IN_A_ROLE in problems and "kimi.models.chat.apiKey" in problems
    assert RELAY_KEY not in problems
    assert s.for_role("chat").api_key is None
    # A key pasted where a variable name belongs is refused without echoing it either.
    s, problems = _resolve({"fallback": [{"model": "m", "apiKeyEnv": RELAY_KEY}]})
    assert s.fallback == () and "kimi.fallback[0].apiKeyEnv must be the name" in problems
    assert RELAY_KEY not in problems and RELAY_KEY not in repr(s)


def test_bad_entries_name_their_key() -> None:
    s, problems = _resolve(
        {
            "models": {
                "chat": {"model": "m", "baseUrl": "ftp://x"},
                "edit": {"model": "m", "thinking": "maybe", "colour": "red"},
                "summary": {"model": "m"},
                "refactor": {"baseUrl": LOCAL_URL},
            },
            "fallback": {"model": "m"},
        }
    )
    assert "kimi.models.chat.baseUrl must be an http(s) URL" in problems
    assert "chat" not in s.models  # a bad endpoint rejects the whole role
    assert (
        s.models["edit"].thinking is None and "kimi.models.edit.thinking must be one of" in problems
    )
    assert "Unknown key 'colour' of kimi.models.edit" in problems
    assert "Unknown role kimi.models.summary" in problems
    assert "kimi.models.refactor from client settings names no model" in problems
    assert "kimi.fallback from client settings must be a list" in problems and s.fallback == ()


def test_temperature_is_a_settings_error_on_a_kimi_model() -> None:
    s, problems = _resolve(
        {
            "temperature": 0.3,
            "models": {
                "chat": {"model": "kimi-k2.6", "temperature": 0.3},
                "edit": {"model": "qwen3", "temperature": 0.2},
            },
            "fallback": [{"model": "moonshotai/Kimi-K2.6", "temperature": 0.5}],
        }
    )
    assert "kimi.models.chat.temperature is not allowed for kimi-k2.6" in problems
    assert "kimi.fallback[0].temperature is not allowed" in problems
    assert "kimi.temperature is not allowed" in problems  # the top-level model is kimi-k2.6
    assert s.temperature is None and s.for_role("chat").temperature is None
    assert s.for_role("edit").temperature == 0.2
    # A top-level temperature for a non-Kimi model is kept, and never inherited by a Kimi role.
    s, problems = _resolve(
        {"model": "qwen3", "temperature": 0.3, "models": {"chat": {"model": "kimi-k2.6"}}}
    )
    assert problems == "" and s.temperature == 0.3 and s.for_role("chat").temperature is None


def test_a_missing_key_variable_is_a_warning_naming_it() -> None:
    s, problems = _resolve({"models": {"chat": {"model": "m", "apiKeyEnv": "NOT_SET_HERE"}}})
    assert "NOT_SET_HERE" in problems and "not set" in problems
    assert s.for_role("chat").api_key is None and s.models["chat"].api_key_env == "NOT_SET_HERE"


def test_models_merge_role_by_role_over_the_sources_and_fallback_lists_do_not() -> None:
    resolved = resolve(
        [
            Source("client settings", {"models": {"chat": {"model": "a"}}, "fallback": []}),
            Source(
                "settings.json",
                {
                    "models": {"chat": {"model": "b"}, "edit": {"model": "c"}},
                    "fallback": [{"model": "d"}],
                },
            ),
        ],
        {},
    )
    s = resolved.settings
    assert (s.models["chat"].model, s.models["edit"].model) == ("a", "c")
    assert s.fallback == ()  # the client's empty list means "no fallback"


def test_role_settings_alone_are_recognised_as_a_kimi_section() -> None:
    assert client_section({"models": {}}) == {"models": {}}
    assert client_section({"fallback": []}) == {"fallback": []}


def test_the_store_reads_key_variables_from_its_environment_and_hides_them() -> None:
    store = SettingsStore(env={"XDG_CONFIG_HOME": "/nonexistent", "RELAY": RELAY_KEY})
    problems = store.set_client_settings(
        {
            "kimi": {
                "fallback": [
                    {"model": "kimi-k2.6", "baseUrl": "https://r.example/v1", "apiKeyEnv": "RELAY"}
                ]
            }
        }
    )
    s = store.current.settings
    assert problems == [] and s.fallback_chain("chat")[0].api_key == RELAY_KEY
    assert RELAY_KEY not in repr(s) and RELAY_KEY not in str(s.describe())
    assert s.describe()["fallback"] == [
        {
            "model": "kimi-k2.6",
            "baseUrl": "https://r.example/v1",
            "apiKeyEnv": "RELAY",
            "apiKeyConfigured": True,
        }
    ]


def test_prefix_mode_explicitness_is_tracked() -> None:
    s, _ = _resolve({"models": {"chat": {"model": "qwen3"}}})
    assert not s.prefix_mode_explicit and not s.for_role("chat").prefix_mode_explicit
    s, _ = _resolve({"prefixMode": "prefix", "models": {"chat": {"model": "qwen3"}}})
    assert s.prefix_mode_explicit and not s.for_role("chat").prefix_mode_explicit
    assert isinstance(s.models["chat"], RoleOverrides)


def test_the_servers_log_filter_masks_every_roles_and_fallbacks_key(tmp_path: Path) -> None:
    from kimi_lsp.logs import LogSetup
    from kimi_lsp.lsp.server import create_server

    # Not key-shaped, so only the configured-secret rule can mask it.
    relay, local = "relay0pen5esame0value", "l0cal5erver0passw0rd"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "RELAY": relay, "LOCAL": local}
    setup = LogSetup(log_file=tmp_path / "kimi.log")
    try:
        server = create_server(logs=setup, env=env, features=[])
        server.settings_store.set_client_settings(
            {
                "kimi": {
                    "models": {"chat": {"model": "q", "baseUrl": LOCAL_URL, "apiKeyEnv": "LOCAL"}},
                    "fallback": [
                        {
                            "model": "kimi-k2.6",
                            "baseUrl": "https://r.example/v1",
                            "apiKeyEnv": "RELAY",
                        }
                    ],
                }
            }
        )
        logging.getLogger("kimi_lsp.test").warning("echoed %s and %s", relay, local)
    finally:
        setup.close()
    text = (tmp_path / "kimi.log").read_text()
    assert "echoed" in text and relay not in text and local not in text


def test_describe_uses_the_wire_keys() -> None:
    s, _ = _resolve({"model": "qwen3", "temperature": 0.2, "tokenLimitParam": "max_tokens"})
    described = s.describe()
    assert described["tokenLimitParam"] == "max_tokens" and described["temperature"] == 0.2
    assert {"role", "fallbackRank", "prefixModeExplicit", "tokenParam"}.isdisjoint(described)
    assert described["models"] == {} and described["fallback"] == []
