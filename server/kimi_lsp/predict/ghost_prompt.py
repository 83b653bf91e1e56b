"""A ghost-text prompt: system + the file's stable context, the text after the cursor, the prefix.

Laid out for the API's prefix cache (identical leading tokens in 256-token blocks): what stays
the same while the user types in a file comes first, the window's start and end sit on a fixed
line grid so that consecutive requests send the same bytes up to the cursor, and nothing here
reads more of the document than the window (no joined text, no tokenizer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..documents import TextDocument

GRID = 32  # the window's first and last lines are multiples of this
MIN_PREFIX_LINES = 32  # the prefix starts at least this many lines above the cursor line
MIN_SUFFIX_LINES = 16  # the suffix runs at least this many lines below it
CHARS_PER_TOKEN = 3  # a high count of tokens per character of code: limits hold for any text
PREFIX_SHARE = 0.30  # of the prediction budget, for the prefix
SUFFIX_SHARE = 0.12  # for the text after the cursor
STABLE_SHARE = 0.45  # for the file's stable context (system prompt aside)
MAX_OUTPUT_TOKENS = 320  # 16 lines of code and a little more

GHOST_RULES = (
    " Here you complete code at the cursor. The user message holds the file's name and the "
    "code after the cursor; your reply continues the last message's code exactly from where "
    "it stops (mid-line if it stops mid-line), as raw code with no fences or explanations, in "
    "the file's indentation and style. Write what most likely comes next: the rest of the "
    "line, or the lines that finish the current block, at most 16 lines. Do not repeat the "
    "code after the cursor."
)
SUFFIX_OPEN = "<|after_cursor|>"
SUFFIX_CLOSE = "<|/after_cursor|>"
PREFIX_OPEN = "<|before_cursor|>"
PREFIX_CLOSE = "<|/before_cursor|>"


@dataclass(frozen=True, slots=True)
class Limits:
    """Character limits of the window for a prediction budget (tokens)."""

    prefix_chars: int
    suffix_chars: int
    stable_tokens: int

    @classmethod
    def for_budget(cls, budget: int) -> Limits:
        return cls(
            prefix_chars=int(budget * PREFIX_SHARE) * CHARS_PER_TOKEN,
            suffix_chars=int(budget * SUFFIX_SHARE) * CHARS_PER_TOKEN,
            stable_tokens=int(budget * STABLE_SHARE),
        )


@dataclass(frozen=True, slots=True)
class Window:
    """The document around the cursor, as sent: `prefix` ends at the cursor, `suffix` starts
    there; lines `first`..`last` (0-based, end exclusive) are the lines they come from."""

    prefix: str
    suffix: str
    first: int
    last: int
    line: int
    index: int
    before: str
    rest: str


def window(doc: TextDocument, line: int, index: int, limits: Limits) -> Window:
    """The window around (`line`, `index`), `index` a str index into the line's content."""
    content = doc.line(line)
    before, rest = content[:index], content[index:]
    first = _prefix_start(doc, line, len(before), limits.prefix_chars)
    parts = [doc.line(i) for i in range(first, line)]
    parts.append(before)
    prefix = "\n".join(parts)
    if len(prefix) > limits.prefix_chars:  # one very long line: its end is all that fits
        prefix = prefix[-limits.prefix_chars :]
    grid_end = ((line + MIN_SUFFIX_LINES) // GRID + 1) * GRID
    suffix, last = _suffix(doc, line, rest, min(grid_end, doc.line_count), limits.suffix_chars)
    return Window(prefix, suffix, first, last, line, index, before, rest)


def _prefix_start(doc: TextDocument, line: int, before_chars: int, limit: int) -> int:
    """The first line of the prefix: on the grid, at least MIN_PREFIX_LINES above the cursor
    when the limit allows, moved down the grid until the prefix fits."""
    first = max(0, (line - MIN_PREFIX_LINES) // GRID * GRID)
    total = before_chars + sum(len(doc.line(i)) + 1 for i in range(first, line))
    while total > limit and first < line:
        step_end = min(line, (first // GRID + 1) * GRID)
        total -= sum(len(doc.line(i)) + 1 for i in range(first, step_end))
        first = step_end
    return first


def _suffix(doc: TextDocument, line: int, rest: str, end: int, limit: int) -> tuple[str, int]:
    """The text after the cursor: the rest of its line, then whole lines up to `end` (or
    fewer, to stay within `limit` characters)."""
    parts = [rest[:limit]]
    total = len(parts[0])
    i = line + 1
    while i < end:
        text = doc.line(i)
        if total + len(text) + 1 > limit:
            break
        parts.append(text)
        total += len(text) + 1
        i += 1
    return "\n".join(parts), i


def suffix_for_trim(doc: TextDocument, line: int, rest: str, need: int) -> tuple[str, bool]:
    """The text after the cursor, at least `need` characters of it (whole lines) or all of it
    (then True): what an answer is compared with when it is cut."""
    parts = [rest]
    total = len(rest)
    i = line + 1
    count = doc.line_count
    while total < need and i < count:
        text = doc.line(i)
        parts.append(text)
        total += len(text) + 1
        i += 1
    return "\n".join(parts), i >= count


def messages(
    system_prompt: str,
    stable: str,
    name: str,
    language: str,
    win: Window,
    inline_prefix: bool = False,
) -> list[dict[str, Any]]:
    """[system + stable context, user: the file and the code after the cursor]; the prefix is
    sent separately as the continued assistant message, or, for an endpoint that cannot
    continue one (`inline_prefix`), in the user message before the code after the cursor."""
    system = system_prompt + GHOST_RULES
    if stable:
        system += "\n\n# Project context\n\n" + stable
    where = f"File: {name}" + (f" ({language})" if language else "")
    user = (
        f"{where}\nThe code after the cursor:\n"
        f"{SUFFIX_OPEN}\n{win.suffix}\n{SUFFIX_CLOSE}\n"
        "Continue the file from the cursor; your reply starts exactly there."
    )
    if inline_prefix:
        user = (
            f"{where}\nThe code before the cursor (the cursor is where it ends):\n"
            f"{PREFIX_OPEN}\n{win.prefix}{PREFIX_CLOSE}\n"
            f"The code after the cursor:\n{SUFFIX_OPEN}\n{win.suffix}\n{SUFFIX_CLOSE}\n"
            "Reply with only the code that goes at the cursor, as raw code."
        )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


Redact = Callable[[str], str]


def redacted(win: Window, redact: Redact) -> Window:
    """The window with secret-looking strings (and the API keys) replaced by markers; the
    cursor's place is the prefix's end, so only the texts change."""
    prefix, suffix = redact(win.prefix), redact(win.suffix)
    if prefix is win.prefix and suffix is win.suffix:
        return win
    return Window(prefix, suffix, win.first, win.last, win.line, win.index, win.before, win.rest)
