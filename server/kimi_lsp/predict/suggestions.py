"""Recent ghost-text suggestions per document, answering typing-through without the model."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

PER_DOCUMENT = 8  # recent suggestions kept per document (backspacing finds older ones)
DOCUMENTS = 32  # documents with suggestions kept, least recently used dropped first

LineAt = Callable[[int], str]  # a document's line content (no terminator), "" past the end


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggestion and the document around where it was made.

    `line`/`before`/`rest`: the cursor line, its text before and after the cursor then;
    `line_count`, `above`, `below`: the document's line count and the lines around the cursor
    line then, checked so that an edit elsewhere near it does not pass for typing."""

    text: str
    replace_rest: bool
    line: int
    before: str
    rest: str
    line_count: int
    above: str
    below: str


@dataclass(frozen=True, slots=True)
class Hit:
    """The rest of a suggestion after what the user typed (`typed` empty: not typed into)."""

    suggestion: Suggestion
    typed: str
    text: str


def typed_since(
    s: Suggestion, line_at: LineAt, line_count: int, line: int, index: int
) -> str | None:
    """What the user typed at the suggestion's place to bring the cursor to (`line`, `index`),
    when the document differs from the suggestion's only by that; else None."""
    if line < s.line or line_count != s.line_count + (line - s.line):
        return None
    if s.line > 0 and line_at(s.line - 1) != s.above:
        return None
    first = line_at(s.line)
    if not first.startswith(s.before):
        return None
    last = first if line == s.line else line_at(line)
    if index < (len(s.before) if line == s.line else 0) or last[index:] != s.rest:
        return None
    if line_at(line + 1) != s.below:
        return None
    if line == s.line:
        return first[len(s.before) : index]
    middle = [line_at(i) for i in range(s.line + 1, line)]
    return "\n".join([first[len(s.before) :], *middle, last[:index]])


class SuggestionCache:
    """The last suggestions of each document, most recent first."""

    def __init__(self) -> None:
        self._docs: OrderedDict[str, list[Suggestion]] = OrderedDict()

    def add(self, uri: str, suggestion: Suggestion) -> None:
        kept = [s for s in self._docs.pop(uri, []) if s != suggestion]
        self._docs[uri] = [suggestion, *kept][:PER_DOCUMENT]
        while len(self._docs) > DOCUMENTS:
            self._docs.popitem(last=False)

    def find(self, uri: str, line_at: LineAt, line_count: int, line: int, index: int) -> Hit | None:
        """The most recent suggestion the cursor is inside of (typed through, or back at its
        start), with what is left of it; it becomes the most recent."""
        entries = self._docs.get(uri)
        if not entries:
            return None
        for i, s in enumerate(entries):
            typed = typed_since(s, line_at, line_count, line, index)
            if typed is None or not s.text.startswith(typed) or typed == s.text:
                continue
            if i:
                entries.insert(0, entries.pop(i))
            self._docs.move_to_end(uri)
            return Hit(s, typed, s.text[len(typed) :])
        return None

    def forget(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._docs.values())
