"""Minimal hunks between two texts: a line diff, then common characters trimmed per block.

The line diff is patience-style: lines unique to both sides anchor the alignment (longest
increasing run of them), every gap is narrowed by its common first and last lines and split
again by the lines unique within it, and a gap without such anchors falls back to Myers'
O((N+M)·D) algorithm, capped at `MYERS_MAX_D` edits (beyond that the gap is replaced whole,
which is correct, merely less minimal).  Each changed block of lines then loses the characters
it shares at its start and end, so a one-character change in a long line is a one-character
hunk.  No character-level diff is ever run, so no quadratic blow-up on long lines.

Offsets are Python str indices.  A hunk boundary never falls between the "\\r" and "\\n" of a
CRLF in the old text, so every boundary has an exact LSP position.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from kimi_lsp.positions import split_lines

__all__ = ["MYERS_MAX_D", "Hunk", "apply_hunks", "compute_hunks", "diff_range", "shift_hunks"]

# Edit-distance cap for the Myers fallback: its cost grows with D², so a gap that needs more
# edits than this (and has no unique lines to split it) is replaced as one block.
MYERS_MAX_D = 400


@dataclass(frozen=True, slots=True)
class Hunk:
    """Replace ``old[start:end]`` with `text`; offsets index the OLD text."""

    start: int
    end: int
    text: str


# A matched run of lines: a[i : i + n] == b[j : j + n].
_Block = tuple[int, int, int]


def _lines(text: str) -> list[str]:
    lines = split_lines(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _unique_anchors(
    a: list[str], alo: int, ahi: int, b: list[str], blo: int, bhi: int
) -> list[tuple[int, int]]:
    """Pairs (i, j) of lines occurring once in each range, longest increasing in both."""
    count_a = Counter(a[alo:ahi])
    count_b = Counter(b[blo:bhi])
    where_b = {
        line: j
        for j, line in enumerate(b[blo:bhi], blo)
        if count_b[line] == 1 and count_a.get(line) == 1
    }
    if not where_b:
        return []
    pairs = [(i, where_b[line]) for i, line in enumerate(a[alo:ahi], alo) if line in where_b]
    js = [j for _, j in pairs]
    if js == sorted(js):  # nothing moved: the common case, and linear
        return pairs
    # Patience sorting: tails[k] = smallest j ending an increasing run of length k + 1.
    tails: list[int] = []
    tail_at: list[int] = []
    back: list[int] = []
    for index, j in enumerate(js):
        k = bisect_left(tails, j)
        back.append(tail_at[k - 1] if k else -1)
        if k == len(tails):
            tails.append(j)
            tail_at.append(index)
        else:
            tails[k] = j
            tail_at[k] = index
    chain: list[tuple[int, int]] = []
    index = tail_at[-1]
    while index >= 0:
        chain.append(pairs[index])
        index = back[index]
    chain.reverse()
    return chain


def _myers(
    a: list[str], alo: int, ahi: int, b: list[str], blo: int, bhi: int
) -> list[_Block] | None:
    """Matched lines of a shortest edit script, or None past `MYERS_MAX_D` edits."""
    n, m = ahi - alo, bhi - blo
    limit = min(n + m, MYERS_MAX_D)
    offset = limit + 1
    v = [0] * (2 * limit + 3)
    trace: list[list[int]] = []  # trace[d][k + d]: furthest x on diagonal k after step d
    for d in range(limit + 1):
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[offset + k - 1] < v[offset + k + 1]):
                x = v[offset + k + 1]
            else:
                x = v[offset + k - 1] + 1
            y = x - k
            while x < n and y < m and a[alo + x] == b[blo + y]:
                x += 1
                y += 1
            v[offset + k] = x
            if x >= n and y >= m:
                trace.append(v[offset - d : offset + d + 1])
                return _backtrack(trace, n, m, alo, blo)
        trace.append(v[offset - d : offset + d + 1])
    return None


def _backtrack(trace: list[list[int]], n: int, m: int, alo: int, blo: int) -> list[_Block]:
    matches: list[_Block] = []
    x, y = n, m
    for d in range(len(trace) - 1, 0, -1):
        prev = trace[d - 1]  # prev[k + d - 1] is diagonal k
        k = x - y
        down = k == -d or (k != d and prev[k - 1 + d - 1] < prev[k + 1 + d - 1])
        prev_k = k + 1 if down else k - 1
        prev_x = prev[prev_k + d - 1]
        prev_y = prev_x - prev_k
        mid_x, mid_y = (prev_x, prev_y + 1) if down else (prev_x + 1, prev_y)
        while x > mid_x and y > mid_y:
            x -= 1
            y -= 1
            matches.append((alo + x, blo + y, 1))
        x, y = prev_x, prev_y
    while x > 0 and y > 0:
        x -= 1
        y -= 1
        matches.append((alo + x, blo + y, 1))
    return matches


def _match_lines(a: list[str], b: list[str]) -> list[_Block]:
    """Non-crossing matched runs of lines, sorted."""
    blocks: list[_Block] = []
    stack = [(0, len(a), 0, len(b))]
    while stack:
        alo, ahi, blo, bhi = stack.pop()
        p = 0
        while alo + p < ahi and blo + p < bhi and a[alo + p] == b[blo + p]:
            p += 1
        if p:
            blocks.append((alo, blo, p))
            alo, blo = alo + p, blo + p
        s = 0
        while alo < ahi - s and blo < bhi - s and a[ahi - 1 - s] == b[bhi - 1 - s]:
            s += 1
        if s:
            blocks.append((ahi - s, bhi - s, s))
            ahi, bhi = ahi - s, bhi - s
        if alo == ahi or blo == bhi:
            continue
        anchors = _unique_anchors(a, alo, ahi, b, blo, bhi)
        if anchors:
            # Consecutive anchors form one run; only the gaps between runs need more work.
            ri, rj = anchors[0]
            rn = 0
            for i, j in anchors:
                if i == ri + rn and j == rj + rn:
                    rn += 1
                    continue
                stack.append((alo, ri, blo, rj))
                blocks.append((ri, rj, rn))
                alo, blo = ri + rn, rj + rn
                ri, rj, rn = i, j, 1
            stack.append((alo, ri, blo, rj))
            blocks.append((ri, rj, rn))
            stack.append((ri + rn, ahi, rj + rn, bhi))
        elif not set(a[alo:ahi]).isdisjoint(b[blo:bhi]):  # else nothing to match: one block
            blocks.extend(_myers(a, alo, ahi, b, blo, bhi) or ())
    blocks.sort()
    return blocks


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n - 1  # a[:lo] == b[:lo] and a[:hi + 1] != b[:hi + 1]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    lo, hi = 0, min(len(a), len(b), limit)
    if hi and a[len(a) - hi :] == b[len(b) - hi :]:
        return hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _trimmed(old: str, new: str, a0: int, a1: int, b0: int, b1: int) -> Hunk | None:
    """The hunk for changed block old[a0:a1] -> new[b0:b1], minus their common ends."""
    old_seg, new_seg = old[a0:a1], new[b0:b1]
    p = _common_prefix(old_seg, new_seg)
    s = _common_suffix(old_seg, new_seg, min(len(old_seg), len(new_seg)) - p)
    # Never cut a CRLF in two: such an offset has no LSP position.
    if p and old[a0 + p - 1] == "\r" and old[a0 + p : a0 + p + 1] == "\n":
        p -= 1
    if s and old[a1 - s - 1] == "\r" and old[a1 - s] == "\n":
        s -= 1
    start, end = a0 + p, a1 - s
    text = new[b0 + p : b1 - s]
    if start == end and not text:
        return None
    return Hunk(start, end, text)


def compute_hunks(old: str, new: str) -> list[Hunk]:
    """Minimal hunks turning `old` into `new`: sorted, separated by at least one character."""
    if old == new:
        return []
    a, b = _lines(old), _lines(new)
    a_at = [0, *accumulate(map(len, a))]
    b_at = [0, *accumulate(map(len, b))]
    hunks: list[Hunk] = []
    i = j = 0
    for bi, bj, n in [*_match_lines(a, b), (len(a), len(b), 0)]:
        if bi > i or bj > j:
            hunk = _trimmed(old, new, a_at[i], a_at[bi], b_at[j], b_at[bj])
            if hunk is not None:
                hunks.append(hunk)
        i, j = bi + n, bj + n
    return hunks


def diff_range(text: str, start: int, end: int, replacement: str) -> list[Hunk]:
    """Minimal hunks (offsets into `text`) for replacing ``text[start:end]`` with `replacement`."""
    return shift_hunks(compute_hunks(text[start:end], replacement), start)


def shift_hunks(hunks: Sequence[Hunk], delta: int) -> list[Hunk]:
    """The same hunks with both offsets moved by `delta`."""
    return [Hunk(h.start + delta, h.end + delta, h.text) for h in hunks]


def apply_hunks(old: str, hunks: Sequence[Hunk]) -> str:
    """`old` with every hunk applied; hunks must be sorted and must not overlap."""
    pieces: list[str] = []
    at = 0
    for hunk in hunks:
        if not at <= hunk.start <= hunk.end <= len(old):
            raise ValueError(f"hunks out of order or out of range at {hunk!r}")
        pieces.append(old[at : hunk.start])
        pieces.append(hunk.text)
        at = hunk.end
    pieces.append(old[at:])
    return "".join(pieces)
