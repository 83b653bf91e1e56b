"""The fake Kimi API behaves like the real one, as seen through the real openai client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests` is a namespace package rooted at the repository
    sys.path.insert(0, str(ROOT))

from tests.fake_kimi import (  # noqa: E402
    ErrorReply,
    FakeKimi,
    Fault,
    ModelSpec,
    Reply,
    ToolCall,
    estimate_prompt_tokens,
)
from tests.fake_kimi.jsonform import item_from_json, script_from_json  # noqa: E402

KEY = "sk-test-fake"
MODEL = "kimi-k2.6"
USER = [{"role": "user", "content": "hi"}]
NO_THINKING = {"thinking": {"type": "disabled"}}


def kimi_client(base_url: str, **kwargs: Any) -> openai.AsyncOpenAI:
    kwargs.setdefault("api_key", KEY)
    return openai.AsyncOpenAI(base_url=base_url, max_retries=0, **kwargs)


@contextlib.asynccontextmanager
async def serving(**config: Any) -> AsyncIterator[tuple[FakeKimi, openai.AsyncOpenAI]]:
    """A fake configured with `config` and a client of it."""
    async with FakeKimi(**config) as server, kimi_client(server.base_url) as c:
        yield server, c


HAND_WRITTEN_IDS = ("c1", "c2")
"""Tool-call ids of the histories written by hand below, taken as issued by the fake."""


@pytest.fixture
async def fake() -> AsyncIterator[FakeKimi]:
    async with FakeKimi(issued_tool_call_ids=HAND_WRITTEN_IDS) as server:
        yield server


@pytest.fixture
async def client(fake: FakeKimi) -> AsyncIterator[openai.AsyncOpenAI]:
    async with kimi_client(fake.base_url) as c:
        yield c


@dataclass
class Collected:
    chunks: list[Any] = field(default_factory=list)
    content: str = ""
    reasoning: str = ""
    order: list[str] = field(default_factory=list)
    tool_deltas: list[Any] = field(default_factory=list)
    finish_reason: str | None = None
    choice_usage: dict[str, Any] | None = None
    trailing_usage: Any = None


async def collect(stream: Any) -> Collected:
    out = Collected()
    async with stream:
        async for chunk in stream:
            out.chunks.append(chunk)
            if not chunk.choices:
                out.trailing_usage = chunk.usage
                continue
            choice = chunk.choices[0]
            reasoning = (choice.delta.model_extra or {}).get("reasoning_content")
            if reasoning:
                out.reasoning += reasoning
                out.order.append("reasoning")
            if choice.delta.content:
                out.content += choice.delta.content
                out.order.append("content")
            out.tool_deltas += choice.delta.tool_calls or []
            if choice.finish_reason:
                out.finish_reason = choice.finish_reason
                out.choice_usage = (choice.model_extra or {}).get("usage")
    return out


async def stream_chat(client: openai.AsyncOpenAI, **kwargs: Any) -> Collected:
    kwargs.setdefault("messages", USER)
    return await collect(await client.chat.completions.create(model=MODEL, stream=True, **kwargs))


# ------------------------------------------------------------------ streaming shape


async def test_content_chunks_concatenate_and_share_an_envelope(fake, client) -> None:
    fake.enqueue(Reply(content=["Hel", "lo ", "world"]))
    out = await stream_chat(client, extra_body=NO_THINKING)
    assert out.content == "Hello world"
    first = out.chunks[0].choices[0].delta
    assert (first.role, first.content) == ("assistant", "")
    assert [c.choices[0].delta.content for c in out.chunks[1:4]] == ["Hel", "lo ", "world"]
    assert {(c.id, c.object, c.model) for c in out.chunks} == {
        (out.chunks[0].id, "chat.completion.chunk", MODEL)
    }
    assert all(isinstance(c.created, int) for c in out.chunks)
    assert out.finish_reason == "stop"


async def test_reasoning_streams_before_content_only_when_thinking(fake, client) -> None:
    fake.enqueue(Reply(content="the answer", reasoning="let me think", chunks=3))
    out = await stream_chat(client)
    assert out.reasoning == "let me think"
    assert out.content == "the answer"
    assert out.order == ["reasoning"] * 3 + ["content"] * 3
    fake.enqueue(Reply(content="the answer", reasoning="let me think"))
    off = await stream_chat(client, extra_body=NO_THINKING)
    assert (off.reasoning, off.content) == ("", "the answer")


async def test_tool_call_deltas_and_ids_are_verbatim(fake, client) -> None:
    calls = [
        ToolCall("read_file", {"path": "a.py"}, fragments=3),
        ToolCall("grep", '{"pattern": "x"}', fragments=['{"pattern"', ': "x"}']),
        ToolCall("edit_file", "{}", id="call/Ω:7"),
    ]
    fake.enqueue(Reply(content="let me look", tool_calls=calls))
    out = await stream_chat(client)
    heads = [d for d in out.tool_deltas if d.id is not None]
    assert [(d.index, d.id, d.type, d.function.name, d.function.arguments) for d in heads] == [
        (0, "functions.read_file:0", "function", "read_file", ""),
        (1, "functions.grep:1", "function", "grep", ""),
        (2, "call/Ω:7", "function", "edit_file", ""),
    ]
    arguments: dict[int, str] = {}
    for delta in out.tool_deltas:
        if delta.id is None:
            assert delta.function.name is None
        arguments[delta.index] = arguments.get(delta.index, "") + (delta.function.arguments or "")
    assert json.loads(arguments[0]) == {"path": "a.py"}
    assert arguments[1] == '{"pattern": "x"}'
    assert sum(1 for d in out.tool_deltas if d.index == 1) == 3  # head + 2 explicit fragments
    assert out.finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("style", "expected"), [("name:N", "read_file:2"), ("name_N", "read_file_2")]
)
async def test_tool_call_id_styles_count_earlier_calls(style: str, expected: str) -> None:
    history = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "r",
            "tool_calls": [
                {"id": f"c{i}", "type": "function", "function": {"name": "ls", "arguments": "{}"}}
                for i in range(2)
            ],
        },
        {"role": "tool", "tool_call_id": "c0", "name": "ls", "content": "a"},
        {"role": "tool", "tool_call_id": "c1", "name": "ls", "content": "b"},
    ]
    hand_written = ("c0", "c1")
    async with serving(tool_call_id_style=style, issued_tool_call_ids=hand_written) as (fake, c):
        fake.enqueue(Reply(tool_calls=[ToolCall("read_file", {})]))
        out = await stream_chat(c, messages=history)
    assert out.tool_deltas[0].id == expected


async def test_usage_in_finishing_choice_and_trailing_chunk(fake, client) -> None:
    messages = [{"role": "system", "content": "be brief"}, *USER]
    fake.enqueue(Reply(content="abcdefgh"))
    out = await stream_chat(client, messages=messages, stream_options={"include_usage": True})
    prompt = estimate_prompt_tokens(messages)
    expected = {"prompt_tokens": prompt, "completion_tokens": 2, "total_tokens": prompt + 2}
    assert out.choice_usage == {**expected, "cached_tokens": 0}
    trailing = out.trailing_usage
    assert trailing.prompt_tokens_details.cached_tokens == 0
    assert (trailing.prompt_tokens, trailing.completion_tokens, trailing.total_tokens) == (
        prompt,
        2,
        prompt + 2,
    )
    assert out.chunks[-1].choices == []
    fake.enqueue(Reply(content="abcdefgh", usage={"prompt_tokens": 1000, "cached_tokens": 512}))
    plain = await stream_chat(client, messages=messages)
    assert plain.trailing_usage is None  # no stream_options: usage only inside the choice
    assert plain.choice_usage == {
        "prompt_tokens": 1000,
        "completion_tokens": 2,
        "total_tokens": 1002,
        "cached_tokens": 512,
    }


async def test_non_streaming_response_has_openai_shape(fake, client) -> None:
    fake.enqueue(Reply(content="done", reasoning="hmm", tool_calls=[ToolCall("ls", {"dir": "."})]))
    response = await client.chat.completions.create(model=MODEL, messages=USER)
    message = response.choices[0].message
    assert response.object == "chat.completion"
    assert message.content == "done"
    assert (message.model_extra or {})["reasoning_content"] == "hmm"
    assert message.tool_calls[0].id == "functions.ls:0"
    assert json.loads(message.tool_calls[0].function.arguments) == {"dir": "."}
    assert response.choices[0].finish_reason == "tool_calls"
    assert response.usage.prompt_tokens == estimate_prompt_tokens(USER)
    assert response.usage.prompt_tokens_details.cached_tokens == 0


async def test_cached_tokens_follow_the_common_prefix(fake, client) -> None:
    system = {"role": "system", "content": "stable context " * 400}
    first = await client.chat.completions.create(model=MODEL, messages=[system, *USER])
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    again = [system, {"role": "user", "content": "another question"}]
    second = await client.chat.completions.create(model=MODEL, messages=again)
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert cached > 0
    assert cached % 256 == 0
    assert cached <= second.usage.prompt_tokens
    changed = [{"role": "system", "content": "different"}, *USER]
    third = await client.chat.completions.create(model=MODEL, messages=changed)
    assert third.usage.prompt_tokens_details.cached_tokens == 0


def test_prompt_estimate_is_the_documented_formula() -> None:
    messages = [
        {"role": "user", "content": "abcd" * 10},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "é"}],
            "reasoning_content": "xy",
        },
    ]
    # 40 bytes + "é" (2 bytes) + "xy" (2 bytes) = 44 bytes -> 11 tokens, + 4 per message
    assert estimate_prompt_tokens(messages) == 11 + 8


async def test_default_reply_and_dynamic_script(fake, client) -> None:
    response = await client.chat.completions.create(model=MODEL, messages=USER)
    assert response.choices[0].message.content == "ok"
    fake.enqueue(
        Reply(reasoning="need a file", tool_calls=[ToolCall("read_file", {"path": "a.py"})]),
        lambda body: Reply(content="the file says " + body["messages"][-1]["content"]),
    )
    first = await stream_chat(client)
    call = first.tool_deltas[0]
    turn = [
        *USER,
        {
            "role": "assistant",
            "content": first.content,
            "reasoning_content": first.reasoning,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": "read_file", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "name": "read_file", "content": "print(1)"},
    ]
    second = await stream_chat(client, messages=turn)
    assert second.content == "the file says print(1)"
    assert fake.pending == 0


# ------------------------------------------------------------------ validation


def _tool(name: str = "read_file", **properties: Any) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties or {"path": {"type": "string"}}}
    return {"type": "function", "function": {"name": name, "parameters": schema}}


def _assistant_call(call_id: str, reasoning: str | None = "r") -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": "ls", "arguments": "{}"}}
        ],
    }
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return message


def _tool_result(call_id: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "name": "ls", "content": "x"}


TOO_LONG = "Your request exceeded model token limit : 262144"
FLAVOR = (
    "Invalid request: tools.function.parameters is not a valid moonshot flavored json schema, "
    "details: "
)
REJECTED: list[tuple[str, dict[str, Any], str]] = [
    ("temperature", {"temperature": 0.3}, "invalid temperature: only 1 is allowed for this model"),
    (
        "temperature-no-thinking",
        {"temperature": 1.0, "extra_body": NO_THINKING},
        "invalid temperature: only 0.6 is allowed for this model",
    ),
    ("top_p", {"top_p": 0.5}, "invalid top_p: only 0.95 is allowed for this model"),
    ("n", {"n": 2}, "invalid n: only 1 is allowed for this model"),
    (
        "presence_penalty",
        {"presence_penalty": 0.5},
        "invalid presence_penalty: only 0 is allowed for this model",
    ),
    (
        "frequency_penalty",
        {"frequency_penalty": 0.5},
        "invalid frequency_penalty: only 0 is allowed for this model",
    ),
    (
        "tool_choice-required",
        {"tools": [_tool()], "tool_choice": "required"},
        "tool_choice 'required' is incompatible with thinking enabled",
    ),
    (
        "tool_choice-named",
        {
            "tools": [_tool()],
            "tool_choice": {"type": "function", "function": {"name": "read_file"}},
        },
        "tool_choice 'required' is incompatible with thinking enabled",
    ),
    (
        "reasoning-missing",
        {"messages": [*USER, _assistant_call("c1", reasoning=None), _tool_result("c1")]},
        "thinking is enabled but reasoning_content is missing in assistant tool call message at "
        "index 1",
    ),
    (
        "duplicate-ids",
        {
            "messages": [
                *USER,
                _assistant_call("c1"),
                _tool_result("c1"),
                _assistant_call("c1"),
                _tool_result("c1"),
            ]
        },
        "Invalid request: duplicate tool_call id 'c1' in messages[3]",
    ),
    (
        "unknown-tool-call-id",
        {"messages": [*USER, _assistant_call("c1"), _tool_result("c2")]},
        "Invalid request: tool_call_id 'c2' of messages[2] is not found in any preceding "
        "assistant tool call",
    ),
    (
        "too-many-tools",
        {"tools": [_tool(f"tool_{i}") for i in range(129)]},
        "Invalid request: too many tools: 129, at most 128 are allowed",
    ),
    (
        "short-tool-name",
        {"tools": [_tool("ab")]},
        "Invalid request: tools[0].function.name 'ab' is invalid, it must match "
        "^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$",
    ),
    (
        "tool-name-dot",
        {"tools": [_tool("fs.read")]},
        "Invalid request: tools[0].function.name 'fs.read' is invalid, it must match "
        "^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$",
    ),
    (
        "property-without-type",
        {"tools": [_tool(path={"description": "a path"})]},
        FLAVOR + "<At path 'properties.path': type is not defined>",
    ),
    (
        "format",
        {"tools": [_tool(when={"type": "string", "format": "date-time"})]},
        FLAVOR + "<At path 'properties.when': 'format' is not supported>",
    ),
    (
        "title",
        {"tools": [_tool(path={"type": "string", "title": "Path"})]},
        FLAVOR + "<At path 'properties.path': 'title' is not supported>",
    ),
    (
        "external-ref",
        {"tools": [_tool(path={"$ref": "https://example.com/schema.json"})]},
        FLAVOR + "<At path 'properties.path.$ref': references must start with #/$defs/>",
    ),
    ("token-limit", {"max_completion_tokens": 262_144}, TOO_LONG),
    ("token-limit-max_tokens", {"max_tokens": 262_140}, TOO_LONG),
    (
        "token-limit-prompt",
        {"messages": [{"role": "user", "content": "x" * (4 * 262_144)}]},
        TOO_LONG,
    ),
    (
        "partial-not-last",
        {
            "messages": [
                {"role": "assistant", "content": "pre", "partial": True},
                *USER,
            ]
        },
        "Invalid request: partial is only supported on the last message, which must be an "
        "assistant message",
    ),
    (
        "partial-on-user",
        {"messages": [{"role": "user", "content": "hi", "partial": True}]},
        "Invalid request: partial is only supported on the last message, which must be an "
        "assistant message",
    ),
    (
        "partial-json-object",
        {
            "messages": [*USER, {"role": "assistant", "content": "{", "partial": True}],
            "response_format": {"type": "json_object"},
        },
        "Invalid request: partial mode is not supported with response_format json_object",
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "message"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
async def test_invalid_requests_get_the_real_400(fake, client, kwargs, message) -> None:
    kwargs = {"messages": USER, **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=MODEL, **kwargs)
    assert caught.value.status_code == 400
    assert caught.value.body == {"message": message, "type": "invalid_request_error"}
    await fake.wait_for_idle()
    assert [e.message for e in fake.validation_errors] == [message]
    assert fake.last_request.error == {
        "error": {"message": message, "type": "invalid_request_error"}
    }


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("fixed-temperature", {"temperature": 1.0}),
    ("fixed-temperature-no-thinking", {"temperature": 0.6, "extra_body": NO_THINKING}),
    (
        "tool_choice-required-no-thinking",
        {"tools": [_tool()], "tool_choice": "required", "extra_body": NO_THINKING},
    ),
    (
        "reasoning-not-needed-without-thinking",
        {
            "messages": [*USER, _assistant_call("c1", None), _tool_result("c1")],
            "extra_body": NO_THINKING,
        },
    ),
    (
        "internal-ref-and-anyof",
        {
            "tools": [
                _tool(
                    path={"$ref": "#/$defs/p"},
                    mode={"anyOf": [{"type": "string"}, {"type": "null"}]},
                )
            ]
        },
    ),
    ("fits-the-window", {"max_completion_tokens": 262_144 - estimate_prompt_tokens(USER)}),
]


@pytest.mark.parametrize("kwargs", [a[1] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
async def test_valid_requests_pass(fake, client, kwargs) -> None:
    kwargs = {"messages": USER, **kwargs}
    response = await client.chat.completions.create(model=MODEL, **kwargs)
    assert response.choices[0].message.content == "ok"
    assert fake.validation_errors == []


async def test_unknown_model_and_configured_models() -> None:
    small = ModelSpec("kimi-small", context_length=1000)
    async with serving(models=(small,)) as (_, c):
        with pytest.raises(openai.NotFoundError) as caught:
            await c.chat.completions.create(model=MODEL, messages=USER)
        assert caught.value.body == {
            "message": "Not found the model kimi-k2.6 or Permission denied",
            "type": "resource_not_found_error",
        }
        with pytest.raises(openai.BadRequestError, match="model token limit : 1000"):
            await c.chat.completions.create(
                model="kimi-small", messages=USER, max_completion_tokens=1000
            )
        models = await c.models.list()
    assert [(m.id, m.model_extra) for m in models.data] == [
        ("kimi-small", {"context_length": 1000, "supports_reasoning": True})
    ]


# ------------------------------------------------------------------ auth and other routes


async def test_auth_key_only_in_the_header(fake) -> None:
    async with kimi_client(fake.base_url, api_key="sk-wrong") as c:
        with pytest.raises(openai.AuthenticationError) as caught:
            await c.chat.completions.create(model=MODEL, messages=USER)
    assert caught.value.body == {
        "message": "Invalid Authentication",
        "type": "invalid_authentication_error",
    }
    async with httpx2.AsyncClient() as http:
        missing = await http.post(f"{fake.base_url}/chat/completions", json={"model": MODEL})
        assert missing.status_code == 401
        assert missing.json()["error"]["type"] == "invalid_authentication_error"
        ok = await http.post(
            f"{fake.base_url}/chat/completions",
            json={"model": MODEL, "messages": USER},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert ok.status_code == 200
    await fake.wait_for_idle()
    record = fake.last_request
    assert record.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in record.raw_body.decode() and KEY not in record.path
    assert [r.status for r in fake.requests] == [401, 401, 200]


async def test_models_and_token_estimate_routes(fake, client) -> None:
    models = await client.models.list()
    assert {m.id for m in models.data} == {"kimi-k2.6", "kimi-k2.5"}
    assert all(m.model_extra["context_length"] == 262_144 for m in models.data)
    messages = [{"role": "user", "content": "count me " * 50}]
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}) as http:
        # any path prefix works: the base URL is whatever precedes the route
        answer = await http.post(
            f"http://127.0.0.1:{fake.port}/relay/v1/tokenizers/estimate-token-count",
            json={"model": MODEL, "messages": messages},
        )
        assert answer.json()["data"] == {"total_tokens": estimate_prompt_tokens(messages)}
        unknown = await http.post(
            f"{fake.base_url}/tokenizers/estimate-token-count",
            json={"model": "nope", "messages": messages},
        )
        assert unknown.status_code == 404


# ------------------------------------------------------------------ prefix continuation


PREFIX = "def add(a, b):\n    "
CONTINUE = [*USER, {"role": "assistant", "content": PREFIX, "partial": True}]


async def test_partial_mode_does_not_repeat_the_prefix(fake, client) -> None:
    fake.enqueue(Reply(content="return a + b\n"))
    out = await stream_chat(client, messages=CONTINUE, extra_body=NO_THINKING)
    assert out.content == "return a + b\n"
    assert fake.last_request.continuation == {
        "styles": ["partial"],
        "honored": True,
        "prefix": PREFIX,
    }


async def test_repeat_prefix_fault_repeats_it() -> None:
    async with serving(repeat_prefix=True) as (fake, c):
        fake.enqueue(Reply(content="return a + b\n"))
        out = await stream_chat(c, messages=CONTINUE, extra_body=NO_THINKING)
    assert out.content == PREFIX + "return a + b\n"


@pytest.mark.parametrize("style", ["prefix_body", "prefix_message"])
async def test_relay_prefix_styles(style: str) -> None:
    prefix_message = {"role": "assistant", "content": PREFIX}
    if style == "prefix_message":
        prefix_message["prefix"] = True
    extra = {**NO_THINKING, **({"prefix": True} if style == "prefix_body" else {})}
    messages = [*USER, prefix_message]
    async with serving(prefix_styles=[style]) as (relay, c):
        relay.enqueue(Reply(content="return a + b"))
        out = await stream_chat(c, messages=messages, extra_body=extra)
        assert out.content == "return a + b"
        assert relay.last_request.continuation["honored"] is True
        # Moonshot's own spelling is unknown to this relay: ignored, not validated
        await stream_chat(c, messages=CONTINUE, extra_body=NO_THINKING)
        assert relay.last_request.continuation["honored"] is False
    async with serving(unaccepted_prefix="reject") as (_, c):
        with pytest.raises(openai.BadRequestError, match="unsupported field"):
            await stream_chat(c, messages=messages, extra_body=extra)


# ------------------------------------------------------------------ faults


FAULTS = [
    (Fault.rate_limit(retry_after=0.2), openai.RateLimitError, "rate_limit_reached_error", "0.2"),
    (Fault.overloaded(retry_after=3), openai.RateLimitError, "engine_overloaded_error", "3"),
    (Fault.quota(), openai.RateLimitError, "exceeded_current_quota_error", None),
    (Fault.auth(), openai.AuthenticationError, "invalid_authentication_error", None),
    (Fault.permission_denied(), openai.PermissionDeniedError, "permission_denied_error", None),
    (Fault.not_found(), openai.NotFoundError, "resource_not_found_error", None),
    (Fault.content_filter(), openai.BadRequestError, "content_filter", None),
    (Fault.server_error(), openai.InternalServerError, "server_error", None),
    (Fault.bad_gateway(), openai.InternalServerError, "server_error", None),
    (Fault.unavailable(retry_after=1), openai.InternalServerError, "server_error", "1"),
]


@pytest.mark.parametrize(
    ("fault", "error_class", "error_type", "retry_after"),
    FAULTS,
    ids=[f"{f[0].status}-{f[0].type}" for f in FAULTS],
)
async def test_status_faults(fake, client, fault, error_class, error_type, retry_after) -> None:
    fake.enqueue(fault)
    with pytest.raises(error_class) as caught:
        await stream_chat(client)
    error = caught.value
    assert error.status_code == fault.status
    assert error.body == {"message": fault.message, "type": error_type}
    assert error.response.headers.get("retry-after") == retry_after
    if error_type == "exceeded_current_quota_error":
        assert "balance" in fault.message
    if error_type == "content_filter":
        assert fault.message == "The request was rejected because it was considered high risk"
    # the next request gets the default reply: one scripted item per request
    assert (await stream_chat(client)).content == "ok"


async def test_raw_body_fault_like_a_gateway_page(fake, client) -> None:
    fake.enqueue(ErrorReply(502, "server_error", "", body="<html>502 Bad Gateway</html>"))
    with pytest.raises(openai.InternalServerError) as caught:
        await client.chat.completions.create(model=MODEL, messages=USER)
    assert caught.value.response.text == "<html>502 Bad Gateway</html>"


async def test_cut_closes_without_done(fake, client) -> None:
    fake.enqueue(Fault.cut(after=3, reply=Reply(content="abcdefgh", chunks=8)))
    received: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)
        async with stream:
            async for chunk in stream:
                received.append(chunk)
    assert len(received) == 3
    await fake.wait_for_idle()
    assert (fake.last_request.outcome, fake.last_request.events_sent) == ("cut", 3)
    with pytest.raises(openai.APIConnectionError):
        fake.enqueue(Fault.cut())
        await client.chat.completions.create(model=MODEL, messages=USER)


async def test_malformed_line_breaks_json_parsing(fake, client) -> None:
    fake.enqueue(Fault.malformed(after=2))
    received: list[Any] = []
    with pytest.raises(json.JSONDecodeError):
        stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)
        async with stream:
            async for chunk in stream:
                received.append(chunk)
    assert len(received) == 2


async def test_in_stream_error_event(fake, client) -> None:
    error = {"message": "engine hiccup", "type": "engine_overloaded_error"}
    fake.enqueue(Fault.stream_error(after=2, error=error))
    received: list[Any] = []
    with pytest.raises(openai.APIError) as caught:
        stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)
        async with stream:
            async for chunk in stream:
                received.append(chunk)
    assert caught.value.body == error
    assert caught.value.message == "engine hiccup"
    assert len(received) == 2
    await fake.wait_for_idle()
    assert fake.last_request.outcome == "stream_error"
    assert fake.stats.streams_completed == 0


async def test_content_filter_midstream(fake, client) -> None:
    fake.enqueue(Fault.content_filter_midstream(after=3, reply=Reply(content="abcdef", chunks=6)))
    out = await stream_chat(client, extra_body=NO_THINKING)
    assert out.content == "ab"
    assert out.finish_reason == "content_filter"
    assert out.choice_usage is not None


async def test_stall_keeps_the_connection_until_the_client_leaves(fake) -> None:
    fake.enqueue(Fault.stall(after=2))
    timeout = httpx2.Timeout(5.0, read=0.3)
    async with kimi_client(fake.base_url, timeout=timeout) as client:
        received: list[Any] = []
        with pytest.raises(openai.APITimeoutError):
            stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)
            async with stream:
                async for chunk in stream:
                    received.append(chunk)
    assert len(received) == 2
    # A stalled stream never writes again: only reading the socket can see the client leave.
    record = await fake.wait_for_disconnect()
    assert record.outcome == "client_disconnected"
    assert fake.stats.streams_client_closed == 1


# ------------------------------------------------------------------ disconnects, concurrency


async def test_client_closing_the_stream_is_seen_before_the_next_write(fake, client) -> None:
    # Chunks 120 s apart: a disconnect noticed only by the next write would outlast the wait's
    # 30 s hang guard, so seeing it at all means the fake read the client's EOF.
    fake.enqueue(Reply(content="x" * 200, chunks=100, chunk_delay=120))
    stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)
    async with stream:
        async for _chunk in stream:
            break  # the first chunk; the next is 120 s away
    record = await fake.wait_for_disconnect()
    assert record.outcome == "client_disconnected"
    assert record.events_sent == 1
    stats = fake.stats
    assert (stats.streams_opened, stats.streams_completed, stats.streams_client_closed) == (1, 0, 1)


async def test_cancelling_before_the_first_chunk_is_seen_at_once(fake, client) -> None:
    # The answer waits 120 s: seen within the 30 s hang guard only if the fake reads the EOF.
    fake.enqueue(Reply(content="late", delay=120))
    task = asyncio.create_task(client.chat.completions.create(model=MODEL, messages=USER))
    await fake.wait_for_requests(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await fake.wait_for_disconnect()
    assert fake.stats.streams_opened == 0 and fake.stats.disconnects == 1


async def test_stream_headers_come_before_the_first_chunk_delay(fake, client) -> None:
    fake.enqueue(Reply(content="late", delay=120))
    create = client.chat.completions.create(model=MODEL, messages=USER, stream=True)
    stream = await asyncio.wait_for(create, timeout=30)  # a hang guard: headers come at once
    await stream.close()
    record = await fake.wait_for_disconnect()
    assert (record.stream, record.status, record.events_sent) == (True, 200, 0)


async def test_max_in_flight_is_recorded(fake, client) -> None:
    fake.enqueue(*[Reply(content=f"r{i}", gate="go") for i in range(4)])
    limit = asyncio.Semaphore(2)

    async def one() -> str:
        async with limit:
            out = await stream_chat(client)
            return out.content

    tasks = [asyncio.create_task(one()) for _ in range(4)]
    await fake.wait_for_in_flight(2)
    assert len(fake.chat_requests) == 2  # the other two wait on the client's semaphore
    fake.open_gate("go")
    assert sorted(await asyncio.gather(*tasks)) == ["r0", "r1", "r2", "r3"]
    await fake.wait_for_idle()
    assert (fake.stats.max_in_flight, fake.stats.in_flight) == (2, 0)
    assert fake.stats.streams_completed == 4


async def test_keep_alive_reuses_one_connection(fake, client) -> None:
    for _ in range(3):
        await stream_chat(client)
    await client.chat.completions.create(model=MODEL, messages=USER)
    assert len({r.connection_id for r in fake.requests}) == 1
    assert fake.stats.connections_opened == 1


async def test_close_delimited_streams_use_a_connection_each() -> None:
    async with serving(sse_framing="close") as (fake, c):
        fake.enqueue(Reply(content="one two"), Reply(content="three"))
        assert (await stream_chat(c)).content == "one two"
        assert (await stream_chat(c)).content == "three"
        await fake.wait_for_idle()
        assert len({r.connection_id for r in fake.requests}) == 2
        assert fake.stats.streams_completed == 2


def test_background_thread_serves_sync_clients() -> None:
    with FakeKimi().start_in_thread() as fake:
        fake.enqueue(Reply(content="from a thread", chunks=30, chunk_delay=0.02))
        with openai.OpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0) as c:
            with c.chat.completions.create(model=MODEL, messages=USER, stream=True) as stream:
                first = next(iter(stream))
            assert first.choices[0].delta.role == "assistant"
            record = fake.wait_for_disconnect_blocking(timeout=1.0)
            assert record.outcome == "client_disconnected"
            answer = c.chat.completions.create(model=MODEL, messages=USER)
            assert answer.choices[0].message.content == "ok"
        fake.wait_for_idle_blocking()
        assert fake.stats.streams_client_closed == 1
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"{fake.base_url}/models")


async def test_background_thread_with_async_waits_from_another_loop() -> None:
    fake = FakeKimi().start_in_thread()
    try:
        fake.enqueue(Reply(content="slow", delay=30))
        async with kimi_client(fake.base_url) as c:
            task = asyncio.create_task(c.chat.completions.create(model=MODEL, messages=USER))
            await fake.wait_for_requests(1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            record = await fake.wait_for_disconnect()
        assert record.outcome == "client_disconnected"
    finally:
        fake.stop()


# ------------------------------------------------------------------ JSON form and standalone


def test_json_form_parses_every_kind() -> None:
    items, default = script_from_json(
        {
            "replies": [
                {"content": ["a", "b"], "tool_calls": [{"name": "ls", "arguments": {"d": 1}}]},
                {"error": "rate_limit", "retry_after": 0.5},
                {"status": 418, "type": "teapot_error", "message": "short and stout"},
                {"content": "x", "fault": {"kind": "cut", "after": 1}},
            ],
            "default": {"content": "fallback"},
        }
    )
    reply, limited, teapot, cut = items
    assert isinstance(reply, Reply) and reply.tool_calls[0] == ToolCall("ls", {"d": 1})
    assert limited == Fault.rate_limit(retry_after=0.5)
    assert (teapot.status, teapot.type) == (418, "teapot_error")
    assert isinstance(cut, Reply) and cut.fault is not None and cut.fault.kind == "cut"
    assert default == Reply(content="fallback")
    with pytest.raises(ValueError, match="chunk_dealy"):
        item_from_json({"content": "x", "chunk_dealy": 1})
    with pytest.raises(ValueError, match="unknown fault"):
        item_from_json({"error": "meltdown"})


async def _read_ready(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=10)
    assert line.startswith(b"READY "), line
    return line.decode().split()[1]


async def test_standalone_process_with_script_and_control(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"content": "from the file"}, {"error": "overloaded"}]))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fake_kimi", "--port", "0", "--key", KEY,
        "--script", str(script),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        base_url = await _read_ready(process)
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        async with kimi_client(base_url) as c:
            assert (await stream_chat(c)).content == "from the file"
            with pytest.raises(openai.RateLimitError):
                await stream_chat(c)
            async with httpx2.AsyncClient(base_url=base_url.removesuffix("/v1")) as http:
                queued = await http.post("/_control/enqueue", json=[{"content": "controlled"}])
                assert queued.json() == {"queued": 1, "pending": 1}
                assert (await stream_chat(c)).content == "controlled"
                records = (await http.get("/_control/requests")).json()
                stats = (await http.get("/_control/stats")).json()
        assert [r["status"] for r in records] == [200, 429, 200]
        assert records[0]["headers"]["authorization"] == f"Bearer {KEY}"
        assert records[0]["body"]["messages"] == USER
        assert stats["streams_completed"] == 2
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0


# ------------------------------------------------------------------ self-hosted dialects

LOCAL_MODEL = "gemma-3-270m-it"


async def test_llamacpp_ignores_max_completion_tokens_and_sends_no_usage() -> None:
    async with serving(dialect="llamacpp", runaway_tokens=64) as (fake, c):
        fake.enqueue(Reply(content="short answer"))
        ran_on = await collect(
            await c.chat.completions.create(
                model=LOCAL_MODEL,
                messages=USER,
                stream=True,
                stream_options={"include_usage": True},
                max_completion_tokens=5,
            )
        )
        # Not bounded by max_completion_tokens: it runs on until its context is full.
        assert ran_on.content.startswith("short answer") and len(ran_on.content) == 64 * 4
        assert ran_on.finish_reason == "length"
        assert ran_on.choice_usage is None and ran_on.trailing_usage is None
        fake.enqueue(Reply(content="a much longer answer than two tokens"))
        bounded = await collect(
            await c.chat.completions.create(
                model=LOCAL_MODEL, messages=USER, stream=True, max_tokens=2, temperature=0.3
            )
        )
        assert (bounded.content, bounded.finish_reason) == ("a much l", "length")
        fake.enqueue(Reply(content="ok", reasoning="hidden"))
        plain = await stream_chat(c, max_tokens=50, extra_body=NO_THINKING)
        assert (plain.content, plain.reasoning, plain.finish_reason) == ("ok", "", "stop")


async def test_llamacpp_does_not_understand_partial() -> None:
    async with serving(dialect="llamacpp") as (fake, c):
        fake.enqueue(Reply(content="a new turn"))
        out = await stream_chat(c, messages=CONTINUE, max_tokens=50)
        assert out.content == "a new turn"
        assert fake.last_request.continuation["honored"] is False


async def test_vllm_continues_the_final_message_and_refuses_partial() -> None:
    prefixed = [*USER, {"role": "assistant", "content": PREFIX}]
    async with serving(dialect="vllm", models=[ModelSpec(LOCAL_MODEL)]) as (fake, c):
        fake.enqueue(Reply(content="return a + b\n"))
        body = {"continue_final_message": True, "add_generation_prompt": False}
        out = await collect(
            await c.chat.completions.create(
                model=LOCAL_MODEL, messages=prefixed, stream=True, temperature=0.2, extra_body=body
            )
        )
        assert out.content == "return a + b\n"  # not repeated
        assert fake.last_request.continuation == {
            "styles": ["continue_final_message"],
            "honored": True,
            "prefix": PREFIX,
        }
        # Usage only when stream_options asks for it, and then only in the trailing chunk.
        assert out.choice_usage is None and out.trailing_usage is None
        fake.enqueue(Reply(content="more than one token"))
        asked = await collect(
            await c.chat.completions.create(
                model=LOCAL_MODEL,
                messages=USER,
                stream=True,
                stream_options={"include_usage": True},
                max_completion_tokens=1,
            )
        )
        assert asked.trailing_usage.completion_tokens == 1 and asked.choice_usage is None
        # vLLM honours max_completion_tokens
        assert (asked.content, asked.finish_reason) == ("more", "length")
        with pytest.raises(openai.BadRequestError, match="Extra inputs are not permitted") as exc:
            await c.chat.completions.create(model=LOCAL_MODEL, messages=CONTINUE, stream=True)
        assert exc.value.body["code"] == 400 and exc.value.body["type"] == "BadRequestError"
        both = {"continue_final_message": True, "add_generation_prompt": True}
        with pytest.raises(openai.BadRequestError, match="Cannot set both"):
            await c.chat.completions.create(model=LOCAL_MODEL, messages=prefixed, extra_body=both)
        with pytest.raises(openai.NotFoundError, match="does not exist"):
            await c.chat.completions.create(model=MODEL, messages=USER)


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown dialect"):
        FakeKimi(dialect="ollama")
