"""The model client when things go wrong: error kinds and sentences, retries, the fair queue,
timeouts, cancellation, and the API key kept out of everything."""

from __future__ import annotations

import asyncio
import logging
import socket
from contextlib import aclosing
from typing import Any

import pytest

from kimi_lsp.config import Settings
from kimi_lsp.errors import ErrorKind, RequestFailedError
from kimi_lsp.model.client import ModelClient
from kimi_lsp.model.types import ContentDelta, ModelRequest
from tests.fake_kimi import TEST_KEY, ErrorReply, FakeKimi, Fault, Reply

from .conftest import MakeModelClient, SleepRecorder

USER = [{"role": "user", "content": "hello"}]
LONG = Reply(content="word " * 400, chunks=200, chunk_delay=0.02)


async def fails(client: ModelClient, request: ModelRequest | None = None) -> RequestFailedError:
    with pytest.raises(RequestFailedError) as caught:
        await client.complete(request or ModelRequest(USER))
    return caught.value


# ---------------------------------------------------------------- every error class


@pytest.mark.parametrize(
    ("item", "kind", "phrases"),
    [
        (Fault.auth(), ErrorKind.AUTH,
         ["rejected the API key", "api.moonshot.ai and api.moonshot.cn are not interchangeable",
          "kimi.baseUrl"]),
        (Fault.auth("incorrect_api_key_error"), ErrorKind.AUTH, ["rejected the API key"]),
        (Fault.permission_denied(), ErrorKind.AUTH, ["kimi-k2.6", "{base}"]),
        (Fault.not_found(), ErrorKind.CONFIG, ["kimi-k2.6", "{base}", "kimi.model"]),
        (Fault.quota(), ErrorKind.QUOTA,
         ["balance is exhausted", "recharge at platform.moonshot.ai"]),
        (Fault.rate_limit(retry_after=2), ErrorKind.RATE_LIMIT, ["rate limit", "wait 2.0 s"]),
        (Fault.overloaded(), ErrorKind.OVERLOADED, ["overloaded"]),
        (Fault.content_filter(), ErrorKind.CONTENT_FILTER, ["high risk", "not retried"]),
        (Fault.server_error(), ErrorKind.SERVER, ["server error", "{base}"]),
        (Fault.unavailable(), ErrorKind.SERVER, ["HTTP 503"]),
        (Fault.status(502, "server_error", "x", body="<html><h1>502 Bad Gateway</h1></html>"),
         ErrorKind.SERVER, ["502 Bad Gateway"]),
        (Fault.cut(after=3), ErrorKind.BAD_RESPONSE,
         ["broke off after it had started", "not retried"]),
        (Fault.malformed(after=3), ErrorKind.BAD_RESPONSE, ["malformed", "broke off"]),
        (Fault.stream_error(after=3), ErrorKind.BAD_RESPONSE,
         ["error in the middle of the answer", "internal error", "broke off"]),
        (Fault.content_filter_midstream(after=3), ErrorKind.CONTENT_FILTER,
         ["part-way", "high risk"]),
        (Reply(content="", reasoning="long thoughts", finish_reason="length"),
         ErrorKind.CONTEXT_OVERFLOW, ["kimi.maxOutputTokens = 32768", "reasoning"]),
    ],
)  # fmt: skip
async def test_error_kinds_and_sentences(
    item: Any,
    kind: ErrorKind,
    phrases: list[str],
    model_fake: FakeKimi,
    make_model_client: MakeModelClient,
) -> None:
    model_fake.enqueue(item)
    client = make_model_client(max_retries=0)
    error = await fails(client)
    assert error.kind is kind
    for phrase in phrases:
        assert phrase.format(base=model_fake.base_url) in error.message
    assert TEST_KEY not in error.message
    assert client.last_error is not None
    assert client.last_error["kind"] == kind.value and client.last_error["message"] == error.message
    assert client.last_error["at"].endswith("+00:00")
    # The client is still usable afterwards.
    assert (await client.complete(ModelRequest(USER))).content == "ok"


async def test_context_overflow_from_the_api(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    client = make_model_client()
    error = await fails(client, ModelRequest(USER, max_output_tokens=262_144))
    assert error.kind is ErrorKind.CONTEXT_OVERFLOW
    assert "exceeded model token limit : 262144" in error.message
    assert len(model_fake.chat_requests) == 1


async def test_truncated_answer_is_a_flagged_result(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.enqueue(Reply(content="half an ans", finish_reason="length"))
    result = await make_model_client().complete(ModelRequest(USER))
    assert result.truncated and result.content == "half an ans"


async def test_usage_of_billed_failures_is_still_counted(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.enqueue(Reply(reasoning="r" * 40, finish_reason="length"))
    client = make_model_client()
    await fails(client)
    assert client.totals.requests == 1 and client.totals.completion_tokens > 0


async def test_continuation_refused_by_the_endpoint_names_prefix_mode(
    make_model_client: MakeModelClient,
) -> None:
    async with FakeKimi(unaccepted_prefix="reject") as fake:
        client = make_model_client(fake, prefix_mode="prefix")
        error = await fails(client, ModelRequest(USER, "edit", prefix="def f():\n    "))
        assert error.kind is ErrorKind.CONFIG and "kimi.prefixMode" in error.message


async def test_missing_key_fails_before_any_network_call(model_fake: FakeKimi) -> None:
    client = ModelClient(Settings(api_key=None, base_url=model_fake.base_url))
    error = await fails(client)
    assert error.kind is ErrorKind.CONFIG
    assert error.message.startswith(
        "Kimi API key missing: set MOONSHOT_API_KEY or the kimi.apiKey setting"
    )
    assert model_fake.requests == [] and model_fake.stats.connections_opened == 0
    await client.aclose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused_is_network_and_names_the_base_url(
    make_model_client: MakeModelClient, recorded_sleep: SleepRecorder
) -> None:
    base = f"http://127.0.0.1:{_closed_port()}/v1"
    client = make_model_client(base_url=base, max_retries=2)
    error = await fails(client)
    assert error.kind is ErrorKind.NETWORK
    assert base in error.message and "connection refused" in error.message
    assert "3 attempts" in error.message and len(recorded_sleep.delays) == 2


# ---------------------------------------------------------------- retries


async def test_transient_failures_are_retried_with_backoff(
    model_fake: FakeKimi, make_model_client: MakeModelClient, recorded_sleep: SleepRecorder
) -> None:
    model_fake.enqueue(
        Fault.rate_limit(retry_after=3),
        Fault.overloaded(retry_after=1.5),
        Fault.server_error(),
        Reply(content="finally"),
    )
    client = make_model_client(max_retries=3)
    result = await client.complete(ModelRequest(USER))
    assert result.content == "finally" and result.attempts == 4
    assert [r.status for r in model_fake.chat_requests] == [429, 429, 500, 200]
    assert len(recorded_sleep.delays) == 3
    assert recorded_sleep.delays[0] >= 3.0 and recorded_sleep.delays[1] >= 1.5
    assert 0 <= recorded_sleep.delays[2] <= 2.0  # third retry: full jitter up to 0.5 * 2**2
    assert client.totals.requests == 1


async def test_retries_give_up_after_max_retries(
    model_fake: FakeKimi, make_model_client: MakeModelClient, recorded_sleep: SleepRecorder
) -> None:
    model_fake.enqueue(*[Fault.unavailable() for _ in range(5)])
    client = make_model_client(max_retries=2)
    error = await fails(client)
    assert error.kind is ErrorKind.SERVER and "Gave up after 3 attempts" in error.message
    assert len(model_fake.chat_requests) == 3 and len(recorded_sleep.delays) == 2


async def test_retry_after_is_honoured_in_real_time(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.enqueue(Fault.rate_limit(retry_after=0.3), Fault.unavailable(retry_after=0.2))
    waits: list[tuple[float, int, int]] = []  # (delay, requests seen before, requests seen after)

    async def sleep(seconds: float) -> None:
        before = len(model_fake.chat_requests)
        await asyncio.sleep(seconds)  # really waits: the retry must not start meanwhile
        waits.append((seconds, before, len(model_fake.chat_requests)))

    client = make_model_client(sleep=sleep, max_retries=2)
    assert (await client.complete(ModelRequest(USER))).content == "ok"
    assert len(model_fake.chat_requests) == 3
    (first, before1, after1), (second, before2, after2) = waits
    assert first >= 0.3 and second >= 0.2  # at least what Retry-After asked for
    assert (before1, after1, before2, after2) == (1, 1, 2, 2)  # each retry waited its turn


@pytest.mark.parametrize(
    "item",
    [
        Fault.quota(),
        Fault.auth(),
        Fault.permission_denied(),
        Fault.not_found(),
        Fault.content_filter(),
        Fault.status(400, "invalid_request_error", "Invalid request: something"),
        Fault.cut(after=3),
        Fault.malformed(after=2),
        Fault.stream_error(after=2),
        Fault.content_filter_midstream(after=2),
    ],
)
async def test_never_retried(
    item: Any,
    model_fake: FakeKimi,
    make_model_client: MakeModelClient,
    recorded_sleep: SleepRecorder,
) -> None:
    model_fake.enqueue(item, Reply(content="must not be fetched"))
    client = make_model_client(max_retries=3)
    await fails(client)
    assert len(model_fake.chat_requests) == 1 and recorded_sleep.delays == []


async def test_a_cut_before_the_first_chunk_is_retried(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.enqueue(Fault.cut(after=0), Reply(content="second try"))
    result = await make_model_client().complete(ModelRequest(USER))
    assert result.content == "second try" and len(model_fake.chat_requests) == 2


async def test_a_retry_after_beyond_the_deadline_fails_at_once(
    model_fake: FakeKimi, make_model_client: MakeModelClient, recorded_sleep: SleepRecorder
) -> None:
    model_fake.enqueue(Fault.rate_limit(retry_after=30))
    client = make_model_client(request_timeout_seconds=5)
    error = await fails(client)
    assert error.kind is ErrorKind.RATE_LIMIT and error.retry_after == 30
    assert recorded_sleep.delays == [] and len(model_fake.chat_requests) == 1


# ---------------------------------------------------------------- concurrency


async def _until(predicate: Any, rounds: int = 200) -> None:
    """Let other tasks run until `predicate()` holds (no wall-clock waiting)."""
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def test_concurrency_limit_queues_fairly(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.set_default(lambda body: Reply(content=body["messages"][0]["content"], gate="go"))
    client = make_model_client(max_concurrent_requests=1)
    names = ["a", "b", "c", "d", "e"]
    tasks: list[asyncio.Task[Any]] = []
    for name in names:
        request = ModelRequest([{"role": "user", "content": name}])
        tasks.append(asyncio.create_task(client.complete(request)))
        if name == "a":
            await model_fake.wait_for_in_flight(1)
        else:
            await _until(lambda: client.limiter.queued == len(tasks) - 1)
    model_fake.open_gate("go")
    results = await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert [r.content for r in results] == names
    assert [r.body["messages"][0]["content"] for r in model_fake.chat_requests] == names
    assert model_fake.stats.max_in_flight == 1
    assert all(r.status == 200 for r in model_fake.chat_requests)


async def test_concurrency_limit_of_several(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.set_default(Reply(content="x", gate="go"))
    client = make_model_client(max_concurrent_requests=2)
    tasks = [asyncio.create_task(client.complete(ModelRequest(USER))) for _ in range(5)]
    await model_fake.wait_for_in_flight(2)
    await _until(lambda: client.limiter.queued == 3)
    assert model_fake.stats.in_flight == 2
    model_fake.open_gate("go")
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert model_fake.stats.max_in_flight == 2 and len(model_fake.chat_requests) == 5


async def test_a_cancelled_waiter_leaves_the_queue(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.set_default(lambda body: Reply(content=body["messages"][0]["content"], gate="go"))
    client = make_model_client(max_concurrent_requests=1)

    def start(name: str) -> asyncio.Task[Any]:
        return asyncio.create_task(
            client.complete(ModelRequest([{"role": "user", "content": name}]))
        )

    first = start("a")
    await model_fake.wait_for_in_flight(1)
    second, third = start("b"), start("c")
    await _until(lambda: client.limiter.queued == 2)
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    assert client.limiter.queued == 1
    model_fake.open_gate("go")
    done = await asyncio.wait_for(asyncio.gather(first, third), 10)
    assert [r.content for r in done] == ["a", "c"]
    assert [r.body["messages"][0]["content"] for r in model_fake.chat_requests] == ["a", "c"]
    assert (client.limiter.in_use, client.limiter.queued) == (0, 0)


async def test_update_settings_resizes_the_limit_and_switches_endpoint(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.set_default(Reply(content="old", gate="go"))
    client = make_model_client(max_concurrent_requests=1)
    tasks = [asyncio.create_task(client.complete(ModelRequest(USER))) for _ in range(3)]
    await model_fake.wait_for_in_flight(1)
    await _until(lambda: client.limiter.queued == 2)
    client.update_settings(
        Settings(api_key=TEST_KEY, base_url=model_fake.base_url, max_concurrent_requests=3)
    )
    await model_fake.wait_for_in_flight(3)
    model_fake.open_gate("go")
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    async with FakeKimi(api_keys=("sk-second-key-0123456789",)) as other:
        other.enqueue(Reply(content="new"))
        client.update_settings(
            Settings(api_key="sk-second-key-0123456789", base_url=other.base_url)
        )
        assert (await client.complete(ModelRequest(USER))).content == "new"
        assert other.last_request.headers["authorization"] == "Bearer sk-second-key-0123456789"


# ---------------------------------------------------------------- timeouts


async def test_stall_in_the_middle_of_the_answer(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.enqueue(Fault.stall(after=3))
    client = make_model_client(client_options={"stall_timeout": 0.3}, max_retries=3)
    error = await fails(client)
    # The stall timer (not the 120 s request timeout) ended it: the message names the stall.
    assert error.kind is ErrorKind.TIMEOUT
    assert "sent nothing for 0.3 s in the middle of the answer" in error.message
    assert "not retried" in error.message
    record = await model_fake.wait_for_disconnect()
    assert record.outcome == "client_disconnected" and len(model_fake.chat_requests) == 1
    assert record.events_sent == 3  # the three events before the stall, then silence


async def test_stall_before_the_first_chunk_is_retried(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.enqueue(Reply(content="late", delay=30), Reply(content="on time"))
    client = make_model_client(client_options={"stall_timeout": 0.3})
    assert (await client.complete(ModelRequest(USER))).content == "on time"
    assert len(model_fake.chat_requests) == 2
    model_fake.enqueue(Reply(content="late", delay=30))
    error = await fails(make_model_client(client_options={"stall_timeout": 0.3}, max_retries=0))
    assert error.kind is ErrorKind.TIMEOUT and "before the answer began" in error.message


async def test_total_timeout(model_fake: FakeKimi, make_model_client: MakeModelClient) -> None:
    model_fake.enqueue(Reply(content="slow " * 50, chunks=50, chunk_delay=0.05))
    client = make_model_client(request_timeout_seconds=0.5)
    error = await fails(client)
    assert error.kind is ErrorKind.TIMEOUT and "kimi.requestTimeoutSeconds (0.5 s)" in error.message
    record = await model_fake.wait_for_disconnect()
    # The answer (50 chunks over 2.5 s) was cut off, not read to its end.
    assert record.outcome == "client_disconnected" and record.events_sent < 51


# ---------------------------------------------------------------- cancellation


async def test_cancelling_mid_stream_closes_the_http_stream_at_once(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.enqueue(LONG)
    client = make_model_client()
    first_delta = asyncio.Event()

    def on_event(event: Any) -> None:
        if isinstance(event, ContentDelta):
            first_delta.set()

    task = asyncio.create_task(client.complete(ModelRequest(USER), on_event=on_event))
    await asyncio.wait_for(first_delta.wait(), 30)  # a hang guard
    task.cancel()
    record = await model_fake.wait_for_disconnect()
    # Closed, not drained: the fake never got to send the rest of the 200 chunks.
    assert record.outcome == "client_disconnected" and record.events_sent < 201
    with pytest.raises(asyncio.CancelledError):
        await task
    assert client.limiter.in_use == 0 and client.last_error is None


async def test_cancelling_before_the_headers_closes_the_connection(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.enqueue(Reply(content="never", gate="held"))
    client = make_model_client()
    task = asyncio.create_task(client.complete(ModelRequest(USER)))
    await model_fake.wait_for_in_flight(1)
    task.cancel()
    # The gate never opens: only the cancel can end this request.
    record = await model_fake.wait_for_disconnect()
    assert record.outcome == "client_disconnected" and record.events_sent == 0
    await asyncio.gather(task, return_exceptions=True)


async def test_closing_the_stream_early_closes_the_http_stream(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.enqueue(LONG)
    client = make_model_client()
    async with aclosing(client.stream(ModelRequest(USER))) as events:
        async for event in events:
            if isinstance(event, ContentDelta):
                break
    record = await model_fake.wait_for_disconnect()
    assert record.outcome == "client_disconnected" and record.events_sent < 201
    assert client.limiter.in_use == 0


# ---------------------------------------------------------------- the key stays secret


async def test_the_key_appears_nowhere_but_the_header(caplog: pytest.LogCaptureFixture) -> None:
    key = "sk-" + "Zq7" * 16
    caplog.set_level(logging.DEBUG)
    async with FakeKimi(api_keys=None) as fake:
        fake.enqueue(
            ErrorReply(401, "invalid_authentication_error", f"Incorrect API key provided: {key}"),
            ErrorReply(400, "invalid_request_error", f"bad request for {key}"),
            Fault.rate_limit(retry_after=0),
            Fault.stream_error(after=2, error={"message": f"key {key} broke", "type": "x"}),
            Reply(content="fine"),
        )
        client = ModelClient(
            Settings(api_key=key, base_url=fake.base_url, max_retries=1),
            sleep=SleepRecorder(),
        )
        messages = []
        for _ in range(3):
            error = await fails(client)
            messages += [error.message, str(error), repr(error)]
        assert (await client.complete(ModelRequest(USER))).content == "fine"
        await client.aclose()
        for text in [*messages, str(client.last_error), caplog.text]:
            assert key not in text
        assert "[REDACTED]" in messages[3] and "[REDACTED]" in messages[6]
        for record in fake.requests:
            assert key.encode() not in record.raw_body
            assert record.headers["authorization"] == f"Bearer {key}"
