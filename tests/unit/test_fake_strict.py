"""The fake refuses what the real API refuses (each rule: the bad request gets the API's status
and error shape, the good one passes), puts usage only where the API does, and its self-hosted
dialects stay as permissive as those servers are."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from tests.fake_kimi import FakeKimi, Reply, ToolCall

KEY = "sk-test-fake"
MODEL = "kimi-k2.6"
USER = {"role": "user", "content": "hi"}
OFF = {"type": "disabled"}
FLAVOR = (
    "Invalid request: tools.function.parameters is not a valid moonshot flavored json schema, "
    "details: "
)


@contextlib.asynccontextmanager
async def serving(**config: Any) -> AsyncIterator[tuple[FakeKimi, httpx2.AsyncClient]]:
    async with FakeKimi(**config) as fake:
        headers = {"Authorization": f"Bearer {KEY}"}
        async with httpx2.AsyncClient(base_url=fake.base_url, headers=headers) as http:
            yield fake, http


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeKimi, httpx2.AsyncClient]]:
    async with serving() as pair:
        yield pair


async def post(http: httpx2.AsyncClient, **body: Any) -> tuple[int, Any]:
    body.setdefault("model", MODEL)
    body.setdefault("messages", [USER])
    response = await http.post("/chat/completions", json=body)
    return response.status_code, response.json()


def refused(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error"}}


def call(call_id: str, name: str = "ls") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": "{}"}}


def turn(*ids: str, reasoning: str | None = "r") -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "",
        "tool_calls": [call(i) for i in ids],
    }
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return message


def result(call_id: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "name": "ls", "content": "x"}


def tool(name: str = "read_file", **properties: Any) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties or {"path": {"type": "string"}}}
    return {"type": "function", "function": {"name": name, "parameters": schema}}


def with_parameters(parameters: Any) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": "read_file", "parameters": parameters}}]


# ------------------------------------------------------------------ tool-call ids


async def issue(fake: FakeKimi, http: httpx2.AsyncClient, *names: str) -> list[str]:
    """One answer with a tool call per name; the ids the fake issued, in order."""
    fake.enqueue(Reply(reasoning="r", tool_calls=[ToolCall(n) for n in names]))
    status, body = await post(http)
    assert status == 200
    return [c["id"] for c in body["choices"][0]["message"]["tool_calls"]]


async def test_ids_it_never_issued_are_refused_and_its_own_accepted(api) -> None:
    fake, http = api
    [issued] = await issue(fake, http, "ls")
    ours = "call_ours_0"  # what a client that renumbers ids would send
    status, body = await post(http, messages=[USER, turn(ours), result(ours)])
    assert status == 400
    assert body == refused(
        f"Invalid request: tool_call id {ours!r} in messages[1] was never issued by this API: "
        "send tool call ids back verbatim"
    )
    status, _ = await post(http, messages=[USER, turn(issued), result(issued)])
    assert status == 200
    assert issued in fake.issued_tool_call_ids and ours not in fake.issued_tool_call_ids


async def test_a_tool_result_for_an_id_never_called_is_refused(api) -> None:
    fake, http = api
    [issued] = await issue(fake, http, "ls")
    status, body = await post(http, messages=[USER, turn(issued), result("functions.ls:9")])
    assert status == 400
    assert body == refused(
        "Invalid request: tool_call_id 'functions.ls:9' of messages[2] is not found in any "
        "preceding assistant tool call"
    )


async def test_a_tool_message_without_a_preceding_call_is_refused(api) -> None:
    fake, http = api
    [issued] = await issue(fake, http, "ls")
    status, body = await post(http, messages=[USER, result(issued)])
    assert (status, body["error"]["type"]) == (400, "invalid_request_error")
    assert "is not found in any preceding assistant tool call" in body["error"]["message"]
    # The same result after its call (its own turn) passes.
    assert (await post(http, messages=[USER, turn(issued), result(issued)]))[0] == 200


async def test_duplicate_ids_and_double_answers_are_refused(api) -> None:
    fake, http = api
    first, second = await issue(fake, http, "ls", "ls")
    history = [USER, turn(first), result(first), USER, turn(first), result(first)]
    status, body = await post(http, messages=history)
    assert (status, body) == (
        400,
        refused(f"Invalid request: duplicate tool_call id {first!r} in messages[4]"),
    )
    twice = [USER, turn(first, second), result(first), result(first), result(second)]
    status, body = await post(http, messages=twice)
    assert (status, body) == (
        400,
        refused(f"Invalid request: tool_call_id {first!r} of messages[3] was answered already"),
    )
    good = [USER, turn(first, second), result(second), result(first)]  # any order within a turn
    assert (await post(http, messages=good))[0] == 200


@pytest.mark.parametrize("after", ["user", "assistant", "end"])
async def test_a_tool_call_without_its_result_is_refused(api, after: str) -> None:
    fake, http = api
    first, second = await issue(fake, http, "ls", "ls")
    history: list[dict[str, Any]] = [USER, turn(first, second), result(first)]
    if after == "user":
        history.append({"role": "user", "content": "and?"})
    elif after == "assistant":
        history.append({"role": "assistant", "content": "done"})
        history.append({"role": "user", "content": "and?"})
    status, body = await post(http, messages=history)
    assert (status, body) == (
        400,
        refused(
            "Invalid request: an assistant message with 'tool_calls' must be followed by tool "
            "messages responding to each 'tool_call_id'; messages[1] has no response for: "
            f"{second!r}"
        ),
    )
    history.insert(3, result(second))
    assert (await post(http, messages=history))[0] == 200


# ------------------------------------------------------------------ thinking and reasoning


@pytest.mark.parametrize(("reasoning", "status"), [(None, 400), ("", 400), (" ", 200), ("r", 200)])
async def test_reasoning_of_a_tool_call_turn_must_be_there_and_not_empty(
    api, reasoning: str | None, status: int
) -> None:
    fake, http = api
    [issued] = await issue(fake, http, "ls")
    code, body = await post(
        http, messages=[USER, turn(issued, reasoning=reasoning), result(issued)]
    )
    assert code == status
    if status == 400:
        assert body == refused(
            "thinking is enabled but reasoning_content is missing in assistant tool call "
            "message at index 1"
        )
    # With thinking off the API does not ask for it.
    off = [USER, turn(issued, reasoning=reasoning), result(issued)]
    assert (await post(http, messages=off, thinking=OFF))[0] == 200


CHOICES = [
    ("required", "tool_choice 'required' is incompatible with thinking enabled"),
    (
        {"type": "function", "function": {"name": "read_file"}},
        "tool_choice 'required' is incompatible with thinking enabled",
    ),
]


@pytest.mark.parametrize(("choice", "message"), CHOICES, ids=["required", "named"])
async def test_forced_tool_choice_needs_thinking_off(api, choice: Any, message: str) -> None:
    _, http = api
    status, body = await post(http, tools=[tool()], tool_choice=choice)
    assert (status, body) == (400, refused(message))
    assert (await post(http, tools=[tool()], tool_choice=choice, thinking=OFF))[0] == 200
    assert (await post(http, tools=[tool()], tool_choice="auto"))[0] == 200


async def test_tool_choice_needs_tools_and_a_known_name(api) -> None:
    _, http = api
    status, body = await post(http, tool_choice="auto")
    assert (status, body) == (
        400,
        refused("Invalid request: tool_choice is only allowed when tools are specified"),
    )
    named = {"type": "function", "function": {"name": "write_file"}}
    status, body = await post(http, tools=[tool()], tool_choice=named, thinking=OFF)
    assert (status, body) == (
        400,
        refused("Invalid request: tool_choice names no tool of this request: 'write_file'"),
    )


# ------------------------------------------------------------------ sampling and token limits


@pytest.mark.parametrize(
    ("field", "value", "fixed"),
    [("top_p", 0.5, 0.95), ("n", 2, 1), ("presence_penalty", 0.5, 0), ("frequency_penalty", 1, 0)],
)
async def test_sampling_parameters_are_refused_even_at_their_fixed_values(
    api, field: str, value: float, fixed: float
) -> None:
    _, http = api
    message = f"invalid {field}: only {fixed:g} is allowed for this model"
    assert await post(http, **{field: value}) == (400, refused(message))
    assert await post(http, **{field: fixed}) == (400, refused(message))
    async with serving(strict_sampling=False) as (_, lenient):
        assert (await post(lenient, **{field: fixed}))[0] == 200
    assert (await post(http))[0] == 200  # none of them: accepted


async def test_temperature_only_its_fixed_value_per_thinking_mode(api) -> None:
    _, http = api
    status, body = await post(http, temperature=0.6)
    assert (status, body) == (400, refused("invalid temperature: only 1 is allowed for this model"))
    status, body = await post(http, temperature=1.0, thinking=OFF)
    assert (status, body) == (
        400,
        refused("invalid temperature: only 0.6 is allowed for this model"),
    )
    assert (await post(http, temperature=1.0))[0] == 200
    assert (await post(http, temperature=0.6, thinking=OFF))[0] == 200


async def test_max_tokens_is_deprecated_and_never_sent_with_max_completion_tokens(api) -> None:
    _, http = api
    status, body = await post(http, max_tokens=10, max_completion_tokens=10)
    assert (status, body) == (
        400,
        refused(
            "Invalid request: max_tokens is deprecated, set only max_completion_tokens (not both)"
        ),
    )
    assert (await post(http, max_completion_tokens=10))[0] == 200
    assert (await post(http, max_tokens=10))[0] == 200


async def test_input_plus_max_completion_tokens_must_fit_262144(api) -> None:
    fake, http = api
    status, _ = await post(http, max_completion_tokens=1)
    prompt = fake.last_request.usage["prompt_tokens"]
    status, body = await post(http, max_completion_tokens=262_144 - prompt + 1)
    assert (status, body) == (400, refused("Your request exceeded model token limit : 262144"))
    assert (await post(http, max_completion_tokens=262_144 - prompt))[0] == 200


# ------------------------------------------------------------------ partial mode


async def test_partial_only_on_the_last_assistant_message_and_not_with_json_object(api) -> None:
    fake, http = api
    prefix = {"role": "assistant", "content": "def f(", "partial": True}
    not_last = (
        "Invalid request: partial is only supported on the last message, which must be an "
        "assistant message"
    )
    assert await post(http, messages=[USER, prefix, USER], thinking=OFF) == (400, refused(not_last))
    on_user = {"role": "user", "content": "hi", "partial": True}
    assert await post(http, messages=[on_user], thinking=OFF) == (400, refused(not_last))
    json_object = {"type": "json_object"}
    status, body = await post(
        http, messages=[USER, prefix], thinking=OFF, response_format=json_object
    )
    assert (status, body) == (
        400,
        refused("Invalid request: partial mode is not supported with response_format json_object"),
    )
    fake.enqueue(Reply(content="x):"))
    status, body = await post(http, messages=[USER, prefix], thinking=OFF)
    assert status == 200 and body["choices"][0]["message"]["content"] == "x):"  # not repeated


# ------------------------------------------------------------------ empty messages


EMPTY = [
    ("user", [{"role": "user", "content": ""}], "the message at position 0 with role 'user'"),
    (
        "assistant",
        [USER, {"role": "assistant", "content": ""}, USER],
        "the message at position 1 with role 'assistant'",
    ),
    (
        "system",
        [{"role": "system", "content": ""}, USER],
        "the message at position 0 with role 'system'",
    ),
    (
        "partial-prefix",
        [USER, {"role": "assistant", "content": "", "partial": True}],
        "the message at position 1 with role 'assistant'",
    ),
]


@pytest.mark.parametrize(("messages", "where"), [e[1:] for e in EMPTY], ids=[e[0] for e in EMPTY])
async def test_empty_messages_are_refused(api, messages: list[Any], where: str) -> None:
    _, http = api
    status, body = await post(http, messages=messages, thinking=OFF)
    assert (status, body) == (400, refused(f"Invalid request: {where} must not be empty"))


async def test_empty_text_parts_are_refused_and_a_tool_call_turn_may_have_no_text(api) -> None:
    fake, http = api
    parts = {"role": "user", "content": [{"type": "text", "text": ""}]}
    assert await post(http, messages=[parts]) == (
        400,
        refused("Invalid request: text content is empty"),
    )
    [issued] = await issue(fake, http, "ls")
    no_text = {**turn(issued), "content": None}
    assert (await post(http, messages=[USER, no_text, result(issued)]))[0] == 200


# ------------------------------------------------------------------ tools


SCHEMAS = [
    (
        "property-without-type",
        {"type": "object", "properties": {"path": {"description": "a path"}}},
        FLAVOR + "<At path 'properties.path': type is not defined>",
    ),
    (
        "format",
        {"type": "object", "properties": {"when": {"type": "string", "format": "date"}}},
        FLAVOR + "<At path 'properties.when': 'format' is not supported>",
    ),
    (
        "title",
        {"type": "object", "title": "Args", "properties": {}},
        FLAVOR + "<At path 'root': 'title' is not supported>",
    ),
    (
        "external-ref",
        {"type": "object", "properties": {"p": {"$ref": "other.json#/p"}}},
        FLAVOR + "<At path 'properties.p.$ref': references must start with #/$defs/>",
    ),
    (
        "anyof-under-a-type",
        {
            "type": "object",
            "properties": {"p": {"type": "string", "anyOf": [{"type": "string"}]}},
        },
        FLAVOR + "<At path 'properties.p': when using anyOf, type should be defined in anyOf "
        "items instead of the parent schema>",
    ),
    (
        "root-not-an-object",
        {"properties": {"p": {"type": "string"}}},
        'Invalid request: tools.function.parameters.type is required and must be "object"',
    ),
    (
        "nested-property-without-type",
        {
            "type": "object",
            "properties": {"o": {"type": "object", "properties": {"q": {"enum": [1]}}}},
        },
        FLAVOR + "<At path 'properties.o.properties.q': type is not defined>",
    ),
]


@pytest.mark.parametrize(
    ("parameters", "message"), [s[1:] for s in SCHEMAS], ids=[s[0] for s in SCHEMAS]
)
async def test_tool_schemas_outside_the_moonshot_subset_are_refused(
    api, parameters: Any, message: str
) -> None:
    _, http = api
    assert await post(http, tools=with_parameters(parameters)) == (400, refused(message))


async def test_tool_schemas_inside_the_subset_pass(api) -> None:
    _, http = api
    parameters = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "a path"},
            "mode": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "ref": {"$ref": "#/$defs/r"},
            "list": {"type": "array", "items": {"type": "integer"}},
        },
        "$defs": {"r": {"type": "string"}},
        "required": ["path"],
    }
    assert (await post(http, tools=with_parameters(parameters)))[0] == 200


async def test_tool_count_and_names(api) -> None:
    _, http = api
    assert (await post(http, tools=[tool(f"tool_{i}") for i in range(128)]))[0] == 200
    assert await post(http, tools=[tool(f"tool_{i}") for i in range(129)]) == (
        400,
        refused("Invalid request: too many tools: 129, at most 128 are allowed"),
    )
    for bad in ("ab", "9lives", "fs.read", "x" * 65):
        status, body = await post(http, tools=[tool(bad)])
        assert status == 400 and body["error"]["message"].startswith(
            f"Invalid request: tools[0].function.name {bad!r} is invalid"
        )
    for good in ("abc", "_x1", "read-file", "x" * 64):
        assert (await post(http, tools=[tool(good)]))[0] == 200


# ------------------------------------------------------------------ usage placement


async def stream_events(http: httpx2.AsyncClient, **body: Any) -> list[dict[str, Any]]:
    body.setdefault("model", MODEL)
    body.setdefault("messages", [USER])
    response = await http.post("/chat/completions", json={**body, "stream": True})
    assert response.status_code == 200
    lines = [line.removeprefix("data: ") for line in response.text.splitlines() if line]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


def usage_places(events: list[dict[str, Any]]) -> list[str]:
    places = []
    for event in events:
        if "usage" in event:
            places.append("trailing" if event["choices"] == [] else "top-level")
        for choice in event["choices"]:
            if "usage" in choice:
                places.append(f"choice:{choice['finish_reason']}")
    return places


async def test_usage_only_in_the_finishing_choice_without_include_usage(api) -> None:
    fake, http = api
    fake.enqueue(Reply(content="abcdefgh", reasoning="hmm"))
    events = await stream_events(http)
    assert usage_places(events) == ["choice:stop"]
    assert events[-1]["choices"][0]["finish_reason"] == "stop"
    assert events[-1]["choices"][0]["usage"]["completion_tokens"] == 3  # "hmm" + 8 bytes


async def test_the_trailing_usage_chunk_only_with_include_usage(api) -> None:
    _, http = api
    asked = {"include_usage": True}
    events = await stream_events(http, stream_options=asked)
    assert usage_places(events) == ["choice:stop", "trailing"]
    assert (
        events[-1]["usage"]["prompt_tokens"] == events[-2]["choices"][0]["usage"]["prompt_tokens"]
    )
    assert usage_places(await stream_events(http, stream_options={"include_usage": False})) == [
        "choice:stop"
    ]
    async with serving(honor_include_usage=False) as (_, relay):
        assert usage_places(await stream_events(relay, stream_options=asked)) == ["choice:stop"]


# ------------------------------------------------------------------ dialects stay permissive


LOCAL = "gemma-3-270m-it"


@pytest.mark.parametrize("dialect", ["llamacpp", "vllm"])
async def test_self_hosted_dialects_take_what_those_servers_take(dialect: str) -> None:
    from tests.fake_kimi import ModelSpec

    async with serving(dialect=dialect, models=[ModelSpec(LOCAL)]) as (_, http):
        loose = [
            USER,
            turn("call_ours_0", "call_ours_1", reasoning=""),  # never issued, no reasoning
            result("call_ours_0"),  # the other call unanswered
            {"role": "assistant", "content": ""},  # empty
            {"role": "user", "content": "again"},
        ]
        body = {"temperature": 0.2, "top_p": 0.5, "max_tokens": 20, "tool_choice": "auto"}
        status, answer = await post(http, model=LOCAL, messages=loose, **body)
        assert status == 200, answer
        events = await stream_events(http, model=LOCAL, max_tokens=5)
        assert "choice:stop" not in usage_places(events)  # Moonshot's extra usage spot only
