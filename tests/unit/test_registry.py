"""The registry: one registration per name, and what the dispatcher serves is what it holds."""

from __future__ import annotations

from typing import Any

import pytest

from kimi_lsp.lsp.registry import DuplicateRegistrationError, Registry
from kimi_lsp.lsp.server import create_server


async def _noop(params: Any) -> None:
    return None


def test_a_method_cannot_be_registered_twice() -> None:
    registry = Registry()
    registry.request("kimi/x")(_noop)
    with pytest.raises(DuplicateRegistrationError, match="kimi/x"):
        registry.request("kimi/x")(_noop)
    with pytest.raises(DuplicateRegistrationError, match="kimi/x"):
        registry.notification("kimi/x")(_noop)


def test_a_command_cannot_be_registered_twice() -> None:
    registry = Registry()
    registry.command("kimi.y")(_noop)
    with pytest.raises(DuplicateRegistrationError, match=r"kimi\.y"):
        registry.command("kimi.y")(_noop)


def test_options_are_kept_per_method_and_methods_list_both_kinds() -> None:
    registry = Registry()
    registry.request("textDocument/codeAction", {"kinds": 1})(_noop)
    registry.notification("textDocument/didOpen")(_noop)
    assert registry.options == {"textDocument/codeAction": {"kinds": 1}}
    assert registry.methods() == ["textDocument/codeAction", "textDocument/didOpen"]


def test_the_server_registers_every_protocol_command_once() -> None:
    server = create_server(env={})
    assert server.failed_features == {}
    assert sorted(server.registry.commands) == sorted(
        ["kimi.inlineEdit", "kimi.fix", "kimi.explain", "kimi.docstring", "kimi.tests",
         "kimi.refactor", "kimi.chat", "kimi.showContext", "kimi.status"]
    )  # fmt: skip
    requests = [
        *("kimi/chat", "kimi/inlineEdit", "kimi/acceptEdit", "kimi/rejectEdit", "kimi/refactor"),
        *("kimi/context", "kimi/status", "textDocument/codeAction"),
    ]
    assert set(requests) <= set(server.registry.requests)
