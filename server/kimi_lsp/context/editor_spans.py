"""Definitions the editor located (v2 `definitions`), read into slices or refused with a reason."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..limited_read import UnreadableFile, read_limited
from ..secrets.files import needs_head, secret_file_reason
from .admission import UNTITLED
from .focus import Location
from .languages import language_of
from .slices import Slice
from .symbols import Symbol, outline

if TYPE_CHECKING:
    from .engine import ContextEngine

MAX_EDITOR_DEFINITIONS = 16  # slices taken from one request's locations
MAX_SPAN_LINES = 400  # one span (a definition grown to its end) is cut here ...
MAX_SPAN_BYTES = 40_000  # ... or here, whichever comes first
BINARY_PROBE = 8_192
HEAD_BYTES = 4_096
# Symbol kinds whose whole body is worth sending when the editor points at their name.
_BODIES = frozenset(
    {"class", "interface", "struct", "enum", "trait", "impl", "type", "function", "method",
     "macro", "module"}
)  # fmt: skip
_LOCATED = "definition the editor located"
_WORD = re.compile(r"[A-Za-z_$][\w$]*")


@dataclass(frozen=True, slots=True)
class _Text:
    text: str
    rel: str | None
    language: str


def read_definitions(
    engine: ContextEngine,
    locations: Sequence[Location],
    open_texts: Mapping[str, tuple[str, str]],
    focused: str | None,
    max_size: int,
) -> tuple[list[Slice], list[tuple[str, str]]]:
    """The editor's locations read into slices (in the editor's order, at most
    MAX_EDITOR_DEFINITIONS), and (uri, reason) for each one skipped.

    `open_texts` holds the (text, languageId) of the locations' open documents: the user's
    unsaved text wins over the disk. Locations in the `focused` document are left out
    without a word: that document is sent as the current file.
    """
    from .engine import uri_to_path  # the engine module loads with the first request

    slices: list[Slice] = []
    skipped: list[tuple[str, str]] = []
    texts: dict[str, _Text | str] = {}
    seen: set[tuple[str, int]] = set()
    for location in locations:
        key = (location.uri, location.range.start.line)
        if location.uri == focused or key in seen:
            continue
        seen.add(key)
        where = f"definition from the editor (line {location.range.start.line + 1})"
        if len(slices) >= MAX_EDITOR_DEFINITIONS:
            skipped.append((location.uri, f"{where}: more than {MAX_EDITOR_DEFINITIONS} sent"))
            continue
        if location.uri not in texts:
            opened = open_texts.get(location.uri)
            texts[location.uri] = _source(
                engine, uri_to_path(location.uri), location.uri, opened, max_size
            )
        source = texts[location.uri]
        made = (
            source
            if isinstance(source, str)
            else span_slice(location, source.text, source.rel, source.language, len(slices))
        )
        if isinstance(made, str):
            skipped.append((location.uri, f"{where}: {made}"))
        else:
            slices.append(made)
    return slices, skipped


def _source(
    engine: ContextEngine,
    path: Path | None,
    uri: str,
    opened: tuple[str, str] | None,
    max_size: int,
) -> _Text | str:
    """Where a location's text comes from: the open document, the workspace index (its
    ignore rules and limits), or, outside the workspace, the file itself; else why not."""
    secret = engine.secret_reason(uri)
    if secret is not None:
        return secret
    if path is not None and engine.index.contains(path):
        rel = engine.rel(path)
        reason = engine.index.check(path)
        if opened is not None and reason in (None, "no such file"):  # maybe never saved
            return _Text(opened[0], rel, opened[1] or language_of(rel or path.name))
        if reason is not None:
            return reason
        text = engine.index.read_text(path)
        return "unreadable" if text is None else _Text(text, rel, language_of(rel or path.name))
    if path is None:
        # An `untitled:` (or other non-file) buffer enters a prompt only as the focus.
        return UNTITLED if uri.startswith("untitled:") else "not a file on disk"
    if opened is not None:
        # Outside the workspace, as the file itself would be (protocol.md: a library's span),
        # with the checks `outside_text` makes on a file's bytes made on the editor's text.
        refused = _refused_text(path.name, opened[0], max_size)
        if refused is not None:
            return refused
        return _Text(opened[0], None, opened[1] or language_of(path.name))
    try:
        return _Text(outside_text(path, max_size), None, language_of(path.name))
    except OutsideRefused as refused:
        return str(refused)


def span_slice(
    location: Location, text: str, rel: str | None, language: str, rank: float
) -> Slice | str:
    """The slice `location` points at in `text` (the whole file), or why it cannot be used.

    A location at a definition's first line (a language server's `textDocument/definition`
    usually covers only the name) grows to the whole definition; any span is cut at
    MAX_SPAN_LINES lines or MAX_SPAN_BYTES bytes.
    """
    start, end = location.range.start, location.range.end
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    if start.line >= len(lines):
        return f"range past the end (line {start.line + 1}, the file has {len(lines)} lines)"
    if (end.line, end.character) < (start.line, start.character):
        return "range ends before it starts"
    chunk = lines[start.line : start.line + MAX_SPAN_LINES]
    count = end.line - start.line + (0 if end.character == 0 and end.line > start.line else 1)
    symbol = next(
        (s for s in outline("\n".join(chunk), language, exact=False) if s.line == 0), None
    )
    if symbol is not None and symbol.kind in _BODIES and symbol.end_line is not None:
        count = max(count, symbol.end_line + 1)
    first = start.line
    if symbol is not None:  # its decorators (attributes in Rust) belong to it
        while first > max(0, start.line - 20) and lines[first - 1].lstrip().startswith(("@", "#[")):
            first -= 1
    span = lines[first : start.line] + chunk[: max(1, min(count, len(chunk)))]
    count = _within_bytes(span)
    name = _name(chunk[0], start.character, symbol)
    return Slice(
        uri=location.uri,
        rel=rel,
        text="\n".join(span[:count]) + "\n",
        language=language,
        lines=(first, first + count),
        reason=f"definition the editor located for `{name}`" if name else _LOCATED,
        rank=rank,
        origin="editor",
    )


def _within_bytes(lines: list[str]) -> int:
    """How many of `lines` fit in MAX_SPAN_BYTES (at least one)."""
    size = 0
    for i, line in enumerate(lines):
        size += len(line.encode("utf-8", "replace")) + 1
        if size > MAX_SPAN_BYTES:
            return max(1, i)
    return len(lines)


def _name(first: str, character: int, symbol: Symbol | None) -> str:
    """What the span defines: the symbol starting there, else the word the location starts
    at, else the line's first word."""
    if symbol is not None:
        return symbol.name
    for match in _WORD.finditer(first):
        if match.start() <= character < match.end():
            return match.group()
    found = _WORD.search(first)
    return found.group() if found else ""


def outside_text(path: Path, max_size: int) -> str:
    """The text of a file outside the workspace (only a span of it will be sent), read as the
    index reads workspace files: secret files, non-files, large and binary files are refused
    by raising OutsideRefused with the reason."""
    name = path.name
    if not needs_head(name) and (secret := secret_file_reason(name)) is not None:
        raise OutsideRefused(secret)
    try:
        st = os.stat(path)
    except OSError:
        raise OutsideRefused("no such file") from None
    if not stat.S_ISREG(st.st_mode):
        raise OutsideRefused("not a file")
    if st.st_size > max_size:
        raise OutsideRefused("larger than maxFileSizeBytes")
    try:
        # Non-blocking and checked again on the opened file: swapped for a FIFO since the stat,
        # it is refused rather than waited on.
        data = read_limited(path, max_size)
    except UnreadableFile:
        raise OutsideRefused("not a file, or larger than maxFileSizeBytes") from None
    except OSError as exc:
        raise OutsideRefused(f"unreadable ({exc.strerror or 'error'})") from None
    if needs_head(name) and (secret := secret_file_reason(name, data[:HEAD_BYTES])) is not None:
        raise OutsideRefused(secret)
    if b"\0" in data[:BINARY_PROBE]:
        raise OutsideRefused("binary file")
    return data.decode("utf-8", "replace")


def _refused_text(name: str, text: str, max_size: int) -> str | None:
    """Why an open document outside the workspace may not be read for a span, or None."""
    secret = secret_file_reason(name, text[:HEAD_BYTES].encode("utf-8", "replace"))
    if secret is not None:
        return secret
    if "\0" in text[:BINARY_PROBE]:
        return "binary file"
    if len(text.encode("utf-8", "replace")) > max_size:
        return "larger than maxFileSizeBytes"
    return None


class OutsideRefused(Exception):
    """A file outside the workspace that may not be read; the message is the reason."""
