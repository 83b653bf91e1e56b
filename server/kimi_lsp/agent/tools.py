"""The agent's tools: list, read, search, replace and create over an overlay, confined, redacted."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from pathlib import PurePosixPath
from typing import Any

from ..edits.diff import compute_hunks
from ..secrets.redact import redact
from .confine import Confinement, EngineLike, Refused
from .overlay import Overlay
from .schemas import EDIT_TOOLS, FINISH, READ_TOOLS, SPECS, BadArguments, parse_arguments, schemas

log = logging.getLogger(__name__)

MAX_READ_CHARS = 40_000  # one read_file answer (≈10K tokens); longer files come in parts
MAX_LINE_CHARS = 2_000
MAX_MATCH_CHARS = 300
DEFAULT_LIST = 200
DEFAULT_MATCHES = 100
MAX_LIMIT = 2_000
_PEM_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY")
_PEM_END = re.compile(r"-----END[A-Z0-9 ]{0,40}PRIVATE KEY")
_PEM_MARKER = "[REDACTED:private-key]"


def glob_matcher(glob: str) -> Callable[[str], bool]:
    """A matcher of rel paths: '**' spans directories, '*'/'?' stay within one, {a,b}
    alternatives; a glob without '/' matches file names."""
    pattern = glob.strip().removeprefix("./")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "{" and "}" in pattern[i:]:
            end = pattern.index("}", i)
            options = pattern[i + 1 : end].split(",")
            out.append("(?:" + "|".join(re.escape(a) for a in options) + ")")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    rx = re.compile("".join(out))
    if "/" in pattern:
        return lambda rel: rx.fullmatch(rel) is not None
    return lambda rel: rx.fullmatch(rel[rel.rfind("/") + 1 :]) is not None


class ToolBox:
    """The tools of one agent run. `dispatch` never raises for the model's mistakes: every
    refusal is an "Error: ..." text the model can read. `edit_scope` limits the files that may
    be edited or created (reads stay free); `read_only` offers no edit tools at all."""

    def __init__(
        self,
        engine: EngineLike,
        overlay: Overlay,
        api_key: str | None = None,
        *,
        edit_scope: Collection[str] | None = None,
        read_only: bool = False,
    ) -> None:
        self.engine = engine
        self.overlay = overlay
        self.confine = Confinement(engine, edit_scope)
        self.read_only = read_only
        self._extra = [api_key] if api_key else []
        self._redacted: OrderedDict[tuple[str, int, int], list[str]] = OrderedDict()
        names = READ_TOOLS if read_only else (*READ_TOOLS, *EDIT_TOOLS, FINISH)
        self.names: tuple[str, ...] = names

    def schemas(self) -> list[dict[str, Any]]:
        return schemas(self.names)

    # ------------------------------------------------------------------ dispatch

    def dispatch(self, name: str, arguments_json: str) -> str:
        """Run one tool call; the answer (or an "Error: ..." sentence) for the model."""
        if name not in self.names:
            return f"Error: unknown tool {name!r}; the tools are: {', '.join(self.names)}"
        try:
            args = parse_arguments(name, arguments_json)
            return self._run(name, args)
        except (BadArguments, Refused) as exc:
            return f"Error: {exc}"
        except Exception:
            log.exception("the %s tool failed", name)
            return f"Error: {name} failed unexpectedly; try another way"

    def describe(self, name: str, arguments_json: str) -> tuple[str, str | None]:
        """A progress line for a call and the rel it concerns (None when none or invalid)."""
        try:
            args = parse_arguments(name, arguments_json) if name in SPECS else {}
        except BadArguments:
            args = {}
        raw = args.get("path")
        rel = None
        if isinstance(raw, str):
            try:
                rel = self.confine.resolve(raw)[0]
            except Refused:
                rel = None
        verbs = {
            "list_files": "Listing files",
            "read_file": "Reading",
            "search": "Searching",
            "replace_in_file": "Editing",
            "create_file": "Creating",
            FINISH: "Finishing",
        }
        verb = verbs.get(name, f"Calling {name}")
        return (f"{verb} {rel}" if rel else verb), rel

    def _run(self, name: str, args: dict[str, Any]) -> str:
        if name == "list_files":
            return self.list_files(args.get("glob"), args.get("limit", DEFAULT_LIST))
        if name == "read_file":
            return self.read_file(args["path"], args.get("start_line"), args.get("end_line"))
        if name == "search":
            return self.search(
                args["pattern"],
                args.get("regex", False),
                args.get("glob"),
                args.get("limit", DEFAULT_MATCHES),
            )
        if name == "replace_in_file":
            return self.replace_in_file(
                args["path"], args["old"], args["new"], args.get("replace_all", False)
            )
        if name == "create_file":
            return self.create_file(args["path"], args["content"])
        return "Finished."

    # ------------------------------------------------------------------ tools

    def _rels(self) -> Iterator[str]:
        seen: set[str] = set()
        for entry in self.engine.index.files():
            rel = self.engine.entry_rel(entry)
            seen.add(rel)
            yield rel
        for rel in self.overlay.created():
            if rel not in seen:
                yield rel

    def list_files(self, glob: str | None, limit: int) -> str:
        limit = max(1, min(limit, MAX_LIMIT))
        match = glob_matcher(glob) if glob else None
        rels = [rel for rel in self._rels() if match is None or match(rel)]
        if not rels:
            return f"No files match {glob!r}." if glob else "The workspace has no files."
        shown = "\n".join(rels[:limit])
        if len(rels) > limit:
            shown += f"\n[{len(rels) - limit} more files not shown: narrow the glob]"
        return shown

    def read_file(self, path: str, start_line: int | None, end_line: int | None) -> str:
        rel, text = self.confine.readable(path, self.overlay)
        lines = self._redacted_lines(rel, text)
        total = len(lines)
        start = max(1, start_line or 1)
        end = min(total, end_line if end_line is not None else total)
        if total == 0:
            self.overlay.mark_read(rel)
            return f"{rel} is empty."
        if start > total:
            return f"Error: {rel} has {total} lines; start_line {start} is past its end"
        if end < start:
            return f"Error: end_line {end} is before start_line {start}"
        out: list[str] = []
        size = 0
        last = start - 1
        for number in range(start, end + 1):
            line = lines[number - 1]
            if len(line) > MAX_LINE_CHARS:
                line = line[:MAX_LINE_CHARS] + " [line cut]"
            row = f"{number:>5}| {line}"
            if size + len(row) > MAX_READ_CHARS and out:
                break
            out.append(row)
            size += len(row) + 1
            last = number
        self.overlay.mark_read(rel)
        header = f"{rel} (lines {start}-{last} of {total})"
        note = ""
        if last < end:
            more = last + 1
            note = f"\n[lines {more}-{end} not shown: call read_file with start_line={more}]"
        return header + "\n" + "\n".join(out) + note

    def search(self, pattern: str, regex: bool, glob: str | None, limit: int) -> str:
        if not pattern:
            return "Error: the pattern is empty"
        limit = max(1, min(limit, MAX_LIMIT))
        if regex:
            try:
                rx = re.compile(pattern, re.MULTILINE)
            except re.error as exc:
                return f"Error: invalid regular expression: {exc}"
            found: Callable[[str], bool] = lambda text: rx.search(text) is not None  # noqa: E731
        elif "\n" in pattern:
            return "Error: the pattern spans lines; search matches one line at a time"
        else:
            found = lambda text: pattern in text  # noqa: E731
        match = glob_matcher(glob) if glob else None
        hits: list[str] = []
        more = 0
        for rel in self._rels():
            if match is not None and not match(rel):
                continue
            text = self.overlay.read(rel)
            if text is None or not found(text):
                continue
            if len(hits) >= limit:  # only counted: no need to redact what is not shown
                more += sum(1 for line in text.split("\n") if found(line))
                continue
            for number, line in enumerate(self._redacted_lines(rel, text), 1):
                if found(line):
                    if len(hits) >= limit:
                        more += 1
                        continue
                    shown = line.strip()
                    if len(shown) > MAX_MATCH_CHARS:
                        shown = shown[:MAX_MATCH_CHARS] + " …"
                    hits.append(f"{rel}:{number}: {shown}")
        if not hits:
            return f"No matches for {pattern!r}" + (f" in {glob!r}." if glob else ".")
        if more:
            hits.append(f"[{more} more matches not shown: narrow the pattern or glob]")
        return "\n".join(hits)

    def replace_in_file(self, path: str, old: str, new: str, replace_all: bool) -> str:
        if self.read_only:
            return "Error: this run may not edit files"
        rel, text = self.confine.editable(path, self.overlay)
        if not old:
            return "Error: 'old' is empty; use create_file for a new file"
        if old not in text and "\r\n" in text and "\n" in old and "\r\n" not in old:
            old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
        count = text.count(old)
        if count == 0:
            hint = (
                " (it contains a redaction marker, which is not in the file)"
                if ("[REDACTED:" in old)
                else ""
            )
            return (
                f"Error: 'old' was not found in {rel}{hint}; it must match the file exactly, "
                "indentation included: read the file again"
            )
        if count > 1 and not replace_all:
            at = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(re.escape(old), text)]
            return (
                f"Error: 'old' occurs {count} times in {rel} (lines "
                f"{', '.join(map(str, at[:10]))}); include surrounding lines to make it unique, "
                "or set replace_all"
            )
        updated = text.replace(old, new) if replace_all else text.replace(old, new, 1)
        if updated == text:
            return f"No change: 'old' and 'new' are the same in {rel}."
        self.overlay.write(rel, updated)
        hunks = compute_hunks(text, updated)
        spans = []
        for hunk in hunks[:10]:
            first = text.count("\n", 0, hunk.start) + 1
            last = first + text.count("\n", hunk.start, hunk.end)
            spans.append(f"{first}-{last}" if last > first else str(first))
        where = ", ".join(spans) + (" …" if len(hunks) > 10 else "")
        total = updated.count("\n") + (0 if updated.endswith("\n") else 1)
        return (
            f"Edited {rel}: replaced {count if replace_all else 1} occurrence(s); "
            f"changed line(s) {where}; the file now has {total} lines."
        )

    def create_file(self, path: str, content: str) -> str:
        if self.read_only:
            return "Error: this run may not create files"
        rel = self.confine.creatable(path, self.overlay)
        self.overlay.create(rel, content)
        lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
        name = PurePosixPath(rel).name
        return f"Created {rel} ({lines} lines); {name} is now readable and editable."

    # ------------------------------------------------------------------ redaction

    def _redacted_lines(self, rel: str, text: str) -> list[str]:
        """The file's lines as the model may see them: secrets and the API key redacted, line
        numbers kept (a private-key block becomes one marker per line)."""
        key = (rel, hash(text), len(text))
        cached = self._redacted.get(key)
        if cached is not None:
            self._redacted.move_to_end(key)
            return cached
        lines = _split(text)
        redacted = _split(redact(text, extra=self._extra).text)
        if len(redacted) != len(lines):
            redacted = []
            inside = False
            for line in lines:
                inside = inside or _PEM_BEGIN.search(line) is not None
                redacted.append(_PEM_MARKER if inside else redact(line, extra=self._extra).text)
                if inside and _PEM_END.search(line):
                    inside = False
        self._redacted[key] = redacted
        while len(self._redacted) > 256:
            self._redacted.popitem(last=False)
        return redacted


def _split(text: str) -> list[str]:
    """Lines without their ends ('\\r\\n' too); no phantom line after a final newline."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]
