"""Preview mode's store: proposed edits waiting for `kimi/acceptEdit` or `kimi/rejectEdit`."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kimi_lsp.edits.diff import Hunk, compute_hunks
from kimi_lsp.edits.outcome import EditCode
from kimi_lsp.edits.rebase import spans_meet

__all__ = ["PendingEdit", "PendingEdits", "touches"]


@dataclass(frozen=True, slots=True)
class PendingEdit:
    """A proposal against `snapshot` (the text at `version`) that nobody accepted yet."""

    edit_id: str
    uri: str
    version: int
    snapshot: str
    # The edited range, as offsets into `snapshot`.
    range_offsets: tuple[int, int]
    # Minimal hunks against `snapshot`; `kimi/acceptEdit` indices point into this list.
    hunks: list[Hunk]
    # When it was proposed, on the store's clock.
    created: float


def touches(pending: PendingEdit, user_hunks: Sequence[Hunk]) -> bool:
    """Whether any user change (snapshot offsets) meets the edit's range.

    The rule is rebase's conflict rule applied to the whole range: closed spans that share a
    point, so typing right at either end of the range counts.
    """
    start, end = pending.range_offsets
    return any(spans_meet(start, end, u.start, u.end) for u in user_hunks)


class PendingEdits:
    """Pending edits by id; each lives `ttl_seconds`, and at most `max_edits` are kept."""

    def __init__(
        self,
        ttl_seconds: float = 600,
        *,
        max_edits: int = 100,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_edits = max_edits
        self._clock = clock
        self._edits: dict[str, PendingEdit] = {}  # insertion order = age order
        # Why recently forgotten edits went, when it was not the client's doing (expiry,
        # eviction, a closed document): a later accept says so. Bounded like the store.
        self._gone: OrderedDict[str, EditCode] = OrderedDict()

    def __len__(self) -> int:
        return len(self._edits)

    def add(
        self,
        uri: str,
        version: int,
        snapshot: str,
        range_offsets: tuple[int, int],
        hunks: Sequence[Hunk],
        *,
        edit_id: str | None = None,
    ) -> str:
        """Store a proposal and return its id (`edit_id` when given, else a fresh one)."""
        self.expire()
        edit_id = edit_id or uuid.uuid4().hex
        self._edits.pop(edit_id, None)
        self._gone.pop(edit_id, None)
        self._edits[edit_id] = PendingEdit(
            edit_id, uri, version, snapshot, range_offsets, list(hunks), self._clock()
        )
        while len(self._edits) > self.max_edits:
            self._forget(self._edits.pop(next(iter(self._edits))).edit_id, EditCode.EXPIRED)
        return edit_id

    def _forget(self, edit_id: str, code: EditCode) -> None:
        self._gone.pop(edit_id, None)
        self._gone[edit_id] = code
        while len(self._gone) > self.max_edits:
            self._gone.popitem(last=False)

    def gone(self, edit_id: str) -> EditCode:
        """Why `edit_id` is not live: expired, its document closed, or simply not pending
        (unknown, accepted, rejected or dropped because the user changed its lines)."""
        edit = self._edits.get(edit_id)
        if edit is not None and not self._alive(edit, self._clock()):
            return EditCode.EXPIRED
        return self._gone.get(edit_id, EditCode.NOT_PENDING)

    def _alive(self, edit: PendingEdit, now: float) -> bool:
        return now - edit.created < self.ttl_seconds

    def get(self, edit_id: str) -> PendingEdit | None:
        """The live edit with this id, or None (unknown, expired, accepted or rejected)."""
        edit = self._edits.get(edit_id)
        return edit if edit is not None and self._alive(edit, self._clock()) else None

    def pop(self, edit_id: str) -> PendingEdit | None:
        """Remove and return the live edit with this id, or None."""
        edit = self._edits.pop(edit_id, None)
        if edit is not None and not self._alive(edit, self._clock()):
            self._forget(edit_id, EditCode.EXPIRED)
            return None
        return edit

    def expire(self, now: float | None = None) -> list[PendingEdit]:
        """Drop and return the edits older than the TTL at `now` (default: the clock)."""
        now = self._clock() if now is None else now
        dead = [edit for edit in self._edits.values() if not self._alive(edit, now)]
        for edit in dead:
            del self._edits[edit.edit_id]
            self._forget(edit.edit_id, EditCode.EXPIRED)
        return dead

    def for_uri(self, uri: str) -> list[PendingEdit]:
        """The live edits of `uri`, oldest first."""
        now = self._clock()
        return [e for e in self._edits.values() if e.uri == uri and self._alive(e, now)]

    def drop_uri(self, uri: str) -> list[PendingEdit]:
        """Drop and return every edit of `uri` (closed or replaced document)."""
        now = self._clock()
        dropped = [e for e in self._edits.values() if e.uri == uri]
        for edit in dropped:
            del self._edits[edit.edit_id]
            alive = self._alive(edit, now)
            self._forget(edit.edit_id, EditCode.DOCUMENT_CLOSED if alive else EditCode.EXPIRED)
        return dropped

    def drop_touched(self, uri: str, current: str) -> list[PendingEdit]:
        """Drop and return the edits of `uri` whose range the user changed (see `touches`).

        `current` is the document's text now; the user's changes are diffed against each
        edit's snapshot (once per distinct snapshot).
        """
        user_by_snapshot: dict[str, list[Hunk]] = {}
        dropped: list[PendingEdit] = []
        for edit in self.for_uri(uri):
            user = user_by_snapshot.get(edit.snapshot)
            if user is None:
                user = user_by_snapshot[edit.snapshot] = compute_hunks(edit.snapshot, current)
            if touches(edit, user):
                dropped.append(edit)
                del self._edits[edit.edit_id]
        return dropped
