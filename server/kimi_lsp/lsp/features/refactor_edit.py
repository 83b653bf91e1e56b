"""A refactor's changes as one WorkspaceEdit, each file's edit on the text that file has now."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ...context.file_texts import decode, read_bytes
from ...documents import TextDocument
from ...edits.diff import Hunk, compute_hunks
from ...edits.on_disk import DiskBase, digest_of, onto_disk
from ...edits.rebase import rebase
from ...errors import StaleDocumentError
from ...protected_paths import config_kind_of, git_reason
from .apply import to_lsp_edits

if TYPE_CHECKING:
    from ..server import KimiServer

ANNOTATION = "kimiRefactor"
_SURROGATE = re.compile("[\ud800-\udfff]")
CONFIG_ANNOTATION = "kimiRefactorConfig"
CONFIG_LABEL = "Kimi refactor: editor or CI configuration"
CONFIG_DESCRIPTION = (
    "Editor and CI configuration can run commands (tasks, hooks, workflows, project scripts): "
    "review these changes before applying them."
)
MAX_REREAD_BYTES = 64 * 1024 * 1024  # a file larger than this is refused, not re-read whole
# A created file must not replace one that appeared meanwhile (Neovim truncated it).
CREATE_OPTIONS = types.CreateFileOptions(overwrite=False, ignore_if_exists=False)


@dataclass(slots=True)
class RefactorEdit:
    """The edit, its files (URIs, sorted), `bases` (URI -> sha256 of the text the file's edit
    was computed from, None for a created file) and the files refused, as (rel, reason)."""

    edit: types.WorkspaceEdit
    files: list[str]
    bases: dict[str, str | None]
    refused: list[tuple[str, str]] = field(default_factory=list)
    config: list[tuple[str, str]] = field(default_factory=list)  # (rel, what configuration)


def _utf8(text: str) -> bytes:
    """The text's UTF-8 bytes as an editor's encoder makes them: a lone surrogate (in a
    Python str every surrogate is lone) becomes U+FFFD, as the WHATWG encoder does."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def reread(path: Path) -> tuple[bytes | None, str | None]:
    """The file's bytes on disk now (through a symlink to its target) and their text."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return None, None
    raw = read_bytes(os.fspath(path), size, MAX_REREAD_BYTES)
    return raw, None if raw is None else decode(raw)


class EditBuilder:
    """Builds the WorkspaceEdit: open documents' edits rebased onto the user's typing,
    other files' edits onto their bytes on disk re-read now (finding 6 of issue 16)."""

    def __init__(self, server: KimiServer, instruction: str) -> None:
        self.server = server
        self.instruction = instruction
        self.encoding = server.documents.encoding
        self.document_changes: list[Any] = []
        self.plain: dict[str, list[types.TextEdit]] = {}
        self.result = RefactorEdit(types.WorkspaceEdit(), [], {})
        self.annotation = ANNOTATION

    def build(self, changes: dict[str, tuple[str | None, str]]) -> RefactorEdit:
        engine = self.server.services.context.engine
        for rel in sorted(changes):
            original, new = changes[rel]
            path = engine.path_of(rel)
            if path is None or not self._allowed(rel, path):
                continue
            if original is None:
                self._created(rel, path, new)
            else:
                self._changed(rel, path, original, new)
        self.result.edit = self._edit()
        return self.result

    def _allowed(self, rel: str, path: Path) -> bool:
        """Refuses a path into git's data (a symlink may have appeared since the agent's
        check); notes editor and CI configuration, whose edits get their own annotation."""
        root = self.server.services.context.engine.index.root_of(path)
        if root is None:
            self.result.refused.append((rel, f"{rel} is outside the workspace: not changed"))
            return False
        reason = git_reason(os.fspath(root), os.fspath(path))
        if reason is not None:
            self.result.refused.append((rel, f"{rel} was not changed: {reason}"))
            return False
        kind = config_kind_of(os.fspath(root), os.fspath(path), rel)
        if kind is not None:
            self.result.config.append((rel, kind))
        self.annotation = ANNOTATION if kind is None else CONFIG_ANNOTATION
        return True

    def _created(self, rel: str, path: Path, new: str) -> None:
        uri = path.as_uri()
        if os.path.lexists(path):
            self.result.refused.append(
                (rel, f"{rel} appeared on disk while the refactor ran: not created")
            )
            return
        self.document_changes.append(
            types.CreateFile(uri=uri, options=CREATE_OPTIONS, annotation_id=self.annotation)
        )
        self._add(uri, None, "", compute_hunks("", new), None)

    def _changed(self, rel: str, path: Path, original: str, new: str) -> None:
        uri = path.as_uri()
        hunks = compute_hunks(original, new)
        open_document = self.server.documents.get(uri)
        if open_document is None:
            raw, current = reread(path)
            moved = onto_disk(rel, original, hunks, raw, current)
            if isinstance(moved, DiskBase):
                self._add(uri, None, moved.text, moved.hunks, moved.digest)
            else:
                self.result.refused.append((rel, moved))
            return
        base_text = open_document.text
        if base_text != original:
            rebased = rebase(original, base_text, hunks)
            if rebased.refused:
                raise StaleDocumentError(
                    f"You edited {rel} where the refactor changes it, so nothing was "
                    "applied; run the refactor again."
                )
            hunks = rebased.hunks
        digest = digest_of(_utf8(base_text))
        self._add(uri, open_document.version, base_text, hunks, digest)

    def _add(
        self, uri: str, version: int | None, base_text: str, hunks: list[Hunk], digest: str | None
    ) -> None:
        base = TextDocument(uri, "", version or 0, base_text, self.encoding)
        edits = to_lsp_edits(base, hunks)
        annotated = [
            types.AnnotatedTextEdit(
                range=e.range, new_text=e.new_text, annotation_id=self.annotation
            )
            for e in edits
        ]
        self.document_changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=version
                ),
                edits=list(annotated),
            )
        )
        self.plain[uri] = edits
        self.result.files.append(uri)
        self.result.bases[uri] = digest

    def _edit(self) -> types.WorkspaceEdit:
        """documentChanges with the annotation when the client takes them, else plain changes."""
        annotation = types.ChangeAnnotation(
            label="Kimi refactor",
            needs_confirmation=True,
            description=self.instruction[:200],
        )
        annotations = {ANNOTATION: annotation}
        if self.result.config:
            annotations[CONFIG_ANNOTATION] = types.ChangeAnnotation(
                label=CONFIG_LABEL, needs_confirmation=True, description=CONFIG_DESCRIPTION
            )
        if self.server.client.document_changes:
            return types.WorkspaceEdit(
                document_changes=self.document_changes, change_annotations=annotations
            )
        return types.WorkspaceEdit(changes=self.plain)
