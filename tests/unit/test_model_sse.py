"""Server-sent events read from the raw response: data joined per event, comments skipped."""

from __future__ import annotations

from collections.abc import AsyncIterator

from kimi_lsp.model.sse import event_data


async def lines(*items: str) -> AsyncIterator[str]:
    for item in items:
        yield item


async def test_events_are_split_on_blank_lines_and_multi_line_data_is_joined() -> None:
    got = [
        data
        async for data in event_data(
            lines(": keep-alive", "", "data: {\"a\": 1}", "", "event: x", "data:b", "data: c", "",
                  "id: 7", "data: [DONE]")
        )
    ]  # fmt: skip
    assert got == ['{"a": 1}', "b\nc", "[DONE]"]
