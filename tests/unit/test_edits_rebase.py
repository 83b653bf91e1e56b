"""Tests for rebasing model hunks over the user's typing: the merge, the refusals, work."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_lsp.edits import diff
from kimi_lsp.edits import rebase as rebase_module
from kimi_lsp.edits.diff import Hunk, apply_hunks, compute_hunks
from kimi_lsp.edits.rebase import conflicts, rebase

ALPHABET = "ab \t\r\n\f😀é"
TYPED = "XYZ"  # what the user types in property (a); neither the snapshot nor the model has it
LINES = ["a\n", "b\r\n", "\n", "c😀\n", "\f\n", "x"]

texts = st.one_of(
    st.text(ALPHABET, max_size=40), st.lists(st.sampled_from(LINES), max_size=20).map("".join)
)


@st.composite
def edited(draw: st.DrawFn, base: str, alphabet: str = ALPHABET, max_edits: int = 3) -> str:
    text = base
    for _ in range(draw(st.integers(0, max_edits))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 6)))
        text = text[:i] + draw(st.text(alphabet, max_size=5)) + text[j:]
    return text


def merged(snapshot: str, user: list[Hunk], model: list[Hunk]) -> str:
    """The three-way merge: both sides' (non-conflicting) hunks applied to the snapshot."""
    return apply_hunks(snapshot, sorted(user + model, key=lambda h: h.start))


def check(snapshot: str, current: str, model_new: str) -> tuple[list[Hunk], str]:
    model = compute_hunks(snapshot, model_new)
    result = rebase(snapshot, current, model)
    assert result.user_hunks == compute_hunks(snapshot, current) or snapshot == current
    assert result.clean == (not result.refused)
    accepted = [h for i, h in enumerate(model) if i not in result.refused]
    assert len(result.hunks) == len(accepted)
    out = apply_hunks(current, result.hunks)
    for hunk in result.hunks:  # every end still has an exact LSP position in `current`
        for at in (hunk.start, hunk.end):
            assert at == 0 or current[at - 1 : at + 1] != "\r\n"
    assert out == merged(snapshot, result.user_hunks, accepted)
    for i in result.refused:
        assert any(conflicts(model[i], u) for u in result.user_hunks)
    for hunk in accepted:
        assert not any(conflicts(hunk, u) for u in result.user_hunks)
    # Every user hunk's text sits in the result where the merge puts it.
    moved = sorted(result.user_hunks + accepted, key=lambda h: h.start)
    delta = 0
    for hunk in moved:
        if hunk in result.user_hunks:
            at = hunk.start + delta
            assert out[at : at + len(hunk.text)] == hunk.text
        delta += len(hunk.text) - (hunk.end - hunk.start)
    return model, out


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_rebase_is_the_three_way_merge(data: st.DataObject) -> None:
    snapshot = data.draw(texts)
    check(snapshot, data.draw(edited(snapshot)), data.draw(edited(snapshot)))


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_rebase_never_touches_what_the_user_typed(data: st.DataObject) -> None:
    snapshot = data.draw(texts)
    current = data.draw(edited(snapshot, ALPHABET + TYPED))
    _, out = check(snapshot, current, data.draw(edited(snapshot)))
    assert [c for c in out if c in TYPED] == [c for c in current if c in TYPED]


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_separate_regions_rebase_cleanly(data: st.DataObject) -> None:
    # "§" is on no other line, so "§\n" anchors both diffs and the sides never meet.
    left, right = data.draw(texts), data.draw(texts)
    snapshot = left + "\n§\n" + right
    model_left = data.draw(st.booleans())
    new_left, new_right = data.draw(edited(left)), data.draw(edited(right))
    if model_left:
        model_new, current = new_left + "\n§\n" + right, left + "\n§\n" + new_right
    else:
        model_new, current = left + "\n§\n" + new_right, new_left + "\n§\n" + right
    model = compute_hunks(snapshot, model_new)
    result = rebase(snapshot, current, model)
    assert result.clean and result.refused == []
    assert apply_hunks(current, result.hunks) == new_left + "\n§\n" + new_right


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_no_user_edits_returns_the_hunks_unchanged(data: st.DataObject) -> None:
    snapshot = data.draw(texts)
    model = compute_hunks(snapshot, data.draw(edited(snapshot)))
    result = rebase(snapshot, snapshot, model)
    assert result.hunks == model and result.refused == [] and result.clean
    assert result.user_hunks == []


@pytest.mark.parametrize(
    ("current", "model", "refused", "rebased"),
    [
        # The user typed "!" at 0; the model's change at 6..9 moves by one.
        ("!hello world\n", [Hunk(6, 9, "W")], [], [Hunk(7, 10, "W")]),
        # Typing after the model's change leaves it where it was.
        ("hello world!\n", [Hunk(0, 1, "H")], [], [Hunk(0, 1, "H")]),
        # Same insertion point: refused.
        ("hello, world\n", [Hunk(5, 5, ";")], [0], []),
        # An insertion at either edge of the other's replaced span: refused, both ways round.
        ("hello! world\n", [Hunk(0, 5, "HELLO")], [0], []),
        ("hello World\n", [Hunk(7, 7, "-")], [0], []),
        ("hello World\n", [Hunk(6, 6, "-")], [0], []),
        # One character apart is independent.
        ("hello World\n", [Hunk(5, 5, ",")], [], [Hunk(5, 5, ",")]),
        # Replacements that merely touch: refused.
        ("hello World\n", [Hunk(0, 6, "Hi ")], [0], []),
        # Overlap: refused; the independent hunk still goes through, shifted.
        ("jello world\n", [Hunk(0, 2, "Ha"), Hunk(6, 11, "there")], [0], [Hunk(6, 11, "there")]),
    ],
)
def test_conflict_rule(
    current: str, model: list[Hunk], refused: list[int], rebased: list[Hunk]
) -> None:
    result = rebase("hello world\n", current, model)
    assert result.refused == refused
    assert result.hunks == rebased
    assert result.clean == (not refused)


def test_rebase_rejects_hunks_out_of_order() -> None:
    with pytest.raises(ValueError):
        rebase("abcdef", "abcdefg", [Hunk(3, 4, ""), Hunk(0, 1, "")])


def test_diff_and_rebase_of_five_thousand_lines_is_o_of_the_edit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Speed itself is measured against difflib in bench/edits.py; here, the work: one diff of
    # the user's typing, and the quadratic Myers fallback never sees a line.
    myers_lines: list[int] = []
    diffs: list[int] = []
    real_myers, real_compute = diff._myers, rebase_module.compute_hunks

    def counting_myers(
        a: list[str], alo: int, ahi: int, b: list[str], blo: int, bhi: int
    ) -> object:
        myers_lines.append((ahi - alo) + (bhi - blo))
        return real_myers(a, alo, ahi, b, blo, bhi)

    def counting_compute(old: str, new: str) -> list[Hunk]:
        diffs.append(len(old))
        return real_compute(old, new)

    monkeypatch.setattr(diff, "_myers", counting_myers)
    monkeypatch.setattr(rebase_module, "compute_hunks", counting_compute)
    rng = random.Random(7)
    lines = [f"    item_{i} = make({i}, {rng.randint(0, 999)})  # {i}\n" for i in range(5000)]
    snapshot = "".join(lines)
    model_lines, user_lines = list(lines), list(lines)
    for k in range(10):
        model_lines[k * 500 + 100] = f"    item_{k} = changed()\n"
        user_lines[k * 500 + 300] = user_lines[k * 500 + 300].replace("make", "build")
    model_new, current = "".join(model_lines), "".join(user_lines)
    result = rebase(snapshot, current, compute_hunks(snapshot, model_new))
    assert result.clean and len(result.hunks) == 10 and len(result.user_hunks) == 10
    assert apply_hunks(current, result.hunks) == merged(
        snapshot, result.user_hunks, compute_hunks(snapshot, model_new)
    )
    assert diffs == [len(snapshot)]  # rebase diffed the user's typing once
    assert sum(myers_lines) == 0
