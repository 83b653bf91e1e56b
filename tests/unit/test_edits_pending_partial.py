"""Typing around a partially accepted preview: the accepted hunks move the end of its range."""

from __future__ import annotations

import pytest

from kimi_lsp.edits.diff import apply_hunks, compute_hunks
from kimi_lsp.edits.pending import PendingEdit
from kimi_lsp.lsp.features.inline_edit import InlineEdits

GROWN = (
    "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a + b\n\n\nX = 1\n",
    'def add(a, b):\n    """Sum."""\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n',
)
SHRUNK = (
    "def add(a, b):\n    # TODO: check\n    return a - b\n\n\n"
    "def sub(a, b):\n    return a + b\n\n\nX = 1\n",
    "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n",
)


def preview(source: str, proposal: str) -> PendingEdit:
    """A two-hunk preview of the two functions (the range ends before the blank lines)."""
    end = source.index("\n\n\nX")
    end += 1  # the range ends after sub's line break
    hunks = compute_hunks(source, proposal + source[end:])
    assert len(hunks) == 2
    return PendingEdit("e1", "file:///calc.py", 1, source, (0, end), hunks, 0.0)


def after_first(pending: PendingEdit) -> str:
    return apply_hunks(pending.snapshot, [pending.hunks[0]])


def typed(text: str, line: int, column: int, what: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[line] = lines[line][:column] + what + lines[line][column:]
    return "".join(lines)


@pytest.mark.parametrize(
    ("line", "column", "touched"), [(1, 0, True), (6, 4, True), (7, 0, True), (8, 0, False)]
)
def test_after_a_growing_accept_the_range_reaches_further(
    line: int, column: int, touched: bool
) -> None:
    pending = preview(*GROWN)
    base = after_first(pending)
    # Lines 0-6 are the preview's now (hunk 0 added one), line 6 past where the range ended in
    # the snapshot; line 7 starts at the range's end (typing at an end counts); line 8 is after.
    assert InlineEdits._touched_since(pending, typed(base, line, column, "x"), {0}) is touched


@pytest.mark.parametrize(("line", "touched"), [(5, True), (6, True), (7, False), (8, False)])
def test_after_a_shrinking_accept_the_range_ends_sooner(line: int, touched: bool) -> None:
    pending = preview(*SHRUNK)
    base = after_first(pending)
    # Hunk 0 removed a line: the range is lines 0-5 and ends at line 6; lines 7 and 8 are
    # after it, though before where it ended in the snapshot.
    assert InlineEdits._touched_since(pending, typed(base, line, 0, "x"), {0}) is touched


def test_the_accepted_hunk_itself_is_not_typing() -> None:
    pending = preview(*GROWN)
    assert InlineEdits._touched_since(pending, after_first(pending), {0}) is False
    assert InlineEdits._touched_since(pending, after_first(pending), set()) is True
