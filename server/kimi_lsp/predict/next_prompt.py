"""Next-edit prompts: the regions to rewrite and the edit history -> messages and a prefix."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice, pairwise
from typing import Any

from ..context.prompt import SYSTEM_PROMPTS
from ..documents import Position, TextDocument
from .history import Edit, Spot

ABOVE, BELOW = 8, 24
"""Region 1: whole lines from this many above the cursor's line to this many below it."""
OTHER_ABOVE, OTHER_BELOW = 2, 2
"""The window around each other place the history points at."""
MERGE_GAP = 2
"""Windows at most this many lines apart become one region."""
MAX_REGIONS = 4
FILL_GAP = 12
"""With more windows than regions, neighbours up to this many lines apart are joined."""
MAX_OCCURRENCES = 64
"""Occurrences of a renamed name looked at (the nearest to the cursor)."""
HEAD_LINES = 30
"""The file's first lines (its imports, usually) as per-file context: stable while typing."""
CHARS_PER_TOKEN = 3
"""A cautious characters-per-token ratio for code (the tokenizer is not run on this path)."""
# Shares of the budget's characters; the rest is the fixed instructions and the markers.
REGION_SHARE, HISTORY_SHARE, HEAD_SHARE, PROJECT_SHARE = 0.45, 0.2, 0.08, 0.15
PROJECT_HEADER = "\n\n# Project context\n\n"
OUTPUT_MARGIN = 64
CURSOR = "<|cursor|>"

RULES = (
    "Task: predict the user's next edits. You get the start of the file, the user's recent "
    "edits (oldest first; lines starting with '- ' were replaced by the lines starting with "
    "'+ ') and numbered regions of the file as it is now; region 1 holds the cursor, shown as "
    f"{CURSOR}. Rewrite every region as the user will most likely have it after their next "
    "edits: carry on what the recent edits started (for example, rename the other uses of a "
    "name they just renamed), change nothing else, never undo their edits.\n"
    "Answer with each region in order, each between its own marker lines exactly as given "
    "(a line '<|region K|>', the region's lines, a line '<|/region K|>'), and nothing else: no "
    f"explanations, no code fences, no {CURSOR}. Repeat a region verbatim when it needs no "
    "change."
)
SYSTEM = SYSTEM_PROMPTS["prediction"] + "\n\n" + RULES

_IDENTIFIER = re.compile(r"[^\W\d]\w*")


def is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@dataclass(frozen=True, slots=True)
class Region:
    """Whole lines [start, end) of the document; `text` is exactly theirs (terminators too)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One edit as the prompt shows it (already admitted and redacted)."""

    path: str
    line: int
    old_lines: str
    new_lines: str


@dataclass(frozen=True, slots=True)
class NextPrompt:
    messages: list[dict[str, Any]]
    prefix: str
    regions: list[Region]
    max_output_tokens: int


def start_marker(k: int) -> str:
    return f"<|region {k}|>"


def end_marker(k: int) -> str:
    return f"<|/region {k}|>"


def renamed(edit: Edit) -> tuple[str, str] | None:
    """(old name, new name) when `edit` changed one identifier into another on one line."""
    if any(c in edit.old + edit.new for c in "\r\n"):
        return None
    old_line, new_line = edit.old_lines, edit.new_lines
    s = len(edit.before)
    while s > 0 and is_word(old_line[s - 1]):
        s -= 1
    e_old, e_new = len(edit.before) + len(edit.old), len(edit.before) + len(edit.new)
    while e_old < len(old_line) and is_word(old_line[e_old]):
        e_old += 1
    while e_new < len(new_line) and is_word(new_line[e_new]):
        e_new += 1
    old, new = old_line[s:e_old], new_line[s:e_new]
    if old != new and _IDENTIFIER.fullmatch(old) and _IDENTIFIER.fullmatch(new):
        return old, new
    return None


def _region(document: TextDocument, start: int, end: int) -> Region:
    return Region(start, end, "".join(document.lines[start:end]))


def cursor_region(document: TextDocument, line: int, max_chars: int) -> Region | None:
    """Region 1: ABOVE lines above the cursor's line to BELOW below, shrunk to `max_chars`
    (lines go from the far end first); None when the cursor's line alone is too long."""
    last = document.line_count
    if document.lines[-1] == "" and last > 1:
        last -= 1  # the empty tail after a final line break is no line to rewrite
    line = min(line, last - 1)
    start, end = max(0, line - ABOVE), min(last, line + BELOW + 1)
    size = sum(len(document.lines[i]) for i in range(start, end))
    while size > max_chars and end - start > 1:
        if end - 1 - line >= (line - start) * (BELOW // ABOVE) and end - 1 > line:
            end -= 1
            size -= len(document.lines[end])
        else:
            size -= len(document.lines[start])
            start += 1
    return _region(document, start, end) if size <= max_chars else None


def other_regions(
    document: TextDocument,
    first: Region,
    cursor_line: int,
    names: Sequence[str],
    max_chars: int,
) -> list[Region]:
    """Windows around the other whole-word uses of `names` outside region 1: nearest to the
    cursor first, merged when close, at most MAX_REGIONS - 1 of them, in document order."""
    lines = _occurrence_lines(document, names, first)
    lines.sort(key=lambda n: abs(n - cursor_line))
    last = document.line_count
    windows: list[tuple[int, int]] = []
    for n in sorted(lines[:MAX_OCCURRENCES]):
        lo, hi = max(0, n - OTHER_ABOVE), min(last, n + OTHER_BELOW + 1)
        # Never overlapping region 1: its side of the window is cut off.
        if lo < first.end and hi > first.start:
            lo, hi = (first.end, hi) if n >= first.end else (lo, first.start)
        if windows and lo - windows[-1][1] <= MERGE_GAP and not _straddles(windows[-1], lo, first):
            windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
        else:
            windows.append((lo, hi))
    _close_ranks(windows, first)
    windows.sort(key=lambda w: min(abs(w[0] - cursor_line), abs(w[1] - 1 - cursor_line)))
    chosen: list[Region] = []
    used = 0
    for lo, hi in windows:
        region = _region(document, lo, hi)
        if len(chosen) == MAX_REGIONS - 1 or used + len(region.text) > max_chars:
            break
        chosen.append(region)
        used += len(region.text)
    return sorted(chosen, key=lambda r: r.start)


def _close_ranks(windows: list[tuple[int, int]], first: Region) -> None:
    """Too many windows: the closest neighbours (at most FILL_GAP lines apart) become one, so
    that more uses fit in MAX_REGIONS regions."""
    while len(windows) > MAX_REGIONS - 1:
        gaps = [
            (b[0] - a[1], i)
            for i, (a, b) in enumerate(pairwise(windows))
            if not _straddles(a, b[0], first)
        ]
        if not gaps or min(gaps)[0] > FILL_GAP:
            return
        _, i = min(gaps)
        windows[i : i + 2] = [(windows[i][0], max(windows[i][1], windows[i + 1][1]))]


def _straddles(window: tuple[int, int], lo: int, first: Region) -> bool:
    """Whether merging `window` with one starting at `lo` would swallow region 1."""
    return window[1] <= first.start and lo >= first.end


def _occurrence_lines(document: TextDocument, names: Sequence[str], first: Region) -> list[int]:
    """Lines of the whole-word uses of `names` nearest to region 1, at most MAX_OCCURRENCES
    on each side: the search stops there (a name used 40,000 times costs no more)."""
    if not names:
        return []
    text = document.text
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)")
    lines: list[int] = []
    if first.end < document.line_count:
        after = document.offset_at(Position(first.end, 0))
        for match in islice(pattern.finditer(text, after), MAX_OCCURRENCES):
            lines.append(document.position_at(match.start()).line)
    before = document.offset_at(Position(first.start, 0))
    span = 16_384
    while before:
        lo = max(0, before - span)
        found = list(pattern.finditer(text, lo, before))
        if len(found) >= MAX_OCCURRENCES or lo == 0:
            lines += (document.position_at(m.start()).line for m in found[-MAX_OCCURRENCES:])
            break
        span *= 4
    return sorted(set(lines))


def with_cursor(text: str, at: int, redact: Callable[[str], str]) -> str:
    """`text` redacted, with the cursor marker at index `at` when that hides nothing: a marker
    inside a secret could keep it from being recognised, so then it moves to the start of the
    line, or is left out."""
    line_start = text.rfind("\n", 0, at) + 1
    for spot in (at, line_start):
        shown = redact(text[:spot] + CURSOR + text[spot:])
        plain = shown.replace(CURSOR, "", 1)
        if CURSOR in shown and redact(plain) == plain:
            return shown
    return redact(text)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _fenced(text: str) -> str:
    return text if text.endswith("\n") or not text else text + "\n"


def render_history(entries: Sequence[HistoryEntry]) -> str:
    """The edits as `path:line` followed by '- ' old lines and '+ ' new lines."""
    blocks = []
    for entry in entries:
        old = "".join(f"- {line}\n" for line in _lf(entry.old_lines).split("\n"))
        new = "".join(f"+ {line}\n" for line in _lf(entry.new_lines).split("\n"))
        blocks.append(f"{entry.path}:{entry.line + 1}\n{old}{new}")
    return "\n".join(blocks)


def fit_history(entries: Sequence[HistoryEntry], max_chars: int) -> list[HistoryEntry]:
    """The most recent entries whose rendering fits `max_chars` (oldest first)."""
    kept: list[HistoryEntry] = []
    used = 0
    for entry in reversed(entries):
        size = len(entry.old_lines) + len(entry.new_lines) + len(entry.path) + 16
        if used + size > max_chars:
            break
        kept.append(entry)
        used += size
    return kept[::-1]


def head_of(document: TextDocument, first: Region, max_chars: int) -> str:
    """The file's first lines, at most `max_chars`, up to region 1 (which shows the rest): the
    same for every cursor below the first HEAD_LINES + ABOVE lines, so prompts share them."""
    out: list[str] = []
    used = 0
    for line in document.lines[: min(HEAD_LINES, first.start)]:
        if used + len(line) > max_chars:
            break
        out.append(line)
        used += len(line)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class PromptInput:
    document: TextDocument
    path: str
    cursor: Spot
    history: Sequence[HistoryEntry]
    renames: Sequence[tuple[str, str]]
    budget_tokens: int
    continues_prefix: bool
    project: str = ""
    """The file's stable project context (what it imports and uses), sections joined by blank
    lines; as much of it as fits its share is sent, whole sections only."""


def fit_sections(text: str, max_chars: int) -> str:
    """The leading blank-line-separated sections of `text` that fit `max_chars`."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n\n", 0, max_chars + 1)
    return text[:cut] if cut > 0 else ""


def build_prompt(job: PromptInput, redact: Callable[[str], str]) -> NextPrompt | None:
    """Messages (stable parts first: instructions and the project context, the file's head,
    the history, the regions),
    the prefix and the regions sent; None when not even the cursor's line fits."""
    document = job.document
    chars = job.budget_tokens * CHARS_PER_TOKEN
    first = cursor_region(document, job.cursor[0], int(chars * REGION_SHARE))
    if first is None:
        return None
    names = [old for old, _ in job.renames]
    room = int(chars * REGION_SHARE) - len(first.text)
    regions = [first, *other_regions(document, first, job.cursor[0], names, room)]
    language = document.language_id or "text"
    head = redact(_lf(head_of(document, first, int(chars * HEAD_SHARE))))
    parts = [f"File: {job.path} ({language})\n"]
    if head:
        parts.append(f"\nIts first lines:\n```{language}\n{_fenced(head)}```\n")
    history = fit_history(job.history, int(chars * HISTORY_SHARE))
    if history:
        parts.append("\nRecent edits (oldest first):\n" + redact(render_history(history)))
    parts.append("\nThe regions to rewrite:\n")
    for k, region in enumerate(regions, 1):
        text = _lf(region.text)
        if k == 1:
            at = sum(len(line) for line in document.lines[first.start : job.cursor[0]])
            at = len(_lf(region.text[:at])) + job.cursor[1]
            text = with_cursor(text, at, redact)
        else:
            text = redact(text)
        parts.append(f"{start_marker(k)}\n{_fenced(text)}{end_marker(k)}\n")
    shown = sum(len(region.text) for region in regions)
    project = redact(fit_sections(job.project, int(chars * PROJECT_SHARE)))
    return NextPrompt(
        messages=[
            {"role": "system", "content": SYSTEM + (PROJECT_HEADER + project if project else "")},
            {"role": "user", "content": "".join(parts)},
        ],
        prefix=start_marker(1) + "\n" if job.continues_prefix else "",
        regions=regions,
        max_output_tokens=shown // CHARS_PER_TOKEN + 16 * len(regions) + OUTPUT_MARGIN,
    )
