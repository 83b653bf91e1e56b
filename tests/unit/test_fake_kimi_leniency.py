"""The server against the strict fake, one test per leniency the old fake had (issue 19): each
fails if the server regressed to what the lenient fake let through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kimi_lsp.agent.loop import run_agent
from kimi_lsp.model.types import ModelRequest
from tests.fake_kimi import FakeKimi, Reply, ToolCall
from tests.unit.conftest import MakeModelClient
from tests.unit.test_agent_tools import make_toolbox, make_workspace

SYSTEM = {"role": "system", "content": "You refactor code with tools."}
ASK = [SYSTEM, {"role": "user", "content": "look at the config"}]
USER = [{"role": "user", "content": "hi"}]


def sent_turns(fake: FakeKimi) -> list[dict[str, Any]]:
    """The assistant tool-call messages the server sent back, from the last request."""
    messages = fake.chat_requests[-1].body["messages"]
    return [m for m in messages if m["role"] == "assistant" and m.get("tool_calls")]


@pytest.mark.parametrize("style", ["functions.name:N", "name:N", "name_N"])
async def test_a_tool_call_ids_go_back_verbatim(
    make_model_client: MakeModelClient, tmp_path: Path, style: str
) -> None:
    """(a) Ids replaced by our own are refused by the fake (it knows what it issued)."""
    async with FakeKimi(tool_call_id_style=style) as fake:
        fake.enqueue(
            Reply(reasoning="read", tool_calls=[ToolCall("read_file", {"path": "src/app.py"})]),
            Reply(reasoning="again", tool_calls=[ToolCall("list_files", {})]),
            Reply(reasoning="done", content="It imports Config."),
        )
        engine, _ = make_workspace(tmp_path)
        outcome = await run_agent(make_model_client(fake), ASK, make_toolbox(engine))
        assert outcome.stopped_reason == "answered" and outcome.summary == "It imports Config."
        assert fake.validation_errors == []
        sent = [call["id"] for turn in sent_turns(fake) for call in turn["tool_calls"]]
        assert sent and set(sent) <= fake.issued_tool_call_ids
        assert len(sent) == 2


async def test_b_every_tool_call_of_a_turn_gets_its_result(
    model_fake: FakeKimi, make_model_client: MakeModelClient, tmp_path: Path
) -> None:
    """(b) A turn whose calls succeed, fail and try to finish: each id answered before the next
    request goes on (the fake refuses an assistant tool call without a tool result)."""
    model_fake.enqueue(
        Reply(
            reasoning="several at once",
            tool_calls=[
                ToolCall("read_file", {"path": "src/app.py"}),
                ToolCall("read_file", {"path": "src/missing.py"}),
                ToolCall("finish", {"summary": "too early"}),
            ],
        ),
        Reply(reasoning="ok", content="Nothing to change."),
    )
    engine, _ = make_workspace(tmp_path)
    outcome = await run_agent(make_model_client(), ASK, make_toolbox(engine))
    assert outcome.stopped_reason == "answered" and outcome.steps == 2
    assert model_fake.validation_errors == []
    messages = model_fake.chat_requests[-1].body["messages"]
    [turn] = sent_turns(model_fake)
    ids = [call["id"] for call in turn["tool_calls"]]
    at = messages.index(turn)
    answered = [m["tool_call_id"] for m in messages[at + 1 : at + 1 + len(ids)]]
    assert sorted(answered) == sorted(ids)


async def test_c_usage_only_in_the_finishing_choice_is_counted_once() -> None:
    """(c) A relay that ignores stream_options: usage only in `choices[0].usage`; and with the
    trailing chunk too, the same request is not counted twice."""
    from kimi_lsp.config import Settings
    from kimi_lsp.model.client import ModelClient

    for honor in (False, True):
        async with FakeKimi(honor_include_usage=honor) as fake:
            fake.enqueue(
                Reply(content="abcdefgh", usage={"prompt_tokens": 1000, "cached_tokens": 512})
            )
            client = ModelClient(Settings(api_key="sk-test-fake", base_url=fake.base_url))
            try:
                result = await client.complete(ModelRequest(USER, purpose="edit"))
            finally:
                await client.aclose()
        usage = result.usage
        assert (usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens) == (1000, 512, 2)
        assert not usage.estimated and usage.cost > 0
        assert client.totals.requests == 1 and client.totals.prompt_tokens == 1000


@pytest.mark.parametrize(("streamed", "sent"), [("", " "), ("look first", "look first")])
async def test_d_reasoning_of_a_tool_call_turn_is_never_sent_empty(
    model_fake: FakeKimi,
    make_model_client: MakeModelClient,
    tmp_path: Path,
    streamed: str,
    sent: str,
) -> None:
    """(d) Thinking on: the reasoning goes back verbatim; a turn that streamed none goes back
    with a single space (the API takes "" for missing)."""
    model_fake.enqueue(
        Reply(reasoning=streamed, tool_calls=[ToolCall("list_files", {})]),
        Reply(reasoning="r", content="Listed."),
    )
    engine, _ = make_workspace(tmp_path)
    outcome = await run_agent(make_model_client(), ASK, make_toolbox(engine))
    assert outcome.stopped_reason == "answered" and model_fake.validation_errors == []
    assert model_fake.chat_requests[-1].body["thinking"] == {"type": "enabled"}
    [turn] = sent_turns(model_fake)
    assert turn["reasoning_content"] == sent


def test_an_empty_answer_is_not_sent_back_as_an_empty_assistant_message(tmp_path: Path) -> None:
    """A chat turn the model answered with no text: sending it back as `{"role": "assistant",
    "content": ""}` gets every later turn of the conversation refused (Moonshot: "the message at
    position N with role 'assistant' must not be empty"), so the pair is left out."""
    from kimi_lsp.chat.conversations import Turn
    from kimi_lsp.chat.history import history_messages
    from kimi_lsp.tokens.counter import TokenCounter
    from tests.fake_kimi.config import FakeConfig
    from tests.fake_kimi.validate import validate_chat

    counter = TokenCounter(env={"XDG_CACHE_HOME": str(tmp_path)})
    turns = [Turn("first?", "one"), Turn("second?", ""), Turn("third?", "three")]
    history, _, dropped = history_messages(turns, 100_000, counter)
    assert [m["content"] for m in history] == ["first?", "one", "third?", "three"]
    assert dropped == 0  # left out, not dropped for the budget
    body = {"model": "kimi-k2.6", "messages": [*history, {"role": "user", "content": "and?"}]}
    validate_chat(body, FakeConfig().rules())  # the strict fake's checks: raises if refused
