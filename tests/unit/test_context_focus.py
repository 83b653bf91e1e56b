"""The one builder of a context request from where the user is (server and command line)."""

from __future__ import annotations

import pytest

from kimi_lsp.context.builder import OpenDocument
from kimi_lsp.context.focus import Focus, request_for_focus
from kimi_lsp.context.prompt import SYSTEM_PROMPTS
from kimi_lsp.documents import Position, Range, TextDocument
from kimi_lsp.errors import InvalidInputError

URI = "file:///w/calc.py"
TEXT = "def add(a, b):\n    return a - b\n"
CURRENT = OpenDocument(URI, "calc.py", TEXT, "python")
LINE_2 = Range(Position(1, 0), Position(2, 0))


def test_a_selection_becomes_offsets_and_its_first_line_the_cursor() -> None:
    focus = Focus(URI, LINE_2, diagnostics=("line 2: error: wrong sign",))
    positions = TextDocument(URI, "python", 1, TEXT)
    recent = [OpenDocument("file:///w/b.py", "b.py", "b = 1\n", "python")]
    request = request_for_focus(
        "edit", focus, "fix", CURRENT, positions=positions, recent=recent, reserved_tokens=7
    )
    assert request.selection == (15, len(TEXT)) and request.cursor_line == 1
    assert request.system_prompt == SYSTEM_PROMPTS["edit"] and request.instruction == "fix"
    assert request.diagnostics == ("line 2: error: wrong sign",)
    assert request.recent == tuple(recent) and request.reserved_tokens == 7
    assert request.current is CURRENT and request.secret_reason is None


def test_without_positions_only_the_cursor_is_used() -> None:
    focus = Focus(URI, LINE_2, Position(0, 3))
    request = request_for_focus("chat", focus, "why?", CURRENT)
    assert request.selection is None and request.cursor_line == 0
    assert request.system_prompt == SYSTEM_PROMPTS["chat"]


def test_no_document_no_cursor() -> None:
    request = request_for_focus("chat", Focus(position=Position(4, 0)), "hello", None)
    assert request.current is None and request.cursor_line is None and request.selection is None


def test_an_edit_of_a_secret_file_is_refused_a_chat_about_it_is_not() -> None:
    focus = Focus("file:///w/.env", position=Position(0, 0))
    with pytest.raises(InvalidInputError) as caught:
        request_for_focus("edit", focus, "x", CURRENT, secret_reason="dotenv file")
    assert ".env is a dotenv file" in caught.value.message
    request = request_for_focus("chat", focus, "x", CURRENT, secret_reason="dotenv file")
    assert request.secret_reason == "dotenv file" and request.cursor_line == 0
