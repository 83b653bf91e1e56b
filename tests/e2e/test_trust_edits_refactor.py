"""Issue 16, refactor edits: bases, created files that never overwrite, disk files moved mid-run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from kimi_lsp.agent.fanout import PLAN_PROMPT
from tests.fake_kimi import FakeKimi, Reply, ToolCall

from .harness import apply_text_edits, git_workspace, open_document, request, session

ENV = {"MOONSHOT_API_KEY": "sk-test-fake"}
CALC = "a = 1\nb = 2\nc = 3\n"

Hook = Callable[[], None]


@pytest.fixture(autouse=True)
def fresh(fresh_fake: FakeKimi) -> None:
    """Every test starts with an empty script and no records."""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return git_workspace(
        tmp_path / "proj",
        {"calc.py": CALC, "pkg/app.py": "from calc import c\n\nprint(c)\n"},
    )


def options(fake: FakeKimi) -> dict[str, Any]:
    return {"baseUrl": fake.base_url, "maxRetries": 0}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def planned(
    turns: dict[str, list[ToolCall]], between: dict[str, Hook] | None = None
) -> Callable[[dict[str, Any]], Reply]:
    """A planner naming `turns`' files; each file's worker makes its calls in one turn, then
    (the next request, after the tools ran) `between[rel]()` runs and the worker finishes."""

    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        if messages[0]["content"] == PLAN_PROMPT:
            plan = {"plan": "as asked", "files": [{"path": r, "change": "x"} for r in turns]}
            return Reply(content=json.dumps(plan))
        rel = next(r for r in turns if f"# Your file: {r}\n" in messages[1]["content"])
        if not any(m["role"] == "assistant" for m in messages):
            return Reply(tool_calls=turns[rel])
        if between and rel in between:
            between.pop(rel)()
        return Reply(tool_calls=[ToolCall("finish", {"summary": f"changed {rel}"})])

    return respond


def by_file(result: dict[str, Any], mapping: dict[str, Any]) -> dict[str, Any]:
    """A result's map keyed by URI. The test client turns JSON objects into namedtuples,
    which loses keys that are not identifiers (URIs become `_0`, `_1`, ...); the values keep
    their order, which is the order of `files`."""
    return dict(zip(result["files"], mapping.values(), strict=True))


def changes_of(result: dict[str, Any]) -> dict[str, list[Any]]:
    """uri -> TextEdits (as lsprotocol objects, for apply_text_edits), either edit shape."""
    edit = result["edit"]
    out: dict[str, list[Any]] = {}
    if "documentChanges" in edit:
        for change in edit["documentChanges"]:
            if "textDocument" in change:
                out[change["textDocument"]["uri"]] = change["edits"]
    else:
        out = by_file(result, edit["changes"])
    return {
        uri: [
            types.TextEdit(
                range=types.Range(
                    start=types.Position(**e["range"]["start"]),
                    end=types.Position(**e["range"]["end"]),
                ),
                new_text=e["newText"],
            )
            for e in edits
        ]
        for uri, edits in out.items()
    }


async def test_bases_name_the_text_each_edit_was_computed_from(
    fake: FakeKimi, workspace: Path, profile: str
) -> None:
    app = workspace / "pkg" / "app.py"
    fake.set_default(
        planned(
            {
                "calc.py": [
                    ToolCall("replace_in_file", {"path": "calc.py", "old": "b", "new": "B"})
                ],
                "pkg/app.py": [
                    ToolCall("replace_in_file", {"path": "pkg/app.py", "old": "c)", "new": "c!)"})
                ],
                "pkg/new.py": [ToolCall("create_file", {"path": "pkg/new.py", "content": "x\n"})],
            }
        )
    )
    typed = "# typed, unsaved\n" + app.read_text()
    async with session(profile, init_options=options(fake), env=ENV, root=workspace) as client:
        open_document(client, app.as_uri(), typed, version=7)
        result = await request(client, "kimi/refactor", {"instruction": "x", "mode": "preview"})
    assert by_file(result, result["bases"]) == {
        (workspace / "calc.py").as_uri(): sha(CALC.encode()),
        app.as_uri(): sha(typed.encode()),  # the open document's text, not the disk's
        (workspace / "pkg" / "new.py").as_uri(): None,
    }
    edits = changes_of(result)
    assert apply_text_edits(typed, edits[app.as_uri()]) == typed.replace("c)", "c!)")


async def test_created_files_never_overwrite(fake: FakeKimi, workspace: Path) -> None:
    fake.set_default(
        planned({"pkg/new.py": [ToolCall("create_file", {"path": "pkg/new.py", "content": "x\n"})]})
    )
    async with session("vscode", init_options=options(fake), env=ENV, root=workspace) as client:
        result = await request(client, "kimi/refactor", {"instruction": "x", "mode": "preview"})
    [create] = [c for c in result["edit"]["documentChanges"] if c.get("kind") == "create"]
    assert create["uri"] == (workspace / "pkg" / "new.py").as_uri()
    assert create["options"] == {"overwrite": False, "ignoreIfExists": False}


async def test_a_file_changed_on_disk_mid_run_gets_its_edit_on_the_right_line(
    fake: FakeKimi, workspace: Path, profile: str
) -> None:
    calc = workspace / "calc.py"
    moved = "a = 10\nb = 20\n" + CALC  # two lines prepended while the worker was at work

    fake.set_default(
        planned(
            {
                "calc.py": [
                    ToolCall("replace_in_file", {"path": "calc.py", "old": "c = 3", "new": "c = 4"})
                ]
            },
            {"calc.py": lambda: calc.write_text(moved)},
        )
    )
    async with session(profile, init_options=options(fake), env=ENV, root=workspace) as client:
        result = await request(client, "kimi/refactor", {"instruction": "c = 4", "mode": "apply"})
        assert result["applied"] is True and len(client.applied) == 1
    edits = changes_of(result)[calc.as_uri()]
    assert apply_text_edits(moved, edits) == moved.replace("c = 3", "c = 4")  # not a = 10
    assert by_file(result, result["bases"])[calc.as_uri()] == sha(moved.encode())


async def test_a_conflicting_change_on_disk_refuses_the_file(
    fake: FakeKimi, workspace: Path
) -> None:
    calc = workspace / "calc.py"
    fake.set_default(
        planned(
            {
                "calc.py": [
                    ToolCall("replace_in_file", {"path": "calc.py", "old": "c = 3", "new": "c = 4"})
                ],
                "pkg/app.py": [
                    ToolCall("replace_in_file", {"path": "pkg/app.py", "old": "c)", "new": "c!)"})
                ],
            },
            {"calc.py": lambda: calc.write_text(CALC.replace("c = 3", "c = 30"))},
        )
    )
    async with session("vscode", init_options=options(fake), env=ENV, root=workspace) as client:
        result = await request(client, "kimi/refactor", {"instruction": "c = 4", "mode": "apply"})
        assert result["applied"] is False and client.applied == []
        assert "calc.py changed on disk while the refactor ran" in result["summary"]
        assert "Nothing was applied because 1 of the planned files" in result["summary"]
        preview = await request(
            client, "kimi/refactor", {"instruction": "c = 4", "mode": "preview"}
        )
    assert calc.as_uri() not in result["files"]
    assert (workspace / "pkg" / "app.py").as_uri() in preview["files"]  # the rest is previewed
