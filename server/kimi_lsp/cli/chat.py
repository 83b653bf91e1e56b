"""`kimi-lsp chat`: one streamed answer in the terminal, from the chat service of the server."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..chat.conversations import Conversation, ConversationStore
from ..chat.request import ChatAnswer, ChatRequest, DeltaKind
from ..chat.service import ChatPorts, ChatService
from ..config import Settings
from ..context.focus import Focus
from ..context.plan import ContextPlan
from ..context.standalone import file_focus, plan_for_focus
from ..errors import KimiError
from ..secrets.redact import Redactor
from ..settings_store import SettingsStore
from ..tokens.counter import ONE_SHOT_THREADS, TokenCounter

if TYPE_CHECKING:
    from ..model.router import ModelRouter


class _Terminal:
    """Streams the answer to stdout and the reasoning to stderr, each line closed in time."""

    def __init__(self, out: TextIO, err: TextIO, quiet: bool) -> None:
        self.out = out
        self.err = err
        self.quiet = quiet  # --json: nothing is streamed, the answer comes whole at the end
        self.reasoning_open = False
        self.answer_open = False

    def delta(self, conversation_id: str, turn: int, kind: DeltaKind, text: str) -> None:
        if self.quiet:
            return
        if kind == "reasoning":
            self.reasoning_open = True
            self.err.write(text)
            self.err.flush()
            return
        if self.reasoning_open:
            self.err.write("\n")
            self.reasoning_open = False
        self.out.write(text)
        self.out.flush()
        self.answer_open = not text.endswith("\n")

    def close(self) -> None:
        """End a broken-off stream's lines, so that an error starts its own."""
        if self.answer_open:
            self.out.write("\n")
            self.out.flush()
        if self.reasoning_open:
            self.err.write("\n")
        self.answer_open = self.reasoning_open = False


def _service(settings: Settings, model: ModelRouter, terminal: _Terminal) -> ChatService:
    """The chat service over the terminal: the workspace around the file read from disk,
    no history kept (each run is a conversation of one turn)."""
    counter = TokenCounter(counting_threads=ONE_SHOT_THREADS)
    redactor = Redactor(settings.api_key, settings.redact_secrets, settings.api_keys())

    async def loaded_counter() -> TokenCounter:
        await asyncio.to_thread(counter.load)
        return counter

    async def plan(focus: Focus, question: str, reserved: int, budget: int) -> ContextPlan:
        try:
            return await asyncio.to_thread(
                plan_for_focus,
                focus,
                "chat",
                question,
                settings,
                counter,
                budget=budget,
                reserved_tokens=reserved,
            )
        except OverflowError as exc:
            raise KimiError(str(exc)) from None

    ports = ChatPorts(
        model=lambda: model,
        token_counter=loaded_counter,
        plan_context=plan,
        redact=lambda text: redactor(text)[0],  # the key and secret-looking strings stay home
        settings=lambda: settings,
        usage_summary=model.totals.to_wire,
        on_delta=terminal.delta,
    )
    return ChatService(ports, ConversationStore(None))


async def _chat(message: str, file: Path | None, as_json: bool, out: TextIO, err: TextIO) -> int:
    settings = SettingsStore().current.settings
    from ..model.router import ModelRouter

    model = ModelRouter(settings, counter=lambda: TokenCounter(counting_threads=ONE_SHOT_THREADS))
    terminal = _Terminal(out, err, quiet=as_json)
    try:
        if file is not None and not file.is_file():
            raise KimiError(f"{file} is not a file.")
        request = ChatRequest(message, uri=file_focus(file).uri)
        service = _service(settings, model, terminal)
        answer = await service.ask(Conversation(id="cli"), message, request)
    except KimiError as exc:
        terminal.close()  # the error starts its own line, after a broken-off stream too
        err.write(f"kimi-lsp: {exc.message}\n")
        return 1
    finally:
        await model.aclose()
    _print_answer(answer, answer.usage.model or settings.model, as_json, out, err)
    return 0


def _print_answer(answer: ChatAnswer, model: str, as_json: bool, out: TextIO, err: TextIO) -> None:
    if as_json:
        whole: dict[str, Any] = {
            "content": answer.content,
            "reasoning": answer.reasoning,
            "finishReason": answer.finish_reason,
            "usage": answer.usage.to_wire(),
        }
        out.write(json.dumps(whole, ensure_ascii=False) + "\n")
        return
    usage = answer.usage
    out.write("\n" if not answer.content.endswith("\n") else "")
    out.flush()  # the answer's last line ends before the summary starts on stderr
    via = " via fallback" if usage.fallback else ""
    counted = ", counted locally: the endpoint reported none" if usage.estimated else ""
    err.write(
        f"[{model}{via}: {usage.prompt_tokens} prompt tokens "
        f"({usage.cached_tokens} cached), {usage.completion_tokens} output tokens, "
        f"{usage.cost:.4f} {usage.currency}{counted}]\n"
    )


def run_chat_cli(message: str, file: Path | None, as_json: bool) -> int:
    try:
        return asyncio.run(_chat(message, file, as_json, sys.stdout, sys.stderr))
    except KeyboardInterrupt:
        sys.stderr.write("\nkimi-lsp: cancelled.\n")
        return 130
