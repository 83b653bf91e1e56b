"""Fan-out of document lifecycle events (open/change/close/save) to interested features."""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

log = logging.getLogger(__name__)

Listener = Callable[[str], None]


class DocumentEvent(StrEnum):
    OPENED = "opened"
    CHANGED = "changed"
    CLOSED = "closed"
    SAVED = "saved"


class DocumentEvents:
    """Calls listeners with the document's URI; one listener's failure never stops another."""

    def __init__(self) -> None:
        self._listeners: dict[DocumentEvent, list[Listener]] = {e: [] for e in DocumentEvent}

    def subscribe(self, event: DocumentEvent, listener: Listener) -> None:
        self._listeners[event].append(listener)

    def _emit(self, event: DocumentEvent, uri: str) -> None:
        for listener in self._listeners[event]:
            try:
                listener(uri)
            except Exception:
                log.exception("A %s listener failed for %s", event, uri)

    def opened(self, uri: str) -> None:
        self._emit(DocumentEvent.OPENED, uri)

    def changed(self, uri: str) -> None:
        self._emit(DocumentEvent.CHANGED, uri)

    def closed(self, uri: str) -> None:
        self._emit(DocumentEvent.CLOSED, uri)

    def saved(self, uri: str) -> None:
        self._emit(DocumentEvent.SAVED, uri)
