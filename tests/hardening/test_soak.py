"""Soak: one server, thousands of edits and many chats cancelled at random moments; no leaks."""

from __future__ import annotations

import os
import random
import string
import time
from typing import Any

import pytest

from kimi_lsp.chat.conversations import MAX_CONVERSATIONS
from tests.fake_kimi import FakeKimi, Reply

from .servers import env_int, raw_server, running_fake
from .typing_client import Editor
from .wire import RawServer

pytestmark = pytest.mark.serial

DOCUMENTS = 4
DOCUMENT = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(60))
RSS_GROWTH = 0.10


def sizes(config: pytest.Config) -> tuple[int, int]:
    """(edits, chats): 10,000 / 200 with --soak-long or KIMI_SOAK=full, else 2,000 / 50."""
    if config.getoption("--soak-long", False) or os.environ.get("KIMI_SOAK") == "full":
        return 10_000, 200
    return env_int("KIMI_SOAK_EDITS", 2_000), env_int("KIMI_SOAK_CHATS", 50)


def respond(body: dict[str, Any]) -> Reply:
    """The fake's answer, chosen by a tag in the question: held at a gate, slow, or quick."""
    question = str(body["messages"][-1].get("content", ""))
    if "[gated:" in question:
        gate = question.split("[gated:", 1)[1].split("]", 1)[0]
        return Reply(content="held answer", gate=gate)
    if "[slow]" in question:
        return Reply(content="a slow answer " * 20, chunks=40, chunk_delay=0.005)
    return Reply(content="a quick answer", reasoning="hmm", chunks=3)


class Soak:
    def __init__(self, server: RawServer, fake: FakeKimi, rng: random.Random) -> None:
        self.server, self.fake, self.rng = server, fake, rng
        self.editors = [
            Editor(server, f"file:///soak/doc{i}.py", DOCUMENT) for i in range(DOCUMENTS)
        ]
        self.chats = 0
        self.outcomes: dict[str, int] = {}

    def open(self) -> None:
        for editor in self.editors:
            editor.open()

    def edits(self, count: int) -> None:
        """`count` keystrokes spread over the documents, written in one go."""
        for _ in range(count):
            editor = self.rng.choice(self.editors)
            text = editor.text
            at = self.rng.randint(0, len(text))
            if self.rng.random() < 0.55 or len(text) < 200:
                editor.type((at, at, self.rng.choice(string.ascii_letters + " \n")))
            else:
                at = min(at, len(text) - 1)
                editor.type((at, min(len(text), at + self.rng.randint(1, 4)), ""))

    def chat(self, typing: int) -> None:
        """One chat, cancelled (or not) at a random moment, with typing while it runs."""
        self.chats += 1
        n = self.chats
        how = self.rng.choice(["none", "none", "immediately", "at_the_api", "streaming"])
        # Most questions continue one of a few conversations; some start a new one.
        conversation = f"soak-{n % 7}" if self.rng.random() < 0.7 else f"soak-new-{n}"
        tag = {"at_the_api": f" [gated:soak-{n}]", "streaming": " [slow]"}.get(how, "")
        editor = self.rng.choice(self.editors)
        params = {
            "message": f"question {n}{tag}",
            "conversationId": conversation,
            "textDocument": {"uri": editor.uri},
        }
        before = len(self.fake.chat_requests)
        deltas = len(self.server.of("kimi/chatDelta"))
        msg_id = self.server.request("kimi/chat", params)
        if how == "immediately":
            self.server.cancel(msg_id)
        self.edits(typing)
        if how == "at_the_api":
            self.fake.wait_for_blocking(lambda: len(self.fake.chat_requests) > before)
            self.server.cancel(msg_id)
        elif how == "streaming":
            self.server.wait_until(
                lambda: any(d["conversationId"] == conversation and d["text"]
                            for d in self.server.of("kimi/chatDelta")[deltas:]),
            )  # fmt: skip
            self.server.cancel(msg_id)
        response = self.server.wait(msg_id, 20)
        if "error" in response:
            code = response["error"]["code"]
            assert code == -32800, f"chat {n} ({how}): {response['error']}"
            outcome = "cancelled"
        else:
            assert response["result"]["content"], f"chat {n} ({how}): empty answer"
            outcome = "answered"
        key = f"{how}/{outcome}"
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        if how in ("at_the_api", "streaming"):
            assert outcome == "cancelled", f"chat {n} ({how}) was not cancelled"

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.server.call("kimi/debugStats", None)
        return result

    def check_documents(self) -> None:
        for editor in self.editors:
            state = self.server.call("kimi/documentState", {"textDocument": {"uri": editor.uri}})
            assert state["text"] == editor.text and state["version"] == editor.version


def settle(server: RawServer, fake: FakeKimi, idle: dict[str, Any]) -> dict[str, Any]:
    """Wait (bounded, by polling the server) until its counts are back at idle values."""
    fake.wait_for_idle_blocking(timeout=20)
    deadline = time.monotonic() + 10
    while True:
        stats: dict[str, Any] = server.call("kimi/debugStats", None)
        keys = ("tasks", "openStreams", "requestsInFlight", "backgroundTasks", "progressBars")
        if all(stats[k] <= idle[k] for k in keys) or time.monotonic() > deadline:
            return stats


def test_soak_one_server_no_leaks(request: pytest.FixtureRequest) -> None:
    edits, chats = sizes(request.config)
    seed = env_int("KIMI_SOAK_SEED", random.randrange(2**32))
    rng = random.Random(seed)
    started = time.monotonic()
    with running_fake() as fake, raw_server(fake) as server:
        fake.set_default(respond)
        soak = Soak(server, fake, rng)
        soak.open()
        # Warm-up: every lazily loaded part (openai, tokenizer, context engine, conversations)
        # is in memory before the first measurement.
        warm_chats = max(5, chats // 10)
        for _ in range(warm_chats):
            soak.chat(typing=edits // 10 // warm_chats)
        soak.check_documents()
        idle = settle(server, fake, soak.stats())
        rss_before = server.rss_kib()
        per_chat = (edits - edits // 10) // chats
        for _ in range(chats):
            soak.chat(typing=per_chat)
        soak.check_documents()
        after = settle(server, fake, idle)
        rss_after = server.rss_kib()
        fake_stats = fake.stats
        elapsed = time.monotonic() - started
        print(
            f"\nsoak: {sum(len(e.user_edits) for e in soak.editors)} edits, {soak.chats} chats "
            f"{soak.outcomes} in {elapsed:.1f} s (seed {seed}, KIMI_SOAK_SEED); RSS "
            f"{rss_before} -> {rss_after} KiB ({(rss_after / rss_before - 1) * 100:+.1f}%); "
            f"idle {idle}; after {after}; streams opened {fake_stats.streams_opened}, "
            f"completed {fake_stats.streams_completed}, closed by client "
            f"{fake_stats.streams_client_closed}"
        )
        assert after["tasks"] <= idle["tasks"], f"leaked tasks: {idle} -> {after}"
        assert after["openStreams"] == 0 and after["requestsInFlight"] == 0, after
        assert after["backgroundTasks"] <= idle["backgroundTasks"], after
        assert after["progressBars"] == 0 and after["pendingEdits"] == 0, after
        assert after["conversations"] <= MAX_CONVERSATIONS, after
        assert (
            fake_stats.streams_opened
            == fake_stats.streams_completed + fake_stats.streams_client_closed
        ), fake_stats
        assert fake_stats.in_flight == 0
        assert (
            soak.outcomes.get("at_the_api/cancelled", 0)
            + soak.outcomes.get("streaming/cancelled", 0)
            > 0
        ), "no chat was cancelled at the API: the soak did not test cancellation"
        assert rss_after <= rss_before * (1 + RSS_GROWTH), (
            f"RSS grew {rss_before} -> {rss_after} KiB"
        )
        assert not server.tracebacks(), "".join(server.stderr_lines[-40:])
