"""The pygls adapter: every pygls internal we use is still there, and works as we use it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from lsprotocol import types

from kimi_lsp.lsp import pygls_adapter as pygls
from kimi_lsp.lsp.server import create_server


class _Pipe:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        _, body = data.split(b"\r\n\r\n", 1)
        self.sent.append(json.loads(body))

    def close(self) -> None:
        pass


def _server_with_pipe() -> tuple[Any, _Pipe]:
    server = create_server(env={})
    pipe = _Pipe()
    server.protocol.set_writer(pipe)
    return server, pipe


def test_every_internal_we_use_exists_in_this_pygls() -> None:
    server = create_server(env={})
    missing = pygls.missing_internals(server.protocol)
    assert missing == [], (
        f"pygls moved {missing}: update kimi_lsp/lsp/pygls_adapter.py (and the pin in "
        "pyproject.toml) before anything else"
    )


def test_an_attribute_gone_is_reported_by_name() -> None:
    class Bare:
        _shutdown = False

    assert "_request_futures" in pygls.missing_internals(Bare())  # type: ignore[arg-type]
    assert "_shutdown" not in pygls.missing_internals(Bare())  # type: ignore[arg-type]


def test_plain_json_results_errors_and_notifications_reach_the_wire() -> None:
    server, pipe = _server_with_pipe()
    pygls.send_json(server.protocol, {"jsonrpc": "2.0", "method": "kimi/x", "params": {"a": 1}})
    pygls.send_result(server.protocol, 7, {"ok": True})
    pygls.send_error(server.protocol, 8, types.ResponseError(code=-32803, message="no"))
    assert pipe.sent[0] == {"jsonrpc": "2.0", "method": "kimi/x", "params": {"a": 1}}
    assert pipe.sent[1]["id"] == 7 and pipe.sent[1]["result"] == {"ok": True}
    assert pipe.sent[2]["id"] == 8 and pipe.sent[2]["error"]["code"] == -32803


def test_lsprotocol_objects_become_camel_case_json() -> None:
    server = create_server(env={})
    edit = types.TextEdit(
        range=types.Range(types.Position(0, 1), types.Position(2, 3)), new_text="x"
    )
    assert pygls.to_json(server.protocol, edit) == {
        "range": {"start": {"line": 0, "character": 1}, "end": {"line": 2, "character": 3}},
        "newText": "x",
    }


def test_request_table_context_and_shutdown_flag_are_pyglss_own() -> None:
    server = create_server(env={})
    protocol = server.protocol
    futures = pygls.request_futures(protocol)
    assert futures is pygls.request_futures(protocol)  # the live table, not a copy

    async def inside() -> Any:
        pygls.start_request_context(protocol, "req-9")
        return protocol.msg_id

    assert asyncio.run(inside()) == "req-9"
    assert pygls.shutting_down(protocol) is False
    protocol._shutdown = True
    assert pygls.shutting_down(protocol) is True


def test_capabilities_come_from_the_registry() -> None:
    server, pipe = _server_with_pipe()
    registry = server.registry
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"processId": None, "rootUri": None, "capabilities": {}}}  # fmt: skip
    body = json.dumps(init).encode()

    async def run() -> None:  # pygls answers initialize on the same turn
        server.dispatcher.feed(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    asyncio.run(run())
    capabilities = pipe.sent[-1]["result"]["capabilities"]
    assert sorted(capabilities["executeCommandProvider"]["commands"]) == sorted(registry.commands)
    kinds = capabilities["codeActionProvider"]["codeActionKinds"]
    options = registry.options["textDocument/codeAction"]
    assert kinds == [getattr(k, "value", k) for k in options.code_action_kinds]
    assert capabilities["textDocumentSync"]["openClose"] is True


def test_the_deserialize_traceback_we_quiet_is_still_pyglss() -> None:
    import inspect
    import logging

    from pygls.protocol import json_rpc

    assert json_rpc.logger.name == pygls.JSON_RPC_LOGGER
    assert pygls.DESERIALIZE_FAILURE in inspect.getsource(json_rpc)
    pygls.quiet_deserialize_tracebacks()
    pygls.quiet_deserialize_tracebacks()  # once per process, however many servers
    logger = logging.getLogger(pygls.JSON_RPC_LOGGER)
    assert len(logger.filters) == 1
    record = logging.LogRecord(pygls.JSON_RPC_LOGGER, logging.ERROR, "", 1, "x", None, None)
    record.msg = pygls.DESERIALIZE_FAILURE + "\nTraceback ..."
    assert not logger.filter(record)
    record.msg = "Something else"
    assert logger.filter(record)
