"""`kimi-lsp chat`: one streamed answer in the terminal, via the same chat core as the server."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from .chat.conversations import Conversation
from .chat.prompt import Attachment
from .chat.turn import chat_budget, chat_prompt, run_turn
from .context.tokens import TokenCounter
from .errors import KimiError
from .model.types import ContentDelta, ReasoningDelta, StreamEvent
from .settings_store import SettingsStore

_LANGUAGES = {".py": "python", ".js": "javascript", ".ts": "typescript", ".go": "go",
              ".rs": "rust", ".lua": "lua", ".md": "markdown"}  # fmt: skip


def _file_attachment(path: Path, redact: str | None, limit: int) -> Attachment:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KimiError(f"Cannot read {path}: {exc.strerror}.") from None
    if len(data) > limit:
        raise KimiError(
            f"{path} is larger than maxFileSizeBytes ({limit} bytes); pick a smaller file."
        )
    if b"\0" in data[:8192]:
        raise KimiError(f"{path} looks like a binary file; chat needs text.")
    text = data.decode("utf-8", errors="replace")
    if redact:
        text = text.replace(redact, "[REDACTED]")
    return Attachment(f"File {path}", text, _LANGUAGES.get(path.suffix, ""), required=True)


async def _chat(message: str, file: Path | None, as_json: bool, out: TextIO, err: TextIO) -> int:
    settings = SettingsStore().current.settings
    from .model.client import ModelClient

    model = ModelClient(settings)
    counter = TokenCounter()
    try:
        await asyncio.to_thread(counter.load)
        attachments = (
            [_file_attachment(file, settings.api_key, settings.max_file_size_bytes)] if file else []
        )
        conversation = Conversation(id="cli")
        budget = chat_budget(settings.context_window, settings.max_output_tokens)
        prompt = chat_prompt(conversation, message, attachments, budget, counter)
        reasoning_open = False

        def show(event: StreamEvent) -> None:
            nonlocal reasoning_open
            if as_json:
                return
            if isinstance(event, ReasoningDelta):
                reasoning_open = True
                err.write(event.text)
                err.flush()
            elif isinstance(event, ContentDelta):
                if reasoning_open:
                    err.write("\n")
                    reasoning_open = False
                out.write(event.text)
                out.flush()

        result, _ = await run_turn(model, prompt, conversation, message, show)
    except KimiError as exc:
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
