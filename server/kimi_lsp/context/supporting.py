"""Supporting files: imports (used ones first), importers, open documents, related and nearby."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .slices import Slice

if TYPE_CHECKING:
    from .builder import ContextRequest, OpenDocument, Packer, Sources

MAX_IMPORTERS = 12
MAX_RELATED = 12
MAX_NEARBY = 200
# A supporting file goes whole when it is at most this share of the budget (or WHOLE_MIN_TOKENS
# tokens); a bigger import, importer or nearby file goes as its outline.
WHOLE_FILE_SHARE = 0.08
WHOLE_MIN_TOKENS = 512
OUTLINED_KINDS = frozenset({"import", "importer", "nearby"})
LISTED_KINDS = ("import", "importer")  # left out ones are named in the manifest's `excluded`


@dataclass(frozen=True, slots=True)
class _Chosen:
    kind: str
    rel: str
    title: str
    text: str
    reason: str
    language: str
    uri: str
    lines: tuple[int, int] | None  # a whole file's lines (an outline's are not the file's)


class Supporting:
    """Candidates in priority order: read, rendered and their counts started as far as they can
    plausibly fit (`fill`), then packed one by one in that order (`pack`); `left_out` names
    the imports and importers that did not fit."""

    def __init__(
        self,
        packer: Packer,
        request: ContextRequest,
        sources: Sources,
        budget: int,
        resolved: list[Slice] | None = None,
    ) -> None:
        self.packer = packer
        self.request = request
        self.sources = sources
        self.budget = budget
        current = request.current
        self.rel = current.rel if current else None
        self.seen: set[str] = {self.rel} if self.rel else set()
        self.chosen: list[_Chosen] = []
        self.estimate = 0
        self.whole_chars = 4 * max(WHOLE_MIN_TOKENS, int(budget * WHOLE_FILE_SHARE))
        self.used: dict[str, int] = {}
        self._found: list[str] | None = None  # the current file's imports, in statement order
        self._early = False  # filled before the definitions were known (prefetch)
        self._candidates: Iterator[tuple[str, str, str, OpenDocument | None]] = iter(())
        self._listing = False  # `left_out` reads on: the search for related files is not wanted
        if resolved is not None:
            self.order(resolved)

    def order(self, resolved: list[Slice]) -> None:
        """Modules whose definitions the cursor uses, best first: their imports go first."""
        for item in sorted(resolved, key=lambda s: s.rank):
            if item.rel is not None:
                self.used.setdefault(item.rel, len(self.used))
        if not self._early:
            self._candidates = self._candidates_in_order()
            return
        # Taken early in statement order: the same imports, put in the order `fill` takes them.
        imports = [c for c in self.chosen if c.kind == "import"]
        order = {rel: i for i, rel in enumerate(self._imports())}
        imports.sort(key=lambda c: order[c.rel])
        self.chosen = imports + [c for c in self.chosen if c.kind != "import"]

    def prefetch(self, room: int) -> bool:
        """Before the definitions are resolved: when every import surely fits `room` (their
        whole texts do), `fill` now, so the counting threads work while the definitions are
        resolved. The order of the imports, known then, cannot change which candidates `fill`
        takes; `order` sorts them. False (nothing done) when the imports may not all fit."""
        upper = 0
        for other in self._statement_order():
            text = self.sources.text(other)
            upper += len(text) // 4 if text is not None else 0
            if upper > room * 1.05:
                return False  # read a few texts at most: cached for later
        self._early = True
        self._candidates = self._candidates_in_order()  # no module is known used yet
        self.fill(room)
        return True

    def _statement_order(self) -> list[str]:
        current = self.request.current
        if current is None or self.rel is None:
            return []
        if self._found is None:
            self._found = self.sources.imports(self.rel, current.text, current.language)
        return self._found

    def _imports(self) -> list[str]:
        found = self._statement_order()
        order = {rel: i for i, rel in enumerate(found)}
        return sorted(found, key=lambda r: (self.used.get(r, len(self.used)), order[r]))

    def _candidates_in_order(self) -> Iterator[tuple[str, str, str, OpenDocument | None]]:
        request, sources, rel = self.request, self.sources, self.rel
        for other in self._imports():
            yield "import", other, f"imported by {rel}", None
        if rel is not None:
            for other in sources.importers(rel)[:MAX_IMPORTERS]:
                yield "importer", other, f"imports {rel}", None
        for doc in request.recent:
            yield "recent", doc.rel or doc.uri, "recently used open document", doc
        query = query_text(request)
        if query and not self._listing:  # the CLI builds its search index on the first ask
            for other, score in sources.related(query, MAX_RELATED, self.seen):
                reason = f"shares rare identifiers with the selection (score {score:.1f})"
                yield "related", other, reason, None
        for other in sources.nearby(rel)[:MAX_NEARBY]:
            yield "nearby", other, "in the same directory", None

    def fill(self, room: int) -> None:
        """Take candidates until their estimated tokens pass `room` (the generator resumes
        where it stopped when there is more room later)."""
        while self.estimate <= room * 1.05:
            item = next(self._candidates, None)
            if item is None:
                return
            kind, other, reason, doc = item
            if other in self.seen:
                continue
            self.seen.add(other)
            chosen = self._choose(kind, other, reason, doc)
            if chosen is None:
                continue
            self.chosen.append(chosen)
            packer = self.packer
            packer.start(packer.render(chosen.title, chosen.text, chosen.language)[2])
            self.estimate += len(chosen.text) // 4

    def _choose(
        self, kind: str, other: str, reason: str, doc: OpenDocument | None
    ) -> _Chosen | None:
        if doc is not None:
            title = f"Open file: {other}"
            whole = _lines(doc.text)
            return _Chosen(kind, other, title, doc.text, reason, doc.language, doc.uri, whole)
        text = self.sources.text(other)
        if text is None:
            return None
        language, uri = self.sources.language(other), self.sources.uri(other)
        if kind in OUTLINED_KINDS and len(text) > self.whole_chars:
            outline = self.sources.outline(other, text, language)
            if outline:
                lines = text.count("\n") + 1
                why = f"{reason}; its outline ({lines} lines are too many to send whole)"
                title = f"Outline of {other}"
                return _Chosen(kind, other, title, outline, why, language, uri, None)
        # Its lines are counted now, while the counting threads work (not when packing, the
        # plan's serial tail once the last count is in).
        return _Chosen(kind, other, f"File: {other}", text, reason, language, uri, _lines(text))

    def pack(self, cap: int) -> None:
        packer = self.packer
        for item in self.chosen:
            if packer.remaining < 64:
                break
            packer.add(
                item.kind, item.title, item.text, item.reason,
                language=item.language, uri=item.uri, lines=item.lines, cap=cap,
            )  # fmt: skip

    def left_out(self) -> None:
        """Name the imports and importers that were not packed at all, and why."""
        packer = self.packer
        reason = f"left out: did not fit the {self.budget}-token budget"
        skipped = {uri for uri, _ in packer.skipped}
        for item in self.chosen:
            if item.kind in LISTED_KINDS and item.uri not in packer.used | skipped:
                packer.skipped.append((item.uri, reason))
        self._listing = True
        for kind, other, _, _ in self._candidates:
            if kind not in LISTED_KINDS:
                break
            if other not in self.seen:
                self.seen.add(other)
                packer.skipped.append((self.sources.uri(other), reason))


def _lines(text: str) -> tuple[int, int]:
    return 0, text.count("\n") + 1


def query_text(request: ContextRequest) -> str:
    current = request.current
    if current is None:
        return request.instruction
    if request.selection is not None and request.selection[0] != request.selection[1]:
        start, end = sorted(request.selection)
        return current.text[start:end] + "\n" + request.instruction
    lines = current.text.splitlines()
    center = request.cursor_line or 0
    return "\n".join(lines[max(0, center - 30) : center + 30]) + "\n" + request.instruction
