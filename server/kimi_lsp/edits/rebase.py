"""Carry a model's hunks across the user's typing: shift the independent ones, refuse the rest.

The user's changes are `compute_hunks(snapshot, current)`.  A model hunk M and a user hunk U
(both in snapshot offsets) CONFLICT when their closed spans meet::

    M.start <= U.end and U.start <= M.end

so besides real overlap, a conflict is also two insertions at the same point, an insertion at
either edge of the other's replaced span, and two replacements that merely touch.  That is
deliberately conservative: whenever the two changes could be ordered or combined in more than
one way, the model's hunk is refused rather than guessed.  A hunk without conflicts moves by
the length change of every user hunk before it; the characters around each of its ends are
then the same in `current` as in `snapshot`, so the result is the three-way merge::

    apply_hunks(current, result.hunks)
        == apply_hunks(snapshot, sorted(user_hunks + accepted_model_hunks, key=start))

and no character the user typed is touched.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from kimi_lsp.edits.diff import Hunk, compute_hunks

__all__ = ["RebaseResult", "conflicts", "rebase", "spans_meet"]


@dataclass(frozen=True, slots=True)
class RebaseResult:
    """Rebased model hunks (offsets into `current`) and the indices of the refused ones."""

    hunks: list[Hunk]
    refused: list[int]
    # True when nothing was refused.
    clean: bool
    # The user's changes since the snapshot, in snapshot offsets.
    user_hunks: list[Hunk] = field(default_factory=list)


def spans_meet(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """Whether the closed spans [a_start, a_end] and [b_start, b_end] share a point."""
    return a_start <= b_end and b_start <= a_end


def conflicts(model: Hunk, user: Hunk) -> bool:
    """The conflict rule of this module (see its docstring)."""
    return spans_meet(model.start, model.end, user.start, user.end)


def rebase(snapshot: str, current: str, hunks: Sequence[Hunk]) -> RebaseResult:
    """Move `hunks` (sorted, against `snapshot`) onto `current`, refusing conflicting ones."""
    at = 0
    for hunk in hunks:
        if not at <= hunk.start <= hunk.end <= len(snapshot):
            raise ValueError(f"hunks out of order or outside the snapshot at {hunk!r}")
        at = hunk.end
    if snapshot == current:
        return RebaseResult(list(hunks), [], True)
    user = compute_hunks(snapshot, current)
    ends = [u.end for u in user]
    # shift[i]: how far the user's first i hunks moved the text after them.
    shift = [0, *accumulate(len(u.text) - (u.end - u.start) for u in user)]
    rebased: list[Hunk] = []
    refused: list[int] = []
    for index, hunk in enumerate(hunks):
        # User hunks are sorted and disjoint: those before `i` end before this hunk starts.
        i = bisect_left(ends, hunk.start)
        if i < len(user) and conflicts(hunk, user[i]):
            refused.append(index)
            continue
        delta = shift[i]
        rebased.append(Hunk(hunk.start + delta, hunk.end + delta, hunk.text))
    return RebaseResult(rebased, refused, not refused, user)
