"""End-to-end chat: the real server over stdio against the fake Kimi API over real HTTP/SSE."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.fake_kimi import FakeKimi, Fault, Reply

from .harness import open_document, request, session

KEY = "sk-test-fake"
URI = "file:///tmp/kimi-e2e/calc.py"
SOURCE = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
FORBIDDEN = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty", "max_tokens")


@pytest.fixture(autouse=True)
def fresh(fresh_fake: FakeKimi) -> None:
    """Every test starts with an empty script and no records."""


def settings(fake: FakeKimi, **extra: Any) -> dict[str, Any]:
    return {"baseUrl": fake.base_url, "maxRetries": 0, **extra}


def env() -> dict[str, str]:
    return {"MOONSHOT_API_KEY": KEY}


def content_of(client: Any, turn: int | None = None) -> str:
    deltas = client.kimi.of("kimi/chatDelta")
    return "".join(
        d["text"] for d in deltas if d["kind"] == "content" and (turn is None or d["turn"] == turn)
    )


async def test_streamed_chat_deltas_concatenate_to_the_result(fake: FakeKimi, profile: str) -> None:
    fake.enqueue(Reply(content=["The ", "bug is ", "`a - b`", "."], reasoning="Look at add."))
    async with session(profile, init_options=settings(fake), env=env()) as client:
        open_document(client, URI, SOURCE)
        result = await request(
            client,
            "kimi/chat",
            {
                "message": "What is wrong here?",
                "textDocument": {"uri": URI},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}},
            },
        )
        assert result["content"] == "The bug is `a - b`."
        assert content_of(client) == result["content"]
        reasoning = [d for d in client.kimi.of("kimi/chatDelta") if d["kind"] == "reasoning"]
        assert "".join(d["text"] for d in reasoning) == "Look at add." == result["reasoning"]
        kinds = [d["kind"] for d in client.kimi.of("kimi/chatDelta")]
        assert kinds.index("content") > max(i for i, k in enumerate(kinds) if k == "reasoning")
        assert result["turn"] == 1 and result["finishReason"] == "stop"

    body = fake.chat_requests[-1].body
    assert body["model"] == "kimi-k2.6"
    assert body["thinking"] == {"type": "enabled"}
    assert body["max_completion_tokens"] == 32_768
    assert not set(FORBIDDEN) & set(body)
    prompt = json.dumps(body["messages"])
    assert "return a - b" in prompt and "Selection: lines 1-2 of" in prompt
    assert "What is wrong here?" in prompt
    assert KEY not in json.dumps(body)
    assert fake.chat_requests[-1].headers["authorization"] == f"Bearer {KEY}"


async def test_multi_turn_sends_the_history(fake: FakeKimi, profile: str) -> None:
    fake.enqueue(Reply(content="First answer."), Reply(content="Second answer."))
    async with session(profile, init_options=settings(fake), env=env()) as client:
        first = await request(client, "kimi/chat", {"message": "Question one"})
        second = await request(
            client,
            "kimi/chat",
            {"message": "Question two", "conversationId": first["conversationId"]},
        )
        assert second["conversationId"] == first["conversationId"]
        assert (first["turn"], second["turn"]) == (1, 2)
        assert content_of(client, 2) == "Second answer."
    messages = fake.chat_requests[-1].body["messages"]
    roles = [m["role"] for m in messages]
    assert roles == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "Question one"
    assert messages[2]["content"] == "First answer."
    assert messages[3]["content"].endswith("Question two")


async def test_conversation_survives_a_restart(fake: FakeKimi, tmp_path: Path) -> None:
    fake.enqueue(Reply(content="Remembered."), Reply(content="Still here."))
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache"), **env()}
    async with session("vscode", init_options=settings(fake), env=cache) as client:
        first = await request(client, "kimi/chat", {"message": "Remember 42"})
    async with session("vscode", init_options=settings(fake), env=cache) as client:
        second = await request(
            client,
            "kimi/chat",
            {"message": "What number?", "conversationId": first["conversationId"]},
        )
        assert second["turn"] == 2
    contents = [m["content"] for m in fake.chat_requests[-1].body["messages"]]
    assert "Remember 42" in contents and "Remembered." in contents


async def test_usage_and_cost_from_the_api_numbers(fake: FakeKimi, profile: str) -> None:
    usage = {"prompt_tokens": 1_000_000, "cached_tokens": 250_000, "completion_tokens": 500_000}
    fake.enqueue(Reply(content="ok", usage=usage), Reply(content="ok", usage=usage))
    pricing = {"inputPerMillion": 0.6, "cachedInputPerMillion": 0.1, "outputPerMillion": 2.4}
    async with session(profile, init_options=settings(fake, pricing=pricing), env=env()) as c:
        result = await request(c, "kimi/chat", {"message": "hi"})
        expected = 0.75 * 0.6 + 0.25 * 0.1 + 0.5 * 2.4
        assert result["usage"]["promptTokens"] == 1_000_000
        assert result["usage"]["cachedTokens"] == 250_000
        assert result["usage"]["completionTokens"] == 500_000
        assert result["usage"]["cost"] == pytest.approx(expected)
        await request(c, "kimi/chat", {"message": "again"})
        notes = await c.kimi.wait("kimi/usage", 2)
        assert notes[-1]["session"]["requests"] == 2
        assert notes[-1]["session"]["cost"] == pytest.approx(2 * expected)
        status = await request(c, "kimi/status", None)
        assert status["usage"]["cost"] == pytest.approx(2 * expected)
        assert status["usage"]["promptTokens"] == 2_000_000


async def test_slash_commands(fake: FakeKimi, profile: str) -> None:
    fake.enqueue(Reply(content="It adds."))
    async with session(profile, init_options=settings(fake), env=env()) as client:
        open_document(client, URI, SOURCE)
        explained = await request(
            client, "kimi/chat", {"message": "/explain", "textDocument": {"uri": URI}}
        )
        assert explained["content"] == "It adds."
        assert "Explain what" in fake.chat_requests[-1].body["messages"][-1]["content"]
        cost = await request(
            client, "kimi/chat", {"message": "/cost", "conversationId": explained["conversationId"]}
        )
        assert cost["finishReason"] == "local" and "1 request(s)" in cost["content"]
        context = await request(
            client, "kimi/chat", {"message": "/context", "textDocument": {"uri": URI}}
        )
        assert "current_file file:///tmp/kimi-e2e/calc.py" in context["content"]
        assert "tokens" in context["content"]
        cleared = await request(
            client,
            "kimi/chat",
            {"message": "/clear", "conversationId": explained["conversationId"]},
        )
        assert cleared["content"] == "Conversation cleared."
    assert len(fake.chat_requests) == 1  # local commands never call the model


async def test_a_local_reply_takes_a_turn_number_of_its_own(fake: FakeKimi) -> None:
    fake.enqueue(Reply(content="First."), Reply(content="Second."))
    async with session("vscode", init_options=settings(fake), env=env()) as client:
        first = await request(client, "kimi/chat", {"message": "one"})
        cid = first["conversationId"]
        cost = await request(client, "kimi/chat", {"message": "/cost", "conversationId": cid})
        second = await request(client, "kimi/chat", {"message": "two", "conversationId": cid})
        assert [first["turn"], cost["turn"], second["turn"]] == [1, 2, 3]
        assert content_of(client, 2) == cost["content"]
        assert content_of(client, 3) == "Second."
        stats = await request(client, "kimi/debugStats", None)
        assert stats["conversations"] == 1


ERROR_CASES = [
    (Fault.auth(), "auth", "api.moonshot.cn"),
    (Fault.quota(), "quota", "recharge"),
    (Fault.rate_limit(retry_after=0.01), "rate_limit", "rate limit"),
    (Fault.overloaded(retry_after=0.01), "overloaded", "overloaded"),
    (Fault.content_filter(), "content_filter", "high risk"),
    (Fault.server_error(), "server", "server"),
    (Fault.unavailable(), "server", "503"),
    (Fault.not_found(), "config", "kimi-k2.6"),
    (Fault.cut(after=2, reply=Reply(content="partial answer here")), "bad_response", ""),
    (Fault.malformed(after=2, reply=Reply(content="abc")), "bad_response", ""),
    (Fault.stream_error(after=2, reply=Reply(content="abc")), "bad_response", ""),
    (Fault.content_filter_midstream(after=2, reply=Reply(content="abc def")), "content_filter", ""),
]


@pytest.mark.parametrize(("fault", "kind", "words"), ERROR_CASES)
async def test_api_faults_become_readable_errors(
    fake: FakeKimi, fault: Any, kind: str, words: str
) -> None:
    fake.enqueue(fault, Reply(content="recovered"))
    async with session("vscode", init_options=settings(fake), env=env()) as client:
        with pytest.raises(JsonRpcException) as caught:
            await request(client, "kimi/chat", {"message": "hello"})
        error = caught.value
        assert error.code == -32803
        assert error.data["kind"] == kind
        assert words.lower() in error.message.lower()
        assert KEY not in error.message
        status = await request(client, "kimi/status", None)
        assert status["lastError"]["kind"] == error.data["kind"]
        after = await request(client, "kimi/chat", {"message": "next"})
        assert after["content"] == "recovered"


async def test_stall_times_out(fake: FakeKimi) -> None:
    fake.enqueue(Fault.stall(after=2, reply=Reply(content="never finished")))
    opts = settings(fake, requestTimeoutSeconds=1)
    async with session("vscode", init_options=opts, env=env()) as client:
        with pytest.raises(JsonRpcException) as caught:
            await request(client, "kimi/chat", {"message": "hello"})
        assert caught.value.data["kind"] == "timeout"
    # On a loaded machine the 1 s can run out before the request reached the fake: then there
    # is no stream to close. Either way no stream may stay open, and one that opened was left
    # by the client.
    await fake.wait_for_idle()
    assert all(r.outcome == "client_disconnected" for r in fake.chat_requests)


async def test_missing_key_names_the_setting(fake: FakeKimi) -> None:
    async with session("neovim", init_options=settings(fake)) as client:
        with pytest.raises(JsonRpcException) as caught:
            await request(client, "kimi/chat", {"message": "hello"})
        assert caught.value.data["kind"] == "config"
        assert "MOONSHOT_API_KEY" in caught.value.message
        assert "kimi.apiKey" in caught.value.message
    assert fake.chat_requests == []


async def test_retries_honour_retry_after_and_skip_quota(fake: FakeKimi) -> None:
    fake.enqueue(
        Fault.rate_limit(retry_after=0.3), Fault.overloaded(retry_after=0.3), Reply(content="ok")
    )
    async with session("vscode", init_options=settings(fake, maxRetries=3), env=env()) as c:
        result = await request(c, "kimi/chat", {"message": "hi"})
        assert result["content"] == "ok"
        assert len(fake.chat_requests) == 3
        # The waits the server chose, as it logs them (no clock read here: the unit tests check
        # the sleeps themselves through an injected sleep).
        waits = [
            float(m.group(1))
            for m in (re.search(r"retrying in ([0-9.]+) s", x.message) for x in c.log_messages)
            if m
        ]
        assert len(waits) == 2 and all(w >= 0.3 for w in waits)
        fake.enqueue(Fault.quota(), Reply(content="not reached"))
        with pytest.raises(JsonRpcException) as caught:
            await request(c, "kimi/chat", {"message": "again"})
        assert caught.value.data["kind"] == "quota"
        assert len(fake.chat_requests) == 4  # no retry on an exhausted balance


async def test_concurrency_limit_queues_requests(fake: FakeKimi) -> None:
    gate = f"go-{uuid.uuid4().hex}"
    for _ in range(3):
        fake.enqueue(Reply(content="done", gate=gate))
    opts = settings(fake, maxConcurrentRequests=1)
    async with session("vscode", init_options=opts, env=env()) as client:
        pending = [
            asyncio.ensure_future(request(client, "kimi/chat", {"message": f"q{i}"}))
            for i in range(3)
        ]
        await fake.wait_for_in_flight(1)
        fake.open_gate(gate)
        results = await asyncio.gather(*pending)
        assert [r["content"] for r in results] == ["done"] * 3
    assert fake.stats.max_in_flight == 1
    # Context building runs in worker threads, so arrival order at the limiter may vary; the
    # limiter's FIFO order itself is covered by the model client's unit tests.
    asked = sorted(r.body["messages"][-1]["content"] for r in fake.chat_requests)
    assert asked == ["q0", "q1", "q2"]


SLOW_CHUNKS = 200


def slow_reply() -> Reply:
    return Reply(content=[f"word{i} " for i in range(SLOW_CHUNKS)], chunk_delay=0.05)


def closed_early(record: Any) -> bool:
    """The server closed the upstream stream before its end (10 s of chunks), not drained it."""
    return record.outcome == "client_disconnected" and record.events_sent <= SLOW_CHUNKS


async def _first_delta(client: Any) -> None:
    await client.kimi.wait("kimi/chatDelta", 1)


async def test_cancel_request_closes_the_upstream_stream(fake: FakeKimi, profile: str) -> None:
    fake.enqueue(slow_reply())
    async with session(profile, init_options=settings(fake), env=env()) as client:
        call = asyncio.ensure_future(
            request(client, "kimi/chat", {"message": "long answer please"}, msg_id="chat-1")
        )
        await _first_delta(client)
        client.cancel_request(types.CancelParams(id="chat-1"))
        with pytest.raises(JsonRpcException) as caught:
            await call
        assert caught.value.code == -32800
        record = await fake.wait_for_disconnect()
        assert closed_early(record)
        assert (await request(client, "kimi/status", None))["version"]


async def test_cancel_command_closes_the_upstream_stream(fake: FakeKimi, profile: str) -> None:
    fake.enqueue(slow_reply())
    async with session(profile, init_options=settings(fake), env=env()) as client:
        call = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.WORKSPACE_EXECUTE_COMMAND,
                types.ExecuteCommandParams(command="kimi.chat", arguments=["long please"]),
                msg_id="cmd-1",
            )
        )
        await _first_delta(client)
        client.cancel_request(types.CancelParams(id="cmd-1"))
        with pytest.raises(JsonRpcException):
            await call
        assert closed_early(await fake.wait_for_disconnect())


async def test_progress_cancel_button_closes_the_upstream_stream(
    fake: FakeKimi, profile: str
) -> None:
    """The server creates the progress bar (window/workDoneProgress/create); Cancel stops it."""
    fake.enqueue(slow_reply())
    async with session(profile, init_options=settings(fake), env=env()) as client:
        call = asyncio.ensure_future(request(client, "kimi/chat", {"message": "long"}))
        await _first_delta(client)
        while not any(str(t).startswith("kimi-") for t in client.progress_reports):
            await client.wait_for_notification("$/progress")
        [token] = [t for t in client.progress_reports if str(t).startswith("kimi-")]
        begin = client.progress_reports[token][0]
        assert begin.kind == "begin" and begin.cancellable is True
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        with pytest.raises(JsonRpcException) as caught:
            await call
        assert caught.value.code == -32800
        assert closed_early(await fake.wait_for_disconnect())
        assert client.progress_reports[token][-1].kind == "end"


# pytest-lsp only knows tokens it created; a client-chosen workDoneToken is valid LSP.
@pytest.mark.filterwarnings("ignore:Unknown progress token")
async def test_client_work_done_token_is_used_and_cancellable(fake: FakeKimi) -> None:
    fake.enqueue(slow_reply())
    async with session("vscode", init_options=settings(fake), env=env()) as client:
        call = asyncio.ensure_future(
            request(client, "kimi/chat", {"message": "long", "workDoneToken": "tok-1"})
        )
        await _first_delta(client)
        assert client.progress_reports["tok-1"][0].kind == "begin"
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token="tok-1"))
        with pytest.raises(JsonRpcException):
            await call
        await fake.wait_for_disconnect()


async def test_malformed_chat_params(fake: FakeKimi) -> None:
    async with session("vscode", init_options=settings(fake), env=env()) as client:
        for bad, words in [
            ({}, "message"),
            ({"message": ""}, "empty"),
            ({"message": "hi", "context": "everything"}, "context"),
            ({"message": "hi", "textDocument": {"uri": "file:///not/open.py"}}, "not open"),
            ({"message": "hi", "range": {"start": 1}}, "range"),
        ]:
            with pytest.raises(JsonRpcException, match=words) as caught:
                await request(client, "kimi/chat", bad)
            assert caught.value.code == -32602
    assert fake.chat_requests == []


async def test_secrets_typed_into_the_chat_never_reach_the_api(fake: FakeKimi) -> None:
    token = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
    fake.enqueue(Reply(content="Noted."), Reply(content="Again."))
    async with session("vscode", init_options=settings(fake), env=env()) as client:
        first = await request(client, "kimi/chat", {"message": f"my key is {KEY}, token {token}"})
        await request(
            client, "kimi/chat", {"message": "and now?", "conversationId": first["conversationId"]}
        )
    for recorded in fake.chat_requests:
        raw = json.dumps(recorded.body)
        assert KEY not in raw and token not in raw
        assert "[REDACTED" in raw


async def test_a_key_typed_into_chat_stays_off_the_disk(fake: FakeKimi, tmp_path: Path) -> None:
    """Issue 16, finding 5: the conversation file holds what the API saw, 0600 in 0700."""
    import os
    import stat

    token = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"
    fake.enqueue(Reply(content="Do not paste keys."))
    server_env = {**env(), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    async with session("vscode", init_options=settings(fake), env=server_env) as client:
        message = f"my key is {KEY} and my token {token}: why 401?"
        await request(client, "kimi/chat", {"message": message, "context": "none"})
    sent = json.dumps(fake.chat_requests[-1].body)
    assert KEY not in sent and token not in sent
    [saved] = (tmp_path / "cache" / "kimi-lsp" / "conversations").glob("*/*.json")
    data = saved.read_bytes()
    assert KEY.encode() not in data and token.encode() not in data
    assert b"[REDACTED:" in data
    if os.name != "posix":
        return  # the modes below are POSIX's
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(saved.parent.parent.stat().st_mode) == 0o700
