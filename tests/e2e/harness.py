"""Starting the real server over stdio for e2e tests, in a clean, isolated environment."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

SERVER_COMMAND = [sys.executable, "-m", "kimi_lsp"]

# The two capability profiles every e2e test runs under.
PROFILES = {"vscode": "visual-studio-code", "neovim": "neovim@v0.11.0"}

_SCRUBBED = ("MOONSHOT_API_KEY", "KIMI_API_KEY", "KIMI_BASE_URL", "KIMI_MODEL")


def server_env(extra: dict[str, str] | None = None, home: Path | None = None) -> dict[str, str]:
    """The test process's environment without any real key, with isolated config dirs."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    home = home or Path(tempfile.mkdtemp(prefix="kimi-e2e-"))
    env["XDG_CONFIG_HOME"] = str(home / "config")
    env["XDG_CACHE_HOME"] = str(home / "cache")
    env["XDG_DATA_HOME"] = str(home / "data")
    env["KIMI_LSP_TOKENIZER_DOWNLOAD"] = "0"  # no network here: never try huggingface.co
    env.update(extra or {})
    return env


NOTIFICATIONS = (
    "kimi/chatDelta",
    "kimi/usage",
    "kimi/editPreview",
    "kimi/editDropped",
    "kimi/refactorProgress",
)


class Notifications:
    """kimi/* notifications received by a test client, as plain dicts, in arrival order."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self._arrived = asyncio.Event()

    def collector(self, method: str) -> Any:
        def collect(params: Any) -> None:
            self.received.append((method, _plain(params)))
            self._arrived.set()

        return collect

    def of(self, method: str) -> list[dict[str, Any]]:
        return [params for m, params in self.received if m == method]

    async def wait(
        self, method: str, count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        async def until() -> None:
            while len(self.of(method)) < count:
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(until(), timeout)
        return self.of(method)


def _plain(value: Any) -> Any:
    """pytest-lsp hands custom notifications over as namedtuples: turn them back into JSON."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@asynccontextmanager
async def session(
    profile: str,
    *,
    init_options: Any = None,
    env: dict[str, str] | None = None,
    configuration: dict[str, Any] | None = None,
    root: Path | None = None,
    args: list[str] | None = None,
    adjust: Callable[[types.ClientCapabilities], None] | None = None,
) -> AsyncIterator[LanguageClient]:
    """A client connected to a fresh server process, initialized with the given profile
    (its capabilities changed by `adjust`, when given)."""
    client = make_test_lsp_client()

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    client.registrations = []  # type: ignore[attr-defined]
    client.applied = []  # type: ignore[attr-defined]
    client.apply_result = True  # type: ignore[attr-defined]
    # Called with each applyEdit before it is answered (an editor that sends didChange first).
    client.on_apply = None  # type: ignore[attr-defined]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        client.applied.append(params)  # type: ignore[attr-defined]
        if client.on_apply is not None:  # type: ignore[attr-defined]
            client.on_apply(params)  # type: ignore[attr-defined]
        if client.apply_result:  # type: ignore[attr-defined]
            return types.ApplyWorkspaceEditResult(applied=True)
        return types.ApplyWorkspaceEditResult(applied=False, failure_reason="refused by test")

    client.kimi = Notifications()  # type: ignore[attr-defined]
    for method in NOTIFICATIONS:
        client.feature(method)(client.kimi.collector(method))  # type: ignore[attr-defined]
    if configuration is not None:
        client.set_configuration(configuration)
    await client.start_io(*SERVER_COMMAND, *(args or []), env=server_env(env))
    try:
        root_uri = root.as_uri() if root else None
        folders = [types.WorkspaceFolder(uri=root_uri, name=root.name)] if root else None
        capabilities = client_capabilities(PROFILES[profile])
        if adjust is not None:
            adjust(capabilities)
        client.initialize_result = await client.initialize_session(  # type: ignore[attr-defined]
            types.InitializeParams(
                capabilities=capabilities,
                initialization_options=init_options,
                root_uri=root_uri,
                workspace_folders=folders,
            )
        )
        yield client
        await client.shutdown_session()
    finally:
        # pygls's client.stop() waits for the server to exit by itself: after a failed
        # test it would wait forever, so end the process first.
        process = client._server
        if process is not None and process.returncode is None:
            process.kill()
        await client.stop()


def open_document(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=version, text=text
            )
        )
    )


def change(
    client: LanguageClient,
    uri: str,
    version: int,
    start: tuple[int, int],
    end: tuple[int, int],
    text: str,
) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=start[0], character=start[1]),
                        end=types.Position(line=end[0], character=end[1]),
                    ),
                    text=text,
                )
            ],
        )
    )


async def document_state(client: LanguageClient, uri: str) -> Any:
    return await client.protocol.send_request_async(
        "kimi/documentState", {"textDocument": {"uri": uri}}
    )


async def request(client: LanguageClient, method: str, params: Any, msg_id: Any = None) -> Any:
    """Send a custom request and return its result as plain JSON."""
    result = await client.protocol.send_request_async(method, params, msg_id=msg_id)
    return _plain(result)


def text_edits(params: types.ApplyWorkspaceEditParams) -> tuple[str, int | None, list[Any]]:
    """(uri, version or None, edits) of a single-document workspace/applyEdit."""
    edit = params.edit
    if edit.document_changes:
        [change] = edit.document_changes
        assert isinstance(change, types.TextDocumentEdit)
        return change.text_document.uri, change.text_document.version, list(change.edits)
    assert edit.changes is not None
    [(uri, edits)] = edit.changes.items()
    return uri, None, list(edits)


def apply_text_edits(text: str, edits: list[Any]) -> str:
    """Apply LSP TextEdits (utf-16 = utf-8 = code points for ASCII test texts)."""
    lines = [*text.splitlines(keepends=True), ""]
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(pos: Any) -> int:
        return starts[pos.line] + pos.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


def git_workspace(root: Path, files: dict[str, str]) -> Path:
    """A workspace folder with a `.git` marker and the given files (relative paths)."""
    (root / ".git").mkdir(parents=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
