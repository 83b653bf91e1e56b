"""Definition slices: the spans of other files a request needs first (what the cursor uses)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Slice:
    """A span of a file worth sending before whole files: a definition the cursor uses.

    `text` is exactly the span's lines (already read; ignore rules and secret files were
    applied by whoever read it). `reason` says why it was chosen, for the manifest, e.g.
    "defines `_PyFuture`, used at line 78". Lower `rank` goes first.
    """

    uri: str
    rel: str | None  # workspace-relative path; None for a file outside the workspace
    text: str
    language: str
    lines: tuple[int, int]  # 0-based, end exclusive
    reason: str
    rank: float = 0.0
    origin: str = "resolved"  # "editor": from the client's language servers; "resolved": ours

    @property
    def title(self) -> str:
        where = self.rel or self.uri
        return f"Definition: {where} (lines {self.lines[0] + 1}-{self.lines[1]})"

    def overlaps(self, other: Slice) -> bool:
        return (
            self.uri == other.uri
            and self.lines[0] < other.lines[1]
            and other.lines[0] < self.lines[1]
        )


def without_overlaps(slices: list[Slice]) -> list[Slice]:
    """`slices` in rank order, each dropped when an earlier one already covers part of it."""
    kept: list[Slice] = []
    for candidate in sorted(slices, key=lambda s: s.rank):
        if not any(candidate.overlaps(k) for k in kept):
            kept.append(candidate)
    return kept
