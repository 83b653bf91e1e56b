"""End-to-end refactor: a planned two-file rename arrives as one annotated WorkspaceEdit."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from kimi_lsp.agent.fanout import PLAN_PROMPT
from tests.fake_kimi import FakeKimi, Reply, ToolCall

from .harness import apply_text_edits, git_workspace, open_document, request, session

KEY = "sk-test-fake"
ENV = {"MOONSHOT_API_KEY": KEY}
EDITS: dict[str, dict[str, Any]] = {
    "pkg/config.py": {"old": "class Config:", "new": "class Settings:"},
    "pkg/app.py": {"old": "Config", "new": "Settings", "replace_all": True},
}
PLAN = {
    "plan": "Rename Config to Settings.",
    "files": [{"path": r, "change": "rename"} for r in EDITS],
}


@pytest.fixture(autouse=True)
def fresh(fresh_fake: FakeKimi) -> None:
    """Every test starts with an empty script and no records."""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return git_workspace(
        tmp_path / "proj",
        {
            "pkg/config.py": "class Config:\n    debug = False\n",
            "pkg/app.py": "from pkg.config import Config\n\n\ndef make() -> Config:\n"
            "    return Config()\n",
            ".env": "SECRET_TOKEN=do-not-send-me-0123456789\n",
        },
    )


def own_file(body: dict[str, Any]) -> str | None:
    found = re.search(r"^# Your file: (\S+)$", body["messages"][1]["content"], re.MULTILINE)
    return found.group(1) if found else None


def responder(hostile: bool = False, gate: str | None = None) -> Any:
    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        if messages[0]["content"] == PLAN_PROMPT:
            if not any(m["role"] == "tool" for m in messages):
                calls = [ToolCall("search", {"pattern": "Config"})]
                if hostile:
                    calls += [
                        ToolCall("read_file", {"path": "../../etc/passwd"}),
                        ToolCall("read_file", {"path": ".env"}),
                    ]
                return Reply(reasoning="look around", tool_calls=calls, gate=gate)
            return Reply(reasoning="plan", content=json.dumps(PLAN))
        rel = own_file(body)
        assert rel in EDITS
        return Reply(
            reasoning=f"edit {rel}",
            tool_calls=[
                ToolCall("replace_in_file", {"path": rel, **EDITS[rel]}),
                ToolCall("finish", {"summary": f"renamed in {rel}"}),
            ],
        )

    return respond


def options(fake: FakeKimi) -> dict[str, Any]:
    return {"baseUrl": fake.base_url, "maxRetries": 0}


async def test_two_file_rename_is_one_annotated_edit(
    fake: FakeKimi, workspace: Path, profile: str
) -> None:
    fake.set_default(responder(hostile=True))
    async with session(profile, init_options=options(fake), env=ENV, root=workspace) as client:
        app_uri = (workspace / "pkg" / "app.py").as_uri()
        open_document(client, app_uri, (workspace / "pkg" / "app.py").read_text(), version=3)
        result = await request(
            client, "kimi/refactor", {"instruction": "rename Config to Settings", "mode": "apply"}
        )
        assert result["applied"] is True
        assert sorted(result["files"]) == sorted((workspace / rel).as_uri() for rel in EDITS)
        [params] = client.applied
        edit = params.edit
        if profile == "vscode":
            annotation = edit.change_annotations["kimiRefactor"]
            assert annotation.needs_confirmation is True
            by_uri = {c.text_document.uri: c for c in edit.document_changes}
            assert by_uri[app_uri].text_document.version == 3  # the open document's version
            edits = list(by_uri[app_uri].edits)
            assert all(e.annotation_id == "kimiRefactor" for e in edits)
        else:  # Neovim: no documentChanges, so plain changes
            edits = list(edit.changes[app_uri])
        before = (workspace / "pkg" / "app.py").read_text()
        assert apply_text_edits(before, edits) == before.replace("Config", "Settings")
        progress = client.kimi.of("kimi/refactorProgress")
        assert progress and [p["step"] for p in progress] == sorted(p["step"] for p in progress)
        assert all(p["refactorId"] == result["refactorId"] for p in progress)
    assert (workspace / "pkg" / "config.py").read_text().startswith("class Config")  # no disk write
    bodies = [json.dumps(r.body) for r in fake.chat_requests]
    assert bodies and all("do-not-send-me" not in b for b in bodies)
    assert all("root:x:0:0" not in b for b in bodies)
    assert any("is not allowed" in b for b in bodies)  # the model was told why
    assert any("is a secret file" in b for b in bodies)


async def test_a_failed_worker_applies_nothing_and_says_so(fake: FakeKimi, workspace: Path) -> None:
    from tests.fake_kimi import Fault

    healthy = responder()

    def respond(body: dict[str, Any]) -> Any:
        if own_file(body) == "pkg/app.py":
            return Fault.quota()
        return healthy(body)

    fake.set_default(respond)
    async with session("vscode", init_options=options(fake), env=ENV, root=workspace) as client:
        result = await request(
            client, "kimi/refactor", {"instruction": "rename Config", "mode": "apply"}
        )
        assert result["applied"] is False and client.applied == []
        assert "pkg/app.py: the worker failed" in result["summary"]
        assert "Nothing was applied because 1 of the planned files" in result["summary"]
        assert result["files"] == [(workspace / "pkg" / "config.py").as_uri()]  # the rest
        preview = await request(
            client, "kimi/refactor", {"instruction": "rename Config", "mode": "preview"}
        )
        assert "Nothing was applied" not in preview["summary"]
        assert "pkg/app.py: the worker failed" in preview["summary"]


async def test_preview_returns_the_edit_without_applying(fake: FakeKimi, workspace: Path) -> None:
    fake.set_default(responder())
    async with session("vscode", init_options=options(fake), env=ENV, root=workspace) as client:
        result = await request(
            client, "kimi/refactor", {"instruction": "rename Config", "mode": "preview"}
        )
        assert result["applied"] is False and client.applied == []
        changes = result["edit"]["documentChanges"]
        assert {c["textDocument"]["uri"] for c in changes} == {
            (workspace / rel).as_uri() for rel in EDITS
        }
        assert result["edit"]["changeAnnotations"]["kimiRefactor"]["needsConfirmation"] is True


async def test_cancel_mid_run_applies_nothing(fake: FakeKimi, workspace: Path) -> None:
    gate = "refactor-held"
    fake.set_default(responder(gate=gate))
    async with session("vscode", init_options=options(fake), env=ENV, root=workspace) as client:
        call = asyncio.ensure_future(
            client.protocol.send_request_async(
                "kimi/refactor", {"instruction": "rename Config"}, msg_id="ref-1"
            )
        )
        await fake.wait_for_in_flight(1)
        client.cancel_request(types.CancelParams(id="ref-1"))
        with pytest.raises(JsonRpcException):
            await call
        await fake.wait_for_disconnect()
        assert client.applied == []


async def test_refactor_command_for_plain_clients(fake: FakeKimi, workspace: Path) -> None:
    fake.set_default(responder())
    async with session("neovim", init_options=options(fake), env=ENV, root=workspace) as client:
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="kimi.refactor", arguments=["rename Config"])
        )
        assert result["applied"] is True and len(client.applied) == 1
        with pytest.raises(JsonRpcException, match="instruction"):
            await request(client, "kimi/refactor", {"instruction": "  "})
