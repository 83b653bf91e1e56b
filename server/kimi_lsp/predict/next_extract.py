"""Next-edit answers -> the rewritten regions -> minimal hunks at document spots, filtered."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import accumulate

from ..edits.diff import Hunk, compute_hunks
from ..edits.unredact import restore_secrets
from ..errors import KimiError
from .history import Spot
from .next_prompt import CURSOR, Region, end_marker, start_marker

log = logging.getLogger(__name__)

_ANY_MARKER = re.compile(r"<\|/?region \d+\|>")
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
REFINE_MAX_LINES = 64
REFINE_MAX_LINE = 1_000

# What identifies a suggested edit across requests: its document, and the whole lines it
# touches before and after (positions move as the user types; these rarely do).
Key = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Replace start..end (spots in the document the regions were taken from) with `text`."""

    start: Spot
    end: Spot
    text: str
    key: Key


def parse_regions(answer: str, count: int) -> dict[int, str]:
    """Each region's rewritten text by number (LF line ends, every line terminated), read in
    order; a region missing, unterminated or interrupted by another marker is left out, as is
    anything outside the markers. `<|cursor|>` is dropped (a line of only that, entirely)."""
    lines = [
        line.replace(CURSOR, "")
        for line in answer.replace("\r\n", "\n").split("\n")
        if line.strip() != CURSOR
    ]
    found: dict[int, str] = {}
    i = 0
    for k in range(1, count + 1):
        start = next((j for j in range(i, len(lines)) if lines[j].strip() == start_marker(k)), None)
        if start is None:
            continue
        end = None
        for j in range(start + 1, len(lines)):
            stripped = lines[j].strip()
            if stripped == end_marker(k):
                end = j
                break
            if _ANY_MARKER.fullmatch(stripped):
                break  # another region begins first: this one is malformed
        if end is None:
            i = start + 1
            continue
        found[k] = "".join(line + "\n" for line in lines[start + 1 : end])
        i = end + 1
    return found


def in_document_form(original: str, new: str) -> str | None:
    """`new` (LF line ends) with the region's line ends and final line break; None when the
    region mixes line ends (no way to tell which the model meant)."""
    if "\r" in original:
        if original.count("\r") != original.count("\r\n") or original.count("\n") != original.count(
            "\r\n"
        ):
            return None
        new = new.replace("\n", "\r\n")
    if original and not original.endswith(("\n", "\r")):
        new = new.removesuffix("\r\n") if new.endswith("\r\n") else new.removesuffix("\n")
    elif not original:
        new = new.removesuffix("\n")
    return new


def _spot(text: str, base_line: int, offset: int) -> Spot:
    return base_line + text.count("\n", 0, offset), offset - (text.rfind("\n", 0, offset) + 1)


def _key(uri: str, text: str, hunk: Hunk) -> Key:
    start = text.rfind("\n", 0, hunk.start) + 1
    end = text.find("\n", hunk.end)
    end = len(text) if end < 0 else end
    return uri, text[start:end], text[start : hunk.start] + hunk.text + text[hunk.end : end]


def refine(old: str, hunk: Hunk) -> list[Hunk]:
    """`hunk` split line by line into changed whole tokens when it keeps the number of lines:
    renaming `w` on three adjacent lines is three edits `w` -> `width`, not one block."""
    start = old.rfind("\n", 0, hunk.start) + 1
    end = old.find("\n", hunk.end)
    end = len(old) if end < 0 else end
    old_lines = old[start:end].split("\n")
    new_lines = (old[start : hunk.start] + hunk.text + old[hunk.end : end]).split("\n")
    if len(old_lines) != len(new_lines) or len(old_lines) > REFINE_MAX_LINES:
        return [hunk]
    if any(len(line) > REFINE_MAX_LINE for line in (*old_lines, *new_lines)):
        return [hunk]
    hunks: list[Hunk] = []
    at = start
    for before, after in zip(old_lines, new_lines, strict=True):
        if before != after:
            hunks += _token_hunks(before, after, at)
        at += len(before) + 1
    return hunks


def _token_hunks(before: str, after: str, at: int) -> list[Hunk]:
    a, b = _TOKEN.findall(before), _TOKEN.findall(after)
    offsets = list(accumulate(map(len, a), initial=at))
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return [
        Hunk(offsets[i1], offsets[i2], "".join(b[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


@dataclass(frozen=True, slots=True)
class Secrets:
    """How the prompt was redacted, to put the user's secrets back in an answer."""

    api_key: str | None
    patterns: bool


def region_suggestions(uri: str, region: Region, answer: str, secrets: Secrets) -> list[Suggestion]:
    """The minimal hunks turning `region` into the model's rewrite of it (none when unsure)."""
    new = in_document_form(region.text, answer)
    if new is None or (region.text.strip() and not new.strip()):
        return []
    try:
        new = restore_secrets(new, region.text, secrets.api_key, secrets.patterns)
    except KimiError:
        log.info("A next-edit region moved hidden secrets; it was left out.")
        return []
    return [
        Suggestion(
            _spot(region.text, region.start, hunk.start),
            _spot(region.text, region.start, hunk.end),
            hunk.text,
            _key(uri, region.text, hunk),
        )
        for block in compute_hunks(region.text, new)
        for hunk in refine(region.text, block)
    ]


def extract(
    uri: str,
    regions: Sequence[Region],
    answer: str,
    secrets: Secrets,
    typing: tuple[Spot, Spot] | None,
    rejected: Callable[[Key], bool],
) -> list[Suggestion]:
    """Every region's suggestions, in region order, without those touching `typing` (the span
    of the user's latest edit) or rejected before."""
    rewritten = parse_regions(answer, len(regions))
    kept: list[Suggestion] = []
    for k, region in enumerate(regions, 1):
        if k not in rewritten:
            continue
        for suggestion in region_suggestions(uri, region, rewritten[k], secrets):
            if typing is not None and suggestion.start <= typing[1] and typing[0] <= suggestion.end:
                continue
            if rejected(suggestion.key):
                continue
            kept.append(suggestion)
    return kept
