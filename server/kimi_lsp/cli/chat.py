"""`kimi-lsp chat`: one streamed answer in the terminal, via the same chat core as the server."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from ..chat.conversations import Conversation
from ..chat.turn import run_turn
from ..context.prompt import SYSTEM_PROMPTS, render
from ..context.standalone import plan_for_file
from ..errors import KimiError
from ..model.types import ContentDelta, ReasoningDelta, StreamEvent
from ..settings_store import SettingsStore
from ..tokens.counter import ONE_SHOT_THREADS, TokenCounter


class _OpenLines:
    """Whether the streamed reasoning (stderr) or answer (stdout) is mid-line."""

    reasoning_open = False
    answer_open = False

    def close(self, out: TextIO, err: TextIO) -> None:
        if self.answer_open:
            out.write("\n")
            out.flush()
        if self.reasoning_open:
            err.write("\n")
        self.answer_open = self.reasoning_open = False


async def _chat(message: str, file: Path | None, as_json: bool, out: TextIO, err: TextIO) -> int:
    settings = SettingsStore().current.settings
    from ..model.client import ModelClient

    model = ModelClient(settings)
    counter = TokenCounter(counting_threads=ONE_SHOT_THREADS)
    lines = _OpenLines()
    try:
        if file is not None and not file.is_file():
            raise KimiError(f"{file} is not a file.")
        try:
            plan = await asyncio.to_thread(
                plan_for_file, file, None, "chat", message, settings, counter
            )
        except OverflowError as exc:
            raise KimiError(str(exc)) from None
        messages = render(plan, SYSTEM_PROMPTS["chat"], message)
        conversation = Conversation(id="cli")

        def show(event: StreamEvent) -> None:
            if as_json:
                return
            if isinstance(event, ReasoningDelta):
                lines.reasoning_open = True
                err.write(event.text)
                err.flush()
            elif isinstance(event, ContentDelta) and event.text:
                if lines.reasoning_open:
                    err.write("\n")
                    lines.reasoning_open = False
                out.write(event.text)
                out.flush()
                lines.answer_open = not event.text.endswith("\n")

        result, _ = await run_turn(model, messages, conversation, message, show)
    except KimiError as exc:
        lines.close(out, err)  # the error starts its own line, after a broken-off stream too
        err.write(f"kimi-lsp: {exc.message}\n")
        return 1
    finally:
        await model.aclose()
    if as_json:
        answer: dict[str, Any] = {
            "content": result.content,
            "reasoning": result.reasoning,
            "finishReason": result.finish_reason,
            "usage": result.usage.to_wire(),
        }
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
    else:
        usage = result.usage
        out.write("\n" if not result.content.endswith("\n") else "")
        err.write(
            f"[{settings.model}: {usage.prompt_tokens} prompt tokens "
            f"({usage.cached_tokens} cached), {usage.completion_tokens} output tokens, "
            f"{usage.cost:.4f} {usage.currency}]\n"
        )
    return 0


def run_chat_cli(message: str, file: Path | None, as_json: bool) -> int:
    try:
        return asyncio.run(_chat(message, file, as_json, sys.stdout, sys.stderr))
    except KeyboardInterrupt:
        sys.stderr.write("\nkimi-lsp: cancelled.\n")
        return 130
