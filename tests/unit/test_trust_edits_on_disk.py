"""Issue 16, finding 6: a planned edit of a file not open, carried onto the file as it is now."""

from __future__ import annotations

import hashlib

from kimi_lsp.edits.diff import apply_hunks, compute_hunks
from kimi_lsp.edits.on_disk import DiskBase, onto_disk

ORIGINAL = "a = 1\nb = 2\nc = 3\n"
NEW = ORIGINAL.replace("c = 3", "c = 4")


def carried(current: str | None, raw: bytes | None = None) -> DiskBase | str:
    if raw is None and current is not None:
        raw = current.encode()
    return onto_disk("calc.py", ORIGINAL, compute_hunks(ORIGINAL, NEW), raw, current)


def test_an_unchanged_file_keeps_its_hunks_and_names_its_bytes() -> None:
    moved = carried(ORIGINAL)
    assert isinstance(moved, DiskBase)
    assert apply_hunks(moved.text, moved.hunks) == NEW
    assert moved.digest == hashlib.sha256(ORIGINAL.encode()).hexdigest()


def test_lines_prepended_on_disk_move_the_edit_with_them() -> None:
    current = "a = 10\nb = 20\n" + ORIGINAL
    moved = carried(current)
    assert isinstance(moved, DiskBase)
    assert apply_hunks(current, moved.hunks) == "a = 10\nb = 20\n" + NEW
    assert moved.digest == hashlib.sha256(current.encode()).hexdigest()


def test_the_digest_is_of_the_bytes_read() -> None:
    raw = b"\xef\xbb\xbf" + ORIGINAL.encode()  # a BOM the decoded text does not hold
    moved = carried(ORIGINAL, raw)
    assert isinstance(moved, DiskBase) and moved.digest == hashlib.sha256(raw).hexdigest()


def test_a_change_where_the_edit_lands_refuses_the_file() -> None:
    refused = carried(ORIGINAL.replace("c = 3", "c = 30"))
    assert isinstance(refused, str) and "changed on disk while the refactor ran" in refused


def test_a_deleted_or_binary_file_is_refused() -> None:
    assert "deleted" in str(onto_disk("calc.py", ORIGINAL, [], None, None))
    assert "no longer a text file" in str(onto_disk("calc.py", ORIGINAL, [], b"\0\1", None))
