"""Confinement of tool paths to the workspace: no `..`, no absolute paths, symlinks or secrets."""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from pathlib import Path
from typing import Protocol

from ..context.workspace import FileEntry, WorkspaceIndex
from ..protected_paths import git_reason
from ..secrets.files import needs_head, secret_file_reason
from .overlay import Overlay

NO_SUCH_FILE = "no such file"
_DRIVE = re.compile(r"^[A-Za-z]:")


class EngineLike(Protocol):
    """What the agent needs of `ContextEngine`: the index and rel <-> path mapping."""

    index: WorkspaceIndex

    def path_of(self, rel: str) -> Path | None: ...

    def entry_rel(self, entry: FileEntry) -> str: ...


class Refused(Exception):
    """A path the model may not use; `str()` is the sentence sent back to the model."""


def normalize(raw: str) -> str:
    """The workspace-relative posix form of a path the model gave, or `Refused`."""
    text = raw.strip()
    if not text:
        raise Refused("the path is empty")
    if "\x00" in text or "\\" in text:
        raise Refused("use a plain workspace-relative path with forward slashes")
    if text.startswith(("/", "~")) or _DRIVE.match(text):
        raise Refused(
            "absolute paths are not allowed: use a path relative to the workspace root "
            "(e.g. src/app.py)"
        )
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise Refused("'..' is not allowed: every path stays inside the workspace")
    if not parts:
        raise Refused("that is the workspace root, not a file")
    return "/".join(parts)


class Confinement:
    """Resolves the model's paths and decides what may be read, edited or created."""

    def __init__(self, engine: EngineLike, edit_scope: Collection[str] | None = None) -> None:
        self.engine = engine
        self.edit_scope = None if edit_scope is None else frozenset(edit_scope)

    def resolve(self, raw: str) -> tuple[str, Path]:
        """(rel, absolute path) inside the workspace, its real path included."""
        rel = normalize(raw)
        path = self.engine.path_of(rel)
        if path is None:
            raise Refused(f"{rel} is not under a workspace root")
        real = os.path.realpath(path)
        roots = [os.fspath(root) for root in self.engine.index.roots]
        if not any(real == root or real.startswith(root + os.sep) for root in roots):
            raise Refused(f"{rel} leads outside the workspace (symlink); it cannot be used")
        # git runs what its directory says (hooks, config's fsmonitor): the agent neither
        # reads nor writes there, by any spelling or symlink (issue 16, finding 3).
        for root in roots:
            reason = git_reason(root, os.fspath(path))
            if reason is not None:
                raise Refused(f"{rel} cannot be used: {reason}; the agent never touches git's data")
        return rel, path

    def readable(self, raw: str, overlay: Overlay) -> tuple[str, str]:
        """(rel, current text) of a file the model may read."""
        rel, path = self.resolve(raw)
        secret = None if needs_head(rel) else secret_file_reason(rel)  # those: the index decides
        if secret:
            raise Refused(f"{rel} is a {secret} and is never read")
        reason = self.engine.index.check(path)
        if reason is None or reason == NO_SUCH_FILE:
            text = overlay.read(rel)
            if text is not None:
                return rel, text
            reason = reason or "unreadable"
        if reason == NO_SUCH_FILE:
            raise Refused(f"no such file: {rel} (use list_files or search to find files)")
        if reason == "not a file" and path.is_dir():
            raise Refused(f"{rel} is a directory: use list_files with glob '{rel}/**'")
        raise Refused(f"{rel} cannot be used: {reason}")

    def editable(self, raw: str, overlay: Overlay) -> tuple[str, str]:
        """(rel, current text) of a file the model may edit: readable, in scope, read first."""
        rel, text = self.readable(raw, overlay)
        self._in_scope(rel)
        if not overlay.was_read(rel):
            raise Refused(f"read {rel} with read_file before editing it")
        return rel, text

    def creatable(self, raw: str, overlay: Overlay) -> str:
        """The rel of a new file the model may create."""
        rel, path = self.resolve(raw)
        self._in_scope(rel)
        secret = secret_file_reason(rel)
        if secret:
            raise Refused(f"{rel} would be a {secret}; secret files are never written")
        if os.path.lexists(path) or overlay.exists(rel):
            raise Refused(f"{rel} already exists: read it and use replace_in_file")
        for parent in path.parents:
            if os.fspath(parent) in (os.fspath(r) for r in self.engine.index.roots):
                break
            if os.path.lexists(parent) and not parent.is_dir():
                raise Refused(f"{rel} cannot be created: a parent is a file")
        reason = self.engine.index.check(path)
        if reason not in (None, NO_SUCH_FILE):
            raise Refused(f"{rel} cannot be created: {reason}")
        return rel

    def _in_scope(self, rel: str) -> None:
        if self.edit_scope is not None and rel not in self.edit_scope:
            allowed = ", ".join(sorted(self.edit_scope)) or "no file"
            raise Refused(
                f"{rel} is outside this task: you may edit only {allowed} (read others freely)"
            )
