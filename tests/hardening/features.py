"""The editor features of the fault matrix: one driver per request or command, and its workspace."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from kimi_lsp.agent.fanout import PLAN_PROMPT, WORKER_PROMPT
from tests.e2e.harness import git_workspace, request
from tests.fake_kimi import Reply, ToolCall

SOURCE = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
FILES = {"pkg/calc.py": SOURCE, "pkg/app.py": "from pkg.calc import add\n\nprint(add(1, 2))\n"}
LINE_1 = {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}
DIAGNOSTIC = {"range": LINE_1, "message": "add subtracts", "source": "review"}
PLAN = {"plan": "Make add add.", "files": [{"path": "pkg/calc.py", "change": "fix add"}]}


def responder(body: dict[str, Any]) -> Reply:
    """The fake's default answer: a plan, a worker's edit, or a plain "ok"."""
    messages = body["messages"]
    first = messages[0]["content"] if messages else ""
    if any(m["role"] == "tool" for m in messages):
        return Reply(content="done")
    if first == PLAN_PROMPT:
        return Reply(content=json.dumps(PLAN))
    if first == WORKER_PROMPT:
        edit = {"path": "pkg/calc.py", "old": "return a - b", "new": "return a + b"}
        return Reply(
            tool_calls=[ToolCall("replace_in_file", edit), ToolCall("finish", {"summary": "ok"})]
        )
    return Reply(content="ok")


Call = Callable[[LanguageClient, str], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Feature:
    """A feature as a client uses it; `model_calls` is how many chat requests success takes."""

    name: str
    call: Call
    model_calls: int = 1
    edits: bool = False


async def _chat(client: LanguageClient, uri: str) -> Any:
    return await request(client, "kimi/chat", {"message": "What is wrong?",
                                               "textDocument": {"uri": uri}})  # fmt: skip


def _inline(mode: str) -> Call:
    async def call(client: LanguageClient, uri: str) -> Any:
        params = {"textDocument": {"uri": uri}, "range": LINE_1, "instruction": "fix the bug",
                  "mode": mode}  # fmt: skip
        result = await request(client, "kimi/inlineEdit", params)
        if mode == "preview":
            assert result["applied"] is False
            accepted = await request(client, "kimi/acceptEdit", {"editId": result["editId"]})
            assert accepted["applied"] is True, accepted
        return result

    return call


def _refactor(mode: str) -> Call:
    async def call(client: LanguageClient, uri: str) -> Any:
        params = {"instruction": "make add add", "mode": mode}
        result = await request(client, "kimi/refactor", params)
        assert result["applied"] is (mode == "apply")
        return result

    return call


def _command(name: str, arguments: Callable[[str], list[Any]]) -> Call:
    async def call(client: LanguageClient, uri: str) -> Any:
        return await client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command=name, arguments=arguments(uri)),
        )

    return call


FEATURES = [
    Feature("kimi/chat", _chat),
    Feature("inlineEdit apply", _inline("apply"), edits=True),
    Feature("inlineEdit preview+accept", _inline("preview"), edits=True),
    Feature("refactor apply", _refactor("apply"), model_calls=2, edits=True),
    Feature("refactor preview", _refactor("preview"), model_calls=2, edits=True),
    Feature("kimi.fix", _command("kimi.fix", lambda u: [u, LINE_1, DIAGNOSTIC]), edits=True),
    Feature("kimi.explain", _command("kimi.explain", lambda u: [u, LINE_1])),
    Feature("kimi.docstring", _command("kimi.docstring", lambda u: [u, LINE_1]), edits=True),
    Feature("kimi.tests", _command("kimi.tests", lambda u: [u])),
    Feature(
        "kimi.inlineEdit", _command("kimi.inlineEdit", lambda u: [u, LINE_1, "fix"]), edits=True
    ),
    Feature("kimi.refactor", _command("kimi.refactor", lambda u: ["make add add"]), 2, True),
    Feature("kimi.chat", _command("kimi.chat", lambda u: ["hello", u])),
]


def write_workspace(root: Path) -> Path:
    """A git workspace with the matrix's two files."""
    return git_workspace(root, FILES)
