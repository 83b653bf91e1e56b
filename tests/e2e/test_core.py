"""End-to-end: the real server over stdio — initialize, settings, sync, encodings, logging."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from .harness import change, document_state, open_document, server_env, session

URI = "file:///tmp/kimi-e2e/example.py"
FAKE_KEY = "sk-test-fake-0123456789abcdefghijklmnop"


async def status(client: Any) -> Any:
    return await client.protocol.send_request_async("kimi/status", None)


async def test_initialize_advertises_capabilities(profile: str) -> None:
    async with session(profile) as client:
        caps = client.initialize_result.capabilities
        sync = caps.text_document_sync
        assert isinstance(sync, types.TextDocumentSyncOptions)
        assert sync.change == types.TextDocumentSyncKind.Incremental
        assert sync.open_close is True
        assert caps.execute_command_provider is not None
        assert "kimi.status" in caps.execute_command_provider.commands
        expected = "utf-8" if profile == "neovim" else "utf-16"
        assert caps.position_encoding == expected
        result = await status(client)
        assert result.positionEncoding == expected


async def test_settings_from_initialization_options(profile: str) -> None:
    options = {"apiKey": FAKE_KEY, "model": "kimi-k2.5", "baseUrl": "http://127.0.0.1:9/v1"}
    async with session(profile, init_options=options) as client:
        result = await status(client)
        assert result.model == "kimi-k2.5"
        assert result.baseUrl == "http://127.0.0.1:9/v1"
        assert result.apiKeyConfigured is True
        assert FAKE_KEY not in json.dumps(result._asdict(), default=str)
        assert all(FAKE_KEY not in m.message for m in client.log_messages)


async def test_bad_setting_is_reported_and_only_it_falls_back(profile: str) -> None:
    options = {"model": "kimi-k2.5", "maxConcurrentRequests": "many", "thinking": "sometimes"}
    async with session(profile, init_options=options) as client:
        await client.wait_for_notification(types.WINDOW_SHOW_MESSAGE)
        result = await status(client)
        assert result.model == "kimi-k2.5"  # the good value is kept
        shown = " ".join(m.message for m in client.messages)
        assert "kimi.maxConcurrentRequests" in shown
        assert "whole number" in shown


async def test_did_change_configuration_updates_settings(profile: str) -> None:
    async with session(profile, init_options={"model": "kimi-k2.5"}) as client:
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"kimi": {"model": "kimi-k2.6-preview"}})
        )
        for _ in range(50):
            if (await status(client)).model == "kimi-k2.6-preview":
                break
        assert (await status(client)).model == "kimi-k2.6-preview"


async def test_configuration_pulled_from_client(profile: str) -> None:
    config = {"kimi": {"model": "pulled-model", "baseUrl": "http://127.0.0.1:1/v1"}}
    async with session(profile, configuration=config) as client:
        # didChangeConfiguration with null settings asks the server to pull the section.
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        for _ in range(50):
            if (await status(client)).model == "pulled-model":
                break
        result = await status(client)
        assert result.model == "pulled-model"
        assert result.baseUrl == "http://127.0.0.1:1/v1"


async def test_environment_fills_unset_settings(profile: str) -> None:
    env = {"MOONSHOT_API_KEY": FAKE_KEY, "KIMI_MODEL": "env-model"}
    async with session(profile, env=env, init_options={"baseUrl": "http://127.0.0.1:2/v1"}) as c:
        result = await status(c)
        assert result.apiKeyConfigured is True
        assert result.model == "env-model"
        assert result.baseUrl == "http://127.0.0.1:2/v1"


async def test_open_change_close_incremental(profile: str) -> None:
    async with session(profile) as client:
        open_document(client, URI, "def f():\r\n    return 1\n\fx = 2\n")
        change(client, URI, 2, (1, 11), (1, 12), "42")
        change(client, URI, 3, (2, 1), (2, 2), "y")  # after a form feed: same line
        change(client, URI, 4, (3, 0), (3, 0), "# end\n")
        state = await document_state(client, URI)
        assert state.text == "def f():\r\n    return 42\n\fy = 2\n# end\n"
        assert state.version == 4
        assert state.lineCount == 5
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=URI))
        )
        with pytest.raises(JsonRpcException, match="not open"):
            await document_state(client, URI)


async def test_positions_follow_negotiated_encoding(profile: str) -> None:
    async with session(profile) as client:
        open_document(client, URI, "s = '😀é'\n")
        # Insert after the emoji and the é: utf-16 counts 2+1, utf-8 counts 4+2.
        column = 5 + (4 + 2 if profile == "neovim" else 2 + 1)
        change(client, URI, 2, (0, column), (0, column), "!")
        state = await document_state(client, URI)
        assert state.text == "s = '😀é!'\n"
        assert state.encoding == ("utf-8" if profile == "neovim" else "utf-16")


async def test_positions_past_the_end_are_clamped_and_logged(profile: str) -> None:
    async with session(profile) as client:
        open_document(client, URI, "one\ntwo\n")
        change(client, URI, 2, (1, 99), (1, 99), "!")
        change(client, URI, 3, (50, 0), (60, 3), "tail")
        state = await document_state(client, URI)
        assert state.text == "one\ntwo!\ntail"
        assert any("clamped" in m.message for m in client.log_messages)
        assert all(m.type != 5 for m in client.log_messages)


async def test_malformed_requests_get_readable_errors(profile: str) -> None:
    async with session(profile) as client:
        with pytest.raises(JsonRpcException, match="textDocument"):
            await client.protocol.send_request_async("kimi/documentState", {"nope": 1})
        with pytest.raises(JsonRpcException, match="not open"):
            await document_state(client, "file:///never/opened.py")
        # A malformed notification is dropped; the server keeps serving.
        client.protocol._send_data(
            {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": 5}}
        )
        assert (await status(client)).version


async def test_log_messages_are_bridged(profile: str) -> None:
    async with session(profile) as client:
        await status(client)
        assert any("Initialized for" in m.message for m in client.log_messages)
        assert all(m.type in (1, 2, 3, 4) for m in client.log_messages)


async def test_log_file_never_contains_the_key(tmp_path: Path, profile: str) -> None:
    log_file = tmp_path / "server.log"
    options = {"apiKey": FAKE_KEY, "model": f"model-{FAKE_KEY}"}
    async with session(
        profile, init_options=options, args=["--log-file", str(log_file), "--log-level", "DEBUG"]
    ) as client:
        await status(client)
    text = log_file.read_text()
    assert "Initialized for" in text
    assert "pygls" in text  # DEBUG level lets pygls log whole messages, which carry the key
    assert FAKE_KEY not in text


async def test_status_command_and_unknown_command(profile: str) -> None:
    async with session(profile) as client:
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="kimi.status", arguments=[])
        )
        assert result["model"] == "kimi-k2.6"
        with pytest.raises(JsonRpcException):
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="kimi.nope", arguments=[])
            )


async def _frame(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    await writer.drain()


async def _read(reader: asyncio.StreamReader) -> dict[str, Any]:
    while True:
        header = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in header.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        message: dict[str, Any] = json.loads(await reader.readexactly(length))
        if "id" in message:
            return message


async def test_tcp_transport() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kimi_lsp", "--tcp", "--port", "0",
        stderr=asyncio.subprocess.PIPE, env=server_env(),
    )  # fmt: skip
    try:
        assert process.stderr is not None
        port = None
        while port is None:
            line = (await asyncio.wait_for(process.stderr.readline(), 20)).decode()
            assert line, "server exited before listening"
            if "Serving LSP on" in line:
                port = int(line.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await _frame(writer, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                              "params": {"capabilities": {}}})  # fmt: skip
        reply = await asyncio.wait_for(_read(reader), 20)
        assert reply["result"]["serverInfo"]["name"] == "kimi-lsp"
        await _frame(writer, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
        await _frame(writer, {"jsonrpc": "2.0", "id": 2, "method": "kimi/status"})
        assert (await asyncio.wait_for(_read(reader), 20))["result"]["model"] == "kimi-k2.6"
        await _frame(writer, {"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
        assert (await asyncio.wait_for(_read(reader), 20))["result"] is None
        await _frame(writer, {"jsonrpc": "2.0", "method": "exit"})
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
