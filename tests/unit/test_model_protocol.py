"""Wire-level cases of the model client through `httpx2.MockTransport`: usage placement, odd
but legal chunk shapes, broken streams, Retry-After dates, SDK client reuse."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest

from kimi_lsp.config import Pricing, Settings
from kimi_lsp.errors import ErrorKind, RequestFailedError
from kimi_lsp.model.client import ModelClient
from kimi_lsp.model.params import FORBIDDEN
from kimi_lsp.model.types import ModelRequest, ReasoningDelta, ToolCallDelta

from .conftest import SleepRecorder

KEY = "sk-mock-0123456789abcdefghijkl"
BASE = "https://api.example.test/v1"
USER = [{"role": "user", "content": "hi"}]
Handler = Callable[[httpx2.Request], httpx2.Response]


def chunk(
    delta: dict[str, Any] | None = None,
    finish: str | None = None,
    choice_usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "delta": delta or {}, "finish_reason": finish}
    if choice_usage is not None:
        choice["usage"] = choice_usage
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "kimi-k2.6",
            "choices": [choice]}  # fmt: skip


def trailing(usage: dict[str, Any]) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "kimi-k2.6",
            "choices": [], "usage": usage}  # fmt: skip


def sse(*payloads: dict[str, Any], done: bool = True) -> bytes:
    lines = [f"data: {json.dumps(p)}\n\n" for p in payloads]
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()


def streaming(body: bytes | AsyncIterator[bytes]) -> httpx2.Response:
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)


class Mock:
    """A scripted endpoint: each request pops the next handler; requests are recorded."""

    def __init__(self, *handlers: Handler) -> None:
        self.handlers = list(handlers)
        self.requests: list[httpx2.Request] = []
        self.bodies: list[dict[str, Any]] = []
        self.clients_made = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        self.bodies.append(json.loads(request.content))
        return self.handlers.pop(0)(request)

    def factory(self) -> httpx2.AsyncClient:
        self.clients_made += 1
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self))

    def client(self, sleep: SleepRecorder | None = None, **settings: Any) -> ModelClient:
        settings.setdefault("api_key", KEY)
        settings.setdefault("base_url", BASE)
        return ModelClient(
            Settings(**settings), http_client_factory=self.factory, sleep=sleep or SleepRecorder()
        )


def reply(body: bytes) -> Handler:
    return lambda request: streaming(body)


CONTENT = [
    chunk({"role": "assistant", "content": ""}),
    chunk({"content": "Hel"}),
    chunk({"content": "lo"}),
]


async def test_usage_only_inside_the_finishing_choice() -> None:
    usage = {"prompt_tokens": 100, "completion_tokens": 7, "total_tokens": 107, "cached_tokens": 64}
    mock = Mock(reply(sse(*CONTENT, chunk({}, "stop", choice_usage=usage))))
    client = mock.client(pricing=Pricing(1.0, 0.5, 2.0, "CNY"))
    result = await client.complete(ModelRequest(USER))
    assert result.content == "Hello"
    assert (result.usage.prompt_tokens, result.usage.cached_tokens) == (100, 64)
    assert result.usage.cost == pytest.approx((36 * 1.0 + 64 * 0.5 + 7 * 2.0) / 1e6)
    assert result.usage.currency == "CNY" and client.totals.prompt_tokens == 100
    await client.aclose()


async def test_usage_only_in_a_trailing_chunk_with_openai_cache_details() -> None:
    usage = {
        "prompt_tokens": 300,
        "completion_tokens": 9,
        "prompt_tokens_details": {"cached_tokens": 256},
    }
    mock = Mock(reply(sse(*CONTENT, chunk({}, "stop"), trailing(usage))))
    client = mock.client()
    result = await client.complete(ModelRequest(USER))
    assert (result.usage.prompt_tokens, result.usage.cached_tokens) == (300, 256)
    await client.aclose()


async def test_usage_in_both_places_is_counted_once() -> None:
    inside = {"prompt_tokens": 500, "completion_tokens": 5, "total_tokens": 505}
    after = {**inside, "prompt_tokens_details": {"cached_tokens": 256}}
    mock = Mock(
        reply(sse(*CONTENT, chunk({}, "stop", choice_usage=inside), trailing(after))),
        reply(sse(*CONTENT, chunk({}, "stop", choice_usage=inside), trailing(after))),
    )
    client = mock.client()
    await client.complete(ModelRequest(USER))
    await client.complete(ModelRequest(USER))
    totals = client.totals
    assert (
        totals.requests,
        totals.prompt_tokens,
        totals.cached_tokens,
        totals.completion_tokens,
    ) == (
        2,
        1000,
        512,
        10,
    )
    await client.aclose()


async def test_request_shape_on_the_wire() -> None:
    mock = Mock(reply(sse(*CONTENT, chunk({}, "stop"))))
    client = mock.client(max_output_tokens=2048)
    await client.complete(ModelRequest(USER, "edit", prefix="class Foo:\n"))
    body, request = mock.bodies[0], mock.requests[0]
    assert request.url == BASE + "/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert not set(FORBIDDEN) & set(body)
    assert body["max_completion_tokens"] == 2048 and body["thinking"] == {"type": "disabled"}
    assert body["messages"][-1] == {"role": "assistant", "content": "class Foo:\n", "partial": True}
    assert KEY not in request.content.decode()
    await client.aclose()


async def test_done_without_finish_reason_is_a_bad_response() -> None:
    mock = Mock(reply(sse(*CONTENT)))
    client = mock.client()
    with pytest.raises(RequestFailedError) as caught:
        await client.complete(ModelRequest(USER))
    assert caught.value.kind is ErrorKind.BAD_RESPONSE
    assert "before the answer was complete" in caught.value.message
    assert len(mock.requests) == 1  # never retried once chunks arrived
    await client.aclose()


async def test_a_non_sse_200_is_a_bad_response() -> None:
    html = httpx2.Response(
        200, headers={"content-type": "text/html"}, content=b"<html>login</html>"
    )
    mock = Mock(lambda request: html)
    client = mock.client()
    with pytest.raises(RequestFailedError) as caught:
        await client.complete(ModelRequest(USER))
    assert caught.value.kind is ErrorKind.BAD_RESPONSE
    await client.aclose()


async def test_a_break_after_the_finish_reason_still_completes() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield sse(
            *CONTENT, chunk({}, "stop", {"prompt_tokens": 3, "completion_tokens": 2}), done=False
        )
        raise httpx2.ReadError("connection reset")

    mock = Mock(lambda request: streaming(body()))
    client = mock.client()
    result = await client.complete(ModelRequest(USER))
    assert result.content == "Hello" and result.usage.prompt_tokens == 3
    await client.aclose()


async def test_a_break_before_the_finish_reason_is_not_retried() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield sse(*CONTENT, done=False)
        raise httpx2.ReadError("connection reset")

    mock = Mock(lambda request: streaming(body()), reply(sse(*CONTENT, chunk({}, "stop"))))
    client = mock.client()
    with pytest.raises(RequestFailedError) as caught:
        await client.complete(ModelRequest(USER))
    assert caught.value.kind is ErrorKind.BAD_RESPONSE and "broke off" in caught.value.message
    assert len(mock.requests) == 1
    await client.aclose()


async def test_retry_after_as_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 7, usegmt=True)
    limited = httpx2.Response(
        429,
        headers={"retry-after": when},
        json={"error": {"message": "slow down", "type": "rate_limit_reached_error"}},
    )
    mock = Mock(lambda request: limited, reply(sse(*CONTENT, chunk({}, "stop"))))
    sleep = SleepRecorder()
    client = mock.client(sleep)
    assert (await client.complete(ModelRequest(USER))).content == "Hello"
    assert len(sleep.delays) == 1 and 5.0 <= sleep.delays[0] <= 7.5
    await client.aclose()


async def test_connect_errors_are_retried_then_reported_as_network() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("[Errno -2] Name or service not known", request=request)

    mock = Mock(refuse, refuse, reply(sse(*CONTENT, chunk({}, "stop"))), refuse, refuse)
    sleep = SleepRecorder()
    client = mock.client(sleep, max_retries=2)
    assert (await client.complete(ModelRequest(USER))).attempts == 3
    mock.handlers = [refuse, refuse, refuse]
    with pytest.raises(RequestFailedError) as caught:
        await client.complete(ModelRequest(USER))
    assert caught.value.kind is ErrorKind.NETWORK
    assert (
        "host name could not be resolved" in caught.value.message and BASE in caught.value.message
    )
    assert len(sleep.delays) == 4
    await client.aclose()


async def test_relay_field_variants() -> None:
    """`delta.reasoning` instead of `reasoning_content`; tool calls without index or id."""
    payloads = [
        chunk({"role": "assistant"}),
        chunk({"reasoning": "think"}),
        chunk({"tool_calls": [{"function": {"name": "grep", "arguments": '{"q":'}}]}),
        chunk({"tool_calls": [{"function": {"arguments": '"x"}'}}]}),
        chunk({}, "tool_calls"),
    ]
    mock = Mock(reply(sse(*payloads)))
    client = mock.client()
    events: list[Any] = []
    result = await client.complete(ModelRequest(USER, request_id="r7"), on_event=events.append)
    assert [e.text for e in events if isinstance(e, ReasoningDelta)] == ["think"]
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [
        ("call_r7_0", "grep", '{"q":"x"}')
    ]
    assert [e.name for e in events if isinstance(e, ToolCallDelta)] == ["grep", None]
    await client.aclose()


async def test_in_stream_content_filter_error() -> None:
    error = {"error": {"message": "The request was rejected because it was considered high risk",
                       "type": "content_filter"}}  # fmt: skip
    mock = Mock(reply(sse(*CONTENT, error, done=False)))
    client = mock.client()
    with pytest.raises(RequestFailedError) as caught:
        await client.complete(ModelRequest(USER))
    assert caught.value.kind is ErrorKind.CONTENT_FILTER
    await client.aclose()


async def test_sdk_client_is_reused_and_rebuilt_on_relevant_changes() -> None:
    ok = sse(*CONTENT, chunk({}, "stop"))
    mock = Mock(*[reply(ok)] * 5)
    client = mock.client()
    await client.complete(ModelRequest(USER))
    await client.complete(ModelRequest(USER))
    assert mock.clients_made == 1
    client.update_settings(Settings(api_key=KEY, base_url=BASE, max_concurrent_requests=9))
    await client.complete(ModelRequest(USER))
    assert mock.clients_made == 1 and client.limiter.limit == 9
    client.update_settings(Settings(api_key=KEY, base_url=BASE, request_timeout_seconds=30))
    await client.complete(ModelRequest(USER))
    assert mock.clients_made == 2
    client.update_settings(Settings(api_key="sk-other-0123456789abcdef", base_url=BASE))
    await client.complete(ModelRequest(USER))
    assert mock.clients_made == 3
    assert mock.requests[-1].headers["authorization"] == "Bearer sk-other-0123456789abcdef"
    await client.aclose()
