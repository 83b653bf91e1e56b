"""Secrets audit: with a real-looking key and a workspace full of secrets, run every feature and
find neither the key nor any secret value in logs, notifications, responses, errors or what the
API received (the Authorization header excepted, which must carry the key)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from kimi_lsp.agent.fanout import PLAN_PROMPT, WORKER_PROMPT
from tests.e2e.harness import open_document, request, server_env, session
from tests.fake_kimi import ErrorReply, FakeKimi, Fault, Reply, ToolCall

from . import secret_values as sv

KEY = sv.api_key()
OPEN = sv.strings()  # in the open document
DISK = sv.strings()  # in an ordinary file on disk
HIDDEN = sv.strings()  # in secret files
TYPED = sv.strings()  # typed into the chat
NEEDLES = sv.needles(KEY, OPEN, DISK, HIDDEN, TYPED)
SECRET_RELS = sorted(sv.secret_files(HIDDEN))
EVERYTHING = {"start": {"line": 0, "character": 0}, "end": {"line": 12, "character": 0}}
POSITION = {"line": 3, "character": 4}


def leaks(where: str, text: str) -> list[str]:
    return [f"{name} in {where}" for name, value in NEEDLES.items() if value in text]


def workspace(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    sv.write_tree(root, sv.secret_files(HIDDEN))
    sv.write_tree(root, {"pkg/settings.py": sv.source_with(DISK, "settings")})
    sv.write_tree(root, {"pkg/app.py": sv.source_with(OPEN, "app")})
    return root


def responder(body: dict[str, Any]) -> Reply:
    """A model that tries to read every secret file, then plans and edits pkg/settings.py."""
    messages = body["messages"]
    first = messages[0]["content"]
    told = any(m["role"] == "tool" for m in messages)
    if first == PLAN_PROMPT and not told:
        calls = [ToolCall("read_file", {"path": rel}) for rel in SECRET_RELS]
        calls += [
            ToolCall("read_file", {"path": "pkg/settings.py"}),
            ToolCall("search", {"pattern": "AKIA"}),
            ToolCall("search", {"pattern": "password"}),
            ToolCall("list_files", {}),
        ]
        return Reply(reasoning="look", tool_calls=calls)
    if first == PLAN_PROMPT:
        plan = {"plan": "Annotate connect.", "files": [{"path": "pkg/settings.py"}]}
        return Reply(content=json.dumps(plan))
    if first == WORKER_PROMPT and not told:
        edit = {"path": "pkg/settings.py", "old": "def connect(host):",
                "new": "def connect(host: str):"}  # fmt: skip
        return Reply(tool_calls=[ToolCall("replace_in_file", edit), ToolCall("finish", {})])
    return Reply(content="done" if told else "ok")


ECHOES = [
    ErrorReply(401, "invalid_authentication_error", f"Invalid Authentication: {KEY}"),
    ErrorReply(403, "permission_denied_error", f"key {KEY} may not use kimi-k2.6"),
    Fault.status(400, "invalid_request_error", f"Invalid request near {OPEN['aws']} ({KEY})"),
    Fault.stream_error(after=2, error={"message": f"bad key {KEY}", "type": "server_error"}),
    ErrorReply(502, "server_error", "gateway", body=f"<html>upstream said {KEY}</html>"),
]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeKimi]:
    with FakeKimi(api_keys=None).start_in_thread() as handle:
        yield handle


async def run_everything(client: Any, app_uri: str, fake: FakeKimi) -> list[Any]:
    """Every feature once, and every key-echoing error; returns what the client was sent."""
    answers: list[Any] = []
    open_document(client, app_uri, sv.source_with(OPEN, "app"))
    chat = {"message": "What does this do?", "textDocument": {"uri": app_uri}, "context": "auto"}
    answers.append(await request(client, "kimi/chat", chat))
    typed = f"my key is {KEY}, token {TYPED['github']}, aws {TYPED['aws']}"
    answers.append(await request(client, "kimi/chat", {"message": typed}))
    edit = {"textDocument": {"uri": app_uri}, "range": EVERYTHING, "instruction": "tidy up"}
    answers.append(await request(client, "kimi/inlineEdit", edit))
    answers.append(await request(client, "kimi/refactor", {"instruction": "annotate connect"}))
    context = {"textDocument": {"uri": app_uri}, "position": POSITION, "purpose": "edit"}
    answers.append(await request(client, "kimi/context", context))
    answers.append(
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="kimi.showContext", arguments=[app_uri, POSITION])
        )
    )
    for echo in ECHOES:
        fake.enqueue(echo)
        with pytest.raises(JsonRpcException) as caught:
            await request(client, "kimi/chat", {"message": "hello"})
        answers.append({"message": caught.value.message, "data": caught.value.data})
    answers.append(await request(client, "kimi/status", None))
    return answers


@pytest.mark.parametrize("source", ["settings", "env"])
async def test_no_secret_leaves_the_server(
    fake: FakeKimi, tmp_path: Path, capfd: pytest.CaptureFixture[str], source: str
) -> None:
    fake.reset()
    fake.set_default(responder)
    root = workspace(tmp_path / "proj")
    log_file = tmp_path / "server.log"
    options: dict[str, Any] = {"baseUrl": fake.base_url, "maxRetries": 0}
    home = tmp_path / "home"
    env: dict[str, str] = {
        f"XDG_{d}_HOME": str(home / d.lower()) for d in ("CACHE", "DATA", "CONFIG")
    }
    if source == "settings":
        options["apiKey"] = KEY
    else:
        env["MOONSHOT_API_KEY"] = KEY
    args = ["--log-level", "DEBUG", "--log-file", str(log_file)]
    async with session(
        "vscode", init_options=options, env=env, root=root, args=args,
        configuration={"kimi": options},
    ) as client:  # fmt: skip
        app_uri = (root / "pkg" / "app.py").as_uri()
        answers = await run_everything(client, app_uri, fake)
        sent = {
            "responses": answers,
            "kimi notifications": client.kimi.received,  # type: ignore[attr-defined]
            "logMessages": [m.message for m in client.log_messages],
            "showMessages": [m.message for m in client.messages],
            "progress": [repr(r) for rs in client.progress_reports.values() for r in rs],
        }
    found: list[str] = []
    for where, value in sent.items():
        found += leaks(where, json.dumps(value, default=repr))
    log_text = log_file.read_text()
    found += leaks("the log file", log_text)
    found += leaks("stderr", capfd.readouterr().err)
    found += at_rest(home)
    assert fake.chat_requests, "the features never called the API"
    for recorded in fake.requests:
        assert recorded.headers["authorization"] == f"Bearer {KEY}"
        headers = {k: v for k, v in recorded.headers.items() if k != "authorization"}
        body = recorded.raw_body.decode("utf-8", "replace")
        found += leaks(f"request {recorded.seq} to {recorded.path}", body + json.dumps(headers))
    assert found == [], "\n".join(found)
    # The run did what it says: secrets were asked for, refused and redacted, debug logged.
    bodies = " ".join(r.raw_body.decode() for r in fake.chat_requests)
    assert "is a secret file" in bodies and "[REDACTED:" in bodies
    assert " DEBUG " in log_text


def at_rest(home: Path) -> list[str]:
    """Leaks in, and loose modes of, everything the server wrote under its XDG directories (the
    conversations and the index store must be among them, or the scan proves nothing)."""
    found: list[str] = []
    written = sorted(p for p in home.rglob("*") if p.is_file())
    names = " ".join(p.name for p in written)
    assert ".json" in names and ".sqlite3" in names, names
    for path in written:
        found += leaks(f"{path.relative_to(home)} at rest", path.read_bytes().decode("latin-1"))
    for path in home.rglob("kimi-lsp"):
        for item in [path, *path.rglob("*")]:
            want = 0o700 if item.is_dir() else 0o600
            if item.stat().st_mode & 0o777 != want:
                found.append(f"{item.relative_to(home)} has mode {item.stat().st_mode & 0o777:o}")
    return found


class _Echo(BaseHTTPRequestHandler):
    """GET /models answers 403 with the caller's Authorization header in the body."""

    def do_GET(self) -> None:
        body = f"forbidden for {self.headers.get('Authorization')}".encode()
        self.send_response(403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("source", ["settings", "env"])
def test_doctor_never_shows_the_key(
    fake: FakeKimi, echo_url: str, tmp_path: Path, source: str
) -> None:
    fake.reset()
    (tmp_path / "config" / "kimi-lsp").mkdir(parents=True)
    env = server_env(home=tmp_path)
    if source == "settings":
        (tmp_path / "config" / "kimi-lsp" / "settings.json").write_text(json.dumps({"apiKey": KEY}))
    else:
        env["MOONSHOT_API_KEY"] = KEY
    found: list[str] = []
    for url, extra in [
        (fake.base_url, []),
        (fake.base_url, ["--online"]),
        (fake.base_url, ["--online", "--json"]),
        (echo_url, ["--online"]),
        (echo_url, ["--online", "--json"]),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "kimi_lsp", "doctor", *extra],
            env={**env, "KIMI_BASE_URL": url},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        found += leaks(f"doctor {' '.join(extra)} at {url}", done.stdout + done.stderr)
        if url == echo_url:
            assert done.returncode == 1 and "403" in done.stdout
    assert found == [], "\n".join(found)
    models = [r for r in fake.requests if r.path.endswith("/models")]
    assert models and all(r.headers["authorization"] == f"Bearer {KEY}" for r in models)
