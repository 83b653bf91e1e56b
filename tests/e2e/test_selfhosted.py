"""End-to-end against a real self-hosted OpenAI-compatible server: llama.cpp's Python server with
a small GGUF model (tests/selfhosted/setup.sh), as the `chat` role and as a fallback."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.fake_kimi import ErrorReply, FakeKimi, Fault

from .harness import request, server_env, session
from .selfhosted import CONTEXT_WINDOW, LLAMA_KEY, LlamaServer

KEY = "sk-test-fake"
KEY_ENV = "KIMI_TEST_LLAMA_KEY"  # the llama endpoint's own key, by name (never in a setting)
OUTPUT_LIMIT = 32
# An answer the small model cannot finish in OUTPUT_LIMIT tokens: it stops by the limit.
LONG_ANSWER = "Count from 1 to 200, one number per line, and say nothing else."


@pytest.fixture(autouse=True)
def fresh(fresh_fake: FakeKimi) -> None:
    """Every test starts with an empty script and no records on the fake primary."""


def llama_model(llama: LlamaServer, max_output: int = OUTPUT_LIMIT) -> dict[str, Any]:
    """The llama.cpp endpoint as a role or fallback entry: its model, its key by name, no
    continuation style (it understands none) and its window."""
    return {
        "model": llama.model_id,
        "baseUrl": llama.base_url,
        "apiKeyEnv": KEY_ENV,
        "prefixMode": "none",
        "maxOutputTokens": max_output,
        "contextWindow": CONTEXT_WINDOW,
        # Greedy decoding (a non-Kimi model may take a temperature): the same answer each run,
        # which does not end within OUTPUT_LIMIT tokens.
        "temperature": 0,
    }


def env() -> dict[str, str]:
    return {"MOONSHOT_API_KEY": KEY, KEY_ENV: LLAMA_KEY}


def as_chat_role(fake: FakeKimi, llama: LlamaServer, max_output: int = OUTPUT_LIMIT) -> Any:
    """Moonshot (here the fake) at the top level; chat requests go to llama.cpp."""
    return {
        "baseUrl": fake.base_url,
        "maxRetries": 0,
        "models": {"chat": llama_model(llama, max_output)},
    }


def content_deltas(client: Any) -> list[str]:
    return [d["text"] for d in client.kimi.of("kimi/chatDelta") if d["kind"] == "content"]


def assert_keys_kept_apart(fake: FakeKimi) -> None:
    """The llama endpoint's key never reaches the Moonshot endpoint."""
    for record in fake.requests:
        assert LLAMA_KEY not in json.dumps(record.headers) + json.dumps(record.body)


async def test_chat_role_streams_a_bounded_answer(fake: FakeKimi, llama: LlamaServer) -> None:
    async with session("vscode", init_options=as_chat_role(fake, llama), env=env()) as client:
        result = await request(client, "kimi/chat", {"message": LONG_ANSWER, "context": "none"})
        # All deltas come before the result; several of them: the answer was streamed.
        deltas = content_deltas(client)
        usage = result["usage"]
    assert len(deltas) >= 3
    assert "".join(deltas) == result["content"] != ""
    # Bounded by the role's maxOutputTokens (sent as max_tokens, which llama.cpp honours).
    assert result["finishReason"] == "length"
    assert usage["model"] == llama.model_id and usage["role"] == "chat"
    assert usage["fallback"] is False
    # llama.cpp's stream carries no usage: counted locally and marked so.
    assert usage["estimated"] is True
    assert usage["promptTokens"] > 0 and usage["completionTokens"] > 0
    assert fake.chat_requests == []  # the chat role's endpoint only


async def test_cancel_mid_stream_and_the_server_answers_again(
    fake: FakeKimi, llama: LlamaServer
) -> None:
    settings = as_chat_role(fake, llama, max_output=2048)
    mark = llama.log_mark()
    async with session("neovim", init_options=settings, env=env()) as client:
        call = asyncio.ensure_future(
            request(client, "kimi/chat", {"message": LONG_ANSWER, "context": "none"}, "chat-1")
        )
        await client.kimi.wait("kimi/chatDelta", 1, timeout=120)
        client.cancel_request(types.CancelParams(id="chat-1"))
        with pytest.raises(JsonRpcException) as caught:
            await call
        assert caught.value.code == -32800
    # llama-cpp-python stops generating when the client goes away, and says so.
    assert await asyncio.to_thread(llama.wait_for_line, "Disconnected from client", mark)
    async with session("neovim", init_options=as_chat_role(fake, llama), env=env()) as client:
        again = await request(client, "kimi/chat", {"message": LONG_ANSWER, "context": "none"})
    assert again["content"] and again["finishReason"] == "length"


@pytest.mark.parametrize(
    ("outage", "kind"),
    [(Fault.overloaded(), "overloaded"), (Fault.unavailable(), "server")],
    ids=["429-engine-overloaded", "503"],
)
async def test_fallback_behind_a_failing_primary(
    fake: FakeKimi, llama: LlamaServer, outage: ErrorReply, kind: str
) -> None:
    fake.enqueue(outage)  # one attempt: maxRetries 0
    settings = {"baseUrl": fake.base_url, "maxRetries": 0, "fallback": [llama_model(llama)]}
    async with session("vscode", init_options=settings, env=env()) as client:
        result = await request(client, "kimi/chat", {"message": LONG_ANSWER, "context": "none"})
        deltas = content_deltas(client)
        status = await request(client, "kimi/status", None)
    usage = result["usage"]
    assert usage["model"] == llama.model_id and usage["role"] == "chat"
    assert usage["fallback"] is True and usage["estimated"] is True
    assert usage["promptTokens"] > 0 and usage["completionTokens"] > 0
    assert result["finishReason"] == "length" and "".join(deltas) == result["content"] != ""
    # The test client's namedtuples rename the keyword `from` to `_1`.
    last = status["lastFallback"]
    assert (last["_1"], last["to"], last["kind"]) == ("kimi-k2.6", llama.model_id, kind)
    [primary] = fake.chat_requests  # tried once, with its own key
    assert primary.headers["authorization"] == f"Bearer {KEY}"
    assert_keys_kept_apart(fake)


async def test_a_wrong_key_is_an_auth_error(fake: FakeKimi, llama: LlamaServer) -> None:
    """llama-cpp-python answers a wrong key 401 `{"detail": "Invalid API key"}` (FastAPI's
    shape, not OpenAI's error object): still `auth`, which no fallback serves."""
    settings = as_chat_role(fake, llama)
    wrong = {**env(), KEY_ENV: "sk-not-the-llama-key"}
    async with session("vscode", init_options=settings, env=wrong) as client:
        with pytest.raises(JsonRpcException) as caught:
            await request(client, "kimi/chat", {"message": "hello", "context": "none"})
    assert caught.value.code == -32803
    assert caught.value.data["kind"] == "auth"
    assert fake.chat_requests == []


def run_cli(config: Path, fake: FakeKimi, *args: str) -> subprocess.CompletedProcess[str]:
    """`kimi-lsp chat` with a user settings file, in an empty workspace."""
    run_env = {**env(), "KIMI_BASE_URL": fake.base_url, "XDG_CONFIG_HOME": str(config)}
    return subprocess.run(
        [sys.executable, "-m", "kimi_lsp", "chat", LONG_ANSWER, *args],
        capture_output=True,
        text=True,
        env=server_env(run_env),
        cwd=config,  # the workspace is the current directory: one with no sources
        timeout=300,
        check=False,
    )


def test_cli_chat_against_the_chat_role(fake: FakeKimi, llama: LlamaServer, tmp_path: Path) -> None:
    (tmp_path / "kimi-lsp").mkdir()
    user_settings = {"models": {"chat": llama_model(llama)}}
    (tmp_path / "kimi-lsp" / "settings.json").write_text(json.dumps(user_settings))
    streamed = run_cli(tmp_path, fake)
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout.strip()
    # The summary names the model that answered, with the locally counted tokens.
    summary = re.search(
        r"\[(.+): (\d+) prompt tokens \(0 cached\), (\d+) output tokens", streamed.stderr
    )
    assert summary is not None, streamed.stderr
    assert summary[1] == llama.model_id and int(summary[2]) > 0 and int(summary[3]) > 0
    assert "counted locally: the endpoint reported none" in streamed.stderr
    whole = run_cli(tmp_path, fake, "--json")
    assert whole.returncode == 0, whole.stderr
    answer = json.loads(whole.stdout)
    assert answer["content"] and answer["finishReason"] == "length"
    usage = answer["usage"]
    assert usage["model"] == llama.model_id and usage["role"] == "chat"
    assert usage["estimated"] is True and usage["completionTokens"] > 0
    assert fake.chat_requests == []


def test_llama_cpp_dialect(llama: LlamaServer) -> None:
    """What llama.cpp's OpenAI server understands, as kimi-lsp's dialects assume (issue 17)."""
    user = {"role": "user", "content": LONG_ANSWER}
    ask = {"model": llama.model_id, "messages": [user], "temperature": 0}
    # max_tokens bounds the answer ...
    bounded = llama.post("/chat/completions", {**ask, "max_tokens": 8})
    assert bounded["choices"][0]["finish_reason"] == "length"
    assert bounded["usage"]["completion_tokens"] == 8
    # ... max_completion_tokens is ignored (max_tokens only keeps this test short).
    ignored = llama.post("/chat/completions", {**ask, "max_completion_tokens": 4, "max_tokens": 12})
    assert ignored["usage"]["completion_tokens"] == 12
    # A stream carries no usage, even when asked for it.
    chunks = llama.post_stream(
        "/chat/completions",
        {**ask, "max_tokens": 4, "stream_options": {"include_usage": True}},
    )
    assert len(chunks) >= 4 and not any(chunk.get("usage") for chunk in chunks)
    # The model id the server lists is what answers.
    assert bounded["model"] == llama.model_id
    # No continuation style is understood: the prefix is rendered as a finished turn either way.
    prefix = [user, {"role": "assistant", "content": "1\n2\n"}]
    plain = {**ask, "messages": prefix, "max_tokens": 1}
    styles = [
        plain,
        {**plain, "messages": [user, {**prefix[1], "partial": True}]},  # Moonshot
        {**plain, "prefix": True},  # DeepSeek-style relays
        {**plain, "continue_final_message": True, "add_generation_prompt": False},  # vLLM
    ]
    prompts = {llama.post("/chat/completions", body)["usage"]["prompt_tokens"] for body in styles}
    assert len(prompts) == 1
