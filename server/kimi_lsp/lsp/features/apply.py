"""Landing hunks in the editor: rebase onto what the user typed, then one workspace/applyEdit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ...documents import TextDocument
from ...edits.diff import Hunk, apply_hunks
from ...edits.outcome import EditCode
from ...edits.rebase import rebase
from ...edits.validate import edit_breaks
from ...errors import ErrorKind, RequestFailedError, StaleDocumentError

if TYPE_CHECKING:
    from ..server import KimiServer

log = logging.getLogger(__name__)


def to_lsp_edits(document: TextDocument, hunks: Sequence[Hunk]) -> list[types.TextEdit]:
    """Hunks (offsets into `document.text`) as TextEdits in the negotiated encoding."""
    edits = []
    for hunk in hunks:
        start = document.position_at(hunk.start)
        end = document.position_at(hunk.end)
        edits.append(
            types.TextEdit(
                range=types.Range(
                    start=types.Position(line=start.line, character=start.character),
                    end=types.Position(line=end.line, character=end.character),
                ),
                new_text=hunk.text,
            )
        )
    return edits


def edits_to_wire(edits: Sequence[types.TextEdit]) -> list[dict[str, Any]]:
    return [
        {
            "range": {
                "start": {"line": e.range.start.line, "character": e.range.start.character},
                "end": {"line": e.range.end.line, "character": e.range.end.character},
            },
            "newText": e.new_text,
        }
        for e in edits
    ]


@dataclass(frozen=True, slots=True)
class Applied:
    applied: bool
    version: int
    reason: str | None = None
    # Why it was not applied, for clients to switch on (None when applied).
    code: EditCode | None = None


def rebased_hunks(
    server: KimiServer, uri: str, snapshot: str, hunks: Sequence[Hunk]
) -> tuple[TextDocument, list[Hunk]]:
    """The hunks moved onto the document as it is now; refuse if they meet the user's typing."""
    document = server.documents.get(uri)
    if document is None:
        raise StaleDocumentError(f"{uri} was closed while Kimi was working; nothing was applied.")
    current = document.text
    if current == snapshot:
        return document, list(hunks)
    result = rebase(snapshot, current, hunks)
    if result.refused:
        raise StaleDocumentError(
            "You edited the same lines while Kimi was writing, so nothing was applied "
            "(your typing is untouched). Run the edit again to include your changes."
        )
    return document, result.hunks


async def apply_hunks_to_document(
    server: KimiServer, uri: str, snapshot: str, hunks: Sequence[Hunk], label: str
) -> Applied:
    """Rebase, validate and send one workspace/applyEdit (one undo step)."""
    document, moved = rebased_hunks(server, uri, snapshot, hunks)
    if not moved:
        return Applied(
            False, document.version, "the proposal does not change anything", EditCode.NO_CHANGE
        )
    new_text = apply_hunks(document.text, moved)
    broken = edit_breaks(document.language_id, document.text, new_text)
    if broken is not None:
        raise RequestFailedError(ErrorKind.BAD_RESPONSE, f"Not applied: {broken}.")
    edits = to_lsp_edits(document, moved)
    version = document.version
    if server.client.document_changes:
        edit = types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=version
                    ),
                    edits=list(edits),
                )
            ]
        )
    else:
        # No client-side version check (e.g. Neovim): the check above ran on this same turn
        # of the event loop, so no didChange can have been applied in between.
        edit = types.WorkspaceEdit(changes={uri: list(edits)})
    response = await server.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=label)
    )
    if not response.applied:
        reason = response.failure_reason or "the editor refused the edit"
        log.info("%s was not applied: %s", label, reason)
        return Applied(False, version, reason, EditCode.CLIENT_REFUSED)
    return Applied(True, version)
