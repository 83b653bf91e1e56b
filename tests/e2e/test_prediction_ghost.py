"""End-to-end ghost text: textDocument/inlineCompletion over stdio against the fake Kimi API."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from tests.fake_kimi import FakeKimi, Fault, Reply

from .harness import change, git_workspace, open_document, request, session

KEY = "sk-test-fake"
ENV = {"MOONSHOT_API_KEY": KEY}
URI = "file:///tmp/kimi-e2e-ghost/calc.py"
SOURCE = "def add(a, b):\n    return \n\n\nprint(add(1, 2))\n"
CURSOR = (1, 11)  # after "    return "
CLASS_SOURCE = "class Box:\n    def area(self):\n\n\nbox = Box()\n"


@pytest.fixture(autouse=True)
def fresh(fresh_fake: FakeKimi) -> None:
    """Every test starts with an empty script and no records."""


def options(fake: FakeKimi, **prediction: Any) -> dict[str, Any]:
    return {
        "baseUrl": fake.base_url,
        "maxRetries": 0,
        "prediction": {"debounceMs": 0, **prediction},
    }


def ghost_params(
    position: tuple[int, int], uri: str = URI, context: Any = None
) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=position[0], character=position[1]),
        context=context
        or types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
    )


async def ghost(
    client: Any, position: tuple[int, int], uri: str = URI, context: Any = None
) -> list[types.InlineCompletionItem]:
    return items_of(
        await client.text_document_inline_completion_async(ghost_params(position, uri, context))
    )


def items_of(result: Any) -> list[types.InlineCompletionItem]:
    assert isinstance(result, types.InlineCompletionList)
    return list(result.items)


def span(item: types.InlineCompletionItem) -> tuple[int, int, int, int]:
    assert item.range is not None
    start, end = item.range.start, item.range.end
    return start.line, start.character, end.line, end.character


async def status(client: Any) -> dict[str, Any]:
    result: dict[str, Any] = await request(client, "kimi/status", {})
    return dict(result["prediction"])


async def test_ghost_text_at_the_cursor_cut_where_it_repeats_the_suffix(
    fake: FakeKimi, profile: str
) -> None:
    # The model goes on past the cursor's line and repeats the code that follows it.
    fake.enqueue(Reply(content=["a + b\n", "\n\nprint(add(1, 2))\n"]))
    async with session(profile, init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        [item] = await ghost(client, CURSOR)
        assert item.insert_text == "a + b"
        assert span(item) == (1, 11, 1, 11)
        counts = await status(client)
    assert counts["made"] == 1 and counts["shown"] == 1
    body = fake.chat_requests[-1].body
    assert body["thinking"] == {"type": "disabled"}
    assert body["max_completion_tokens"] == 320
    system, user, prefix = body["messages"]
    assert system["role"] == "system" and "complete code at the cursor" in system["content"]
    assert "calc.py" in user["content"] and "\n\n\nprint(add(1, 2))\n" in user["content"]
    assert prefix == {
        "role": "assistant",
        "content": "def add(a, b):\n    return ",
        "partial": True,
    }


async def test_a_multi_line_block_keeps_its_indentation_and_stops_at_the_block_end(
    fake: FakeKimi, profile: str
) -> None:
    body = "\n        width = self.width\n        return width * self.height\n"
    fake.enqueue(Reply(content=body + "\n\nclass Other:\n    pass\n"))
    async with session(profile, init_options=options(fake), env=ENV) as client:
        open_document(client, URI, CLASS_SOURCE)
        [item] = await ghost(client, (1, 19))
    assert item.insert_text == body.rstrip("\n")
    assert span(item) == (1, 19, 1, 19)


async def test_auto_closed_bracket_kept_or_rewritten(fake: FakeKimi) -> None:
    fake.enqueue(Reply(content="1, 2)\n"), Reply(content="1, 2).real\n"))
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, "x = max()\n")
        [inside] = await ghost(client, (0, 8))
        assert (inside.insert_text, span(inside)) == ("1, 2", (0, 8, 0, 8))
        change(client, URI, 2, (0, 0), (0, 0), "y = 1\n")  # a new place: no cached answer
        [rewrite] = await ghost(client, (1, 8))
    assert (rewrite.insert_text, span(rewrite)) == ("1, 2).real", (1, 8, 1, 9))


async def test_typing_through_and_backspacing_answer_without_the_model(
    fake: FakeKimi, profile: str
) -> None:
    fake.enqueue(Reply(content="a + b\n\n\nprint(add(1, 2))\n"))
    async with session(profile, init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        [first] = await ghost(client, CURSOR)
        assert first.insert_text == "a + b"
        change(client, URI, 2, (1, 11), (1, 11), "a ")
        [rest] = await ghost(client, (1, 13))
        assert (rest.insert_text, span(rest)) == ("+ b", (1, 13, 1, 13))
        change(client, URI, 3, (1, 11), (1, 13), "")  # backspaced to where it was made
        [again] = await ghost(client, CURSOR)
        assert again.insert_text == "a + b"
        change(client, URI, 4, (1, 11), (1, 11), "x")  # not the suggestion: the model again
        fake.enqueue(Reply(content=" * 2\n"))
        [other] = await ghost(client, (1, 12))
        assert other.insert_text == " * 2"
        counts = await status(client)
    assert len(fake.chat_requests) == 2
    assert counts["typedThrough"] == 1 and counts["cached"] == 1
    assert counts["made"] == 2 and counts["shown"] == 4


async def test_a_newer_request_answers_the_older_empty_and_closes_its_stream(
    fake: FakeKimi, profile: str
) -> None:
    gate = f"held-{uuid.uuid4().hex}"
    fake.enqueue(Reply(content="never shown", gate=gate), Reply(content="a + b\n"))
    async with session(profile, init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        older = asyncio.ensure_future(ghost(client, CURSOR))
        await fake.wait_for_in_flight(1)
        change(client, URI, 2, (1, 11), (1, 11), "(")
        newer = await ghost(client, (1, 12))
        assert await older == []
        gone = await fake.wait_for_disconnect()
        assert gone.outcome == "client_disconnected"
        assert [item.insert_text for item in newer] == ["a + b"]
        counts = await status(client)
        fake.open_gate(gate)
    assert counts["superseded"] == 1 and counts["made"] == 2


async def test_prediction_off_or_over_the_cap_calls_nothing(fake: FakeKimi) -> None:
    async with session("vscode", init_options=options(fake, enabled=False), env=ENV) as client:
        open_document(client, URI, SOURCE)
        assert await ghost(client, CURSOR) == []
        assert (await status(client))["enabled"] is False
    async with session("neovim", init_options=options(fake, maxCostPerHour=0), env=ENV) as c2:
        open_document(c2, URI, SOURCE)
        assert await ghost(c2, CURSOR) == []
        counts = await status(c2)
    assert counts["capped"] == 1 and counts["made"] == 0
    assert fake.chat_requests == []


async def test_nothing_for_a_menu_an_unknown_document_or_a_secret_file(fake: FakeKimi) -> None:
    menu = types.InlineCompletionContext(
        trigger_kind=types.InlineCompletionTriggerKind.Automatic,
        selected_completion_info=types.SelectedCompletionInfo(
            range=types.Range(start=types.Position(line=1, character=4), end=types.Position(
                line=1, character=11)),
            text="return_value",
        ),
    )  # fmt: skip
    secret = "file:///tmp/kimi-e2e-ghost/.env"
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        open_document(client, secret, "API_TOKEN=\n")
        assert await ghost(client, CURSOR, context=menu) == []
        assert await ghost(client, (0, 0), uri="file:///tmp/kimi-e2e-ghost/closed.py") == []
        assert await ghost(client, (0, 10), uri=secret) == []
    assert fake.chat_requests == []


@pytest.mark.parametrize("fault", ["server_error", "auth"])
async def test_a_failing_api_answers_nothing_and_the_server_goes_on(
    fake: FakeKimi, fault: str
) -> None:
    fake.enqueue(getattr(Fault, fault)(), getattr(Fault, fault)(), Reply(content="a + b\n"))
    async with session("vscode", init_options=options(fake), env=ENV) as client:
        open_document(client, URI, SOURCE)
        assert await ghost(client, CURSOR) == []
        assert await ghost(client, CURSOR) == []
        [item] = await ghost(client, CURSOR, context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked))  # fmt: skip
        assert item.insert_text == "a + b"
        counts = await status(client)
        logged = [m.message for m in client.log_messages if "Ghost text" in m.message]
        shown = list(client.messages)  # window/showMessage: nothing pops up while typing
    assert counts["made"] == 3 and counts["shown"] == 1
    assert len(fake.chat_requests) == 3
    assert len(logged) == 1 and "the model failed" in logged[0]
    assert shown == []


async def test_the_files_stable_context_leads_every_prompt_of_the_file(
    fake: FakeKimi, tmp_path: Path
) -> None:
    root = git_workspace(tmp_path / "ws", {
        "helpers.py": "def scale(x):\n    return x * 3\n",
        "main.py": "from helpers import scale\n\nvalue = \n",
    })  # fmt: skip
    uri = (root / "main.py").as_uri()
    fake.enqueue(Reply(content="scale(2)\n"), Reply(content="scale(4)\n"))
    async with session("vscode", init_options=options(fake), env=ENV, root=root) as client:
        open_document(client, uri, "from helpers import scale\n\nvalue = \n")
        block = await request(client, "kimi/ghostContext", {"textDocument": {"uri": uri}})
        assert "def scale(x):" in block["text"]
        [first] = await ghost(client, (2, 8), uri=uri)
        change(client, uri, 2, (2, 8), (2, 8), "3 * ")  # not the suggestion: the model again
        [second] = await ghost(client, (2, 12), uri=uri)
    assert (first.insert_text, second.insert_text) == ("scale(2)", "scale(4)")
    one, two = (r.body["messages"] for r in fake.chat_requests[-2:])
    assert "def scale(x):" in one[0]["content"] and one[0] == two[0] and one[1] == two[1]
    assert two[2]["content"] == "from helpers import scale\n\nvalue = 3 * "


async def test_a_request_superseded_in_its_debounce_never_calls_the_model(
    fake: FakeKimi,
) -> None:
    fake.enqueue(Reply(content="a + b\n"))
    # A debounce longer than any hang guard (so a loaded machine cannot outwait it); an
    # invoked request (triggerKind 1) skips it.
    init = options(fake, debounceMs=60_000)
    async with session("vscode", init_options=init, env=ENV) as client:
        open_document(client, URI, SOURCE)
        # Tasks start in order: the typing request is sent before the status request, and the
        # server answers the status after it has put the typing request in its debounce.
        typing = asyncio.ensure_future(ghost(client, CURSOR))
        await asyncio.ensure_future(status(client))
        invoked = types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        )
        [item] = await ghost(client, CURSOR, context=invoked)
        assert await typing == []
        counts = await status(client)
    assert item.insert_text == "a + b"
    assert len(fake.chat_requests) == 1 and counts["made"] == 1 and counts["superseded"] == 1


async def test_spending_up_to_the_cap_stops_predictions(fake: FakeKimi) -> None:
    fake.enqueue(Reply(content="a + b\n"))
    async with session("vscode", init_options=options(fake, maxCostPerHour=1e-9), env=ENV) as c:
        open_document(c, URI, SOURCE)
        [item] = await ghost(c, CURSOR)
        change(c, URI, 2, (1, 11), (1, 11), "x")  # not the suggestion: it would need the model
        assert await ghost(c, (1, 12)) == []
        counts = await status(c)
    assert item.insert_text == "a + b" and len(fake.chat_requests) == 1
    assert counts["capped"] == 1 and counts["costLastHour"] > 0


async def test_a_client_that_shows_ghost_text_warms_the_server_at_the_first_keystroke(
    fake: FakeKimi, profile: str
) -> None:
    # The first suggestion must not pay for loading the SDK and the tokenizer (~0.5 s): a
    # client declaring inlineCompletion has them loaded when the user starts typing.
    def shows_ghost_text(capabilities: types.ClientCapabilities) -> None:
        document = capabilities.text_document or types.TextDocumentClientCapabilities()
        document.inline_completion = types.InlineCompletionClientCapabilities()
        capabilities.text_document = document

    async with session(
        profile, init_options=options(fake), env=ENV, adjust=shows_ghost_text
    ) as client:
        open_document(client, URI, SOURCE)
        before = await request(client, "kimi/status", {})
        assert str(before["tokenizer"]).startswith("not loaded yet")
        change(client, URI, 2, CURSOR, CURSOR, "a")

        async def warmed() -> None:
            while not any("Warmed up" in m.message for m in client.log_messages):
                await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)

        await asyncio.wait_for(warmed(), 30)  # a hang guard, not a time limit
        after = await request(client, "kimi/status", {})
        assert not str(after["tokenizer"]).startswith("not loaded yet")
        assert fake.chat_requests == []  # warming calls no API
