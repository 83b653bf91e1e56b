"""`kimi-lsp doctor --online` with roles and a fallback: every endpoint and model is checked
with its own key, and the probes tell which token limit and continuation each understands."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fake_kimi import FakeKimi, ModelSpec, Reply

from .harness import server_env

KEY = "sk-test-fake"
LOCAL_KEY = "sk-local-fake-0123456789abcdef"
VLLM_KEY = "sk-vllm-fake-0123456789abcdef"
LOCAL_MODEL = "gemma-3-270m-it"
VLLM_MODEL = "qwen3-8b"
COUNTING = ", ".join(str(n) for n in range(1, 41))


def counting_model(continues: str) -> Any:
    """A scripted model asked to count: it continues "1, 2, 3, 4," when the request carries
    the continuation flag its server understands (`continues`), else starts over."""

    def reply(body: dict[str, Any]) -> Reply:
        last = body["messages"][-1]
        flagged = {
            "partial": last.get("partial") is True,
            "continue_final_message": body.get("continue_final_message") is True,
        }.get(continues, False)
        return Reply(content=" 5, 6, 7, 8" if flagged else COUNTING)

    return reply


@pytest.fixture
def endpoints() -> Iterator[tuple[FakeKimi, FakeKimi, FakeKimi]]:
    moonshot = FakeKimi(bound_output=True).start_in_thread()
    local = FakeKimi(dialect="llamacpp", api_keys=(LOCAL_KEY,)).start_in_thread()
    vllm = FakeKimi(
        dialect="vllm", api_keys=(VLLM_KEY,), models=[ModelSpec(VLLM_MODEL)]
    ).start_in_thread()
    moonshot.set_default(counting_model("partial"))
    local.set_default(counting_model("none"))
    vllm.set_default(counting_model("continue_final_message"))
    try:
        yield moonshot, local, vllm
    finally:
        for fake in (moonshot, local, vllm):
            fake.stop()


def doctor(tmp_path: Path, settings: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    env = server_env({"MOONSHOT_API_KEY": KEY, "LOCAL_KEY": LOCAL_KEY, "VLLM_KEY": VLLM_KEY})
    config = Path(env["XDG_CONFIG_HOME"]) / "kimi-lsp"
    config.mkdir(parents=True)
    (config / "settings.json").write_text(json.dumps(settings))
    return subprocess.run(
        [sys.executable, "-m", "kimi_lsp", "doctor", "--online", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _settings(moonshot: FakeKimi, local: FakeKimi, vllm: FakeKimi, **local_extra: Any) -> Any:
    return {
        "baseUrl": moonshot.base_url,
        "models": {
            "prediction": {
                "model": LOCAL_MODEL,
                "baseUrl": local.base_url,
                "apiKeyEnv": "LOCAL_KEY",
                **local_extra,
            },
            "edit": {"model": "kimi-k2.6", "maxOutputTokens": 4096},
        },
        "fallback": [
            {
                "model": VLLM_MODEL,
                "baseUrl": vllm.base_url,
                "apiKeyEnv": "VLLM_KEY",
                "prefixMode": "continue_final_message",
                "temperature": 0.3,
            }
        ],
    }


def _checks(result: subprocess.CompletedProcess[str], name: str) -> list[dict[str, str]]:
    report = json.loads(result.stdout)
    return [c for c in report["checks"] if c["check"] == name]


def test_every_endpoint_is_probed_with_its_own_key(
    tmp_path: Path, endpoints: tuple[FakeKimi, FakeKimi, FakeKimi]
) -> None:
    moonshot, local, vllm = endpoints
    result = doctor(tmp_path, _settings(moonshot, local, vllm))
    assert result.returncode == 0, result.stdout + result.stderr
    for key in (KEY, LOCAL_KEY, VLLM_KEY):
        assert key not in result.stdout + result.stderr
    probes = {c["message"].split(":")[0]: c for c in _checks(result, "probe")}
    # The edit role is the top level's model on the same endpoint: checked once, both named.
    top = probes["top level, models.edit"]
    assert top["status"] == "ok"
    assert "max_completion_tokens honoured" in top["message"]
    assert "partial: understood" in top["message"]
    assert "Kimi K2.x" in top["message"] and "continuation partial" in top["message"]
    prediction = probes["models.prediction"]["message"]
    assert "max_completion_tokens ignored (the answer ran on)" in prediction
    assert "max_tokens honoured" in prediction
    assert "partial: not understood (the answer started over)" in prediction
    assert "OpenAI-compatible; max_tokens; continuation none" in prediction
    fallback = probes["fallback[0]"]["message"]
    assert "partial: refused (HTTP 400" in fallback
    assert "continue_final_message: understood" in fallback
    assert "temperature 0.3" in fallback
    roles = {c["message"].split(":")[0] for c in _checks(result, "role")}
    assert roles == {"models.prediction", "models.edit"}
    assert [c["message"] for c in _checks(result, "fallback")] == [
        f"fallback[0]: {VLLM_MODEL} at {vllm.base_url}; key: from VLLM_KEY (set)"
    ]
    # Each endpoint saw only its own key, on GET /models and on every probe.
    for fake, key in ((moonshot, KEY), (local, LOCAL_KEY), (vllm, VLLM_KEY)):
        seen = {r.headers.get("authorization") for r in fake.requests}
        assert seen == {f"Bearer {key}"}, seen
        assert any(r.path.endswith("/models") for r in fake.requests)
    # Kimi was never sent sampling; the local model got max_tokens probes and no thinking.
    assert all("temperature" not in r.body for r in moonshot.chat_requests)
    assert all("thinking" not in r.body for r in local.chat_requests)


def test_a_token_limit_the_endpoint_ignores_is_an_error_naming_the_fix(
    tmp_path: Path, endpoints: tuple[FakeKimi, FakeKimi, FakeKimi]
) -> None:
    moonshot, local, vllm = endpoints
    settings = _settings(moonshot, local, vllm, tokenLimitParam="max_completion_tokens")
    result = doctor(tmp_path, settings)
    assert result.returncode == 1
    (prediction,) = [c for c in _checks(result, "probe") if c["message"].startswith("models.")]
    assert prediction["status"] == "error"
    assert 'set tokenLimitParam to "max_tokens" for it' in prediction["message"]


def test_an_unreachable_fallback_fails_the_check(
    tmp_path: Path, endpoints: tuple[FakeKimi, FakeKimi, FakeKimi]
) -> None:
    moonshot, local, vllm = endpoints
    settings = _settings(moonshot, local, vllm)
    settings["fallback"][0]["baseUrl"] = "http://127.0.0.1:9/v1"
    result = doctor(tmp_path, settings)
    assert result.returncode == 1
    failed = [c for c in _checks(result, "endpoint") if c["status"] == "error"]
    assert len(failed) == 1 and failed[0]["message"].startswith("fallback[0]: ")
    assert "could not reach http://127.0.0.1:9/v1/models" in failed[0]["message"]
    assert vllm.requests == []


def test_a_moonshot_role_without_its_own_key_is_not_sent_the_top_level_key(
    tmp_path: Path, endpoints: tuple[FakeKimi, FakeKimi, FakeKimi]
) -> None:
    moonshot, _, _ = endpoints
    settings = {
        "baseUrl": moonshot.base_url,
        "models": {"chat": {"model": "kimi-k2.6", "baseUrl": "https://api.moonshot.cn/v1"}},
    }
    result = doctor(tmp_path, settings)
    assert result.returncode == 1
    (failed,) = [c for c in _checks(result, "endpoint") if c["status"] == "error"]
    assert failed["message"] == (
        "models.chat: kimi-k2.6 at https://api.moonshot.cn/v1: not checked: no API key"
    )
    (role,) = _checks(result, "role")
    assert role["message"].endswith("key: none")
