"""`kimi-lsp edit FILE:START-END INSTRUCTION [--apply]`: an inline edit from the terminal."""

from __future__ import annotations

import asyncio
import difflib
import os
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..context.focus import Focus
from ..context.languages import language_of
from ..context.prompt import SYSTEM_PROMPTS, render
from ..context.standalone import plan_for_focus
from ..documents import Position, Range
from ..edits.pipeline import EditJob, Proposal, run_edit
from ..edits.validate import edit_breaks
from ..errors import ErrorKind, InvalidInputError, KimiError, RequestFailedError
from ..model.types import ModelRequest
from ..positions import split_lines
from ..secrets.files import secret_file_reason
from ..settings_store import SettingsStore
from ..tokens.counter import ONE_SHOT_THREADS, TokenCounter

if TYPE_CHECKING:
    from ..model.types import ModelResult

_TARGET = re.compile(r"^(?P<path>.+):(?P<start>\d+)(?:-(?P<end>\d+))?$")


@dataclass(frozen=True, slots=True)
class Target:
    """A file and a 1-based, inclusive line range in it."""

    path: Path
    first: int
    last: int


def parse_target(target: str) -> Target:
    """`src/app.py:3-9` (or `src/app.py:3`) -> Target; a readable error otherwise."""
    match = _TARGET.match(target)
    if match is None:
        raise InvalidInputError(
            f"{target!r} is not FILE:START-END: give the lines to edit, e.g. app.py:3-9."
        )
    first = int(match["start"])
    last = int(match["end"] or first)
    if first < 1 or last < first:
        raise InvalidInputError(f"{first}-{last} is not a line range: lines start at 1.")
    return Target(Path(match["path"]), first, last)


def line_offsets(text: str, first: int, last: int) -> tuple[int, int]:
    """Offsets of lines first..last (1-based, inclusive), line breaks included."""
    lines = split_lines(text)
    if not lines[-1]:
        lines.pop()  # the empty tail after a final line break is no line of the file
    if last > len(lines):
        raise InvalidInputError(
            f"The file has {len(lines)} lines; {first}-{last} runs past its end."
        )
    start = sum(len(line) for line in lines[: first - 1])
    end = start + sum(len(line) for line in lines[first - 1 : last])
    return start, end


def unified(path: Path, old: str, new: str) -> str:
    """A unified diff of the whole file, paths as given."""
    name = str(path)
    diff = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff
    )


def write_if_unchanged(path: Path, snapshot: bytes, new: str) -> None:
    """Replace the file's contents atomically, unless its bytes changed since they were read.

    A symlink stays a link: its target gets the new text. The bytes are compared as read, so
    CRLF endings are not mistaken for a change, and the text is written as it is (the edit
    pipeline keeps the range's line endings; lines outside it are untouched). The new text
    goes to a unique temporary file next to the target, with the target's mode, then
    replaces it in one rename."""
    target = Path(os.path.realpath(path))
    try:
        current = target.read_bytes()
        mode = target.stat().st_mode & 0o7777
    except OSError as exc:
        raise RequestFailedError(
            ErrorKind.STALE_DOCUMENT, f"{path} cannot be read again ({exc}); nothing was written."
        ) from None
    if current != snapshot:
        raise RequestFailedError(
            ErrorKind.STALE_DOCUMENT,
            f"{path} changed while kimi was writing the edit; nothing was written. Run it again.",
        )
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".kimi")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(new.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_source(path: Path) -> tuple[bytes, str]:
    """The file's bytes and their text (line endings as they are)."""
    if not path.is_file():
        raise InvalidInputError(f"{path} is not a file.")
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        raise InvalidInputError(f"{path} looks binary: kimi edits text files only.")
    try:
        return data, data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not UTF-8 text: kimi edits UTF-8 files only.") from None


async def _edit(target: Target, instruction: str, apply: bool, out: TextIO, err: TextIO) -> int:
    from ..model.router import ModelRouter

    if not instruction.strip():
        raise InvalidInputError("The edit instruction is empty: say what to change.")
    settings = SettingsStore().current.settings
    raw, snapshot = read_source(target.path)
    secret = secret_file_reason(target.path.resolve().as_posix(), snapshot[:512].encode())
    if secret is not None:
        raise InvalidInputError(f"{target.path} is not sent to the model: {secret}.")
    job = EditJob(
        snapshot=snapshot,
        span=line_offsets(snapshot, target.first, target.last),
        lines=(target.first, target.last),
        instruction=instruction,
        language=language_of(target.path.name),
    )
    model = ModelRouter(settings)  # before the index is built: a missing key fails at once
    focus = Focus(
        uri=target.path.resolve().as_uri(),
        range=Range(Position(target.first - 1, 0), Position(target.last, 0)),
    )

    async def plan_messages(prompt: str) -> list[dict[str, Any]]:
        counter = TokenCounter(counting_threads=ONE_SHOT_THREADS)
        plan = await asyncio.to_thread(plan_for_focus, focus, "edit", prompt, settings, counter)
        return render(plan, SYSTEM_PROMPTS["edit"], prompt)

    async def complete(
        messages: list[dict[str, Any]], prefix: str, on_text: Callable[[str], None]
    ) -> ModelResult:
        # No live preview in a terminal: the reply is only read once complete.
        return await model.complete(ModelRequest(messages=messages, purpose="edit", prefix=prefix))

    try:
        proposal = await run_edit(job, settings, plan_messages=plan_messages, complete=complete)
    finally:
        await model.aclose()
    return _report(target, raw, proposal, apply, out, err)


def _report(
    target: Target, raw: bytes, proposal: Proposal, apply: bool, out: TextIO, err: TextIO
) -> int:
    """Print the diff or write the file (if its bytes are still `raw`), and the cost."""
    snapshot = proposal.job.snapshot
    language = proposal.job.language
    new = proposal.new_text
    usage = proposal.usage
    cost = (
        f"[{usage.prompt_tokens} prompt tokens ({usage.cached_tokens} cached), "
        f"{usage.completion_tokens} output tokens, {usage.cost:.4f} {usage.currency}]\n"
    )
    if new == snapshot:
        err.write("kimi-lsp: the proposal does not change anything.\n" + cost)
        return 0
    broken = edit_breaks(language, snapshot, new)
    if broken is not None:
        raise RequestFailedError(ErrorKind.BAD_RESPONSE, f"Not applied: {broken}.")
    if apply:
        write_if_unchanged(target.path, raw, new)
        err.write(f"kimi-lsp: applied {len(proposal.hunks)} change(s) to {target.path}.\n" + cost)
    else:
        out.write(unified(target.path, snapshot, new))
        err.write(cost)
    return 0


def run_edit_cli(target: str, instruction: str, apply: bool) -> int:
    try:
        return asyncio.run(_edit(parse_target(target), instruction, apply, sys.stdout, sys.stderr))
    except KimiError as exc:
        sys.stderr.write(f"kimi-lsp: {exc.message}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("\nkimi-lsp: cancelled; nothing was written.\n")
        return 130
