"""The one inline-edit pipeline, with a fake model call: prompt, previews, extraction, secrets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from kimi_lsp.config import Settings
from kimi_lsp.edits.diff import Hunk
from kimi_lsp.edits.pipeline import PREVIEW_INTERVAL, EditJob, Preview, run_edit
from kimi_lsp.errors import RequestFailedError
from kimi_lsp.model.types import Usage

SOURCE = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
LINE_2 = (15, 32)  # "    return a - b\n"
KEY = "sk-test-configured-0123456789"
USAGE = Usage(prompt_tokens=120, cached_tokens=100, completion_tokens=7, cost=0.25)


def job(instruction: str = "fix the bug", span: tuple[int, int] = LINE_2) -> EditJob:
    return EditJob(SOURCE, span, (2, 2), instruction, "python")


@dataclass
class Result:
    reply: str
    continued: bool = True
    usage: Usage = USAGE


@dataclass
class FakeModel:
    """Plans by echoing the prompt, answers with `pieces` (one clock tick before each)."""

    pieces: Sequence[str]
    continued: bool = True
    ticks: Sequence[float] = ()
    now: float = 0.0
    prompts: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)

    async def plan_messages(self, prompt: str) -> list[dict[str, Any]]:
        self.prompts.append(prompt)
        return [{"role": "user", "content": prompt}]

    async def complete(
        self, messages: list[dict[str, Any]], prefix: str, on_text: Callable[[str], None]
    ) -> Result:
        assert messages == [{"role": "user", "content": self.prompts[-1]}]
        self.prefixes.append(prefix)
        for i, piece in enumerate(self.pieces):
            if i < len(self.ticks):
                self.now = self.ticks[i]
            on_text(piece)
        return Result("".join(self.pieces), self.continued)

    def clock(self) -> float:
        return self.now


async def edit(
    model: FakeModel,
    the_job: EditJob | None = None,
    settings: Settings | None = None,
    previews: list[Preview] | None = None,
) -> Any:
    return await run_edit(
        the_job or job(),
        settings or Settings(api_key=KEY),
        plan_messages=model.plan_messages,
        complete=model.complete,
        on_preview=previews.append if previews is not None else None,
        clock=model.clock,
    )


async def test_a_continued_reply_becomes_minimal_hunks_with_its_usage() -> None:
    model = FakeModel(["return a ", "+ b\n", "```"])
    proposal = await edit(model)
    # The prefix opens the fence and carries the range's indentation; the model continues it.
    assert model.prefixes == ["```python\n    "]
    assert "lines 2-2" in model.prompts[0] and "fix the bug" in model.prompts[0]
    assert proposal.hunks == [Hunk(28, 29, "+")]
    assert proposal.new_text == SOURCE.replace("a - b", "a + b")
    assert proposal.usage is USAGE


async def test_a_reply_that_was_not_continued_is_read_without_the_prefix() -> None:
    model = FakeModel(["```python\n    return a + b\n```"], continued=False)
    proposal = await edit(model)
    assert proposal.new_text == SOURCE.replace("a - b", "a + b")


async def test_the_replacement_is_conformed_to_the_range() -> None:
    # A CRLF file stays CRLF although the model answers with bare line breaks.
    source = "def f():\r\n    return 1\r\n"
    the_job = EditJob(source, (10, len(source)), (2, 2), "return 2", "python")
    proposal = await edit(FakeModel(["return 2\n```"]), the_job)
    assert proposal.new_text == "def f():\r\n    return 2\r\n"


async def test_a_proposal_that_changes_nothing_has_no_hunks() -> None:
    proposal = await edit(FakeModel(["return a - b\n```"]))
    assert proposal.hunks == [] and proposal.new_text == SOURCE


async def test_previews_are_throttled_and_the_last_one_is_the_conformed_text() -> None:
    interval = PREVIEW_INTERVAL
    ticks = [10.0, 10.0 + interval / 3, 10.0 + interval / 2, 10.0 + interval * 1.5]
    model = FakeModel(["ret", "urn a", " + b", "\n```"], ticks=ticks)
    previews: list[Preview] = []
    await edit(model, previews=previews)
    # The first piece at once, the next two within the interval are skipped, the fourth sent.
    assert [(p.text, p.written, p.final) for p in previews] == [
        ("    ret", 3, False),
        ("    return a + b\n", 16, False),
        ("    return a + b\n", 16, True),
    ]


async def test_without_a_preview_hook_nothing_is_extracted_early() -> None:
    proposal = await edit(FakeModel(["return a ", "+ b\n```"]), previews=None)
    assert proposal.new_text == SOURCE.replace("a - b", "a + b")


async def test_secrets_stay_markers_in_previews_and_come_back_in_the_hunks() -> None:
    source = f'client = make("{KEY}")\n'
    the_job = EditJob(source, (0, len(source)), (1, 1), f"rename the client, keep {KEY}", "python")
    model = FakeModel(['api = make("[REDACTED:configured-secret]")\n```'])
    previews: list[Preview] = []
    proposal = await edit(model, the_job, previews=previews)
    assert KEY not in model.prompts[0] and "[REDACTED:configured-secret]" in model.prompts[0]
    assert previews[-1].final and KEY not in previews[-1].text
    assert "[REDACTED:configured-secret]" in previews[-1].text
    assert proposal.new_text == f'api = make("{KEY}")\n'


async def test_a_reply_with_a_marker_the_range_did_not_hide_is_refused() -> None:
    # The marker hides nothing of the range: writing it (or guessing a value) is wrong.
    model = FakeModel(['return make("[REDACTED:configured-secret]")\n```'])
    with pytest.raises(RequestFailedError) as caught:
        await edit(model)
    assert "Not applied" in caught.value.message
