"""Each file's stable context for ghost text, built off the request path, kept while its imports
stay the same."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ..documents import TextDocument

log = logging.getLogger(__name__)

SCAN_LINES = 400  # imports are looked for in the file's first lines only (cheap per request)
REFRESH_SECONDS = 10.0  # at most one rebuild per file this often (typing an import line)
IMPORT_STARTS = (
    *("import ", "from ", "#include", "#import", "use ", "using ", "require ", "require("),
    *("package ", "extern crate", "@import", "library ", "load("),
)

Compute = Callable[[str, TextDocument], Awaitable[str]]
Spawn = Callable[[Coroutine[Any, Any, None]], Any]


def import_signature(doc: TextDocument) -> int:
    """A hash of the lines that look like imports among the first SCAN_LINES lines."""
    found = []
    for i in range(min(SCAN_LINES, doc.line_count)):
        text = doc.line(i).lstrip()
        if text.startswith(IMPORT_STARTS) or "require(" in text:
            found.append(text)
    return hash(tuple(found))


@dataclass(slots=True)
class _Entry:
    signature: int | None  # None: never built
    version: int
    block: str = ""
    built_at: float = float("-inf")
    building: bool = False
    task: Any = None  # the build in flight (what `spawn` returned)


class StableContext:
    """The block of project context ghost-text prompts carry for a file, right after the system
    prompt (so consecutive prompts share it): `get` returns what is ready (empty at first) and
    starts a rebuild in the background when the file's imports changed."""

    def __init__(
        self, compute: Compute, spawn: Spawn, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._compute = compute
        self._spawn = spawn
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def get(self, uri: str, doc: TextDocument) -> str:
        entry = self._entries.get(uri)
        if entry is not None and entry.version == doc.version:
            return entry.block
        signature = import_signature(doc)
        if entry is None:
            entry = self._entries[uri] = _Entry(None, doc.version)
        entry.version = doc.version
        due = self._clock() - entry.built_at >= REFRESH_SECONDS
        if entry.signature != signature and not entry.building and due:
            entry.building = True
            entry.task = self._spawn(self._build(uri, doc, entry, signature))
        return entry.block

    async def settled(self, uri: str, doc: TextDocument) -> str:
        """The block once the build that `get` starts (if any) has finished: for callers who
        want to see what predictions send (never on the typing path)."""
        self.get(uri, doc)
        entry = self._entries[uri]
        if entry.building and isinstance(entry.task, asyncio.Future):
            await asyncio.shield(entry.task)
        return entry.block

    async def _build(self, uri: str, doc: TextDocument, entry: _Entry, signature: int) -> None:
        try:
            entry.block = await self._compute(uri, doc)
            entry.signature = signature
        except Exception as exc:  # a failed build leaves the old block; tried again later
            log.info("Ghost text: the context of %s could not be built (%s)", uri, exc)
        finally:
            entry.building = False
            entry.built_at = self._clock()

    def forget(self, uri: str) -> None:
        self._entries.pop(uri, None)

    def ready(self, uri: str) -> bool:
        entry = self._entries.get(uri)
        return entry is not None and entry.built_at > float("-inf") and not entry.building
