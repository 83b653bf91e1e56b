"""End-to-end: `kimi-lsp --tcp` over real sockets — one client at a time, strict frames, tokens.

Issue 16, finding 1: every test here reproduces an attack on the TCP listener."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from .harness import server_env

FAKE_KEY = "sk-test-fake-0123456789abcdefghijklmnop"
TOKEN = "tcp-token-5f0c9d2e8a7b4c1d"
GUARD = 20  # seconds: only a hang guard, never what a test waits for
_ids = itertools.count(1)


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class Server:
    """`python -m kimi_lsp --tcp --port 0` and the port it reports."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port
        self.log: list[str] = []

    async def connect(self) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        return Client(reader, writer)

    async def drain_log(self) -> str:
        """What the server logged so far and until it exits (call after the process ends)."""
        assert self.process.stderr is not None
        rest = await asyncio.wait_for(self.process.stderr.read(), GUARD)
        return "".join(self.log) + rest.decode(errors="replace")


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, message: dict[str, Any]) -> None:
        self.writer.write(_frame(message))
        await self.writer.drain()

    async def notify(self, method: str, params: Any) -> None:
        await self.send({"jsonrpc": "2.0", "method": method, "params": params})

    async def request(self, method: str, params: Any = None) -> dict[str, Any]:
        """The response to a new request (server notifications in between are skipped)."""
        msg_id = next(_ids)
        await self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        while True:
            message = await asyncio.wait_for(self.read(), GUARD)
            assert message is not None, f"the connection closed before answering {method}"
            if message.get("id") == msg_id and "method" not in message:
                return message

    async def initialize(self, **options: Any) -> dict[str, Any]:
        reply = await self.request(
            "initialize", {"capabilities": {}, "initializationOptions": options}
        )
        await self.notify("initialized", {})
        return reply

    async def read(self) -> dict[str, Any] | None:
        """The next message, or None when the server closed the connection."""
        try:
            header = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionResetError):
            return None
        length = next(
            int(line.split(b":")[1])
            for line in header.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        message: dict[str, Any] = json.loads(await self.reader.readexactly(length))
        return message

    async def closed_by_server(self) -> bool:
        """Read until the server closes the connection; False if a message came instead."""
        try:
            data = await asyncio.wait_for(self.reader.read(1 << 16), GUARD)
        except ConnectionResetError:
            return True
        return data == b""

    def close(self) -> None:
        self.writer.close()


@contextlib.asynccontextmanager
async def tcp_server(*args: str, env: dict[str, str] | None = None) -> AsyncIterator[Server]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kimi_lsp", "--tcp", "--port", "0", *args,
        stderr=asyncio.subprocess.PIPE,
        env=server_env({"MOONSHOT_API_KEY": FAKE_KEY, **(env or {})}),
    )  # fmt: skip
    try:
        assert process.stderr is not None
        lines: list[str] = []
        port = None
        while port is None:
            line = (await asyncio.wait_for(process.stderr.readline(), GUARD)).decode()
            assert line, "server exited before listening:\n" + "".join(lines)
            lines.append(line)
            if "Serving LSP on" in line:
                port = int(line.rsplit(":", 1)[1])
        server = Server(process, port)
        server.log = lines
        yield server
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


class Trap:
    """A local HTTP endpoint that records every request (standing in for an attacker's)."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            self.requests.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n")
            writer.write(b"Connection: close\r\n\r\n")
            await writer.drain()
        writer.close()


@contextlib.asynccontextmanager
async def trap() -> AsyncIterator[Trap]:
    recorder = Trap()
    listener = await asyncio.start_server(recorder.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    recorder.url = f"http://127.0.0.1:{port}/v1"
    async with listener:
        yield recorder


async def test_a_second_connection_is_closed_and_cannot_redirect_the_key() -> None:
    async with tcp_server() as server, trap() as endpoint:
        first = await server.connect()
        assert (await first.initialize())["result"]["serverInfo"]["name"] == "kimi-lsp"
        # The attack: while the editor is connected, another local process connects, points
        # the API at itself and asks for a chat, which would carry the user's key.
        second = await server.connect()
        settings = {"kimi": {"baseUrl": endpoint.url, "maxRetries": 0}}
        second.writer.write(
            _frame({"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration",
                    "params": {"settings": settings}})
            + _frame({"jsonrpc": "2.0", "id": "steal", "method": "kimi/chat",
                      "params": {"message": "hello"}})
        )  # fmt: skip
        with contextlib.suppress(ConnectionError):
            await second.writer.drain()
        assert await second.closed_by_server(), "the second connection got an answer"
        # The first client still gets its own answers, with its own settings.
        status = await first.request("kimi/status")
        assert status["result"]["baseUrl"] != endpoint.url
        assert endpoint.requests == [], "the second connection sent the key to its endpoint"
        first.close()


@pytest.mark.parametrize("framed", [False, True], ids=["raw-body", "lsp-framed-body"])
async def test_an_http_post_executes_nothing_and_the_next_client_is_served(framed: bool) -> None:
    async with tcp_server() as server:
        # What any web page can send to localhost: a POST whose text/plain body is JSON-RPC.
        exit_body = json.dumps({"jsonrpc": "2.0", "method": "exit"}).encode()
        body = _frame({"jsonrpc": "2.0", "method": "exit"}) if framed else exit_body
        post = await server.connect()
        post.writer.write(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://evil.example\r\n"
            b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
            % (server.port, len(body))
            + body
        )
        await post.writer.drain()
        assert await post.closed_by_server()
        client = await server.connect()
        assert (await client.initialize())["result"]["serverInfo"]["name"] == "kimi-lsp"
        assert server.process.returncode is None
        client.close()


async def test_a_client_that_leaves_does_not_end_the_server_or_leak_its_session() -> None:
    async with tcp_server() as server:
        uri = "file:///tmp/kimi-tcp/private.py"
        first = await server.connect()
        await first.initialize()
        await first.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 3,
                              "text": "SECRET = 1\n"}},
        )  # fmt: skip
        state = await first.request("kimi/documentState", {"textDocument": {"uri": uri}})
        assert state["result"]["version"] == 3
        first.close()
        await first.writer.wait_closed()
        # The next client is served, by a fresh session that never saw the first's document.
        second = await server.connect()
        assert (await second.initialize())["result"]["serverInfo"]["name"] == "kimi-lsp"
        state = await second.request("kimi/documentState", {"textDocument": {"uri": uri}})
        assert "is not open" in state["error"]["message"]
        # A connection reset or garbage does not end it either.
        rude = await server.connect()
        rude.writer.write(b"\x00\xff garbage \r\n\r\n")
        assert await rude.closed_by_server()
        assert (await second.request("kimi/status"))["result"]["model"] == "kimi-k2.6"
        # `exit` from the client still ends the process, as LSP says.
        assert (await second.request("shutdown"))["result"] is None
        await second.notify("exit", None)
        assert await asyncio.wait_for(server.process.wait(), GUARD) == 0


async def test_a_non_loopback_host_without_a_token_file_is_refused() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kimi_lsp", "--tcp", "--host", "0.0.0.0", "--port", "0",
        stderr=asyncio.subprocess.PIPE, env=server_env(),
    )  # fmt: skip
    try:
        assert process.stderr is not None
        # Read the log to its end: a server that listens anyway says so, and is failed.
        output = b""
        while line := await asyncio.wait_for(process.stderr.readline(), GUARD):
            output += line
            assert b"Serving LSP on" not in line, "it listened on 0.0.0.0 without a token"
        assert await process.wait() == 2
        assert b"--token-file" in output and b"loopback" in output
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def _token_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "token"
    path.write_text(text)
    path.chmod(mode)
    return path


async def test_a_wrong_or_missing_tcp_token_is_refused_and_never_logged(tmp_path: Path) -> None:
    token_file = _token_file(tmp_path, f"  {TOKEN}\n")
    args = ("--token-file", str(token_file), "--log-level", "DEBUG")
    async with tcp_server(*args) as server:
        for options in ({}, {"tcpToken": "guess"}, {"tcpToken": TOKEN + "x"}):
            client = await server.connect()
            reply = await client.initialize(**options)
            assert reply["error"]["code"] == -32600
            assert "tcpToken" in reply["error"]["message"]
            assert await client.closed_by_server()
        # Anything before initialize (settings, here) closes the connection unanswered.
        client = await server.connect()
        await client.notify("workspace/didChangeConfiguration", {"settings": {}})
        assert await client.closed_by_server()
        client = await server.connect()
        reply = await client.initialize(tcpToken=TOKEN)
        assert reply["result"]["serverInfo"]["name"] == "kimi-lsp"
        assert (await client.request("kimi/status"))["result"]["model"] == "kimi-k2.6"
        await client.request("shutdown")
        await client.notify("exit", None)
        assert await asyncio.wait_for(server.process.wait(), GUARD) == 0
        log = await server.drain_log()
    assert "tcpToken" in log or "token" in log.lower()  # the refusals are logged...
    assert TOKEN not in log  # ...the token never


@pytest.mark.parametrize(
    ("text", "mode", "says"),
    [("", 0o600, "is empty"), (TOKEN, 0o644, "chmod 600"), (TOKEN, 0o660, "chmod 600")],
)
async def test_an_unusable_token_file_is_refused_at_start(
    tmp_path: Path, text: str, mode: int, says: str
) -> None:
    token_file = _token_file(tmp_path, text, mode)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kimi_lsp", "--tcp", "--port", "0", "--token-file", str(token_file),
        stderr=asyncio.subprocess.PIPE, env=server_env(),
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), GUARD)
    assert process.returncode == 2
    assert says in err.decode()
    assert TOKEN not in err.decode()


async def test_deep_nesting_is_answered_over_tcp_and_the_client_is_still_served() -> None:
    async with tcp_server() as server:
        client = await server.connect()
        await client.initialize()
        body = '{"jsonrpc": "2.0", "id": 77, "method": "kimi/status", "params": %s}'
        for depth, code in ((50_000, -32700), (600, -32600)):
            data = (body % ("[" * depth + "]" * depth)).encode()
            client.writer.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
            answer = await asyncio.wait_for(client.read(), GUARD)
            while answer is not None and "method" in answer:  # the log, sent as notifications
                answer = await asyncio.wait_for(client.read(), GUARD)
            assert answer is not None and answer["error"]["code"] == code
            assert answer["id"] == (None if code == -32700 else 77)
        assert (await client.request("kimi/status"))["result"]["model"] == "kimi-k2.6"
        client.close()


async def test_a_silent_connection_does_not_keep_the_token_holder_out(tmp_path: Path) -> None:
    token_file = _token_file(tmp_path, TOKEN)
    env = {"KIMI_LSP_TCP_HANDSHAKE_SECONDS": "0.2"}
    async with tcp_server("--token-file", str(token_file), env=env) as server:
        squatter = await server.connect()  # connects first and never says anything
        assert await squatter.closed_by_server()
        client = await server.connect()
        reply = await client.initialize(tcpToken=TOKEN)
        assert reply["result"]["serverInfo"]["name"] == "kimi-lsp"
        client.close()


async def test_a_token_sent_to_a_listener_without_a_token_file_is_dropped_unlogged() -> None:
    async with tcp_server("--log-level", "DEBUG") as server:
        client = await server.connect()
        reply = await client.initialize(tcpToken=TOKEN)
        assert reply["result"]["serverInfo"]["name"] == "kimi-lsp"
        await client.request("shutdown")
        await client.notify("exit", None)
        assert await asyncio.wait_for(server.process.wait(), GUARD) == 0
        log = await server.drain_log()
    assert "initialize" in log  # pygls logged the message at DEBUG...
    assert TOKEN not in log and "tcpToken" not in log  # ...without the token


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0,
    reason="a socket owned by another user can only be made as root (Linux /proc check)",
)
async def test_another_users_process_gets_no_session() -> None:
    """On a shared machine, another local user connecting while no client is served must not
    get a session holding this user's key (it could point baseUrl at itself)."""
    async with tcp_server() as server, trap() as endpoint:
        os.seteuid(65534)  # the socket's owner is fixed when it is made
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        finally:
            os.seteuid(0)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
        stranger = Client(*await asyncio.open_connection(sock=sock))
        settings = {"kimi": {"baseUrl": endpoint.url, "maxRetries": 0}}
        stranger.writer.write(
            _frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {"capabilities": {}, "initializationOptions": settings["kimi"]}})
            + _frame({"jsonrpc": "2.0", "id": "steal", "method": "kimi/chat",
                      "params": {"message": "hello"}})
        )  # fmt: skip
        with contextlib.suppress(ConnectionError):
            await stranger.writer.drain()
        assert await stranger.closed_by_server(), "another user's process got an answer"
        assert endpoint.requests == []
        own = await server.connect()
        assert (await own.initialize())["result"]["serverInfo"]["name"] == "kimi-lsp"
        own.close()
