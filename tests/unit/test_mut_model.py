"""The stream's assembly and its server-sent events at their edges: what the first mutation run
(docs/mutation.md) found untested in model/assemble.py and model/sse.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai
import pytest

from kimi_lsp.model import sse
from kimi_lsp.model.assemble import Assembler
from kimi_lsp.model.prefix import PrefixStripper
from kimi_lsp.model.types import ContentDelta, ReasoningDelta, ToolCallDelta


def assembler(prefix: str | None = None) -> Assembler:
    return Assembler(PrefixStripper(prefix))


def choice(index: int = 0, **delta: Any) -> dict[str, Any]:
    return {"index": index, "delta": delta}


# ---------------------------------------------------------------- assembly


def test_chunks_are_counted_and_no_usage_is_none() -> None:
    asm = assembler()
    for text in ("a", "b", "c"):
        asm.feed({"choices": [choice(content=text)]})
    assert asm.chunks == 3 and asm.usage is None and asm.reply == "abc"


def test_only_the_first_choice_is_read() -> None:
    asm = assembler()
    assert asm.feed({"choices": [choice(1, content="other")]}) == []
    # A later choice 0 in the same chunk still counts.
    events = asm.feed({"choices": [choice(1, content="x"), choice(0, content="mine")]})
    assert events == [ContentDelta("mine")] and asm.reply == "mine"


def test_the_more_detailed_usage_is_kept_whichever_comes_first() -> None:
    detailed = {"prompt_tokens": 10, "completion_tokens": 2, "cached_tokens": 5}
    plain = {"prompt_tokens": 10, "completion_tokens": 2, "cached_tokens": 0}
    asm = assembler()
    asm.feed({"choices": [{"index": 0, "delta": {}, "usage": detailed}]})
    asm.feed({"choices": [], "usage": plain})
    assert asm.usage == detailed
    asm = assembler()
    asm.feed({"choices": [], "usage": detailed})
    asm.feed({"choices": [{"index": 0, "delta": {}, "usage": plain}]})
    assert asm.usage == detailed


def test_non_text_content_and_reasoning_are_ignored() -> None:
    asm = assembler()
    assert asm.feed({"choices": [choice(content={"a": 1}, reasoning_content=["x"])]}) == []
    assert asm.feed({"choices": [choice(reasoning_content="why")]}) == [ReasoningDelta("why")]


def test_a_tool_call_id_and_name_are_taken_once_and_arguments_concatenated() -> None:
    asm = assembler()
    first = {"index": 0, "id": "call_1", "function": {"name": "read", "arguments": ""}}
    again = {"index": 0, "id": "call_1", "function": {"name": "read", "arguments": '{"a"'}}
    nothing = {"index": 0, "function": {"arguments": ""}}
    junk = {"index": 1, "id": 7, "function": {"name": 5, "arguments": None}}
    empty = {"index": 1, "id": "", "function": {"name": ""}}
    events = []
    for call in (first, again, nothing, junk, empty):
        events += asm.feed({"choices": [choice(tool_calls=[call])]})
    assert events == [ToolCallDelta(0, "call_1", "read", ""), ToolCallDelta(0, None, None, '{"a"')]
    calls = asm.tool_calls("req")
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_1", "read", '{"a"'),
        ("call_req_1", "", ""),
    ]


def test_finish_releases_what_the_prefix_stripper_held_back() -> None:
    asm = assembler(prefix="hello world")
    assert asm.feed({"choices": [choice(content="hel")]}) == []
    assert asm.finish() == [ContentDelta("hel")] and asm.reply == "hel"


# ---------------------------------------------------------------- server-sent events


class Response:
    """What `sse.chunks` reads of an httpx2 response: its request and its lines."""

    def __init__(self, *lines: str, fail: Exception | None = None) -> None:
        self.request = httpx2.Request("POST", "https://api.example/v1/chat/completions")
        self._lines = lines
        self._fail = fail
        self.read = 0

    async def aiter_lines(self) -> AsyncIterator[str]:
        for line in self._lines:
            self.read += 1
            yield line
        if self._fail is not None:
            raise self._fail


async def collect(response: Response) -> list[dict[str, Any]]:
    return [chunk async for chunk in sse.chunks(response)]


async def test_events_after_done_are_read_but_not_yielded() -> None:
    response = Response('data: {"a": 1}', "", "data: [DONE]", "", 'data: {"b": 2}', "")
    assert await collect(response) == [{"a": 1}]
    assert response.read == 6  # read to its end: the connection can be reused


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ('{"message": "overloaded", "type": "server_error"}', "overloaded"),
        ('{"message": "", "type": "server_error"}', "An error occurred during streaming"),
        ('{"type": "server_error"}', "An error occurred during streaming"),
        ('"boom"', "An error occurred during streaming"),
    ],
)
async def test_an_error_event_raises_the_sdk_error(error: str, message: str) -> None:
    response = Response('data: {"a": 1}', "", f'data: {{"error": {error}}}', "")
    with pytest.raises(openai.APIError) as caught:
        await collect(response)
    assert caught.value.message == message and caught.value.request is response.request


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx2.ReadTimeout("slow"), openai.APITimeoutError),
        (httpx2.ReadError("reset"), openai.APIConnectionError),
    ],
)
async def test_transport_failures_become_sdk_errors_naming_the_request(
    failure: Exception, error: type[Exception]
) -> None:
    response = Response('data: {"a": 1}', "", fail=failure)
    with pytest.raises(error) as caught:
        await collect(response)
    assert caught.value.request is response.request  # type: ignore[attr-defined]


async def test_a_multi_line_event_at_the_end_of_the_stream_is_joined() -> None:
    async def lines() -> AsyncIterator[str]:
        for line in ("data: a", "data: b"):
            yield line

    assert [data async for data in sse.event_data(lines())] == ["a\nb"]


def test_an_id_alone_or_a_name_alone_is_news() -> None:
    asm = assembler()
    events = asm.feed({"choices": [choice(tool_calls=[{"index": 0, "id": "call_9"}])]})
    call = {"index": 0, "function": {"name": "grep"}}
    events += asm.feed({"choices": [choice(tool_calls=[call])]})
    assert events == [ToolCallDelta(0, "call_9", None, ""), ToolCallDelta(0, None, "grep", "")]
