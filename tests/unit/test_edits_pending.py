"""Tests for the preview-mode store of pending edits."""

from __future__ import annotations

from kimi_lsp.edits.diff import Hunk
from kimi_lsp.edits.outcome import EditCode
from kimi_lsp.edits.pending import PendingEdit, PendingEdits, touches

SNAPSHOT = "line one\nline two\nline three\n"
RANGE = (9, 18)  # "line two\n"
HUNKS = [Hunk(14, 17, "2")]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def store(clock: Clock, **options: int) -> PendingEdits:
    return PendingEdits(ttl_seconds=600, clock=clock, **options)


def test_add_get_pop() -> None:
    clock = Clock()
    edits = store(clock)
    edit_id = edits.add("file:///a", 3, SNAPSHOT, RANGE, HUNKS)
    edit = edits.get(edit_id)
    assert isinstance(edit, PendingEdit)
    assert (edit.uri, edit.version, edit.range_offsets, edit.hunks) == (
        "file:///a",
        3,
        RANGE,
        HUNKS,
    )
    assert edit.created == 1000.0
    assert edits.pop(edit_id) == edit
    assert edits.get(edit_id) is None and edits.pop(edit_id) is None


def test_given_ids_and_unique_fresh_ids() -> None:
    edits = store(Clock())
    assert edits.add("file:///a", 1, SNAPSHOT, RANGE, HUNKS, edit_id="e1") == "e1"
    ids = {edits.add("file:///a", 1, SNAPSHOT, RANGE, HUNKS) for _ in range(20)}
    assert len(ids) == 20 and "e1" not in ids


def test_edits_expire_after_the_ttl() -> None:
    clock = Clock()
    edits = store(clock)
    old = edits.add("file:///a", 1, SNAPSHOT, RANGE, HUNKS)
    clock.now += 300
    young = edits.add("file:///a", 2, SNAPSHOT, RANGE, HUNKS)
    clock.now += 300  # `old` is exactly 600 s old
    assert edits.get(old) is None and edits.pop(old) is None
    assert edits.get(young) is not None
    assert [e.edit_id for e in edits.expire(clock.now + 300)] == [young]
    assert len(edits) == 0


def test_expire_returns_what_it_dropped() -> None:
    clock = Clock()
    edits = store(clock)
    edit_id = edits.add("file:///a", 1, SNAPSHOT, RANGE, HUNKS)
    assert edits.expire() == []
    clock.now += 601
    assert [e.edit_id for e in edits.expire()] == [edit_id]


def test_oldest_edits_make_room() -> None:
    edits = store(Clock(), max_edits=2)
    first = edits.add("file:///a", 1, SNAPSHOT, RANGE, HUNKS)
    second = edits.add("file:///a", 1, SNAPSHOT, RANGE, HUNKS)
    third = edits.add("file:///a", 1, SNAPSHOT, RANGE, HUNKS)
    assert edits.get(first) is None
    assert edits.get(second) is not None and edits.get(third) is not None


def test_for_uri_and_drop_uri() -> None:
    edits = store(Clock())
    a1 = edits.add("file:///a", 1, SNAPSHOT, RANGE, HUNKS)
    b1 = edits.add("file:///b", 1, SNAPSHOT, RANGE, HUNKS)
    a2 = edits.add("file:///a", 2, SNAPSHOT, RANGE, HUNKS)
    assert [e.edit_id for e in edits.for_uri("file:///a")] == [a1, a2]
    assert [e.edit_id for e in edits.drop_uri("file:///a")] == [a1, a2]
    assert [e.edit_id for e in edits.for_uri("file:///b")] == [b1]


def edit_over(range_offsets: tuple[int, int]) -> PendingEdit:
    return PendingEdit("e", "file:///a", 1, SNAPSHOT, range_offsets, HUNKS, 0.0)


def test_touches_uses_closed_spans() -> None:
    edit = edit_over(RANGE)
    assert touches(edit, [Hunk(12, 13, "X")])  # inside
    assert touches(edit, [Hunk(0, 10, "")])  # overlapping the start
    assert touches(edit, [Hunk(18, 18, "!")])  # typing right at the end
    assert touches(edit, [Hunk(5, 9, "")])  # a deletion ending where the range starts
    assert not touches(edit, [Hunk(8, 8, "!"), Hunk(19, 20, "")])  # one character away
    assert not touches(edit, [])


def test_drop_touched_keeps_edits_elsewhere() -> None:
    edits = store(Clock())
    over_two = edits.add("file:///a", 1, SNAPSHOT, (9, 18), HUNKS)
    over_three = edits.add("file:///a", 1, SNAPSHOT, (18, 29), [Hunk(23, 28, "3")])
    other = edits.add("file:///b", 1, SNAPSHOT, (9, 18), HUNKS)
    current = SNAPSHOT.replace("line three", "line THREE")
    assert [e.edit_id for e in edits.drop_touched("file:///a", current)] == [over_three]
    assert edits.get(over_two) is not None and edits.get(other) is not None
    assert edits.drop_touched("file:///a", current) == []


def test_gone_says_why_an_edit_is_no_longer_pending() -> None:
    clock = Clock()
    edits = store(clock, max_edits=2)
    accepted = edits.add("file:///a", 1, SNAPSHOT, RANGE, HUNKS)
    edits.pop(accepted)
    assert edits.gone(accepted) == EditCode.NOT_PENDING
    assert edits.gone("never-seen") == EditCode.NOT_PENDING
    closed = edits.add("file:///b", 1, SNAPSHOT, RANGE, HUNKS)
    edits.drop_uri("file:///b")
    assert edits.gone(closed) == EditCode.DOCUMENT_CLOSED
    old = edits.add("file:///a", 1, SNAPSHOT, RANGE, HUNKS)
    clock.now += 600
    # Expired but not swept yet, then swept, then popped: expired each time.
    assert edits.get(old) is None and edits.gone(old) == EditCode.EXPIRED
    assert edits.pop(old) is None and edits.gone(old) == EditCode.EXPIRED
    late = edits.add("file:///a", 1, SNAPSHOT, RANGE, HUNKS)
    clock.now += 600
    edits.expire()
    assert edits.gone(late) == EditCode.EXPIRED


def test_an_edit_evicted_by_newer_ones_counts_as_expired() -> None:
    edits = store(Clock(), max_edits=2)
    first = edits.add("file:///a", 1, SNAPSHOT, RANGE, HUNKS)
    edits.add("file:///a", 2, SNAPSHOT, RANGE, HUNKS)
    edits.add("file:///a", 3, SNAPSHOT, RANGE, HUNKS)
    assert edits.get(first) is None and edits.gone(first) == EditCode.EXPIRED


def test_the_record_of_gone_edits_is_bounded() -> None:
    edits = store(Clock(), max_edits=2)
    ids = [edits.add("file:///a", 1, SNAPSHOT, RANGE, HUNKS) for _ in range(6)]
    # Four were evicted; only the last two evictions are remembered.
    assert [edits.gone(i) for i in ids[:4]] == [
        EditCode.NOT_PENDING,
        EditCode.NOT_PENDING,
        EditCode.EXPIRED,
        EditCode.EXPIRED,
    ]
