"""Recent edits per document, coalesced: what the user just did, for next-edit prompts."""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from ..documents import TextChange, TextDocument
from ..positions import line_content_length, split_lines

# (line, str index on that line): cheaper than LSP positions and independent of the encoding.
Spot = tuple[int, int]

MAX_EDITS = 16
"""Edits kept over all documents (the prompt shows fewer); older ones fall off."""
HISTORY_EDITS = 6
"""Edits a next-edit prompt shows (the most recent)."""
MAX_EDIT_CHARS = 2_000
"""An edit whose old or new text is longer is kept clipped and never coalesced again."""
BLOCK = 4_096
"""Characters compared at a time when a whole-document change is narrowed to what changed."""
CONTEXT_CHARS = 120
"""Characters of the edited line kept on each side of an edit (its context in the prompt)."""


@dataclass(slots=True)
class Edit:
    """One coalesced edit: `old` became `new` at `start` (positions in the document after it).

    `before`/`after` are the rest of the first and last edited lines around it, so that the
    prompt can show whole lines; `end` is where `new` ends now."""

    uri: str
    start: Spot
    end: Spot
    old: str
    new: str
    before: str
    after: str
    clipped: bool = False

    @property
    def old_lines(self) -> str:
        return self.before + self.old + self.after

    @property
    def new_lines(self) -> str:
        return self.before + self.new + self.after


def advance(start: Spot, text: str) -> Spot:
    """Where `text` inserted at `start` ends."""
    lines = split_lines(text)
    if len(lines) == 1:
        return start[0], start[1] + len(text)
    return start[0] + len(lines) - 1, len(lines[-1])


def offset_in(text: str, origin: Spot, spot: Spot) -> int:
    """Index into `text` (which starts at `origin`) of the position `spot` inside it."""
    if spot[0] == origin[0]:
        return spot[1] - origin[1]
    lines = split_lines(text)
    return sum(map(len, lines[: spot[0] - origin[0]])) + spot[1]


def text_between(lines: Sequence[str], start: Spot, end: Spot) -> str:
    """The text from `start` to `end` of a document held as LSP lines: O(size of the span)."""
    (sl, si), (el, ei) = start, end
    if sl == el:
        return lines[sl][si:ei]
    return "".join((lines[sl][si:], *lines[sl + 1 : el], lines[el][:ei]))


def _context(lines: Sequence[str], start: Spot, end: Spot) -> tuple[str, str]:
    """The rest of the edited lines around an edit, at most CONTEXT_CHARS each side. A side
    that had to be cut loses its cut word too: half a token is a secret the redaction that
    runs later could not recognise."""
    first, last = lines[start[0]], lines[end[0]]
    before = first[max(0, start[1] - CONTEXT_CHARS) : start[1]]
    if start[1] > CONTEXT_CHARS:
        before = before[_first_space(before) :]
    content = line_content_length(last)
    after = last[end[1] : min(content, end[1] + CONTEXT_CHARS)]
    if content > end[1] + CONTEXT_CHARS:
        after = after[: _last_space(after)]
    return before, after


def _first_space(text: str) -> int:
    return next((i for i, ch in enumerate(text) if ch.isspace()), len(text))


def _last_space(text: str) -> int:
    return next((i + 1 for i in range(len(text) - 1, -1, -1) if text[i].isspace()), 0)


class EditHistory:
    """The last edits over all open documents, most recent last.

    `record` is called for each content change BEFORE the store applies it (the old text is
    read then) and costs O(size of the change + its lines), never O(document), except for
    a whole-document replacement, which the store pays O(document) for anyway."""

    def __init__(self, max_edits: int = MAX_EDITS) -> None:
        self._edits: deque[Edit] = deque(maxlen=max_edits)

    def __len__(self) -> int:
        return len(self._edits)

    def record(self, document: TextDocument, change: TextChange) -> None:
        if self._edits and self._typed_on(document, change):
            return
        lines = document.lines
        if change.range is None:
            spots = _whole_change(document, change.text)
            if spots is None:
                return
            start, end, new = spots
        else:
            sl, si, _ = document.locate(change.range.start)
            el, ei, _ = document.locate(change.range.end)
            start, end = sorted(((sl, si), (el, ei)))
            new = change.text
        old = text_between(lines, start, end)
        if not old and not new:
            return
        latest = self._edits[-1] if self._edits else None
        if (
            latest is not None
            and latest.uri == document.uri
            and not latest.clipped
            and start <= latest.end
            and end >= latest.start
        ):
            # Kept even when it nets to nothing (typed and taken back): the next keystroke
            # may go on with it ("w" deleted, then "width" typed), `recent` skips it.
            self._edits[-1] = _merged(latest, lines, start, end, old, new)
            return
        self._edits.append(_edit(document.uri, lines, start, end, old, new))

    def _typed_on(self, document: TextDocument, change: TextChange) -> bool:
        """The keystroke fast path: a character typed at the end of the latest edit, or
        backspaced inside its last line, changes that edit in place (True when it did)."""
        latest = self._edits[-1]
        rng = change.range
        if rng is None or latest.clipped or latest.uri != document.uri:
            return False
        text = change.text
        start, end = rng.start, rng.end
        if start.line == end.line and start.character == end.character:
            if "\n" in text or "\r" in text or len(latest.new) + len(text) > MAX_EDIT_CHARS:
                return False
            line, index, _ = document.locate(start)
            if (line, index) != latest.end:
                return False
            latest.new += text
            latest.end = (line, index + len(text))
            return True
        if text or start.line != end.line:
            return False
        line, lo, _ = document.locate(start)
        _, hi, _ = document.locate(end)
        # Deleting the last characters of its new text (on its last line: the spot order
        # keeps `lo` at or after the edit's start).
        if (line, hi) != latest.end or (line, lo) < latest.start or lo > hi:
            return False
        latest.new = latest.new[: len(latest.new) - (hi - lo)]
        latest.end = (line, lo)
        return True

    def clear(self) -> None:
        self._edits.clear()

    def forget(self, uri: str) -> None:
        """Drop a document's edits (closed, or re-opened with other text)."""
        kept = [edit for edit in self._edits if edit.uri != uri]
        if len(kept) != len(self._edits):
            self._edits = deque(kept, maxlen=self._edits.maxlen)

    def recent(self, limit: int) -> list[Edit]:
        """The last `limit` edits that changed something, oldest first."""
        edits = [edit for edit in self._edits if edit.old != edit.new or edit.clipped]
        return edits[-limit:] if limit > 0 else []

    def latest(self, uri: str) -> Edit | None:
        """The most recent edit, if it was made in `uri` (the user is typing there)."""
        latest = self._edits[-1] if self._edits else None
        return latest if latest is not None and latest.uri == uri else None


def _edit(uri: str, lines: Sequence[str], start: Spot, end: Spot, old: str, new: str) -> Edit:
    before, after = _context(lines, start, end)
    clipped = len(old) > MAX_EDIT_CHARS or len(new) > MAX_EDIT_CHARS
    return Edit(
        uri,
        start,
        advance(start, new),
        _clip(old),
        _clip(new),
        before,
        after,
        clipped,
    )


def _clip(text: str) -> str:
    """At most MAX_EDIT_CHARS, cut after a whitespace (never inside a token, see `_context`)."""
    if len(text) <= MAX_EDIT_CHARS:
        return text
    head = text[:MAX_EDIT_CHARS]
    return head[: _last_space(head)]


def _merged(prev: Edit, lines: Sequence[str], start: Spot, end: Spot, old: str, new: str) -> Edit:
    """`prev` and a change touching it as one edit (typing on, backspacing, retyping)."""
    lo, hi = min(start, prev.start), max(end, prev.end)
    # The current text of lo..hi is covered by the change's old text and prev's new text.
    if start <= prev.start:
        span = old if end >= prev.end else old + prev.new[offset_in(prev.new, prev.start, end) :]
    else:
        span = prev.new if end <= prev.end else prev.new + old[offset_in(old, start, prev.end) :]
    p0 = offset_in(span, lo, prev.start)
    p1 = p0 + len(prev.new)
    c0 = offset_in(span, lo, start)
    c1 = c0 + len(old)
    original = span[:p0] + prev.old + span[p1:]
    current = span[:c0] + new + span[c1:]
    return _edit(prev.uri, lines, lo, hi, original, current)


def _whole_change(document: TextDocument, text: str) -> tuple[Spot, Spot, str] | None:
    """A whole-document replacement as the smallest range change (None: no change)."""
    old = document.text
    if old == text:
        return None
    p = _common(old, text, min(len(old), len(text)), from_end=False)
    s = _common(old, text, min(len(old), len(text)) - p, from_end=True)
    starts = [0, *accumulate(map(len, document.lines))]

    def spot(offset: int) -> Spot:
        line = min(bisect_right(starts, offset) - 1, len(document.lines) - 1)
        return line, offset - starts[line]

    return spot(p), spot(len(old) - s), text[p : len(text) - s]


def _common(a: str, b: str, limit: int, from_end: bool) -> int:
    """How many characters (at most `limit`) `a` and `b` share at their start (or end): whole
    blocks first, each compared in C, then halving inside the first block that differs."""

    def same(lo: int, hi: int) -> bool:  # characters lo..hi from the start (or the end)
        if from_end:
            return a[len(a) - hi : len(a) - lo] == b[len(b) - hi : len(b) - lo]
        return a[lo:hi] == b[lo:hi]

    done = 0
    while done + BLOCK <= limit and same(done, done + BLOCK):
        done += BLOCK
    lo, hi = done, min(limit, done + BLOCK)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if same(done, mid):
            lo = mid
        else:
            hi = mid - 1
    return lo
