"""Reads a refactor plan while it streams: the plan text, then each file entry once complete."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_DECODER = json.JSONDecoder()
_HEAD = re.compile(r'\s*(?:```[\w-]*\s*)?\{\s*"plan"\s*:\s*')
_FILES = re.compile(r'\s*,\s*"files"\s*:\s*\[')
_SEPARATOR = re.compile(r"\s*,?\s*")


@dataclass(frozen=True, slots=True)
class StreamedFile:
    """One entry of the plan's `files` list, as the model wrote it."""

    path: str
    change: str


@dataclass(slots=True)
class PlanStream:
    """Feed it the answer's text as it arrives; it yields the plan's file entries as soon as
    each is complete. Only the canonical shape is read early — `{"plan": "...", "files":
    [{"path": ..., "change": ...}, ...]}`, plan first; anything else waits for the whole answer
    (`parse_plan`), so an early entry is always one the final parse will also find."""

    text: str = ""
    plan: str | None = None
    files: list[StreamedFile] = field(default_factory=list)
    _at: int = 0  # where the next file entry starts, once the plan text is read
    _stopped: bool = False  # the answer left the canonical shape: nothing more is read early

    def feed(self, chunk: str) -> list[StreamedFile]:
        """Add text; return the entries completed by it."""
        self.text += chunk
        if self._stopped:
            return []
        if self.plan is None and not self._read_plan():
            return []
        found: list[StreamedFile] = []
        while not self._stopped:
            entry = self._next_entry()
            if entry is None:
                break
            found.append(entry)
        self.files.extend(found)
        return found

    def _read_plan(self) -> bool:
        head = _HEAD.match(self.text)
        if head is None:
            if not _could_become(self.text):
                self._stopped = True
            return False
        try:
            plan, end = _DECODER.raw_decode(self.text, head.end())
        except json.JSONDecodeError:
            return False  # the string is not complete yet
        files = _FILES.match(self.text, end)
        if files is None:
            if len(self.text) - end > 40:  # not `, "files": [` after the plan: another shape
                self._stopped = True
            return False
        if not isinstance(plan, str):
            self._stopped = True
            return False
        self.plan, self._at = plan, files.end()
        return True

    def _next_entry(self) -> StreamedFile | None:
        start = _SEPARATOR.match(self.text, self._at)
        position = start.end() if start else self._at
        if position >= len(self.text):
            return None
        if self.text[position] == "]":
            self._stopped = True  # the list is complete
            return None
        try:
            value, end = _DECODER.raw_decode(self.text, position)
        except json.JSONDecodeError:
            if self.text[position] not in '{"':
                self._stopped = True
            return None
        entry = _entry(value)
        if entry is None:
            self._stopped = True
            return None
        self._at = end
        return entry


def _entry(value: object) -> StreamedFile | None:
    if isinstance(value, str):
        return StreamedFile(value, "")
    if isinstance(value, dict) and isinstance(value.get("path"), str):
        change = value.get("change") or value.get("changes") or value.get("description") or ""
        return StreamedFile(value["path"], str(change))
    return None


def _could_become(text: str) -> bool:
    """Whether more text could still make `text` start like `{"plan": `."""
    stripped = text.lstrip()
    if len(stripped) < 3 and "```".startswith(stripped) and stripped:
        return True
    if stripped.startswith("```"):
        newline = stripped.find("\n")
        if newline < 0:
            return True
        stripped = stripped[newline + 1 :].lstrip()
    if not stripped:
        return True
    if not stripped.startswith("{"):
        return False
    rest = stripped[1:].lstrip()
    return '"plan"'.startswith(rest[:6]) if len(rest) < 6 else rest.startswith('"plan"')
