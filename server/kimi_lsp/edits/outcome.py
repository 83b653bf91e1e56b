"""Codes for an edit that was not applied or was dropped: what clients switch on, not the text."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FORGOTTEN", "EditCode"]


class EditCode(StrEnum):
    """The `code` of kimi/acceptEdit, kimi/rejectEdit and kimi/inlineEdit results that were not
    applied, and of kimi/editDropped; the `reason` beside it is the sentence for the user."""

    # The server does not hold this edit: unknown id, accepted, rejected or dropped.
    NOT_PENDING = "not_pending"
    # The server held it, but it was kept too long (or too many newer proposals replaced it).
    EXPIRED = "expired"
    # Its document was closed, which forgets the document's proposals.
    DOCUMENT_CLOSED = "document_closed"
    # Every hunk asked for was accepted already.
    ALREADY_ACCEPTED = "already_accepted"
    # The user's typing overlaps the proposal and rebase refused it (errors carry it as
    # `data.kind`, the same value).
    STALE_DOCUMENT = "stale_document"
    # The proposal changes nothing.
    NO_CHANGE = "no_change"
    # The editor answered workspace/applyEdit with applied=false.
    CLIENT_REFUSED = "client_refused"
    # kimi/editDropped: the user changed the proposal's lines.
    USER_EDITED = "user_edited"


# The codes that mean "the server no longer holds this edit": a client ends its review.
FORGOTTEN = frozenset({EditCode.NOT_PENDING, EditCode.EXPIRED, EditCode.DOCUMENT_CLOSED})
