"""Position encodings, LSP line splitting and column <-> string-index conversion."""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = [
    "PositionEncoding",
    "column_to_index",
    "encoded_length",
    "index_to_column",
    "line_content_length",
    "split_lines",
]


class PositionEncoding(StrEnum):
    """How the client counts the `character` of a position (LSP `PositionEncodingKind`)."""

    UTF8 = "utf-8"
    UTF16 = "utf-16"
    UTF32 = "utf-32"


# Characters str.splitlines treats as line breaks but LSP does not.  When none of them
# occur we can use the C-speed splitlines; membership tests are memchr-fast, far cheaper
# than a regex scan over the whole document.
_NON_LSP_BREAKS_ASCII = ("\v", "\f", "\x1c", "\x1d", "\x1e")
_NON_LSP_BREAKS = (*_NON_LSP_BREAKS_ASCII, "\x85", "\u2028", "\u2029")

# One LSP line including its terminator; the unterminated tail is handled separately.
_TERMINATED_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)")

# Characters outside the BMP take two UTF-16 code units (a surrogate pair).
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def split_lines(text: str) -> list[str]:
    """Split `text` at "\\n", "\\r\\n" and "\\r" only, keeping the terminators.

    The result always has at least one element; the last element has no terminator
    (it may be ""), every other element ends with exactly one terminator.
    """
    # Keystroke-sized segments usually contain no break at all.
    if "\n" not in text and "\r" not in text:
        return [text]
    breaks = _NON_LSP_BREAKS_ASCII if text.isascii() else _NON_LSP_BREAKS
    if not any(ch in text for ch in breaks):
        lines = text.splitlines(keepends=True)
        # splitlines drops the empty tail after a final terminator; LSP counts it as a line.
        if lines[-1][-1] in "\r\n":
            lines.append("")
        return lines
    lines = _TERMINATED_LINE.findall(text)
    lines.append(text[sum(map(len, lines)) :])  # the unterminated tail, possibly ""
    return lines


def line_content_length(line: str) -> int:
    """Length of `line` without its terminator (if any)."""
    if line.endswith("\r\n"):
        return len(line) - 2
    if line.endswith(("\n", "\r")):
        return len(line) - 1
    return len(line)


def encoded_length(text: str, encoding: PositionEncoding) -> int:
    """Number of code units `text` occupies in `encoding`."""
    if text.isascii() or encoding is PositionEncoding.UTF32:
        return len(text)
    if encoding is PositionEncoding.UTF16:
        return len(text) + len(_ASTRAL.findall(text))
    return len(text.encode("utf-8", "surrogatepass"))


def column_to_index(line: str, column: int, encoding: PositionEncoding) -> tuple[int, bool]:
    """Convert an LSP column on `line` into a Python string index.

    Only the line's content (terminator excluded) is addressable.  Returns
    ``(index, clamped)``: a negative column gives 0, a column past the content gives the
    content length, and a column inside a character (half a surrogate pair, the middle of
    a UTF-8 sequence) rounds down to the character's start; all of those set `clamped`.
    """
    length = line_content_length(line)
    if column < 0:
        return 0, True
    if line.isascii() or encoding is PositionEncoding.UTF32:
        # One code unit per character in every encoding.
        return (column, False) if column <= length else (length, True)
    if encoding is PositionEncoding.UTF16:
        return _utf16_column_to_index(line, length, column)
    return _utf8_column_to_index(line, length, column)


def _utf16_column_to_index(line: str, length: int, column: int) -> tuple[int, bool]:
    # Only astral characters make units and indices diverge, and they are rare, so walk
    # just those (found by a C regex scan) instead of every character.
    extra = 0
    for match in _ASTRAL.finditer(line, 0, length):
        start_units = match.start() + extra
        if start_units >= column:
            break
        if start_units + 1 == column:
            return match.start(), True  # between the two halves of a surrogate pair
        extra += 1
    index = column - extra
    return (index, False) if index <= length else (length, True)


def _utf8_column_to_index(line: str, length: int, column: int) -> tuple[int, bool]:
    content = line[:length]
    data = content.encode("utf-8", "surrogatepass")
    if column >= len(data):
        return length, column > len(data)
    # Back up over continuation bytes (10xxxxxx) to the start of the enclosing character.
    start = column
    while data[start] & 0xC0 == 0x80:
        start -= 1
    return len(data[:start].decode("utf-8", "surrogatepass")), start != column


def index_to_column(line: str, index: int, encoding: PositionEncoding) -> int:
    """Convert a string index on `line` into an LSP column (inverse of column_to_index).

    The index is clamped to the line's content first.
    """
    index = max(0, min(index, line_content_length(line)))
    if line.isascii() or encoding is PositionEncoding.UTF32:
        return index
    return encoded_length(line[:index], encoding)
