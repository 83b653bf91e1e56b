"""Whether an open document other than the focus may enter a prompt: the rules of files on disk."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..secrets.files import secret_file_reason
from .workspace import BINARY, LARGE

if TYPE_CHECKING:
    from .engine import ContextEngine

UNTITLED = "untitled buffer"
OUTSIDE = "outside the workspace"
HEAD_CHARS = 4_096  # of the editor's text, for secret files recognised by content (.npmrc)
BINARY_PROBE = 8_192
# What the index says about the file on disk rather than about its path: an open document's
# text is the editor's, so these are judged on that text instead (a buffer never saved has no
# file; a file may be large on disk and small in the editor).
_DISK_STATE = frozenset({"no such file", "not a file", BINARY, LARGE})


def open_document_reason(engine: ContextEngine, uri: str, text: str, max_size: int) -> str | None:
    """Why the open document `uri` (holding `text`) may not enter a prompt as anything but the
    focus, or None when it may: the checks a file on disk passes (inside a workspace folder,
    not ignored by .gitignore, .kimiignore or `exclude`, not a secret file by name or by
    content, not binary, at most `max_size` bytes); a buffer that is not a file (`untitled:`
    and any other scheme) never, as the focus is the only place the user chose it for.

    The focus itself is the user's explicit choice and is decided by the caller (today: sent
    unless it is a secret file, whatever the ignore rules say)."""
    from .engine import uri_to_path  # the engine module loads with the first request

    path = uri_to_path(uri)
    if path is None:
        scheme = uri.split(":", 1)[0] if ":" in uri else "unknown"
        return UNTITLED if scheme == "untitled" else f"{scheme}: buffer (not a file)"
    if not engine.index.contains(path):
        return OUTSIDE
    reason = engine.index.check(path)
    if reason is not None and reason not in _DISK_STATE:
        # A name secret only with a token in it (.npmrc) is refused here when its disk copy
        # has one or there is none yet (the index cannot tell): the safe side.
        return reason
    rel = engine.rel(path) or path.name
    secret = secret_file_reason(rel, text[:HEAD_CHARS].encode("utf-8", "replace"))
    if secret is not None:
        return secret
    if "\0" in text[:BINARY_PROBE]:
        return BINARY
    if len(text) > max_size or len(text.encode("utf-8", "replace")) > max_size:
        return LARGE
    return None
