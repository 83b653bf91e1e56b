"""End-to-end context: what chat sends is what kimi/context reports, and secrets stay home."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fake_kimi import FakeKimi, Reply

from .harness import git_workspace, open_document, request, session

KEY = "sk-test-fake"
ENV_SECRET = "DATABASE_PASSWORD=Zq8#kL2!vN5pR9sT"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return git_workspace(
        tmp_path / "proj",
        {
            "pkg/__init__.py": "",
            "pkg/geometry.py": "class Vector:\n    def __init__(self, x, y):\n"
            "        self.x = x\n        self.y = y\n\n"
            "    def norm_squared(self):\n        return self.x * self.x + self.y * self.y\n",
            "pkg/physics.py": "from pkg.geometry import Vector\n\n\n"
            "def speed(v: Vector) -> float:\n    return v.norm_squared() ** 0.5\n",
            ".env": ENV_SECRET + "\n",
            "settings.py": f'GITHUB_TOKEN = "{GITHUB_TOKEN}"\nDEBUG = True\n',
            "build/generated.py": "GENERATED = 1\n",
            ".gitignore": "build/\n",
        },
    )


def physics_uri(root: Path) -> str:
    return (root / "pkg" / "physics.py").as_uri()


SELECTION = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}


async def test_chat_body_holds_selection_file_and_import_and_no_secret(
    fake: FakeKimi, workspace: Path, profile: str
) -> None:
    fake.reset()
    fake.enqueue(Reply(content="It computes the speed."))
    uri = physics_uri(workspace)
    options = {"baseUrl": fake.base_url, "maxRetries": 0}
    async with session(
        profile, init_options=options, env={"MOONSHOT_API_KEY": KEY}, root=workspace
    ) as client:
        open_document(client, uri, (workspace / "pkg" / "physics.py").read_text())
        manifest = await request(
            client, "kimi/context", {"textDocument": {"uri": uri}, "range": SELECTION}
        )
        await request(
            client,
            "kimi/chat",
            {"message": "What does speed do?", "textDocument": {"uri": uri}, "range": SELECTION},
        )
    body = json.dumps(fake.chat_requests[-1].body)
    assert "def speed(v: Vector)" in body  # selection and current file
    assert "def norm_squared(self)" in body  # the imported module's definition
    assert "Zq8#kL2!vN5pR9sT" not in body and "DATABASE_PASSWORD" not in body
    assert GITHUB_TOKEN not in body
    assert "GENERATED" not in body  # ignored by .gitignore

    kinds = {s["kind"]: s for s in manifest["sections"]}
    assert {"selection", "current_file", "import"} <= set(kinds)
    assert kinds["import"]["uri"].endswith("pkg/geometry.py")
    assert kinds["import"]["reason"] == "imported by pkg/physics.py"
    assert any(e["uri"].endswith("/.env") for e in manifest["excluded"])
    assert manifest["budget"] == 48_000  # contextBudget.chat by default
    assert manifest["totalTokens"] <= manifest["budget"]
    # Every file the manifest lists was sent; no excluded file was.
    messages = fake.chat_requests[-1].body["messages"]
    sent = "\n".join(m["content"] for m in messages)
    for section in manifest["sections"]:
        if "uri" in section and section["kind"] != "selection":
            rel = section["uri"].split("/proj/", 1)[1]
            assert rel in sent, rel


async def test_manifest_lists_secret_strings_as_redacted(fake: FakeKimi, workspace: Path) -> None:
    uri = (workspace / "settings.py").as_uri()
    async with session("vscode", root=workspace) as client:
        open_document(client, uri, (workspace / "settings.py").read_text())
        manifest = await request(client, "kimi/context", {"textDocument": {"uri": uri}})
    current = next(s for s in manifest["sections"] if s["kind"] == "current_file")
    assert current.get("redactions", 0) >= 1


async def test_context_for_a_closed_disk_file_and_errors(workspace: Path) -> None:
    async with session("neovim", root=workspace) as client:
        uri = (workspace / "pkg" / "geometry.py").as_uri()
        manifest = await request(
            client,
            "kimi/context",
            {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 0}},
        )
        assert any(s["kind"] == "current_file" for s in manifest["sections"])
        from pygls.exceptions import JsonRpcException

        with pytest.raises(JsonRpcException, match="not open"):
            await request(
                client, "kimi/context", {"textDocument": {"uri": (workspace / ".env").as_uri()}}
            )
        with pytest.raises(JsonRpcException, match="purpose"):
            await request(
                client, "kimi/context", {"textDocument": {"uri": uri}, "purpose": "everything"}
            )


def test_cli_context_offline(workspace: Path) -> None:
    import subprocess
    import sys

    from .harness import server_env

    result = subprocess.run(
        [sys.executable, "-m", "kimi_lsp", "context", f"{workspace / 'pkg' / 'physics.py'}:4",
         "--json"],
        capture_output=True, text=True, env=server_env(), timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest: dict[str, Any] = json.loads(result.stdout)
    kinds = [s["kind"] for s in manifest["sections"]]
    assert "current_file" in kinds and "import" in kinds
    assert any(e["uri"].endswith("/.env") for e in manifest["excluded"])
    readable = subprocess.run(
        [sys.executable, "-m", "kimi_lsp", "context", str(workspace / "pkg" / "physics.py"),
         "--budget", "3000"],
        capture_output=True, text=True, env=server_env(), timeout=60, check=False,
    )  # fmt: skip
    assert readable.returncode == 0 and "of 3000 tokens" in readable.stdout


async def test_an_open_secret_file_never_reaches_the_model(fake: FakeKimi, workspace: Path) -> None:
    from pygls.exceptions import JsonRpcException

    fake.reset()
    fake.enqueue(Reply(content="I cannot see that file."))
    env_uri = (workspace / ".env").as_uri()
    everything = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}
    options = {"baseUrl": fake.base_url, "maxRetries": 0}
    async with session(
        "vscode", init_options=options, env={"MOONSHOT_API_KEY": KEY}, root=workspace
    ) as client:
        open_document(client, env_uri, ENV_SECRET + "\n")
        chat = {"message": "what is this?", "textDocument": {"uri": env_uri}, "range": everything}
        await request(client, "kimi/chat", chat)
        manifest = await request(
            client, "kimi/context", {"textDocument": {"uri": env_uri}, "range": everything}
        )
        edit = {"textDocument": {"uri": env_uri}, "range": everything, "instruction": "tidy"}
        with pytest.raises(JsonRpcException, match="secret file") as refused:
            await request(client, "kimi/inlineEdit", edit)
        assert "cannot edit" in refused.value.message
    assert "Zq8#kL2" not in json.dumps([r.body for r in fake.chat_requests])
    assert len(fake.chat_requests) == 1  # the edit never called the model
    assert not [s for s in manifest["sections"] if s["kind"] in ("selection", "current_file")]
    assert any(e["uri"] == env_uri for e in manifest["excluded"])


def span(line: int, character: int, length: int) -> dict[str, Any]:
    end = {"line": line, "character": character + length}
    return {"start": {"line": line, "character": character}, "end": end}


async def test_editor_definitions_are_packed_and_the_skipped_listed(
    fake: FakeKimi, workspace: Path, tmp_path: Path
) -> None:
    from pygls.exceptions import JsonRpcException

    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "units.py").write_text(
        "OTHER_LIBRARY_LINE = 1\n\n\ndef to_metres(feet):\n    return feet * 0.3048\n"
    )
    uri = physics_uri(workspace)
    geometry = (workspace / "pkg" / "geometry.py").as_uri()
    definitions = [
        {"uri": geometry, "range": span(0, 6, 6)},  # class Vector
        {"uri": (site / "units.py").as_uri(), "range": span(3, 4, 9)},  # outside the workspace
        {"uri": (workspace / ".env").as_uri(), "range": span(0, 0, 8)},
        {"uri": (workspace / "build" / "generated.py").as_uri(), "range": span(0, 0, 9)},
        {"uri": geometry, "range": span(90, 0, 1)},
    ]
    fake.reset()
    fake.enqueue(Reply(content="Metres."))
    options = {"baseUrl": fake.base_url, "maxRetries": 0}
    async with session(
        "neovim", init_options=options, env={"MOONSHOT_API_KEY": KEY}, root=workspace
    ) as client:
        open_document(client, uri, (workspace / "pkg" / "physics.py").read_text())
        focus = {"textDocument": {"uri": uri}, "position": {"line": 4, "character": 4}}
        manifest = await request(client, "kimi/context", {**focus, "definitions": definitions})
        await request(
            client, "kimi/chat", {"message": "units?", **focus, "definitions": definitions[1:2]}
        )
        broken = [definitions[0], {"uri": geometry}]
        with pytest.raises(JsonRpcException) as caught:
            await request(client, "kimi/context", {**focus, "definitions": broken})
    assert "definitions[1].range is missing" in caught.value.message

    located = [s for s in manifest["sections"] if s["kind"] == "definition"]
    assert [(s["uri"], s["range"]["start"]["line"], s["range"]["end"]["line"]) for s in located] \
        == [(geometry, 0, 7), ((site / "units.py").as_uri(), 3, 5)]  # fmt: skip
    assert located[0]["reason"] == "definition the editor located for `Vector`"
    assert located[1]["reason"] == "definition the editor located for `to_metres`"
    excluded = {
        (e["uri"].rsplit("/", 1)[-1], e["reason"])
        for e in manifest["excluded"]
        if e["reason"].startswith("definition from the editor")
    }
    assert excluded == {
        (".env", "definition from the editor (line 1): secret file (.env)"),
        ("generated.py", "definition from the editor (line 1): ignored by .gitignore"),
        ("geometry.py", "definition from the editor (line 91): range past the end (line 91, "
         "the file has 7 lines)"),
    }  # fmt: skip

    body = json.dumps(fake.chat_requests[-1].body)
    assert "def to_metres(feet):\\n    return feet * 0.3048" in body  # the span, and only it
    assert "OTHER_LIBRARY_LINE" not in body


WINDOW = 262_144 - 32_768 - 1_024


async def test_each_purpose_packs_to_its_budget_and_the_setting_changes_it(
    fake: FakeKimi, workspace: Path
) -> None:
    (workspace / "AGENTS.md").write_text("Keep functions pure.\n")
    uri = physics_uri(workspace)
    focus = {"textDocument": {"uri": uri}, "position": {"line": 4, "character": 0}}
    async with session("neovim", root=workspace) as client:
        open_document(client, uri, (workspace / "pkg" / "physics.py").read_text())
        edit = await request(client, "kimi/context", {**focus, "purpose": "edit"})
        chat = await request(client, "kimi/context", focus)
    assert (edit["purpose"], edit["budget"]) == ("edit", 16_000)
    assert (chat["purpose"], chat["budget"]) == ("chat", 48_000)
    assert edit["totalTokens"] <= 16_000
    rules = edit["sections"][0]  # project rules open the stable part
    assert (rules["kind"], rules["reason"]) == ("rules", "project rules from AGENTS.md")

    options = {"contextBudget": {"edit": 8000, "chat": "window"}}
    async with session("vscode", init_options=options, root=workspace) as client:
        open_document(client, uri, (workspace / "pkg" / "physics.py").read_text())
        edit = await request(client, "kimi/context", {**focus, "purpose": "edit"})
        chat = await request(client, "kimi/context", focus)
        refactor = await request(client, "kimi/context", {**focus, "purpose": "refactor"})
    assert (edit["budget"], chat["budget"], refactor["budget"]) == (8_000, WINDOW, 64_000)


async def test_context_all_in_chat_uses_the_whole_window(fake: FakeKimi, workspace: Path) -> None:
    fake.reset()
    fake.enqueue(Reply(content="It computes the speed."))
    uri = physics_uri(workspace)
    options = {"baseUrl": fake.base_url, "maxRetries": 0}
    async with session(
        "neovim", init_options=options, env={"MOONSHOT_API_KEY": KEY}, root=workspace
    ) as client:
        open_document(client, uri, (workspace / "pkg" / "physics.py").read_text())
        where = {"textDocument": {"uri": uri}}
        report = await request(client, "kimi/chat", {"message": "/context all", **where})
        budgeted = await request(client, "kimi/chat", {"message": "/context", **where})
        answer = await request(
            client, "kimi/chat", {"message": "/context all What does speed do?", **where}
        )
    assert f"tokens of {WINDOW} (the whole window" in report["content"]
    assert "tokens of 48000 (the chat budget" in budgeted["content"]
    assert answer["content"] == "It computes the speed." and len(fake.chat_requests) == 1
    question = fake.chat_requests[-1].body["messages"][-1]["content"]
    assert question.endswith("\n\nWhat does speed do?") and "/context" not in question


def test_cli_context_budget_follows_the_purpose_and_the_setting(
    workspace: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from .harness import server_env

    home = tmp_path / "home"
    env = server_env(home=home)
    target = f"{workspace / 'pkg' / 'physics.py'}:4"

    def budget(*args: str) -> int:
        result = subprocess.run(
            [sys.executable, "-m", "kimi_lsp", "context", target, "--json", *args],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        manifest: dict[str, Any] = json.loads(result.stdout)
        assert manifest["totalTokens"] <= manifest["budget"]
        return int(manifest["budget"])

    assert budget("--purpose", "edit") == 16_000
    assert budget() == 48_000  # chat
    config = home / "config" / "kimi-lsp" / "settings.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"contextBudget": {"edit": 5000}}))
    assert budget("--purpose", "edit") == 5_000
    assert budget("--purpose", "refactor") == 64_000  # the other keys keep their defaults
    assert budget("--purpose", "edit", "--budget", "3000") == 3_000  # --budget still wins
