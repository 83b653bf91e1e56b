"""The open-document store: line-based text with O(edit) incremental changes."""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, islice

from kimi_lsp.errors import KimiError
from kimi_lsp.positions import (
    PositionEncoding,
    column_to_index,
    index_to_column,
    line_content_length,
    split_lines,
)

__all__ = [
    "ChangeResult",
    "DocumentStore",
    "Position",
    "Range",
    "TextChange",
    "TextDocument",
    "UnknownDocumentError",
]


@dataclass(frozen=True, slots=True)
class Position:
    """Zero-based line and column; the column counts code units of the store's encoding."""

    line: int
    character: int


@dataclass(frozen=True, slots=True)
class Range:
    """A half-open span between two positions."""

    start: Position
    end: Position


@dataclass(frozen=True, slots=True)
class TextChange:
    """One content change; `range=None` replaces the whole document."""

    range: Range | None
    text: str


class UnknownDocumentError(KimiError):
    """A change or lookup named a document that is not open."""

    def __init__(self, uri: str) -> None:
        super().__init__(f"Document is not open: {uri}")
        self.uri = uri


class TextDocument:
    """An open document stored as LSP lines (see `split_lines`)."""

    __slots__ = ("_line_starts", "_text", "encoding", "language_id", "lines", "uri", "version")

    def __init__(
        self,
        uri: str,
        language_id: str,
        version: int,
        text: str,
        encoding: PositionEncoding = PositionEncoding.UTF16,
    ) -> None:
        self.uri = uri
        self.language_id = language_id
        self.version = version
        self.encoding = encoding
        self.lines: list[str] = split_lines(text)
        self._text: str | None = text
        # Offset of each line's first character in `text`; built only when asked for.
        self._line_starts: list[int] | None = None

    def __repr__(self) -> str:
        return f"TextDocument({self.uri!r}, version={self.version}, lines={len(self.lines)})"

    @property
    def text(self) -> str:
        """The whole text; joined lazily and cached until the next change."""
        if self._text is None:
            self._text = "".join(self.lines)
        return self._text

    @property
    def line_count(self) -> int:
        return len(self.lines)

    def line(self, index: int) -> str:
        """Content of line `index` without its terminator; "" for a line that does not exist."""
        if not 0 <= index < len(self.lines):
            return ""
        line = self.lines[index]
        return line[: line_content_length(line)]

    def end_position(self) -> Position:
        """The position just past the last character."""
        last = len(self.lines) - 1
        return Position(
            last, index_to_column(self.lines[last], len(self.lines[last]), self.encoding)
        )

    # -- position <-> (line, string index) -------------------------------------------

    def locate(self, pos: Position) -> tuple[int, int, bool]:
        """Resolve `pos` to ``(line, index, clamped)`` with `index` a str index into the line.

        A negative line clamps to the start of the document, a line past the last to its
        end; columns clamp as in `column_to_index`.  Never raises.
        """
        if pos.line < 0:
            return 0, 0, True
        if pos.line >= len(self.lines):
            last = len(self.lines) - 1
            return last, len(self.lines[last]), True
        index, clamped = column_to_index(self.lines[pos.line], pos.character, self.encoding)
        return pos.line, index, clamped

    def position_from_index(self, line: int, index: int) -> Position:
        """The LSP position of str index `index` on `line` (both clamped)."""
        line = max(0, min(line, len(self.lines) - 1))
        text = self.lines[line]
        return Position(line, index_to_column(text, index, self.encoding))

    # -- offsets into `text` ---------------------------------------------------------

    def _starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = [0, *accumulate(map(len, self.lines))]
        return self._line_starts

    def offset_at(self, pos: Position) -> int:
        """Index into `text` of `pos`, clamped into the document."""
        line, index, _ = self.locate(pos)
        return self._starts()[line] + index

    def position_at(self, offset: int) -> Position:
        """Position of index `offset` into `text`.

        Clamped into the document; an offset between the "\\r" and "\\n" of a CRLF maps to
        the end of that line's content.
        """
        starts = self._starts()
        offset = max(0, min(offset, starts[-1]))
        line = min(bisect_right(starts, offset) - 1, len(self.lines) - 1)
        return self.position_from_index(line, offset - starts[line])

    def range_to_offsets(self, rng: Range) -> tuple[int, int]:
        """Offsets ``(start, end)`` of `rng` in `text`; a reversed range is swapped."""
        start, end = self.offset_at(rng.start), self.offset_at(rng.end)
        return (start, end) if start <= end else (end, start)

    def offsets_to_range(self, start: int, end: int) -> Range:
        """The range covering `text[start:end]` (swapped if reversed)."""
        if start > end:
            start, end = end, start
        return Range(self.position_at(start), self.position_at(end))

    def text_in(self, rng: Range) -> str:
        """The text covered by `rng` (normalised like `range_to_offsets`)."""
        start, end = self.range_to_offsets(rng)
        return self.text[start:end]

    # -- edits -----------------------------------------------------------------------

    def apply(self, change: TextChange) -> bool:
        """Apply one change; returns True if a position of its range had to be clamped.

        An incremental change re-splits only the lines it touches, so it costs
        O(len(change.text) + touched lines), never O(document).  A reversed range is
        treated as the same span with its ends swapped.
        """
        self._text = None
        self._line_starts = None
        if change.range is None:
            self.lines = split_lines(change.text)
            self._text = change.text
            return False
        lines = self.lines
        sl, si, start_clamped = self.locate(change.range.start)
        el, ei, end_clamped = self.locate(change.range.end)
        if (sl, si) > (el, ei):
            sl, si, el, ei = el, ei, sl, si
        segment = lines[sl][:si] + change.text + lines[el][ei:]
        lo, hi = sl, el + 1
        # A lone "\r" ending the previous line and a "\n" now starting the segment are a
        # single CRLF break, so that line has to be re-split together with the segment.
        if lo > 0 and segment.startswith("\n") and lines[lo - 1].endswith("\r"):
            lo -= 1
            segment = lines[lo] + segment
        # The mirror seam: cannot arise from valid lines (a terminator is never split by a
        # position), but it is one cheap check and keeps the splice right if it ever does.
        if hi < len(lines) and segment.endswith("\r") and lines[hi].startswith("\n"):
            segment += lines[hi]
            hi += 1
        replacement = split_lines(segment)
        if hi < len(lines):
            # The segment ends with its last line's terminator, so split_lines produced an
            # empty tail that really is the start of lines[hi], which stays as it is.
            replacement.pop()
        lines[lo:hi] = replacement
        return start_clamped or end_clamped


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """Outcome of `DocumentStore.change`: the updated document and whether anything clamped."""

    document: TextDocument
    clamped: bool


class DocumentStore:
    """Open documents by URI, most-recently-used first."""

    def __init__(self, encoding: PositionEncoding = PositionEncoding.UTF16) -> None:
        self._encoding = encoding
        # Front = most recently used; move_to_end(last=False) keeps MRU updates O(1).
        self._docs: OrderedDict[str, TextDocument] = OrderedDict()

    @property
    def encoding(self) -> PositionEncoding:
        return self._encoding

    @encoding.setter
    def encoding(self, encoding: PositionEncoding) -> None:
        # Negotiated at initialize, normally before any didOpen; keep open docs consistent.
        self._encoding = encoding
        for doc in self._docs.values():
            doc.encoding = encoding

    def open(self, uri: str, language_id: str, version: int, text: str) -> TextDocument:
        """Open (or re-open, replacing) a document and make it the most recent."""
        doc = TextDocument(uri, language_id, version, text, self._encoding)
        self._docs[uri] = doc
        self._docs.move_to_end(uri, last=False)
        return doc

    def change(self, uri: str, version: int, changes: Sequence[TextChange]) -> ChangeResult:
        """Apply `changes` in order, store `version` and make the document the most recent."""
        doc = self._docs.get(uri)
        if doc is None:
            raise UnknownDocumentError(uri)
        clamped = False
        for change in changes:
            clamped = doc.apply(change) or clamped
        doc.version = version
        self._docs.move_to_end(uri, last=False)
        return ChangeResult(doc, clamped)

    def close(self, uri: str) -> TextDocument | None:
        """Forget a document; returns it, or None if it was not open."""
        return self._docs.pop(uri, None)

    def get(self, uri: str) -> TextDocument | None:
        return self._docs.get(uri)

    def touch(self, uri: str) -> bool:
        """Mark a document as just used; False if it is not open."""
        if uri not in self._docs:
            return False
        self._docs.move_to_end(uri, last=False)
        return True

    def recent(self, limit: int | None = None) -> list[TextDocument]:
        """Open documents, most recently used first, at most `limit` of them."""
        return list(islice(self._docs.values(), None if limit is None else max(0, limit)))

    def __contains__(self, uri: object) -> bool:
        return uri in self._docs

    def __len__(self) -> int:
        return len(self._docs)

    def __iter__(self) -> Iterator[TextDocument]:
        return iter(list(self._docs.values()))
