"""Regression tests for the defects the protocol fuzzer found, one focused test each."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from pygls.exceptions import JsonRpcException

from kimi_lsp.errors import ErrorKind, RequestFailedError
from kimi_lsp.lsp.dispatch import _translated
from kimi_lsp.lsp.transport import FrameParser
from tests.fake_kimi import FakeKimi, Fault, Reply

from .servers import raw_server, running_fake, settings_for
from .wire import NO_ANSWER, RawServer, encode, frame

STATUS = {"jsonrpc": "2.0", "id": 1, "method": "kimi/status"}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeKimi]:
    with running_fake() as handle:
        yield handle


@pytest.fixture(scope="module")
def server(fake: FakeKimi) -> Iterator[RawServer]:
    with raw_server(fake) as handle:
        yield handle


def test_a_frame_with_a_short_length_does_not_lose_the_messages_after_it() -> None:
    body = json.dumps(STATUS).encode()
    parser = FrameParser()
    bodies = parser.feed(b"Content-Length: %d\r\n\r\n" % (len(body) - 4) + body)
    bodies += parser.feed(encode(STATUS) + encode(STATUS))
    assert bodies[1:] == [body, body]


def test_junk_and_case_in_headers_still_find_the_length() -> None:
    body = json.dumps(STATUS).encode()
    parser = FrameParser()
    data = b"garbage" + b"content-LENGTH:%d\r\n\r\n" % len(body) + body
    data += b"Content-Length: oops\r\n\r\n" + body + encode(STATUS)
    assert parser.feed(data) == [body, body]


def test_a_request_id_that_is_a_list_is_answered_not_dropped(server: RawServer) -> None:
    server.send({"jsonrpc": "2.0", "id": [7], "method": "kimi/status"})
    server.send({"jsonrpc": "2.0", "id": {"a": 1}, "method": "workspace/executeCommand"})
    server.wait_until(lambda: len(server.responses.get(None, [])) >= 2)
    for answer in server.responses[None][:2]:
        assert answer["error"]["code"] == -32600
        assert "id must be" in answer["error"]["message"]
    assert server.call("kimi/status", None)["version"]
    assert not server.tracebacks()


def test_a_cancel_with_an_unhashable_id_is_ignored_quietly(server: RawServer) -> None:
    server.notify("$/cancelRequest", {"id": [1, 2]})
    server.notify("$/cancelRequest", {"id": {"x": 1}})
    assert server.call("kimi/status", None)["version"]
    assert not server.tracebacks()


@pytest.mark.parametrize("command", ["kimi.nope", ["kimi.chat"], None, 5])
def test_unknown_or_mistyped_commands_get_a_readable_invalid_params(
    server: RawServer, command: object
) -> None:
    answer = server.wait(
        server.request("workspace/executeCommand", {"command": command, "arguments": []})
    )
    assert answer["error"]["code"] == -32602
    assert "kimi.status" in answer["error"]["message"]
    assert not server.tracebacks()


def test_a_request_without_params_to_an_unknown_method_is_method_not_found(
    server: RawServer,
) -> None:
    answer = server.wait(server.request("kimi/noSuchThing", None))
    assert answer["error"]["code"] == -32601
    assert not server.tracebacks()


@pytest.mark.parametrize(
    ("context", "code"),
    [([10**30, False], -32602), ({"diagnostics": 7}, None), ({"diagnostics": "ab"}, None)],
)
def test_a_code_action_context_of_the_wrong_shape_is_invalid_params_not_a_crash(
    server: RawServer, context: object, code: int | None
) -> None:
    where = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}}
    params = {"textDocument": {"uri": "file:///fuzz/x.py"}, "range": where, "context": context}
    answer = server.wait(server.request("textDocument/codeAction", params))
    if code is None:
        assert isinstance(answer["result"], list)  # wrong diagnostics: listed without them
    else:
        assert answer["error"]["code"] == code
        assert answer["error"]["message"] == "Expected context to be an object."
    assert not server.tracebacks()


def test_answers_nobody_waits_for_are_dropped_quietly(server: RawServer) -> None:
    # The client answers a request of ours whose caller was cancelled, or one we never sent.
    server.send({"jsonrpc": "2.0", "id": "never-sent", "result": None})
    server.send({"jsonrpc": "2.0", "id": 424242, "error": {"code": -1, "message": "late"}})
    assert server.call("kimi/status", None)["version"]
    assert not server.tracebacks()


def test_lone_surrogates_in_a_document_and_a_message_reach_the_model(
    server: RawServer, fake: FakeKimi
) -> None:
    uri = "file:///regress/surrogate.py"
    text = 'x = "\ud800"\ny = 1\n'
    server.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
    )
    fake.enqueue(Reply(content="fine"))
    chat = server.call(
        "kimi/chat", {"message": "why \udc00?", "textDocument": {"uri": uri}}, timeout=20
    )
    assert chat["content"] == "fine"
    sent = fake.last_request.raw_body.decode("utf-8")
    assert "\\ufffd" in sent or "\ufffd" in sent
    fake.enqueue(Reply(content="```python\ny = 2\n```"))
    edit = server.call(
        "kimi/inlineEdit",
        {"textDocument": {"uri": uri}, "instruction": "two", "mode": "preview",
         "range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}},
        timeout=20,
    )  # fmt: skip
    assert [e["newText"] for e in edit["edits"]] == ["2"]
    # U+FFFD takes the lone surrogate's one UTF-16 unit: positions still match the client's.
    state = server.call("kimi/documentState", {"textDocument": {"uri": uri}})
    assert state["text"] == text.replace("\ud800", "\ufffd")
    assert not server.tracebacks()


def test_a_model_error_inside_the_refactor_task_group_is_request_failed(
    server: RawServer, fake: FakeKimi
) -> None:
    fake.clear_queue()
    fake.enqueue(Fault.auth())
    answer = server.wait(server.request("kimi/refactor", {"instruction": "rename x"}), 20)
    assert answer["error"]["code"] == -32803, answer
    assert answer["error"]["data"]["kind"] == "auth"


async def test_the_boundary_unwraps_a_group_of_typed_errors_only() -> None:
    async def typed() -> None:
        raise ExceptionGroup("tg", [RequestFailedError(ErrorKind.QUOTA, "Out of credit.")])

    async def mixed() -> None:
        raise ExceptionGroup("tg", [RequestFailedError(ErrorKind.QUOTA, "x"), KeyError("k")])

    with pytest.raises(JsonRpcException) as caught:
        await _translated("kimi/x", typed)
    assert caught.value.code == -32803
    assert caught.value.message == "Out of credit."
    with pytest.raises(JsonRpcException) as internal:
        await _translated("kimi/x", mixed)
    assert internal.value.code == -32603


def test_notifications_pygls_runs_leave_nothing_in_its_request_table(server: RawServer) -> None:
    for _ in range(50):
        server.notify("$/setTrace", {"value": "off"})
        server.notify(
            "workspace/didChangeWorkspaceFolders", {"event": {"added": [], "removed": []}}
        )
    stats = server.call("kimi/debugStats", None)
    assert stats["requestsInFlight"] == 0, stats
    assert stats["openStreams"] == 0 and stats["progressBars"] == 0


def test_shutdown_while_initialized_still_waits_for_the_client(fake: FakeKimi) -> None:
    """pygls cancels its futures while iterating its table; forgetting notification entries
    right then broke shutdown ("dictionary changed size during iteration")."""
    server = RawServer("vscode")
    asked = threading.Event()

    def hold(method: str, params: object) -> object:
        asked.set()
        return NO_ANSWER  # client/registerCapability never answered: `initialized` waits

    server.on_request = hold
    try:
        server.initialize(settings_for(fake))
        assert asked.wait(10)
        answer = server.wait(server.request("shutdown", None))
        assert answer.get("error") is None and answer["result"] is None, answer
        server.notify("exit", None)
        assert server.process.wait(timeout=10) == 0
        assert not server.tracebacks(), "".join(server.stderr_lines)
    finally:
        server.close()


def _nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def test_deeply_nested_json_is_answered_and_the_server_keeps_serving(server: RawServer) -> None:
    """Issue 16, finding 10: a 50,000-deep body raised RecursionError and went unanswered."""
    too_deep = '{"jsonrpc": "2.0", "id": "deep-1", "method": "kimi/status", "params": %s}'
    before = len(server.responses_now().get(None, []))  # null-id answers of earlier tests
    server.write(frame((too_deep % _nested(50_000)).encode()))
    server.wait_until(lambda: len(server.responses_now().get(None, [])) > before, timeout=20)
    parse_error = server.responses_now()[None][-1]["error"]
    assert parse_error["code"] == -32700 and "deeper than 512" in parse_error["message"]
    # Past the limit but still parseable: the id is known, so the answer carries it.
    past_limit = '{"jsonrpc": "2.0", "id": "deep-2", "method": "kimi/status", "params": %s}'
    server.write(frame((past_limit % _nested(600)).encode()))
    assert server.wait("deep-2", timeout=20)["error"]["code"] == -32600
    # At the limit, with a lone surrogate to fix on the way in: handled like any message.
    at_limit = '{"jsonrpc": "2.0", "id": "deep-3", "method": "kimi/context", "params": %s}'
    server.write(frame((at_limit % _nested(510, '"\\ud800"')).encode()))
    assert server.wait("deep-3", timeout=20)["error"]["code"] == -32602
    server.write(frame(_nested(50_000, "{}").encode()))  # a notification-less bare value
    assert server.call("kimi/status", None)["version"]
    assert not server.tracebacks(), "".join(server.stderr_lines[-20:])


def test_a_frame_wrapped_in_http_is_dropped_whole_on_stdio(server: RawServer) -> None:
    """Issue 16, finding 1 (stdio side): the parser took the Content-Length of an HTTP request
    and ran its body; the body is skipped whole, even an LSP frame inside it."""
    inner = encode({"jsonrpc": "2.0", "id": "via-http", "method": "kimi/status"})
    for body in (inner.split(b"\r\n\r\n", 1)[1], inner):
        server.write(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body
        )
    assert server.call("kimi/status", None)["version"]
    assert "via-http" not in server.responses_now()
    assert not server.tracebacks()
