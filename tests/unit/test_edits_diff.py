"""Tests for the minimal line-then-character diff: correctness, minimality, positions, work."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_lsp.documents import TextChange, TextDocument
from kimi_lsp.edits import diff
from kimi_lsp.edits.diff import Hunk, apply_hunks, compute_hunks, diff_range, shift_hunks
from kimi_lsp.positions import PositionEncoding

ALPHABET = "ab \t\r\n\f\u2028é中😀𝔘"
LINES = ["a\n", "b\r\n", "\n", "\r\n", "c😀\n", "\f\n", "x", "\r", "é中 \n", "𝔘\r\n"]

texts = st.text(ALPHABET, max_size=40)
line_texts = st.lists(st.sampled_from(LINES), max_size=25).map("".join)


@st.composite
def edited(draw: st.DrawFn, base: str, alphabet: str = ALPHABET, max_edits: int = 4) -> str:
    """`base` after a few random replacements (insertions and deletions included)."""
    text = base
    for _ in range(draw(st.integers(0, max_edits))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 8)))
        text = text[:i] + draw(st.text(alphabet, max_size=6)) + text[j:]
    return text


def check(old: str, new: str) -> list[Hunk]:
    hunks = compute_hunks(old, new)
    assert apply_hunks(old, hunks) == new
    for prev, hunk in pairwise(hunks):
        assert prev.end < hunk.start  # sorted and separated: adjacent changes merged
    for hunk in hunks:
        assert 0 <= hunk.start <= hunk.end <= len(old)
        assert hunk.start < hunk.end or hunk.text
        for at in (hunk.start, hunk.end):  # never inside a CRLF
            assert old[at - 1 : at + 1] != "\r\n" or at == 0
    return hunks


@settings(max_examples=500, deadline=None)
@given(texts, texts)
def test_unrelated_texts_round_trip(old: str, new: str) -> None:
    check(old, new)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_edited_texts_round_trip(data: st.DataObject) -> None:
    old = data.draw(st.one_of(texts, line_texts))
    check(old, data.draw(edited(old)))


@settings(max_examples=300, deadline=None)
@given(line_texts, line_texts)
def test_line_texts_round_trip(old: str, new: str) -> None:
    check(old, new)


@settings(max_examples=150, deadline=None)
@given(line_texts, line_texts)
def test_round_trip_when_myers_gives_up(old: str, new: str) -> None:
    saved = diff.MYERS_MAX_D
    diff.MYERS_MAX_D = 1
    try:
        check(old, new)
    finally:
        diff.MYERS_MAX_D = saved


def lcs_length(a: list[int], b: list[int]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        prev_diag = 0
        for j, y in enumerate(b, 1):
            prev_diag, row[j] = row[j], prev_diag + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2), max_size=14), st.lists(st.integers(0, 2), max_size=14))
def test_myers_finds_a_longest_common_subsequence(a: list[int], b: list[int]) -> None:
    la, lb = [f"{x}\n" for x in a], [f"{y}\n" for y in b]
    blocks = diff._myers(la, 0, len(la), lb, 0, len(lb))
    assert blocks is not None
    pairs = sorted((i, j) for i, j, _ in blocks)
    assert all(la[i] == lb[j] for i, j in pairs)
    assert all(p[0] < q[0] and p[1] < q[1] for p, q in pairwise(pairs))
    assert len(pairs) == lcs_length(a, b)


@pytest.mark.parametrize("encoding", list(PositionEncoding))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_hunks_as_lsp_edits_in_every_encoding(
    encoding: PositionEncoding, data: st.DataObject
) -> None:
    old = data.draw(st.one_of(texts, line_texts))
    new = data.draw(st.one_of(edited(old), texts))
    doc = TextDocument("file:///t", "text", 1, old, encoding)
    changes = [TextChange(doc.offsets_to_range(h.start, h.end), h.text) for h in check(old, new)]
    for change in reversed(changes):  # every range refers to the original text
        doc.apply(change)
    assert doc.text == new


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("", "", []),
        ("", "abc", [Hunk(0, 0, "abc")]),
        ("abc", "", [Hunk(0, 3, "")]),
        ("a\nb\nc\n", "a\nB\nc\n", [Hunk(2, 3, "B")]),
        ("a\nb\nc\n", "a\nc\n", [Hunk(2, 4, "")]),
        ("a\nc\n", "a\nb\nc\n", [Hunk(2, 2, "b\n")]),
        ("a\nb", "a\nb\n", [Hunk(3, 3, "\n")]),
        ("a\nb\n", "a\nb", [Hunk(3, 4, "")]),
        ("x = 1\r\ny = 2\r\n", "x = 1\r\ny = 3\r\n", [Hunk(11, 12, "3")]),
        ("a\r\nb", "a\nb", [Hunk(1, 3, "\n")]),  # not Hunk(1, 2, ""): ends inside a CRLF
        # The shared "\r" must not leave the hunk starting between "\r" and "\n".
        ("a\r\n", "a\rX\n", [Hunk(1, 3, "\rX\n")]),
        ("a\nb\nc\nd\n", "A\nb\nc\nD\n", [Hunk(0, 1, "A"), Hunk(6, 7, "D")]),
        ("a\nb\n", "A\nB\n", [Hunk(0, 3, "A\nB")]),  # adjacent changed lines: one hunk
    ],
)
def test_hunk_table(old: str, new: str, expected: list[Hunk]) -> None:
    assert check(old, new) == expected


def test_one_character_change_in_a_long_line_is_a_one_character_hunk() -> None:
    line = "x = [" + ", ".join(str(i) for i in range(5000)) + "]\n"
    old = "first\n" + line + "last\n"
    at = old.index("2500")
    new = old[:at] + "9" + old[at + 1 :]
    assert check(old, new) == [Hunk(at, at + 1, "9")]


def test_moved_block_is_a_deletion_and_an_insertion() -> None:
    body = [f"line {i}\n" for i in range(20)]
    moved = body[10:15]
    new_body = body[:10] + body[15:18] + moved + body[18:]
    hunks = check("".join(body), "".join(new_body))
    assert len(hunks) == 2


def test_diff_range_offsets_into_the_whole_text() -> None:
    text = "head\n    a = 1\n    b = 2\ntail\n"
    start, end = text.index("    a"), text.index("tail")
    hunks = diff_range(text, start, end, "    a = 1\n    b = 3\n")
    assert hunks == [Hunk(text.index("2"), text.index("2") + 1, "3")]
    assert shift_hunks(hunks, -1) == [Hunk(hunks[0].start - 1, hunks[0].end - 1, "3")]


def test_apply_rejects_overlapping_or_out_of_range_hunks() -> None:
    with pytest.raises(ValueError):
        apply_hunks("abcdef", [Hunk(2, 4, ""), Hunk(3, 5, "")])
    with pytest.raises(ValueError):
        apply_hunks("abc", [Hunk(2, 9, "")])


def five_thousand_lines() -> list[str]:
    rng = random.Random(5)
    return [
        f"    value_{i} = compute({i}, {rng.randint(0, 99)!r}, 'x' * {i % 17})  # note {i}\n"
        for i in range(5000)
    ]


def myers_lines(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many lines each Myers fallback call is given (its cost grows with them)."""
    sizes: list[int] = []
    real = diff._myers

    def counting(a: list[str], alo: int, ahi: int, b: list[str], blo: int, bhi: int) -> object:
        sizes.append((ahi - alo) + (bhi - blo))
        return real(a, alo, ahi, b, blo, bhi)

    monkeypatch.setattr(diff, "_myers", counting)
    return sizes


def test_five_thousand_lines_with_three_changes_diff_in_o_of_the_edit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Speed itself is measured against difflib in bench/unit_speed.py; here, the work: the
    # unique lines anchor everything, so the quadratic fallback sees no line at all.
    sizes = myers_lines(monkeypatch)
    lines = five_thousand_lines()
    old = "".join(lines)
    for k in (40, 2600, 4990):
        lines[k] = lines[k].replace("compute", "recompute")
    new = "".join(lines)
    hunks = compute_hunks(old, new)
    assert [h.text for h in hunks] == ["re", "re", "re"]
    assert sum(sizes) == 0
