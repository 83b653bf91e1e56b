"""An in-memory overlay of file edits over the workspace: the agent's edits never touch disk."""

from __future__ import annotations

import threading
from collections.abc import Callable

Change = tuple[str | None, str]
"""(original text or None for a created file, new text)."""


class Overlay:
    """Edited and created files keyed by workspace-relative posix path, over `read_base`.

    `read_base(rel)` gives a file's current text (an open document's buffer or the file on disk)
    or None when it does not exist or may not be read; the caller checks confinement first.
    The original text is captured on the first write, so `changed()` diffs against what the
    edit was based on. Thread-safe (tools run in worker threads)."""

    def __init__(self, read_base: Callable[[str], str | None]) -> None:
        self._read_base = read_base
        self._texts: dict[str, str] = {}
        self._originals: dict[str, str | None] = {}
        self._read: set[str] = set()
        self._lock = threading.Lock()

    def read(self, rel: str) -> str | None:
        """The file's text with the overlay's edits, or None when it does not exist."""
        with self._lock:
            if rel in self._texts:
                return self._texts[rel]
        return self._read_base(rel)

    def exists(self, rel: str) -> bool:
        return self.read(rel) is not None

    def write(self, rel: str, text: str) -> None:
        """Replace an existing file's text (FileNotFoundError when it does not exist)."""
        with self._lock:
            if rel in self._texts:
                self._texts[rel] = text
                return
        base = self._read_base(rel)
        if base is None:
            raise FileNotFoundError(rel)
        with self._lock:
            self._originals.setdefault(rel, base)
            self._texts[rel] = text

    def create(self, rel: str, text: str) -> None:
        """Create a new file (FileExistsError when it exists on disk or in the overlay)."""
        if self._read_base(rel) is not None:
            raise FileExistsError(rel)
        with self._lock:
            if rel in self._texts:
                raise FileExistsError(rel)
            self._originals[rel] = None
            self._texts[rel] = text
            self._read.add(rel)

    def was_read(self, rel: str) -> bool:
        with self._lock:
            return rel in self._read

    def mark_read(self, rel: str) -> None:
        with self._lock:
            self._read.add(rel)

    def created(self) -> list[str]:
        """Files created in the overlay, sorted."""
        with self._lock:
            return sorted(rel for rel, old in self._originals.items() if old is None)

    def changed(self) -> dict[str, Change]:
        """Every file whose text differs from its original (created files always), sorted."""
        with self._lock:
            return {
                rel: (self._originals[rel], text)
                for rel, text in sorted(self._texts.items())
                if self._originals[rel] != text
            }
