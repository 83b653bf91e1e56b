"""create_server(): independent instances, and a failing feature does not take the rest down."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimi_lsp.lsp.pygls_adapter import request_futures
from kimi_lsp.lsp.server import KimiServer, create_server


def test_each_call_builds_a_new_server() -> None:
    a, b = create_server(env={}), create_server(env={})
    assert a is not b and a.documents is not b.documents
    assert "kimi/status" in a.registry.requests


def test_failing_feature_is_isolated(caplog: pytest.LogCaptureFixture) -> None:
    def broken(server: KimiServer) -> None:
        raise RuntimeError("feature exploded")

    def working(server: KimiServer) -> None:
        server.registry.requests["test/ok"] = lambda params: None  # type: ignore[assignment,return-value]

    server = create_server(env={}, features=[("broken", broken), ("working", working)])
    assert server.failed_features == {"broken": "feature exploded"}
    assert "test/ok" in server.registry.requests
    assert "continues without it" in caplog.text


def test_a_failing_message_does_not_drop_the_rest_of_the_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import json

    server = create_server(env={})
    seen: list[int] = []

    def dispatch(body: bytes) -> None:
        number = json.loads(body)["n"]
        seen.append(number)
        if number == 1:
            raise RuntimeError("boom")

    server.dispatcher.dispatch = dispatch  # type: ignore[method-assign]
    bodies = [json.dumps({"n": n}).encode() for n in (1, 2)]
    server.dispatcher.feed(b"".join(b"Content-Length: %d\r\n\r\n%s" % (len(b), b) for b in bodies))
    assert seen == [1, 2]
    assert "continuing with the next one" in caplog.text


def test_an_answer_to_a_cancelled_request_of_ours_is_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import json
    from concurrent.futures import Future

    server = create_server(env={})
    future: Future[object] = Future()
    future.cancel()  # e.g. the applyEdit of an inline edit the user cancelled meanwhile
    request_futures(server.protocol)["ours-1"] = future
    body = json.dumps({"jsonrpc": "2.0", "id": "ours-1", "result": {"applied": True}}).encode()
    server.dispatcher.feed(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    assert "ours-1" not in request_futures(server.protocol)
    assert "InvalidStateError" not in caplog.text and "failed" not in caplog.text


def test_the_workspace_walk_starts_at_initialize_not_after_the_settings_pull(
    tmp_path: Path,
) -> None:
    """A request may come before `initialized` has pulled the client's settings (a round trip
    to the client): the index must already be on its way, or the file is 'outside the
    workspace' (a race the e2e tests hit now and then)."""
    import asyncio
    import json

    (tmp_path / "a.py").write_text("x = 1\n")
    server = create_server(env={})
    server.protocol.set_writer(_Sink())
    params = {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    body = json.dumps(init).encode()

    async def run() -> list[str]:
        server.dispatcher.feed(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        service = server.services.context
        await service.ready()  # no `initialized` was sent
        return service.engine.all_rels()

    assert asyncio.run(run()) == ["a.py"]


class _Sink:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass
