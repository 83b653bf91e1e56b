"""A scripted editor for the concurrent-typing trials: its own copy of the text, versioned
didChange for every keystroke, and a workspace/applyEdit handler that behaves like VS Code's."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .wire import RawServer

Edit = tuple[int, int, str]  # (start, end, text) as offsets into the text it applies to


def offset(text: str, line: int, character: int) -> int:
    """Offset of an LSP position in an ASCII text with "\\n" line breaks."""
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    return starts[line] + character


def position(text: str, at: int) -> dict[str, int]:
    before = text[:at]
    line = before.count("\n")
    return {"line": line, "character": at - (before.rfind("\n") + 1)}


def apply(text: str, edit: Edit) -> str:
    start, end, new = edit
    return text[:start] + new + text[end:]


@dataclass
class Editor:
    """One open document as the client sees it; every change is sent at once."""

    server: RawServer
    uri: str
    text: str
    version: int = 1
    texts: dict[int, str] = field(default_factory=dict)
    user_edits: list[tuple[int, Edit]] = field(default_factory=list)  # (version after, edit)
    applied_edits: list[list[Edit]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    on_apply: Callable[[], None] | None = None  # typing "while the edit arrives"
    lock: threading.RLock = field(default_factory=threading.RLock)

    def open(self) -> None:
        self.texts[self.version] = self.text
        self.server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": self.uri, "languageId": "plaintext",
                              "version": self.version, "text": self.text}},
        )  # fmt: skip

    def close(self) -> None:
        self.server.notify("textDocument/didClose", {"textDocument": {"uri": self.uri}})

    def type(self, edit: Edit) -> None:
        """A keystroke by the user."""
        with self.lock:
            self._change([edit])
            self.user_edits.append((self.version, edit))

    def _change(self, edits: list[Edit]) -> None:
        """Apply edits (each against the text left by the previous) and send one didChange."""
        changes = []
        for start, end, new in edits:
            changes.append(
                {"range": {"start": position(self.text, start), "end": position(self.text, end)},
                 "text": new}
            )  # fmt: skip
            self.text = apply(self.text, (start, end, new))
        self.version += 1
        self.texts[self.version] = self.text
        self.server.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": self.uri, "version": self.version},
             "contentChanges": changes},
        )  # fmt: skip

    def apply_edit(self, params: Any) -> dict[str, Any]:
        """workspace/applyEdit as VS Code does it: refused when the document moved on."""
        with self.lock:
            if self.on_apply is not None:
                self.on_apply()
            [change] = params["edit"]["documentChanges"]
            if change["textDocument"]["version"] != self.version:
                self.refused.append("version mismatch")
                return {"applied": False, "failureReason": "the document changed (test editor)"}
            edits = sorted(
                (
                    (
                        offset(self.text, e["range"]["start"]["line"],
                               e["range"]["start"]["character"]),
                        offset(self.text, e["range"]["end"]["line"],
                               e["range"]["end"]["character"]),
                        e["newText"],
                    )
                    for e in change["edits"]
                ),
                reverse=True,
            )  # fmt: skip
            self.applied_edits.append(edits)
            self._change(edits)
            return {"applied": True}


def rebase(hunks: list[Edit], user: list[Edit], insert_first: bool) -> list[Edit] | None:
    """The model's hunks (against the snapshot) moved through the user's edits, in order;
    None when an edit overlaps a hunk. Typing at the very point where the model inserts has
    two legitimate readings: the user's text first (`insert_first`) or the model's."""
    moved = list(hunks)
    for start, end, text in user:
        delta = len(text) - (end - start)
        result = []
        for h_start, h_end, h_text in moved:
            same_point = start == end == h_start == h_end
            if (
                end < h_start
                or (end == h_start and not same_point)
                or (same_point and insert_first)
            ):
                result.append((h_start + delta, h_end + delta, h_text))
            elif start > h_end or start == h_end:
                result.append((h_start, h_end, h_text))
            else:
                return None
        moved = result
    return moved


def merged(text: str, hunks: list[Edit]) -> str:
    for hunk in sorted(hunks, reverse=True):
        text = apply(text, hunk)
    return text
