"""Settings: layering, validation with per-key fallback, and the API key never shown."""

from __future__ import annotations

import json
from pathlib import Path

from kimi_lsp.config import Pricing, Settings, Source, client_section, env_source, resolve
from kimi_lsp.settings_store import SettingsStore

KEY = "sk-test-fake-abcdefghijklmnopqrstuvwxyz"


def test_defaults_match_protocol() -> None:
    s = resolve([]).settings
    assert s.base_url == "https://api.moonshot.ai/v1"
    assert s.model == "kimi-k2.6"
    assert s.thinking == "auto"
    assert s.prefix_mode == "partial"
    assert (s.context_window, s.max_output_tokens) == (262_144, 32_768)
    assert (s.max_concurrent_requests, s.max_retries) == (4, 3)
    assert s.request_timeout_seconds == 120
    assert s.pricing == Pricing(0.95, 0.16, 4.0, "USD")
    assert s.exclude == () and s.redact_secrets is True and s.api_key is None


def test_bad_value_falls_back_alone_with_a_readable_message() -> None:
    resolved = resolve(
        [Source("client settings", {"model": "m", "contextWindow": -5, "thinking": "maybe"})]
    )
    assert resolved.settings.model == "m"
    assert resolved.settings.context_window == 262_144
    assert resolved.settings.thinking == "auto"
    text = " ".join(resolved.problems)
    assert "kimi.contextWindow" in text and "whole number" in text
    assert 'one of "auto", "enabled", "disabled"' in text


def test_bad_client_value_falls_back_to_the_environment_not_the_default() -> None:
    resolved = resolve(
        [Source("client", {"baseUrl": "ftp://x"}), Source("env", {"baseUrl": "http://h:1/v1/"})]
    )
    assert resolved.settings.base_url == "http://h:1/v1"
    assert resolved.origins["baseUrl"] == "env"


def test_pricing_validation_and_partial_override() -> None:
    ok = resolve([Source("c", {"pricing": {"inputPerMillion": 0.6, "outputPerMillion": 2.4}})])
    assert ok.settings.pricing == Pricing(0.6, 0.16, 2.4, "USD")
    bad = resolve([Source("c", {"pricing": {"inputPerMillion": "cheap"}})])
    assert bad.settings.pricing == Pricing() and bad.problems


def test_unknown_keys_are_reported() -> None:
    assert any("kimi.temperature" in p for p in resolve([Source("c", {"temperature": 1})]).problems)


def test_env_order_and_key_hidden() -> None:
    env = {"KIMI_API_KEY": "second", "MOONSHOT_API_KEY": KEY, "KIMI_MODEL": "m2"}
    assert env_source(env).values == {"apiKey": KEY, "model": "m2"}
    settings = resolve([env_source(env)]).settings
    assert KEY not in repr(settings)
    described = json.dumps(settings.describe())
    assert KEY not in described and '"apiKeyConfigured": true' in described


def test_invalid_api_key_value_is_not_echoed() -> None:
    problems = resolve([Source("c", {"apiKey": 12345678901234})]).problems
    assert problems and "12345678901234" not in problems[0]


def test_client_section_shapes() -> None:
    assert client_section({"kimi": {"model": "a"}}) == {"model": "a"}
    assert client_section({"model": "a"}) == {"model": "a"}
    assert client_section({"python": {}}) is None
    assert client_section(None) is None


def test_store_layers_client_over_env_over_file(tmp_path: Path) -> None:
    config = tmp_path / "kimi-lsp" / "settings.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"model": "from-file", "maxRetries": 1, "baseUrl": "http://f/v1"}))
    store = SettingsStore(env={"XDG_CONFIG_HOME": str(tmp_path), "KIMI_BASE_URL": "http://e/v1"})
    assert store.current.settings.model == "from-file"
    assert store.current.settings.base_url == "http://e/v1"
    store.set_initialization_options({"model": "from-init"})
    assert store.current.settings.model == "from-init"
    store.set_client_settings({"kimi": {"maxRetries": 5}})
    assert store.current.settings.model == "from-init"  # init options still apply
    assert store.current.settings.max_retries == 5
    seen: list[Settings] = []
    store.on_change(lambda r: seen.append(r.settings))
    store.set_client_settings({"kimi": {}})
    assert seen[-1].max_retries == 1


def test_store_reports_broken_user_file(tmp_path: Path) -> None:
    (tmp_path / "kimi-lsp").mkdir()
    (tmp_path / "kimi-lsp" / "settings.json").write_text("{not json")
    store = SettingsStore(env={"XDG_CONFIG_HOME": str(tmp_path)})
    problems = store.set_client_settings({})
    assert any("not valid JSON" in p for p in problems)
    assert store.set_client_settings(["not", "an", "object"])[0].startswith("Ignored")
