"""Protocol fuzzing of the real server over stdio: it never dies, hangs or leaks a traceback."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from tests.fake_kimi import FakeKimi

from .fuzz_messages import OPEN_URI, SANITY_URI, Frame, messages
from .servers import Ids, env_int, raw_server, run_seed, running_fake
from .wire import RawServer

pytestmark = pytest.mark.serial

MESSAGES = env_int("KIMI_FUZZ_MESSAGES", 10_000)
BATCH = 80
ALLOWED_CODES = {-32700, -32600, -32601, -32602, -32800, -32803}
KINDS = {
    "auth", "quota", "rate_limit", "overloaded", "context_overflow", "content_filter",
    "network", "timeout", "server", "bad_response", "stale_document", "config",
}  # fmt: skip
LEAKS = ("Traceback", "NoneType", "object has no attribute", 'File "', "Internal error")
SANITY_TEXT = "def add(a, b):\n    return a - b\n"


def check_response(response: dict[str, Any]) -> str | None:
    """What is wrong with one response, or None."""
    if ("result" in response) == ("error" in response):
        return "a response must carry exactly one of result and error"
    error = response.get("error")
    if error is None:
        return None
    code, message = error.get("code"), error.get("message")
    if code not in ALLOWED_CODES:
        return f"unexpected error code {code}: {message!r}"
    if not isinstance(message, str) or not message.strip():
        return "an error without a message"
    if any(leak in message for leak in LEAKS):
        return f"the message leaks internals: {message!r}"
    if code == -32803 and (error.get("data") or {}).get("kind") not in KINDS:
        return f"RequestFailed without a known data.kind: {error!r}"
    return None


def sanity(server: RawServer) -> None:
    status = server.call("kimi/status", None, timeout=15)
    assert status["version"]
    actions = server.call(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": SANITY_URI},
            "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 5}},
            "context": {"diagnostics": []},
        },
        timeout=15,
    )
    assert actions, "no code actions on a valid open document after the batch"


def open_documents(server: RawServer) -> None:
    for uri in (SANITY_URI, OPEN_URI):
        server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                              "text": SANITY_TEXT}},
        )  # fmt: skip


class Fuzzer:
    """Sends batches to one server and checks the invariants after each."""

    def __init__(self, server: RawServer) -> None:
        self.server = server
        self.ids = Ids()
        self.sent = 0
        self.batches = 0

    def run_batch(self, frames: list[Frame], label: str) -> None:
        server = self.server
        tracked = [msg_id for f in frames for msg_id in f.tracked]
        server.write(b"".join(f.data for f in frames))
        self.sent += len(frames)
        self.batches += 1
        try:
            server.wait_all(tracked, timeout=60)
        except TimeoutError as exc:
            raise AssertionError(f"{label}: {exc}; alive={server.alive()}") from None
        responses = server.responses_now()
        for msg_id in tracked:
            answers = responses[msg_id]
            assert len(answers) == 1, f"{label}: {len(answers)} responses to {msg_id!r}"
            problem = check_response(answers[0])
            assert problem is None, f"{label}: request {msg_id!r}: {problem}"
        for msg_id, answers in responses.items():
            if isinstance(msg_id, str) and msg_id.startswith("junk-"):
                assert len(answers) <= 1, f"{label}: {len(answers)} responses to {msg_id!r}"
        assert server.alive(), f"{label}: the server died"
        sanity(server)
        # Checked after sanity's round trip: an executed frame would have been answered by now.
        responses = server.responses_now()
        for msg_id in (msg_id for f in frames for msg_id in f.forbidden):
            assert msg_id not in responses, f"{label}: an HTTP-wrapped request ran: {msg_id!r}"
        tracebacks = server.tracebacks()
        assert not tracebacks, f"{label}: stderr has tracebacks"


def batch_strategy(ids: Ids) -> st.SearchStrategy[list[Frame]]:
    return st.lists(messages(ids), min_size=BATCH // 4, max_size=BATCH)


def describe(frames: list[Frame]) -> str:
    return "\n".join(repr(f.data[:300]) for f in frames)


def test_fuzzed_messages_never_kill_hang_or_leak() -> None:
    started = time.monotonic()
    base_seed = run_seed("KIMI_FUZZ_SEED")
    with running_fake() as fake, raw_server(fake) as server:
        open_documents(server)
        fuzzer = Fuzzer(server)
        round_ = 0
        while fuzzer.sent < MESSAGES:
            round_seed = base_seed + round_
            round_ += 1
            run_round(fuzzer, fake, round_seed)
        elapsed = time.monotonic() - started
        print(
            f"\nfuzz: {fuzzer.sent} messages in {fuzzer.batches} batches, {elapsed:.1f} s, "
            f"seed {base_seed} (KIMI_FUZZ_SEED), {fake.stats.streams_opened} model streams"
        )
        assert fuzzer.sent >= MESSAGES
        fake.wait_for_idle_blocking(timeout=30)
        stats = fake.stats
        assert stats.streams_opened == stats.streams_completed + stats.streams_client_closed


def run_round(fuzzer: Fuzzer, fake: FakeKimi, round_seed: int) -> None:
    @seed(round_seed)
    @settings(
        max_examples=25,
        phases=[Phase.generate],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(batch_strategy(fuzzer.ids))
    def batch(frames: list[Frame]) -> None:
        label = f"seed {round_seed} (KIMI_FUZZ_SEED), batch {fuzzer.batches}"
        try:
            fuzzer.run_batch(frames, label)
        except AssertionError as exc:
            log = "".join(fuzzer.server.stderr_lines[-80:])
            raise AssertionError(f"{exc}\nbatch:\n{describe(frames)}\nserver log:\n{log}") from None

    batch()
