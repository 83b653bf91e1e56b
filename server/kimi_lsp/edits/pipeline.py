"""The one inline-edit pipeline: prompt → stream → extract → conform → restore secrets → diff."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..secrets.redact import Redactor
from .diff import Hunk, apply_hunks, diff_range
from .extract import conform_to_range, extract_code
from .instruction import edit_prompt, opening
from .unredact import restore_secrets

if TYPE_CHECKING:
    from ..config import Settings
    from ..model.types import Usage

__all__ = [
    "PREVIEW_INTERVAL",
    "Complete",
    "Completion",
    "EditJob",
    "PlanMessages",
    "Preview",
    "Proposal",
    "run_edit",
]

PREVIEW_INTERVAL = 1 / 30  # live previews at most ~30 times a second

Messages = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class EditJob:
    """One inline edit: the text it edits (the snapshot), the selection and the instruction."""

    snapshot: str
    # The edited range, as offsets into `snapshot`.
    span: tuple[int, int]
    # The range's first and last line, 1-based, as the prompt names them.
    lines: tuple[int, int]
    # As the user typed it: redacted before it enters the prompt.
    instruction: str
    language: str

    @property
    def original(self) -> str:
        return self.snapshot[self.span[0] : self.span[1]]

    @property
    def prefix(self) -> str:
        """The assistant prefix the reply continues: a fence and the range's indentation."""
        start = self.span[0]
        starts_line = start == 0 or self.snapshot[start - 1] in "\r\n"
        return opening(self.language, self.original, starts_line)

    @property
    def where(self) -> str:
        return f"lines {self.lines[0]}-{self.lines[1]}"


class Completion(Protocol):
    """What the pipeline reads of a finished model call (`model.types.ModelResult` fits)."""

    @property
    def reply(self) -> str: ...

    @property
    def continued(self) -> bool: ...

    @property
    def usage(self) -> Usage: ...


class PlanMessages(Protocol):
    """The chat messages of an edit whose user turn is `prompt` (context planned around it)."""

    def __call__(self, prompt: str) -> Awaitable[Messages]: ...


class Complete(Protocol):
    """One model call continuing the assistant `prefix`; `on_text` gets each piece of reply."""

    def __call__(
        self, messages: Messages, prefix: str, on_text: Callable[[str], None]
    ) -> Awaitable[Completion]: ...


@dataclass(frozen=True, slots=True)
class Preview:
    """The replacement as it stands: secrets still as the markers the model saw."""

    text: str
    # Characters of reply received so far.
    written: int
    # The last preview: the extracted, conformed replacement.
    final: bool = False


@dataclass(frozen=True, slots=True)
class Proposal:
    """The pipeline's result: minimal hunks against the job's snapshot, and what it cost."""

    job: EditJob
    hunks: list[Hunk]
    usage: Usage

    @property
    def new_text(self) -> str:
        return apply_hunks(self.job.snapshot, self.hunks)


class _Stream:
    """Collects the reply and sends a throttled preview of it (the first piece at once)."""

    def __init__(
        self,
        job: EditJob,
        on_preview: Callable[[Preview], None] | None,
        clock: Callable[[], float],
    ) -> None:
        self.job = job
        self.on_preview = on_preview
        self.clock = clock
        self.parts: list[str] = []
        self.written = 0
        self.last_sent: float | None = None

    def add(self, text: str) -> None:
        if not text:
            return
        self.parts.append(text)
        self.written += len(text)
        if self.on_preview is None:
            return
        now = self.clock()
        if self.last_sent is not None and now - self.last_sent < PREVIEW_INTERVAL:
            return
        self.last_sent = now
        job = self.job
        # The reply so far continues the prefix (a continuation never repeats it).
        code = extract_code("".join(self.parts), prefix=job.prefix, language=job.language)
        self.on_preview(Preview(code, self.written))


async def run_edit(
    job: EditJob,
    settings: Settings,
    *,
    plan_messages: PlanMessages,
    complete: Complete,
    on_preview: Callable[[Preview], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Proposal:
    """Ask the model to rewrite the job's range and turn its reply into minimal hunks.

    Secrets: the instruction is redacted before it enters the prompt; previews keep the
    `[REDACTED:kind]` markers the model saw, the hunks get the real values back (or the
    proposal is refused when that is ambiguous, see `restore_secrets`).
    """
    redact = Redactor(settings.api_key, settings.redact_secrets, settings.api_keys())
    prompt = edit_prompt(redact(job.instruction)[0], job.where)
    messages = await plan_messages(prompt)
    prefix = job.prefix
    stream = _Stream(job, on_preview, clock)
    result = await complete(messages, prefix, stream.add)
    code = extract_code(
        result.reply, prefix=prefix if result.continued else "", language=job.language
    )
    original = job.original
    code = conform_to_range(code, original)
    if on_preview is not None:
        on_preview(Preview(code, stream.written, final=True))
    code = restore_secrets(code, original, settings.api_key, settings.redact_secrets)
    hunks = diff_range(job.snapshot, job.span[0], job.span[1], code)
    return Proposal(job, hunks, result.usage)
