"""The tool-calling loop against the fake Kimi API: edits, refusals, limits, compaction, cancel."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from kimi_lsp.agent.loop import compact, run_agent
from kimi_lsp.agent.tools import ToolBox
from tests.fake_kimi import FakeKimi, Fault, Reply, ToolCall
from tests.unit.conftest import MakeModelClient
from tests.unit.test_agent_tools import API_KEY, OUTSIDE_TEXT, make_toolbox, make_workspace

SYSTEM = {"role": "system", "content": "You refactor code with tools."}


def ask(text: str) -> list[dict[str, Any]]:
    return [SYSTEM, {"role": "user", "content": text}]


def tool_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body["messages"] if m["role"] == "tool"]


def assert_protocol(fake: FakeKimi) -> None:
    """Every request was accepted; thinking on, tool_choice auto, ids sent back verbatim."""
    assert fake.stats.validation_errors == []
    issued: set[str] = set()
    for record in fake.chat_requests:
        body = record.body
        assert record.status == 200
        assert body["tool_choice"] == "auto" and body["thinking"] == {"type": "enabled"}
        for message in body["messages"]:
            if message["role"] == "assistant" and message.get("tool_calls"):
                assert isinstance(message.get("reasoning_content"), str)
                issued |= {c["id"] for c in message["tool_calls"]}
            if message["role"] == "tool":
                assert message["tool_call_id"] in issued
                assert message["tool_call_id"].startswith("functions.")


@pytest.fixture
def workspace(tmp_path: Path) -> Any:
    return make_workspace(tmp_path)


async def test_two_file_rename_lands_in_the_overlay(
    model_fake: FakeKimi, make_model_client: MakeModelClient, workspace: Any
) -> None:
    engine, ws = workspace
    model_fake.enqueue(
        Reply(
            reasoning="Read both files first.",
            tool_calls=[
                ToolCall("read_file", {"path": "src/config.py"}),
                ToolCall("read_file", {"path": "src/app.py"}),
            ],
        ),
        Reply(
            reasoning="Now rename.",
            tool_calls=[
                ToolCall(
                    "replace_in_file",
                    {"path": "src/config.py", "old": "class Config:", "new": "class Settings:"},
                ),
                ToolCall(
                    "replace_in_file",
                    {"path": "src/app.py", "old": "Config", "new": "Settings", "replace_all": True},
                ),
            ],
        ),
        Reply(reasoning="Done.", content="Renamed Config to Settings in two files."),
    )
    progress: list[tuple[str, str | None]] = []
    outcome = await run_agent(
        make_model_client(),
        ask("rename Config to Settings"),
        make_toolbox(engine),
        on_progress=lambda message, rel: progress.append((message, rel)),
    )
    assert outcome.stopped_reason == "answered" and outcome.steps == 3
    assert outcome.summary == "Renamed Config to Settings in two files."
    assert outcome.changed == {
        "src/app.py": (
            "from config import Config\n\ncfg = Config()\nother = Config()\n",
            "from config import Settings\n\ncfg = Settings()\nother = Settings()\n",
        ),
        "src/config.py": (
            "class Config:\n    debug = False\n",
            "class Settings:\n    debug = False\n",
        ),
    }
    assert (ws / "src/config.py").read_text().startswith("class Config:")  # disk untouched
    assert outcome.usage_total.requests == 3 and outcome.usage_total.prompt_tokens > 0
    assert ("Editing src/app.py", "src/app.py") in progress
    assert_protocol(model_fake)
    last = model_fake.chat_requests[-1].body
    assert [m["content"][:6] for m in tool_messages(last)] == [
        "src/co",
        "src/ap",
        "Edited",
        "Edited",
    ]
    assert [m["name"] for m in tool_messages(last)][:2] == ["read_file", "read_file"]


async def test_hostile_calls_are_refused_and_nothing_leaks(
    model_fake: FakeKimi, make_model_client: MakeModelClient, workspace: Any
) -> None:
    engine, _ = workspace
    hostile = [
        ToolCall("read_file", {"path": "../../etc/passwd"}),
        ToolCall("read_file", {"path": "/etc/passwd"}),
        ToolCall("read_file", {"path": "link_out"}),
        ToolCall("search", {"pattern": "root:x", "glob": "dir_out/**"}),
        ToolCall("read_file", {"path": ".env"}),
        ToolCall("replace_in_file", {"path": "src/app.py", "old": "cfg", "new": "c"}),
        ToolCall("create_file", {"path": "../escape.py", "content": "x"}),
    ]
    model_fake.enqueue(
        Reply(reasoning="probe", tool_calls=hostile),
        Reply(reasoning="read", tool_calls=[ToolCall("read_file", {"path": "keyed.py"})]),
        Reply(
            reasoning="edit",
            tool_calls=[
                ToolCall("read_file", {"path": "src/app.py"}),
                ToolCall("replace_in_file", {"path": "src/app.py", "old": "Config()", "new": "X"}),
            ],
        ),
        Reply(content="I could not do it."),
    )
    outcome = await run_agent(make_model_client(), ask("probe"), make_toolbox(engine))
    assert outcome.changed == {} and outcome.stopped_reason == "answered"
    assert outcome.tool_errors == len(hostile)  # six refusals (the search finds nothing) + one
    results = [m["content"] for m in tool_messages(model_fake.chat_requests[-1].body)]
    assert all(r.startswith("Error:") or r.startswith("No matches") for r in results[:7])
    assert "occurs 2 times" in results[-1]
    assert_protocol(model_fake)
    for record in model_fake.chat_requests:
        raw = record.raw_body.decode()
        for leaked in (OUTSIDE_TEXT, "env-secret-value-42", API_KEY, str(engine.index.roots[0])):
            assert leaked not in raw


async def test_malformed_arguments_get_an_error_and_the_loop_goes_on(
    model_fake: FakeKimi, make_model_client: MakeModelClient, workspace: Any
) -> None:
    model_fake.enqueue(
        Reply(reasoning="r", tool_calls=[ToolCall("read_file", '{"path": "src/app.py"')]),
        Reply(reasoning="r", tool_calls=[ToolCall("read_file", '{"path": "src/app.py"}')]),
        Reply(content="ok"),
    )
    outcome = await run_agent(make_model_client(), ask("x"), make_toolbox(workspace[0]))
    assert outcome.stopped_reason == "answered" and outcome.steps == 3
    first, second = tool_messages(model_fake.chat_requests[-1].body)
    assert first["content"].startswith("Error: the arguments of read_file are not valid JSON")
    assert second["content"].startswith("src/app.py (lines 1-4 of 4)")
    assert_protocol(model_fake)


async def test_step_limit_stops_the_run(
    model_fake: FakeKimi, make_model_client: MakeModelClient, workspace: Any
) -> None:
    model_fake.set_default(
        lambda body: Reply(reasoning="again", tool_calls=[ToolCall("list_files")])
    )
    outcome = await run_agent(
        make_model_client(), ask("x"), make_toolbox(workspace[0]), max_steps=3
    )
    assert outcome.stopped_reason == "max_steps" and outcome.steps == 3
    assert "Stopped after 3 steps" in outcome.summary
    assert len(model_fake.chat_requests) == 3
    assert_protocol(model_fake)


async def test_finish_tool_ends_the_run_without_another_call(
    model_fake: FakeKimi, make_model_client: MakeModelClient, workspace: Any
) -> None:
    replace = {"path": "src/config.py", "old": "debug = False", "new": "debug = True"}
    model_fake.enqueue(
        Reply(reasoning="r", tool_calls=[ToolCall("read_file", {"path": "src/config.py"})]),
        Reply(  # the edit fails (not found): finish is refused, the loop goes on
            reasoning="r",
            tool_calls=[
                ToolCall("replace_in_file", {**replace, "old": "nope"}),
                ToolCall("finish", {"summary": "too early"}),
            ],
        ),
        Reply(
            reasoning="r",
            tool_calls=[
                ToolCall("replace_in_file", replace),
                ToolCall("finish", {"summary": "Turned debug on."}),
            ],
        ),
    )
    outcome = await run_agent(make_model_client(), ask("debug on"), make_toolbox(workspace[0]))
    assert outcome.stopped_reason == "finished" and outcome.summary == "Turned debug on."
    assert outcome.steps == 3 and len(model_fake.chat_requests) == 3
    refused = tool_messages(model_fake.chat_requests[-1].body)[-1]
    assert refused["name"] == "finish" and "not finished" in refused["content"]
    assert outcome.changed["src/config.py"][1] == "class Config:\n    debug = True\n"


class CharCounter:
    """Four characters a token: a deterministic stand-in for TokenCounter."""

    def count_messages(self, messages: Any) -> int:
        return sum(len(json.dumps(m)) for m in messages) // 4


async def test_old_tool_results_are_compacted_near_the_budget(
    model_fake: FakeKimi, make_model_client: MakeModelClient, workspace: Any
) -> None:
    engine, ws = workspace
    (ws / "big.py").write_text("".join(f"value_{i} = {i}\n" for i in range(800)))
    read = ToolCall("read_file", {"path": "big.py"})
    model_fake.enqueue(
        *(Reply(reasoning=f"r{i}", tool_calls=[read]) for i in range(3)),
        Reply(content="done"),
    )
    outcome = await run_agent(
        make_model_client(),
        ask("read a lot"),
        make_toolbox(engine),
        counter=CharCounter(),
        window_budget=8_000,
    )
    assert outcome.stopped_reason == "answered" and outcome.compacted >= 2
    bodies = [r.body for r in model_fake.chat_requests]
    final = tool_messages(bodies[-1])
    assert [m["content"].startswith("[compacted: ") for m in final] == [True, True, False]
    assert len({m["tool_call_id"] for m in final}) == 3
    assert CharCounter().count_messages(bodies[-1]["messages"]) < 8_000
    assert_protocol(model_fake)


def test_compact_keeps_the_latest_turn() -> None:
    history: list[dict[str, Any]] = [
        SYSTEM,
        {"role": "assistant", "content": "", "tool_calls": [{"id": "a"}]},
        {"role": "tool", "tool_call_id": "a", "name": "read_file", "content": "x" * 4000},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "b"}]},
        {"role": "tool", "tool_call_id": "b", "name": "read_file", "content": "y" * 4000},
    ]
    assert compact(history, CharCounter(), 100_000) == 0
    assert compact(history, CharCounter(), 500) == 1
    assert history[2] == {
        "role": "tool",
        "tool_call_id": "a",
        "name": "read_file",
        "content": "[compacted: 4000 chars]",
    }
    assert history[4]["content"] == "y" * 4000


async def test_cancel_mid_run_closes_the_stream(
    model_fake: FakeKimi, make_model_client: MakeModelClient, workspace: Any
) -> None:
    model_fake.enqueue(
        Reply(reasoning="r", tool_calls=[ToolCall("read_file", {"path": "src/app.py"})]),
        Fault.stall(after=2, reply=Reply(reasoning="thinking forever", content="never")),
    )
    box: ToolBox = make_toolbox(workspace[0])
    task = asyncio.create_task(run_agent(make_model_client(), ask("x"), box))
    await model_fake.wait_for(lambda: len(model_fake.chat_requests) == 2)
    await model_fake.wait_for(lambda: model_fake.chat_requests[1].events_sent >= 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = await model_fake.wait_for_disconnect()
    assert record.seq == model_fake.chat_requests[1].seq
    assert record.outcome == "client_disconnected"
    assert box.overlay.changed() == {}
