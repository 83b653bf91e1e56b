"""Exhaustive checks of the line diff's inner algorithms on small inputs, and its error texts.

The property tests in test_edits_diff.py sample; the first mutation run (docs/mutation.md) found
mutants of Myers' search, its backtracking and the patience chain that sampling let through.
Every pair of short sequences over a small alphabet is checked here instead (a few thousand
pairs, deterministic, well under a second).
"""

from __future__ import annotations

from itertools import pairwise, permutations, product

import pytest

from kimi_lsp.edits import diff
from kimi_lsp.edits.diff import Hunk, apply_hunks
from kimi_lsp.edits.rebase import rebase


def lcs_length(a: list[str], b: list[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        prev_diag = 0
        for j, y in enumerate(b, 1):
            prev_diag, row[j] = row[j], prev_diag + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


def sequences(alphabet: str, longest: int) -> list[list[str]]:
    return [
        [f"{c}\n" for c in word] for n in range(longest + 1) for word in product(alphabet, repeat=n)
    ]


def matched_pairs(blocks: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Every matched (i, j) line pair, each block expanded by its length."""
    return sorted((i + t, j + t) for i, j, n in blocks for t in range(n))


def test_myers_finds_a_longest_common_subsequence_for_every_small_pair() -> None:
    seqs = sequences("ab", 5) + sequences("abc", 3)
    for a, b in product(seqs, repeat=2):
        blocks = diff._myers(a, 0, len(a), b, 0, len(b))
        assert blocks is not None, (a, b)
        pairs = matched_pairs(blocks)
        assert all(a[i] == b[j] for i, j in pairs), (a, b, blocks)
        assert all(p[0] < q[0] and p[1] < q[1] for p, q in pairwise(pairs)), (a, b, blocks)
        assert len(pairs) == lcs_length(a, b), (a, b, blocks)


def test_myers_works_inside_a_window_of_longer_lists() -> None:
    a = ["x\n", "a\n", "b\n", "c\n", "y\n"]
    b = ["z\n", "z\n", "b\n", "c\n", "a\n", "z\n"]
    blocks = diff._myers(a, 1, 4, b, 2, 5)
    assert blocks is not None
    assert matched_pairs(blocks) == [(2, 2), (3, 3)]


def test_myers_gives_up_one_edit_past_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diff, "MYERS_MAX_D", 2)
    two = (["a\n", "b\n"], ["b\n", "c\n"])  # delete a, insert c
    three = (["a\n", "b\n"], ["b\n", "x\n", "y\n"])  # delete a, insert x and y
    assert diff._myers(two[0], 0, 2, two[1], 0, 2) == [(1, 0, 1)]
    assert diff._myers(three[0], 0, 2, three[1], 0, 3) is None


def test_the_patience_chain_is_a_longest_run_of_unique_lines() -> None:
    lines = [f"line {n}\n" for n in range(6)]
    for order in permutations(range(6)):
        b = [lines[n] for n in order]
        anchors = diff._unique_anchors(lines, 0, 6, b, 0, 6)
        assert all(lines[i] == b[j] for i, j in anchors), order
        assert all(p[0] < q[0] and p[1] < q[1] for p, q in pairwise(anchors)), order
        assert len(anchors) == lcs_length(lines, b), order


def test_out_of_order_hunks_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"hunks out of order or out of range at Hunk\(start=0"):
        apply_hunks("abcdef", [Hunk(3, 4, ""), Hunk(0, 1, "")])
    with pytest.raises(
        ValueError, match=r"hunks out of order or outside the snapshot at Hunk\(start=0"
    ):
        rebase("abcdef", "abcdefg", [Hunk(3, 4, ""), Hunk(0, 1, "")])


def test_hunks_of_every_small_pair_are_exact_sorted_separated_and_trimmed() -> None:
    texts = ["".join(lines) for lines in sequences("ab", 3)]
    texts += ["".join(lines) + "a" for lines in sequences("ab", 2)]  # no final newline
    texts += ["a\n\nb\n", "\n\n", "ab\n", "ba\nab\n"]
    for old, new in product(texts, repeat=2):
        hunks = diff.compute_hunks(old, new)
        assert apply_hunks(old, hunks) == new, (old, new, hunks)
        assert all(h.end < k.start for h, k in pairwise(hunks)), (old, new, hunks)
        for h in hunks:
            replaced = old[h.start : h.end]
            assert replaced or h.text, (old, new, h)
            # No character the two sides share at a hunk's start or end is kept in it.
            if replaced and h.text:
                assert replaced[0] != h.text[0] and replaced[-1] != h.text[-1], (old, new, h)
        assert (hunks == []) == (old == new)


def test_one_changed_line_among_unique_lines_is_one_hunk() -> None:
    lines = [f"line {n}\n" for n in range(8)]
    for k in range(8):
        new = lines.copy()
        new[k] = f"line {k}x\n"
        hunks = diff.compute_hunks("".join(lines), "".join(new))
        at = sum(len(x) for x in lines[:k]) + len(lines[k]) - 1
        assert hunks == [Hunk(at, at, "x")], k


def test_hunks_of_every_pair_of_unique_line_orders_are_exact() -> None:
    # Lines unique on both sides: the patience anchors (runs, gaps between them) do the work.
    lines = ["a\n", "b\n", "c\n", "d\n", "e\n"]
    orders = [list(p) for n in range(6) for p in permutations(lines, n)]
    for old_lines, new_lines in product(orders[:200], orders[::7]):
        old, new = "".join(old_lines), "".join(new_lines)
        hunks = diff.compute_hunks(old, new)
        assert apply_hunks(old, hunks) == new, (old, new, hunks)
        assert all(h.end < k.start for h, k in pairwise(hunks)), (old, new, hunks)


def test_every_gap_between_anchors_is_refined() -> None:
    # A gap with one empty side is done at once, but the gaps still waiting must be refined
    # too: here the front keeps its common `b` rather than being replaced whole.
    old, new = "v\nb\na\nu\nc\n", "b\nb\nc\nu\na\n"
    assert diff.compute_hunks(old, new) == [Hunk(0, 2, ""), Hunk(4, 7, "b"), Hunk(10, 10, "u\na\n")]
