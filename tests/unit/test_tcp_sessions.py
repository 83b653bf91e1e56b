"""The TCP listener in-process: a fresh server per client, the old one freed, quick reconnects."""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from typing import Any

from kimi_lsp.lsp.server import KimiServer, create_server
from kimi_lsp.lsp.tcp import Listener

GUARD = 20  # seconds: a hang guard only


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def answer(reader: asyncio.StreamReader, msg_id: int) -> dict[str, Any]:
    while True:
        header = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), GUARD)
        length = int(header.split(b":")[1].split(b"\r\n")[0])
        message: dict[str, Any] = json.loads(await reader.readexactly(length))
        if message.get("id") == msg_id and "method" not in message:
            return message


async def test_each_client_gets_a_fresh_server_and_the_last_one_is_freed() -> None:
    servers: list[weakref.ref[KimiServer]] = []

    def fresh() -> KimiServer:
        server = create_server()
        servers.append(weakref.ref(server))
        return server

    listener = Listener(fresh, None)
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    serving = asyncio.ensure_future(listener.run("127.0.0.1", 0, bound.set_result))
    port = await bound
    uri = "file:///tmp/kimi-tcp/big.py"
    try:
        for round_ in range(5):
            # Each client reconnects the moment the previous one closed: never refused.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            initialize = {"capabilities": {}}
            writer.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                "params": initialize}))  # fmt: skip
            assert "result" in await answer(reader, 1)
            state = {"textDocument": {"uri": uri}}
            writer.write(frame({"jsonrpc": "2.0", "id": 2, "method": "kimi/documentState",
                                "params": state}))  # fmt: skip
            assert "is not open" in (await answer(reader, 2))["error"]["message"], round_
            opened = {"uri": uri, "languageId": "python", "version": 1, "text": "x = 1\n" * 1000}
            writer.write(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                                "params": {"textDocument": opened}}))  # fmt: skip
            writer.write(frame({"jsonrpc": "2.0", "id": 3, "method": "kimi/documentState",
                                "params": state}))  # fmt: skip
            assert (await answer(reader, 3))["result"]["version"] == 1
            if round_ < 4:
                writer.close()
                await writer.wait_closed()
        # The fifth client is being served, so the four before it have left: all are freed.
        gc.collect()
        assert [ref() is None for ref in servers] == [True] * 4 + [False]
        writer.close()
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
