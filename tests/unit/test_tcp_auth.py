"""Who may use a TCP listener: loopback hosts, the token file's checks, the initialize gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kimi_lsp.cli.main import tcp_token
from kimi_lsp.lsp.dispatch import MAX_DEPTH, _deeper_than
from kimi_lsp.lsp.tcp_auth import Gate, TokenFileError, is_loopback, read_token_file


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.5", False),
        ("my-laptop.local", False),
    ],
)
def test_only_loopback_hosts_need_no_token(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    problem, token = tcp_token(host, None)
    assert (problem is None) is loopback and token is None


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "token"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_the_token_is_the_file_stripped(tmp_path: Path) -> None:
    assert read_token_file(write(tmp_path, "\n  abc-123 \n")) == "abc-123"
    assert tcp_token("0.0.0.0", write(tmp_path, "abc-123")) == (None, "abc-123")


@pytest.mark.parametrize(
    ("text", "mode", "says"),
    [
        ("", 0o600, "is empty"),
        (" \n\t", 0o600, "is empty"),
        ("abc", 0o640, "chmod 600"),
        ("abc", 0o604, "chmod 600"),
        ("abc", 0o620, "chmod 600"),
        ("x" * 5000, 0o600, "over 4 KB"),
    ],
)
def test_unusable_token_files_are_refused(tmp_path: Path, text: str, mode: int, says: str) -> None:
    path = write(tmp_path, text, mode)
    with pytest.raises(TokenFileError, match=says):
        read_token_file(path)
    problem, token = tcp_token("127.0.0.1", path)
    assert problem is not None and says in problem and token is None


def test_a_missing_token_file_or_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TokenFileError, match="Cannot read"):
        read_token_file(tmp_path / "missing")
    with pytest.raises(TokenFileError, match="not a regular file"):
        read_token_file(tmp_path)


def initialize(options: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"capabilities": {}, "initializationOptions": options},
    }


@pytest.mark.parametrize(
    "message",
    [
        initialize({}),
        initialize(None),
        initialize({"tcpToken": "wrong"}),
        initialize({"tcpToken": 12345}),
        initialize({"tcpToken": "s3cret\ud800"}),
        {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {}},
        {"jsonrpc": "2.0", "id": 1, "method": "kimi/chat", "params": {"tcpToken": "s3cret"}},
        [initialize({"tcpToken": "s3cret"})],
    ],
)
def test_the_gate_admits_only_initialize_with_the_token(message: Any) -> None:
    assert not Gate("s3cret").admits(message)


def test_the_gate_admits_the_token_and_removes_it_from_the_options() -> None:
    message = initialize({"tcpToken": " s3cret ", "model": "kimi-k2.6"})
    assert Gate("s3cret").admits(message)
    assert message["params"]["initializationOptions"] == {"model": "kimi-k2.6"}


def test_depth_is_measured_without_recursion() -> None:
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    assert _deeper_than(deep, MAX_DEPTH)
    shallow: Any = {"a": [{"b": [1, 2, {"c": "x" * 1000}]}] * 1000}
    assert not _deeper_than(shallow, MAX_DEPTH)
    exact: Any = 0
    for _ in range(MAX_DEPTH):
        exact = {"k": exact}
    assert not _deeper_than(exact, MAX_DEPTH) and _deeper_than([exact], MAX_DEPTH)
