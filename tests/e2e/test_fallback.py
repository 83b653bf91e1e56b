"""End-to-end roles and fallback: the real server over stdio against TWO fake Kimi APIs, each on
its own port with its own key and model. The fallback serves an outage with its own key and
model; auth errors and errors after content are not served; the circuit breaker skips a primary
that keeps failing and probes it again after the cool-down (moved by a test hook, no sleeps);
status, usage and the log say who answered; a role's endpoint serves that role only."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.fake_kimi import FakeKimi, Fault, Reply

from .harness import SERVER_COMMAND, open_document, request, server_env, session

PRIMARY_KEY = "sk-primary-e2e-0123456789"
SECOND_KEY = "sk-second-e2e-9876543210"
SECOND_KEY_ENV = "KIMI_E2E_SECOND_KEY"
URI = "file:///tmp/kimi-e2e/calc.py"
SOURCE = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
LINE_1 = {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}
ENV = {"MOONSHOT_API_KEY": PRIMARY_KEY, SECOND_KEY_ENV: SECOND_KEY, "KIMI_LSP_TEST_HOOKS": "1"}


@pytest.fixture(scope="module")
def primary() -> Iterator[FakeKimi]:
    with FakeKimi(api_keys=(PRIMARY_KEY,)).start_in_thread() as handle:
        yield handle


@pytest.fixture(scope="module")
def second() -> Iterator[FakeKimi]:
    with FakeKimi(api_keys=(SECOND_KEY,)).start_in_thread() as handle:
        yield handle


@pytest.fixture(autouse=True)
def fresh(primary: FakeKimi, second: FakeKimi) -> None:
    primary.reset()
    second.reset()


def second_entry(second: FakeKimi) -> dict[str, Any]:
    return {"model": "kimi-k2.5", "baseUrl": second.base_url, "apiKeyEnv": SECOND_KEY_ENV}


def with_fallback(primary: FakeKimi, second: FakeKimi) -> dict[str, Any]:
    return {"baseUrl": primary.base_url, "maxRetries": 0, "fallback": [second_entry(second)]}


def assert_keys_kept_apart(primary: FakeKimi, second: FakeKimi) -> None:
    """Each endpoint saw its own key only, in the header and nowhere in any body."""
    for fake, own, other in ((primary, PRIMARY_KEY, SECOND_KEY), (second, SECOND_KEY, PRIMARY_KEY)):
        for recorded in fake.requests:
            assert recorded.headers.get("authorization") == f"Bearer {own}"
            assert other not in json.dumps(recorded.body)
            assert other not in json.dumps(dict(recorded.headers))


async def last_fallback(client: Any) -> dict[str, Any] | None:
    """kimi/status's lastFallback. The test client turns JSON objects into namedtuples, which
    rename the keyword `from` to `_1`: it is renamed back here."""
    status = await request(client, "kimi/status", None)
    note = status.get("lastFallback")
    if note is None:
        return None
    return {("from" if key == "_1" else key): value for key, value in note.items()}


async def chat(client: Any, message: str = "hello") -> dict[str, Any]:
    result: dict[str, Any] = await request(client, "kimi/chat", {"message": message})
    return result


async def test_an_overloaded_primary_is_served_by_the_fallback(
    primary: FakeKimi, second: FakeKimi, profile: str
) -> None:
    primary.set_default(Fault.overloaded(retry_after=None))
    second.enqueue(Reply(content="Answered by the fallback."))
    async with session(profile, init_options=with_fallback(primary, second), env=ENV) as client:
        result = await chat(client)
        assert result["content"] == "Answered by the fallback."
        usage = result["usage"]
        assert (usage["model"], usage["role"], usage["fallback"]) == ("kimi-k2.5", "chat", True)
        assert usage["estimated"] is False
        [reported] = await client.kimi.wait("kimi/usage")
        assert reported["usage"]["model"] == "kimi-k2.5" and reported["usage"]["fallback"] is True
        assert reported["session"]["requests"] == 1
        note = await last_fallback(client)
        assert note is not None and note["at"]
        assert (note["from"], note["to"], note["kind"]) == ("kimi-k2.6", "kimi-k2.5", "overloaded")
        status = await request(client, "kimi/status", None)
        assert status["roles"]["chat"] == {"model": "kimi-k2.6", "baseUrl": primary.base_url}
        assert SECOND_KEY not in json.dumps(status) and PRIMARY_KEY not in json.dumps(status)
        infos = [m.message for m in client.log_messages if m.type == types.MessageType.Info]
        assert "kimi-k2.6 was overloaded; kimi-k2.5 answered" in infos
    assert len(primary.chat_requests) == 1  # not retried: a fallback was in hand
    assert primary.chat_requests[0].body["model"] == "kimi-k2.6"
    assert [r.body["model"] for r in second.chat_requests] == ["kimi-k2.5"]
    assert_keys_kept_apart(primary, second)


async def test_an_auth_error_is_not_served_by_the_fallback(
    primary: FakeKimi, second: FakeKimi
) -> None:
    primary.set_default(Fault.auth())
    async with session("neovim", init_options=with_fallback(primary, second), env=ENV) as client:
        with pytest.raises(JsonRpcException) as caught:
            await chat(client)
        assert caught.value.data["kind"] == "auth"
        status = await request(client, "kimi/status", None)
        assert "lastFallback" not in status and status["lastError"]["kind"] == "auth"
    assert len(primary.chat_requests) == 1 and second.requests == []


async def test_an_error_after_content_is_not_served_by_the_fallback(
    primary: FakeKimi, second: FakeKimi
) -> None:
    # A timeout is an outage a fallback may serve, but not once the answer has started.
    primary.enqueue(Fault.stall(after=2, reply=Reply(content="The answer starts", chunks=6)))
    # The stall timer (2 s of silence) rather than a 1 s total deadline: on a loaded machine
    # the first chunks may take longer than a second to arrive, and then no content was sent.
    env = {**ENV, "KIMI_LSP_STALL_SECONDS": "2"}
    async with session("neovim", init_options=with_fallback(primary, second), env=env) as client:
        with pytest.raises(JsonRpcException) as caught:
            await chat(client)
        assert caught.value.data["kind"] == "timeout"
        streamed = [d["text"] for d in client.kimi.of("kimi/chatDelta")]
        assert streamed  # content reached the editor: the fallback must not answer over it
    assert second.requests == []


async def test_the_breaker_skips_the_primary_and_probes_it_after_the_cool_down(
    primary: FakeKimi, second: FakeKimi
) -> None:
    primary.set_default(Fault.unavailable())
    second.set_default(Reply(content="fallback"))
    async with session("neovim", init_options=with_fallback(primary, second), env=ENV) as client:
        for _ in range(3):
            assert (await chat(client))["usage"]["fallback"] is True
        assert len(primary.chat_requests) == 3
        skipped = await chat(client)
        assert skipped["usage"]["fallback"] is True
        assert len(primary.chat_requests) == 3  # the open circuit skipped it
        note = await last_fallback(client)
        assert note is not None and note["kind"] == "circuit_open"
        primary.set_default(Reply(content="primary is back"))
        await request(client, "kimi/testAdvanceClock", {"seconds": 29})
        assert (await chat(client))["usage"]["fallback"] is True
        assert len(primary.chat_requests) == 3  # still cooling down
        await request(client, "kimi/testAdvanceClock", {"seconds": 1})
        probed = await chat(client)
        assert probed["content"] == "primary is back" and probed["usage"]["fallback"] is False
        assert len(primary.chat_requests) == 4
        again = await chat(client)
        assert again["usage"]["model"] == "kimi-k2.6" and len(primary.chat_requests) == 5
        totals = (await request(client, "kimi/status", None))["usage"]
        assert totals["requests"] == 7  # the session sums both models' answers
    assert len(second.chat_requests) == 5
    assert_keys_kept_apart(primary, second)


async def test_the_edit_role_serves_inline_edits_and_chat_stays_on_the_primary(
    primary: FakeKimi, second: FakeKimi
) -> None:
    second.enqueue(Reply(content=["return a ", "+ b\n", "```"]))
    primary.enqueue(Reply(content="Chat from the primary."))
    roles = {"edit": second_entry(second)}
    options = {"baseUrl": primary.base_url, "maxRetries": 0, "models": roles}
    async with session("neovim", init_options=options, env=ENV) as client:
        open_document(client, URI, SOURCE)
        edited = await request(
            client,
            "kimi/inlineEdit",
            {"textDocument": {"uri": URI}, "range": LINE_1, "instruction": "fix the bug"},
        )
        assert edited["edits"][0]["newText"] == "+"
        assert (edited["usage"]["model"], edited["usage"]["role"]) == ("kimi-k2.5", "edit")
        assert edited["usage"]["fallback"] is False
        answered = await chat(client)
        assert answered["content"] == "Chat from the primary."
        assert (answered["usage"]["model"], answered["usage"]["role"]) == ("kimi-k2.6", "chat")
        status = await request(client, "kimi/status", None)
        assert status["roles"]["edit"] == {"model": "kimi-k2.5", "baseUrl": second.base_url}
        assert status["roles"]["chat"]["baseUrl"] == primary.base_url
    assert [r.body["model"] for r in second.chat_requests] == ["kimi-k2.5"]
    assert [r.body["model"] for r in primary.chat_requests] == ["kimi-k2.6"]
    assert_keys_kept_apart(primary, second)


async def test_a_fallback_with_a_smaller_window_gets_the_context_packed_to_its_budget(
    primary: FakeKimi, second: FakeKimi
) -> None:
    big = "".join(
        f"def f{i}(x):\n    return x * {i} + {i * 7}  # step {i}\n\n" for i in range(1500)
    )
    small = {**second_entry(second), "contextWindow": 8_192, "maxOutputTokens": 1_024}
    options = {"baseUrl": primary.base_url, "maxRetries": 0, "fallback": [small]}
    primary.set_default(Fault.unavailable())
    second.enqueue(Reply(content="Packed smaller."))
    async with session("neovim", init_options=options, env=ENV) as client:
        open_document(client, URI, big)
        result = await request(
            client, "kimi/chat", {"message": "What does f3 do?", "textDocument": {"uri": URI}}
        )
        assert result["content"] == "Packed smaller." and result["usage"]["fallback"] is True
    sent_primary = json.dumps(primary.chat_requests[0].body["messages"])
    sent_second = json.dumps(second.chat_requests[0].body["messages"])
    assert "What does f3 do?" in sent_second
    assert len(sent_primary) > 60_000  # the primary's 48K-token budget took most of the file
    # The fallback's window budget is 8192 - 1024 - 1024 tokens: a few characters a token.
    assert len(sent_second) < 6_144 * 4 < len(sent_primary)


def test_kimi_lsp_chat_uses_the_fallback_too(
    primary: FakeKimi, second: FakeKimi, tmp_path: Path
) -> None:
    """The command line goes through the same router: roles and the fallback apply there."""
    config = tmp_path / "config" / "kimi-lsp" / "settings.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps(with_fallback(primary, second)), encoding="utf-8")
    primary.set_default(Fault.overloaded(retry_after=None))
    second.enqueue(Reply(content="CLI answer from the fallback."))

    def kimi_lsp_chat(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*SERVER_COMMAND, "chat", "hello", *extra],
            capture_output=True,
            text=True,
            env=server_env(ENV, home=tmp_path),
            timeout=60,
            check=False,
        )

    done = kimi_lsp_chat("--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["content"] == "CLI answer from the fallback."
    assert (answer["usage"]["model"], answer["usage"]["fallback"]) == ("kimi-k2.5", True)
    assert len(primary.chat_requests) == 1 and len(second.chat_requests) == 1
    assert_keys_kept_apart(primary, second)
    assert SECOND_KEY not in done.stderr and PRIMARY_KEY not in done.stderr
    second.enqueue(Reply(content="Plain answer, no final newline."))
    plain = kimi_lsp_chat()
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == "Plain answer, no final newline.\n"
    assert "[kimi-k2.5 via fallback: " in plain.stderr


async def test_an_inline_edit_is_re_packed_for_a_fallback_with_a_smaller_window(
    primary: FakeKimi, second: FakeKimi
) -> None:
    body = "".join(
        f"def g{i}(x):\n    return x + {i}  # a line of padding {i}\n\n" for i in range(900)
    )
    source = "def add(a, b):\n    return a - b\n\n\n" + body
    small = {**second_entry(second), "contextWindow": 8_192, "maxOutputTokens": 1_024}
    options = {"baseUrl": primary.base_url, "maxRetries": 0, "fallback": [small]}
    primary.set_default(Fault.overloaded(retry_after=None))
    second.enqueue(Reply(content=["return a ", "+ b\n", "```"]))
    async with session("neovim", init_options=options, env=ENV) as client:
        open_document(client, URI, source)
        edited = await request(
            client,
            "kimi/inlineEdit",
            {"textDocument": {"uri": URI}, "range": LINE_1, "instruction": "fix the bug"},
        )
        assert edited["edits"][0]["newText"] == "+" and edited["usage"]["fallback"] is True
    sent_primary = json.dumps(primary.chat_requests[0].body["messages"])
    sent_second = json.dumps(second.chat_requests[0].body["messages"])
    assert "fix the bug" in sent_second and "return a - b" in sent_second
    assert len(sent_second) < 6_144 * 4 < len(sent_primary)
    last = second.chat_requests[0].body["messages"][-1]
    assert last == {"role": "assistant", "content": "```python\n    ", "partial": True}
