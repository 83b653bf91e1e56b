"""Tests for the validity gate that refuses edits breaking a parseable Python file."""

from __future__ import annotations

from kimi_lsp.edits.validate import edit_breaks, python_breaks

GOOD = "def f():\n    return 1\n"


def test_an_edit_that_still_parses_passes() -> None:
    assert python_breaks(GOOD, "def f():\n    return 2\n") is None


def test_an_edit_that_breaks_the_file_is_refused_with_the_line() -> None:
    message = python_breaks(GOOD, "x = 0\ny = 1\n\ndef f(:\n    return 1\n")
    assert message is not None
    assert message.startswith("the edit would make the file unparseable: line 4: ")


def test_indentation_errors_are_reported() -> None:
    message = python_breaks(GOOD, "def f():\nreturn 1\n")
    assert message is not None and "line 2" in message


def test_an_already_broken_file_is_not_judged() -> None:
    assert python_breaks("def f(:\n", "def g(:\n") is None


def test_nul_bytes_are_refused_without_raising() -> None:
    message = python_breaks(GOOD, "x = 1\0\n")
    assert message is not None and message.startswith("the edit would make")
    assert python_breaks("x = 1\0\n", "y\0") is None


def test_gate_by_language() -> None:
    assert edit_breaks("python", GOOD, "def (") is not None
    assert edit_breaks("rust", "fn main() {}", "fn (") is None
