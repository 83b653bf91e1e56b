"""The chat service behind kimi/chat: context for the question, the model, the history."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...chat.commands import LOCAL, Slash, parse
from ...chat.conversations import Conversation, ConversationStore, cache_root, workspace_key
from ...chat.turn import history_messages, run_turn
from ...context.plan import ContextPlan
from ...context.prompt import SYSTEM_PROMPTS, render
from ...documents import Range
from ...errors import InvalidInputError
from ...model.types import ContentDelta, ReasoningDelta, Usage
from . import params as p
from .context import Focus
from .progress import Progress

if TYPE_CHECKING:
    from ..server import KimiServer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChatParams:
    message: str
    conversation_id: str | None
    uri: str | None
    range: Range | None
    use_context: bool
    work_done_token: Any


def parse_params(raw: Any) -> ChatParams:
    body = p.obj(raw, "params")
    message = p.string(body, "message")
    if not message.strip():
        raise InvalidInputError("The chat message is empty: type a question.")
    return ChatParams(
        message=message,
        conversation_id=p.optional_string(body, "conversationId"),
        uri=p.optional_document_uri(body),
        range=p.optional_range(body),
        use_context=p.choice(body, "context", ("auto", "none"), "auto") == "auto",
        work_done_token=body.get("workDoneToken"),
    )


class ChatService:
    """Runs chat turns for one server: context for the question, the model, the history."""

    def __init__(self, server: KimiServer) -> None:
        self.server = server
        self._store: ConversationStore | None = None
        # Turns of one conversation run one after another: each sees the previous answer.
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def store(self) -> ConversationStore:
        if self._store is None:
            root = self.server.workspace_root()
            directory = cache_root(self.server.env) / "conversations" / workspace_key(root)
            self._store = ConversationStore(directory)
        return self._store

    def budget(self) -> int:
        return self.server.settings.prompt_budget()

    async def messages(
        self, conversation: Conversation, question: str, params: ChatParams
    ) -> tuple[list[dict[str, Any]], ContextPlan | None, int]:
        """The request's messages: context (unless "none"), earlier turns, the question."""
        counter = await self.server.token_counter()
        question = self.server.redact(question)
        history, _, dropped = history_messages(conversation.turns, self.budget(), counter)
        history = [{**m, "content": self.server.redact(m["content"])} for m in history]
        if not params.use_context:
            system = {"role": "system", "content": SYSTEM_PROMPTS["chat"]}
            question_message = {"role": "user", "content": question}
            return [system, *history, question_message], None, dropped
        reserved = counter.count_messages(history) - counter.count_messages([])
        focus = Focus(uri=params.uri, range=params.range)
        plan = await self.server.context.plan("chat", focus, question, reserved)
        return render(plan, SYSTEM_PROMPTS["chat"], question, history), plan, dropped

    async def run(self, raw: Any) -> dict[str, Any]:
        params = parse_params(raw)
        parsed = parse(params.message)
        conversation = self.store.get_or_create(params.conversation_id)
        if parsed.command in LOCAL:
            return await self._local(parsed.command, conversation, params)
        question = parsed.text if parsed.text.strip() else params.message
        async with self._locks.setdefault(conversation.id, asyncio.Lock()):
            return await self._ask(conversation, question, params)

    async def _ask(
        self, conversation: Conversation, question: str, params: ChatParams
    ) -> dict[str, Any]:
        messages, _, _ = await self.messages(conversation, question, params)
        turn = conversation.next_turn
        progress = Progress.start(
            self.server, "Kimi: chat", params.work_done_token, "waiting for the model…"
        )
        received = 0

        def on_event(event: object) -> None:
            nonlocal received
            if isinstance(event, ContentDelta | ReasoningDelta) and event.text:
                kind = "content" if isinstance(event, ContentDelta) else "reasoning"
                self.server.notify(
                    "kimi/chatDelta",
                    {
                        "conversationId": conversation.id,
                        "turn": turn,
                        "kind": kind,
                        "text": event.text,
                    },
                )
                received += len(event.text)
                progress.report("thinking…" if kind == "reasoning" else f"{received} characters")

        try:
            result, turn = await run_turn(
                self.server.model, messages, conversation, params.message, on_event
            )
        finally:
            progress.end()
        self.server.calibrate(messages, result)
        await asyncio.to_thread(self.store.save, conversation)
        answer: dict[str, Any] = {
            "conversationId": conversation.id,
            "turn": turn,
            "content": result.content,
            "finishReason": result.finish_reason,
            "usage": result.usage.to_wire(),
        }
        if result.reasoning:
            answer["reasoning"] = result.reasoning
        return answer

    async def _local(
        self, command: Slash, conversation: Conversation, params: ChatParams
    ) -> dict[str, Any]:
        """Commands answered without the model (no tokens spent)."""
        if command is Slash.CLEAR:
            await asyncio.to_thread(self.store.clear, conversation.id)
            text = "Conversation cleared."
        elif command is Slash.COST:
            text = _cost_text(self.server.usage_summary())
        else:
            text = await self._context_text(conversation, params)
        turn = conversation.next_turn
        self.server.notify(
            "kimi/chatDelta",
            {"conversationId": conversation.id, "turn": turn, "kind": "content", "text": text},
        )
        zero = Usage(currency=self.server.settings.pricing.currency).to_wire()
        return {
            "conversationId": conversation.id,
            "turn": turn,
            "content": text,
            "finishReason": "local",
            "usage": zero,
        }

    async def _context_text(self, conversation: Conversation, params: ChatParams) -> str:
        messages, plan, dropped = await self.messages(conversation, "(your next question)", params)
        counter = await self.server.token_counter()
        total = counter.count_messages(messages)
        lines = [
            f"The next chat request would send about {total} tokens of {self.budget()} "
            f"(tokenizer: {counter.info.name}).",
            f"- {len(messages) - 2} earlier message(s) of this conversation"
            + (f" ({dropped} older turn(s) dropped to fit)" if dropped else ""),
        ]
        for section in (plan.stable() + plan.volatile()) if plan else []:
            where = f" {section.uri}" if section.uri else ""
            cut = ", truncated" if section.truncated else ""
            lines.append(
                f"- {section.kind}{where}: {section.tokens} tokens ({section.reason}{cut})"
            )
        for uri, reason in plan.excluded if plan else []:
            lines.append(f"- left out {uri}: {reason}")
        return "\n".join(lines)


def _cost_text(usage: dict[str, Any]) -> str:
    return (
        f"This session: {usage['requests']} request(s), {usage['promptTokens']} prompt tokens "
        f"({usage['cachedTokens']} from the cache), {usage['completionTokens']} output tokens, "
        f"{usage['cost']:.4f} {usage['currency']}."
    )
