"""Settings: layering, validation with per-key fallback, and the API key never shown."""

from __future__ import annotations

import json
from pathlib import Path

from kimi_lsp.config import (
    ContextBudget,
    Pricing,
    Settings,
    Source,
    client_section,
    env_source,
    resolve,
)
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


# -- contextBudget (v2) -----------------------------------------------------------------------

WINDOW = 262_144 - 32_768 - 1_024


def test_context_budget_defaults_per_purpose() -> None:
    s = resolve([]).settings
    assert s.context_budget == ContextBudget(16_000, 48_000, 64_000, 4_000)
    budgets = {p: s.context_budget_for(p) for p in ("edit", "chat", "refactor", "prediction")}
    assert budgets == {"edit": 16_000, "chat": 48_000, "refactor": 64_000, "prediction": 4_000}
    assert s.describe()["contextBudget"] == {
        "edit": 16_000,
        "chat": 48_000,
        "refactor": 64_000,
        "prediction": 4_000,
    }


def test_context_budget_merges_key_by_key_with_the_defaults() -> None:
    s = resolve([Source("client", {"contextBudget": {"edit": 8000}})]).settings
    assert s.context_budget == ContextBudget(edit=8_000)  # chat, refactor, prediction kept
    assert (s.context_budget_for("edit"), s.context_budget_for("chat")) == (8_000, 48_000)


def test_context_budget_keys_merge_across_sources_too() -> None:
    resolved = resolve(
        [
            Source("client", {"contextBudget": {"edit": 8000}}),
            Source("file", {"contextBudget": {"edit": 9000, "chat": 30000}}),
        ]
    )
    assert resolved.settings.context_budget == ContextBudget(edit=8_000, chat=30_000)
    assert resolved.origins["contextBudget.edit"] == "client"
    assert resolved.origins["contextBudget.chat"] == "file"


def test_a_bad_context_budget_value_falls_back_alone() -> None:
    resolved = resolve(
        [
            Source("client", {"contextBudget": {"edit": -5, "chat": "lots", "refactor": 20000}}),
            Source("file", {"contextBudget": {"edit": 12000}}),
        ]
    )
    budget = resolved.settings.context_budget
    assert budget == ContextBudget(edit=12_000, chat=48_000, refactor=20_000)
    text = " ".join(resolved.problems)
    assert "kimi.contextBudget.edit = -5 from client is invalid" in text
    assert 'kimi.contextBudget.chat = "lots"' in text and '"window"' in text
    assert len(resolved.problems) == 2


def test_a_context_budget_that_is_not_an_object_or_has_unknown_keys_is_reported() -> None:
    wrong = resolve([Source("client", {"contextBudget": 16000})])
    assert wrong.settings.context_budget == ContextBudget()
    assert "kimi.contextBudget = 16000" in wrong.problems[0] and "object" in wrong.problems[0]
    unknown = resolve([Source("client", {"contextBudget": {"edits": 1000, "chat": 2000}})])
    assert unknown.settings.context_budget == ContextBudget(chat=2_000)
    assert "'edits'" in unknown.problems[0] and "known: edit, chat" in unknown.problems[0]


def test_window_means_the_whole_window_and_every_budget_is_capped_by_it() -> None:
    s = resolve([Source("c", {"contextBudget": {"chat": "window", "refactor": 9_000_000}})])
    assert s.problems == []
    assert s.settings.context_budget_for("chat") == WINDOW
    assert s.settings.context_budget_for("refactor") == WINDOW  # capped
    small = resolve([Source("c", {"contextWindow": 20_000, "maxOutputTokens": 4_000})]).settings
    assert small.context_budget_for("edit") == 20_000 - 4_000 - 1_024  # 16K does not fit
    assert small.context_budget_for("prediction") == 4_000


def test_a_payload_of_only_context_budget_is_recognised_as_kimi_settings() -> None:
    assert client_section({"contextBudget": {"edit": 8000}}) == {"contextBudget": {"edit": 8000}}


def test_store_merges_context_budget_from_the_user_file(tmp_path: Path) -> None:
    config = tmp_path / "kimi-lsp" / "settings.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"contextBudget": {"chat": "window"}}))
    store = SettingsStore(env={"XDG_CONFIG_HOME": str(tmp_path)})
    store.set_initialization_options({"contextBudget": {"edit": 8000}})
    assert store.current.settings.context_budget == ContextBudget(edit=8_000, chat="window")


def test_store_merges_context_budget_across_init_options_and_client_settings() -> None:
    store = SettingsStore(env={})
    store.set_initialization_options({"contextBudget": {"edit": 8000}})
    store.set_client_settings({"kimi": {"contextBudget": {"chat": 24000}}})
    assert store.current.settings.context_budget == ContextBudget(edit=8_000, chat=24_000)
    store.set_client_settings({"kimi": {"contextBudget": {"edit": 12000}}})
    assert store.current.settings.context_budget == ContextBudget(edit=12_000)
