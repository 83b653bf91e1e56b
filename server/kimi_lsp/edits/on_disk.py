"""A planned edit of a file that is not open, carried onto the file as it is on disk now."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from .diff import Hunk
from .rebase import rebase


@dataclass(frozen=True, slots=True)
class DiskBase:
    """The hunks moved onto `text` (the file's current text) and the sha256 (lowercase hex)
    of the bytes that text was decoded from: what a client compares before applying."""

    hunks: list[Hunk]
    text: str
    digest: str


def digest_of(data: bytes) -> str:
    """The lowercase hex sha256 of `data` (the `bases` values of a refactor result)."""
    return hashlib.sha256(data).hexdigest()


def onto_disk(
    rel: str, original: str, hunks: Sequence[Hunk], raw: bytes | None, current: str | None
) -> DiskBase | str:
    """The edit computed from `original`, onto the file's current bytes `raw` (decoded:
    `current`); or the sentence saying why this file is refused.

    Same rule as for open documents (edits/rebase.py): only a clean three-way merge is
    taken, so a change on disk next to or inside an edited span refuses the file rather
    than guessing where the edit belongs."""
    if raw is None:
        return f"{rel} was deleted or became unreadable while the refactor ran: not changed"
    if current is None:
        return f"{rel} is no longer a text file on disk: not changed"
    if current == original:
        return DiskBase(list(hunks), current, digest_of(raw))
    moved = rebase(original, current, hunks)
    if moved.refused:
        return (
            f"{rel} changed on disk while the refactor ran, where the refactor edits it: "
            "not changed; run the refactor again"
        )
    return DiskBase(moved.hunks, current, digest_of(raw))
