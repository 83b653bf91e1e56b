"""Refactor fan-out against the fake Kimi API: plan, parallel bounded workers, merge, fallback."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from kimi_lsp.agent.fanout import PLAN_PROMPT, WORKER_PROMPT, merge, parse_plan, run_refactor
from kimi_lsp.errors import RequestFailedError
from tests.fake_kimi import FakeKimi, Fault, Reply, ToolCall
from tests.unit.conftest import MakeModelClient
from tests.unit.test_agent_loop import assert_protocol
from tests.unit.test_agent_tools import make_workspace

EDITS: dict[str, dict[str, Any]] = {
    "src/config.py": {"old": "class Config:", "new": "class Settings:"},
    "src/app.py": {"old": "Config", "new": "Settings", "replace_all": True},
    "docs/guide.md": {"old": "`Config`", "new": "`Settings`"},
}
PLAN = {
    "plan": "Rename the class Config to Settings everywhere.",
    "files": [{"path": rel, "change": "rename Config"} for rel in EDITS],
}


def own_file(body: dict[str, Any]) -> str | None:
    found = re.search(r"^# Your file: (\S+)$", body["messages"][1]["content"], re.MULTILINE)
    return found.group(1) if found else None


def has_tool_results(body: dict[str, Any]) -> bool:
    return any(m["role"] == "tool" for m in body["messages"])


def planner_then_workers(plan_answer: str, gate: str | None = None) -> Any:
    """A responder: the planner searches once then answers; each worker edits and finishes."""

    def respond(body: dict[str, Any]) -> Reply:
        if body["messages"][0]["content"] == PLAN_PROMPT:
            if not has_tool_results(body):
                return Reply(
                    reasoning="look", tool_calls=[ToolCall("search", {"pattern": "Config"})]
                )
            return Reply(reasoning="plan", content=plan_answer)
        rel = own_file(body)
        assert rel is not None and body["messages"][0]["content"] == WORKER_PROMPT
        return Reply(
            reasoning=f"edit {rel}",
            gate=gate,
            tool_calls=[
                ToolCall("replace_in_file", {"path": rel, **EDITS[rel]}),
                ToolCall("finish", {"summary": f"renamed in {rel}"}),
            ],
        )

    return respond


async def test_plan_then_parallel_workers_bounded_by_the_semaphore(
    model_fake: FakeKimi, make_model_client: MakeModelClient, tmp_path: Path
) -> None:
    engine, ws = make_workspace(tmp_path)
    model_fake.set_default(planner_then_workers("```json\n" + json.dumps(PLAN) + "\n```", "go"))
    progress: list[tuple[str, str | None]] = []
    task = asyncio.create_task(
        run_refactor(
            make_model_client(max_concurrent_requests=8),
            engine,
            "rename Config to Settings",
            api_key="sk-test-fake",
            max_concurrency=2,
            on_progress=lambda m, r: progress.append((m, r)),
        )
    )
    await model_fake.wait_for_in_flight(2)  # two workers held at the gate at once
    model_fake.open_gate("go")
    outcome = await task
    assert model_fake.stats.max_in_flight == 2  # parallel, and never above the bound
    assert outcome.mode == "fanout" and outcome.conflicts == [] and outcome.notes == []
    assert outcome.files == list(EDITS)
    assert outcome.changes == {
        "docs/guide.md": ("Create a `Config` first.\n", "Create a `Settings` first.\n"),
        "src/app.py": (
            "from config import Config\n\ncfg = Config()\nother = Config()\n",
            "from config import Settings\n\ncfg = Settings()\nother = Settings()\n",
        ),
        "src/config.py": (
            "class Config:\n    debug = False\n",
            "class Settings:\n    debug = False\n",
        ),
    }
    assert "- src/app.py: renamed in src/app.py" in outcome.summary
    assert outcome.usage.requests == 5 and outcome.steps == 5  # plan: 2 calls; workers: 1 each
    assert ("Editing src/app.py", "src/app.py") in progress
    assert not (ws / "src/app.py").read_text().count("Settings")
    workers = [r.body for r in model_fake.chat_requests if own_file(r.body)]
    users = [b["messages"][1]["content"] for b in workers]
    shared = users[0].split("# Your file:")[0]
    assert shared.startswith("# Instruction\nrename Config to Settings\n\n# Plan\nRename")
    assert all(u.startswith(shared) for u in users)  # a byte-identical prefix for the cache
    assert all("    1| " in u for u in users)  # each starts from its own file, numbered
    assert_protocol(model_fake)


async def test_unparseable_plan_falls_back_to_one_run(
    model_fake: FakeKimi, make_model_client: MakeModelClient, tmp_path: Path
) -> None:
    engine, _ = make_workspace(tmp_path)
    edit = {"path": "src/config.py", "old": "debug = False", "new": "debug = True"}
    model_fake.enqueue(
        Reply(reasoning="r", tool_calls=[ToolCall("read_file", {"path": "src/config.py"})]),
        Reply(reasoning="r", content="I would flip the debug flag."),  # no JSON plan
        Reply(  # edits at once: the planning run's read counts
            reasoning="r",
            tool_calls=[ToolCall("replace_in_file", edit), ToolCall("finish", {"summary": "On."})],
        ),
    )
    outcome = await run_refactor(make_model_client(), engine, "turn debug on")
    assert outcome.mode == "single" and outcome.summary == "On."
    assert outcome.changes == {
        "src/config.py": ("class Config:\n    debug = False\n", "class Config:\n    debug = True\n")
    }
    first, _, last = (r.body for r in model_fake.chat_requests)
    assert [t["function"]["name"] for t in first["tools"]] == ["list_files", "read_file", "search"]
    assert "replace_in_file" in [t["function"]["name"] for t in last["tools"]]
    assert last["messages"][-1]["role"] == "user"
    assert outcome.usage.requests == 3
    assert_protocol(model_fake)


async def test_plan_paths_are_confined_deduplicated_and_scoped(
    model_fake: FakeKimi, make_model_client: MakeModelClient, tmp_path: Path
) -> None:
    engine, _ = make_workspace(tmp_path)
    plan = {
        "plan": "Rename.",
        "files": ["../../etc/passwd", "/etc/passwd", "src/app.py", "./src/app.py", "src/config.py"],
    }
    model_fake.set_default(planner_then_workers(json.dumps(plan)))
    outcome = await run_refactor(
        make_model_client(), engine, "rename", scope_files=["src/app.py"], max_concurrency=1
    )
    assert outcome.files == ["src/app.py"] and list(outcome.changes) == ["src/app.py"]
    notes = "\n".join(outcome.notes)
    assert "'..' is not allowed" in notes and "absolute paths" in notes
    assert "planned twice" in notes and "src/config.py is outside the requested files" in notes
    assert model_fake.stats.max_in_flight == 1


async def test_all_workers_failing_raises_the_error(
    model_fake: FakeKimi, make_model_client: MakeModelClient, tmp_path: Path
) -> None:
    engine, _ = make_workspace(tmp_path)
    model_fake.enqueue(Reply(reasoning="r", content=json.dumps({"plan": "x", "files": ["a.py"]})))
    model_fake.set_default(Fault.quota())
    with pytest.raises(RequestFailedError):
        await run_refactor(make_model_client(), engine, "x")


def streamed_plan(files: list[str], text: str = "Rename Config to Settings.") -> list[str]:
    """The plan's JSON cut so each file entry is its own chunk."""
    entries = [json.dumps({"path": rel, "change": "rename Config"}) for rel in files]
    return [json.dumps({"plan": text})[:-1] + ', "files": [', *[e + "," for e in entries], "]}"]


async def test_workers_start_while_the_plan_still_streams(
    model_fake: FakeKimi, make_model_client: MakeModelClient, tmp_path: Path
) -> None:
    engine, _ = make_workspace(tmp_path)
    chunks = streamed_plan(list(EDITS))
    chunks[-2] = chunks[-2].removesuffix(",")

    def respond(body: dict[str, Any]) -> Reply:
        if body["messages"][0]["content"] == PLAN_PROMPT:
            # role, the head, two entries; then the stream stalls before the third entry.
            return Fault.stall(after=4, reply=Reply(content=chunks))
        return Reply(reasoning="held", gate="plan-stream-workers-held")

    model_fake.set_default(respond)
    task = asyncio.create_task(
        run_refactor(
            make_model_client(max_concurrent_requests=4), engine, "rename", max_concurrency=4
        )
    )
    await model_fake.wait_for_in_flight(3)  # the plan, still streaming, and two workers
    plan, *workers = model_fake.chat_requests
    assert plan.outcome == "in_progress"
    assert sorted(own_file(w.body) or "" for w in workers) == ["src/app.py", "src/config.py"]
    header = workers[0].body["messages"][1]["content"]
    assert header.startswith("# Instruction\nrename\n\n# Plan\nRename Config to Settings.")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await model_fake.wait_for_idle()
    assert {r.outcome for r in model_fake.chat_requests} == {"client_disconnected"}


async def test_early_workers_of_a_turn_that_was_not_the_answer_are_dropped(
    model_fake: FakeKimi, make_model_client: MakeModelClient, tmp_path: Path
) -> None:
    engine, ws = make_workspace(tmp_path)
    before = (ws / "src/app.py").read_text()
    first = streamed_plan(["src/app.py"])  # a plan-shaped text beside a tool call
    final = json.dumps({"plan": "Rename in the docs.", "files": ["docs/guide.md"]})

    def respond(body: dict[str, Any]) -> Reply:
        if body["messages"][0]["content"] == PLAN_PROMPT:
            if not has_tool_results(body):
                return Reply(
                    content=[*first[:-1], first[-1].removesuffix(",")],
                    tool_calls=[ToolCall("search", {"pattern": "Config"})],
                )
            return Reply(reasoning="plan", content=final)
        rel = own_file(body)
        assert rel is not None
        return Reply(
            reasoning=f"edit {rel}",
            tool_calls=[
                ToolCall("replace_in_file", {"path": rel, **EDITS[rel]}),
                ToolCall("finish", {"summary": f"renamed in {rel}"}),
            ],
        )

    model_fake.set_default(respond)
    outcome = await run_refactor(make_model_client(), engine, "rename", max_concurrency=4)
    assert outcome.mode == "fanout" and outcome.files == ["docs/guide.md"]
    assert list(outcome.changes) == ["docs/guide.md"]
    assert (ws / "src/app.py").read_text() == before
    assert "planned twice" not in "\n".join(outcome.notes)


def test_parse_plan_accepts_fences_and_prose_only_around_json() -> None:
    plan = parse_plan('Here:\n```json\n{"plan": "p", "files": ["a.py", {"path": "b.py"}]}\n```')
    assert plan is not None and [f.rel for f in plan.files] == ["a.py", "b.py"]
    assert parse_plan("no plan") is None
    assert parse_plan('{"plan": "p"}') is None
    assert parse_plan('{"files": [3]}') is None


def test_merge_keeps_the_first_of_two_overlapping_workers() -> None:
    changes, conflicts = merge(
        [
            ("a.py", {"x.py": ("old", "first")}),
            ("b.py", {"x.py": ("old", "second"), "b.py": (None, "new")}),
            ("c.py", {"x.py": ("old", "first")}),  # the same edit is no conflict
        ]
    )
    assert changes == {"b.py": (None, "new"), "x.py": ("old", "first")}
    assert len(conflicts) == 1 and "kept the edit of a.py's worker" in conflicts[0]
