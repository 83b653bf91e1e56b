"""The model client against the fake Kimi API: streaming, request shape, thinking, prefix
continuation, usage and cost."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_lsp.config import Pricing, Settings
from kimi_lsp.model.params import FORBIDDEN
from kimi_lsp.model.prefix import should_detect
from kimi_lsp.model.types import (
    Completed,
    ContentDelta,
    ModelRequest,
    ModelResult,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
    UsageTotals,
)
from tests.fake_kimi import TEST_KEY, FakeKimi, Reply, ToolCall

from .conftest import MakeModelClient

USER = [{"role": "user", "content": "hello"}]
PREFIX = "def handler(event, context):\n    "
LONG_PREFIX = "def handler(event, context):\n    " + "total = compute(event, context)\n    " * 3


async def collect(client: Any, request: ModelRequest) -> tuple[list[StreamEvent], ModelResult]:
    events: list[StreamEvent] = []
    result = await client.complete(request, on_event=events.append)
    assert isinstance(events[-1], Completed) and events[-1].result is result
    return events, result


def content_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


# ---------------------------------------------------------------- streaming


async def test_reasoning_then_content_then_tool_calls(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.enqueue(
        Reply(
            content="Let me look.",
            reasoning="The user wants files.",
            tool_calls=[
                ToolCall("read_file", {"path": "a.py"}, fragments=4),
                ToolCall("list_dir", {"path": "."}, fragments=2),
            ],
            chunks=4,
        )
    )
    client = make_model_client()
    events, result = await collect(client, ModelRequest(USER, "chat"))
    kinds = [type(e).__name__ for e in events]
    assert (
        kinds.index("ReasoningDelta") < kinds.index("ContentDelta") < kinds.index("ToolCallDelta")
    )
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == result.reasoning
    assert result.reasoning == "The user wants files."
    assert content_of(events) == result.content == result.reply == "Let me look."
    assert result.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [
        ("functions.read_file:0", "read_file", '{"path":"a.py"}'),
        ("functions.list_dir:1", "list_dir", '{"path":"."}'),
    ]
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    for index, call in enumerate(result.tool_calls):
        mine = [d for d in deltas if d.index == index]
        assert mine[0].id == call.id and mine[0].name == call.name
        assert all(d.id is None and d.name is None for d in mine[1:])
        assert "".join(d.arguments for d in mine) == call.arguments
    message = result.assistant_message()
    assert message["reasoning_content"] == "The user wants files."
    assert [c["id"] for c in message["tool_calls"]] == [
        "functions.read_file:0",
        "functions.list_dir:1",
    ]


@pytest.mark.parametrize("style", ["name:N", "name_N", "call-{n}/{name}"])
async def test_tool_call_ids_are_kept_verbatim_and_accepted_back(
    style: str, make_model_client: MakeModelClient
) -> None:
    async with FakeKimi(tool_call_id_style=style) as fake:
        fake.enqueue(Reply(reasoning="r", tool_calls=[ToolCall("read_file", {"p": 1})]))
        client = make_model_client(fake)
        _, first = await collect(client, ModelRequest(USER, "chat"))
        expected = {"name:N": "read_file:0", "name_N": "read_file_0"}.get(style, "call-0/read_file")
        assert first.tool_calls[0].id == expected
        # The turn goes back verbatim (with its reasoning: thinking is on): the fake accepts it.
        history = [
            *USER,
            first.assistant_message(),
            {"role": "tool", "tool_call_id": expected, "name": "read_file", "content": "x"},
        ]
        _, second = await collect(client, ModelRequest(history, "chat"))
        assert second.content == "ok"
        assert fake.last_request.body["messages"][1]["tool_calls"][0]["id"] == expected
        assert not fake.validation_errors


# ---------------------------------------------------------------- request shape


@pytest.mark.parametrize("purpose", ["chat", "edit", "refactor", "continuation"])
@pytest.mark.parametrize("thinking", ["auto", "enabled", "disabled"])
async def test_forbidden_parameters_are_never_sent(
    purpose: str, thinking: str, make_model_client: MakeModelClient
) -> None:
    async with FakeKimi(strict_sampling=True) as fake:
        client = make_model_client(fake, thinking=thinking, max_output_tokens=4096)
        prefix = PREFIX if purpose == "continuation" else None
        await client.complete(ModelRequest(USER, purpose, prefix=prefix))  # type: ignore[arg-type]
        body = fake.last_request.body
        assert not set(FORBIDDEN) & set(body)
        assert body["max_completion_tokens"] == 4096
        assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
        assert body["model"] == "kimi-k2.6"
        assert not fake.validation_errors


@pytest.mark.parametrize(
    ("thinking", "purpose", "expected"),
    [
        ("auto", "chat", "enabled"),
        ("auto", "refactor", "enabled"),
        ("auto", "edit", "disabled"),
        ("auto", "continuation", "disabled"),
        ("enabled", "edit", "enabled"),
        ("disabled", "chat", "disabled"),
    ],
)
async def test_thinking_follows_setting_and_purpose(
    thinking: str,
    purpose: str,
    expected: str,
    model_fake: FakeKimi,
    make_model_client: MakeModelClient,
) -> None:
    model_fake.enqueue(Reply(content="answer", reasoning="thoughts"))
    client = make_model_client(thinking=thinking)
    events, result = await collect(client, ModelRequest(USER, purpose))  # type: ignore[arg-type]
    assert model_fake.last_request.body["thinking"] == {"type": expected}
    streamed_reasoning = any(isinstance(e, ReasoningDelta) for e in events)
    assert streamed_reasoning is (expected == "enabled")
    assert result.thinking is (expected == "enabled")


async def test_forced_tool_choice_turns_thinking_off(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    tools = [
        {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}
    ]
    model_fake.enqueue(Reply(tool_calls=[ToolCall("read_file")]))
    client = make_model_client(thinking="enabled")
    result = await client.complete(ModelRequest(USER, "chat", tools=tools, tool_choice="required"))
    body = model_fake.last_request.body
    assert body["thinking"] == {"type": "disabled"} and body["tool_choice"] == "required"
    assert body["tools"] == tools and result.tool_calls[0].name == "read_file"
    assert not model_fake.validation_errors


# ---------------------------------------------------------------- prefix continuation


async def test_partial_mode(model_fake: FakeKimi, make_model_client: MakeModelClient) -> None:
    model_fake.enqueue(Reply(content="return event['id']\n", chunks=5))
    client = make_model_client(thinking="enabled")  # a continuation still turns thinking off
    events, result = await collect(client, ModelRequest(USER, "edit", prefix=PREFIX))
    record = model_fake.last_request
    assert record.body["messages"][-1] == {"role": "assistant", "content": PREFIX, "partial": True}
    assert record.body["thinking"] == {"type": "disabled"} and "prefix" not in record.body
    assert record.continuation == {"styles": ["partial"], "honored": True, "prefix": PREFIX}
    assert content_of(events) == result.reply == "return event['id']\n"
    assert result.content == PREFIX + "return event['id']\n"
    assert result.continued and not result.prefix_repeated


async def test_prefix_mode(make_model_client: MakeModelClient) -> None:
    async with FakeKimi(prefix_styles=("prefix_body", "prefix_message")) as fake:
        fake.enqueue(Reply(content="return 1\n"))
        client = make_model_client(fake, prefix_mode="prefix")
        events, result = await collect(client, ModelRequest(USER, "edit", prefix=PREFIX))
        body = fake.last_request.body
        assert body["prefix"] is True
        assert body["messages"][-1] == {"role": "assistant", "content": PREFIX, "prefix": True}
        assert fake.last_request.continuation is not None
        assert fake.last_request.continuation["honored"]
        assert content_of(events) == "return 1\n" and result.content == PREFIX + "return 1\n"


async def test_none_mode_sends_no_continuation(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    model_fake.enqueue(Reply(content="whole answer"))
    client = make_model_client(prefix_mode="none")
    events, result = await collect(client, ModelRequest(USER, "continuation", prefix=PREFIX))
    body = model_fake.last_request.body
    assert body["messages"] == USER and "prefix" not in body
    assert model_fake.last_request.continuation is None
    assert content_of(events) == result.content == result.reply == "whole answer"
    assert not result.continued


@pytest.mark.parametrize(
    ("mode", "config"),
    [
        ("partial", {"repeat_prefix": True}),  # a vLLM-like relay that honours, then repeats
        ("prefix", {"prefix_styles": ("partial",), "unaccepted_prefix": "repeat"}),
    ],
)
@pytest.mark.parametrize("chunks", [1, 3, 17])
async def test_repeated_prefix_is_stripped_as_it_streams(
    mode: str, config: dict[str, Any], chunks: int, make_model_client: MakeModelClient
) -> None:
    async with FakeKimi(**config) as fake:
        fake.enqueue(Reply(content="return event\n", chunks=chunks))
        client = make_model_client(fake, prefix_mode=mode)
        events, result = await collect(client, ModelRequest(USER, "edit", prefix=PREFIX))
        assert content_of(events) == result.reply == "return event\n"
        assert result.content == PREFIX + "return event\n"
        assert result.prefix_repeated
        assert not any(PREFIX.strip() in e.text for e in events if isinstance(e, ContentDelta))


async def test_short_prefix_is_stripped_only_after_the_endpoint_was_seen_repeating(
    make_model_client: MakeModelClient,
) -> None:
    async with FakeKimi(repeat_prefix=True) as fake:
        client = make_model_client(fake)
        fake.enqueue(Reply(content="x = 1"))
        first = await client.complete(ModelRequest(USER, "edit", prefix="  "))
        assert first.reply == "  x = 1"  # short prefix, endpoint not known to repeat: kept
        fake.enqueue(Reply(content="y"))
        # A repeat of a prefix under 64 non-blank characters could be the model's own text
        # (a banner of # continued by more #): stripped, but the endpoint is not marked.
        await client.complete(ModelRequest(USER, "edit", prefix=PREFIX))
        fake.enqueue(Reply(content="x = 1"))
        second = await client.complete(ModelRequest(USER, "edit", prefix="  "))
        assert second.reply == "  x = 1"
        fake.enqueue(Reply(content="y"))
        await client.complete(ModelRequest(USER, "edit", prefix=LONG_PREFIX))  # learns it repeats
        fake.enqueue(Reply(content="x = 1"))
        third = await client.complete(ModelRequest(USER, "edit", prefix="  "))
        assert (third.reply, third.content, third.prefix_repeated) == ("x = 1", "  x = 1", True)


def test_moonshot_partial_mode_never_strips_a_reply_that_begins_like_its_prefix() -> None:
    # Moonshot's Partial Mode never repeats the prefix (kimi-api.md): a banner continued by
    # more of itself is the model's text, on api.moonshot.ai/.cn in "partial" mode.
    banner = "#" * 20
    assert not should_detect(banner, True, "partial", "https://api.moonshot.ai/v1")
    assert not should_detect(banner, False, "partial", "https://api.moonshot.cn/v1")
    assert should_detect(banner, False, "prefix", "https://api.moonshot.ai/v1")
    assert should_detect(banner, False, "partial", "https://relay.example/v1")


# ---------------------------------------------------------------- usage and cost


async def test_usage_is_counted_once_and_priced(model_fake: FakeKimi) -> None:
    pricing = Pricing(input_per_million=2.0, cached_input_per_million=0.5, output_per_million=8.0)
    seen: list[tuple[ModelResult, UsageTotals]] = []
    from kimi_lsp.model.client import ModelClient

    client = ModelClient(
        Settings(api_key=TEST_KEY, base_url=model_fake.base_url, pricing=pricing),
        on_usage=lambda result, totals: seen.append((result, totals.copy())),
    )
    try:
        model_fake.enqueue(
            Reply(content="one", usage={"prompt_tokens": 1000, "completion_tokens": 50}),
            Reply(
                content="two",
                usage={"prompt_tokens": 3000, "completion_tokens": 20, "cached_tokens": 2048},
            ),
        )
        first = await client.complete(ModelRequest(USER))
        second = await client.complete(ModelRequest(USER))
    finally:
        await client.aclose()
    assert (
        first.usage.prompt_tokens,
        first.usage.cached_tokens,
        first.usage.completion_tokens,
    ) == (
        1000,
        0,
        50,
    )
    assert first.usage.cost == pytest.approx((1000 * 2.0 + 50 * 8.0) / 1e6)
    assert second.usage.cached_tokens == 2048
    assert second.usage.cost == pytest.approx((952 * 2.0 + 2048 * 0.5 + 20 * 8.0) / 1e6)
    totals = client.totals
    assert (totals.requests, totals.prompt_tokens, totals.completion_tokens) == (2, 4000, 70)
    assert totals.cached_tokens == 2048
    assert totals.cost == pytest.approx(first.usage.cost + second.usage.cost)
    # The fake's own numbers, from both places in the stream, match what was counted once.
    assert [r.usage for r in model_fake.chat_requests] == [
        {"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050, "cached_tokens": 0},
        {
            "prompt_tokens": 3000,
            "completion_tokens": 20,
            "total_tokens": 3020,
            "cached_tokens": 2048,
        },
    ]
    assert [r.usage for r, _ in seen] == [first.usage, second.usage]
    assert [t.requests for _, t in seen] == [1, 2]
    assert totals.to_wire()["requests"] == 2 and totals.to_wire()["currency"] == "USD"


async def test_prefix_cache_hits_are_reported(
    model_fake: FakeKimi, make_model_client: MakeModelClient
) -> None:
    long_context = [{"role": "system", "content": "stable context " * 400}, *USER]
    client = make_model_client()
    await client.complete(ModelRequest(long_context))
    again = await client.complete(ModelRequest(long_context))
    assert again.usage.cached_tokens == model_fake.last_request.usage["cached_tokens"]  # type: ignore[index]
    assert again.usage.cached_tokens >= 1024 and again.usage.cached_tokens % 256 == 0
