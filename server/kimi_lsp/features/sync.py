"""Document synchronisation: didOpen/didChange/didClose into the O(edit) document store."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..documents import Position, Range, TextChange, UnknownDocumentError
from ..errors import InvalidInputError

if TYPE_CHECKING:
    from ..server import KimiServer

log = logging.getLogger(__name__)


def register(server: KimiServer) -> None:
    store = server.documents

    # These arrive on the raw fast path (no cattrs structuring: this is the typing path).
    @server.dispatcher.notification(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: Any) -> None:
        item = _object(_object(params, "params").get("textDocument"), "textDocument")
        uri, text = _string(item, "uri"), _string(item, "text")
        version = _integer(item, "version")
        language = item.get("languageId")
        language = language if isinstance(language, str) else ""
        store.open(uri, language, version, text)
        server.document_events.opened(uri)

    @server.dispatcher.notification(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: Any) -> None:
        params = _object(params, "params")
        identifier = _object(params.get("textDocument"), "textDocument")
        uri, version = _string(identifier, "uri"), _integer(identifier, "version")
        changes = params.get("contentChanges")
        if not isinstance(changes, list):
            raise InvalidInputError("didChange without a contentChanges list was ignored.")
        try:
            result = store.change(uri, version, [_change(c) for c in changes])
        except UnknownDocumentError:
            log.warning("didChange for %s, which is not open, was ignored.", uri)
            return
        if result.clamped:
            log.warning(
                "didChange for %s (version %s) had positions past the end; they were clamped.",
                uri,
                version,
            )
        server.document_events.changed(uri)

    @server.dispatcher.notification(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: Any) -> None:
        identifier = _object(_object(params, "params").get("textDocument"), "textDocument")
        uri = _string(identifier, "uri")
        store.close(uri)
        server.document_events.closed(uri)

    @server.dispatcher.notification(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: Any) -> None:
        identifier = _object(_object(params, "params").get("textDocument"), "textDocument")
        server.document_events.saved(_string(identifier, "uri"))

    @server.dispatcher.request("kimi/documentState")
    async def document_state(params: Any) -> dict[str, Any]:
        """What the server holds for a document (an addition to protocol.md, for debugging
        sync problems from a client)."""
        uri = _string(_object(_object(params, "params").get("textDocument"), "textDocument"), "uri")
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

    # Registered with pygls as well so the capabilities advertise open/close/save sync;
    # messages normally never reach these (the dispatcher answers first).
    for method, handler in (
        (types.TEXT_DOCUMENT_DID_OPEN, did_open),
        (types.TEXT_DOCUMENT_DID_CHANGE, did_change),
        (types.TEXT_DOCUMENT_DID_CLOSE, did_close),
        (types.TEXT_DOCUMENT_DID_SAVE, did_save),
    ):
        server.feature(method)(_structured(server, handler))


def _structured(server: KimiServer, handler: Any) -> Any:
    def forward(params: Any) -> None:
        handler(server.protocol._converter.unstructure(params))

    return forward


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInputError(f"Expected {name} to be an object.")
    return value


def _string(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise InvalidInputError(f"Expected {key} to be a string.")
    return value


def _integer(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"Expected {key} to be an integer.")
    return value


def _position(value: Any, name: str) -> Position:
    obj = _object(value, name)
    return Position(_integer(obj, "line"), _integer(obj, "character"))


def _change(value: Any) -> TextChange:
    obj = _object(value, "a content change")
    text = _string(obj, "text")
    raw_range = obj.get("range")
    if raw_range is None:
        return TextChange(None, text)
    rng = _object(raw_range, "range")
    return TextChange(
        Range(_position(rng.get("start"), "start"), _position(rng.get("end"), "end")), text
    )
