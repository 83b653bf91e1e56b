"""Document synchronisation: didOpen/didChange/didClose into the O(edit) document store, and
the edit history next-edit suggestions read."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ...documents import DocumentStore, Position, Range, TextChange, UnknownDocumentError
from ...errors import InvalidInputError
from .params import integer, obj, string

if TYPE_CHECKING:
    from ...predict.history import EditHistory
    from ..server import KimiServer

log = logging.getLogger(__name__)


def register(server: KimiServer) -> None:
    store = server.documents

    # These arrive on the raw fast path (no cattrs structuring: this is the typing path).
    @server.registry.notification(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: Any) -> None:
        item = obj(obj(params, "params").get("textDocument"), "textDocument")
        uri, text = string(item, "uri"), string(item, "text")
        version = integer(item, "version")
        language = item.get("languageId")
        language = language if isinstance(language, str) else ""
        store.open(uri, language, version, text)
        server.services.next_edits.forget(uri)
        server.document_events.opened(uri)

    @server.registry.notification(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: Any) -> None:
        params = obj(params, "params")
        identifier = obj(params.get("textDocument"), "textDocument")
        uri, version = string(identifier, "uri"), integer(identifier, "version")
        changes = params.get("contentChanges")
        if not isinstance(changes, list):
            raise InvalidInputError("didChange without a contentChanges list was ignored.")
        parsed = [_change(c) for c in changes]
        try:
            clamped = _apply(store, server.services.next_edits.recorder(), uri, version, parsed)
        except UnknownDocumentError:
            log.warning("didChange for %s, which is not open, was ignored.", uri)
            return
        if clamped:
            log.warning(
                "didChange for %s (version %s) had positions past the end; they were clamped.",
                uri,
                version,
            )
        server.document_events.changed(uri)

    @server.registry.notification(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: Any) -> None:
        identifier = obj(obj(params, "params").get("textDocument"), "textDocument")
        uri = string(identifier, "uri")
        store.close(uri)
        server.services.next_edits.forget(uri)
        server.document_events.closed(uri)

    @server.registry.notification(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: Any) -> None:
        identifier = obj(obj(params, "params").get("textDocument"), "textDocument")
        server.document_events.saved(string(identifier, "uri"))

    @server.registry.request("kimi/documentState")
    async def document_state(params: Any) -> dict[str, Any]:
        """What the server holds for a document (an addition to protocol.md, for debugging
        sync problems from a client)."""
        uri = string(obj(obj(params, "params").get("textDocument"), "textDocument"), "uri")
        document = store.get(uri)
        if document is None:
            raise InvalidInputError(f"{uri} is not open in the editor: open it first, then retry.")
        text = document.text
        return {
            "uri": uri,
            "version": document.version,
            "languageId": document.language_id,
            "lineCount": document.line_count,
            "encoding": str(store.encoding),
            "sha256": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
            "text": text,
        }


def _apply(
    store: DocumentStore,
    history: EditHistory | None,
    uri: str,
    version: int,
    changes: list[TextChange],
) -> bool:
    """Apply the changes (True if a position was clamped), recording each one's old text into
    the edit history first, change by change: each is read against the text the previous one
    left. O(size of the edits)."""
    if history is None:
        return store.change(uri, version, changes).clamped
    document = store.get(uri)
    if document is None:
        raise UnknownDocumentError(uri)
    if len(changes) == 1:  # typing
        history.record(document, changes[0])
        return store.change(uri, version, changes).clamped
    clamped = False
    for change in changes:
        history.record(document, change)
        clamped = store.change(uri, version, [change]).clamped or clamped
    return clamped


def _change(value: Any) -> TextChange:
    change = obj(value, "a content change")
    text = string(change, "text")
    raw_range = change.get("range")
    if raw_range is None:
        return TextChange(None, text)
    # Negative positions are clamped by the store (logged), not refused: typing must not stop.
    rng = obj(raw_range, "range")
    start, end = obj(rng.get("start"), "start"), obj(rng.get("end"), "end")
    return TextChange(
        Range(
            _loose_position(start),
            _loose_position(end),
        ),
        text,
    )


def _loose_position(p: dict[str, Any]) -> Position:
    return Position(integer(p, "line"), integer(p, "character"))
